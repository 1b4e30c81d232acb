//! The admin portal's connection pages over HTTP, on both backends, against a real SCIM
//! application and a webhook receiver: register (refusals next to their fields, nothing
//! written), the degraded banner with its waiting jobs, Add resources from a connection,
//! reconcile from the page with the findings listed, and edits that keep credentials.

use gatehouse_testkit::fixtures::partner::world;
use gatehouse_testkit::targets::{ScimPeer, WebhookPeer};
use gatehouse_testkit::web::{Page, Web};
use gatehouse_testkit::{both_backends, json, TestServer, EM};
use reqwest::StatusCode;
use scraper::{Html, Selector};
use uuid::Uuid;

fn text(p: &Page, css: &str) -> String {
    let d = Html::parse_document(&p.html);
    let sel = Selector::parse(css).unwrap();
    d.select(&sel)
        .map(|e| e.text().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join(" | ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn count(p: &Page, css: &str) -> usize {
    Html::parse_document(&p.html).select(&Selector::parse(css).unwrap()).count()
}

/// The bootstrap administrator in a browser session, posting forms with its CSRF token.
struct Admin<'a> {
    web: Web<'a>,
    csrf: String,
}

impl Admin<'_> {
    async fn get(&self, path: &str) -> Page {
        self.web.get(path).await
    }
    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let mut all = vec![("csrf", self.csrf.as_str())];
        all.extend_from_slice(fields);
        self.web.post(path, &all).await
    }
}

async fn admin(s: &TestServer) -> Admin<'_> {
    let me: Uuid = s.get("/v1.0/me").await.expect(200)["id"].as_str().unwrap().parse().unwrap();
    let web = Web::signed_in(s, me).await;
    let csrf = web.get("/admin/connections").await.csrf();
    Admin { web, csrf }
}

