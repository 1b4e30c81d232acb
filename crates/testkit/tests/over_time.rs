//! Approval and extension over time, through the HTTP API on both backends: escalation after
//! the stage's escalation delay, automatic denial at day 14, and a self-service extension.

use chrono::Duration;
use gatehouse_domain::principal::TokenScope;
use gatehouse_testkit::{both_backends, json, TestServer, EM};
use reqwest::Method;
use serde_json::Value;

struct Person {
    id: String,
    token: String,
}

async fn person(s: &TestServer, name: &str, mail: &str) -> Person {
    let id = s.post("/v1.0/users", json!({"displayName": name, "mail": mail})).await.expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let token = s.token_for(id.parse().unwrap(), TokenScope::ReadWrite).await;
    Person { id, token }
}

/// A package (no resource roles) with one members-only policy.
async fn package(s: &TestServer, policy: Value) -> String {
    let catalog = s.post(&format!("{EM}/catalogs"), json!({"displayName": "C"})).await.expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let p = s
        .post(&format!("{EM}/accessPackages"), json!({"displayName": "Wiki", "catalog": {"id": catalog}}))
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut body = policy;
    body["displayName"] = json!("Members");
    body["allowedTargetScope"] = json!("allMemberUsers");
    body["accessPackage"] = json!({"id": p});
    s.post(&format!("{EM}/assignmentPolicies"), body).await.expect(201);
    p
}

async fn request(s: &TestServer, who: &Person, body: Value) -> Value {
    s.call(Method::POST, &format!("{EM}/assignmentRequests"), &who.token, Some(body)).await.expect(201)
}

async fn escalation_then_automatic_denial(s: TestServer) {
    let megan = person(&s, "Megan", "megan@contoso.example").await;
    let alex = person(&s, "Alex", "alex@contoso.example").await;
    let boss = person(&s, "Boss", "boss@contoso.example").await;
    let p = package(
        &s,
        json!({"requestApprovalSettings": {"isApprovalRequiredForAdd": true, "stages": [{
            "durationBeforeAutomaticDenial": "P14D", "isEscalationEnabled": true, "durationBeforeEscalation": "P3D",
            "primaryApprovers": [{"@odata.type": "#microsoft.graph.singleUser", "userId": alex.id}],
            "escalationApprovers": [{"@odata.type": "#microsoft.graph.singleUser", "userId": boss.id}]}]}}),
    )
    .await;
    let r = request(&s, &megan, json!({"requestType": "userAdd", "assignment": {"accessPackageId": p}})).await;
    let id = r["id"].as_str().unwrap();
    let approval = format!("{EM}/accessPackageAssignmentApprovals/{id}");
    let seen = s.call(Method::GET, &approval, &boss.token, None).await;
    assert_eq!(seen.status.as_u16(), 404, "the escalation approver has no say before escalation");
    s.clock.advance(Duration::days(3));
    s.run_workers().await;
    let status = s.call(Method::GET, &format!("{EM}/assignmentRequests/{id}"), &megan.token, None).await.expect(200);
    assert_eq!(status["status"], "PendingApprovalEscalated");
    let stage = s.call(Method::GET, &approval, &boss.token, None).await.expect(200)["stages"][0].clone();
    assert_eq!(stage["assignedToMe"], true);
    // Nobody decides: at day 14 the request is denied automatically.
    s.clock.advance(Duration::days(10));
    s.run_workers().await;
    let r = s.call(Method::GET, &format!("{EM}/assignmentRequests/{id}"), &megan.token, None).await.expect(200);
    assert_eq!(r["state"], "pendingApproval", "day 13: still waiting");
    s.clock.advance(Duration::days(1));
    s.run_workers().await;
    let r = s.call(Method::GET, &format!("{EM}/assignmentRequests/{id}"), &megan.token, None).await.expect(200);
    assert_eq!(r["state"], "denied");
    let stage = s.call(Method::GET, &approval, &megan.token, None).await.expect(200)["stages"][0].clone();
    assert_eq!(stage["status"], "Expired");
    let late = s
        .call(
            Method::PATCH,
            &format!("{approval}/stages/{}", stage["id"].as_str().unwrap()),
            &boss.token,
            Some(json!({"reviewResult": "Approve"})),
        )
        .await;
    late.expect_error(409, "closed");
}

