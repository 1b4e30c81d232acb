//! Guests sign in by email: home-realm discovery picks the identity source from the address's
//! domain, and one-time passcodes go through the real SMTP path (aiosmtpd) on both backends.
//! Refusals (unknown, deny-listed or not-allowed domains, forged forms, brute force, rate
//! limits) send no mail and create no account.

use std::sync::Arc;

use chrono::Duration;
use gatehouse_testkit::peers::{OidcPeer, SmtpSink};
use gatehouse_testkit::{both_backends, json, TestServer, EM};
use gatehouse_workers::{Mailer, SmtpMailer};
use reqwest::header::LOCATION;
use reqwest::StatusCode;

const CODE_SUBJECT: &str = "Your Gatehouse sign-in code";

struct Browser {
    http: reqwest::Client,
    csrf: String,
}

/// Open the sign-in page as a browser would: it sets the pre-sign-in cookie and embeds its token.
async fn open(s: &TestServer) -> Browser {
    let http = OidcPeer::browser();
    let page = http.get(s.url("/signin")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"action="/signin/email""#), "{html}");
    let csrf = html.split(r#"name="csrf" value=""#).nth(1).unwrap().split('"').next().unwrap().to_owned();
    Browser { http, csrf }
}

impl Browser {
    async fn email(&self, s: &TestServer, address: &str) -> (StatusCode, String) {
        let form = [("email", address), ("csrf", &self.csrf), ("return_to", "/v1.0/me")];
        let r = self.http.post(s.url("/signin/email")).form(&form).send().await.unwrap();
        (r.status(), r.text().await.unwrap())
    }

    async fn code(&self, s: &TestServer, code: &str) -> reqwest::Response {
        self.http.post(s.url("/signin/passcode")).form(&[("code", code), ("csrf", &self.csrf)]).send().await.unwrap()
    }

    async fn me(&self, s: &TestServer) -> (StatusCode, serde_json::Value) {
        let r = self.http.get(s.url("/v1.0/me")).send().await.unwrap();
        (r.status(), r.json().await.unwrap_or_default())
    }
}

fn mailer(sink: &SmtpSink) -> Arc<dyn Mailer> {
    Arc::new(SmtpMailer::new(&sink.settings()).unwrap())
}

/// The one code mailed to `address` that is not in `seen` (the sink keeps no order), now seen.
fn code_for(sink: &SmtpSink, address: &str, seen: &mut Vec<String>) -> String {
    let fresh: Vec<String> = sink
        .messages()
        .into_iter()
        .filter(|m| m.to.iter().any(|t| t == address) && m.subject == CODE_SUBJECT)
        .map(|m| {
            let after = m.data.split("Your sign-in code is ").nth(1).expect("the code in the body");
            let code: String = after.chars().take_while(char::is_ascii_digit).collect();
            assert_eq!(code.len(), 8, "{}", m.data);
            code
        })
        .filter(|c| !seen.contains(c))
        .collect();
    assert_eq!(fresh.len(), 1, "one new code for {address}: {fresh:?}");
    seen.push(fresh[0].clone());
    fresh[0].clone()
}

async fn count(s: &TestServer, sql: &str) -> i64 {
    let mut conn = s.app.store.conn().await.unwrap();
    let row = sqlx::query(sql).fetch_one(&mut *conn).await.unwrap();
    sqlx::Row::get::<i64, _>(&row, 0)
}

async fn guests(s: &TestServer) -> i64 {
    count(s, "SELECT COUNT(*) FROM users WHERE user_type = 'Guest'").await
}

/// How many stored rows anywhere the code could hide contain `code`.
async fn rows_containing(s: &TestServer, code: &str) -> i64 {
    let like = format!("'%{code}%'");
    count(s, &format!("SELECT COUNT(*) FROM jobs WHERE payload LIKE {like}")).await
        + count(
            s,
            &format!("SELECT COUNT(*) FROM passcode_challenges WHERE code_hash LIKE {like} OR email LIKE {like}"),
        )
        .await
        + count(s, &format!("SELECT COUNT(*) FROM audit_log WHERE after_json LIKE {like}")).await
}

async fn connected(s: &TestServer, domain: &str, state: &str) -> String {
    let body = json!({"displayName": domain, "state": state, "identitySources": [
        {"@odata.type": "#microsoft.graph.domainIdentitySource", "domainName": domain, "displayName": domain}]});
    s.post(&format!("{EM}/connectedOrganizations"), body).await.expect(201)["id"].as_str().unwrap().to_owned()
}

async fn all_external_users_policy(s: &TestServer) {
    let p = s.group_package("Extranet").await.package;
    s.add_policy(&p, json!({"allowedTargetScope": "allExternalUsers"})).await;
}

async fn passcode_guest_of_a_domain_source_signs_in_by_mail(s: TestServer) {
    let sink = SmtpSink::start();
    let mut seen = Vec::new();
    let org = connected(&s, "fabrikam.example", "configured").await;
    let browser = open(&s).await;
    let (status, page) = browser.email(&s, "Nestor@Fabrikam.example").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("We sent a sign-in code to nestor@fabrikam.example"), "{page}");
    assert_eq!(guests(&s).await, 0, "no account before the code is used");
    s.run_workers_with(mailer(&sink)).await;
    let code = code_for(&sink, "nestor@fabrikam.example", &mut seen);
    assert_eq!(count(&s, "SELECT COUNT(*) FROM passcode_challenges").await, 1);
    assert_eq!(
        count(&s, &format!("SELECT COUNT(*) FROM passcode_challenges WHERE code_hash LIKE '%{code}%'")).await,
        0,
        "the code is stored only hashed"
    );

    // A wrong code first: refused, tries counted.
    let wrong = if code == "00000000" { "11111111" } else { "00000000" };
    let r = browser.code(&s, wrong).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.text().await.unwrap().contains("4 tries left"));
    assert_eq!(browser.me(&s).await.0, StatusCode::UNAUTHORIZED);

    let r = browser.code(&s, &format!("{} {}", &code[..4], &code[4..])).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[LOCATION], "/v1.0/me");
    let (status, me) = browser.me(&s).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["userType"], "Guest");
    assert_eq!(me["mail"], "nestor@fabrikam.example");
    assert_eq!(me["identities"][0]["signInType"], "emailAddress");
    let user = s.app.get_user(me["id"].as_str().unwrap().parse().unwrap()).await.unwrap();
    assert_eq!(user.connected_organization_id.map(|o| o.to_string()), Some(org), "a guest of the organization");
    let sessions = s.app.list_sessions(user.id).await.unwrap();
    assert_eq!(sessions[0].auth_method.as_str(), "emailPasscode");
    assert_eq!(rows_containing(&s, &code).await, 0, "once used, the code is nowhere in the database");

    // Single use: the same code again, even with the challenge cookie replayed, does nothing.
    let again = browser.code(&s, &code).await;
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);

    // Signing in again finds the same guest.
    let second = open(&s).await;
    assert_eq!(second.email(&s, "nestor@fabrikam.example").await.0, StatusCode::OK);
    s.run_workers_with(mailer(&sink)).await;
    let code = code_for(&sink, "nestor@fabrikam.example", &mut seen);
    assert_eq!(second.code(&s, &code).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(second.me(&s).await.1["id"], me["id"]);
    assert_eq!(guests(&s).await, 1);
}

