//! Provisioning into real targets, given on the command line (`--scim-url`, `--ldap-url`,
//! `--webhook-url`; `scripts/bench-connectors.sh` starts local ones): per connector, N direct
//! assignments timed until every grant is done, against a baseline of the same target calls made
//! by the protocol client alone; and for SCIM, the latency from an approved request to the
//! membership being visible in the application, against the calls' own latency.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use gatehouse_app::{Actor, App};
use gatehouse_connectors::ldap::LdapClient;
use gatehouse_connectors::scim::{Created, ScimClient};
use gatehouse_connectors::webhook;
use gatehouse_domain::connection::{LdapSettings, ScimSettings, Secret, Secrets};
use gatehouse_domain::provisioning::Person;
use serde_json::{json, Value};
use uuid::Uuid;

use super::report::Row;
use super::{count, progress, secs};

/// The targets to measure; each one given is measured.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Targets {
    /// SCIM base URL of an application to provision into (with --scim-token).
    #[arg(long)]
    pub scim_url: Option<String>,
    #[arg(long, requires = "scim_url")]
    pub scim_token: Option<String>,
    /// LDAP directory (with --ldap-bind-dn, --ldap-password, --ldap-people, --ldap-group).
    #[arg(long)]
    pub ldap_url: Option<String>,
    #[arg(long)]
    pub ldap_bind_dn: Option<String>,
    #[arg(long)]
    pub ldap_password: Option<String>,
    /// Where guests' entries are made.
    #[arg(long)]
    pub ldap_people: Option<String>,
    /// An existing group to grant membership of.
    #[arg(long)]
    pub ldap_group: Option<String>,
    /// A webhook receiver (grants to <url>/grant, revokes to <url>/revoke; with --webhook-secret).
    #[arg(long)]
    pub webhook_url: Option<String>,
    #[arg(long)]
    pub webhook_secret: Option<String>,
}

impl Targets {
    pub fn any(&self) -> bool {
        self.scim_url.is_some() || self.ldap_url.is_some() || self.webhook_url.is_some()
    }
}

/// What a connector scenario measured.
pub struct Measured {
    pub rows: Vec<Row>,
    pub notes: Vec<String>,
}

fn body<T: serde::de::DeserializeOwned>(v: Value) -> anyhow::Result<T> {
    serde_json::from_value(v).context("bench connector body")
}

/// A catalog holding the connection's resource, and a package granting its role with a
/// policy for direct assignments.
async fn package_for(
    app: &App,
    connection: Uuid,
    system: &str,
    origin: Option<&str>,
    role: &str,
) -> anyhow::Result<(Uuid, Uuid)> {
    let actor = Actor::system();
    let catalog =
        app.create_catalog(&actor, body(json!({"displayName": format!("Bench {system} {connection}")}))?).await?;
    let mut resource = json!({"originSystem": system, "environment": {"id": connection}});
    if let Some(o) = origin {
        resource["originId"] = json!(o);
    }
    app.create_resource_request(
        &actor,
        body(json!({"requestType": "adminAdd", "catalog": {"id": catalog.id}, "resource": resource}))?,
    )
    .await?;
    let res = app.list_resources(&actor, catalog.id, gatehouse_app::ListQuery::EXPANDED).await?.items;
    let resource = res.first().context("the resource was added")?;
    let (roles, _) = app.resource_roles_and_scopes(resource.id).await?;
    let role = roles.iter().find(|r| r.display_name == role).context("the role")?;
    let package = app
        .create_package(&actor, body(json!({"displayName": format!("Bench {system}"), "catalog": {"id": catalog.id}}))?)
        .await?;
    app.add_role_scope(&actor, package.id, body(json!({"role": {"id": role.id}}))?).await?;
    let policy =
        app.create_policy(&actor, body(json!({"displayName": "Direct", "accessPackage": {"id": package.id}}))?).await?;
    Ok((package.id, policy.id))
}

/// Members to assign, made through the directory like any.
async fn members(app: &App, tag: &str, n: usize) -> anyhow::Result<Vec<gatehouse_domain::directory::User>> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let mail = format!("{tag}{i}@contoso.example");
        out.push(
            app.create_user(&Actor::system(), body(json!({"displayName": format!("{tag} {i}"), "mail": mail}))?)
                .await?,
        );
    }
    Ok(out)
}

