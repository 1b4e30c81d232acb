//! Access packages and the resource roles they grant.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{optional_text, required_text, ValidationError, DESCRIPTION_MAX, NAME_MAX};
use crate::input::EntityRef;

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "accessPackageProperties")]
pub struct AccessPackage {
    pub id: Uuid,
    #[serde(skip)]
    pub catalog_id: Uuid,
    pub display_name: String,
    pub description: Option<String>,
    pub is_hidden: bool,
    pub created_date_time: DateTime<Utc>,
    pub modified_date_time: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewAccessPackage {
    #[schemars(required, length(min = 1, max = 256))]
    pub display_name: Option<String>,
    #[schemars(length(max = 1024))]
    pub description: Option<String>,
    pub is_hidden: Option<bool>,
    #[schemars(required)]
    pub catalog: Option<EntityRef>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AccessPackagePatch {
    #[schemars(length(min = 1, max = 256))]
    pub display_name: Option<String>,
    #[serde(default, deserialize_with = "crate::input::nullable")]
    pub description: Option<Option<String>>,
    pub is_hidden: Option<bool>,
    pub catalog: Option<EntityRef>,
}

impl AccessPackage {
    pub fn create(input: NewAccessPackage, id: Uuid, now: DateTime<Utc>) -> Result<Self, ValidationError> {
        let catalog = input.catalog.ok_or_else(|| ValidationError::new("catalog", "catalog with an id is required"))?;
        Ok(AccessPackage {
            id,
            catalog_id: catalog.id,
            display_name: required_text("displayName", input.display_name.as_deref(), NAME_MAX)?,
            description: optional_text("description", input.description.as_deref(), DESCRIPTION_MAX)?,
            is_hidden: input.is_hidden.unwrap_or(false),
            created_date_time: now,
            modified_date_time: now,
        })
    }

    pub fn apply(&mut self, patch: AccessPackagePatch, now: DateTime<Utc>) -> Result<(), ValidationError> {
        if let Some(catalog) = patch.catalog {
            if catalog.id != self.catalog_id {
                return Err(ValidationError::new("catalog", "an access package cannot move to another catalog"));
            }
        }
        if let Some(name) = patch.display_name {
            self.display_name = required_text("displayName", Some(&name), NAME_MAX)?;
        }
        if let Some(d) = patch.description {
            self.description = optional_text("description", d.as_deref(), DESCRIPTION_MAX)?;
        }
        if let Some(h) = patch.is_hidden {
            self.is_hidden = h;
        }
        self.modified_date_time = now;
        Ok(())
    }

    /// The requestor-facing direct link, which works for hidden packages too.
    pub fn my_access_link(&self, public_base_url: &str) -> String {
        format!("{}/myaccess/packages/{}", public_base_url.trim_end_matches('/'), self.id)
    }
}

/// A resource role granted by a package. Graph ids it `{roleId}_{scopeId}`.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceRoleScope {
    pub access_package_id: Uuid,
    pub role_id: Uuid,
    pub scope_id: Uuid,
    pub created_date_time: DateTime<Utc>,
}

impl ResourceRoleScope {
    pub fn id(&self) -> String {
        format!("{}_{}", self.role_id, self.scope_id)
    }

    pub fn parse_id(id: &str) -> Option<(Uuid, Uuid)> {
        let (r, s) = id.split_once('_')?;
        Some((Uuid::parse_str(r).ok()?, Uuid::parse_str(s).ok()?))
    }
}

/// `POST accessPackages/{id}/resourceRoleScopes`: role and scope named by id, or by origin id.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewResourceRoleScope {
    pub role: Option<RoleOrScopeRef>,
    pub scope: Option<RoleOrScopeRef>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoleOrScopeRef {
    pub id: Option<Uuid>,
    pub origin_id: Option<String>,
    pub origin_system: Option<String>,
    pub resource: Option<EntityRef>,
}
