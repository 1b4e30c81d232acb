//! Connected organizations are how partner users become eligible for access packages; these commands cover the
//! day-one setup an operator does by hand (add the partner, name its sponsors) without writing Graph requests.

use anyhow::Result;
use serde_json::{json, Map, Value};

use super::client::ApiClient;
use super::table::{array, details_table, field, print_json, print_list, print_one, print_section};
use super::ApiArgs;

const SET: &str = "connectedOrganizations";
const COLUMNS: &[&str] = &["ID", "NAME", "STATE", "DOMAINS"];
const USER_COLUMNS: &[&str] = &["ID", "NAME", "MAIL", "TYPE"];
const DOMAIN_SOURCE: &str = "#microsoft.graph.domainIdentitySource";
const OIDC_SOURCE: &str = "#gatehouse.oidcIdentitySource";

#[derive(clap::Subcommand, Debug)]
pub enum OrgCommand {
    /// List connected organizations
    List,
    /// Show a connected organization with its sponsors
    Show { id: String },
    /// Add a connected organization
    Add {
        /// Display name
        #[arg(long)]
        name: String,
        /// The partner's email domain (e.g. contoso.com)
        #[arg(long)]
        domain: String,
        /// Description
        #[arg(long)]
        description: Option<String>,
        /// OpenID Connect issuer of the partner's IdP; without it, users sign in with email one-time passcodes
        #[arg(long, value_name = "URL")]
        issuer: Option<String>,
    },
    /// Delete a connected organization
    Delete { id: String },
    /// Add an internal (or, with --external, external) sponsor
    SponsorAdd {
        id: String,
        /// User id of the sponsor
        #[arg(long, value_name = "UID")]
        user: String,
        #[arg(long)]
        external: bool,
    },
    /// Remove an internal (or, with --external, external) sponsor
    SponsorRemove {
        id: String,
        /// User id of the sponsor
        #[arg(long, value_name = "UID")]
        user: String,
        #[arg(long)]
        external: bool,
    },
}

pub async fn run_org(api: &ApiArgs, cmd: OrgCommand) -> Result<()> {
    let client = ApiClient::new(api)?;
    match cmd {
        OrgCommand::List => print_list(api.json, client.list_all(client.em(&[SET])).await?, COLUMNS, org_row),
        OrgCommand::Show { id } => {
            let (org, internal, external) = tokio::try_join!(
                client.get(client.em(&[SET, &id])),
                client.list_all(client.em(&[SET, &id, "internalSponsors"])),
                client.list_all(client.em(&[SET, &id, "externalSponsors"])),
            )?;
            if api.json {
                return print_json(&with_sponsors(org, internal, external));
            }
            println!("{}", details_table(&org_details(&org)));
            print_section("Internal sponsors", &internal, USER_COLUMNS, user_row);
            print_section("External sponsors", &external, USER_COLUMNS, user_row);
            Ok(())
        }
        OrgCommand::Add { name, domain, description, issuer } => {
            let body = add_body(&name, &domain, description.as_deref(), issuer.as_deref());
            let created = client.post(client.em(&[SET]), &body).await?;
            print_one(api.json, &created, COLUMNS, org_row)
        }
        OrgCommand::Delete { id } => {
            client.delete(client.em(&[SET, &id])).await?;
            println!("deleted connected organization {id}");
            Ok(())
        }
        OrgCommand::SponsorAdd { id, user, external } => {
            let body = json!({ "@odata.id": client.url(&["v1.0", "users", &user]).as_str() });
            client.post(client.em(&[SET, &id, sponsor_set(external), "$ref"]), &body).await?;
            println!("added {} sponsor {user} to connected organization {id}", sponsor_kind(external));
            Ok(())
        }
        OrgCommand::SponsorRemove { id, user, external } => {
            client.delete(client.em(&[SET, &id, sponsor_set(external), &user, "$ref"])).await?;
            println!("removed {} sponsor {user} from connected organization {id}", sponsor_kind(external));
            Ok(())
        }
    }
}

fn sponsor_set(external: bool) -> &'static str {
    if external {
        "externalSponsors"
    } else {
        "internalSponsors"
    }
}

fn sponsor_kind(external: bool) -> &'static str {
    if external {
        "external"
    } else {
        "internal"
    }
}

fn add_body(name: &str, domain: &str, description: Option<&str>, issuer: Option<&str>) -> Value {
    let source = match issuer {
        Some(issuer) => {
            json!({"@odata.type": OIDC_SOURCE, "domainName": domain, "displayName": name, "issuerUri": issuer})
        }
        None => json!({"@odata.type": DOMAIN_SOURCE, "domainName": domain, "displayName": name}),
    };
    let mut body = json!({"displayName": name, "identitySources": [source]});
    if let Some(description) = description {
        body["description"] = json!(description);
    }
    body
}