async fn connection_id(s: &TestServer, name: &str) -> String {
    let all = s.get("/v1.0/gatehouse/connections").await.expect(200);
    all["value"].as_array().unwrap().iter().find(|c| c["displayName"] == name).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn register_add_and_reconcile_from_the_portal(s: TestServer) {
    let w = world(&s).await;
    let scim = ScimPeer::start();
    let group = scim.create_group("Design wiki").await;
    let web = admin(&s).await;

    let chooser = web.get("/admin/connections/new").await;
    assert_eq!(chooser.status, StatusCode::OK);
    assert_eq!(count(&chooser, "ul.choices a"), 3);
    let form = web.get("/admin/connections/new?kind=scim").await;
    assert_eq!(count(&form, "input[type=password][name='scim.bearerToken']"), 1, "{}", form.html);

    // Refused next to its field, nothing written.
    let before = s.audit_count().await;
    let refused = web
        .post(
            "/admin/connections/new",
            &[
                ("kind", "scim"),
                ("name", "Wiki"),
                ("scim.baseUrl", "http://wiki.example/scim"),
                ("scim.auth", "bearer"),
                ("scim.bearerToken", "t"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text(&refused, "#scim\\.baseUrl-error").contains("must use https"), "{}", refused.html);
    assert_eq!(count(&refused, "input[name='scim.bearerToken'][value='t']"), 0, "a credential is never sent back");
    assert_eq!(s.audit_count().await, before);

    let base = scim.base_url();
    let created = web
        .post(
            "/admin/connections/new",
            &[
                ("kind", "scim"),
                ("name", "Wiki"),
                ("scim.baseUrl", &base),
                ("scim.auth", "bearer"),
                ("scim.bearerToken", &scim.token),
                ("mode", "report"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.html);
    let page = web.get(created.location().unwrap()).await;
    assert!(text(&page, ".badge").contains("Healthy"), "{}", page.html);
    assert!(!page.html.contains(&scim.token), "the token is never shown");
    let wiki = connection_id(&s, "Wiki").await;

    // A webhook target: its generated secret is shown once.
    let hook = WebhookPeer::start("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    let made = web
        .post(
            "/admin/connections/new",
            &[
                ("kind", "webhook"),
                ("name", "Team site"),
                ("webhook.grantUrl", &hook.url("/grant")),
                ("webhook.revokeUrl", &hook.url("/revoke")),
                ("webhook.roles", "Visitor\nMember"),
            ],
        )
        .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.html);
    assert!(text(&made, ".notice").contains("whsec_"), "{}", made.html);

    // Add resources from the SCIM application: its group and the application itself.
    let add = web.get(&format!("/admin/catalogs/{}/resources/add?source={wiki}&q=design", w.catalog)).await;
    assert_eq!(add.status, StatusCode::OK, "{}", add.html);
    assert!(text(&add, "fieldset label").contains("Design wiki"), "{}", add.html);
    assert!(text(&add, "fieldset label").contains("Wiki itself"), "{}", add.html);
    let done = web
        .post(
            &format!("/admin/catalogs/{}/resources/add", w.catalog),
            &[("source", &wiki), ("group", &group), ("group", "application")],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    let resources = s.get(&format!("{EM}/catalogs/{}/resources", w.catalog)).await.expect(200);
    let systems: Vec<&str> =
        resources["value"].as_array().unwrap().iter().filter_map(|r| r["originSystem"].as_str()).collect();
    assert!(systems.contains(&"ScimGroup") && systems.contains(&"ScimApplication"), "{systems:?}");
    let again = web.get(&format!("/admin/catalogs/{}/resources/add?source={wiki}", w.catalog)).await;
    assert!(!text(&again, "fieldset").contains("Design wiki"), "added ones are not offered again");

    // Govern the group and add someone out of band; reconcile from the page.
    let resource =
        resources["value"].as_array().unwrap().iter().find(|r| r["originSystem"] == "ScimGroup").unwrap().clone();
    let full = s
        .get(&format!(
            "{EM}/catalogs/{}/resources/{}?$expand=roles,scopes",
            w.catalog,
            resource["id"].as_str().unwrap()
        ))
        .await
        .expect(200);
    s.post(
        &format!("{EM}/accessPackages/{}/resourceRoleScopes", w.package),
        json!({"role": {"id": full["roles"][0]["id"], "originSystem": "ScimGroup", "originId": full["roles"][0]["originId"], "resource": {"id": full["id"]}},
               "scope": {"id": full["scopes"][0]["id"], "originId": full["scopes"][0]["originId"], "originSystem": "ScimGroup"}}),
    )
    .await
    .expect(201);
    let eve = scim.create_user("eve@fabrikam.example").await;
    scim.add_member(&group, &eve).await;
    let started = web.post(&format!("/admin/connections/{wiki}/reconcile"), &[]).await;
    assert_eq!(started.status, StatusCode::SEE_OTHER);
    let running = web.get(&format!("/admin/connections/{wiki}")).await;
    assert_eq!(count(&running, "#running"), 1, "{}", running.html);
    s.run_workers().await;
    let after = web.get(&format!("/admin/connections/{wiki}")).await;
    let findings = text(&after, "#findings tbody");
    assert!(
        findings.contains("eve@fabrikam.example") && findings.contains("Unexplained") && findings.contains("Reported"),
        "{findings}"
    );

    // Enforce, then fix: Eve is removed.
    web.post(&format!("/admin/connections/{wiki}/mode"), &[("mode", "enforce")]).await;
    web.post(&format!("/admin/connections/{wiki}/reconcile"), &[("fix", "yes")]).await;
    s.run_workers().await;
    assert!(scim.members(&group).await.is_empty());
    let after = web.get(&format!("/admin/connections/{wiki}")).await;
    assert!(text(&after, "#findings tbody").contains("Removed"), "{}", after.html);

    // An edit that leaves the token empty keeps it.
    let edit = web.get(&format!("/admin/connections/{wiki}/edit")).await;
    assert_eq!(count(&edit, &format!("input[name='scim.baseUrl'][value='{base}']")), 1, "{}", edit.html);
    let saved = web
        .post(
            &format!("/admin/connections/{wiki}/edit"),
            &[("name", "Design wiki app"), ("scim.baseUrl", &base), ("scim.auth", "bearer"), ("mode", "enforce")],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.html);
    let tested = web.post(&format!("/admin/connections/{wiki}/test"), &[]).await;
    assert!(text(&tested, ".notice").contains("The target answered"), "{}", tested.html);
}

async fn a_degraded_connection_says_why_and_what_waits(s: TestServer) {
    let w = world(&s).await;
    let mut scim = ScimPeer::start();
    let group = scim.create_group("Wiki").await;
    let web = admin(&s).await;
    let c = s
        .post("/v1.0/gatehouse/connections", json!({"displayName": "Wiki", "kind": "scim", "scim": {"baseUrl": scim.base_url(), "bearerToken": scim.token}}))
        .await
        .expect(201);
    let id = c["id"].as_str().unwrap().to_owned();
    web.post(&format!("/admin/catalogs/{}/resources/add", w.catalog), &[("source", &id), ("group", &group)]).await;
    let resources = s.get(&format!("{EM}/catalogs/{}/resources?$expand=roles,scopes", w.catalog)).await.expect(200);
    let r = resources["value"].as_array().unwrap().iter().find(|r| r["originSystem"] == "ScimGroup").unwrap().clone();
    s.post(
        &format!("{EM}/accessPackages/{}/resourceRoleScopes", w.package),
        json!({"role": {"id": r["roles"][0]["id"], "originSystem": "ScimGroup", "originId": r["roles"][0]["originId"], "resource": {"id": r["id"]}},
               "scope": {"id": r["scopes"][0]["id"], "originId": r["scopes"][0]["originId"], "originSystem": "ScimGroup"}}),
    )
    .await
    .expect(201);
    let policy = s.add_policy(&w.package, json!({"displayName": "Direct"})).await;
    scim.down();
    for who in [&w.ana.id, &w.megan.id, &w.alex.id] {
        s.post(
            &format!("{EM}/assignmentRequests"),
            json!({"requestType": "adminAdd",
            "assignment": {"accessPackageId": w.package, "assignmentPolicyId": policy, "targetId": who}}),
        )
        .await
        .expect(201);
    }
    s.run_workers().await;
    let page = web.get(&format!("/admin/connections/{id}")).await;
    let banner = text(&page, "#degraded");
    assert!(banner.contains("Degraded since") && banner.contains("cannot be reached"), "{}", page.html);
    assert!(banner.contains("3 provisioning jobs wait"), "{banner}");
    let list = web.get("/admin/connections").await;
    assert!(text(&list, "tbody").contains("Degraded"), "{}", list.html);
    // The target comes back; once its probe time passes, everything lands.
    scim.up();
    s.clock.advance(chrono::Duration::minutes(2));
    s.run_workers().await;
    assert_eq!(scim.members(&group).await.len(), 3);
    let page = web.get(&format!("/admin/connections/{id}")).await;
    assert_eq!(count(&page, "#degraded"), 0, "{}", page.html);
    assert!(text(&page, ".badge").contains("Healthy"));
}

both_backends!(register_add_and_reconcile_from_the_portal, a_degraded_connection_says_why_and_what_waits);
