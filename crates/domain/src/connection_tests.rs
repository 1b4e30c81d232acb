use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use serde_json::json;
use uuid::Uuid;

use super::health::{probe_delay, Change, DEGRADED_AFTER};
use super::*;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap()
}

fn create(body: serde_json::Value) -> Result<Connection, ValidationError> {
    let input: NewConnection = serde_json::from_value(body).map_err(|e| ValidationError::general(e.to_string()))?;
    Connection::create(input, Uuid::nil(), now(), || "whsec_generated".into())
}

fn refused(body: serde_json::Value, target: &str) -> String {
    let e = create(body).expect_err("refused");
    assert_eq!(e.target.as_deref(), Some(target), "{e}");
    e.message
}

fn scim() -> serde_json::Value {
    json!({"displayName": "Wiki", "kind": "scim", "scim": {"baseUrl": "https://wiki.example/scim/v2/", "bearerToken": "t0k"}})
}

#[test]
fn scim_with_a_bearer_token() {
    let c = create(scim()).unwrap();
    let ConnectionSettings::Scim(s) = &c.settings else { panic!() };
    assert_eq!(s.base_url, "https://wiki.example/scim/v2");
    assert_eq!(c.secrets.bearer_token.as_ref().map(Secret::expose), Some("t0k"));
    assert_eq!(c.secrets.names(), ["bearerToken"]);
    assert_eq!(c.reconcile_mode, ReconcileMode::Report);
    assert_eq!(c.health.status, ConnectionStatus::Untested);
}

#[test]
fn secrets_never_show_in_debug() {
    let c = create(scim()).unwrap();
    assert!(!format!("{c:?}").contains("t0k"));
}

#[test]
fn scim_needs_exactly_one_way_to_authenticate() {
    let msg = refused(
        json!({"displayName": "W", "kind": "scim", "scim": {"baseUrl": "https://w.example"}}),
        "scim.bearerToken",
    );
    assert!(msg.contains("bearerToken or client credentials"), "{msg}");
    let msg = refused(
        json!({"displayName": "W", "kind": "scim", "scim": {"baseUrl": "https://w.example", "tokenUrl": "https://idp.example/token", "clientId": "gh"}}),
        "scim.tokenUrl",
    );
    assert!(msg.contains("clientSecret"), "{msg}");
    refused(
        json!({"displayName": "W", "kind": "scim", "scim": {"baseUrl": "https://w.example", "bearerToken": "a",
            "tokenUrl": "https://idp.example/token", "clientId": "gh", "clientSecret": "s"}}),
        "scim.bearerToken",
    );
    let c = create(json!({"displayName": "W", "kind": "scim", "scim": {"baseUrl": "https://w.example",
        "tokenUrl": "https://idp.example/token", "clientId": "gh", "clientSecret": "s", "scope": "scim"}}))
    .unwrap();
    assert_eq!(c.secrets.names(), ["clientSecret"]);
}

#[test]
fn urls_must_be_https_except_on_loopback() {
    let msg = refused(
        json!({"displayName": "W", "kind": "scim", "scim": {"baseUrl": "http://wiki.example", "bearerToken": "t"}}),
        "scim.baseUrl",
    );
    assert!(msg.contains("https"), "{msg}");
    create(json!({"displayName": "W", "kind": "scim", "scim": {"baseUrl": "http://127.0.0.1:9000/v2", "bearerToken": "t"}})).unwrap();
    create(
        json!({"displayName": "W", "kind": "scim", "scim": {"baseUrl": "http://[::1]:9000/v2", "bearerToken": "t"}}),
    )
    .unwrap();
    refused(
        json!({"displayName": "W", "kind": "scim", "scim": {"baseUrl": "ftp://w.example", "bearerToken": "t"}}),
        "scim.baseUrl",
    );
    refused(
        json!({"displayName": "W", "kind": "scim", "scim": {"baseUrl": "https://u:p@w.example", "bearerToken": "t"}}),
        "scim.baseUrl",
    );
    refused(
        json!({"displayName": "W", "kind": "scim", "scim": {"baseUrl": "not a url", "bearerToken": "t"}}),
        "scim.baseUrl",
    );
}

#[test]
fn the_settings_object_must_match_the_kind() {
    let msg = refused(
        json!({"displayName": "W", "kind": "ldap", "scim": {"baseUrl": "https://w.example", "bearerToken": "t"}}),
        "scim",
    );
    assert!(msg.contains("under 'ldap'"), "{msg}");
    refused(json!({"displayName": "W", "kind": "webhook"}), "webhook");
    let e = create(json!({"displayName": "W", "kind": "ftp"})).expect_err("unknown kind");
    assert!(e.message.contains("unknown connectionKind value 'ftp'"), "{e}");
}

