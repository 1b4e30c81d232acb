//! Submitting requests over HTTP, on both backends: refusals are specific 4xx that write
//! nothing, administrators assign unknown external users, requestors cancel, and administrators
//! delete the records of closed requests (never one still open or backing active access).

use gatehouse_domain::principal::TokenScope;
use gatehouse_testkit::fixtures::partner::{
    answer, approval_path, as_user, decide, id, ids, org_policy, package, stage, submit, user_add, world,
};
use gatehouse_testkit::{both_backends, encode, json, TestServer, EM};
use reqwest::Method;
use serde_json::Value;
use uuid::Uuid;

async fn refusals_write_nothing(s: TestServer) {
    let w = world(&s).await;
    let policy = org_policy(&s, &w, &w.package, vec![stage("externalSponsors")]).await;
    let requests = format!("{EM}/assignmentRequests");
    let refused = |who: &'static str, body: Value, status: u16, needle: &'static str| {
        let (s, w, requests) = (&s, &w, &requests);
        async move {
            let person = if who == "ana" { &w.ana } else { &w.megan };
            let before = s.audit_count().await;
            s.call(Method::POST, requests, &person.token, Some(body)).await.expect_error(status, needle);
            assert_eq!(s.audit_count().await, before, "refused with {needle}, yet something was written");
        }
    };
    // A member asking for a Fabrikam-only package.
    let unnamed = json!({"requestType": "userAdd", "assignment": {"accessPackageId": w.package},
        "justification": "x", "answers": answer(&policy, "PO-123456")});
    refused("megan", unnamed, 403, "none of its policies applies to you").await;
    refused("megan", user_add(&w.package, &policy, "PO-123456"), 403, "does not apply to you").await;
    let no_answer =
        json!({"requestType": "userAdd", "assignment": {"accessPackageId": w.package}, "justification": "x"});
    refused("ana", no_answer, 400, "is required").await;
    refused("ana", user_add(&w.package, &policy, "PO-12"), 400, "must match the pattern").await;
    let mut unjustified = user_add(&w.package, &policy, "PO-123456");
    unjustified.as_object_mut().unwrap().remove("justification");
    refused("ana", unjustified, 400, "justification is required").await;
    let admin_add = json!({"requestType": "adminAdd", "assignment": {"accessPackageId": w.package,
        "assignmentPolicyId": policy["id"], "targetId": w.megan.id}});
    refused("ana", admin_add, 403, "adminAdd needs").await;
    let unknown = json!({"requestType": "userAdd", "assignment": {"accessPackageId": Uuid::new_v4()}});
    refused("ana", unknown, 404, "was not found").await;
    refused(
        "ana",
        json!({"requestType": "userAdd", "assignment": {"accessPackageId": w.package}, "colour": 1}),
        400,
        "colour",
    )
    .await;

    // A read-only token may look but not ask.
    let reader = s.token_for(w.ana.id.parse().unwrap(), TokenScope::Read).await;
    let before = s.audit_count().await;
    s.call(Method::POST, &requests, &reader, Some(user_add(&w.package, &policy, "PO-123456")))
        .await
        .expect_error(403, "ReadWrite");
    assert_eq!(s.audit_count().await, before);

    // A second open request for the same package.
    let first = submit(&s, &w.ana, user_add(&w.package, &policy, "PO-123456")).await;
    refused("ana", user_add(&w.package, &policy, "PO-123456"), 409, "already open").await;
    let listed = s.get(&requests).await.expect(200);
    assert_eq!(ids(&listed), vec![id(&first)], "only the accepted request exists");
    // Malformed and unknown ids.
    as_user(&s, &w.ana, &format!("{requests}/not-a-guid")).await.expect_error(400, "not a valid");
    as_user(&s, &w.ana, &format!("{requests}/{}", Uuid::new_v4())).await.expect_error(404, "was not found");
    as_user(&s, &w.ana, &format!("{requests}/filterByCurrentUser(on='everyone')"))
        .await
        .expect_error(400, "unsupported filterByCurrentUser option");
    // Only administrators list every request or reprocess.
    as_user(&s, &w.ana, &requests).await.expect_error(403, "entitlement-management role");
    s.call(Method::POST, &format!("{requests}/{}/reprocess", id(&first)), &w.ana.token, None)
        .await
        .expect_error(403, "Identity Governance Administrator");
    s.post(&format!("{requests}/{}/reprocess", id(&first)), json!({})).await.expect_error(409, "delivery failed");
}

