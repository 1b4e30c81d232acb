//! Custom extensions in Graph's shape, called at the stages a policy names, signed as webhooks
//! and received by a real receiver that verifies the signatures: a request held at
//! `assignmentRequestCreated` until the endpoint resumes it, denies it, or lets the wait run out;
//! calls at grant and 14 days before expiry; and the refusals that keep the settings coherent.

use gatehouse_testkit::fixtures::partner::{self, as_user, id, submit, World};
use gatehouse_testkit::targets::WebhookPeer;
use gatehouse_testkit::{both_backends, json, TestServer, EM};
use serde_json::Value;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

async fn extension(s: &TestServer, w: &World, body: Value) -> Value {
    s.post(&format!("{EM}/catalogs/{}/customWorkflowExtensions", w.catalog), body).await.expect(201)
}

fn request_ext(hook: &WebhookPeer, path: &str, wait: bool) -> Value {
    let mut v = json!({"@odata.type": "#microsoft.graph.accessPackageAssignmentRequestWorkflowExtension",
        "displayName": format!("Check {path}"), "description": "SoD check",
        "endpointConfiguration": {"@odata.type": "#microsoft.graph.httpRequestEndpoint", "targetUrl": hook.url(path)},
        "authenticationConfiguration": {"@odata.type": "#gatehouse.webhookSignatureAuthentication", "signingSecret": SECRET}});
    if wait {
        v["callbackConfiguration"] = json!({"@odata.type": "microsoft.graph.customExtensionCallbackConfiguration", "durationBeforeTimeout": "PT1H"});
    }
    v
}

/// A no-approval policy for Fabrikam with these stage settings; 90 days.
async fn policy(s: &TestServer, w: &World, settings: Value) -> Value {
    s.post(
        &format!("{EM}/assignmentPolicies"),
        json!({"displayName": "Fabrikam with checks", "allowedTargetScope": "specificConnectedOrganizationUsers",
            "specificAllowedTargets": [{"@odata.type": "#microsoft.graph.connectedOrganizationMembers", "connectedOrganizationId": w.org}],
            "expiration": {"type": "afterDuration", "duration": "P90D"},
            "requestorSettings": {"enableTargetsToSelfAddAccess": true},
            "requestApprovalSettings": {"isApprovalRequiredForAdd": false, "stages": []},
            "customExtensionStageSettings": settings, "accessPackage": {"id": w.package}}),
    )
    .await
    .expect(201)
}

fn ask(w: &World, policy: &Value) -> Value {
    json!({"requestType": "userAdd", "assignment": {"accessPackageId": w.package, "assignmentPolicyId": policy["id"]}})
}

async fn messages(hook: &WebhookPeer, stage: &str) -> Vec<Value> {
    hook.received().await.into_iter().filter(|m| m["body"]["data"]["stage"] == stage).collect()
}

async fn resume(s: &TestServer, request: &str, instance: &Value, state: Option<&str>) -> gatehouse_testkit::Reply {
    let mut data = json!({"@odata.type": "microsoft.graph.accessPackageAssignmentRequestCallbackData",
        "stage": "AssignmentRequestCreated", "customExtensionStageInstanceId": instance,
        "customExtensionStageInstanceDetail": "Checked by the SoD service"});
    if let Some(st) = state {
        data["state"] = json!(st);
    }
    let body = json!({"source": "Contoso.SodCheck", "type": "microsoft.graph.accessPackageCustomExtensionStage.assignmentRequestCreated", "data": data});
    s.post(&format!("{EM}/assignmentRequests/{request}/resume"), body).await
}