/// The organization as if fetched with `$expand=internalSponsors,externalSponsors`.
fn with_sponsors(org: Value, internal: Vec<Value>, external: Vec<Value>) -> Value {
    match org {
        Value::Object(mut map) => {
            map.insert("internalSponsors".into(), Value::Array(internal));
            map.insert("externalSponsors".into(), Value::Array(external));
            Value::Object(map)
        }
        other => {
            let mut map = Map::new();
            map.insert("organization".into(), other);
            map.insert("internalSponsors".into(), Value::Array(internal));
            map.insert("externalSponsors".into(), Value::Array(external));
            Value::Object(map)
        }
    }
}

fn org_row(org: &Value) -> Vec<String> {
    vec![field(org, "id"), field(org, "displayName"), field(org, "state"), domains(org).join(", ")]
}

fn domains(org: &Value) -> Vec<String> {
    array(org, "identitySources").iter().map(source_name).collect()
}

/// What identifies an identity source: its domain, or for tenant-based sources the tenant id.
fn source_name(source: &Value) -> String {
    ["domainName", "tenantId", "displayName"]
        .iter()
        .map(|k| field(source, k))
        .find(|v| !v.is_empty())
        .unwrap_or_default()
}

fn identity_sources(org: &Value) -> String {
    let lines: Vec<String> = array(org, "identitySources")
        .iter()
        .map(|s| {
            let kind = field(s, "@odata.type");
            let kind = kind.rsplit('.').next().unwrap_or_default().trim_end_matches("IdentitySource");
            let mut line = format!("{} ({kind})", source_name(s));
            let issuer = field(s, "issuerUri");
            if !issuer.is_empty() {
                line.push_str(&format!(" issuer {issuer}"));
            }
            line
        })
        .collect();
    lines.join("\n")
}

fn org_details(org: &Value) -> Vec<(&'static str, String)> {
    vec![
        ("ID", field(org, "id")),
        ("NAME", field(org, "displayName")),
        ("DESCRIPTION", field(org, "description")),
        ("STATE", field(org, "state")),
        ("IDENTITY SOURCES", identity_sources(org)),
        ("CREATED", field(org, "createdDateTime")),
        ("MODIFIED", field(org, "modifiedDateTime")),
    ]
}

fn user_row(user: &Value) -> Vec<String> {
    vec![field(user, "id"), field(user, "displayName"), field(user, "mail"), field(user, "userType")]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org() -> Value {
        json!({
            "id": "o1", "displayName": "Contoso", "state": "configured", "description": null,
            "identitySources": [
                {"@odata.type": DOMAIN_SOURCE, "domainName": "contoso.com", "displayName": "Contoso"},
                {"@odata.type": OIDC_SOURCE, "domainName": "fabrikam.com", "displayName": "F",
                 "issuerUri": "https://idp.fabrikam.com"},
                {"@odata.type": "#microsoft.graph.azureActiveDirectoryTenant", "tenantId": "t-1", "displayName": "T"}
            ]
        })
    }

    #[test]
    fn org_rows_list_every_domain() {
        assert_eq!(org_row(&org()), ["o1", "Contoso", "configured", "contoso.com, fabrikam.com, t-1"]);
        assert_eq!(org_row(&json!({"id": "o2"})), ["o2", "", "", ""]);
    }

    #[test]
    fn identity_sources_show_kind_and_issuer() {
        assert_eq!(
            identity_sources(&org()),
            "contoso.com (domain)\nfabrikam.com (oidc) issuer https://idp.fabrikam.com\nt-1 (azureActiveDirectoryTenant)"
        );
    }

    #[test]
    fn add_body_picks_the_source_type() {
        assert_eq!(
            add_body("Contoso", "contoso.com", None, None),
            json!({"displayName": "Contoso", "identitySources": [
                {"@odata.type": DOMAIN_SOURCE, "domainName": "contoso.com", "displayName": "Contoso"}]})
        );
        assert_eq!(
            add_body("F", "f.com", Some("partner"), Some("https://idp.f.com")),
            json!({"displayName": "F", "description": "partner", "identitySources": [
                {"@odata.type": OIDC_SOURCE, "domainName": "f.com", "displayName": "F",
                 "issuerUri": "https://idp.f.com"}]})
        );
    }

    #[test]
    fn show_json_embeds_sponsors() {
        let merged = with_sponsors(json!({"id": "o1"}), vec![json!({"id": "u1"})], vec![]);
        assert_eq!(merged, json!({"id": "o1", "internalSponsors": [{"id": "u1"}], "externalSponsors": []}));
    }

    #[test]
    fn sponsor_paths() {
        assert_eq!((sponsor_set(false), sponsor_set(true)), ("internalSponsors", "externalSponsors"));
        let user = json!({"id": "u1", "displayName": "Ann", "mail": "ann@x", "userType": "Member"});
        assert_eq!(user_row(&user), ["u1", "Ann", "ann@x", "Member"]);
    }
}
