//! Connections to target systems (`gatehouse connection …`), their resources in catalogs
//! (`gatehouse catalog add-resource`), and reconciliation (`gatehouse reconcile`). Credentials
//! given as `-` are read from standard input, so they need not appear in the process list.

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

use super::client::ApiClient;
use super::table::{array, details_table, field, print_json, print_list, print_one, print_section};
use super::ApiArgs;

const SET: [&str; 3] = ["v1.0", "gatehouse", "connections"];
const COLUMNS: &[&str] = &["ID", "NAME", "KIND", "STATUS", "MODE", "LAST ERROR"];
const GROUP_COLUMNS: &[&str] = &["ORIGIN ID", "NAME", "DESCRIPTION"];
const FINDING_COLUMNS: &[&str] = &["KIND", "RESOURCE", "ROLE", "HOLDER", "USER TYPE", "ACTION", "DETAIL"];

#[derive(clap::Subcommand, Debug)]
pub enum ConnectionCommand {
    /// List connections with their health
    List,
    /// Show a connection: settings (never credentials), health, waiting jobs, resources
    Show { id: String },
    /// Register a SCIM 2.0 application (a bearer token, or OAuth 2.0 client credentials)
    AddScim {
        #[arg(long)]
        name: String,
        /// The SCIM base URL, e.g. https://wiki.example/scim/v2
        #[arg(long)]
        base_url: String,
        /// Bearer token (`-` reads it from standard input)
        #[arg(long, conflicts_with_all = ["token_url", "client_id", "client_secret"])]
        bearer_token: Option<String>,
        #[arg(long, requires_all = ["client_id", "client_secret"])]
        token_url: Option<String>,
        #[arg(long)]
        client_id: Option<String>,
        /// Client secret (`-` reads it from standard input)
        #[arg(long)]
        client_secret: Option<String>,
        #[arg(long)]
        scope: Option<String>,
        /// Remove holders no assignment explains when reconciling
        #[arg(long)]
        enforce: bool,
    },
    /// Register an LDAP directory (OpenLDAP, Active Directory)
    AddLdap {
        #[arg(long)]
        name: String,
        /// ldaps://host:636, or ldap://host:389 with --start-tls
        #[arg(long)]
        url: String,
        #[arg(long)]
        start_tls: bool,
        /// PEM file of the CA that signed the directory's certificate
        #[arg(long)]
        ca_file: Option<String>,
        #[arg(long)]
        bind_dn: String,
        /// Bind password (`-` reads it from standard input)
        #[arg(long)]
        bind_password: String,
        #[arg(long)]
        people_base_dn: String,
        #[arg(long)]
        groups_base_dn: String,
        /// The attribute naming a person's entry: uid (OpenLDAP) or cn (Active Directory)
        #[arg(long, default_value = "uid")]
        naming_attribute: String,
        #[arg(long)]
        enforce: bool,
    },
    /// Register a webhook target (a site, a team, a ticket queue)
    AddWebhook {
        #[arg(long)]
        name: String,
        #[arg(long)]
        grant_url: String,
        #[arg(long)]
        revoke_url: String,
        /// A role the target offers (repeat for several)
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// whsec_… (`-` reads it from standard input); one is generated and printed when left out
        #[arg(long)]
        signing_secret: Option<String>,
    },
    /// Reach the target now and show what was found
    Test { id: String },
    /// The target's groups whose name contains SEARCH
    Groups {
        id: String,
        #[arg(long, default_value = "")]
        search: String,
    },
    /// What reconciliation does with holders nothing explains: report or enforce
    SetMode { id: String, mode: String },
    /// Remove a connection no resource lives in
    Delete { id: String },
}

/// `…/gatehouse/connections/<rest>`.
fn at(client: &ApiClient, rest: &[&str]) -> reqwest::Url {
    let all: Vec<&str> = SET.iter().copied().chain(rest.iter().copied()).collect();
    client.url(&all)
}

/// A credential from the command line, or from standard input when given as `-`.
fn secret(value: Option<String>) -> Result<Option<String>> {
    match value.as_deref() {
        Some("-") => {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).context("cannot read the credential from standard input")?;
            Ok(Some(line.trim_end_matches(['\r', '\n']).to_owned()))
        }
        _ => Ok(value),
    }
}

fn mode(enforce: bool) -> &'static str {
    if enforce {
        "enforce"
    } else {
        "report"
    }
}

