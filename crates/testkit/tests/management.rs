//! Administrative tools around assignments, on both backends: `additionalAccess` previews who
//! holds two packages before they are marked incompatible, `reprocess` puts back a role removed
//! out of band, and a user's manager approves under a `requestorManager` stage.

use gatehouse_domain::principal::TokenScope;
use gatehouse_testkit::{both_backends, json, TestServer, EM};
use reqwest::Method;

async fn user(s: &TestServer, name: &str) -> String {
    s.post("/v1.0/users", json!({"displayName": name, "mail": format!("{}@contoso.example", name.to_lowercase())}))
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A package granting `group`'s Member role, with an admin policy and a members policy.
async fn package(
    s: &TestServer,
    catalog: &str,
    group: &str,
    name: &str,
    approval: serde_json::Value,
) -> (String, String) {
    let p = s.package_granting(catalog, group, name).await;
    let admin_policy = s.add_policy(&p, json!({"displayName": "Direct"})).await;
    s.add_policy(
        &p,
        json!({"displayName": "Members", "allowedTargetScope": "allMemberUsers", "requestApprovalSettings": approval}),
    )
    .await;
    (p, admin_policy)
}

async fn setup(s: &TestServer) -> (String, String) {
    let fixture = s.group_package("Base").await;
    (fixture.group, fixture.catalog)
}

async fn admin_add(s: &TestServer, package: &(String, String), target: &str) {
    s.post(
        &format!("{EM}/assignmentRequests"),
        json!({"requestType": "adminAdd",
        "assignment": {"accessPackageId": package.0, "assignmentPolicyId": package.1, "targetId": target}}),
    )
    .await
    .expect(201);
}

async fn additional_access_and_reprocess(s: TestServer) {
    let (group, catalog) = setup(&s).await;
    let payables = package(&s, &catalog, &group, "Payables", json!({})).await;
    let approvals = package(&s, &catalog, &group, "Payment approvals", json!({})).await;
    let (megan, lee) = (user(&s, "Megan").await, user(&s, "Lee").await);
    admin_add(&s, &payables, &megan).await;
    admin_add(&s, &approvals, &megan).await;
    admin_add(&s, &payables, &lee).await;
    s.run_workers().await;
    let both = s
        .get(&format!(
            "{EM}/assignments/additionalAccess(accessPackageId='{}',incompatibleAccessPackageId='{}')?$expand=target",
            payables.0, approvals.0
        ))
        .await
        .expect(200);
    let targets: Vec<&str> =
        both["value"].as_array().unwrap().iter().map(|a| a["target"]["objectId"].as_str().unwrap()).collect();
    assert_eq!(targets, vec![megan.as_str()], "only Megan holds both");
    s.get(&format!(
        "{EM}/assignments/additionalAccess(accessPackageId='{0}',incompatibleAccessPackageId='{0}')",
        payables.0
    ))
    .await
    .expect_error(400, "two different");

    // Lee's membership is removed by hand in the directory; reprocess puts it back.
    s.delete(&format!("/v1.0/groups/{group}/members/{lee}/$ref")).await.expect(204);
    let mine = s.get(&format!("{EM}/assignments?$filter=target/objectId eq '{lee}'")).await.expect(200);
    let assignment = mine["value"][0]["id"].as_str().unwrap().to_owned();
    s.post(&format!("{EM}/assignments/{assignment}/reprocess"), json!({})).await.expect(202);
    s.run_workers().await;
    let members = s.get(&format!("/v1.0/groups/{group}/members")).await.expect(200);
    assert!(members["value"].as_array().unwrap().iter().any(|u| u["id"] == lee.as_str()), "membership restored");
    let lee_token = s.token_for(lee.parse().unwrap(), TokenScope::ReadWrite).await;
    s.call(Method::POST, &format!("{EM}/assignments/{assignment}/reprocess"), &lee_token, None)
        .await
        .expect_error(403, "Identity Governance Administrator");
}

async fn managers_approve(s: TestServer) {
    let (group, catalog) = setup(&s).await;
    let stage = json!({"isApprovalRequiredForAdd": true, "stages": [{"primaryApprovers": [{"@odata.type": "#microsoft.graph.requestorManager", "managerLevel": 1}]}]});
    let p = package(&s, &catalog, &group, "Ledger", stage).await;
    let (megan, boss) = (user(&s, "Megan").await, user(&s, "Boss").await);
    let manager_ref = format!("/v1.0/users/{megan}/manager/$ref");
    s.put(&manager_ref, json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/users/{boss}")}))
        .await
        .expect(204);
    assert_eq!(s.get(&format!("/v1.0/users/{megan}/manager")).await.expect(200)["id"], boss.as_str());
    s.put(&format!("/v1.0/users/{boss}/manager/$ref"), json!({"@odata.id": format!("https://x/v1.0/users/{megan}")}))
        .await
        .expect_error(400, "own manager");
    let token = s.token_for(megan.parse().unwrap(), TokenScope::ReadWrite).await;
    let r = s
        .call(
            Method::POST,
            &format!("{EM}/assignmentRequests"),
            &token,
            Some(json!({"requestType": "userAdd", "assignment": {"accessPackageId": p.0}})),
        )
        .await
        .expect(201);
    let boss_token = s.token_for(boss.parse().unwrap(), TokenScope::ReadWrite).await;
    let waiting = s
        .call(
            Method::GET,
            &format!("{EM}/accessPackageAssignmentApprovals/filterByCurrentUser(on='approver')"),
            &boss_token,
            None,
        )
        .await
        .expect(200);
    assert_eq!(waiting["value"][0]["id"], r["id"]);
    // Without a manager, nobody could approve: the request is refused at once.
    s.delete(&manager_ref).await.expect(204);
    let lee = user(&s, "Lee").await;
    let lee_token = s.token_for(lee.parse().unwrap(), TokenScope::ReadWrite).await;
    s.call(
        Method::POST,
        &format!("{EM}/assignmentRequests"),
        &lee_token,
        Some(json!({"requestType": "userAdd", "assignment": {"accessPackageId": p.0}})),
    )
    .await
    .expect_error(409, "no approver could be found");
}

both_backends!(additional_access_and_reprocess, managers_approve);