async fn admin_adds_an_unknown_external_user(s: TestServer) {
    let w = world(&s).await;
    let package = package(&s, &w, "Open partner portal").await;
    let policy = s
        .post(
            &format!("{EM}/assignmentPolicies"),
            json!({"displayName": "Any external user", "allowedTargetScope": "allExternalUsers",
                   "expiration": {"type": "afterDuration", "duration": "P30D"},
                   "requestApprovalSettings": {"isApprovalRequiredForAdd": false, "isApprovalRequiredForUpdate": false, "stages": []},
                   "accessPackage": {"id": package}}),
        )
        .await
        .expect(201);
    let body = json!({"requestType": "AdminAdd", "assignment": {"accessPackageId": package, "assignmentPolicyId": policy["id"],
        "target": {"email": "New@Unknown.example"}}});
    let reply = s.post(&format!("{EM}/assignmentRequests"), body).await;
    let location = reply.headers.get("location").map(|l| l.to_str().unwrap().to_owned());
    let created = reply.expect(201);
    assert_eq!(created["requestType"], "adminAdd");
    assert_eq!(created["state"], "delivering");
    let request = id(&created);
    assert_eq!(location, Some(format!("{}{EM}/assignmentRequests/{request}", s.base_url)));

    let users = s.get(&format!("/v1.0/users?$filter={}", encode("mail eq 'new@unknown.example'"))).await.expect(200);
    let guest = &users["value"][0];
    assert_eq!(guest["userType"], "Guest", "{users}");
    assert_eq!(guest["externalUserState"], "PendingAcceptance");
    let orgs =
        s.get(&format!("{EM}/connectedOrganizations?$filter={}", encode("state eq 'proposed'"))).await.expect(200);
    assert_eq!(orgs["value"].as_array().unwrap().len(), 1, "{orgs}");
    assert_eq!(orgs["value"][0]["displayName"], "unknown.example");
    assert_eq!(orgs["value"][0]["identitySources"][0]["domainName"], "unknown.example");
    assert_eq!(guest["connectedOrganizationId"], orgs["value"][0]["id"]);

    let r = s.get(&format!("{EM}/assignmentRequests/{request}?$expand=requestor")).await.expect(200);
    assert_eq!(r["requestor"]["objectId"], guest["id"]);
    assert_eq!(r["requestor"]["email"], "new@unknown.example");
    s.run_workers().await;
    let r = s.get(&format!("{EM}/assignmentRequests/{request}?$expand=assignment")).await.expect(200);
    assert_eq!(r["state"], "delivered");
    assert_eq!(r["assignment"]["state"], "delivered");
    let members = s.get(&format!("/v1.0/groups/{}/members", w.group)).await.expect(200);
    assert_eq!(ids(&members), vec![id(guest)]);
    let by_package = s
        .get(&format!(
            "{EM}/assignments?$filter={}",
            encode(&format!("accessPackage/id eq '{package}' and state eq 'delivered'"))
        ))
        .await
        .expect(200);
    assert_eq!(by_package["value"].as_array().unwrap().len(), 1);
}