pub fn add_body(cmd: ConnectionCommand) -> Result<Value> {
    let body = match cmd {
        ConnectionCommand::AddScim {
            name,
            base_url,
            bearer_token,
            token_url,
            client_id,
            client_secret,
            scope,
            enforce,
        } => {
            json!({"displayName": name, "kind": "scim", "reconcileMode": mode(enforce), "scim": {
                "baseUrl": base_url, "bearerToken": secret(bearer_token)?, "tokenUrl": token_url,
                "clientId": client_id, "clientSecret": secret(client_secret)?, "scope": scope}})
        }
        ConnectionCommand::AddLdap {
            name,
            url,
            start_tls,
            ca_file,
            bind_dn,
            bind_password,
            people_base_dn,
            groups_base_dn,
            naming_attribute,
            enforce,
        } => json!({"displayName": name, "kind": "ldap", "reconcileMode": mode(enforce), "ldap": {
            "url": url, "startTls": start_tls, "caFile": ca_file, "bindDn": bind_dn,
            "bindPassword": secret(Some(bind_password))?, "peopleBaseDn": people_base_dn,
            "groupsBaseDn": groups_base_dn, "personNamingAttribute": naming_attribute}}),
        ConnectionCommand::AddWebhook { name, grant_url, revoke_url, roles, signing_secret } => {
            json!({"displayName": name, "kind": "webhook", "webhook": {"grantUrl": grant_url, "revokeUrl": revoke_url,
                "roles": roles, "signingSecret": secret(signing_secret)?}})
        }
        _ => bail!("not an add command"),
    };
    Ok(without_nulls(body))
}

/// The API refuses nothing for a `null`, but absent reads better in the audit log.
fn without_nulls(v: Value) -> Value {
    match v {
        Value::Object(map) => {
            Value::Object(map.into_iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k, without_nulls(v))).collect())
        }
        other => other,
    }
}

pub async fn run_connection(api: &ApiArgs, cmd: ConnectionCommand) -> Result<()> {
    let client = ApiClient::new(api)?;
    match cmd {
        ConnectionCommand::List => print_list(api.json, client.list_all(client.url(&SET)).await?, COLUMNS, row),
        ConnectionCommand::Show { id } => {
            let c = client.get(at(&client, &[&id])).await?;
            if api.json {
                return print_json(&c);
            }
            println!("{}", details_table(&details(&c)));
            print_section("Resources", array(&c, "resources"), &["CATALOG", "RESOURCE"], |r| {
                vec![field(r, "catalog"), field(r, "resource")]
            });
            Ok(())
        }
        ConnectionCommand::Test { id } => {
            let c = client.post(at(&client, &[&id, "test"]), &json!({})).await?;
            print_one(api.json, &c, COLUMNS, row)
        }
        ConnectionCommand::Groups { id, search } => {
            let mut url = at(&client, &[&id, "groups"]);
            if !search.is_empty() {
                url.query_pairs_mut().append_pair("search", &search);
            }
            let found = client.get(url).await?;
            print_list(api.json, array(&found, "value").to_vec(), GROUP_COLUMNS, |g| {
                vec![field(g, "originId"), field(g, "displayName"), field(g, "description")]
            })
        }
        ConnectionCommand::SetMode { id, mode } => {
            if !matches!(mode.as_str(), "report" | "enforce") {
                bail!("mode must be report or enforce, not {mode:?}");
            }
            client.patch(at(&client, &[&id]), &json!({"reconcileMode": mode})).await?;
            println!("connection {id} now {mode}s holders no assignment explains");
            Ok(())
        }
        ConnectionCommand::Delete { id } => {
            client.delete(at(&client, &[&id])).await?;
            println!("deleted connection {id}");
            Ok(())
        }
        add => {
            let created = client.post(client.url(&SET), &add_body(add)?).await?;
            if api.json {
                return print_json(&created);
            }
            println!("{}", details_table(&details(&created)));
            if let Some(secret) = created.get("signingSecret").and_then(Value::as_str) {
                println!("\nSigning secret (shown once; give it to the receiver): {secret}");
            }
            Ok(())
        }
    }
}

fn row(c: &Value) -> Vec<String> {
    vec![
        field(c, "id"),
        field(c, "displayName"),
        field(c, "kind"),
        field(c, "status"),
        field(c, "reconcileMode"),
        field(c, "lastError"),
    ]
}

fn details(c: &Value) -> Vec<(&'static str, String)> {
    let kind = field(c, "kind");
    let settings = c.get(kind.as_str()).map(|s| s.to_string()).unwrap_or_default();
    vec![
        ("ID", field(c, "id")),
        ("NAME", field(c, "displayName")),
        ("KIND", kind),
        ("SETTINGS", settings),
        ("CREDENTIALS SET", c.get("secretsSet").map(|s| s.to_string()).unwrap_or_default()),
        ("MODE", field(c, "reconcileMode")),
        ("STATUS", field(c, "status")),
        ("SINCE", field(c, "statusDateTime")),
        ("LAST ERROR", field(c, "lastError")),
        ("LAST SUCCESS", field(c, "lastSuccessDateTime")),
        ("WAITING JOBS", field(c, "waitingJobs")),
    ]
}

/// `catalog add-resource`: a resource from a connection. A group by its origin id; without
/// one, the connection itself (a SCIM application's accounts, a webhook target's roles).
pub fn resource_body(catalog: &str, connection: &Value, group: Option<&str>) -> Result<Value> {
    let system = match (field(connection, "kind").as_str(), group) {
        ("scim", Some(_)) => "ScimGroup",
        ("scim", None) => "ScimApplication",
        ("ldap", Some(_)) => "LdapGroup",
        ("ldap", None) => bail!("an LDAP connection offers groups: pass --group with the group's DN"),
        ("webhook", None) => "Webhook",
        ("webhook", Some(_)) => bail!("a webhook target has no groups; leave --group out"),
        (other, _) => bail!("unknown connection kind {other:?}"),
    };
    let mut resource = json!({"originSystem": system, "environment": {"id": field(connection, "id")}});
    if let Some(g) = group {
        resource["originId"] = json!(g);
    }
    Ok(json!({"requestType": "adminAdd", "catalog": {"id": catalog}, "resource": resource}))
}

