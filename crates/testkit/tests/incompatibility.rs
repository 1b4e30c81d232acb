//! Separation of duties, on both backends: holding a package, holding an incompatible package,
//! or being in an incompatible group refuses a request with a 409 that says why, and writes nothing.

use gatehouse_domain::principal::TokenScope;
use gatehouse_testkit::{both_backends, json, TestServer, EM};
use reqwest::Method;

async fn package(s: &TestServer, catalog: &str, name: &str) -> String {
    let p = s
        .post(&format!("{EM}/accessPackages"), json!({"displayName": name, "catalog": {"id": catalog}}))
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    s.post(
        &format!("{EM}/assignmentPolicies"),
        json!({"displayName": "Members", "accessPackage": {"id": p}, "allowedTargetScope": "allMemberUsers"}),
    )
    .await
    .expect(201);
    p
}

async fn incompatible_access_is_refused(s: TestServer) {
    let catalog = s.post(&format!("{EM}/catalogs"), json!({"displayName": "Finance"})).await.expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (payables, approvals, audit) = (
        package(&s, &catalog, "Payables").await,
        package(&s, &catalog, "Payment approvals").await,
        package(&s, &catalog, "Audit").await,
    );
    s.post(
        &format!("{EM}/accessPackages/{approvals}/incompatibleAccessPackages/$ref"),
        json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/identityGovernance/entitlementManagement/accessPackages/{payables}")}),
    )
    .await
    .expect(204);
    let auditors = s.post("/v1.0/groups", json!({"displayName": "External auditors"})).await.expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    s.post(
        &format!("{EM}/accessPackages/{audit}/incompatibleGroups/$ref"),
        json!({"@odata.id": format!("https://x/v1.0/groups/{auditors}")}),
    )
    .await
    .expect(204);
    let megan =
        s.post("/v1.0/users", json!({"displayName": "Megan", "mail": "megan@contoso.example"})).await.expect(201)["id"]
            .as_str()
            .unwrap()
            .to_owned();
    s.post(
        &format!("/v1.0/groups/{auditors}/members/$ref"),
        json!({"@odata.id": format!("https://x/v1.0/users/{megan}")}),
    )
    .await
    .expect(204);
    let token = s.token_for(megan.parse().unwrap(), TokenScope::ReadWrite).await;
    let ask = |p: &str| json!({"requestType": "userAdd", "assignment": {"accessPackageId": p}});
    let requests = format!("{EM}/assignmentRequests");
    s.call(Method::POST, &requests, &token, Some(ask(&payables))).await.expect(201);
    s.run_workers().await;

    let before = s.audit_count().await;
    s.call(Method::POST, &requests, &token, Some(ask(&payables)))
        .await
        .expect_error(409, "already has access package 'Payables'");
    // Payment approvals names Payables incompatible, so holding Payables refuses it.
    s.call(Method::POST, &requests, &token, Some(ask(&approvals)))
        .await
        .expect_error(409, "incompatible with access already held: Payables");
    s.call(Method::POST, &requests, &token, Some(ask(&audit))).await.expect_error(409, "members of External auditors");
    assert_eq!(s.audit_count().await, before, "refusals write nothing");
}

both_backends!(incompatible_access_is_refused);
