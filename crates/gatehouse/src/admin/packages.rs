//! Access packages are what users actually request. `show` gathers roles, policies and the My Access link in one
//! place because that is what an admin needs to check before sending the link to someone.

use anyhow::Result;
use serde_json::{json, Value};

use super::client::{odata_string, ApiClient};
use super::table::{array, details_table, field, first_of, print_json, print_list, print_one, print_section};
use super::ApiArgs;

const SET: &str = "accessPackages";
const COLUMNS: &[&str] = &["ID", "NAME", "HIDDEN", "DESCRIPTION"];
const ROLE_COLUMNS: &[&str] = &["ROLE", "ORIGIN ID", "SCOPE"];
const POLICY_COLUMNS: &[&str] = &["ID", "NAME", "SCOPE"];
const ROLE_SCOPE_COLUMNS: &[&str] = &["ID", "ROLE", "SCOPE"];
const SHOW_EXPAND: &str = "resourceRoleScopes($expand=role,scope),assignmentPolicies";

#[derive(clap::Subcommand, Debug)]
pub enum PackageCommand {
    /// List access packages
    List {
        /// Only packages in this catalog
        #[arg(long, value_name = "ID")]
        catalog: Option<String>,
    },
    /// Show an access package with its resource roles, policies and My Access link
    Show { id: String },
    /// Add an access package
    Add {
        /// Catalog the package belongs to
        #[arg(long, value_name = "ID")]
        catalog: String,
        /// Display name
        #[arg(long)]
        name: String,
        /// Description
        #[arg(long)]
        description: Option<String>,
        /// Hide the package from the My Access catalog (it stays requestable by direct link)
        #[arg(long)]
        hidden: bool,
    },
    /// Delete an access package
    Delete { id: String },
    /// Add a resource role (see `gatehouse catalog show`) to the package
    AddRole {
        id: String,
        /// Resource role id
        #[arg(long, value_name = "ROLE_ID")]
        role: String,
    },
}

pub async fn run_package(api: &ApiArgs, cmd: PackageCommand) -> Result<()> {
    let client = ApiClient::new(api)?;
    match cmd {
        PackageCommand::List { catalog } => {
            let mut url = client.em(&[SET]);
            if let Some(catalog) = catalog {
                url.query_pairs_mut().append_pair("$filter", &format!("catalog/id eq {}", odata_string(&catalog)));
            }
            print_list(api.json, client.list_all(url).await?, COLUMNS, package_row)
        }
        PackageCommand::Show { id } => {
            let mut url = client.em(&[SET, &id]);
            url.query_pairs_mut().append_pair("$expand", SHOW_EXPAND);
            let package = client.get(url).await?;
            if api.json {
                return print_json(&package);
            }
            let link = my_access_link(&client, &id);
            println!("{}", details_table(&package_details(&package, &link)));
            print_section("Resource roles", array(&package, "resourceRoleScopes"), ROLE_COLUMNS, role_scope_row);
            print_section("Assignment policies", array(&package, "assignmentPolicies"), POLICY_COLUMNS, policy_row);
            Ok(())
        }
        PackageCommand::Add { catalog, name, description, hidden } => {
            let body = add_body(&catalog, &name, description.as_deref(), hidden);
            let created = client.post(client.em(&[SET]), &body).await?;
            print_one(api.json, &created, COLUMNS, package_row)?;
            if !api.json {
                println!("My Access link: {}", my_access_link(&client, &field(&created, "id")));
            }
            Ok(())
        }
        PackageCommand::Delete { id } => {
            client.delete(client.em(&[SET, &id])).await?;
            println!("deleted access package {id}");
            Ok(())
        }
        PackageCommand::AddRole { id, role } => {
            let body = json!({"role": {"id": role}});
            let created = client.post(client.em(&[SET, &id, "resourceRoleScopes"]), &body).await?;
            print_one(api.json, &created, ROLE_SCOPE_COLUMNS, added_role_row)
        }
    }
}

