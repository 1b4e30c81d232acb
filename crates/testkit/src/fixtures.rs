//! Setups many scenarios share, built through the API like an administrator would.

pub mod extranet;
pub mod partner;

use serde_json::{json, Value};

use crate::{TestServer, EM};

/// A catalog whose resource is a new directory group, and a package granting its Member role.
pub struct GroupPackage {
    pub group: String,
    pub catalog: String,
    pub package: String,
}

fn id(v: Value) -> String {
    v["id"].as_str().expect("created entities have an id").to_owned()
}

impl TestServer {
    pub async fn group_package(&self, package_name: &str) -> GroupPackage {
        let group = id(self.post("/v1.0/groups", json!({"displayName": "Team"})).await.expect(201));
        let catalog = id(self.post(&format!("{EM}/catalogs"), json!({"displayName": "Catalog"})).await.expect(201));
        self.post(
            &format!("{EM}/resourceRequests"),
            json!({"requestType": "adminAdd", "catalog": {"id": catalog}, "resource": {"originId": group, "originSystem": "AadGroup"}}),
        )
        .await
        .expect(201);
        let package = self.package_granting(&catalog, &group, package_name).await;
        GroupPackage { group, catalog, package }
    }

    /// Another package in `catalog` granting `group`'s Member role.
    pub async fn package_granting(&self, catalog: &str, group: &str, name: &str) -> String {
        let package = id(self
            .post(&format!("{EM}/accessPackages"), json!({"displayName": name, "catalog": {"id": catalog}}))
            .await
            .expect(201));
        self.post(
            &format!("{EM}/accessPackages/{package}/resourceRoleScopes"),
            json!({"role": {"originId": format!("Member_{group}")}}),
        )
        .await
        .expect(201);
        package
    }

    /// A policy on `package`: `body` holds the policy's settings; `displayName` defaults.
    pub async fn add_policy(&self, package: &str, mut body: Value) -> String {
        body["accessPackage"] = json!({"id": package});
        if body.get("displayName").is_none() {
            body["displayName"] = json!("Policy");
        }
        id(self.post(&format!("{EM}/assignmentPolicies"), body).await.expect(201))
    }

    /// A member user with a mail address; returns the id.
    pub async fn member(&self, name: &str, mail: &str) -> String {
        id(self.post("/v1.0/users", json!({"displayName": name, "mail": mail})).await.expect(201))
    }
}