async fn requestor_cancels(s: TestServer) {
    let w = world(&s).await;
    let policy = org_policy(&s, &w, &w.package, vec![stage("externalSponsors")]).await;
    let request = id(&submit(&s, &w.ana, user_add(&w.package, &policy, "PO-000003")).await);
    let cancel = format!("{EM}/assignmentRequests/{request}/cancel");
    // A stranger learns nothing (404, as for GET); an approver is told why not (403).
    s.call(Method::POST, &cancel, &w.megan.token, None).await.expect_error(404, "was not found");
    s.call(Method::POST, &cancel, &w.bob.token, None).await.expect_error(403, "only the requestor");
    s.call(Method::POST, &cancel, &w.ana.token, None).await.expect(204);
    let r = as_user(&s, &w.ana, &format!("{EM}/assignmentRequests/{request}")).await.expect(200);
    assert_eq!(r["state"], "canceled");
    assert_eq!(r["status"], "Canceled");
    let before = s.audit_count().await;
    s.call(Method::POST, &cancel, &w.ana.token, None).await.expect_error(409, "cannot be canceled");
    assert_eq!(s.audit_count().await, before);
    // The sponsor has nothing left to decide.
    let awaiting = format!("{EM}/accessPackageAssignmentApprovals/filterByCurrentUser(on='approver')");
    assert!(ids(&as_user(&s, &w.bob, &awaiting).await.expect(200)).is_empty());
    let stage_v = &as_user(&s, &w.bob, &approval_path(&request)).await.expect(200)["stages"][0];
    assert_eq!(stage_v["status"], "Expired");
    decide(&s, &w.bob, &request, &id(stage_v), "Approve").await.expect_error(409, "");
    // A new request may be made once the old one is closed.
    submit(&s, &w.ana, user_add(&w.package, &policy, "PO-000004")).await;
}