/// Where a user requests the package in Gatehouse's My Access portal.
fn my_access_link(client: &ApiClient, id: &str) -> String {
    client.url(&["myaccess", "packages", id]).into()
}

fn add_body(catalog: &str, name: &str, description: Option<&str>, hidden: bool) -> Value {
    let mut body = json!({"displayName": name, "isHidden": hidden, "catalog": {"id": catalog}});
    if let Some(description) = description {
        body["description"] = json!(description);
    }
    body
}

fn package_row(package: &Value) -> Vec<String> {
    vec![field(package, "id"), field(package, "displayName"), field(package, "isHidden"), field(package, "description")]
}

fn package_details(package: &Value, link: &str) -> Vec<(&'static str, String)> {
    vec![
        ("ID", field(package, "id")),
        ("NAME", field(package, "displayName")),
        ("DESCRIPTION", field(package, "description")),
        ("HIDDEN", field(package, "isHidden")),
        ("CREATED", field(package, "createdDateTime")),
        ("MODIFIED", field(package, "modifiedDateTime")),
        ("MY ACCESS", link.to_owned()),
    ]
}

fn role_scope_row(scope: &Value) -> Vec<String> {
    vec![
        first_of(scope, &["/role/displayName", "/role/id"]),
        first_of(scope, &["/role/originId"]),
        first_of(scope, &["/scope/displayName", "/scope/originId", "/scope/id"]),
    ]
}

fn added_role_row(scope: &Value) -> Vec<String> {
    vec![
        field(scope, "id"),
        first_of(scope, &["/role/displayName", "/role/originId", "/role/id"]),
        first_of(scope, &["/scope/displayName", "/scope/originId", "/scope/id"]),
    ]
}

fn policy_row(policy: &Value) -> Vec<String> {
    vec![field(policy, "id"), field(policy, "displayName"), field(policy, "allowedTargetScope")]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_body_includes_catalog_and_visibility() {
        assert_eq!(
            add_body("cat-1", "P", None, false),
            json!({"displayName": "P", "isHidden": false, "catalog": {"id": "cat-1"}})
        );
        assert_eq!(add_body("cat-1", "P", Some("d"), true)["description"], "d");
    }

    #[test]
    fn my_access_link_is_under_the_server_url() {
        let api = ApiArgs { url: "https://gh.example/".into(), token: Some("t".into()), json: false };
        let client = ApiClient::new(&api).unwrap();
        assert_eq!(my_access_link(&client, "p 1"), "https://gh.example/myaccess/packages/p%201");
    }

    #[test]
    fn show_rows_read_expanded_navigation() {
        let package = json!({
            "id": "p1", "displayName": "Sales", "isHidden": true,
            "resourceRoleScopes": [{"id": "rs1",
                "role": {"id": "role-m", "displayName": "Member", "originId": "Member_g1"},
                "scope": {"id": "s1", "originId": "g1", "displayName": "Root"}}],
            "assignmentPolicies": [{"id": "pol1", "displayName": "Partners",
                "allowedTargetScope": "allConfiguredConnectedOrganizationUsers"}]
        });
        assert_eq!(package_row(&package), ["p1", "Sales", "yes", ""]);
        let scopes = array(&package, "resourceRoleScopes");
        assert_eq!(role_scope_row(&scopes[0]), ["Member", "Member_g1", "Root"]);
        assert_eq!(added_role_row(&scopes[0]), ["rs1", "Member", "Root"]);
        assert_eq!(added_role_row(&json!({"id": "rs2"})), ["rs2", "", ""]);
        let policies = array(&package, "assignmentPolicies");
        assert_eq!(policy_row(&policies[0]), ["pol1", "Partners", "allConfiguredConnectedOrganizationUsers"]);
        let details = package_details(&package, "http://l");
        assert_eq!(details.last().unwrap(), &("MY ACCESS", "http://l".to_owned()));
    }
}