async fn a_request_waits_for_the_endpoint_then_goes_on(s: TestServer) {
    let w = partner::world(&s).await;
    let hook = WebhookPeer::start(SECRET);
    let check = extension(&s, &w, request_ext(&hook, "/sod", true)).await;
    assert!(!check.to_string().contains(SECRET), "a given secret is never echoed: {check}");
    assert_eq!(check["callbackConfiguration"]["timeoutDuration"], "PT1H");
    let granted = extension(&s, &w, request_ext(&hook, "/granted", false)).await;
    let mut before_end = request_ext(&hook, "/expiring", false);
    before_end["@odata.type"] = json!("#microsoft.graph.accessPackageAssignmentWorkflowExtension");
    let made = extension(&s, &w, before_end.clone()).await;
    // Without a secret, Gatehouse makes one: shown this once.
    let mut own = before_end;
    own["authenticationConfiguration"] = json!({"@odata.type": "#gatehouse.webhookSignatureAuthentication"});
    let own = extension(&s, &w, own).await;
    assert!(own["authenticationConfiguration"]["signingSecret"].as_str().unwrap().starts_with("whsec_"));
    assert!(s.get(&format!("{EM}/catalogs/{}/customWorkflowExtensions/{}", w.catalog, id(&own))).await.expect(200)
        ["authenticationConfiguration"]
        .get("signingSecret")
        .is_none());
    let p = policy(
        &s,
        &w,
        json!([{"stage": "assignmentRequestCreated", "customExtension": {"id": check["id"]}},
               {"stage": "assignmentRequestGranted", "customExtension": {"@odata.type": "#microsoft.graph.accessPackageAssignmentRequestWorkflowExtension", "id": granted["id"]}},
               {"stage": "assignmentFourteenDaysBeforeExpiration", "customExtension": {"id": made["id"]}}]),
    )
    .await;
    let read = s
        .get(&format!(
            "{EM}/assignmentPolicies/{}?$expand=customExtensionStageSettings($expand=customExtension)",
            p["id"].as_str().unwrap()
        ))
        .await
        .expect(200);
    assert_eq!(read["customExtensionStageSettings"].as_array().unwrap().len(), 3, "{read}");
    assert_eq!(read["customExtensionStageSettings"][0]["customExtension"]["displayName"], "Check /sod");

    let r = submit(&s, &w.ana, ask(&w, &p)).await;
    let request = id(&r);
    assert_eq!((r["state"].as_str(), r["status"].as_str()), (Some("submitted"), Some("WaitingForCallback")), "{r}");
    assert_eq!(r["customExtensionCalloutInstances"][0]["status"], "waitingForCallback");
    s.run_workers().await;
    let called = messages(&hook, "assignmentRequestCreated").await;
    assert_eq!(called.len(), 1, "{called:?}");
    let data = &called[0]["body"]["data"];
    assert_eq!(called[0]["body"]["type"], "microsoft.graph.accessPackageCustomExtensionStage.assignmentRequestCreated");
    assert_eq!(data["@odata.type"], "#microsoft.graph.accessPackageAssignmentRequestCalloutData");
    assert_eq!(
        data["callbackUriPath"],
        format!("/identityGovernance/entitlementManagement/assignmentRequests/{request}/resume")
    );
    assert_eq!(data["target"]["id"], w.ana.id.as_str());
    assert_eq!(data["accessPackage"]["id"], w.package.as_str());
    let instance = data["customExtensionStageInstanceId"].clone();
    assert_eq!(
        as_user(&s, &w.ana, &format!("{EM}/assignmentRequests/{request}")).await.expect(200)["state"],
        "submitted",
        "still waiting"
    );

    // A wrong instance is refused; the right one resumes: delivered, then called at grant.
    resume(&s, &request, &json!(uuid::Uuid::new_v4()), None).await.expect_error(409, "not waiting");
    resume(&s, &request, &instance, None).await.expect(204);
    s.run_workers().await;
    let r = s.get(&format!("{EM}/assignmentRequests/{request}")).await.expect(200);
    assert_eq!(r["state"], "delivered", "{r}");
    let statuses: Vec<&str> =
        r["customExtensionCalloutInstances"].as_array().unwrap().iter().filter_map(|c| c["status"].as_str()).collect();
    assert_eq!(statuses, ["callbackReceived", "calloutSent"], "{r}");
    assert_eq!(r["customExtensionCalloutInstances"][0]["detail"], "Checked by the SoD service");
    assert_eq!(messages(&hook, "assignmentRequestGranted").await.len(), 1);
    let resumed =
        s.get("/v1.0/gatehouse/auditRecords?$filter=activity eq 'assignmentRequest.resume'").await.expect(200);
    assert_eq!(resumed["value"][0]["after"]["source"], "Contoso.SodCheck");

    // 14 days before the end: the assignment workflow extension is called.
    s.clock.advance(chrono::Duration::days(77));
    s.run_workers().await;
    let expiring = messages(&hook, "assignmentFourteenDaysBeforeExpiration").await;
    assert_eq!(expiring.len(), 1, "{expiring:?}");
    assert_eq!(expiring[0]["body"]["data"]["@odata.type"], "#microsoft.graph.accessPackageAssignmentCalloutData");
    assert_eq!(expiring[0]["path"], "/expiring");
    assert_eq!(hook.refused().await, 0, "every call verified");
}

