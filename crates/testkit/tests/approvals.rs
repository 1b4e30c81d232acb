//! Approval over HTTP, on both backends: a guest requests a package and answers the policy's
//! question, sponsors approve or deny stage by stage, and delivery (run by the workers) makes
//! the guest a member of the group. Refused decisions are specific 4xx that write nothing.

use chrono::{DateTime, Utc};
use gatehouse_domain::principal::TokenScope;
use gatehouse_testkit::fixtures::partner::{
    approval_path, as_user, decide, id, ids, org_policy, stage, submit, user_add, world, Person,
};
use gatehouse_testkit::{both_backends, encode, json, TestServer, EM};
use reqwest::Method;
use serde_json::Value;
use uuid::Uuid;

fn time(v: &Value) -> DateTime<Utc> {
    v.as_str().unwrap_or_else(|| panic!("not a time: {v}")).parse().unwrap()
}

async fn guest_requests_and_sponsor_approves(s: TestServer) {
    let w = world(&s).await;
    let policy = org_policy(&s, &w, &w.package, vec![stage("externalSponsors")]).await;

    // What the guest must answer, then the request.
    let needs = s
        .call(
            Method::POST,
            &format!("{EM}/accessPackages/{}/getApplicablePolicyRequirements", w.package),
            &w.ana.token,
            None,
        )
        .await
        .expect(200);
    assert_eq!(needs["value"].as_array().unwrap().len(), 1, "{needs}");
    let first = &needs["value"][0];
    assert_eq!(first["policyId"], policy["id"]);
    assert_eq!(first["isApprovalRequiredForAdd"], true);
    assert_eq!(first["isRequestorJustificationRequired"], true);
    assert_eq!(first["questions"][0]["@odata.type"], "#microsoft.graph.accessPackageTextInputQuestion");

    let created = submit(&s, &w.ana, user_add(&w.package, &policy, " PO-004711 ")).await;
    assert_eq!(created["state"], "pendingApproval");
    assert_eq!(created["status"], "PendingApproval");
    assert_eq!(created["requestType"], "userAdd");
    assert_eq!(created["justification"], "Need the HW spec wiki");
    assert!(created["createdDateTime"].is_string() && created["completedDateTime"].is_null());
    assert_eq!(created["schedule"]["expiration"]["type"], "notSpecified");
    assert_eq!(created["answers"][0]["value"], "PO-004711", "text answers are trimmed");
    assert_eq!(
        created["answers"][0]["answeredQuestion"]["@odata.type"],
        "#microsoft.graph.accessPackageTextInputQuestion"
    );
    assert_eq!(created["customExtensionCalloutInstances"], json!([]));
    assert!(created["@odata.context"].as_str().unwrap().ends_with("assignmentRequests/$entity"));
    let request = id(&created);

    // The sponsor sees it awaiting them; the stage is assigned to them, not to Ana.
    let mine =
        as_user(&s, &w.bob, &format!("{EM}/accessPackageAssignmentApprovals/filterByCurrentUser(on='approver')"))
            .await
            .expect(200);
    assert_eq!(ids(&mine), vec![request.clone()]);
    let stage_v = &mine["value"][0]["stages"][0];
    assert_eq!(stage_v["assignedToMe"], true);
    assert_eq!(stage_v["status"], "InProgress");
    assert_eq!(stage_v["reviewResult"], "NotReviewed");
    assert!(stage_v["reviewedBy"].is_null() && stage_v["displayName"].is_null());
    assert_eq!(stage_v["justification"], "");
    let stage_id = id(stage_v);
    let seen_by_ana = as_user(&s, &w.ana, &approval_path(&request)).await.expect(200);
    assert_eq!(seen_by_ana["stages"][0]["assignedToMe"], false);
    // The same list, percent-encoded as some clients send it.
    let encoded = format!("{EM}/assignmentRequests/filterByCurrentUser%28on%3D%27approver%27%29");
    assert_eq!(ids(&as_user(&s, &w.bob, &encoded).await.expect(200)), vec![request.clone()]);
    // Nobody else can see the approval or the request.
    as_user(&s, &w.megan, &approval_path(&request)).await.expect_error(404, "was not found");
    as_user(&s, &w.megan, &format!("{EM}/assignmentRequests/{request}")).await.expect_error(404, "was not found");

    // Bob with a read-only token may look but not decide.
    let reader = Person { id: w.bob.id.clone(), token: s.token_for(w.bob.id.parse().unwrap(), TokenScope::Read).await };
    // Ana cannot approve her own request; Megan is not an approver, and a request she may not
    // see does not exist for her decision either (as for GET). Nothing is written.
    let before = s.audit_count().await;
    decide(&s, &w.ana, &request, &stage_id, "Approve").await.expect_error(403, "your own request");
    decide(&s, &w.megan, &request, &stage_id, "Approve").await.expect_error(404, "was not found");
    decide(&s, &w.bob, &request, &stage_id, "Maybe").await.expect_error(400, "reviewResult");
    decide(&s, &w.bob, &request, &Uuid::new_v4().to_string(), "Approve").await.expect_error(404, "does not belong");
    decide(&s, &reader, &request, &stage_id, "Approve").await.expect_error(403, "ReadWrite");
    as_user(&s, &w.bob, &format!("{EM}/accessPackageAssignmentApprovals/filterByCurrentUser(on='target')"))
        .await
        .expect_error(400, "unsupported filterByCurrentUser option");
    let path = format!("{}/stages/{stage_id}", approval_path(&request));
    s.call(Method::PATCH, &path, &w.bob.token, Some(json!({"reviewResult": "Approve", "colour": "red"})))
        .await
        .expect_error(400, "colour");
    assert_eq!(s.audit_count().await, before);

    // Bob approves (echoing read-only properties back is fine); a second decision conflicts.
    let body = json!({"id": stage_id, "reviewResult": "approve", "justification": "Known partner engineer",
                      "status": "InProgress", "assignedToMe": true, "reviewedBy": null, "displayName": null});
    s.call(Method::PATCH, &path, &w.bob.token, Some(body)).await.expect(204);
    decide(&s, &w.bob, &request, &stage_id, "Deny").await.expect_error(409, "already closed");
    let stage_v = as_user(&s, &w.bob, &path).await.expect(200);
    assert_eq!(stage_v["reviewResult"], "Approved");
    assert_eq!(stage_v["status"], "Completed");
    assert_eq!(stage_v["assignedToMe"], false);
    assert_eq!(stage_v["justification"], "Known partner engineer");
    assert_eq!(stage_v["reviewedBy"], json!({"id": w.bob.id, "displayName": "Bob Fischer"}));
    assert!(stage_v["reviewedDateTime"].is_string());
    let awaiting = format!("{EM}/accessPackageAssignmentApprovals/filterByCurrentUser(on='approver')");
    assert!(ids(&as_user(&s, &w.bob, &awaiting).await.expect(200)).is_empty());

    let r = as_user(&s, &w.ana, &format!("{EM}/assignmentRequests/{request}")).await.expect(200);
    assert_eq!(r["state"], "delivering");
    assert_eq!(r["status"], "Delivering");

    // The workers deliver: the request and assignment are delivered, Ana is in the group.
    s.run_workers().await;
    let r = s
        .get(&format!("{EM}/assignmentRequests/{request}?$expand=requestor,accessPackage,assignment"))
        .await
        .expect(200);
    assert_eq!(r["state"], "delivered", "{r}");
    assert!(r["completedDateTime"].is_string());
    assert!(r.get("failureReason").is_none());
    assert_eq!(r["accessPackage"]["id"], w.package.as_str());
    let requestor = &r["requestor"];
    assert_eq!(requestor["objectId"], w.ana.id.as_str());
    assert_eq!(requestor["subjectType"], "user");
    assert_eq!(requestor["subjectLifecycle"], "governed");
    assert_eq!(requestor["email"], "ana@fabrikam.example");
    assert_eq!(requestor["connectedOrganization"]["id"], w.org.as_str());
    assert_eq!(r["assignment"]["state"], "delivered");

    let filter = encode(&format!("target/objectId eq '{}'", w.ana.id));
    let list = s
        .get(&format!("{EM}/assignments?$expand=target,accessPackage,assignmentPolicy&$filter={filter}"))
        .await
        .expect(200);
    assert_eq!(list["value"].as_array().unwrap().len(), 1, "{list}");
    let a = &list["value"][0];
    assert_eq!(a["id"], r["assignment"]["id"]);
    assert_eq!(a["state"], "delivered");
    assert_eq!(a["status"], "Delivered");
    assert_eq!(a["target"]["displayName"], "Ana Silva");
    assert_eq!(a["accessPackage"]["id"], w.package.as_str());
    assert_eq!(a["assignmentPolicy"]["id"], policy["id"]);
    let expiration = &a["schedule"]["expiration"];
    assert_eq!(expiration["type"], "afterDateTime");
    let span = time(&expiration["endDateTime"]) - time(&a["schedule"]["startDateTime"]);
    assert_eq!(span, chrono::Duration::days(90));
    let members = s.get(&format!("/v1.0/groups/{}/members", w.group)).await.expect(200);
    assert_eq!(ids(&members), vec![w.ana.id.clone()]);

    // Ana sees her assignment; Megan neither sees it nor lists assignments.
    let assignment = id(a);
    let own = as_user(&s, &w.ana, &format!("{EM}/assignments/filterByCurrentUser(on='target')")).await.expect(200);
    assert_eq!(ids(&own), vec![assignment.clone()]);
    as_user(&s, &w.ana, &format!("{EM}/assignments/{assignment}?$expand=target")).await.expect(200);
    as_user(&s, &w.megan, &format!("{EM}/assignments/{assignment}")).await.expect_error(404, "was not found");
    as_user(&s, &w.megan, &format!("{EM}/assignments")).await.expect_error(403, "entitlement-management role");
    assert!(ids(&as_user(&s, &w.megan, &format!("{EM}/assignments/filterByCurrentUser(on='target')"))
        .await
        .expect(200))
    .is_empty());
    as_user(&s, &w.ana, &format!("{EM}/assignments/filterByCurrentUser(on='targetManager')"))
        .await
        .expect_error(400, "unsupported filterByCurrentUser option");
}

