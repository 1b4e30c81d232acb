//! The request lifecycle over HTTP, on both backends: guests request packages and answer the
//! policy's questions, sponsors approve or deny stage by stage, delivery (run by the workers)
//! makes the guest a member of the group; refusals are specific 4xx that write nothing.

use chrono::{DateTime, Utc};
use gatehouse_domain::principal::TokenScope;
use gatehouse_testkit::{both_backends, encode, json, TestServer, EM};
use reqwest::Method;
use serde_json::Value;
use uuid::Uuid;

struct Person {
    id: String,
    token: String,
}

/// A connected organization (Fabrikam) with an external sponsor (Bob, a guest) and an internal
/// sponsor (Alex, a member); Ana, a Fabrikam guest who requests; Megan, a member; a published,
/// externally visible catalog holding the group; a package granting the group's Member role.
struct World {
    org: String,
    catalog: String,
    group: String,
    package: String,
    ana: Person,
    bob: Person,
    alex: Person,
    megan: Person,
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap_or_else(|| panic!("no id in {v}")).to_owned()
}

async fn person(s: &TestServer, body: Value) -> Person {
    let u = s.post("/v1.0/users", body).await.expect(201);
    let token = s.token_for(id(&u).parse().unwrap(), TokenScope::ReadWrite).await;
    Person { id: id(&u), token }
}

async fn sponsor(s: &TestServer, org: &str, kind: &str, user: &str) {
    s.post(
        &format!("{EM}/connectedOrganizations/{org}/{kind}/$ref"),
        json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/users/{user}")}),
    )
    .await
    .expect(204);
}

/// A package in the catalog granting the group's Member role.
async fn package(s: &TestServer, w: &World, name: &str) -> String {
    let p = s
        .post(&format!("{EM}/accessPackages"), json!({"displayName": name, "catalog": {"id": w.catalog}}))
        .await
        .expect(201);
    let resources = s.get(&format!("{EM}/catalogs/{}/resources?$expand=roles,scopes", w.catalog)).await.expect(200);
    let resource = &resources["value"][0];
    let role = resource["roles"].as_array().unwrap().iter().find(|r| r["displayName"] == "Member").unwrap();
    let scope = &resource["scopes"][0];
    s.post(
        &format!("{EM}/accessPackages/{}/resourceRoleScopes", id(&p)),
        json!({"role": {"id": role["id"], "originSystem": "AadGroup", "originId": role["originId"], "resource": {"id": resource["id"]}},
               "scope": {"id": scope["id"], "originId": scope["originId"], "originSystem": "AadGroup"}}),
    )
    .await
    .expect(201);
    id(&p)
}

async fn world(s: &TestServer) -> World {
    let group = s.post("/v1.0/groups", json!({"displayName": "Cross-Org Team"})).await.expect(201);
    let org = s
        .post(
            &format!("{EM}/connectedOrganizations"),
            json!({"displayName": "Fabrikam", "identitySources": [{"@odata.type": "#microsoft.graph.domainIdentitySource",
                   "domainName": "fabrikam.example", "displayName": "fabrikam.example"}]}),
        )
        .await
        .expect(201);
    let org = id(&org);
    let guest = |name: &str, mail: &str| json!({"displayName": name, "mail": mail, "userType": "Guest", "connectedOrganizationId": org});
    let ana = person(s, guest("Ana Silva", "ana@fabrikam.example")).await;
    let bob = person(s, guest("Bob Fischer", "bob@fabrikam.example")).await;
    let alex = person(s, json!({"displayName": "Alex Wilber", "mail": "alex@contoso.example"})).await;
    let megan = person(s, json!({"displayName": "Megan Bowen", "mail": "megan@contoso.example"})).await;
    sponsor(s, &org, "externalSponsors", &bob.id).await;
    sponsor(s, &org, "internalSponsors", &alex.id).await;
    let catalog = s
        .post(
            &format!("{EM}/catalogs"),
            json!({"displayName": "Partner extranet", "state": "published", "isExternallyVisible": true}),
        )
        .await
        .expect(201);
    let catalog = id(&catalog);
    let added = s
        .post(
            &format!("{EM}/resourceRequests"),
            json!({"requestType": "adminAdd", "catalog": {"id": catalog},
                   "resource": {"displayName": "Cross-Org Team", "originId": group["id"], "originSystem": "AadGroup"}}),
        )
        .await
        .expect(201);
    assert_eq!(added["state"], "delivered");
    let mut w = World { org, catalog, group: id(&group), package: String::new(), ana, bob, alex, megan };
    w.package = package(s, &w, "Project Tango").await;
    w
}

