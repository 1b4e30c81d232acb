//! One test per business rule: each refusal is a 4xx in the Graph error shape, and it wrote
//! nothing (the audit log has as many records as before, and a read-back shows no change).

use gatehouse_testkit::{both_backends, encode, json, TestServer, EM};
use reqwest::Method;
use serde_json::Value;

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap_or_else(|| panic!("no id in {v}")).to_owned()
}

fn domain(d: &str) -> Value {
    json!({"@odata.type": "#microsoft.graph.domainIdentitySource", "domainName": d, "displayName": d})
}

async fn org(s: &TestServer, name: &str, d: &str) -> String {
    let body = json!({"displayName": name, "identitySources": [domain(d)]});
    id(&s.post(&format!("{EM}/connectedOrganizations"), body).await.expect(201))
}

async fn catalog(s: &TestServer, body: Value) -> String {
    id(&s.post(&format!("{EM}/catalogs"), body).await.expect(201))
}

async fn package(s: &TestServer, catalog: &str, name: &str) -> String {
    let body = json!({"displayName": name, "catalog": {"id": catalog}});
    id(&s.post(&format!("{EM}/accessPackages"), body).await.expect(201))
}

async fn user(s: &TestServer, body: Value) -> String {
    id(&s.post("/v1.0/users", body).await.expect(201))
}

/// The `value` of a collection GET.
async fn list(s: &TestServer, path: &str) -> Vec<Value> {
    s.get(path).await.expect(200)["value"].as_array().unwrap_or_else(|| panic!("no value array at {path}")).clone()
}

async fn names(s: &TestServer, path: &str) -> Vec<String> {
    let mut n: Vec<String> =
        list(s, path).await.iter().map(|v| v["displayName"].as_str().unwrap().to_owned()).collect();
    n.sort();
    n
}

/// A group added to a catalog: (group id, resource id, Member role id, root scope id).
async fn group_resource(s: &TestServer, catalog: &str, name: &str) -> (String, String, String, String) {
    let group = id(&s.post("/v1.0/groups", json!({"displayName": name})).await.expect(201));
    s.post(
        &format!("{EM}/resourceRequests"),
        json!({"requestType": "adminAdd", "catalog": {"id": catalog},
               "resource": {"originId": group, "originSystem": "AadGroup"}}),
    )
    .await
    .expect(201);
    let resources = list(s, &format!("{EM}/catalogs/{catalog}/resources?$expand=roles,scopes")).await;
    let r = resources.iter().find(|r| r["originId"] == group.as_str()).expect("the group is a resource");
    let role = r["roles"].as_array().unwrap().iter().find(|x| x["displayName"] == "Member").expect("Member role");
    (group, id(r), id(role), id(&r["scopes"][0]))
}

async fn required_fields_are_named(s: TestServer) {
    let cat = catalog(&s, json!({"displayName": "Existing"})).await;
    let before = s.audit_count().await;
    let orgs = format!("{EM}/connectedOrganizations");
    let e =
        s.post(&orgs, json!({"identitySources": [domain("fabrikam.example")]})).await.expect_error(400, "displayName");
    assert_eq!(e["error"]["target"], "displayName");
    let e = s.post(&orgs, json!({"displayName": "Fabrikam"})).await.expect_error(400, "identity source");
    assert_eq!(e["error"]["target"], "identitySources");
    let e = s.post(&format!("{EM}/catalogs"), json!({"description": "no name"})).await.expect_error(400, "displayName");
    assert_eq!(e["error"]["target"], "displayName");
    let e = s.post(&format!("{EM}/accessPackages"), json!({"displayName": "Tango"})).await.expect_error(400, "catalog");
    assert_eq!(e["error"]["target"], "catalog");
    let body = json!({"displayName": "P", "allowedTargetScope": "allMemberUsers"});
    let e = s.post(&format!("{EM}/assignmentPolicies"), body).await.expect_error(400, "accessPackage");
    assert_eq!(e["error"]["target"], "accessPackage");

    assert_eq!(s.audit_count().await, before);
    assert!(list(&s, &orgs).await.is_empty());
    assert_eq!(names(&s, &format!("{EM}/catalogs")).await, ["Existing"]);
    assert!(list(&s, &format!("{EM}/catalogs/{cat}/accessPackages")).await.is_empty());
    assert!(list(&s, &format!("{EM}/assignmentPolicies")).await.is_empty());
}

