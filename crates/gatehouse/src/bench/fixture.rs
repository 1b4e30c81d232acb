//! What the pipeline scenarios need, made through the application services (fast, no HTTP):
//! a catalog, two packages each granting membership of its own group, their policies, the
//! requesting users with personal tokens, and an approver.

use anyhow::Context;
use gatehouse_app::{Actor, App};
use gatehouse_domain::principal::TokenScope;
use serde_json::{json, Value};
use uuid::Uuid;

use super::Params;

pub struct Person {
    pub id: Uuid,
    pub token: String,
}

pub struct Fixture {
    pub users: Vec<Person>,
    pub approver: Person,
    /// Package, policy and group of the no-approval scenario.
    pub auto_package: Uuid,
    pub auto_policy: Uuid,
    pub auto_group: Uuid,
    /// Package and group of the one-stage scenario.
    pub approval_package: Uuid,
    pub approval_group: Uuid,
    /// Groups the baselines write memberships into (one per baseline run).
    pub baseline_groups: [Uuid; 2],
}

fn body<T: serde::de::DeserializeOwned>(v: Value) -> anyhow::Result<T> {
    serde_json::from_value(v).context("bench fixture body")
}

async fn group(app: &App, name: &str) -> anyhow::Result<Uuid> {
    Ok(app.create_group(&Actor::system(), body(json!({"displayName": name}))?).await?.id)
}

/// A package granting Member of a new group, with one policy for all member users.
pub(super) async fn package(app: &App, catalog: Uuid, name: &str, policy: Value) -> anyhow::Result<(Uuid, Uuid, Uuid)> {
    let actor = Actor::system();
    let group = group(app, &format!("{name} team")).await?;
    app.create_resource_request(
        &actor,
        body(json!({"requestType": "adminAdd", "catalog": {"id": catalog},
                    "resource": {"originSystem": "AadGroup", "originId": group.to_string()}}))?,
    )
    .await?;
    let package = app.create_package(&actor, body(json!({"displayName": name, "catalog": {"id": catalog}}))?).await?.id;
    app.add_role_scope(
        &actor,
        package,
        body(json!({"role": {"originId": format!("Member_{group}"), "originSystem": "AadGroup"}}))?,
    )
    .await?;
    let mut policy = policy;
    policy["displayName"] = json!(format!("{name} policy"));
    policy["accessPackage"] = json!({"id": package});
    policy["allowedTargetScope"] = json!("allMemberUsers");
    policy["requestorSettings"] = json!({"enableTargetsToSelfAddAccess": true});
    let policy = app.create_policy(&actor, body(policy)?).await?.id;
    Ok((package, policy, group))
}

async fn person(app: &App, i: usize) -> anyhow::Result<Person> {
    let actor = Actor::system();
    let user = app
        .create_user(
            &actor,
            body(json!({"displayName": format!("Bench User {i}"), "mail": format!("bench{i}@contoso.example"),
                        "userType": "Member"}))?,
        )
        .await?;
    let (token, _) = app.create_token(&actor, user.id, vec![TokenScope::ReadWrite], None).await?;
    Ok(Person { id: user.id, token })
}

pub async fn setup(app: &App, p: Params) -> anyhow::Result<Fixture> {
    let actor = Actor::system();
    let catalog = app.create_catalog(&actor, body(json!({"displayName": "Bench", "state": "published"}))?).await?.id;
    let approver = person(app, usize::MAX).await?;
    let (auto_package, auto_policy, auto_group) = package(app, catalog, "Auto", json!({})).await?;
    let one_stage = json!({"requestApprovalSettings": {"isApprovalRequiredForAdd": true, "stages": [{
        "durationBeforeAutomaticDenial": "P14D", "isApproverJustificationRequired": false, "isEscalationEnabled": false,
        "primaryApprovers": [{"@odata.type": "#microsoft.graph.singleUser", "userId": approver.id}]}]}});
    let (approval_package, _, approval_group) = package(app, catalog, "Approved", one_stage).await?;
    let baseline_groups = [group(app, "Baseline A").await?, group(app, "Baseline B").await?];

    // The users, made concurrently like the rest of the bench.
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..p.concurrency {
        let (app, next) = (app.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut made = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= p.requests {
                    return Ok::<_, anyhow::Error>(made);
                }
                made.push((i, person(&app, i).await?));
            }
        }));
    }
    let mut users = Vec::with_capacity(p.requests);
    for t in tasks {
        users.extend(t.await??);
    }
    users.sort_by_key(|(i, _)| *i);
    Ok(Fixture {
        users: users.into_iter().map(|(_, u)| u).collect(),
        approver,
        auto_package,
        auto_policy,
        auto_group,
        approval_package,
        approval_group,
        baseline_groups,
    })
}
