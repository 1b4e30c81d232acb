//! `gatehouse demo`: the seeds' scenario on the embedded default. Seeding goes through the same
//! application services as the API, so the demo obeys every rule a real admin does.

use anyhow::Context;
use gatehouse_app::{Actor, App};
use gatehouse_domain::principal::TokenScope;
use serde_json::{json, Value};
use uuid::Uuid;

/// What the demo created, for the banner and for tests.
pub struct Demo {
    pub admin_token: String,
    /// The administrator's one-time browser sign-in link code.
    pub admin_link: String,
    pub sponsor_token: String,
    /// A Fabrikam user whose request for Project Tango awaits the sponsors.
    pub partner_token: String,
    pub request_id: Uuid,
    pub organization_id: Uuid,
    pub catalog_id: Uuid,
    pub package_id: Uuid,
    pub policy_id: Uuid,
    pub group_id: Uuid,
}

fn body<T: serde::de::DeserializeOwned>(v: Value) -> anyhow::Result<T> {
    serde_json::from_value(v).context("demo seed body")
}

pub async fn seed(app: &App) -> anyhow::Result<Demo> {
    let (admin, admin_token) = app.bootstrap().await?.context("the demo needs a fresh database")?;
    let admin_link = app.create_bootstrap_link(admin.id).await?;
    let actor = Actor::system();
    let internal = app
        .create_user(
            &actor,
            body(json!({"displayName": "Alex Wilber", "mail": "alex@contoso.example", "userType": "Member"}))?,
        )
        .await?;
    let org = app
        .create_connected_organization(
            &actor,
            body(json!({
                "displayName": "Fabrikam",
                "description": "Engineering partner for Project Tango",
                "identitySources": [{"@odata.type": "#microsoft.graph.domainIdentitySource",
                                     "domainName": "fabrikam.example", "displayName": "Fabrikam"}],
                "state": "configured"
            }))?,
        )
        .await?;
    let external = app
        .create_user(
            &actor,
            body(json!({"displayName": "Ana Silva", "mail": "ana@fabrikam.example", "userType": "Guest",
                        "externalUserState": "Accepted", "connectedOrganizationId": org.id}))?,
        )
        .await?;
    app.add_sponsor(&actor, org.id, gatehouse_domain::connected_organization::SponsorKind::Internal, internal.id)
        .await?;
    app.add_sponsor(&actor, org.id, gatehouse_domain::connected_organization::SponsorKind::External, external.id)
        .await?;
    let group = app
        .create_group(&actor, body(json!({"displayName": "Cross-Org Team", "description": "Contoso and Fabrikam engineers on Project Tango"}))?)
        .await?;
    let catalog = app
        .create_catalog(
            &actor,
            body(
                json!({"displayName": "Partner extranet", "description": "Resources shared with partner organizations",
                        "state": "published", "isExternallyVisible": true}),
            )?,
        )
        .await?;
    app.create_resource_request(
        &actor,
        body(json!({"requestType": "adminAdd", "catalog": {"id": catalog.id},
                    "resource": {"originSystem": "AadGroup", "originId": group.id.to_string()}}))?,
    )
    .await?;
    let package = app
        .create_package(
            &actor,
            body(json!({"displayName": "Project Tango", "description": "Membership of the Cross-Org Team",
                        "isHidden": true, "catalog": {"id": catalog.id}}))?,
        )
        .await?;
    app.add_role_scope(
        &actor,
        package.id,
        body(json!({"role": {"originId": format!("Member_{}", group.id), "originSystem": "AadGroup"}}))?,
    )
    .await?;
    let sponsors = json!([{"@odata.type": "#microsoft.graph.externalSponsors"},
                          {"@odata.type": "#microsoft.graph.internalSponsors"}]);
    let policy = app
        .create_policy(
            &actor,
            body(json!({
                "displayName": "Fabrikam engineers",
                "description": "Fabrikam users request; a sponsor approves; access lasts 90 days",
                "accessPackage": {"id": package.id},
                "allowedTargetScope": "specificConnectedOrganizationUsers",
                "specificAllowedTargets": [{"@odata.type": "#microsoft.graph.connectedOrganizationMembers",
                                            "connectedOrganizationId": org.id, "description": "Fabrikam"}],
                "expiration": {"type": "afterDuration", "duration": "P90D"},
                "requestorSettings": {"enableTargetsToSelfAddAccess": true, "enableTargetsToSelfUpdateAccess": true,
                                      "enableTargetsToSelfRemoveAccess": true},
                "requestApprovalSettings": {
                    "isApprovalRequiredForAdd": true, "isApprovalRequiredForUpdate": true,
                    "isRequestorJustificationRequired": true,
                    "stages": [{"durationBeforeAutomaticDenial": "P14D", "isApproverJustificationRequired": false,
                                "isEscalationEnabled": false, "primaryApprovers": sponsors}]
                },
                "questions": [{"@odata.type": "#microsoft.graph.accessPackageTextInputQuestion", "sequence": 1,
                               "isRequired": true, "text": "Which Project Tango workstream are you joining?"}]
            }))?,
        )
        .await?;
    let (sponsor_token, _) = app
        .create_token(&actor, external.id, vec![TokenScope::ReadWrite], Some("demo: external sponsor".into()))
        .await?;
    // A partner user asks for the package, answering its question: the request waits for a sponsor.
    let pat = app
        .create_user(
            &actor,
            body(json!({"displayName": "Pat Partner", "mail": "pat@fabrikam.example", "userType": "Guest",
                        "externalUserState": "Accepted", "connectedOrganizationId": org.id}))?,
        )
        .await?;
    let (partner_token, _) =
        app.create_token(&actor, pat.id, vec![TokenScope::ReadWrite], Some("demo: partner user".into())).await?;
    let question = policy.questions[0].id.context("the demo question has an id")?;
    let pat_actor = Actor::user(app.authenticate(&partner_token).await?, None);
    let request = app
        .create_assignment_request(
            &pat_actor,
            body(json!({"requestType": "userAdd", "assignment": {"accessPackageId": package.id},
                        "justification": "Joining the hardware workstream for the Q3 prototype",
                        "answers": [{"@odata.type": "#microsoft.graph.accessPackageAnswerString", "value": "Hardware",
                                     "answeredQuestion": {"id": question}}]}))?,
        )
        .await?;
    Ok(Demo {
        admin_token,
        admin_link,
        sponsor_token,
        partner_token,
        request_id: request.id,
        organization_id: org.id,
        catalog_id: catalog.id,
        package_id: package.id,
        policy_id: policy.id,
        group_id: group.id,
    })
}

