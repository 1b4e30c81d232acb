//! The admin portal in headless Chromium (`peers/browser/admin.mjs`), on both backends, with
//! the workers running and mail going to a real SMTP server: seed 000/001's administrator
//! click by click (refusals included), then a partner requesting through the link the
//! administrator copied; seed 002's variant; a catalog owner's narrower view. Screenshots land
//! in `target/screenshots/admin/<backend>/`.

use std::path::PathBuf;
use std::sync::Arc;

use gatehouse_testkit::fixtures::partner::id;
use gatehouse_testkit::peers::{run_browser, SmtpSink};
use gatehouse_testkit::{each_backend, json, Backend, TestServer, EM};
use gatehouse_workers::{Mailer, SmtpMailer};
use serde_json::Value;
use uuid::Uuid;

struct Stage {
    s: TestServer,
    sink: SmtpSink,
    screenshots: PathBuf,
    group: String,
    internal_catalog: String,
    owner: Uuid,
}

/// What seed 000 starts from: the host, two members, the partner's contact already a guest,
/// the group to share, and (for the refusals) another organization and an internal catalog.
async fn stage(backend: Backend) -> Stage {
    let mut s = gatehouse_testkit::spawn(backend).await;
    let sink = SmtpSink::start();
    let mailer: Arc<dyn Mailer> = Arc::new(SmtpMailer::new(&sink.settings()).expect("SMTP settings"));
    s.start_workers(mailer);
    s.patch(&format!("{EM}/settings"), json!({"organizationDisplayName": "Contoso",
        "privacyProfile": {"statementUrl": "https://contoso.example/privacy", "contactEmail": "privacy@contoso.example"}}))
        .await
        .expect(204);
    for (name, mail) in [("Alex Wilber", "alex@contoso.example"), ("Megan Bowen", "megan@contoso.example")] {
        s.post("/v1.0/users", json!({"displayName": name, "mail": mail})).await.expect(201);
    }
    s.post(
        "/v1.0/users",
        json!({"displayName": "Ana Silva", "mail": "ana@fabrikam.example", "userType": "Guest", "externalUserState": "Accepted"}),
    )
    .await
    .expect(201);
    let group = id(&s.post("/v1.0/groups", json!({"displayName": "Cross-Org Team"})).await.expect(201));
    s.post(&format!("{EM}/connectedOrganizations"), json!({"displayName": "Northwind", "identitySources": [
        {"@odata.type": "#microsoft.graph.domainIdentitySource", "domainName": "northwind.example", "displayName": "Northwind"}]}))
        .await
        .expect(201);
    let internal_catalog = id(&s
        .post(&format!("{EM}/catalogs"), json!({"displayName": "Internal only", "isExternallyVisible": false}))
        .await
        .expect(201));
    let finance = id(&s.post(&format!("{EM}/catalogs"), json!({"displayName": "Finance"})).await.expect(201));
    let owner =
        s.post("/v1.0/users", json!({"displayName": "Olga Owner", "mail": "olga@contoso.example"})).await.expect(201);
    s.post(
        "/v1.0/roleManagement/entitlementManagement/roleAssignments",
        json!({"roleDefinitionId": "ae79f266-94d4-4dab-b730-feca7e132178", "principalId": owner["id"],
               "appScopeId": format!("/AccessPackageCatalog/{finance}")}),
    )
    .await
    .expect(201);
    let name = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    let screenshots = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots/admin").join(name);
    let owner = id(&owner).parse().unwrap();
    Stage { s, sink, screenshots, group, internal_catalog, owner }
}

impl Stage {
    async fn browse(&self, scenario: &'static str) -> Value {
        self.browse_with(scenario, &mut json!({})).await
    }

    /// With more configuration for the script.
    async fn browse_with(&self, scenario: &'static str, extra: &mut Value) -> Value {
        let me: Uuid = self.s.get("/v1.0/me").await.expect(200)["id"].as_str().unwrap().parse().unwrap();
        let link = |code: String| format!("{}/signin/link?code={code}", self.s.base_url);
        let mut config = json!({
            "base": self.s.base_url, "adminToken": self.s.admin_token, "mailDir": self.sink.dir(),
            "screenshots": self.screenshots, "group": self.group, "internalCatalog": self.internal_catalog,
            "adminLink": link(self.s.app.create_bootstrap_link(me).await.unwrap()),
            "ownerLink": link(self.s.app.create_bootstrap_link(self.owner).await.unwrap()),
        });
        if let (Some(c), Some(e)) = (config.as_object_mut(), extra.as_object_mut()) {
            c.append(e);
        }
        let result =
            tokio::task::spawn_blocking(move || run_browser("admin", scenario, &config)).await.expect("browser thread");
        assert_eq!(result["ok"], true, "{result}");
        result["result"].clone()
    }
}