/// `DELETE assignmentRequests/{id}`: administrators only; a request still open is canceled
/// first, one being delivered waits, one whose assignment is active stays (it is the record of
/// why the access is held). Deleting never touches the assignment, and the audit log keeps the
/// request's summary. Every refusal writes nothing.
async fn only_closed_requests_are_deleted(s: TestServer) {
    let w = world(&s).await;
    let policy = org_policy(&s, &w, &w.package, vec![stage("externalSponsors")]).await;
    // Ana keeps her account when her only assignment ends (no external-user lifecycle here).
    s.patch(&format!("{EM}/settings"), json!({"externalUserLifecycleAction": "none"})).await.expect(204);
    let requests = format!("{EM}/assignmentRequests");
    let admin = s.app.authenticate(&s.admin_token).await.unwrap();
    let admin_reader = s.token_for(admin.user_id, TokenScope::Read).await;
    let refused = |request: String, token: String, status: u16, needle: &'static str| {
        let (s, requests) = (&s, &requests);
        async move {
            let before = s.audit_count().await;
            s.call(Method::DELETE, &format!("{requests}/{request}"), &token, None).await.expect_error(status, needle);
            assert_eq!(s.audit_count().await, before, "refused with {needle}, yet something was written");
        }
    };
    let delete = |request: String| {
        let (s, requests) = (&s, &requests);
        async move {
            let before = s.audit_count().await;
            s.delete(&format!("{requests}/{request}")).await.expect(204);
            assert_eq!(s.audit_count().await, before + 1, "one audit record per delete");
            s.get(&format!("{requests}/{request}")).await.expect_error(404, "was not found");
        }
    };

    // Open: the requestor herself may not delete it, the administrator must cancel it first.
    let request = id(&submit(&s, &w.ana, user_add(&w.package, &policy, "PO-000008")).await);
    let admin_token = s.admin_token.clone();
    refused(request.clone(), w.ana.token.clone(), 403, "Identity Governance Administrator").await;
    refused(request.clone(), admin_reader, 403, "ReadWrite").await;
    refused(request.clone(), admin_token.clone(), 409, "pendingApproval; cancel it first").await;
    // Approved and being delivered: it can be neither canceled nor deleted yet.
    let stage_id = id(&as_user(&s, &w.bob, &approval_path(&request)).await.expect(200)["stages"][0]);
    decide(&s, &w.bob, &request, &stage_id, "Approve").await.expect(204);
    refused(request.clone(), admin_token.clone(), 409, "delivering; it can be deleted once it is closed").await;
    // Delivered: the request is why Ana holds the package, so it stays while she does.
    s.run_workers().await;
    let r = s.get(&format!("{requests}/{request}?$expand=assignment")).await.expect(200);
    assert_eq!(r["state"], "delivered", "{r}");
    let assignment = id(&r["assignment"]);
    refused(request.clone(), admin_token.clone(), 409, "is still active; remove the assignment first").await;
    refused("not-a-guid".into(), admin_token.clone(), 400, "not a valid assignmentRequest id").await;
    refused(Uuid::new_v4().to_string(), admin_token.clone(), 404, "was not found").await;
    assert_eq!(s.get(&format!("{requests}/{request}")).await.expect(200)["state"], "delivered");

    // Once the assignment has ended, both the add and the removal may go.
    let removal = json!({"requestType": "adminRemove", "assignment": {"id": assignment}});
    let removal = id(&s.post(&requests, removal).await.expect(201));
    s.run_workers().await;
    assert_eq!(s.get(&format!("{requests}/{removal}")).await.expect(200)["state"], "delivered");
    delete(request.clone()).await;
    delete(removal.clone()).await;
    refused(request.clone(), admin_token.clone(), 404, "was not found").await;
    // The assignment is untouched: still Ana's, expired, and the group membership is gone as
    // the removal left it.
    let a = as_user(&s, &w.ana, &format!("{EM}/assignments/{assignment}")).await.expect(200);
    assert_eq!(a["state"], "expired", "{a}");
    let own = as_user(&s, &w.ana, &format!("{EM}/assignments/filterByCurrentUser(on='target')")).await.expect(200);
    assert_eq!(ids(&own), vec![assignment.clone()]);
    assert!(ids(&s.get(&format!("/v1.0/groups/{}/members", w.group)).await.expect(200)).is_empty());
    // The audit log keeps what the request was.
    let filter = encode(&format!("activity eq 'assignmentRequest.delete' and targetId eq '{request}'"));
    let records = s.get(&format!("/v1.0/gatehouse/auditRecords?$filter={filter}")).await.expect(200);
    assert_eq!(records["value"].as_array().unwrap().len(), 1, "{records}");
    let record = &records["value"][0];
    assert_eq!(record["targetType"], "assignmentRequest");
    assert_eq!(record["actorId"], admin.user_id.to_string());
    assert!(record["after"].is_null(), "{record}");
    let before = &record["before"];
    assert_eq!(before["state"], "delivered", "{record}");
    assert_eq!(before["requestType"], "userAdd");
    assert_eq!(before["targetId"], w.ana.id.as_str());
    assert_eq!(before["requestorId"], w.ana.id.as_str());
    assert_eq!(before["assignmentId"], assignment.as_str());
    assert_eq!(before["stages"][0]["decision"]["verdict"], "Approve");

    // Denied and canceled requests changed nothing: they may go at once.
    let denied = id(&submit(&s, &w.ana, user_add(&w.package, &policy, "PO-000009")).await);
    let stage_id = id(&as_user(&s, &w.bob, &approval_path(&denied)).await.expect(200)["stages"][0]);
    decide(&s, &w.bob, &denied, &stage_id, "Deny").await.expect(204);
    delete(denied.clone()).await;
    let canceled = id(&submit(&s, &w.ana, user_add(&w.package, &policy, "PO-000010")).await);
    s.call(Method::POST, &format!("{requests}/{canceled}/cancel"), &w.ana.token, None).await.expect(204);
    delete(canceled.clone()).await;
    assert!(ids(&s.get(&requests).await.expect(200)).is_empty(), "every request was deleted");
    // Approvers no longer see the deleted approvals either.
    as_user(&s, &w.bob, &approval_path(&denied)).await.expect_error(404, "was not found");
}

both_backends!(
    refusals_write_nothing,
    admin_adds_an_unknown_external_user,
    requestor_cancels,
    only_closed_requests_are_deleted,
);