async fn invalid_domain_names_are_refused(s: TestServer) {
    let before = s.audit_count().await;
    for bad in ["fabrikam", "-x.com", "a b.com"] {
        let body = json!({"displayName": format!("Org {bad}"), "identitySources": [domain(bad)]});
        let e =
            s.post(&format!("{EM}/connectedOrganizations"), body).await.expect_error(400, "not a valid domain name");
        assert!(e["error"]["message"].as_str().unwrap().contains(bad), "{e}");
    }
    assert_eq!(s.audit_count().await, before);
    assert!(list(&s, &format!("{EM}/connectedOrganizations")).await.is_empty());
}

async fn a_domain_belongs_to_one_organization(s: TestServer) {
    org(&s, "Fabrikam Ltd", "fabrikam.example").await;
    let contoso = org(&s, "Contoso", "contoso.example").await;
    let before = s.audit_count().await;
    let orgs = format!("{EM}/connectedOrganizations");
    let body = json!({"displayName": "Fabrikam Again", "identitySources": [domain("Fabrikam.Example")]});
    s.post(&orgs, body).await.expect_error(409, "Fabrikam Ltd");
    let patch = json!({"identitySources": [domain("contoso.example"), domain("fabrikam.example")]});
    s.patch(&format!("{orgs}/{contoso}"), patch).await.expect_error(409, "Fabrikam Ltd");

    assert_eq!(s.audit_count().await, before);
    assert_eq!(names(&s, &orgs).await, ["Contoso", "Fabrikam Ltd"]);
    let back = s.get(&format!("{orgs}/{contoso}")).await.expect(200);
    assert_eq!(back["identitySources"].as_array().unwrap().len(), 1);
    assert_eq!(back["identitySources"][0]["domainName"], "contoso.example");
}

async fn organizations_are_found_by_name_and_domain(s: TestServer) {
    org(&s, "Fabrikam", "fabrikam.example").await;
    org(&s, "Contoso", "contoso.example").await;
    org(&s, "Northwind Traders", "nwt.example").await;
    let orgs = format!("{EM}/connectedOrganizations");
    let q = |option: &str, value: &str| format!("{orgs}?{option}={}", encode(value));
    assert_eq!(names(&s, &q("$filter", "displayName eq 'Fabrikam'")).await, ["Fabrikam"]);
    let any = "identitySources/any(is:is/microsoft.graph.domainIdentitySource/domainName eq 'fabrikam.example')";
    assert_eq!(names(&s, &q("$filter", any)).await, ["Fabrikam"]);
    assert_eq!(names(&s, &q("$search", "\"fabrikam.example\"")).await, ["Fabrikam"]);
    assert_eq!(names(&s, &q("$search", "\"Fabri\"")).await, ["Fabrikam"]);
    // A domain-only match: the name does not contain "nwt".
    assert_eq!(names(&s, &q("$search", "\"nwt\"")).await, ["Northwind Traders"]);
    assert_eq!(names(&s, &q("$search", "\"example\"")).await, ["Contoso", "Fabrikam", "Northwind Traders"]);
    assert!(names(&s, &q("$search", "\"zzz-nothing\"")).await.is_empty());
}

async fn sponsors_must_have_the_right_user_type(s: TestServer) {
    let org_id = org(&s, "Fabrikam", "fabrikam.example").await;
    let alex = user(&s, json!({"displayName": "Alex Wilber", "mail": "alex@contoso.example"})).await;
    let ana = user(
        &s,
        json!({"displayName": "Ana Silva", "mail": "ana@fabrikam.example", "userType": "Guest", "connectedOrganizationId": org_id}),
    )
    .await;
    let base = format!("{EM}/connectedOrganizations/{org_id}");
    let before = s.audit_count().await;
    let r = |u: &str| json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/users/{u}")});
    s.post(&format!("{base}/externalSponsors/$ref"), r(&alex)).await.expect_error(400, "must be guest");
    s.post(&format!("{base}/internalSponsors/$ref"), r(&ana)).await.expect_error(400, "must be members");

    assert_eq!(s.audit_count().await, before);
    assert!(list(&s, &format!("{base}/externalSponsors")).await.is_empty());
    assert!(list(&s, &format!("{base}/internalSponsors")).await.is_empty());
}