/// Assign each user directly; returns when all of the package's requests are delivered.
async fn assign_all(
    app: &App,
    admin: &Actor,
    package: Uuid,
    policy: Uuid,
    users: &[gatehouse_domain::directory::User],
) -> anyhow::Result<(Duration, Vec<String>)> {
    let started = Instant::now();
    for u in users {
        app.create_assignment_request(
            admin,
            body(json!({"requestType": "adminAdd", "assignment": {"accessPackageId": package, "assignmentPolicyId": policy, "targetId": u.id}}))?,
        )
        .await?;
    }
    let n = users.len() as i64;
    let pkg = package.to_string();
    let mut failures = Vec::new();
    loop {
        let done = count(
            &app.store,
            "SELECT COUNT(*) FROM assignment_requests WHERE access_package_id = $1 AND state = 'delivered'",
            &[&pkg],
        )
        .await?;
        if done == n {
            break;
        }
        let failed = count(&app.store, "SELECT COUNT(*) FROM assignment_requests WHERE access_package_id = $1 AND state IN ('deliveryFailed', 'partiallyDelivered')", &[&pkg]).await?;
        if failed > 0 || started.elapsed() > Duration::from_secs(600) {
            failures.push(format!("{done} of {n} delivered, {failed} failed"));
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok((started.elapsed(), failures))
}

fn fake_person(tag: &str, i: usize) -> Person {
    Person {
        id: Uuid::new_v4(),
        user_name: format!("{tag}{i}@baseline.example"),
        display_name: format!("{tag} {i}"),
        given_name: None,
        surname: None,
        mail: Some(format!("{tag}{i}@baseline.example")),
        guest: true,
        connected_organization_id: None,
    }
}

fn quantile(sorted: &[Duration], q: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * q).round() as usize]
}

/// The SCIM calls one grant makes, for a person the application does not know yet.
async fn scim_grant(client: &ScimClient, person: &Person, group: &str) -> anyhow::Result<()> {
    let _ = client.find_user("externalId", &person.id.to_string()).await?;
    let _ = client.find_user("userName", &person.user_name).await?;
    let user = match client.create_user(person).await? {
        Created::Created(u) => u,
        Created::Exists => anyhow::bail!("baseline user exists"),
    };
    client.add_member(group, &user.id).await?;
    Ok(())
}

