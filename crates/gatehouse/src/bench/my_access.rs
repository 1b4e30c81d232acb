//! Scenario (e): the My Access home (`GET /myaccess`) of a guest when the catalog holds many
//! packages and few admit them: server latency p50/p99 measured by a client on loopback,
//! beside the floor of the same answer, reading the listed packages by id in plain SQL.
//! Checked: the page lists exactly the admitting packages, none hidden, none of another
//! organization.

use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;
use gatehouse_app::{Actor, App};
use gatehouse_domain::access_package::AccessPackage;
use gatehouse_domain::policy::AssignmentPolicy;
use gatehouse_domain::principal::TokenScope;
use gatehouse_store::Store;
use serde_json::{json, Value};
use uuid::Uuid;

use super::pipeline::Server;
use super::progress;

/// Timed page loads (after a warm-up of [`WARM_UP`]).
pub const SAMPLES: usize = 200;
const WARM_UP: usize = 20;
/// Packages written per transaction while loading.
const BATCH: usize = 500;

pub struct Measured {
    pub packages: usize,
    pub admitting: usize,
    pub p50: Duration,
    pub p99: Duration,
    pub base_p50: Duration,
    pub base_p99: Duration,
    pub total: Duration,
    pub base_total: Duration,
    pub load: Duration,
    pub failures: Vec<String>,
}

fn body<T: serde::de::DeserializeOwned>(v: Value) -> anyhow::Result<T> {
    serde_json::from_value(v).context("bench my-access body")
}

fn organization_policy(org: Uuid) -> Value {
    json!({"displayName": "Partner policy", "allowedTargetScope": "specificConnectedOrganizationUsers",
           "specificAllowedTargets": [{"@odata.type": "#microsoft.graph.connectedOrganizationMembers", "connectedOrganizationId": org}],
           "requestorSettings": {"enableTargetsToSelfAddAccess": true}})
}

/// p50 and p99 of sorted samples.
fn percentiles(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len()) - 1];
    (at(0.50), at(0.99))
}

