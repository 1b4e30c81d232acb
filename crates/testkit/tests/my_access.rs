//! My Access over HTTP, on both backends: what each caller may request (hidden packages only
//! by direct link), under which policies, and their own requests and assignments through
//! `filterByCurrentUser` — as target, as creator, as approver.

use gatehouse_testkit::fixtures::partner::{as_user, id, ids, org_policy, package, stage, submit, user_add, world};
use gatehouse_testkit::{both_backends, encode, json, TestServer, EM};
use reqwest::Method;
use uuid::Uuid;

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

/// `assignments/filterByCurrentUser(on='createdBy')`: the assignments whose originating request
/// the caller made, for themselves or (administrators) for others. A later removal by someone
/// else does not change who created it. Other `on` values are a clean 400.
async fn assignments_created_by_me(s: TestServer) {
    let w = world(&s).await;
    let policy = org_policy(&s, &w, &w.package, vec![]).await;
    // Ana keeps her account when her only assignment ends (no external-user lifecycle here).
    s.patch(&format!("{EM}/settings"), json!({"externalUserLifecycleAction": "none"})).await.expect(204);
    // Ana asks for Tango herself; the administrator assigns Megan a second package directly.
    let ana_request = id(&submit(&s, &w.ana, user_add(&w.package, &policy, "PO-000007")).await);
    let wiki = package(&s, &w, "Contoso wiki").await;
    let direct = s.add_policy(&wiki, json!({"displayName": "Direct"})).await;
    let admin_add = json!({"requestType": "adminAdd", "assignment": {"accessPackageId": wiki,
        "assignmentPolicyId": direct, "targetId": w.megan.id}});
    let megan_request = id(&s.post(&format!("{EM}/assignmentRequests"), admin_add).await.expect(201));
    s.run_workers().await;
    let assignment_of = |request: String| {
        let s = &s;
        async move {
            let r = s.get(&format!("{EM}/assignmentRequests/{request}?$expand=assignment")).await.expect(200);
            assert_eq!(r["state"], "delivered", "{r}");
            id(&r["assignment"])
        }
    };
    let anas = assignment_of(ana_request).await;
    let megans = assignment_of(megan_request).await;

    let created_by = format!("{EM}/assignments/filterByCurrentUser(on='createdBy')");
    let target = format!("{EM}/assignments/filterByCurrentUser(on='target')");
    let mine = as_user(&s, &w.ana, &format!("{created_by}?$expand=accessPackage,target")).await.expect(200);
    assert_eq!(ids(&mine), vec![anas.clone()]);
    assert_eq!(mine["value"][0]["accessPackage"]["id"], w.package.as_str());
    assert_eq!(mine["value"][0]["target"]["objectId"], w.ana.id.as_str());
    assert!(mine["@odata.context"].as_str().unwrap().contains("assignments"), "{mine}");
    // Megan holds an assignment she did not ask for: hers as target, not as creator.
    assert!(ids(&as_user(&s, &w.megan, &created_by).await.expect(200)).is_empty());
    assert_eq!(ids(&as_user(&s, &w.megan, &target).await.expect(200)), vec![megans.clone()]);
    assert_eq!(ids(&s.get(&created_by).await.expect(200)), vec![megans.clone()], "the administrator made Megan's");
    // Bob made nothing and holds nothing.
    assert!(ids(&as_user(&s, &w.bob, &created_by).await.expect(200)).is_empty());

    // The administrator removes Ana's access: it stays hers as creator (now expired), and the
    // removal does not make the administrator its creator.
    s.post(&format!("{EM}/assignmentRequests"), json!({"requestType": "adminRemove", "assignment": {"id": anas}}))
        .await
        .expect(201);
    s.run_workers().await;
    let mine = as_user(&s, &w.ana, &created_by).await.expect(200);
    assert_eq!(ids(&mine), vec![anas.clone()]);
    assert_eq!(mine["value"][0]["state"], "expired");
    assert_eq!(ids(&s.get(&created_by).await.expect(200)), vec![megans.clone()]);
    // Query options apply within the caller's set; the percent-encoded spelling works too.
    let delivered = encode("state eq 'delivered'");
    assert!(ids(&as_user(&s, &w.ana, &format!("{created_by}?$filter={delivered}")).await.expect(200)).is_empty());
    let counted = as_user(&s, &w.ana, &format!("{created_by}?$count=true&$select=id,state")).await.expect(200);
    assert_eq!(counted["@odata.count"], 1, "{counted}");
    assert!(counted["value"][0].get("schedule").is_none(), "{counted}");
    let encoded = format!("{EM}/assignments/filterByCurrentUser%28on%3D%27createdBy%27%29");
    assert_eq!(ids(&as_user(&s, &w.ana, &encoded).await.expect(200)), vec![anas]);

    for on in ["targetManager", "approver", "everyone", ""] {
        as_user(&s, &w.ana, &format!("{EM}/assignments/filterByCurrentUser(on='{on}')"))
            .await
            .expect_error(400, "unsupported filterByCurrentUser option");
    }
    as_user(&s, &w.ana, &format!("{created_by}?$expand=catalog")).await.expect_error(400, "cannot expand");
}

both_backends!(my_access_views, assignments_created_by_me);