pub async fn run(app: &App, t: &Targets, n: usize, latency_samples: usize) -> anyhow::Result<Measured> {
    let mut out = Measured { rows: Vec::new(), notes: Vec::new() };
    let admin_id = {
        let mut conn = app.store.conn().await?;
        gatehouse_store::directory::first_with_role(
            &mut conn,
            gatehouse_domain::principal::DirectoryRole::GlobalAdministrator,
        )
        .await?
        .context("an administrator")?
    };
    let (token, _) = app
        .create_token(&Actor::system(), admin_id, vec![gatehouse_domain::principal::TokenScope::ReadWrite], None)
        .await?;
    let admin = Actor::user(app.authenticate(&token).await?, None);
    let http = app.http.clone();
    // Names unique to this run: the targets outlive it (and serve both backends' runs).
    let run_tag = Uuid::new_v4().simple().to_string()[..6].to_owned();
    let tag = |what: &str| format!("{what}{run_tag}");
    // The targets slow down as they fill, so half of each baseline runs before Gatehouse's
    // grants and half after.
    let (first_half, second_half) = (n / 2, n - n / 2);

    if let (Some(url), Some(token)) = (&t.scim_url, &t.scim_token) {
        progress(format!("(f) SCIM at {url}: {n} grants, {latency_samples} latency samples"));
        let settings = ScimSettings { base_url: url.clone(), token_url: None, client_id: None, scope: None };
        let secrets = Secrets { bearer_token: Some(Secret::new(token.clone())), ..Secrets::default() };
        let client = ScimClient::new(http.clone(), &settings, &secrets).map_err(|e| anyhow::anyhow!(e.message))?;
        let group = create_scim_group(&http, url, token, "Bench wiki").await?;
        let (connection, _) = app
            .create_connection(&Actor::system(), body(json!({"displayName": "Bench SCIM", "kind": "scim", "scim": {"baseUrl": url, "bearerToken": token}}))?)
            .await?;
        let (package, policy) = package_for(app, connection.id, "ScimGroup", Some(&group), "Member").await?;
        let users = members(app, &tag("scim"), n).await?;
        let base_group = create_scim_group(&http, url, token, "Bench baseline").await?;
        let started = Instant::now();
        for i in 0..first_half {
            scim_grant(&client, &fake_person(&tag("scimbase"), i), &base_group).await?;
        }
        let mut base = started.elapsed();
        let (took, failures) = assign_all(app, &admin, package, policy, &users).await?;
        let started = Instant::now();
        for i in first_half..first_half + second_half {
            scim_grant(&client, &fake_person(&tag("scimbase"), i), &base_group).await?;
        }
        base += started.elapsed();
        let mut row = Row::new("SCIM grants (direct assignment → member)", n, took);
        row.baseline = Some(n as f64 / secs(base));
        row.failures = failures;
        let visible = client.get_group(&group).await?.map_or(0, |g| g.members.len());
        if visible != n {
            row.failures.push(format!("{visible} of {n} members in the application"));
        }
        out.rows.push(row);
        out.notes.push("SCIM grants: per grant the connector finds the person (externalId, then userName), creates them, adds the member, eight people at once; baseline: those four calls by the SCIM client alone, one grant after another (half before Gatehouse's grants, half after)".into());

        // Latency: one request at a time, approved at submission, until the application shows it.
        let users = members(app, &tag("scimlat"), latency_samples).await?;
        let lat_group = create_scim_group(&http, url, token, "Bench latency").await?;
        let (connection2, _) = app
            .create_connection(&Actor::system(), body(json!({"displayName": "Bench SCIM latency", "kind": "scim", "scim": {"baseUrl": url, "bearerToken": token}}))?)
            .await?;
        let (package, policy) = package_for(app, connection2.id, "ScimGroup", Some(&lat_group), "Member").await?;
        let mut lat = Vec::with_capacity(latency_samples);
        let mut base_lat = Vec::with_capacity(latency_samples);
        let mut failures = Vec::new();
        let total = Instant::now();
        for (i, u) in users.iter().enumerate() {
            let started = Instant::now();
            app.create_assignment_request(
                &admin,
                body(json!({"requestType": "adminAdd", "assignment": {"accessPackageId": package, "assignmentPolicyId": policy, "targetId": u.id}}))?,
            )
            .await?;
            loop {
                if let Some(su) = client.find_user("externalId", &u.id.to_string()).await? {
                    let in_group =
                        client.get_group(&lat_group).await?.is_some_and(|g| g.members.iter().any(|m| m.value == su.id));
                    if in_group {
                        break;
                    }
                }
                if started.elapsed() > Duration::from_secs(30) {
                    failures.push(format!("{} never became a member", u.display_name));
                    break;
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            lat.push(started.elapsed());
            let b = Instant::now();
            scim_grant(&client, &fake_person(&tag("scimlatbase"), i), &base_group).await?;
            base_lat.push(b.elapsed());
        }
        lat.sort();
        base_lat.sort();
        let (p50, p99) = (quantile(&lat, 0.5), quantile(&lat, 0.99));
        let mut row = Row::new("SCIM: approved → grant visible", latency_samples, total.elapsed());
        row.latency = Some((p50, p99));
        row.failures = failures;
        out.rows.push(row);
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let goal = if p99 < Duration::from_millis(500) { "met" } else { "NOT met" };
        out.notes.push(format!(
            "SCIM approved → grant visible: a direct assignment submitted, then the application polled until the member shows: p50 {:.1} ms, p99 {:.1} ms (goal p99 < 500 ms: {goal}); floor, the grant's four SCIM calls alone: p50 {:.1} ms, p99 {:.1} ms",
            ms(p50), ms(p99), ms(quantile(&base_lat, 0.5)), ms(quantile(&base_lat, 0.99))
        ));
    }

    if let (Some(url), Some(bind), Some(password), Some(people), Some(group)) =
        (&t.ldap_url, &t.ldap_bind_dn, &t.ldap_password, &t.ldap_people, &t.ldap_group)
    {
        progress(format!("(g) LDAP at {url}: {n} grants"));
        let groups_base = group.split_once(',').map_or(group.clone(), |(_, rest)| rest.to_owned());
        let (connection, _) = app
            .create_connection(
                &Actor::system(),
                body(json!({"displayName": "Bench LDAP", "kind": "ldap", "ldap": {"url": url,
                "bindDn": bind, "bindPassword": password, "peopleBaseDn": people, "groupsBaseDn": groups_base}}))?,
            )
            .await?;
        let (package, policy) = package_for(app, connection.id, "LdapGroup", Some(group), "Member").await?;
        let guests = guests(app, &tag("ldap"), n).await?;
        let settings = LdapSettings {
            url: url.clone(),
            start_tls: false,
            ca_file: None,
            bind_dn: bind.clone(),
            people_base_dn: people.clone(),
            groups_base_dn: groups_base,
            person_naming_attribute: "uid".into(),
        };
        let secrets = Secrets { bind_password: Some(Secret::new(password.clone())), ..Secrets::default() };
        let mut session = LdapClient::new(&settings, &secrets)
            .map_err(|e| anyhow::anyhow!(e.message))?
            .session()
            .await
            .map_err(|e| anyhow::anyhow!(e.message))?;
        let mut base = Duration::ZERO;
        let mut took = Duration::ZERO;
        let mut failures = Vec::new();
        for (from, to) in [(0, first_half), (first_half, n)] {
            let started = Instant::now();
            for i in from..to {
                let p = fake_person(&tag("ldapbase"), i);
                session.find_person(&p).await.map_err(|e| anyhow::anyhow!(e.message))?;
                let dn = session.create_person(&p).await.map_err(|e| anyhow::anyhow!(e.message))?;
                session.add_member(group, &dn).await.map_err(|e| anyhow::anyhow!(e.message))?;
            }
            base += started.elapsed();
            if from == 0 {
                (took, failures) = assign_all(app, &admin, package, policy, &guests).await?;
            }
        }
        session.close().await;
        let mut row = Row::new("LDAP grants (direct assignment → member)", n, took);
        row.baseline = Some(n as f64 / secs(base));
        row.failures = failures;
        out.rows.push(row);
        out.notes.push("LDAP grants: per grant the connector finds the guest's entry, makes it, adds the member (one bound connection per batch, eight people at once); baseline: those operations on one session alone, one grant after another (half before, half after)".into());
    }

    if let (Some(url), Some(secret)) = (&t.webhook_url, &t.webhook_secret) {
        progress(format!("(h) webhook at {url}: {n} grants"));
        let (connection, _) = app
            .create_connection(&Actor::system(), body(json!({"displayName": "Bench webhook", "kind": "webhook", "webhook": {
                "grantUrl": format!("{url}/grant"), "revokeUrl": format!("{url}/revoke"), "roles": ["Member"], "signingSecret": secret}}))?)
            .await?;
        let (package, policy) = package_for(app, connection.id, "Webhook", None, "Member").await?;
        let users = members(app, &tag("hook"), n).await?;
        let secret = Secret::new(secret.clone());
        let mut base = Duration::ZERO;
        let mut took = Duration::ZERO;
        let mut failures = Vec::new();
        for (from, to) in [(0, first_half), (first_half, n)] {
            let started = Instant::now();
            for i in from..to {
                let msg =
                    json!({"type": "grant", "person": {"id": Uuid::new_v4(), "displayName": format!("hook {i}")}});
                let id = format!("msg_{}", Uuid::new_v4().simple());
                webhook::post(&http, &format!("{url}/grant"), &secret, &id, chrono::Utc::now().timestamp(), &msg, None)
                    .await
                    .map_err(|e| anyhow::anyhow!(e.message))?;
            }
            base += started.elapsed();
            if from == 0 {
                (took, failures) = assign_all(app, &admin, package, policy, &users).await?;
            }
        }
        let mut row = Row::new("webhook grants (direct assignment → 2xx)", n, took);
        row.baseline = Some(n as f64 / secs(base));
        row.failures = failures;
        out.rows.push(row);
        out.notes.push("webhook grants: one signed POST per grant, eight people at once; baseline: the same signed POSTs alone, one after another".into());
    }
    Ok(out)
}

/// Guests of a connected organization (LDAP makes entries for guests only).
async fn guests(app: &App, tag: &str, n: usize) -> anyhow::Result<Vec<gatehouse_domain::directory::User>> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let mail = format!("{tag}{i}@partner.example");
        out.push(
            app.create_user(
                &Actor::system(),
                body(json!({"displayName": format!("{tag} {i}"), "mail": mail, "userType": "Guest"}))?,
            )
            .await?,
        );
    }
    Ok(out)
}

async fn create_scim_group(http: &reqwest::Client, url: &str, token: &str, name: &str) -> anyhow::Result<String> {
    let v: Value = http
        .post(format!("{}/Groups", url.trim_end_matches('/')))
        .bearer_auth(token)
        .header("content-type", "application/scim+json")
        .body(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": format!("{name} {}", Uuid::new_v4().simple())}).to_string())
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    v["id"].as_str().map(str::to_owned).context("the SCIM server made a group")
}

/// Workers for the connector scenarios.
pub fn workers(app: &App) -> (tokio::sync::watch::Sender<bool>, tokio::task::JoinHandle<()>) {
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let w = gatehouse_workers::Workers::new(app.clone(), Arc::new(gatehouse_workers::LogMailer));
    let handle = tokio::spawn(w.run(Duration::from_millis(20), async move {
        let _ = stopped.wait_for(|s| *s).await;
    }));
    (stop, handle)
}
