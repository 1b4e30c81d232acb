//! Catalogs hold the resources (groups) whose roles access packages hand out. `show` lists those resources with
//! their role ids because the role id is exactly what `package add-role` needs and is otherwise hard to find.

use anyhow::Result;
use serde_json::{json, Value};

use super::client::ApiClient;
use super::table::{array, at, details_table, field, first_of, print_json, print_list, print_one, print_section};
use super::ApiArgs;

const SET: &str = "catalogs";
const COLUMNS: &[&str] = &["ID", "NAME", "STATE", "EXTERNAL", "TYPE"];
const RESOURCE_COLUMNS: &[&str] = &["ID", "NAME", "SYSTEM", "ORIGIN ID"];
const ROLE_COLUMNS: &[&str] = &["ROLE ID", "ROLE", "ORIGIN ID", "RESOURCE"];
const REQUEST_COLUMNS: &[&str] = &["ID", "TYPE", "STATE", "GROUP", "NAME"];

#[derive(clap::Subcommand, Debug)]
pub enum CatalogCommand {
    /// List catalogs
    List,
    /// Show a catalog with its resources and their roles
    Show { id: String },
    /// Add a catalog
    Add {
        /// Display name
        #[arg(long)]
        name: String,
        /// Description
        #[arg(long)]
        description: Option<String>,
        /// Hide the catalog's packages from users of connected organizations
        #[arg(long)]
        not_external: bool,
        /// Create the catalog unpublished (its packages cannot be requested)
        #[arg(long)]
        unpublished: bool,
    },
    /// Delete a catalog
    Delete { id: String },
    /// Add a group to the catalog as a resource
    AddGroup {
        id: String,
        /// Group id
        #[arg(long, value_name = "GROUP_ID")]
        group: String,
    },
    /// Add a resource from a connection: one of its groups (--group, a SCIM group id or an LDAP
    /// group's DN), or without --group the connection itself (a SCIM application's accounts,
    /// a webhook target's roles)
    AddResource {
        id: String,
        #[arg(long, value_name = "CONNECTION_ID")]
        connection: String,
        #[arg(long, value_name = "ORIGIN_ID")]
        group: Option<String>,
    },
}

pub async fn run_catalog(api: &ApiArgs, cmd: CatalogCommand) -> Result<()> {
    let client = ApiClient::new(api)?;
    match cmd {
        CatalogCommand::List => print_list(api.json, client.list_all(client.em(&[SET])).await?, COLUMNS, catalog_row),
        CatalogCommand::Show { id } => {
            let mut resources_url = client.em(&[SET, &id, "resources"]);
            resources_url.query_pairs_mut().append_pair("$expand", "roles");
            let (catalog, resources) =
                tokio::try_join!(client.get(client.em(&[SET, &id])), client.list_all(resources_url))?;
            if api.json {
                return print_json(&with_resources(catalog, resources));
            }
            println!("{}", details_table(&catalog_details(&catalog)));
            print_section("Resources", &resources, RESOURCE_COLUMNS, resource_row);
            print_section("Roles (ids for `gatehouse package add-role`)", &roles(&resources), ROLE_COLUMNS, role_row);
            Ok(())
        }
        CatalogCommand::Add { name, description, not_external, unpublished } => {
            let body = add_body(&name, description.as_deref(), !not_external, !unpublished);
            let created = client.post(client.em(&[SET]), &body).await?;
            print_one(api.json, &created, COLUMNS, catalog_row)
        }
        CatalogCommand::Delete { id } => {
            client.delete(client.em(&[SET, &id])).await?;
            println!("deleted catalog {id}");
            Ok(())
        }
        CatalogCommand::AddResource { id, connection, group } => {
            super::connections::add_resource(api, &id, &connection, group.as_deref()).await
        }
        CatalogCommand::AddGroup { id, group } => {
            let created = client.post(client.em(&["resourceRequests"]), &add_group_body(&id, &group)).await?;
            print_one(api.json, &created, REQUEST_COLUMNS, request_row)
        }
    }
}

fn add_body(name: &str, description: Option<&str>, external: bool, published: bool) -> Value {
    let mut body = json!({
        "displayName": name,
        "isExternallyVisible": external,
        "state": if published { "published" } else { "unpublished" },
    });
    if let Some(description) = description {
        body["description"] = json!(description);
    }
    body
}

fn add_group_body(catalog: &str, group: &str) -> Value {
    json!({
        "requestType": "adminAdd",
        "resource": {"originId": group, "originSystem": "AadGroup"},
        "catalog": {"id": catalog},
    })
}

