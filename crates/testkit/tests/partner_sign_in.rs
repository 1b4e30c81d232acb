//! Partners sign in at their own organization's OpenID Connect provider, on both backends, with
//! two real `oidc-provider` peers (the host's and a partner's, different issuers): home-realm
//! discovery sends them there, the guest is linked by issuer + subject, and neither the host's
//! provider nor a passcode can make anyone a guest of an OIDC-backed organization.

use gatehouse_server::sign_in::oidc::ProviderConfig;
use gatehouse_server::ServerConfig;
use gatehouse_testkit::peers::{OidcAccount, OidcClient, OidcConfig, OidcPeer};
use gatehouse_testkit::{json, spawn_with, Backend, TestServer, EM};
use reqwest::header::LOCATION;
use reqwest::StatusCode;

const PARTNER_SECRET: &str = "partner-secret-4711";

struct Peers {
    host: OidcPeer,
    partner: OidcPeer,
}

async fn servers(backend: Backend) -> (TestServer, Peers) {
    spawn_with(backend, |base| async move {
        let callback = format!("{base}/signin/callback");
        let host = OidcPeer::start(
            OidcConfig::new()
                .client(OidcClient::new("gatehouse", "host-secret", &callback))
                .account(OidcAccount::new("megan-sub", "Megan", "Bowen", "megan@contoso.example"))
                // The host's provider vouches for an address in the partner's domain.
                .account(OidcAccount::new("bob-host-sub", "Bob", "Host", "bob@fabrikam.example")),
        )
        .await;
        let partner = OidcPeer::start(
            OidcConfig::new()
                .client(OidcClient::new("gatehouse-at-fabrikam", PARTNER_SECRET, &callback))
                .account(OidcAccount::new("nestor-sub", "Nestor", "Wilke", "Nestor@Fabrikam.example")),
        )
        .await;
        let config = ServerConfig {
            host_oidc: Some(ProviderConfig {
                issuer: host.issuer().to_owned(),
                client_id: "gatehouse".into(),
                client_secret: "host-secret".into(),
            }),
            ..ServerConfig::default()
        };
        (config, Peers { host, partner })
    })
    .await
}

fn location(r: &reqwest::Response) -> String {
    r.headers().get(LOCATION).expect("a redirect").to_str().unwrap().to_owned()
}