async fn passcode_brute_force_is_locked_out_and_sending_is_limited(s: TestServer) {
    let sink = SmtpSink::start();
    let mut seen = Vec::new();
    connected(&s, "fabrikam.example", "configured").await;
    let browser = open(&s).await;
    assert_eq!(browser.email(&s, "nestor@fabrikam.example").await.0, StatusCode::OK);
    s.run_workers_with(mailer(&sink)).await;
    let code = code_for(&sink, "nestor@fabrikam.example", &mut seen);
    let wrong = if code == "00000000" { "11111111" } else { "00000000" };
    for _ in 0..4 {
        assert_eq!(browser.code(&s, wrong).await.status(), StatusCode::UNAUTHORIZED);
    }
    let locked = browser.code(&s, wrong).await;
    assert_eq!(locked.status(), StatusCode::UNAUTHORIZED);
    assert!(locked.text().await.unwrap().contains("too many wrong codes"));
    let r = browser.code(&s, &code).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "the right code no longer works after the lockout");
    assert_eq!(browser.me(&s).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(guests(&s).await, 0);

    // An expired code does not work either.
    assert_eq!(browser.email(&s, "nestor@fabrikam.example").await.0, StatusCode::OK);
    s.run_workers_with(mailer(&sink)).await;
    let code = code_for(&sink, "nestor@fabrikam.example", &mut seen);
    s.clock.advance(Duration::minutes(10));
    let r = browser.code(&s, &code).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.text().await.unwrap().contains("expired"));

    // At most five codes an hour to one address: the sixth is refused and not mailed.
    for _ in 0..3 {
        assert_eq!(browser.email(&s, "nestor@fabrikam.example").await.0, StatusCode::OK);
    }
    let (status, page) = browser.email(&s, "nestor@fabrikam.example").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{page}");
    s.run_workers_with(mailer(&sink)).await;
    // Two codes mailed earlier, then only the newest of the three: a code replaced before the
    // mail worker ran is never sent (its text was wiped from the outbox).
    assert_eq!(sink.count("nestor@fabrikam.example", CODE_SUBJECT), 3);
    s.clock.advance(Duration::minutes(61));
    assert_eq!(browser.email(&s, "nestor@fabrikam.example").await.0, StatusCode::OK, "the window moved on");

    // At most twenty codes an hour asked for from one client address.
    for i in 0..19 {
        let (status, page) = browser.email(&s, &format!("user{i}@fabrikam.example")).await;
        assert_eq!(status, StatusCode::OK, "{i}: {page}");
    }
    assert_eq!(browser.email(&s, "user99@fabrikam.example").await.0, StatusCode::TOO_MANY_REQUESTS);
    s.run_workers_with(mailer(&sink)).await;
    assert_eq!(sink.count("user99@fabrikam.example", CODE_SUBJECT), 0);
}