/// The catalog as if fetched with `$expand=resources($expand=roles)`.
fn with_resources(catalog: Value, resources: Vec<Value>) -> Value {
    match catalog {
        Value::Object(mut map) => {
            map.insert("resources".into(), Value::Array(resources));
            Value::Object(map)
        }
        other => json!({"catalog": other, "resources": resources}),
    }
}

fn catalog_row(catalog: &Value) -> Vec<String> {
    vec![
        field(catalog, "id"),
        field(catalog, "displayName"),
        field(catalog, "state"),
        field(catalog, "isExternallyVisible"),
        field(catalog, "catalogType"),
    ]
}

fn catalog_details(catalog: &Value) -> Vec<(&'static str, String)> {
    vec![
        ("ID", field(catalog, "id")),
        ("NAME", field(catalog, "displayName")),
        ("DESCRIPTION", field(catalog, "description")),
        ("STATE", field(catalog, "state")),
        ("EXTERNAL", field(catalog, "isExternallyVisible")),
        ("TYPE", field(catalog, "catalogType")),
        ("CREATED", field(catalog, "createdDateTime")),
        ("MODIFIED", field(catalog, "modifiedDateTime")),
    ]
}

fn resource_row(resource: &Value) -> Vec<String> {
    vec![
        field(resource, "id"),
        field(resource, "displayName"),
        field(resource, "originSystem"),
        field(resource, "originId"),
    ]
}

/// Every role of every resource, each carrying its resource's name (under `resourceName`) for the table.
fn roles(resources: &[Value]) -> Vec<Value> {
    resources
        .iter()
        .flat_map(|resource| {
            array(resource, "roles").iter().map(move |role| {
                let mut role = role.clone();
                if let Value::Object(map) = &mut role {
                    map.insert("resourceName".into(), json!(first_of(resource, &["/displayName", "/originId"])));
                }
                role
            })
        })
        .collect()
}

fn role_row(role: &Value) -> Vec<String> {
    vec![field(role, "id"), field(role, "displayName"), field(role, "originId"), field(role, "resourceName")]
}

fn request_row(request: &Value) -> Vec<String> {
    vec![
        field(request, "id"),
        field(request, "requestType"),
        first_of(request, &["/state", "/requestState"]),
        at(request, "/resource/originId"),
        at(request, "/resource/displayName"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_body_maps_the_flags() {
        assert_eq!(
            add_body("C", None, true, true),
            json!({"displayName": "C", "isExternallyVisible": true, "state": "published"})
        );
        assert_eq!(
            add_body("C", Some("d"), false, false),
            json!({"displayName": "C", "description": "d", "isExternallyVisible": false, "state": "unpublished"})
        );
    }

    #[test]
    fn add_group_is_an_admin_add_resource_request() {
        assert_eq!(
            add_group_body("cat-1", "grp-1"),
            json!({"requestType": "adminAdd", "resource": {"originId": "grp-1", "originSystem": "AadGroup"},
                   "catalog": {"id": "cat-1"}})
        );
    }

    #[test]
    fn catalog_rows() {
        let c = json!({"id": "c1", "displayName": "General", "state": "published", "isExternallyVisible": false,
                       "catalogType": "userManaged"});
        assert_eq!(catalog_row(&c), ["c1", "General", "published", "no", "userManaged"]);
    }

    #[test]
    fn roles_are_flattened_with_their_resource() {
        let resources = vec![
            json!({"id": "r1", "displayName": "Sales", "originSystem": "AadGroup", "originId": "g1",
                   "roles": [{"id": "role-m", "displayName": "Member", "originId": "Member_g1"},
                             {"id": "role-o", "displayName": "Owner", "originId": "Owner_g1"}]}),
            json!({"id": "r2", "originId": "g2"}),
        ];
        let rows: Vec<_> = roles(&resources).iter().map(role_row).collect();
        assert_eq!(rows, [["role-m", "Member", "Member_g1", "Sales"], ["role-o", "Owner", "Owner_g1", "Sales"]]);
        assert_eq!(resource_row(&resources[1]), ["r2", "", "", "g2"]);
        let merged = with_resources(json!({"id": "c1"}), resources);
        assert_eq!(array(&merged, "resources").len(), 2);
    }

    #[test]
    fn request_rows_accept_either_state_name() {
        let r = json!({"id": "q1", "requestType": "adminAdd", "requestState": "delivered",
                       "resource": {"originId": "g1", "displayName": "Sales"}});
        assert_eq!(request_row(&r), ["q1", "adminAdd", "delivered", "g1", "Sales"]);
    }
}