fn ldap(url: &str, start_tls: bool) -> serde_json::Value {
    json!({"displayName": "Directory", "kind": "ldap", "ldap": {"url": url, "startTls": start_tls,
        "bindDn": "cn=admin,dc=example,dc=org", "bindPassword": "secret",
        "peopleBaseDn": "ou=people,dc=example,dc=org", "groupsBaseDn": "ou=groups,dc=example,dc=org"}})
}

#[test]
fn ldap_never_sends_the_password_in_clear_off_loopback() {
    let c = create(ldap("ldap://127.0.0.1:3890", false)).unwrap();
    let ConnectionSettings::Ldap(s) = &c.settings else { panic!() };
    assert_eq!(s.person_naming_attribute, "uid");
    create(ldap("ldaps://dc1.corp.example:636", false)).unwrap();
    create(ldap("ldap://dc1.corp.example", true)).unwrap();
    let msg = refused(ldap("ldap://dc1.corp.example", false), "ldap.url");
    assert!(msg.contains("in clear"), "{msg}");
    refused(ldap("ldaps://dc1.corp.example", true), "ldap.startTls");
    refused(ldap("http://dc1.corp.example", true), "ldap.url");
}

#[test]
fn ldap_dns_and_attribute_names_are_checked() {
    let mut body = ldap("ldaps://dc1.corp.example", false);
    body["ldap"]["bindDn"] = json!("admin");
    refused(body.clone(), "ldap.bindDn");
    body["ldap"]["bindDn"] = json!("cn=admin,dc=example,dc=org");
    body["ldap"]["personNamingAttribute"] = json!("uid)(objectClass=*");
    refused(body.clone(), "ldap.personNamingAttribute");
    body["ldap"]["personNamingAttribute"] = json!("cn");
    body["ldap"].as_object_mut().unwrap().remove("bindPassword");
    refused(body, "ldap.bindPassword");
}

#[test]
fn split_dn_honours_escapes() {
    assert_eq!(split_dn(r"cn=Smith\, J,ou=people,dc=x"), vec![r"cn=Smith\, J", "ou=people", "dc=x"]);
}

fn webhook() -> serde_json::Value {
    json!({"displayName": "Team site", "kind": "webhook", "webhook": {"grantUrl": "https://hooks.example/grant",
        "revokeUrl": "https://hooks.example/revoke", "roles": ["Visitor", "Member"]}})
}