/// `packages` in one published, externally visible catalog: `admitting` for the guest's
/// organization, the rest split between 50 other organizations and members only.
pub async fn run(app: &App, store: &Store, packages: usize, admitting: usize) -> anyhow::Result<Measured> {
    let actor = Actor::system();
    let t = Instant::now();
    let org = |name: String, domain: String| {
        let app = app.clone();
        async move {
            let o = app
                .create_connected_organization(&Actor::system(), body(json!({"displayName": name, "state": "configured",
                    "identitySources": [{"@odata.type": "#microsoft.graph.domainIdentitySource", "domainName": domain, "displayName": "d"}]}))?)
                .await?;
            anyhow::Ok(o.id)
        }
    };
    let fabrikam = org("Bench Fabrikam".into(), "bench-fabrikam.example".into()).await?;
    let mut others = Vec::new();
    for i in 0..50 {
        others.push(org(format!("Bench partner {i}"), format!("bench-partner{i}.example")).await?);
    }
    let guest = app
        .create_user(
            &actor,
            body(json!({"displayName": "Bench Guest", "mail": "guest@bench-fabrikam.example",
            "userType": "Guest", "connectedOrganizationId": fabrikam}))?,
        )
        .await?;
    let (token, _) = app.create_token(&actor, guest.id, vec![TokenScope::Read], None).await?;
    let catalog = app
        .create_catalog(
            &actor,
            body(json!({"displayName": "Bench extranet", "state": "published", "isExternallyVisible": true}))?,
        )
        .await?;
    // One package of each kind through the services: the templates the bulk load copies.
    let kinds = [
        organization_policy(fabrikam),
        organization_policy(others[0]),
        json!({"displayName": "Members", "allowedTargetScope": "allMemberUsers",
               "requestorSettings": {"enableTargetsToSelfAddAccess": true}}),
    ];
    let mut templates = Vec::new();
    for (k, mut policy) in kinds.into_iter().enumerate() {
        let pkg = app
            .create_package(
                &actor,
                body(json!({"displayName": format!("Bench template {k}"),
            "catalog": {"id": catalog.id}}))?,
            )
            .await?;
        policy["accessPackage"] = json!({"id": pkg.id});
        templates.push((pkg, app.create_policy(&actor, body(policy)?).await?));
    }
    let mut listed = vec![templates[0].0.id];
    progress(format!("(e) loading {packages} packages, {admitting} of them for the guest's organization"));
    let now = Utc::now();
    let mut i = templates.len();
    while i < packages {
        let mut tx = store.begin().await?;
        for _ in 0..BATCH.min(packages - i) {
            // The admitting ones first, then the others alternating between kinds.
            let kind = if listed.len() < admitting { 0 } else { 1 + i % 2 };
            let (template, template_policy) = &templates[kind];
            let mut pkg = template.clone();
            pkg.id = Uuid::new_v4();
            pkg.display_name = format!("Bench {i:05}");
            pkg.description = Some(format!("Package {i} of the bench"));
            gatehouse_store::access_packages::insert(&mut tx, &pkg).await?;
            let mut policy: AssignmentPolicy = template_policy.clone();
            if kind == 0 {
                listed.push(pkg.id);
            } else if kind == 1 {
                policy.specific_allowed_targets = organization_target(others[i % others.len()]);
            }
            policy.id = Uuid::new_v4();
            policy.access_package_id = pkg.id;
            policy.created_date_time = now;
            policy.modified_date_time = now;
            gatehouse_store::policies::insert(&mut tx, &policy).await?;
            i += 1;
        }
        tx.commit().await?;
    }
    let load = t.elapsed();

    let server = Server::start(app).await?;
    let http = reqwest::Client::new();
    let url = format!("{}/myaccess", server.base);
    let mut failures = Vec::new();
    let mut samples = Vec::with_capacity(SAMPLES);
    let started = Instant::now();
    for n in 0..WARM_UP + SAMPLES {
        let t = Instant::now();
        let r = http.get(&url).bearer_auth(&token).send().await?;
        let status = r.status();
        let html = r.text().await?;
        let took = t.elapsed();
        if n == 0 {
            let cards = html.matches("<li class=\"card\">").count();
            if status != 200 || cards != admitting {
                failures.push(format!("My Access listed {cards} packages (status {status}); expected {admitting}"));
            }
            if let Some(stray) = listed.iter().find(|id| !html.contains(&id.to_string())) {
                failures.push(format!("package {stray} admits the guest but is not listed"));
            }
        }
        if n >= WARM_UP {
            samples.push(took);
        }
    }
    let total = started.elapsed();
    server.stop().await;

    // The floor: the listed packages read by id in one query, as a cached read model would.
    let placeholders: Vec<String> = (1..=listed.len()).map(|i| format!("${i}")).collect();
    let sql = format!("SELECT * FROM access_packages WHERE id IN ({}) ORDER BY display_name", placeholders.join(", "));
    let mut base_samples = Vec::with_capacity(SAMPLES);
    let base_started = Instant::now();
    for n in 0..WARM_UP + SAMPLES {
        let t = Instant::now();
        let mut conn = store.conn().await?;
        let mut q = sqlx::query(&sql);
        for id in &listed {
            q = q.bind(id.to_string());
        }
        let rows = q.fetch_all(&mut *conn).await?;
        let packages: Vec<AccessPackage> =
            rows.iter().map(gatehouse_store::access_packages::from_row).collect::<Result<_, _>>()?;
        std::hint::black_box(packages);
        if n >= WARM_UP {
            base_samples.push(t.elapsed());
        }
    }
    let base_total = base_started.elapsed();
    let (p50, p99) = percentiles(samples);
    let (base_p50, base_p99) = percentiles(base_samples);
    Ok(Measured { packages, admitting, p50, p99, base_p50, base_p99, total, base_total, load, failures })
}

fn organization_target(org: Uuid) -> Vec<gatehouse_domain::subject_set::SubjectSet> {
    vec![gatehouse_domain::subject_set::SubjectSet::ConnectedOrganizationMembers {
        connected_organization_id: org,
        description: None,
    }]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_the_nearest_rank() {
        let ms: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentiles(ms.clone()), (Duration::from_millis(50), Duration::from_millis(99)));
        assert_eq!(percentiles(vec![Duration::from_millis(7)]), (Duration::from_millis(7), Duration::from_millis(7)));
    }
}