fn stage(approvers: &str) -> Value {
    json!({"durationBeforeAutomaticDenial": "P14D", "primaryApprovers": [{"@odata.type": format!("#microsoft.graph.{approvers}")}]})
}

/// A policy for Fabrikam users with these approval stages, a required PO-number question,
/// required justification and a 90-day expiry. Returns the policy.
async fn org_policy(s: &TestServer, w: &World, package: &str, stages: Vec<Value>) -> Value {
    s.post(
        &format!("{EM}/assignmentPolicies"),
        json!({
            "displayName": "Fabrikam engineers",
            "description": "Partner engineers on Tango",
            "allowedTargetScope": "specificConnectedOrganizationUsers",
            "specificAllowedTargets": [{"@odata.type": "#microsoft.graph.connectedOrganizationMembers", "connectedOrganizationId": w.org}],
            "expiration": {"type": "afterDuration", "duration": "P90D"},
            "requestorSettings": {"enableTargetsToSelfAddAccess": true, "enableTargetsToSelfRemoveAccess": true},
            "requestApprovalSettings": {"isApprovalRequiredForAdd": !stages.is_empty(), "isApprovalRequiredForUpdate": false,
                "isRequestorJustificationRequired": true, "stages": stages},
            "questions": [{"@odata.type": "#microsoft.graph.accessPackageTextInputQuestion", "sequence": 1, "isRequired": true,
                           "text": "Purchase order number?", "regexPattern": "^PO-[0-9]{6}$"}],
            "accessPackage": {"id": package}
        }),
    )
    .await
    .expect(201)
}

fn answer(policy: &Value, value: &str) -> Value {
    json!([{"@odata.type": "#microsoft.graph.accessPackageAnswerString", "value": value,
            "answeredQuestion": {"@odata.type": "#microsoft.graph.accessPackageTextInputQuestion", "id": policy["questions"][0]["id"]}}])
}

fn user_add(package: &str, policy: &Value, po: &str) -> Value {
    json!({"requestType": "userAdd", "assignment": {"accessPackageId": package, "assignmentPolicyId": policy["id"]},
           "justification": "Need the HW spec wiki", "answers": answer(policy, po)})
}

async fn submit(s: &TestServer, who: &Person, body: Value) -> Value {
    s.call(Method::POST, &format!("{EM}/assignmentRequests"), &who.token, Some(body)).await.expect(201)
}

fn approval_path(request: &str) -> String {
    format!("{EM}/accessPackageAssignmentApprovals/{request}")
}

async fn decide(s: &TestServer, who: &Person, request: &str, stage: &str, result: &str) -> gatehouse_testkit::Reply {
    let path = format!("{}/stages/{stage}", approval_path(request));
    let body = json!({"reviewResult": result, "justification": "Known partner engineer"});
    s.call(Method::PATCH, &path, &who.token, Some(body)).await
}

async fn as_user(s: &TestServer, who: &Person, path: &str) -> gatehouse_testkit::Reply {
    s.call(Method::GET, path, &who.token, None).await
}

fn time(v: &Value) -> DateTime<Utc> {
    v.as_str().unwrap_or_else(|| panic!("not a time: {v}")).parse().unwrap()
}

fn ids(list: &Value) -> Vec<String> {
    list["value"].as_array().unwrap_or_else(|| panic!("no value in {list}")).iter().map(id).collect()
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
    // Ana cannot approve her own request; Megan is not an approver. Nothing is written.
    let before = s.audit_count().await;
    decide(&s, &w.ana, &request, &stage_id, "Approve").await.expect_error(403, "your own request");
    decide(&s, &w.megan, &request, &stage_id, "Approve").await.expect_error(403, "not an approver");
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
    as_user(&s, &w.ana, &format!("{EM}/assignments/filterByCurrentUser(on='createdBy')"))
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

/// A group connector whose directory is down.
struct Unreachable;

impl gatehouse_workers::connector::Connector for Unreachable {
    fn origin_system(&self) -> &str {
        "AadGroup"
    }
    fn grant<'a>(&'a self, _: &'a gatehouse_app::delivery::Grant) -> gatehouse_workers::connector::ConnectorFuture<'a> {
        Box::pin(async { Err(gatehouse_workers::connector::ConnectorError("the directory is unreachable".into())) })
    }
    fn revoke<'a>(
        &'a self,
        g: &'a gatehouse_app::delivery::Grant,
    ) -> gatehouse_workers::connector::ConnectorFuture<'a> {
        self.grant(g)
    }
}