async fn sponsor_denies(s: TestServer) {
    let w = world(&s).await;
    let policy = org_policy(&s, &w, &w.package, vec![stage("externalSponsors")]).await;
    let request = id(&submit(&s, &w.ana, user_add(&w.package, &policy, "PO-000001")).await);
    let approval = as_user(&s, &w.bob, &approval_path(&request)).await.expect(200);
    assert_eq!(approval["id"], request.as_str());
    let stage_id = id(&approval["stages"][0]);
    decide(&s, &w.bob, &request, &stage_id, "DENY").await.expect(204);

    let r = as_user(&s, &w.ana, &format!("{EM}/assignmentRequests/{request}?$expand=assignment")).await.expect(200);
    assert_eq!(r["state"], "denied");
    assert_eq!(r["status"], "Denied");
    assert!(r["completedDateTime"].is_string());
    assert!(r["assignment"].is_null(), "a denied request creates no assignment: {r}");
    let stages = as_user(&s, &w.ana, &format!("{}/stages", approval_path(&request))).await.expect(200);
    assert_eq!(stages["value"][0]["reviewResult"], "Denied");
    assert_eq!(stages["value"][0]["reviewedBy"]["id"], w.bob.id.as_str());
    decide(&s, &w.bob, &request, &stage_id, "Approve").await.expect_error(409, "");

    s.run_workers().await;
    assert!(ids(&s.get(&format!("{EM}/assignments")).await.expect(200)).is_empty());
    assert!(ids(&s.get(&format!("/v1.0/groups/{}/members", w.group)).await.expect(200)).is_empty());
    let denied = s.get(&format!("{EM}/assignmentRequests?$filter={}", encode("state eq 'denied'"))).await.expect(200);
    assert_eq!(ids(&denied), vec![request]);
}