async fn package_roles_come_from_its_own_catalog(s: TestServer) {
    let a = catalog(&s, json!({"displayName": "Catalog A"})).await;
    let b = catalog(&s, json!({"displayName": "Catalog B"})).await;
    let (group, _, role_b, _) = group_resource(&s, &b, "Team B").await;
    let pkg = package(&s, &a, "Package in A").await;
    let before = s.audit_count().await;
    let path = format!("{EM}/accessPackages/{pkg}/resourceRoleScopes");
    s.post(&path, json!({"role": {"id": role_b}})).await.expect_error(400, "another catalog");
    let by_origin = json!({"role": {"originId": format!("Member_{group}"), "originSystem": "AadGroup"}});
    s.post(&path, by_origin).await.expect_error(400, "does not exist");

    assert_eq!(s.audit_count().await, before);
    assert!(list(&s, &path).await.is_empty());
}

async fn policy_organizations_must_exist(s: TestServer) {
    let cat = catalog(&s, json!({"displayName": "Partners"})).await;
    let pkg = package(&s, &cat, "Tango").await;
    let ghost = uuid::Uuid::new_v4();
    let before = s.audit_count().await;
    let body = json!({
        "displayName": "Ghost org", "allowedTargetScope": "specificConnectedOrganizationUsers",
        "specificAllowedTargets": [{"@odata.type": "#microsoft.graph.connectedOrganizationMembers", "connectedOrganizationId": ghost}],
        "accessPackage": {"id": pkg}
    });
    s.post(&format!("{EM}/assignmentPolicies"), body).await.expect_error(400, &ghost.to_string());
    assert_eq!(s.audit_count().await, before);
    assert!(list(&s, &format!("{EM}/accessPackages/{pkg}/assignmentPolicies")).await.is_empty());
}

async fn external_policies_need_an_open_catalog(s: TestServer) {
    let org_id = org(&s, "Fabrikam", "fabrikam.example").await;
    let disabled = catalog(&s, json!({"displayName": "Disabled", "state": "unpublished"})).await;
    let internal = catalog(&s, json!({"displayName": "Internal only", "isExternallyVisible": false})).await;
    let policies = format!("{EM}/assignmentPolicies");
    for (cat, needle) in [(disabled, "is not enabled"), (internal, "isExternallyVisible is false")] {
        let pkg = package(&s, &cat, "Tango").await;
        let before = s.audit_count().await;
        let external = [
            json!({"allowedTargetScope": "specificConnectedOrganizationUsers", "specificAllowedTargets": [
                {"@odata.type": "#microsoft.graph.connectedOrganizationMembers", "connectedOrganizationId": org_id}]}),
            json!({"allowedTargetScope": "allConfiguredConnectedOrganizationUsers"}),
            json!({"allowedTargetScope": "allExternalUsers"}),
        ];
        for mut body in external {
            body["displayName"] = json!("Outsiders");
            body["accessPackage"] = json!({"id": pkg});
            let e = s.post(&policies, body).await.expect_error(400, needle);
            assert_eq!(e["error"]["target"], "allowedTargetScope");
        }
        assert_eq!(s.audit_count().await, before);
        let of_package = format!("{EM}/accessPackages/{pkg}/assignmentPolicies");
        assert!(list(&s, &of_package).await.is_empty());
        let members =
            json!({"displayName": "Members", "allowedTargetScope": "allMemberUsers", "accessPackage": {"id": pkg}});
        s.post(&policies, members).await.expect(201);
        assert_eq!(names(&s, &of_package).await, ["Members"]);
    }
    // The other way round: an open catalog with a policy for outsiders cannot be closed to them.
    let open = catalog(&s, json!({"displayName": "Extranet"})).await;
    let pkg = package(&s, &open, "Partner access").await;
    let outsiders = json!({"displayName": "Anyone outside", "allowedTargetScope": "allExternalUsers", "accessPackage": {"id": pkg}});
    s.post(&policies, outsiders).await.expect(201);
    let before = s.audit_count().await;
    let path = format!("{EM}/catalogs/{open}");
    s.patch(&path, json!({"state": "unpublished"})).await.expect_error(409, "Anyone outside");
    s.patch(&path, json!({"isExternallyVisible": false})).await.expect_error(409, "Anyone outside");
    assert_eq!(s.audit_count().await, before);
    let back = s.get(&path).await.expect(200);
    assert_eq!((back["state"].as_str(), back["isExternallyVisible"].as_bool()), (Some("published"), Some(true)));
}

