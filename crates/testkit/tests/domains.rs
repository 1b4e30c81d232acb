//! Domain allow and deny lists (Gatehouse extensions of the settings), on both backends:
//! requests for external users from a refused domain are turned away and write nothing.

use gatehouse_domain::principal::TokenScope;
use gatehouse_testkit::{both_backends, json, TestServer, EM};
use reqwest::Method;

async fn package(s: &TestServer, scope: &str) -> (String, String) {
    let catalog = s.post(&format!("{EM}/catalogs"), json!({"displayName": "C"})).await.expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let p = s
        .post(&format!("{EM}/accessPackages"), json!({"displayName": "P", "catalog": {"id": catalog}}))
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let policy = s
        .post(
            &format!("{EM}/assignmentPolicies"),
            json!({"displayName": "All", "accessPackage": {"id": p}, "allowedTargetScope": scope}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (p, policy)
}

async fn refused_domains_write_nothing(s: TestServer) {
    s.patch(&format!("{EM}/settings"), json!({"externalDomainDenyList": ["spam.example"]})).await.expect(204);
    let settings = s.get(&format!("{EM}/settings")).await.expect(200);
    assert_eq!(settings["externalDomainDenyList"], json!(["spam.example"]));
    s.patch(&format!("{EM}/settings"), json!({"externalDomainAllowList": ["not a domain"]}))
        .await
        .expect_error(400, "not a valid domain");
    let (p, policy) = package(&s, "allExternalUsers").await;
    let before = s.audit_count().await;
    let add = |email: &str| json!({"requestType": "adminAdd", "assignment": {"accessPackageId": p, "assignmentPolicyId": policy, "target": {"email": email}}});
    s.post(&format!("{EM}/assignmentRequests"), add("eve@spam.example")).await.expect_error(403, "deny list");
    assert_eq!(s.audit_count().await, before);
    assert!(s.get("/v1.0/users?$filter=mail eq 'eve@spam.example'").await.expect(200)["value"]
        .as_array()
        .unwrap()
        .is_empty());

    // An allow list admits only its domains; a guest from elsewhere cannot even ask.
    s.patch(&format!("{EM}/settings"), json!({"externalDomainAllowList": ["fabrikam.example"]})).await.expect(204);
    s.post(&format!("{EM}/assignmentRequests"), add("kim@contoso-partner.example"))
        .await
        .expect_error(403, "not on the allow list");
    let guest = s
        .post("/v1.0/users", json!({"displayName": "Lou", "mail": "lou@elsewhere.example", "userType": "Guest"}))
        .await
        .expect(201);
    let token = s.token_for(guest["id"].as_str().unwrap().parse().unwrap(), TokenScope::ReadWrite).await;
    let before = s.audit_count().await;
    let ask = json!({"requestType": "userAdd", "assignment": {"accessPackageId": p}});
    s.call(Method::POST, &format!("{EM}/assignmentRequests"), &token, Some(ask))
        .await
        .expect_error(403, "not on the allow list");
    assert_eq!(s.audit_count().await, before);
    s.post(&format!("{EM}/assignmentRequests"), add("ana@fabrikam.example")).await.expect(201);
}

both_backends!(refused_domains_write_nothing);
