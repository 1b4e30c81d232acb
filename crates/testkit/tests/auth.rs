//! Authentication and authorization over HTTP: missing, unknown and malformed credentials are
//! 401 with a challenge; a valid token without the needed role or scope is 403; a disabled
//! account's tokens stop working; operational endpoints need no token.

use gatehouse_domain::principal::TokenScope;
use gatehouse_testkit::{both_backends, json, Reply, TestServer, EM};
use reqwest::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use reqwest::Method;
use serde_json::Value;

async fn with_authorization(s: &TestServer, method: Method, path: &str, authorization: Option<&str>) -> Reply {
    let mut req = s.http.request(method, s.url(path));
    if let Some(a) = authorization {
        req = req.header(AUTHORIZATION, a);
    }
    s.send(req).await
}

#[track_caller]
fn challenged(r: Reply) -> Value {
    let header = r.headers.get(WWW_AUTHENTICATE).map(|v| v.to_str().unwrap().to_owned());
    let body = r.expect_error(401, "");
    assert!(header.as_deref().is_some_and(|h| h.starts_with("Bearer")), "a 401 carries a Bearer challenge: {header:?}");
    assert_eq!(body["error"]["code"], "unauthenticated");
    body
}

async fn user(s: &TestServer, body: Value) -> uuid::Uuid {
    let u = s.post("/v1.0/users", body).await.expect(201);
    u["id"].as_str().unwrap().parse().unwrap()
}

async fn bad_credentials_are_401(s: TestServer) {
    let catalogs = format!("{EM}/catalogs");
    challenged(with_authorization(&s, Method::GET, &catalogs, None).await);
    challenged(with_authorization(&s, Method::GET, &catalogs, Some("Bearer ghp_xxx")).await);
    challenged(with_authorization(&s, Method::GET, &catalogs, Some("Bearer not-even-a-gatehouse-token")).await);
    challenged(with_authorization(&s, Method::GET, &catalogs, Some("Basic abc")).await);
    challenged(with_authorization(&s, Method::GET, &catalogs, Some(&format!("Basic {}", s.admin_token))).await);
    challenged(with_authorization(&s, Method::GET, "/v1.0/me", Some("Bearer ")).await);
    // The scheme name is case-insensitive (RFC 9110); the token itself is not.
    let upper = format!("BEARER {}", s.admin_token);
    with_authorization(&s, Method::GET, &catalogs, Some(&upper)).await.expect(200);
    let wrong_case = format!("Bearer {}", s.admin_token.to_uppercase());
    challenged(with_authorization(&s, Method::GET, &catalogs, Some(&wrong_case)).await);
    // A write without credentials is refused before anything is read or written.
    let before = s.audit_count().await;
    let body = serde_json::to_vec(&json!({"displayName": "Sneaky"})).unwrap();
    let reply = s.raw(Method::POST, &catalogs, None, Some(("application/json", body))).await;
    challenged(reply);
    assert_eq!(s.audit_count().await, before);
    assert!(s.get(&catalogs).await.expect(200)["value"].as_array().unwrap().is_empty());
}

async fn plain_members_only_see_themselves(s: TestServer) {
    let member = user(&s, json!({"displayName": "Megan Bowen", "mail": "megan@contoso.example"})).await;
    let token = s.token_for(member, TokenScope::ReadWrite).await;
    let before = s.audit_count().await;
    let catalogs = format!("{EM}/catalogs");
    s.call(Method::GET, &catalogs, &token, None).await.expect_error(403, "entitlement-management role");
    s.call(Method::GET, &format!("{EM}/accessPackages"), &token, None).await.expect_error(403, "");
    s.call(Method::GET, &format!("{EM}/settings"), &token, None).await.expect_error(403, "");
    let body = json!({"displayName": "Mine"});
    s.call(Method::POST, &catalogs, &token, Some(body)).await.expect_error(403, "Catalog creator");
    let org = json!({"displayName": "Fabrikam", "identitySources": [
        {"@odata.type": "#microsoft.graph.domainIdentitySource", "domainName": "fabrikam.example"}]});
    s.call(Method::POST, &format!("{EM}/connectedOrganizations"), &token, Some(org)).await.expect_error(403, "");
    s.call(Method::POST, "/v1.0/users", &token, Some(json!({"displayName": "X", "mail": "x@contoso.example"})))
        .await
        .expect_error(403, "Global Administrator");
    assert_eq!(s.audit_count().await, before);
    assert!(s.get(&catalogs).await.expect(200)["value"].as_array().unwrap().is_empty());

    let me = s.call(Method::GET, "/v1.0/me", &token, None).await.expect(200);
    assert_eq!(me["id"], member.to_string());
    assert_eq!(me["displayName"], "Megan Bowen");
    // Members may read the directory.
    s.call(Method::GET, "/v1.0/users", &token, None).await.expect(200);
}