async fn deletes_refuse_while_in_use(s: TestServer) {
    let cat = catalog(&s, json!({"displayName": "Busy"})).await;
    let pkg = package(&s, &cat, "Held").await;
    let before = s.audit_count().await;
    s.delete(&format!("{EM}/catalogs/{cat}")).await.expect_error(409, "still holds 1 access package");

    let assignment = uuid::Uuid::new_v4().to_string();
    let mut conn = s.app.store.conn().await.expect("conn");
    sqlx::query(
        "INSERT INTO assignments (id, access_package_id, assignment_policy_id, target_id, state, created_date_time)
         VALUES ($1, $2, $3, $4, 'delivered', $5)",
    )
    .bind(assignment.clone())
    .bind(pkg.clone())
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(uuid::Uuid::new_v4().to_string())
    .bind("2026-01-01T00:00:00.000000Z")
    .execute(&mut *conn)
    .await
    .expect("insert assignment");
    s.delete(&format!("{EM}/accessPackages/{pkg}")).await.expect_error(409, "still has 1 assignment");

    assert_eq!(s.audit_count().await, before);
    s.get(&format!("{EM}/catalogs/{cat}")).await.expect(200);
    s.get(&format!("{EM}/accessPackages/{pkg}")).await.expect(200);

    // Once nothing holds them, both go.
    sqlx::query("DELETE FROM assignments WHERE id = $1").bind(assignment).execute(&mut *conn).await.expect("delete");
    drop(conn);
    s.delete(&format!("{EM}/accessPackages/{pkg}")).await.expect(204);
    s.delete(&format!("{EM}/catalogs/{cat}")).await.expect(204);
    assert_eq!(s.audit_count().await, before + 2);
}