#[test]
fn webhook_secret_is_generated_when_not_given() {
    let c = create(webhook()).unwrap();
    assert_eq!(c.secrets.signing_secret.as_ref().map(Secret::expose), Some("whsec_generated"));
    let mut body = webhook();
    body["webhook"]["signingSecret"] = json!("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    let c = create(body.clone()).unwrap();
    assert_eq!(c.secrets.signing_secret.as_ref().map(Secret::expose), Some("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
    body["webhook"]["signingSecret"] = json!("hunter2");
    refused(body.clone(), "webhook.signingSecret");
    body["webhook"]["signingSecret"] = json!("whsec_c2hvcnQ=");
    let msg = refused(body, "webhook.signingSecret");
    assert!(msg.contains("24 to 64 bytes"), "{msg}");
}

#[test]
fn webhook_roles_are_named_once() {
    let mut body = webhook();
    body["webhook"]["roles"] = json!(["Member", "member"]);
    refused(body.clone(), "webhook.roles");
    body["webhook"]["roles"] = json!([]);
    refused(body, "webhook.roles");
}

#[test]
fn a_patch_keeps_credentials_it_leaves_out() {
    let mut c = create(ldap("ldap://127.0.0.1:3890", false)).unwrap();
    c.health.status = ConnectionStatus::Healthy;
    let patch: ConnectionPatch = serde_json::from_value(
        json!({"ldap": {"groupsBaseDn": "ou=teams,dc=example,dc=org"}, "reconcileMode": "enforce"}),
    )
    .unwrap();
    c.apply(patch, now()).unwrap();
    let ConnectionSettings::Ldap(s) = &c.settings else { panic!() };
    assert_eq!(s.groups_base_dn, "ou=teams,dc=example,dc=org");
    assert_eq!(s.bind_dn, "cn=admin,dc=example,dc=org");
    assert_eq!(c.secrets.bind_password.as_ref().map(Secret::expose), Some("secret"));
    assert_eq!(c.reconcile_mode, ReconcileMode::Enforce);
    // Where to find groups changed: the last check no longer says anything.
    assert_eq!(c.health.status, ConnectionStatus::Untested);

    c.health.status = ConnectionStatus::Healthy;
    c.apply(serde_json::from_value(json!({"displayName": "Corp directory"})).unwrap(), now()).unwrap();
    assert_eq!(c.health.status, ConnectionStatus::Healthy);
    let e = c.apply(serde_json::from_value(json!({"scim": {"baseUrl": "https://x.example"}})).unwrap(), now());
    assert_eq!(e.unwrap_err().target.as_deref(), Some("scim"));
}

#[test]
fn a_patch_switches_scim_authentication_as_a_whole() {
    let mut c = create(scim()).unwrap();
    let to_oauth = json!({"scim": {"tokenUrl": "https://idp.example/token", "clientId": "gh", "clientSecret": "s"}});
    c.apply(serde_json::from_value(to_oauth).unwrap(), now()).unwrap();
    assert_eq!(c.secrets.names(), ["clientSecret"]);
    c.apply(serde_json::from_value(json!({"scim": {"bearerToken": "new"}})).unwrap(), now()).unwrap();
    assert_eq!(c.secrets.names(), ["bearerToken"]);
    let ConnectionSettings::Scim(s) = &c.settings else { panic!() };
    assert_eq!(s.token_url, None);
}

#[test]
fn health_degrades_after_failures_in_a_row_and_recovers_on_success() {
    let mut h = Health::default();
    for _ in 0..DEGRADED_AFTER - 1 {
        assert_eq!(h.record(0, 1, Some("connection refused"), now(), 0.5), Change::None);
    }
    assert_eq!(h.status, ConnectionStatus::Untested);
    assert_eq!(h.record(0, 1, Some("connection refused"), now(), 0.5), Change::Degraded);
    assert_eq!(h.status, ConnectionStatus::Degraded);
    assert_eq!(h.last_error.as_deref(), Some("connection refused"));
    assert!(h.probe_after.unwrap() > now());
    assert_eq!(h.record(0, 5, None, now(), 0.5), Change::None, "degraded once");
    assert_eq!(h.last_error.as_deref(), Some("connection refused"));
    assert_eq!(h.record(1, 3, None, now(), 0.5), Change::Recovered);
    assert_eq!((h.status, h.consecutive_failures, h.probe_after), (ConnectionStatus::Healthy, 0, None));
    assert_eq!(h.last_error, None);
}

#[test]
fn a_success_between_failures_keeps_the_connection_healthy() {
    let mut h = Health::default();
    for _ in 0..10 {
        h.record(0, 2, Some("timeout"), now(), 0.1);
        assert_ne!(h.record(1, 0, None, now(), 0.1), Change::Degraded);
    }
    assert_eq!(h.status, ConnectionStatus::Healthy);
}

proptest! {
    #[test]
    fn retry_delays_stay_within_bounds(attempt in -5i64..100, jitter in 0.0f64..1.0) {
        let d = retry_delay(attempt, jitter).num_milliseconds();
        prop_assert!((1_500..=375_000).contains(&d), "{d}");
    }

    #[test]
    fn retry_delays_grow_until_the_cap(attempt in 1i64..30) {
        prop_assert!(retry_delay(attempt + 1, 0.5) >= retry_delay(attempt, 0.5));
    }

    #[test]
    fn probe_delays_stay_within_a_minute_and_a_fifth(degraded_secs in 0i64..100_000, jitter in 0.0f64..1.0) {
        let d = probe_delay(chrono::Duration::seconds(degraded_secs), jitter).num_milliseconds();
        prop_assert!((4_000..=72_000).contains(&d), "{d}");
    }

    #[test]
    fn probes_grow_with_the_outage(a in 0i64..10_000, b in 0i64..10_000) {
        let (short, long) = (a.min(b), a.max(b));
        prop_assert!(probe_delay(chrono::Duration::seconds(short), 0.5) <= probe_delay(chrono::Duration::seconds(long), 0.5));
    }

    #[test]
    fn connection_input_never_panics(body in proptest::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(input) = serde_json::from_slice::<NewConnection>(&body) {
            let _ = Connection::create(input, Uuid::nil(), now(), || "whsec_x".into());
        }
    }
}

#[test]
fn serialized_connections_carry_no_credentials() {
    let c = create(scim()).unwrap();
    let v = serde_json::to_value(&c).unwrap();
    assert!(!v.to_string().contains("t0k"), "{v}");
    assert_eq!(v["secretsSet"], json!(["bearerToken"]));
    assert_eq!(v["scim"]["baseUrl"], "https://wiki.example/scim/v2");
    assert_eq!(v["status"], "untested");
}
