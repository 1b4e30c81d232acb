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
    /// Pat of Fabrikam, who has not asked for anything yet (the one to play in a browser).
    pub partner_token: String,
    /// Sam of Fabrikam's request for Project Tango, which awaits the sponsors.
    pub request_id: Uuid,
    /// A second, listed package Fabrikam users may take without approval.
    pub wiki_package_id: Uuid,
    pub organization_id: Uuid,
    pub catalog_id: Uuid,
    pub package_id: Uuid,
    pub policy_id: Uuid,
    pub group_id: Uuid,
}

fn body<T: serde::de::DeserializeOwned>(v: Value) -> anyhow::Result<T> {
    serde_json::from_value(v).context("demo seed body")
}

/// Seed the demo; `team_site` is the webhook target's base URL and `secret` its signing secret.
pub async fn seed(app: &App, team_site: &str, secret: &str) -> anyhow::Result<Demo> {
    let (admin, admin_token) = app.bootstrap().await?.context("the demo needs a fresh database")?;
    let admin_link = app.create_bootstrap_link(admin.id).await?;
    let actor = Actor::system();
    app.update_settings(
        &actor,
        body(json!({"organizationDisplayName": "Contoso",
                    "privacyProfile": {"statementUrl": "https://contoso.example/privacy",
                                       "contactEmail": "privacy@contoso.example"}}))?,
    )
    .await?;
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
    // The team site is a webhook target: Project Tango also grants its Member role there.
    let (site, _) = app
        .create_connection(
            &actor,
            body(json!({"displayName": "Project Tango team site", "kind": "webhook",
                        "description": "The partner team's site; Gatehouse asks it to add and remove members",
                        "webhook": {"grantUrl": format!("{team_site}/grant"), "revokeUrl": format!("{team_site}/revoke"),
                                    "roles": ["Visitor", "Member"], "signingSecret": secret}}))?,
        )
        .await?;
    app.create_resource_request(
        &actor,
        body(json!({"requestType": "adminAdd", "catalog": {"id": catalog.id},
                    "resource": {"originSystem": "Webhook", "environment": {"id": site.id}}}))?,
    )
    .await?;
    let site_resource = app
        .list_resources(&actor, catalog.id, gatehouse_app::ListQuery::EXPANDED)
        .await?
        .items
        .into_iter()
        .find(|r| r.connection_id == Some(site.id))
        .context("the team site is a resource")?;
    app.add_role_scope(
        &actor,
        package.id,
        body(json!({"role": {"originId": "Member", "originSystem": "Webhook", "resource": {"id": site_resource.id}}}))?,
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
                "questions": [
                    {"@odata.type": "#microsoft.graph.accessPackageMultipleChoiceQuestion", "sequence": 1,
                     "isRequired": true, "text": "Which Project Tango workstream are you joining?",
                     "localizations": [{"languageCode": "de", "text": "Welchem Arbeitsbereich von Project Tango treten Sie bei?"},
                                       {"languageCode": "fr", "text": "Quel volet de Project Tango rejoignez-vous ?"}],
                     "choices": [
                        {"actualValue": "ws-hardware", "text": "Hardware",
                         "localizations": [{"languageCode": "de", "text": "Hardware"}, {"languageCode": "fr", "text": "Matériel"}]},
                        {"actualValue": "ws-firmware", "text": "Firmware",
                         "localizations": [{"languageCode": "de", "text": "Firmware"}, {"languageCode": "fr", "text": "Micrologiciel"}]},
                        {"actualValue": "ws-field", "text": "Field trials",
                         "localizations": [{"languageCode": "de", "text": "Feldversuche"}, {"languageCode": "fr", "text": "Essais sur le terrain"}]}]},
                    {"@odata.type": "#microsoft.graph.accessPackageTextInputQuestion", "sequence": 2,
                     "isRequired": false, "text": "Your manager at Fabrikam (name or email)"}]
            }))?,
        )
        .await?;
    // A listed package next to the hidden one: Fabrikam users find it in My Access.
    let wiki_group = app
        .create_group(
            &actor,
            body(json!({"displayName": "Tango wiki readers", "description": "Read access to the Project Tango wiki"}))?,
        )
        .await?;
    app.create_resource_request(
        &actor,
        body(json!({"requestType": "adminAdd", "catalog": {"id": catalog.id},
                    "resource": {"originSystem": "AadGroup", "originId": wiki_group.id.to_string()}}))?,
    )
    .await?;
    let wiki = app
        .create_package(
            &actor,
            body(json!({"displayName": "Tango wiki", "description": "Read the Project Tango wiki",
                        "catalog": {"id": catalog.id}}))?,
        )
        .await?;
    app.add_role_scope(
        &actor,
        wiki.id,
        body(json!({"role": {"originId": format!("Member_{}", wiki_group.id), "originSystem": "AadGroup"}}))?,
    )
    .await?;
    app.create_policy(
        &actor,
        body(json!({
            "displayName": "Fabrikam readers",
            "description": "Any Fabrikam user; no approval; 30 days",
            "accessPackage": {"id": wiki.id},
            "allowedTargetScope": "specificConnectedOrganizationUsers",
            "specificAllowedTargets": [{"@odata.type": "#microsoft.graph.connectedOrganizationMembers",
                                        "connectedOrganizationId": org.id}],
            "expiration": {"type": "afterDuration", "duration": "P30D"},
            "requestorSettings": {"enableTargetsToSelfAddAccess": true, "enableTargetsToSelfUpdateAccess": true,
                                  "enableTargetsToSelfRemoveAccess": true},
            "requestApprovalSettings": {"isApprovalRequiredForAdd": false, "isApprovalRequiredForUpdate": false}
        }))?,
    )
    .await?;
    let (sponsor_token, _) = app
        .create_token(&actor, external.id, vec![TokenScope::ReadWrite], Some("demo: external sponsor".into()))
        .await?;
    // Pat is the one to play in a browser; Sam has already asked, so Ana has something to approve.
    let pat = app
        .create_user(
            &actor,
            body(json!({"displayName": "Pat Partner", "mail": "pat@fabrikam.example", "userType": "Guest",
                        "externalUserState": "Accepted", "connectedOrganizationId": org.id}))?,
        )
        .await?;
    let (partner_token, _) =
        app.create_token(&actor, pat.id, vec![TokenScope::ReadWrite], Some("demo: partner user".into())).await?;
    let sam = app
        .create_user(
            &actor,
            body(json!({"displayName": "Sam Rivera", "mail": "sam@fabrikam.example", "userType": "Guest",
                        "externalUserState": "Accepted", "connectedOrganizationId": org.id}))?,
        )
        .await?;
    let (sam_token, _) =
        app.create_token(&actor, sam.id, vec![TokenScope::ReadWrite], Some("demo: Sam".into())).await?;
    let question = policy.questions[0].id.context("the demo question has an id")?;
    let sam_actor = Actor::user(app.authenticate(&sam_token).await?, None);
    let request = app
        .create_assignment_request(
            &sam_actor,
            body(json!({"requestType": "userAdd", "assignment": {"accessPackageId": package.id},
                        "justification": "Joining the hardware workstream for the Q3 prototype",
                        "answers": [{"@odata.type": "#microsoft.graph.accessPackageAnswerString", "value": "ws-hardware",
                                     "answeredQuestion": {"id": question}}]}))?,
        )
        .await?;
    Ok(Demo {
        admin_token,
        admin_link,
        sponsor_token,
        partner_token,
        request_id: request.id,
        wiki_package_id: wiki.id,
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
  Connection          Project Tango team site: a webhook target inside this demo that prints
                      each signed call it gets ([Tango team site] lines below)
  Access packages     Project Tango  (hidden: reachable only by its link; a sponsor approves; 90 days;
                                      grants Cross-Org Team and Member on the team site)
                      Tango wiki     (listed in My Access; no approval; 30 days)
  Waiting             Sam Rivera of Fabrikam has asked for Project Tango; Ana can approve it

  My Access link for Project Tango (the link Contoso sends to Fabrikam):
    {base}/myaccess/packages/{package}?domain_hint=fabrikam.example

Play the partner story in two browser windows (a private window for the second).
Fabrikam signs in with one-time passcodes; with no SMTP server configured, each code is
printed in this log ("Your sign-in code is ...").
  Window 1, Pat (requestor): open the My Access link above and sign in as pat@fabrikam.example.
    Pick a workstream, say why you need access, accept Contoso's privacy statement, submit.
    The request page says who can approve it.
  Window 2, Ana (external sponsor): open {base}/myaccess/approvals and sign in as
    ana@fabrikam.example. Pat's request (and Sam's) wait there: approve Pat's with a reason.
  Window 1: Pat's request turns Delivered; My access shows Project Tango until its end date,
    with Extend and Remove. Tango wiki is under Access packages; Project Tango never is.
    This log shows the team site receiving the signed grant ("[Tango team site] grant: role
    Member for Pat Partner"); Remove sends the revoke.
  Administrator, in a browser (one use, {minutes} minutes): {base}/signin/link?code={admin_link}
    then {base}/admin, the admin portal: the dashboard; Connected organizations (search by name
    or domain; Add connected organization walks Basics, Directory + domain, Sponsors, Review +
    create); Catalogs (New catalog, Add resources, roles); Access packages (New access package:
    the seeds' six tabs; a package's overview with Hidden and the My Access link to copy);
    Reports (who holds what, and why); Connections (the team site: health, waiting jobs;
    register a SCIM application or an LDAP directory and add its groups to the catalog);
    Settings; the Audit log with its chain verified.

  Ids                 organization {org}, catalog {catalog}
                      group {group}, packages {package} (Tango), {wiki} (wiki), policy {policy}

  Administrator token (shown once; keep it secret):
    {admin}
  Ana Silva's token (external sponsor):  {sponsor}
  Pat Partner's token (Fabrikam user):   {partner}

The same through the API:
    curl -s -H "Authorization: Bearer {sponsor}" '{em}/accessPackageAssignmentApprovals/filterByCurrentUser(on=%27approver%27)'
    curl -s -X PATCH -H "Authorization: Bearer {sponsor}" -H 'Content-Type: application/json' \
         -d '{{"reviewResult": "Approve", "justification": "Known Fabrikam engineer"}}' \
         '{em}/accessPackageAssignmentApprovals/{request}/stages/<stage id from {em}/accessPackageAssignmentApprovals/{request}>'
    curl -s -H "Authorization: Bearer {admin}" '{base}/v1.0/gatehouse/auditRecords?$filter=targetId%20eq%20%27{request}%27'
    export GATEHOUSE_URL={base} GATEHOUSE_TOKEN={admin}
    gatehouse package show {package}
    curl -s {base}/openapi.json | head

Press Ctrl-C to stop.
"#,
        package = demo.package_id,
        wiki = demo.wiki_package_id,
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
        let app = App::new(store, std::sync::Arc::new(gatehouse_app::SystemClock))
            .with_sealer(gatehouse_app::secrets::Sealer::with_random_key());
        let secret = gatehouse_connectors::webhook::generate_secret();
        let site = crate::demo_receiver::start(&secret).await.unwrap();
        let demo = seed(&app, &site, &secret).await.unwrap();
        let system = gatehouse_app::Actor::system();
        let package = app.get_package(&system, demo.package_id).await.unwrap();
        assert!(package.is_hidden);
        assert_eq!(package.catalog_id, demo.catalog_id);
        let policy = app.get_policy(&system, demo.policy_id).await.unwrap();
        assert_eq!(policy.request_approval_settings.stages.len(), 1);
        assert_eq!(policy.expiration.duration, Some(gatehouse_domain::duration::Duration::from_days(90)));
        let granted = app.granted_roles(&system, demo.package_id).await.unwrap();
        let origins: Vec<(&str, &str)> =
            granted.iter().map(|g| (g.role.origin_system.as_str(), g.role.origin_id.as_str())).collect();
        let group_member = format!("Member_{}", demo.group_id);
        assert!(origins.contains(&("AadGroup", group_member.as_str())), "{origins:?}");
        assert!(origins.contains(&("Webhook", "Member")), "the team site's Member role: {origins:?}");
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
        assert!(text.contains(&format!(
            "http://127.0.0.1:8080/myaccess/packages/{}?domain_hint=fabrikam.example",
            demo.package_id
        )));
        // Pat may request the listed wiki, never sees the hidden package listed, and may open its link.
        let pat = Actor::user(app.authenticate(&demo.partner_token).await.unwrap(), None);
        let listed: Vec<_> = app.requestable_packages(&pat, None).await.unwrap().into_iter().map(|p| p.id).collect();
        assert_eq!(listed, vec![demo.wiki_package_id]);
        let offer = app.package_offer(&pat, demo.package_id).await.unwrap();
        assert!(offer.refusal.is_none() && offer.open_request.is_none() && offer.from_outside, "{offer:?}");
        assert_eq!(offer.privacy.statement_url.as_deref(), Some("https://contoso.example/privacy"));
        assert!(text.contains(&format!("/signin/link?code={}", demo.admin_link)));
        // The printed link signs the administrator in, once.
        assert!(app.redeem_bootstrap_link(&demo.admin_link, Default::default()).await.is_ok());
        assert!(app.redeem_bootstrap_link(&demo.admin_link, Default::default()).await.is_err());
        // A second seed on the same database is refused rather than duplicating the scenario.
        assert!(seed(&app, &site, &secret).await.is_err());
    }
}