async fn unknown_domains_are_turned_away_unless_all_external_users_are_admitted(s: TestServer) {
    let sink = SmtpSink::start();
    let mut seen = Vec::new();
    let proposed = connected(&s, "proposed.example", "proposed").await;
    let audit = s.audit_count().await;
    let browser = open(&s).await;
    for address in ["sara@tailspin.example", "pat@proposed.example"] {
        let (status, page) = browser.email(&s, address).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{address}: {page}");
        assert!(page.contains("is not a connected organization"), "{page}");
    }
    s.run_workers_with(mailer(&sink)).await;
    assert!(sink.messages().is_empty(), "no mail");
    assert_eq!(count(&s, "SELECT COUNT(*) FROM passcode_challenges").await, 0);
    assert_eq!(s.audit_count().await, audit, "nothing written");
    assert_eq!(guests(&s).await, 0, "no account");

    // Once a policy admits all external users, unknown domains sign in with a passcode.
    all_external_users_policy(&s).await;
    for (address, org) in [("sara@tailspin.example", None), ("pat@proposed.example", Some(proposed))] {
        let browser = open(&s).await;
        assert_eq!(browser.email(&s, address).await.0, StatusCode::OK);
        s.run_workers_with(mailer(&sink)).await;
        assert_eq!(browser.code(&s, &code_for(&sink, address, &mut seen)).await.status(), StatusCode::SEE_OTHER);
        let (_, me) = browser.me(&s).await;
        assert_eq!(me["userType"], "Guest");
        let user = s.app.get_user(me["id"].as_str().unwrap().parse().unwrap()).await.unwrap();
        assert_eq!(user.connected_organization_id.map(|o| o.to_string()), org, "{address}");
        let home = browser.http.get(s.url("/")).send().await.unwrap().text().await.unwrap();
        let expected =
            if org.is_some() { "Guest of proposed.example." } else { "Guest, not part of any connected organization." };
        assert!(home.contains(expected), "{home}");
    }
}

