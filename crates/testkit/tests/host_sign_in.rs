//! Members sign in at the host's OpenID Connect provider (a real `oidc-provider` peer): the
//! authorization code flow with PKCE, a session cookie afterwards, the account linked by issuer
//! and subject (created on first sign-in, or matched once by verified address); a replayed or
//! foreign callback is refused.

use gatehouse_server::sign_in::oidc::ProviderConfig;
use gatehouse_server::ServerConfig;
use gatehouse_testkit::peers::{OidcAccount, OidcClient, OidcConfig, OidcPeer};
use gatehouse_testkit::{json, spawn_with, Backend, TestServer};
use reqwest::header::LOCATION;
use reqwest::StatusCode;

async fn host_server(backend: Backend) -> (TestServer, OidcPeer) {
    spawn_with(backend, |base| async move {
        let peer = OidcPeer::start(
            OidcConfig::new()
                .client(OidcClient::new("gatehouse", "host-secret", &format!("{base}/signin/callback")))
                .account(OidcAccount::new("megan-sub", "Megan", "Bowen", "megan@contoso.example"))
                .account(OidcAccount::new("alex-sub", "Alex", "Wilber", "Alex@Contoso.example")),
        )
        .await;
        let config = ServerConfig {
            max_body_bytes: 64 * 1024,
            host_oidc: Some(ProviderConfig {
                issuer: peer.issuer().to_owned(),
                client_id: "gatehouse".into(),
                client_secret: "host-secret".into(),
            }),
            ..ServerConfig::default()
        };
        (config, peer)
    })
    .await
}

fn location(r: &reqwest::Response) -> String {
    r.headers().get(LOCATION).expect("a redirect").to_str().unwrap().to_owned()
}

/// Start at Gatehouse, sign in at the provider; returns the callback URL the provider sent the
/// browser to (not yet requested).
async fn to_callback(s: &TestServer, peer: &OidcPeer, browser: &reqwest::Client, account: &str) -> String {
    let start = browser.get(s.url("/signin/host?return_to=/v1.0/me")).send().await.unwrap();
    assert_eq!(start.status(), StatusCode::SEE_OTHER);
    let authorize = location(&start);
    assert!(authorize.starts_with(peer.issuer()), "{authorize}");
    assert!(authorize.contains("code_challenge_method=S256") && authorize.contains("nonce="), "{authorize}");
    peer.sign_in(browser, &authorize, account).await.unwrap().to_string()
}

async fn me(browser: &reqwest::Client, s: &TestServer) -> (StatusCode, serde_json::Value) {
    let r = browser.get(s.url("/v1.0/me")).send().await.unwrap();
    (r.status(), r.json().await.unwrap_or_default())
}

async fn members_sign_in_at_the_host_provider(backend: Backend) {
    let (s, peer) = host_server(backend).await;
    let page = reqwest::get(s.url("/signin")).await.unwrap().text().await.unwrap();
    assert!(page.contains("/signin/host"), "the sign-in page offers the host provider: {page}");

    let browser = OidcPeer::browser();
    let callback = to_callback(&s, &peer, &browser, "megan-sub").await;
    let back = browser.get(&callback).send().await.unwrap();
    assert_eq!(back.status(), StatusCode::SEE_OTHER, "{}", back.text().await.unwrap());
    assert_eq!(location(&back), "/v1.0/me");
    let (status, megan) = me(&browser, &s).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(megan["mail"], "megan@contoso.example");
    assert_eq!(megan["displayName"], "Megan Bowen");
    assert_eq!(megan["userType"], "Member");
    let identity = &megan["identities"][0];
    assert_eq!(identity["issuer"], peer.issuer());
    assert_eq!(identity["issuerAssignedId"], "megan-sub");

    // The callback cannot be replayed, not even by the browser that used it.
    let again = browser.get(&callback).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
    assert!(again.text().await.unwrap().contains("already used"));

    // Signing in again finds the same user.
    let second = OidcPeer::browser();
    let callback = to_callback(&s, &peer, &second, "megan-sub").await;
    assert_eq!(second.get(&callback).send().await.unwrap().status(), StatusCode::SEE_OTHER);
    assert_eq!(me(&second, &s).await.1["id"], megan["id"]);
    let users = s.get("/v1.0/users?$filter=mail eq 'megan@contoso.example'").await.expect(200);
    assert_eq!(users["value"].as_array().unwrap().len(), 1);

    // A member the administrator created is linked on first sign-in, by verified address.
    let alex =
        s.post("/v1.0/users", json!({"displayName": "Alex Wilber", "mail": "alex@contoso.example"})).await.expect(201);
    let third = OidcPeer::browser();
    let callback = to_callback(&s, &peer, &third, "alex-sub").await;
    assert_eq!(third.get(&callback).send().await.unwrap().status(), StatusCode::SEE_OTHER);
    let (_, signed_in) = me(&third, &s).await;
    assert_eq!(signed_in["id"], alex["id"]);
    assert_eq!(signed_in["identities"][0]["issuerAssignedId"], "alex-sub");
    let home = third.get(s.url("/")).send().await.unwrap().text().await.unwrap();
    assert!(home.contains("Signed in as Alex Wilber") && home.contains(peer.issuer()), "{home}");
}

async fn foreign_or_forged_callbacks_are_refused(backend: Backend) {
    let (s, peer) = host_server(backend).await;
    // The code came back to a browser that did not start this sign-in (login CSRF).
    let attacker = OidcPeer::browser();
    let callback = to_callback(&s, &peer, &attacker, "megan-sub").await;
    let victim = OidcPeer::browser();
    let r = victim.get(&callback).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.text().await.unwrap().contains("another browser"));
    assert_eq!(me(&victim, &s).await.0, StatusCode::UNAUTHORIZED);
    // An invented state, a missing code, a provider error: refused, no session.
    for query in ["code=abc&state=invented", "state=abc", "error=access_denied&error_description=%3Cscript%3E"] {
        let r = victim.get(s.url(&format!("/signin/callback?{query}"))).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{query}");
        assert!(!r.text().await.unwrap().contains("<script>"), "provider text is never echoed");
    }
    // A code is bound to its PKCE verifier and state: a code from one sign-in with the state of
    // another does not work.
    let browser = OidcPeer::browser();
    let first = reqwest::Url::parse(&to_callback(&s, &peer, &browser, "megan-sub").await).unwrap();
    let second = reqwest::Url::parse(&to_callback(&s, &peer, &browser, "megan-sub").await).unwrap();
    let param = |u: &reqwest::Url, k: &str| u.query_pairs().find(|(n, _)| n == k).unwrap().1.into_owned();
    let mixed = s.url(&format!("/signin/callback?code={}&state={}", param(&first, "code"), param(&second, "state")));
    let r = browser.get(&mixed).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(me(&browser, &s).await.0, StatusCode::UNAUTHORIZED);
}

async fn without_a_host_provider_there_is_no_host_sign_in(backend: Backend) {
    let s = gatehouse_testkit::spawn(backend).await;
    let r = reqwest::get(s.url("/signin/host")).await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let page = reqwest::get(s.url("/signin")).await.unwrap().text().await.unwrap();
    assert!(!page.contains("/signin/host"));
}

gatehouse_testkit::each_backend!(
    members_sign_in_at_the_host_provider,
    foreign_or_forged_callbacks_are_refused,
    without_a_host_provider_there_is_no_host_sign_in
);