async fn self_service_extension(s: TestServer) {
    let megan = person(&s, "Megan", "megan@contoso.example").await;
    let p = package(
        &s,
        json!({"expiration": {"type": "afterDuration", "duration": "P30D"},
               "requestorSettings": {"enableTargetsToSelfAddAccess": true, "enableTargetsToSelfUpdateAccess": true}}),
    )
    .await;
    request(&s, &megan, json!({"requestType": "userAdd", "assignment": {"accessPackageId": p}})).await;
    s.run_workers().await;
    let mine = s
        .call(Method::GET, &format!("{EM}/assignments/filterByCurrentUser(on='target')"), &megan.token, None)
        .await
        .expect(200);
    let assignment = mine["value"][0].clone();
    let first_end = assignment["schedule"]["expiration"]["endDateTime"].as_str().unwrap().to_owned();
    s.clock.advance(Duration::days(20));
    let other = person(&s, "Other", "other@contoso.example").await;
    let update = json!({"requestType": "userUpdate", "assignment": {"id": assignment["id"]}});
    s.call(Method::POST, &format!("{EM}/assignmentRequests"), &other.token, Some(update.clone()))
        .await
        .expect_error(403, "your own");
    let r = request(&s, &megan, update).await;
    assert_eq!(r["requestType"], "userUpdate");
    s.run_workers().await;
    let r = s
        .call(Method::GET, &format!("{EM}/assignmentRequests/{}", r["id"].as_str().unwrap()), &megan.token, None)
        .await
        .expect(200);
    assert_eq!(r["state"], "delivered");
    let a = s
        .call(Method::GET, &format!("{EM}/assignments/{}", assignment["id"].as_str().unwrap()), &megan.token, None)
        .await
        .expect(200);
    let new_end =
        chrono::DateTime::parse_from_rfc3339(a["schedule"]["expiration"]["endDateTime"].as_str().unwrap()).unwrap();
    let old_end = chrono::DateTime::parse_from_rfc3339(&first_end).unwrap();
    assert_eq!((new_end - old_end).num_days(), 20, "extended to 30 days from the day of the extension");
}

/// Primary approvers who resolve to nobody (a group with no members) hand the stage to the
/// fallback approvers.
async fn fallback_approvers_step_in(s: TestServer) {
    let megan = person(&s, "Megan", "megan@contoso.example").await;
    let backup = person(&s, "Backup", "backup@contoso.example").await;
    let empty = s.post("/v1.0/groups", json!({"displayName": "Nobody yet"})).await.expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let p = package(
        &s,
        json!({"requestApprovalSettings": {"isApprovalRequiredForAdd": true, "stages": [{
            "primaryApprovers": [{"@odata.type": "#microsoft.graph.groupMembers", "groupId": empty}],
            "fallbackPrimaryApprovers": [{"@odata.type": "#microsoft.graph.singleUser", "userId": backup.id}]}]}}),
    )
    .await;
    let r = request(&s, &megan, json!({"requestType": "userAdd", "assignment": {"accessPackageId": p}})).await;
    let id = r["id"].as_str().unwrap();
    let waiting = s
        .call(
            Method::GET,
            &format!("{EM}/accessPackageAssignmentApprovals/filterByCurrentUser(on='approver')"),
            &backup.token,
            None,
        )
        .await
        .expect(200);
    assert_eq!(waiting["value"][0]["id"], id);
    let stage = waiting["value"][0]["stages"][0]["id"].as_str().unwrap().to_owned();
    s.call(
        Method::PATCH,
        &format!("{EM}/accessPackageAssignmentApprovals/{id}/stages/{stage}"),
        &backup.token,
        Some(json!({"reviewResult": "Approve", "justification": "covering"})),
    )
    .await
    .expect(204);
    s.run_workers().await;
    let r = s.call(Method::GET, &format!("{EM}/assignmentRequests/{id}"), &megan.token, None).await.expect(200);
    assert_eq!(r["state"], "delivered");
}

both_backends!(escalation_then_automatic_denial, self_service_extension, fallback_approvers_step_in);