async fn form_token(s: &TestServer, browser: &reqwest::Client) -> String {
    let html = browser.get(s.url("/signin")).send().await.unwrap().text().await.unwrap();
    html.split(r#"name="csrf" value=""#).nth(1).unwrap().split('"').next().unwrap().to_owned()
}

async fn me(browser: &reqwest::Client, s: &TestServer) -> (StatusCode, serde_json::Value) {
    let r = browser.get(s.url("/v1.0/me")).send().await.unwrap();
    (r.status(), r.json().await.unwrap_or_default())
}

async fn count(s: &TestServer, sql: &str) -> i64 {
    let mut conn = s.app.store.conn().await.unwrap();
    let row = sqlx::query(sql).fetch_one(&mut *conn).await.unwrap();
    sqlx::Row::get::<i64, _>(&row, 0)
}

/// Fabrikam signs in at its own provider; Gatehouse's registration there goes with it.
async fn connect_fabrikam(s: &TestServer, partner: &OidcPeer) -> String {
    let body = json!({"displayName": "Fabrikam", "identitySources": [{
        "@odata.type": "#gatehouse.oidcIdentitySource", "domainName": "fabrikam.example",
        "issuerUri": partner.issuer(), "clientId": "gatehouse-at-fabrikam", "clientSecret": PARTNER_SECRET}]});
    let org = s.post(&format!("{EM}/connectedOrganizations"), body).await.expect(201);
    let source = &org["identitySources"][0];
    assert_eq!(source["clientId"], "gatehouse-at-fabrikam");
    assert!(source.get("clientSecret").is_none(), "the secret is write-only: {org}");
    org["id"].as_str().unwrap().to_owned()
}

/// Type the address on the sign-in page; returns the provider's redirect back to Gatehouse.
async fn partner_sign_in(s: &TestServer, partner: &OidcPeer, browser: &reqwest::Client, account: &str) -> String {
    let csrf = form_token(s, browser).await;
    let form = [("email", "nestor@fabrikam.example"), ("csrf", &csrf), ("return_to", "/v1.0/me")];
    let r = browser.post(s.url("/signin/email")).form(&form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "discovery sends the partner to their provider");
    let authorize = location(&r);
    assert!(authorize.starts_with(partner.issuer()), "{authorize}");
    partner.sign_in(browser, &authorize, account).await.unwrap().to_string()
}

async fn partner_users_sign_in_at_their_own_provider(backend: Backend) {
    let (s, peers) = servers(backend).await;
    let org = connect_fabrikam(&s, &peers.partner).await;
    let read = s.get(&format!("{EM}/connectedOrganizations/{org}")).await.expect(200);
    assert!(!read.to_string().contains(PARTNER_SECRET));
    // An invited guest with the same address exists already: never linked by address alone.
    let invited = s
        .post(
            "/v1.0/users",
            json!({"displayName": "Nestor (invited)", "mail": "nestor@fabrikam.example", "userType": "Guest"}),
        )
        .await
        .expect(201);

    let browser = OidcPeer::browser();
    let callback = partner_sign_in(&s, &peers.partner, &browser, "nestor-sub").await;
    let back = browser.get(&callback).send().await.unwrap();
    assert_eq!(back.status(), StatusCode::SEE_OTHER, "{}", back.text().await.unwrap());
    assert_eq!(location(&back), "/v1.0/me");
    let (status, nestor) = me(&browser, &s).await;
    assert_eq!(status, StatusCode::OK, "{nestor}");
    assert_eq!(nestor["userType"], "Guest");
    assert_eq!(nestor["mail"], "nestor@fabrikam.example");
    assert_eq!(nestor["identities"][0]["signInType"], "federated");
    assert_eq!(nestor["identities"][0]["issuer"], peers.partner.issuer());
    assert_eq!(nestor["identities"][0]["issuerAssignedId"], "nestor-sub");
    assert_ne!(nestor["id"], invited["id"], "linked by issuer + subject, not by address");
    let id = nestor["id"].as_str().unwrap().parse().unwrap();
    let user = s.app.get_user(id).await.unwrap();
    assert_eq!(user.connected_organization_id.map(|o| o.to_string()), Some(org.clone()), "a guest of Fabrikam");
    let session = &s.app.list_sessions(id).await.unwrap()[0];
    assert_eq!(session.auth_method.as_str(), "partnerOidc");
    assert_eq!(session.identity_issuer.as_deref(), Some(peers.partner.issuer()));

    // A PATCH that echoes the sources without the secret keeps it; signing in again, from a
    // package link's domain hint, finds the same guest.
    let sources = read["identitySources"].clone();
    let patched = s.patch(&format!("{EM}/connectedOrganizations/{org}"), json!({"identitySources": sources})).await;
    assert!(patched.status.is_success(), "{}", patched.body);
    let second = OidcPeer::browser();
    let r = second.get(s.url("/signin?domain_hint=Fabrikam.example&return_to=/v1.0/me")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let callback = peers.partner.sign_in(&second, &location(&r), "nestor-sub").await.unwrap().to_string();
    assert_eq!(second.get(&callback).send().await.unwrap().status(), StatusCode::SEE_OTHER);
    assert_eq!(me(&second, &s).await.1["id"], nestor["id"]);
    assert_eq!(count(&s, "SELECT COUNT(*) FROM users WHERE user_type = 'Guest'").await, 2);
    // The secret is in its own column, never in the organization's JSON or the audit log.
    let like = format!("'%{PARTNER_SECRET}%'");
    assert_eq!(count(&s, &format!("SELECT COUNT(*) FROM audit_log WHERE after_json LIKE {like}")).await, 0);
    assert_eq!(
        count(&s, &format!("SELECT COUNT(*) FROM connected_organizations WHERE identity_sources LIKE {like}")).await,
        0
    );
}

async fn only_the_partners_provider_makes_its_guests(backend: Backend) {
    let (s, peers) = servers(backend).await;
    let org = connect_fabrikam(&s, &peers.partner).await;

    // The host's provider vouches for bob@fabrikam.example: a member of the host, not Fabrikam's.
    let browser = OidcPeer::browser();
    let start = browser.get(s.url("/signin/host")).send().await.unwrap();
    let callback = peers.host.sign_in(&browser, &location(&start), "bob-host-sub").await.unwrap().to_string();
    assert_eq!(browser.get(&callback).send().await.unwrap().status(), StatusCode::SEE_OTHER);
    let (_, bob) = me(&browser, &s).await;
    assert_eq!(bob["mail"], "bob@fabrikam.example");
    assert_ne!(bob["userType"], "Guest");
    let user = s.app.get_user(bob["id"].as_str().unwrap().parse().unwrap()).await.unwrap();
    assert_eq!(user.connected_organization_id, None, "the host's provider cannot make a Fabrikam guest");

    // A passcode is never offered for Fabrikam's domain: discovery goes to Fabrikam's provider,
    // and no code exists to type in.
    let stranger = OidcPeer::browser();
    let csrf = form_token(&s, &stranger).await;
    let r = stranger
        .post(s.url("/signin/email"))
        .form(&[("email", "bob@fabrikam.example"), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(location(&r).starts_with(peers.partner.issuer()));
    let r =
        stranger.post(s.url("/signin/passcode")).form(&[("code", "12345678"), ("csrf", &csrf)]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(count(&s, "SELECT COUNT(*) FROM passcode_challenges").await, 0);
    assert_eq!(count(&s, "SELECT COUNT(*) FROM jobs").await, 0, "no mail");
    assert_eq!(count(&s, "SELECT COUNT(*) FROM users WHERE user_type = 'Guest'").await, 0);

    // A partner sign-in cannot be finished with a code from the host's provider: the flow
    // remembers whose provider it went to.
    let mixed = OidcPeer::browser();
    let to_partner = partner_sign_in(&s, &peers.partner, &mixed, "nestor-sub").await;
    let state =
        reqwest::Url::parse(&to_partner).unwrap().query_pairs().find(|(k, _)| k == "state").unwrap().1.into_owned();
    let host_start = mixed.get(s.url("/signin/host")).send().await.unwrap();
    let host_back = peers.host.sign_in(&mixed, &location(&host_start), "megan-sub").await.unwrap();
    let code = host_back.query_pairs().find(|(k, _)| k == "code").unwrap().1.into_owned();
    let r = mixed.get(s.url(&format!("/signin/callback?code={code}&state={state}"))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(me(&mixed, &s).await.0, StatusCode::UNAUTHORIZED);

    // Without Gatehouse's registration the organization's sign-in is not set up: no redirect.
    s.patch(
        &format!("{EM}/connectedOrganizations/{org}"),
        json!({"identitySources": [{"@odata.type": "#gatehouse.oidcIdentitySource",
            "domainName": "fabrikam.example", "issuerUri": peers.partner.issuer()}]}),
    )
    .await
    .status
    .is_success()
    .then_some(())
    .expect("the registration is removed");
    let r = stranger.get(s.url("/signin?domain_hint=fabrikam.example")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("not set up"));
}

gatehouse_testkit::each_backend!(
    partner_users_sign_in_at_their_own_provider,
    only_the_partners_provider_makes_its_guests
);