async fn malformed_requests_are_clean_4xx(s: TestServer) {
    let cat = catalog(&s, json!({"displayName": "Only"})).await;
    let pkg = package(&s, &cat, "Only package").await;
    let org_id = org(&s, "Fabrikam", "fabrikam.example").await;
    let before = s.audit_count().await;
    let catalogs = format!("{EM}/catalogs");
    let token = Some(s.admin_token.as_str());
    let raw = |ct: &'static str, body: &[u8]| Some((ct, body.to_vec()));
    s.raw(Method::POST, &catalogs, token, raw("application/json", b"{\"displayName\": "))
        .await
        .expect_error(400, "malformed JSON");
    s.raw(Method::POST, &catalogs, token, raw("application/json", b"[1]")).await.expect_error(400, "JSON object");
    s.raw(Method::POST, &catalogs, token, raw("text/plain", br#"{"displayName": "Plain"}"#))
        .await
        .expect_error(415, "application/json");
    let hidden = json!({"displayName": "Typo", "isHiden": true, "catalog": {"id": cat}});
    s.post(&format!("{EM}/accessPackages"), hidden).await.expect_error(400, "isHiden");
    let everyone = json!({"displayName": "All", "allowedTargetScope": "everyone", "accessPackage": {"id": pkg}});
    s.post(&format!("{EM}/assignmentPolicies"), everyone).await.expect_error(400, "everyone");
    s.post(&catalogs, json!({"displayName": "Pending", "state": "pending"})).await.expect_error(400, "pending");
    s.get(&format!("{EM}/accessPackages/not-a-guid")).await.expect_error(400, "not-a-guid");
    s.patch(&format!("{EM}/accessPackages/not-a-guid"), json!({"isHidden": true}))
        .await
        .expect_error(400, "not-a-guid");
    s.get(&format!("{catalogs}?$filter={}", encode("displayName eq"))).await.expect_error(400, "$filter");
    s.get(&format!("{catalogs}?$foo=1")).await.expect_error(400, "$foo");
    let big = json!({"displayName": "Big", "description": "x".repeat(70 * 1024)});
    s.post(&catalogs, big).await.expect_error(413, "too large");
    // Routes that read raw bytes ($ref) and undecodable path segments answer in the same shape.
    let big_ref = json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/users/{}", "x".repeat(70 * 1024))});
    let sponsors = format!("{EM}/connectedOrganizations/{org_id}/internalSponsors/$ref");
    s.post(&sponsors, big_ref).await.expect_error(413, "limit");
    s.get(&format!("{EM}/accessPackages/%FF")).await.expect_error(400, "UTF-8");

    assert_eq!(s.audit_count().await, before);
    assert_eq!(names(&s, &catalogs).await, ["Only"]);
    assert_eq!(names(&s, &format!("{EM}/accessPackages")).await, ["Only package"]);
    assert!(list(&s, &format!("{EM}/assignmentPolicies")).await.is_empty());
    assert_eq!(s.get(&format!("{EM}/accessPackages/{pkg}")).await.expect(200)["isHidden"], false);
    assert!(list(&s, &format!("{EM}/connectedOrganizations/{org_id}/internalSponsors")).await.is_empty());
}

async fn policy_settings_are_validated(s: TestServer) {
    let cat = catalog(&s, json!({"displayName": "Policies"})).await;
    let pkg = package(&s, &cat, "Tango").await;
    let approver = user(&s, json!({"displayName": "Approver", "mail": "approver@contoso.example"})).await;
    let stage = json!({"primaryApprovers": [{"@odata.type": "#microsoft.graph.singleUser", "userId": approver}]});
    let policy = |extra: Value| {
        let mut body =
            json!({"displayName": "P", "allowedTargetScope": "allMemberUsers", "accessPackage": {"id": pkg}});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    let approval = |n: usize| json!({"requestApprovalSettings": {"isApprovalRequiredForAdd": true, "stages": vec![stage.clone(); n]}});
    let text_q = |regex: &str| {
        json!({"questions": [{"@odata.type": "#microsoft.graph.accessPackageTextInputQuestion",
        "text": "PO?", "sequence": 1, "regexPattern": regex}]})
    };
    let cases = [
        (approval(4), "at most 3 approval stages"),
        (approval(0), "no stages are defined"),
        (json!({"expiration": {"type": "afterDuration"}}), "afterDuration needs duration"),
        (
            json!({"expiration": {"type": "afterDateTime", "endDateTime": "2001-01-01T00:00:00Z"}}),
            "must be in the future",
        ),
        (
            json!({"questions": [{"@odata.type": "#microsoft.graph.accessPackageMultipleChoiceQuestion", "text": "Pick", "sequence": 1}]}),
            "at least one choice",
        ),
        (text_q("^PO-[0-9"), "not a valid regular expression"),
    ];
    let before = s.audit_count().await;
    let policies = format!("{EM}/assignmentPolicies");
    for (extra, needle) in cases {
        s.post(&policies, policy(extra)).await.expect_error(400, needle);
    }
    assert_eq!(s.audit_count().await, before);
    assert!(list(&s, &policies).await.is_empty());
    // The limits are exact: three stages and a valid pattern are accepted.
    s.post(&policies, policy(approval(3))).await.expect(201);
    s.post(&policies, policy(text_q("^PO-[0-9]{6}$"))).await.expect(201);
    assert_eq!(list(&s, &policies).await.len(), 2);
}

fn text_question(id: Option<&str>, text: &str, sequence: i32) -> Value {
    let mut q =
        json!({"@odata.type": "#microsoft.graph.accessPackageTextInputQuestion", "text": text, "sequence": sequence});
    if let Some(id) = id {
        q["id"] = json!(id);
    }
    q
}

async fn put_replaces_a_policy_and_keeps_question_ids(s: TestServer) {
    let cat = catalog(&s, json!({"displayName": "Policies"})).await;
    let pkg = package(&s, &cat, "Tango").await;
    let other = package(&s, &cat, "Foxtrot").await;
    let body = |name: &str, package: &str, questions: Vec<Value>| json!({"displayName": name, "allowedTargetScope": "allMemberUsers", "accessPackage": {"id": package}, "questions": questions});
    let policies = format!("{EM}/assignmentPolicies");
    let created = s
        .post(
            &policies,
            body("Original", &pkg, vec![text_question(None, "PO?", 1), text_question(None, "Manager?", 2)]),
        )
        .await
        .expect(201);
    let pid = id(&created);
    let q1 = id(&created["questions"][0]);
    let q2 = id(&created["questions"][1]);
    let stranger = uuid::Uuid::new_v4().to_string();

    let questions = vec![
        text_question(Some(&q1), "Purchase order number?", 1),
        text_question(None, "Cost centre?", 2),
        text_question(Some(&stranger), "Project?", 3),
    ];
    let replaced = s.put(&format!("{policies}/{pid}"), body("Renamed", &pkg, questions)).await.expect(200);
    assert_eq!(replaced["id"], pid.as_str());
    assert_eq!(replaced["displayName"], "Renamed");
    let got = replaced["questions"].as_array().unwrap();
    assert_eq!(got.len(), 3);
    assert_eq!(got[0]["id"], q1.as_str(), "an edited question keeps its id");
    assert_eq!(got[0]["text"], "Purchase order number?");
    let new_ids = [id(&got[1]), id(&got[2])];
    for n in &new_ids {
        assert!(n != &q1 && n != &q2 && n != &stranger, "new questions get new ids: {n}");
    }
    assert_ne!(new_ids[0], new_ids[1]);
    let back = s.get(&format!("{policies}/{pid}?$expand=questions")).await.expect(200);
    let ids: Vec<String> = back["questions"].as_array().unwrap().iter().map(id).collect();
    assert_eq!(ids, [q1.clone(), new_ids[0].clone(), new_ids[1].clone()]);

    let before = s.audit_count().await;
    let moved = body("Moved", &other, vec![text_question(Some(&q1), "PO?", 1)]);
    s.put(&format!("{policies}/{pid}"), moved).await.expect_error(400, "another access package");
    assert_eq!(s.audit_count().await, before);
    let back = s.get(&format!("{policies}/{pid}?$expand=questions")).await.expect(200);
    assert_eq!(back["displayName"], "Renamed");
    assert_eq!(back["questions"].as_array().unwrap().len(), 3);
    assert_eq!(names(&s, &format!("{EM}/accessPackages/{pkg}/assignmentPolicies")).await, ["Renamed"]);
    assert!(list(&s, &format!("{EM}/accessPackages/{other}/assignmentPolicies")).await.is_empty());
}

async fn resources_in_use_cannot_be_removed(s: TestServer) {
    let cat = catalog(&s, json!({"displayName": "Groups"})).await;
    let (group, resource, role, scope) = group_resource(&s, &cat, "Cross-Org Team").await;
    let pkg = package(&s, &cat, "Tango").await;
    let rs = s
        .post(
            &format!("{EM}/accessPackages/{pkg}/resourceRoleScopes"),
            json!({"role": {"id": role}, "scope": {"id": scope}}),
        )
        .await
        .expect(201);
    let remove = json!({"requestType": "adminRemove", "catalog": {"id": cat}, "resource": {"id": resource}});
    let before = s.audit_count().await;
    s.delete(&format!("/v1.0/groups/{group}")).await.expect_error(409, "is a resource in catalog 'Groups'");
    s.post(&format!("{EM}/resourceRequests"), remove.clone()).await.expect_error(409, "Tango");
    assert_eq!(s.audit_count().await, before);
    s.get(&format!("/v1.0/groups/{group}")).await.expect(200);
    assert_eq!(list(&s, &format!("{EM}/catalogs/{cat}/resources")).await.len(), 1);

    s.delete(&format!("{EM}/accessPackages/{pkg}/resourceRoleScopes/{}", id(&rs))).await.expect(204);
    let done = s.post(&format!("{EM}/resourceRequests"), remove).await.expect(201);
    assert_eq!(done["state"], "delivered");
    assert!(list(&s, &format!("{EM}/catalogs/{cat}/resources")).await.is_empty());
    s.delete(&format!("/v1.0/groups/{group}")).await.expect(204);
}

async fn settings_round_trip_and_refuse_unknown_values(s: TestServer) {
    let path = format!("{EM}/settings");
    let defaults = s.get(&path).await.expect(200);
    assert_eq!(defaults["externalUserLifecycleAction"], "blockSignInAndDelete");
    assert_eq!(defaults["durationUntilExternalUserDeletedAfterBlocked"], "P30D");
    let patch =
        json!({"externalUserLifecycleAction": "blockSignIn", "durationUntilExternalUserDeletedAfterBlocked": "P4D"});
    s.patch(&path, patch).await.expect(204);
    let back = s.get(&path).await.expect(200);
    assert_eq!(back["externalUserLifecycleAction"], "blockSignIn");
    assert_eq!(back["durationUntilExternalUserDeletedAfterBlocked"], "P4D");

    let before = s.audit_count().await;
    s.patch(&path, json!({"externalUserLifecycleAction": "unknownFutureValue"})).await.expect_error(400, "blockSignIn");
    assert_eq!(s.audit_count().await, before);
    assert_eq!(s.get(&path).await.expect(200)["externalUserLifecycleAction"], "blockSignIn");
}

both_backends!(
    required_fields_are_named,
    invalid_domain_names_are_refused,
    a_domain_belongs_to_one_organization,
    organizations_are_found_by_name_and_domain,
    sponsors_must_have_the_right_user_type,
    package_roles_come_from_its_own_catalog,
    policy_organizations_must_exist,
    external_policies_need_an_open_catalog,
    deletes_refuse_while_in_use,
    malformed_requests_are_clean_4xx,
    policy_settings_are_validated,
    put_replaces_a_policy_and_keeps_question_ids,
    resources_in_use_cannot_be_removed,
    settings_round_trip_and_refuse_unknown_values,
);
