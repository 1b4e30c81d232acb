//! Catalogs, the resources in them with their roles and scopes, and resource requests.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::enums::{CatalogState, CatalogType, RequestState, RequestType};
use crate::error::{invalid, optional_text, required_text, ValidationError, DESCRIPTION_MAX, NAME_MAX};
use crate::input::EntityRef;

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "accessPackageCatalog")]
pub struct Catalog {
    pub id: Uuid,
    pub display_name: String,
    pub description: Option<String>,
    pub catalog_type: CatalogType,
    pub state: CatalogState,
    pub is_externally_visible: bool,
    pub created_date_time: DateTime<Utc>,
    pub modified_date_time: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewCatalog {
    #[schemars(required, length(min = 1, max = 256))]
    pub display_name: Option<String>,
    #[schemars(length(max = 1024))]
    pub description: Option<String>,
    pub state: Option<CatalogState>,
    pub is_externally_visible: Option<bool>,
    pub catalog_type: Option<CatalogType>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CatalogPatch {
    #[schemars(length(min = 1, max = 256))]
    pub display_name: Option<String>,
    #[serde(default, deserialize_with = "crate::input::nullable")]
    pub description: Option<Option<String>>,
    pub state: Option<CatalogState>,
    pub is_externally_visible: Option<bool>,
    pub catalog_type: Option<CatalogType>,
}

fn validate_state(state: CatalogState) -> Result<CatalogState, ValidationError> {
    if state == CatalogState::UnknownFutureValue {
        return invalid("state", "state must be published or unpublished");
    }
    Ok(state)
}

fn validate_type(t: Option<CatalogType>) -> Result<(), ValidationError> {
    match t {
        None | Some(CatalogType::UserManaged) => Ok(()),
        Some(other) => invalid("catalogType", format!("catalogType '{other}' is set by the service; use userManaged")),
    }
}

impl Catalog {
    pub fn create(input: NewCatalog, id: Uuid, now: DateTime<Utc>) -> Result<Self, ValidationError> {
        validate_type(input.catalog_type)?;
        Ok(Catalog {
            id,
            display_name: required_text("displayName", input.display_name.as_deref(), NAME_MAX)?,
            description: optional_text("description", input.description.as_deref(), DESCRIPTION_MAX)?,
            catalog_type: CatalogType::UserManaged,
            state: validate_state(input.state.unwrap_or(CatalogState::Published))?,
            // Graph's and the portal's default; nothing is requestable without a policy anyway.
            is_externally_visible: input.is_externally_visible.unwrap_or(true),
            created_date_time: now,
            modified_date_time: now,
        })
    }

    pub fn apply(&mut self, patch: CatalogPatch, now: DateTime<Utc>) -> Result<(), ValidationError> {
        validate_type(patch.catalog_type)?;
        if let Some(name) = patch.display_name {
            self.display_name = required_text("displayName", Some(&name), NAME_MAX)?;
        }
        if let Some(d) = patch.description {
            self.description = optional_text("description", d.as_deref(), DESCRIPTION_MAX)?;
        }
        if let Some(state) = patch.state {
            self.state = validate_state(state)?;
        }
        if let Some(v) = patch.is_externally_visible {
            self.is_externally_visible = v;
        }
        self.modified_date_time = now;
        Ok(())
    }

    /// Whether packages here may get policies that admit users from outside the host.
    pub fn open_to_external_users(&self) -> Result<(), ValidationError> {
        if self.state != CatalogState::Published {
            return invalid(
                "allowedTargetScope",
                format!(
                    "catalog '{}' is not enabled (state is {}); enable it before adding policies for external users",
                    self.display_name, self.state
                ),
            );
        }
        if !self.is_externally_visible {
            return invalid(
                "allowedTargetScope",
                format!(
                    "catalog '{}' is not enabled for external users (isExternallyVisible is false)",
                    self.display_name
                ),
            );
        }
        Ok(())
    }
}

/// Origin systems Gatehouse can provision. `AadGroup` is the built-in directory group, named as
/// in Graph so that scripts written for Graph work unchanged.
pub const ORIGIN_DIRECTORY_GROUP: &str = "AadGroup";

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "accessPackageResource")]
pub struct Resource {
    pub id: Uuid,
    #[serde(skip)]
    pub catalog_id: Uuid,
    pub display_name: String,
    pub description: Option<String>,
    pub origin_system: String,
    pub origin_id: String,
    /// The connection the resource lives in (`environment` in Graph); none for directory groups.
    #[serde(skip)]
    pub connection_id: Option<Uuid>,
    pub created_date_time: DateTime<Utc>,
    pub modified_date_time: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "accessPackageResourceRole")]