async fn an_endpoint_denies_or_never_answers(s: TestServer) {
    let w = partner::world(&s).await;
    let hook = WebhookPeer::start(SECRET);
    let check = extension(&s, &w, request_ext(&hook, "/sod", true)).await;
    let p =
        policy(&s, &w, json!([{"stage": "assignmentRequestCreated", "customExtension": {"id": check["id"]}}])).await;

    let denied = id(&submit(&s, &w.ana, ask(&w, &p)).await);
    s.run_workers().await;
    let instance =
        messages(&hook, "assignmentRequestCreated").await[0]["body"]["data"]["customExtensionStageInstanceId"].clone();
    resume(&s, &denied, &instance, Some("Denied")).await.expect(204);
    let r = s.get(&format!("{EM}/assignmentRequests/{denied}")).await.expect(200);
    assert_eq!(r["state"], "denied", "{r}");
    resume(&s, &denied, &instance, None).await.expect_error(409, "not waiting");

    // Bob's request waits, nobody answers within the hour: denied with the reason.
    let bob = id(&submit(&s, &w.bob, ask(&w, &p)).await);
    s.run_workers().await;
    s.clock.advance(chrono::Duration::minutes(61));
    s.run_workers().await;
    let r = s.get(&format!("{EM}/assignmentRequests/{bob}")).await.expect(200);
    assert_eq!(r["state"], "denied", "{r}");
    assert!(r["failureReason"].as_str().unwrap().contains("did not answer"), "{r}");
    assert_eq!(r["customExtensionCalloutInstances"][0]["status"], "callbackTimedOut");
}

async fn settings_must_be_coherent(s: TestServer) {
    let w = partner::world(&s).await;
    let hook = WebhookPeer::start(SECRET);
    let check = extension(&s, &w, request_ext(&hook, "/sod", true)).await;
    let before = s.audit_count().await;
    let url = format!("{EM}/catalogs/{}/customWorkflowExtensions", w.catalog);
    let mut logic_app = request_ext(&hook, "/x", false);
    logic_app["endpointConfiguration"] = json!({"@odata.type": "#microsoft.graph.logicAppTriggerEndpointConfiguration",
        "subscriptionId": "38ab2ccc-3747-4567-b36b-9478f5602f0d", "resourceGroupName": "test", "logicAppWorkflowName": "elm"});
    s.post(&url, logic_app).await.expect_error(400, "not a Logic App");
    let mut pop = request_ext(&hook, "/x", false);
    pop["authenticationConfiguration"] = json!({"@odata.type": "#microsoft.graph.azureAdPopTokenAuthentication"});
    s.post(&url, pop).await.expect_error(400, "Standard Webhooks");
    // A request extension cannot serve an expiry stage; another catalog's is not this one's.
    let body = |settings: Value| json!({"displayName": "P", "accessPackage": {"id": w.package}, "customExtensionStageSettings": settings});
    s.post(
        &format!("{EM}/assignmentPolicies"),
        body(json!([{"stage": "assignmentOneDayBeforeExpiration", "customExtension": {"id": check["id"]}}])),
    )
    .await
    .expect_error(400, "needs a #microsoft.graph.accessPackageAssignmentWorkflowExtension");
    let other = s.post(&format!("{EM}/catalogs"), json!({"displayName": "Other"})).await.expect(201);
    let foreign = s
        .post(&format!("{EM}/catalogs/{}/customWorkflowExtensions", id(&other)), request_ext(&hook, "/y", false))
        .await
        .expect(201);
    s.post(
        &format!("{EM}/assignmentPolicies"),
        body(json!([{"stage": "assignmentRequestGranted", "customExtension": {"id": foreign["id"]}}])),
    )
    .await
    .expect_error(400, "another catalog");
    assert_eq!(s.audit_count().await, before + 2, "only the other catalog and its extension were written");
    // In use: cannot go; replaced with PUT (the secret kept).
    policy(&s, &w, json!([{"stage": "assignmentRequestCreated", "customExtension": {"id": check["id"]}}])).await;
    let item = format!("{url}/{}", id(&check));
    s.delete(&item).await.expect_error(409, "named by policies");
    let mut changed = request_ext(&hook, "/sod2", true);
    changed["authenticationConfiguration"] = json!({"@odata.type": "#gatehouse.webhookSignatureAuthentication"});
    let put = s.put(&item, changed).await.expect(200);
    assert_eq!(put["endpointConfiguration"]["targetUrl"], hook.url("/sod2"));
    assert!(put["authenticationConfiguration"].get("signingSecret").is_none());
    let listed = s.get(&url).await.expect(200);
    assert_eq!(listed["value"].as_array().unwrap().len(), 1);
}

both_backends!(
    a_request_waits_for_the_endpoint_then_goes_on,
    an_endpoint_denies_or_never_answers,
    settings_must_be_coherent
);