/// Seed 000/001's administrator, then Pat through the copied link, then seed 002's variant.
async fn seed_000(backend: Backend) {
    let st = stage(backend).await;
    let out = st.browse("seed_000").await;
    let r = st.s.get(&format!("{EM}/assignmentRequests/{}", out["request"].as_str().unwrap())).await.expect(200);
    assert_eq!(r["state"], "delivered", "{r}");
    let tango = st.s.get(&format!("{EM}/accessPackages/{}", out["tango"].as_str().unwrap())).await.expect(200);
    assert_eq!(tango["isHidden"], true);
    let design = st.s.get(&format!("{EM}/assignmentRequests/{}", out["design"].as_str().unwrap())).await.expect(200);
    assert_eq!(design["state"], "delivered", "no approval: delivered at once: {design}");
    assert_eq!(st.sink.count("pat@fabrikam.example", "Access granted: Project Tango"), 1);
    let orgs = st.s.get(&format!("{EM}/connectedOrganizations?$filter=displayName eq 'Fabrikam'")).await.expect(200);
    let fabrikam = orgs["value"][0]["id"].as_str().unwrap();
    let external = st.s.get(&format!("{EM}/connectedOrganizations/{fabrikam}/externalSponsors")).await.expect(200);
    assert_eq!(external["value"][0]["mail"], "ana@fabrikam.example");
}

/// A catalog owner sees only their catalog and cannot open settings.
async fn catalog_owner(backend: Backend) {
    let st = stage(backend).await;
    st.browse("catalog_owner").await;
}

/// Connections: register a webhook target and a SCIM application in the portal, add the
/// application's group to a catalog, see a connection that is down, and reconcile.
async fn connections(backend: Backend) {
    let st = stage(backend).await;
    let scim = gatehouse_testkit::targets::ScimPeer::start();
    let hook = gatehouse_testkit::targets::WebhookPeer::start("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    let design = scim.create_group("Design reviewers").await;
    let mallory = scim.create_user("mallory@fabrikam.example").await;
    scim.add_member(&design, &mallory).await;
    let s = &st.s;
    let catalog = id(&s.post(&format!("{EM}/catalogs"), json!({"displayName": "Partner extranet"})).await.expect(201));
    let package = id(&s
        .post(&format!("{EM}/accessPackages"), json!({"displayName": "Design review", "catalog": {"id": catalog}}))
        .await
        .expect(201));
    // A second application whose server is down, with three people waiting on it.
    let dead = gatehouse_testkit::targets::ScimPeer::start();
    let dead_group = dead.create_group("Builds").await;
    let c = s
        .post(
            "/v1.0/gatehouse/connections",
            json!({"displayName": "Build server", "kind": "scim",
            "scim": {"baseUrl": dead.base_url(), "bearerToken": dead.token}}),
        )
        .await
        .expect(201);
    let dead_id = id(&c);
    let builds = id(&s.post(&format!("{EM}/catalogs"), json!({"displayName": "Builds"})).await.expect(201));
    s.post(
        &format!("{EM}/resourceRequests"),
        json!({"requestType": "adminAdd", "catalog": {"id": builds},
        "resource": {"originSystem": "ScimGroup", "originId": dead_group, "environment": {"id": dead_id}}}),
    )
    .await
    .expect(201);
    let builds_package = id(&s
        .post(&format!("{EM}/accessPackages"), json!({"displayName": "Builds", "catalog": {"id": builds}}))
        .await
        .expect(201));
    let role = s.get(&format!("{EM}/catalogs/{builds}/resourceRoles")).await.expect(200)["value"][0]["id"].clone();
    s.post(&format!("{EM}/accessPackages/{builds_package}/resourceRoleScopes"), json!({"role": {"id": role}}))
        .await
        .expect(201);
    let policy = s.add_policy(&builds_package, json!({"displayName": "Direct"})).await;
    drop(dead);
    for name in ["Alex Wilber", "Megan Bowen", "Olga Owner"] {
        let users = s.get(&format!("/v1.0/users?$filter=displayName eq '{name}'")).await.expect(200);
        s.post(&format!("{EM}/assignmentRequests"), json!({"requestType": "adminAdd",
            "assignment": {"accessPackageId": builds_package, "assignmentPolicyId": policy, "targetId": users["value"][0]["id"]}}))
            .await
            .expect(201);
    }
    let mut config_extra = json!({"scimUrl": scim.base_url(), "scimToken": scim.token, "hookUrl": hook.url(""),
        "catalog": catalog, "package": package, "deadConnection": dead_id});
    let out = st.browse_with("connections", &mut config_extra).await;
    let wiki = out["wiki"].as_str().unwrap();
    let c = s.get(&format!("/v1.0/gatehouse/connections/{wiki}")).await.expect(200);
    assert_eq!(c["status"], "healthy", "{c}");
}

each_backend!(seed_000, catalog_owner, connections);