async fn failed_delivery_is_reprocessed(s: TestServer) {
    let w = world(&s).await;
    let policy = org_policy(&s, &w, &w.package, vec![]).await;
    let created = submit(&s, &w.ana, user_add(&w.package, &policy, "PO-000006")).await;
    assert_eq!(created["state"], "delivering", "no approval needed");
    let request = id(&created);
    let down = gatehouse_workers::Workers::new(s.app.clone(), std::sync::Arc::new(gatehouse_workers::LogMailer))
        .with_connector(std::sync::Arc::new(Unreachable));
    let path = format!("{EM}/assignmentRequests/{request}");
    for _ in 0..10 {
        down.run_until_idle().await.expect("workers");
        if as_user(&s, &w.ana, &path).await.expect(200)["state"] != "delivering" {
            break;
        }
        s.clock.advance(chrono::Duration::hours(1)); // past the retry backoff
    }
    let r = as_user(&s, &w.ana, &format!("{path}?$expand=assignment")).await.expect(200);
    assert_eq!(r["state"], "deliveryFailed", "{r}");
    assert_eq!(r["status"], "DeliveryFailed");
    assert!(r["failureReason"].as_str().unwrap().contains("unreachable"), "{r}");
    assert_eq!(r["assignment"]["state"], "deliveryFailed");

    let reprocess = format!("{path}/reprocess");
    s.call(Method::POST, &reprocess, &w.ana.token, None).await.expect_error(403, "Identity Governance Administrator");
    let reply = s.call(Method::POST, &reprocess, &s.admin_token, None).await;
    assert_eq!(reply.status.as_u16(), 202, "{}", reply.body);
    assert_eq!(as_user(&s, &w.ana, &path).await.expect(200)["state"], "delivering");
    s.run_workers().await;
    let r = as_user(&s, &w.ana, &format!("{path}?$expand=assignment")).await.expect(200);
    assert_eq!(r["state"], "delivered", "{r}");
    assert!(r.get("failureReason").is_none());
    assert_eq!(r["assignment"]["state"], "delivered");
    assert_eq!(ids(&s.get(&format!("/v1.0/groups/{}/members", w.group)).await.expect(200)), vec![w.ana.id.clone()]);
    s.post(&reprocess, json!({})).await.expect_error(409, "delivery failed");
}