async fn read_scope_cannot_write(s: TestServer) {
    let admin = s.get("/v1.0/me").await.expect(200);
    assert_eq!(admin["displayName"], "Gatehouse Administrator");
    let token = s.token_for(admin["id"].as_str().unwrap().parse().unwrap(), TokenScope::Read).await;
    let catalogs = format!("{EM}/catalogs");
    s.call(Method::GET, &catalogs, &token, None).await.expect(200);
    s.call(Method::GET, "/v1.0/users", &token, None).await.expect(200);
    let before = s.audit_count().await;
    s.call(Method::POST, &catalogs, &token, Some(json!({"displayName": "Nope"})))
        .await
        .expect_error(403, "EntitlementManagement.ReadWrite.All");
    s.call(Method::PATCH, &format!("{EM}/settings"), &token, Some(json!({"externalUserLifecycleAction": "none"})))
        .await
        .expect_error(403, "ReadWrite");
    assert_eq!(s.audit_count().await, before);
    assert!(s.get(&catalogs).await.expect(200)["value"].as_array().unwrap().is_empty());
    assert_eq!(
        s.get(&format!("{EM}/settings")).await.expect(200)["externalUserLifecycleAction"],
        "blockSignInAndDelete"
    );
}

async fn disabled_accounts_cannot_sign_in(s: TestServer) {
    let member = user(&s, json!({"displayName": "Lee Gu", "mail": "lee@contoso.example"})).await;
    let token = s.token_for(member, TokenScope::ReadWrite).await;
    s.call(Method::GET, "/v1.0/me", &token, None).await.expect(200);
    s.patch(&format!("/v1.0/users/{member}"), json!({"accountEnabled": false})).await.expect(204);
    let r = s.call(Method::GET, "/v1.0/me", &token, None).await;
    let body = challenged(r);
    assert!(body["error"]["message"].as_str().unwrap().contains("disabled"), "{body}");
    s.patch(&format!("/v1.0/users/{member}"), json!({"accountEnabled": true})).await.expect(204);
    s.call(Method::GET, "/v1.0/me", &token, None).await.expect(200);
}

async fn guests_cannot_list_users(s: TestServer) {
    let guest =
        user(&s, json!({"displayName": "Ana Silva", "mail": "ana@fabrikam.example", "userType": "Guest"})).await;
    let token = s.token_for(guest, TokenScope::ReadWrite).await;
    s.call(Method::GET, "/v1.0/users", &token, None).await.expect_error(403, "member account");
    s.call(Method::GET, "/v1.0/groups", &token, None).await.expect_error(403, "");
    s.call(Method::GET, &format!("/v1.0/users/{guest}"), &token, None).await.expect_error(403, "");
    let me = s.call(Method::GET, "/v1.0/me", &token, None).await.expect(200);
    assert_eq!(me["userType"], "Guest");
}

async fn operational_endpoints_need_no_token(s: TestServer) {
    for path in ["/healthz", "/readyz", "/metrics", "/openapi.json"] {
        let r = with_authorization(&s, Method::GET, path, None).await;
        assert_eq!(r.status.as_u16(), 200, "{path}");
        // A bad token does not turn a public endpoint into a 401.
        let r = with_authorization(&s, Method::GET, path, Some("Bearer ghp_xxx")).await;
        assert_eq!(r.status.as_u16(), 200, "{path} with a bad token");
    }
}

both_backends!(
    bad_credentials_are_401,
    plain_members_only_see_themselves,
    read_scope_cannot_write,
    disabled_accounts_cannot_sign_in,
    guests_cannot_list_users,
    operational_endpoints_need_no_token,
);
