//! API clients over HTTP: the client-credentials grant at /oauth2/token (HTTP Basic or form
//! credentials, scopes), its refusals in RFC 6749's shape, and the access tokens it issues:
//! accepted for what their scope allows, refused once expired, altered or their client is
//! disabled.

use chrono::Duration;
use gatehouse_domain::principal::TokenScope;
use gatehouse_testkit::{both_backends, json, TestServer, EM};
use reqwest::StatusCode;

async fn client(s: &TestServer, scope: TokenScope) -> (String, String, uuid::Uuid) {
    let created = s
        .post("/gatehouse/servicePrincipals", json!({"displayName": "HR sync", "scopes": [scope.as_str()]}))
        .await
        .expect(201);
    let secret = created["secretText"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("ghs_"));
    (created["appId"].as_str().unwrap().to_owned(), secret, created["id"].as_str().unwrap().parse().unwrap())
}

async fn token_request(
    s: &TestServer,
    form: &[(&str, &str)],
    basic: Option<(&str, &str)>,
) -> (StatusCode, serde_json::Value) {
    let mut req = reqwest::Client::new().post(s.url("/oauth2/token")).form(form);
    if let Some((id, secret)) = basic {
        req = req.basic_auth(id, Some(secret));
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or_default())
}

async fn api(
    s: &TestServer,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> StatusCode {
    let mut req = reqwest::Client::new().request(method, s.url(path)).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.send().await.unwrap().status()
}

async fn clients_get_tokens_for_their_scopes(s: TestServer) {
    let catalogs = format!("{EM}/catalogs");
    let (id, secret, _) = client(&s, TokenScope::ReadWrite).await;
    // HTTP Basic, no scope: everything the client holds.
    let (status, t) = token_request(&s, &[("grant_type", "client_credentials")], Some((&id, &secret))).await;
    assert_eq!(status, StatusCode::OK, "{t}");
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["expires_in"], 3600);
    assert_eq!(t["scope"], "EntitlementManagement.ReadWrite.All");
    let write = t["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        api(&s, &write, reqwest::Method::POST, &catalogs, Some(json!({"displayName": "From a client"}))).await,
        StatusCode::CREATED
    );
    // Form credentials, narrowed to read: reads work, writes do not.
    let (status, t) = token_request(
        &s,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &id),
            ("client_secret", &secret),
            ("scope", "EntitlementManagement.Read.All"),
        ],
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{t}");
    let read = t["access_token"].as_str().unwrap().to_owned();
    assert_eq!(api(&s, &read, reqwest::Method::GET, &catalogs, None).await, StatusCode::OK);
    let before = s.audit_count().await;
    assert_eq!(
        api(&s, &read, reqwest::Method::POST, &catalogs, Some(json!({"displayName": "Nope"}))).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(s.audit_count().await, before);
    // `.default`, as Microsoft's libraries send it.
    let (status, _) = token_request(
        &s,
        &[("grant_type", "client_credentials"), ("scope", "https://graph.microsoft.com/.default")],
        Some((&id, &secret)),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // Entitlement management only: the directory is not an application's to change.
    assert_eq!(
        api(
            &s,
            &write,
            reqwest::Method::POST,
            "/v1.0/users",
            Some(json!({"displayName": "X", "mail": "x@contoso.example"}))
        )
        .await,
        StatusCode::FORBIDDEN
    );
}

/// A token request (form, HTTP Basic credentials) and the status and OAuth error it must get.
type Case<'a> = (Vec<(&'a str, &'a str)>, Option<(&'a str, &'a str)>, u16, &'a str);

async fn the_token_endpoint_refuses_in_oauth_terms(s: TestServer) {
    let (id, secret, _) = client(&s, TokenScope::Read).await;
    let grant = ("grant_type", "client_credentials");
    let cases: Vec<Case> = vec![
        (vec![grant], Some((&id, "ghs_wrong")), 401, "invalid_client"),
        (vec![grant], Some(("00000000-0000-0000-0000-000000000000", &secret)), 401, "invalid_client"),
        (vec![grant], None, 401, "invalid_client"),
        (vec![("grant_type", "password")], Some((&id, &secret)), 400, "unsupported_grant_type"),
        (vec![], Some((&id, &secret)), 400, "invalid_request"),
        (vec![grant, ("scope", "EntitlementManagement.ReadWrite.All")], Some((&id, &secret)), 400, "invalid_scope"),
        (vec![grant, ("scope", "Directory.ReadWrite.All")], Some((&id, &secret)), 400, "invalid_scope"),
        (vec![grant, ("client_id", &id), ("client_secret", &secret)], Some((&id, &secret)), 400, "invalid_request"),
    ];
    for (form, basic, status, error) in cases {
        let (got, body) = token_request(&s, &form, basic).await;
        assert_eq!((got.as_u16(), body["error"].as_str().unwrap_or("")), (status, error), "{form:?}: {body}");
        assert!(body.get("access_token").is_none());
    }
}

async fn client_tokens_stop_when_they_should(s: TestServer) {
    let catalogs = format!("{EM}/catalogs");
    let (id, secret, sp) = client(&s, TokenScope::Read).await;
    let token = |s: &TestServer| {
        let (id, secret) = (id.clone(), secret.clone());
        let url = s.url("/oauth2/token");
        async move {
            let r = reqwest::Client::new()
                .post(url)
                .basic_auth(id, Some(secret))
                .form(&[("grant_type", "client_credentials")])
                .send()
                .await
                .unwrap();
            r.json::<serde_json::Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned()
        }
    };
    let t = token(&s).await;
    assert_eq!(api(&s, &t, reqwest::Method::GET, &catalogs, None).await, StatusCode::OK);
    // Altered: one character of the signature changed.
    let mut altered = t.clone().into_bytes();
    let last = altered.len() - 2;
    altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
    assert_eq!(
        api(&s, &String::from_utf8(altered).unwrap(), reqwest::Method::GET, &catalogs, None).await,
        StatusCode::UNAUTHORIZED
    );
    // Expired after an hour.
    s.clock.advance(Duration::minutes(61));
    assert_eq!(api(&s, &t, reqwest::Method::GET, &catalogs, None).await, StatusCode::UNAUTHORIZED);
    // Disabled: a fresh token stops at once, and no new one is issued.
    let fresh = token(&s).await;
    assert_eq!(api(&s, &fresh, reqwest::Method::GET, &catalogs, None).await, StatusCode::OK);
    s.patch(&format!("/gatehouse/servicePrincipals/{sp}"), json!({"accountEnabled": false})).await.expect(204);
    assert_eq!(api(&s, &fresh, reqwest::Method::GET, &catalogs, None).await, StatusCode::UNAUTHORIZED);
    let (status, body) = token_request(&s, &[("grant_type", "client_credentials")], Some((&id, &secret))).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_client")));
    // The secret is never shown again.
    let list = s.get("/gatehouse/servicePrincipals").await.expect(200);
    assert_eq!(list["value"][0]["accountEnabled"], false);
    assert!(!list.to_string().contains("ghs_"));
}

both_backends!(clients_get_tokens_for_their_scopes);
both_backends!(the_token_endpoint_refuses_in_oauth_terms);
both_backends!(client_tokens_stop_when_they_should);