async fn two_stages_in_order(s: TestServer) {
    let w = world(&s).await;
    let policy = org_policy(&s, &w, &w.package, vec![stage("externalSponsors"), stage("internalSponsors")]).await;
    let request = id(&submit(&s, &w.ana, user_add(&w.package, &policy, "PO-000002")).await);
    // Alex decides stage 2: he may read the approval, but nothing is his to decide yet.
    let awaiting = format!("{EM}/accessPackageAssignmentApprovals/filterByCurrentUser(on='approver')");
    assert!(ids(&as_user(&s, &w.alex, &awaiting).await.expect(200)).is_empty());
    let approval = as_user(&s, &w.alex, &approval_path(&request)).await.expect(200);
    let (first, second) = (id(&approval["stages"][0]), id(&approval["stages"][1]));
    assert_eq!(approval["stages"][0]["status"], "InProgress");
    assert_eq!(approval["stages"][1]["status"], "Initializing");
    assert_eq!(approval["stages"][0]["assignedToMe"], false);
    assert_eq!(approval["stages"][1]["assignedToMe"], false);

    let before = s.audit_count().await;
    decide(&s, &w.alex, &request, &second, "Approve").await.expect_error(409, "not open yet");
    assert_eq!(s.audit_count().await, before);

    decide(&s, &w.bob, &request, &first, "Approve").await.expect(204);
    let r = as_user(&s, &w.ana, &format!("{EM}/assignmentRequests/{request}")).await.expect(200);
    assert_eq!(r["state"], "pendingApproval", "one stage of two approved");
    let mine = as_user(&s, &w.alex, &awaiting).await.expect(200);
    assert_eq!(ids(&mine), vec![request.clone()]);
    assert_eq!(mine["value"][0]["stages"][1]["assignedToMe"], true);
    decide(&s, &w.bob, &request, &second, "Approve").await.expect_error(403, "not an approver");
    decide(&s, &w.alex, &request, &second, "Approve").await.expect(204);
    let r = as_user(&s, &w.ana, &format!("{EM}/assignmentRequests/{request}")).await.expect(200);
    assert_eq!(r["state"], "delivering");

    s.run_workers().await;
    let r = as_user(&s, &w.ana, &format!("{EM}/assignmentRequests/{request}")).await.expect(200);
    assert_eq!(r["state"], "delivered");
}

both_backends!(guest_requests_and_sponsor_approves, sponsor_denies, two_stages_in_order);