async fn my_access_views(s: TestServer) {
    let w = world(&s).await;
    let policy = org_policy(&s, &w, &w.package, vec![stage("externalSponsors")]).await;
    // A members' package, and a hidden package for Fabrikam.
    let members_pkg = package(&s, &w, "Contoso wiki").await;
    s.post(
        &format!("{EM}/assignmentPolicies"),
        json!({"displayName": "All members", "allowedTargetScope": "allMemberUsers", "accessPackage": {"id": members_pkg}}),
    )
    .await
    .expect(201);
    let hidden = package(&s, &w, "Secret project").await;
    s.patch(&format!("{EM}/accessPackages/{hidden}"), json!({"isHidden": true})).await.expect(204);
    let hidden_policy = org_policy(&s, &w, &hidden, vec![]).await;

    let allowed = format!("{EM}/accessPackages/filterByCurrentUser(on='allowedRequestor')");
    let for_ana = as_user(&s, &w.ana, &allowed).await.expect(200);
    assert_eq!(ids(&for_ana), vec![w.package.clone()], "Ana may request Tango; the hidden one is never listed");
    assert!(for_ana["value"][0]["myAccessLink"].is_string());
    let for_megan = as_user(&s, &w.megan, &allowed).await.expect(200);
    assert_eq!(ids(&for_megan), vec![members_pkg.clone()]);
    as_user(&s, &w.megan, &format!("{allowed}?$filter={}", encode("displayName eq 'x'")))
        .await
        .expect_error(400, "not supported");

    // The hidden package is requestable by its direct link for those it admits.
    let needs = |who: &'static str, pkg: String| {
        let (s, w) = (&s, &w);
        async move {
            let p = if who == "ana" { &w.ana } else { &w.megan };
            let path = format!("{EM}/accessPackages/{pkg}/getApplicablePolicyRequirements");
            s.call(Method::POST, &path, &p.token, None).await.expect(200)
        }
    };
    let hidden_needs = needs("ana", hidden.clone()).await;
    assert_eq!(hidden_needs["value"].as_array().unwrap().len(), 1);
    assert_eq!(hidden_needs["value"][0]["policyId"], hidden_policy["id"]);
    assert_eq!(hidden_needs["value"][0]["policyDisplayName"], "Fabrikam engineers");
    assert_eq!(hidden_needs["value"][0]["policyDescription"], "Partner engineers on Tango");
    assert_eq!(hidden_needs["value"][0]["isApprovalRequiredForAdd"], false);
    assert_eq!(hidden_needs["value"][0]["allowCustomAssignmentSchedule"], false);
    assert!(hidden_needs["value"][0]["schedule"].is_null());
    assert_eq!(hidden_needs["value"][0]["questions"][0]["text"], "Purchase order number?");
    assert_eq!(hidden_needs["value"][0]["questions"][0]["regexPattern"], "^PO-[0-9]{6}$");
    assert_eq!(needs("megan", hidden.clone()).await["value"], json!([]));
    let path = format!("{EM}/accessPackages/{}/getApplicablePolicyRequirements", Uuid::new_v4());
    s.call(Method::POST, &path, &w.ana.token, None).await.expect_error(404, "was not found");

    // Each caller's requests, and only theirs.
    let ana_request = id(&submit(&s, &w.ana, user_add(&w.package, &policy, "PO-000005")).await);
    let megan_body = json!({"requestType": "userAdd", "assignment": {"accessPackageId": members_pkg}});
    let megan_request = id(&submit(&s, &w.megan, megan_body).await);
    for (who, expected) in [(&w.ana, &ana_request), (&w.megan, &megan_request)] {
        for on in ["target", "createdBy"] {
            let path = format!("{EM}/assignmentRequests/filterByCurrentUser(on='{on}')?$expand=requestor");
            let mine = as_user(&s, who, &path).await.expect(200);
            assert_eq!(ids(&mine), vec![expected.clone()], "{on}");
            assert_eq!(mine["value"][0]["requestor"]["objectId"], who.id.as_str());
        }
    }
    let requestor = s.get(&format!("{EM}/assignmentRequests/{megan_request}?$expand=requestor")).await.expect(200);
    assert_eq!(requestor["requestor"]["subjectLifecycle"], "notGoverned");
    assert!(requestor["requestor"]["connectedOrganization"].is_null());
    let approver = format!("{EM}/assignmentRequests/filterByCurrentUser(on='approver')");
    assert_eq!(ids(&as_user(&s, &w.bob, &approver).await.expect(200)), vec![ana_request.clone()]);
    assert!(ids(&as_user(&s, &w.ana, &approver).await.expect(200)).is_empty());

    // Administrators filter the whole list.
    let filter = encode(&format!("requestor/objectId eq '{}'", w.megan.id));
    assert_eq!(
        ids(&s.get(&format!("{EM}/assignmentRequests?$filter={filter}")).await.expect(200)),
        vec![megan_request]
    );
    let filter = encode(&format!("accessPackage/id eq '{}' and requestType eq 'userAdd'", w.package));
    let by_package =
        s.get(&format!("{EM}/assignmentRequests?$filter={filter}&$expand=accessPackage")).await.expect(200);
    assert_eq!(ids(&by_package), vec![ana_request]);
    assert_eq!(by_package["value"][0]["accessPackage"]["displayName"], "Project Tango");
    s.get(&format!("{EM}/assignmentRequests?$expand=catalog")).await.expect_error(400, "cannot expand");
}

both_backends!(
    guest_requests_and_sponsor_approves,
    sponsor_denies,
    two_stages_in_order,
    refusals_write_nothing,
    admin_adds_an_unknown_external_user,
    requestor_cancels,
    failed_delivery_is_reprocessed,
    my_access_views,
);