/// The demo keeps its data apart and starts clean each time, but never deletes a directory it
/// did not make.
pub fn prepare_dir(dir: &std::path::Path) -> anyhow::Result<()> {
    let marker = dir.join(".gatehouse-demo");
    if dir.exists() {
        anyhow::ensure!(
            marker.exists(),
            "{} exists and was not made by `gatehouse demo`; choose another --data-dir",
            dir.display()
        );
        std::fs::remove_dir_all(dir).with_context(|| format!("cannot clear {}", dir.display()))?;
    }
    std::fs::create_dir_all(dir)?;
    std::fs::write(marker, "created by gatehouse demo; deleted and recreated on each run\n")?;
    Ok(())
}

pub fn banner(demo: &Demo, base: &str) -> String {
    let em = format!("{base}/v1.0/identityGovernance/entitlementManagement");
    format!(
        r#"
Gatehouse demo is running at {base}

  Host organization   Contoso (you are its administrator)
  Connected org       Fabrikam  (fabrikam.example; sponsors: Alex Wilber, internal; Ana Silva, external)
  Catalog             Partner extranet  (enabled, open to external users)
  Resource            directory group "Cross-Org Team"
  Access package      Project Tango  (hidden: reachable only by its link)
  Policy              Fabrikam users, one approval stage by their sponsors, expires after 90 days

  Ids                 organization {org}, catalog {catalog}
                      group {group}, package {package}, policy {policy}

  My Access link for Project Tango (share it with Fabrikam users):
    {base}/myaccess/packages/{package}

  Administrator token (shown once; keep it secret):
    {admin}
  Ana Silva's token (external sponsor, approves Fabrikam requests):
    {sponsor}
  Pat Partner's token (Fabrikam user; has asked for Project Tango):
    {partner}

  Sign in with a browser:
    as the administrator (one use, {minutes} minutes):  {base}/signin/link?code={admin_link}
    as Pat of Fabrikam: open {base}/signin?domain_hint=fabrikam.example and enter pat@fabrikam.example;
      Fabrikam signs in with one-time passcodes, and without an SMTP server the mail is in this log

  Pat's request {request} awaits a sponsor. Approve it as Ana, then watch it deliver:
    curl -s -H "Authorization: Bearer {sponsor}" '{em}/accessPackageAssignmentApprovals/filterByCurrentUser(on=%27approver%27)'
    curl -s -H "Authorization: Bearer {sponsor}" '{em}/accessPackageAssignmentApprovals/{request}'
    curl -s -X PATCH -H "Authorization: Bearer {sponsor}" -H 'Content-Type: application/json' \
         -d '{{"reviewResult": "Approve", "justification": "Known Fabrikam engineer"}}' \
         '{em}/accessPackageAssignmentApprovals/{request}/stages/<stage id from the line above>'
    curl -s -H "Authorization: Bearer {partner}" '{em}/assignments/filterByCurrentUser(on=%27target%27)'
    curl -s -H "Authorization: Bearer {admin}" '{base}/v1.0/gatehouse/auditRecords?$filter=targetId%20eq%20%27{request}%27'

Try:
  export GATEHOUSE_URL={base} GATEHOUSE_TOKEN={admin}
  gatehouse package show {package}
  curl -s -H "Authorization: Bearer $GATEHOUSE_TOKEN" '{em}/accessPackages/{package}?$expand=resourceRoleScopes($expand=role,scope),assignmentPolicies'
  curl -s -H "Authorization: Bearer $GATEHOUSE_TOKEN" "{em}/connectedOrganizations?\$search=%22fabrikam.example%22"
  curl -s {base}/openapi.json | head

Press Ctrl-C to stop.
"#,
        package = demo.package_id,
        org = demo.organization_id,
        catalog = demo.catalog_id,
        group = demo.group_id,
        policy = demo.policy_id,
        admin = demo.admin_token,
        admin_link = demo.admin_link,
        minutes = gatehouse_app::sessions::BOOTSTRAP_LINK_MINUTES,
        sponsor = demo.sponsor_token,
        partner = demo.partner_token,
        request = demo.request_id,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_demo_seeds_the_seeds_scenario() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("demo.db").display());
        let store = gatehouse_store::Store::connect(&url, 2).await.unwrap();
        store.migrate().await.unwrap();
        let app = App::new(store, std::sync::Arc::new(gatehouse_app::SystemClock));
        let demo = seed(&app).await.unwrap();
        let system = gatehouse_app::Actor::system();
        let package = app.get_package(&system, demo.package_id).await.unwrap();
        assert!(package.is_hidden);
        assert_eq!(package.catalog_id, demo.catalog_id);
        let policy = app.get_policy(&system, demo.policy_id).await.unwrap();
        assert_eq!(policy.request_approval_settings.stages.len(), 1);
        assert_eq!(policy.expiration.duration, Some(gatehouse_domain::duration::Duration::from_days(90)));
        let granted = app.granted_roles(&system, demo.package_id).await.unwrap();
        assert_eq!(granted[0].role.origin_id, format!("Member_{}", demo.group_id));
        let org = app.get_connected_organization(demo.organization_id).await.unwrap();
        assert_eq!(org.domains().collect::<Vec<_>>(), vec!["fabrikam.example"]);
        assert!(app.authenticate(&demo.admin_token).await.is_ok());
        let sponsor = app.authenticate(&demo.sponsor_token).await.unwrap();
        assert_eq!(sponsor.display_name, "Ana Silva");
        // Pat's request waits for a sponsor; Ana may decide it.
        let request = app.get_request(&Actor::user(sponsor.clone(), None), demo.request_id).await.unwrap();
        assert_eq!(request.state.as_str(), "pendingApproval");
        let stage = request.stages[0].id;
        let verdict = gatehouse_domain::request::Verdict::Approve;
        let decided =
            app.decide_stage(&Actor::user(sponsor, None), demo.request_id, stage, verdict, None).await.unwrap();
        assert_eq!(decided.state.as_str(), "delivering");
        let text = banner(&demo, "http://127.0.0.1:8080");
        assert!(text.contains(&format!("http://127.0.0.1:8080/myaccess/packages/{}", demo.package_id)));
        assert!(text.contains(&format!("/signin/link?code={}", demo.admin_link)));
        // The printed link signs the administrator in, once.
        assert!(app.redeem_bootstrap_link(&demo.admin_link, Default::default()).await.is_ok());
        assert!(app.redeem_bootstrap_link(&demo.admin_link, Default::default()).await.is_err());
        // A second seed on the same database is refused rather than duplicating the scenario.
        assert!(seed(&app).await.is_err());
    }
}