async fn refused_domains_get_no_mail(s: TestServer) {
    let sink = SmtpSink::start();
    all_external_users_policy(&s).await;
    connected(&s, "spam.example", "configured").await;
    s.patch(&format!("{EM}/settings"), json!({"externalDomainDenyList": ["spam.example"]})).await.expect(204);
    let audit = s.audit_count().await;
    let browser = open(&s).await;
    let (status, page) = browser.email(&s, "eve@spam.example").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains("deny list"), "{page}");
    s.patch(&format!("{EM}/settings"), json!({"externalDomainAllowList": ["fabrikam.example"]})).await.expect(204);
    let audit_after_settings = s.audit_count().await;
    let (status, page) = browser.email(&s, "sara@tailspin.example").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains("not on the allow list"), "{page}");
    assert_eq!(s.audit_count().await, audit_after_settings);
    assert!(audit_after_settings > audit);
    s.run_workers_with(mailer(&sink)).await;
    assert!(sink.messages().is_empty(), "no mail");
    assert_eq!(count(&s, "SELECT COUNT(*) FROM passcode_challenges").await, 0);
    assert_eq!(guests(&s).await, 0);
}

/// Settings are checked again when the code is typed: a domain deny-listed in between is
/// refused, and the code is spent even so.
async fn a_domain_refused_after_the_code_was_sent_spends_it(s: TestServer) {
    let sink = SmtpSink::start();
    let mut seen = Vec::new();
    connected(&s, "fabrikam.example", "configured").await;
    let browser = open(&s).await;
    assert_eq!(browser.email(&s, "nestor@fabrikam.example").await.0, StatusCode::OK);
    s.run_workers_with(mailer(&sink)).await;
    let code = code_for(&sink, "nestor@fabrikam.example", &mut seen);
    s.patch(&format!("{EM}/settings"), json!({"externalDomainDenyList": ["fabrikam.example"]})).await.expect(204);
    let r = browser.code(&s, &code).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("deny list"));
    s.patch(&format!("{EM}/settings"), json!({"externalDomainDenyList": []})).await.expect(204);
    assert_eq!(browser.code(&s, &code).await.status(), StatusCode::UNAUTHORIZED, "the code was spent");
    assert_eq!(guests(&s).await, 0);
    assert_eq!(browser.me(&s).await.0, StatusCode::UNAUTHORIZED);
}

async fn anonymous_forms_need_their_cookie_token(s: TestServer) {
    connected(&s, "fabrikam.example", "configured").await;
    // No pre-sign-in cookie (a cross-site form), or a wrong token: refused, nothing sent.
    let stranger = OidcPeer::browser();
    let r = stranger
        .post(s.url("/signin/email"))
        .form(&[("email", "nestor@fabrikam.example"), ("csrf", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let browser = open(&s).await;
    let forged = Browser { http: browser.http.clone(), csrf: "x".repeat(43) };
    assert_eq!(forged.email(&s, "nestor@fabrikam.example").await.0, StatusCode::FORBIDDEN);
    assert_eq!(count(&s, "SELECT COUNT(*) FROM passcode_challenges").await, 0);
    assert_eq!(count(&s, "SELECT COUNT(*) FROM jobs").await, 0);
    // A code posted without the form token, or from a browser that asked for none.
    assert_eq!(browser.email(&s, "nestor@fabrikam.example").await.0, StatusCode::OK);
    assert_eq!(forged.code(&s, "12345678").await.status(), StatusCode::FORBIDDEN);
    let other = open(&s).await;
    let r = other.code(&s, "12345678").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.text().await.unwrap().contains("no code was requested in this browser"));
    // Not an address at all.
    let (status, page) = browser.email(&s, "not-an-address").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("not an email address"));
}

both_backends!(
    passcode_guest_of_a_domain_source_signs_in_by_mail,
    passcode_brute_force_is_locked_out_and_sending_is_limited,
    unknown_domains_are_turned_away_unless_all_external_users_are_admitted,
    refused_domains_get_no_mail,
    a_domain_refused_after_the_code_was_sent_spends_it,
    anonymous_forms_need_their_cookie_token
);