pub struct ResourceRole {
    pub id: Uuid,
    #[serde(skip)]
    pub resource_id: Uuid,
    #[serde(skip)]
    pub catalog_id: Uuid,
    pub display_name: String,
    pub description: Option<String>,
    pub origin_system: String,
    pub origin_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "accessPackageResourceScope")]
pub struct ResourceScope {
    pub id: Uuid,
    #[serde(skip)]
    pub resource_id: Uuid,
    #[serde(skip)]
    pub catalog_id: Uuid,
    pub display_name: String,
    pub description: Option<String>,
    pub origin_system: String,
    pub origin_id: String,
    pub is_root_scope: bool,
}

impl Resource {
    /// The roles of `(display name, origin id)` with ids `role_ids`, and the root scope.
    pub fn roles_and_scope(
        &self,
        roles: &[(String, String)],
        role_ids: &[Uuid],
        scope_id: Uuid,
    ) -> (Vec<ResourceRole>, ResourceScope) {
        let roles = roles
            .iter()
            .zip(role_ids)
            .map(|((name, origin_id), id)| ResourceRole {
                id: *id,
                resource_id: self.id,
                catalog_id: self.catalog_id,
                display_name: name.clone(),
                description: None,
                origin_system: self.origin_system.clone(),
                origin_id: origin_id.clone(),
            })
            .collect();
        let scope = ResourceScope {
            id: scope_id,
            resource_id: self.id,
            catalog_id: self.catalog_id,
            display_name: "Root".into(),
            description: Some("Root Scope".into()),
            origin_system: self.origin_system.clone(),
            origin_id: self.origin_id.clone(),
            is_root_scope: true,
        };
        (roles, scope)
    }
}

/// `POST resourceRequests`: the way a resource enters or leaves a catalog.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewResourceRequest {
    #[schemars(required)]
    pub request_type: Option<RequestType>,
    #[schemars(required)]
    pub resource: Option<ResourceInput>,
    #[schemars(required)]
    pub catalog: Option<EntityRef>,
    pub justification: Option<String>,
    pub state: Option<RequestState>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourceInput {
    pub id: Option<Uuid>,
    pub display_name: Option<String>,
    pub description: Option<String>,
    pub origin_id: Option<String>,
    pub origin_system: Option<String>,
    /// Where the resource lives: the connection (Graph's `accessPackageResourceEnvironment`),
    /// for every origin system but `AadGroup`.
    pub environment: Option<EnvironmentRef>,
}

/// A connection named as a resource's environment: by `id`, or by `originId` (the same id).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EnvironmentRef {
    pub id: Option<Uuid>,
    pub origin_id: Option<String>,
}

/// The `(display name, origin id)` of a group's roles: each name as `<name>_<group id>`. A
/// directory group offers Member and Owner; a target's group, Member.
pub fn group_roles(group_origin_id: &str, names: &[&str]) -> Vec<(String, String)> {
    names.iter().map(|n| ((*n).to_owned(), format!("{n}_{group_origin_id}"))).collect()
}

/// The origin systems resources can come from.
pub const ORIGIN_SYSTEMS: [&str; 5] = [
    ORIGIN_DIRECTORY_GROUP,
    crate::connection::ORIGIN_SCIM_GROUP,
    crate::connection::ORIGIN_SCIM_APPLICATION,
    crate::connection::ORIGIN_LDAP_GROUP,
    crate::connection::ORIGIN_WEBHOOK,
];