pub async fn add_resource(api: &ApiArgs, catalog: &str, connection: &str, group: Option<&str>) -> Result<()> {
    let client = ApiClient::new(api)?;
    let c = client.get(at(&client, &[connection])).await?;
    let created = client.post(client.em(&["resourceRequests"]), &resource_body(catalog, &c, group)?).await?;
    print_one(api.json, &created, &["ID", "TYPE", "STATE"], |r| {
        vec![field(r, "id"), field(r, "requestType"), field(r, "state")]
    })
}

/// `gatehouse reconcile`: run reconciliation on one connection (or every SCIM and LDAP one),
/// wait for it, print what it found. Fails when a run fails.
pub async fn reconcile(api: &ApiArgs, connection: Option<String>, fix: bool) -> Result<()> {
    let client = ApiClient::new(api)?;
    let ids: Vec<String> = match connection {
        Some(id) => vec![id],
        None => client
            .list_all(client.url(&SET))
            .await?
            .iter()
            .filter(|c| field(c, "kind") != "webhook")
            .map(|c| field(c, "id"))
            .collect(),
    };
    if ids.is_empty() {
        println!("no SCIM or LDAP connection to reconcile");
        return Ok(());
    }
    let mut failed = 0;
    let mut runs = Vec::new();
    for id in ids {
        let run = client.post(at(&client, &[&id, "reconcile"]), &json!({"fix": fix})).await?;
        let run = wait(&client, &field(&run, "id")).await?;
        if field(&run, "state") != "succeeded" {
            failed += 1;
        }
        if !api.json {
            print_run(&id, &run);
        }
        runs.push(run);
    }
    if api.json {
        print_json(&Value::Array(runs))?;
    }
    if failed > 0 {
        bail!("{failed} reconciliation(s) failed");
    }
    Ok(())
}

async fn wait(client: &ApiClient, run: &str) -> Result<Value> {
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let r = client.get(client.url(&["v1.0", "gatehouse", "reconciliations", run])).await?;
        if field(&r, "state") != "running" {
            return Ok(r);
        }
        if Instant::now() > deadline {
            bail!("reconciliation {run} is still running after 10 minutes; see `gatehouse connection show`");
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

fn print_run(connection: &str, run: &Value) {
    let s = run.get("summary").cloned().unwrap_or(Value::Null);
    let n = |k: &str| s.get(k).map(|v| v.to_string()).unwrap_or_else(|| "-".into());
    println!(
        "connection {connection}: {} ({})",
        field(run, "state"),
        if field(run, "fix") == "yes" { "fix" } else { "report only" }
    );
    if !field(run, "error").is_empty() {
        println!("  error: {}", field(run, "error"));
    }
    println!(
        "  roles {}  holders {}  missing {}  unexplained {}  re-applied {}  removed {}  failed {}",
        n("roles"),
        n("holders"),
        n("missing"),
        n("unexplained"),
        n("reapplied"),
        n("removed"),
        n("failed")
    );
    print_section("Findings", array(run, "findings"), FINDING_COLUMNS, |f| {
        vec![
            field(f, "kind"),
            field(f, "resourceDisplayName"),
            field(f, "roleDisplayName"),
            field(f, "holderDisplayName"),
            field(f, "userType"),
            field(f, "action"),
            field(f, "detail"),
        ]
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_bodies_carry_the_kind_and_drop_what_is_not_given() {
        let body = add_body(ConnectionCommand::AddWebhook {
            name: "Site".into(),
            grant_url: "https://h.example/g".into(),
            revoke_url: "https://h.example/r".into(),
            roles: vec!["Member".into()],
            signing_secret: None,
        })
        .unwrap();
        assert_eq!(
            body,
            json!({"displayName": "Site", "kind": "webhook", "webhook": {"grantUrl": "https://h.example/g",
                "revokeUrl": "https://h.example/r", "roles": ["Member"]}})
        );
    }

    #[test]
    fn resource_bodies_follow_the_connection_kind() {
        let scim = json!({"id": "c1", "kind": "scim"});
        assert_eq!(resource_body("k", &scim, Some("g1")).unwrap()["resource"]["originSystem"], "ScimGroup");
        assert_eq!(resource_body("k", &scim, None).unwrap()["resource"]["originSystem"], "ScimApplication");
        assert!(resource_body("k", &json!({"id": "c2", "kind": "ldap"}), None).is_err());
        let hook = resource_body("k", &json!({"id": "c3", "kind": "webhook"}), None).unwrap();
        assert_eq!(hook["resource"], json!({"originSystem": "Webhook", "environment": {"id": "c3"}}));
    }
}