/// What a resource request asks for, after validation.
#[derive(Debug, Clone, PartialEq)]
pub enum ResourceRequestAction {
    Add {
        origin_system: String,
        /// Absent for resources that are the connection itself (a SCIM application, a webhook
        /// target): their origin id is the connection's id.
        origin_id: Option<String>,
        display_name: Option<String>,
        description: Option<String>,
        connection_id: Option<Uuid>,
    },
    Remove {
        resource_id: Uuid,
    },
}

impl NewResourceRequest {
    pub fn validate(self) -> Result<(RequestType, Uuid, ResourceRequestAction), ValidationError> {
        let catalog = self.catalog.ok_or_else(|| ValidationError::new("catalog", "catalog with an id is required"))?;
        let resource = self.resource.ok_or_else(|| ValidationError::new("resource", "resource is required"))?;
        let request_type =
            self.request_type.ok_or_else(|| ValidationError::new("requestType", "requestType is required"))?;
        let action = match request_type {
            RequestType::AdminAdd | RequestType::AdminUpdate => {
                let origin_system = required_text("resource.originSystem", resource.origin_system.as_deref(), 64)?;
                let Some(origin_system) = ORIGIN_SYSTEMS.iter().find(|o| o.eq_ignore_ascii_case(&origin_system)) else {
                    return invalid(
                        "resource.originSystem",
                        format!("origin system '{origin_system}' is not supported; supported: {}", ORIGIN_SYSTEMS.join(", ")),
                    );
                };
                let connection_id = match resource.environment {
                    None => None,
                    Some(EnvironmentRef { id: Some(id), .. }) => Some(id),
                    Some(EnvironmentRef { origin_id: Some(o), .. }) => Some(Uuid::parse_str(o.trim()).map_err(|_| {
                        ValidationError::new("resource.environment", format!("environment '{o}' is not a connection id"))
                    })?),
                    Some(_) => return invalid("resource.environment", "resource.environment needs the connection's id"),
                };
                let is_group = matches!(
                    *origin_system,
                    ORIGIN_DIRECTORY_GROUP | crate::connection::ORIGIN_SCIM_GROUP | crate::connection::ORIGIN_LDAP_GROUP
                );
                match (*origin_system == ORIGIN_DIRECTORY_GROUP, connection_id) {
                    (true, Some(_)) => {
                        return invalid("resource.environment", "a directory group (AadGroup) lives in Gatehouse itself; leave environment out")
                    }
                    (false, None) => {
                        return invalid(
                            "resource.environment",
                            format!("a {origin_system} resource needs resource.environment.id: the connection it lives in"),
                        )
                    }
                    _ => {}
                }
                ResourceRequestAction::Add {
                    origin_system: (*origin_system).to_owned(),
                    origin_id: if is_group {
                        Some(required_text("resource.originId", resource.origin_id.as_deref(), 1024)?)
                    } else {
                        optional_text("resource.originId", resource.origin_id.as_deref(), 1024)?
                    },
                    display_name: optional_text("resource.displayName", resource.display_name.as_deref(), NAME_MAX)?,
                    description: optional_text("resource.description", resource.description.as_deref(), DESCRIPTION_MAX)?,
                    connection_id,
                }
            }
            RequestType::AdminRemove => ResourceRequestAction::Remove {
                resource_id: resource.id.ok_or_else(|| ValidationError::new("resource.id", "resource.id is required to remove a resource"))?,
            },
            other => {
                return invalid("requestType", format!("requestType '{other}' is not valid for a resource request; use adminAdd, adminUpdate or adminRemove"))
            }
        };
        Ok((request_type, catalog.id, action))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "accessPackageResourceRequest")]
pub struct ResourceRequest {
    pub id: Uuid,
    pub request_type: RequestType,
    pub state: RequestState,
    pub created_date_time: DateTime<Utc>,
    #[serde(skip)]
    pub catalog_id: Uuid,
    #[serde(skip)]
    pub resource_id: Option<Uuid>,
}
