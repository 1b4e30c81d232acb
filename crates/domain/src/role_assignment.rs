//! Catalog role assignments in Graph's shape (`unifiedRoleAssignment` under
//! `/roleManagement/entitlementManagement`): a role definition, a principal, and the catalog as
//! the app scope `/AccessPackageCatalog/{catalogId}`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::odata::{CompareOp, Expr, Literal};
use crate::principal::CatalogRole;
use crate::ValidationError;

/// Entra's well-known role definition ids of the entitlement-management roles, so scripts
/// written for Graph assign the same roles here.
const DEFINITIONS: [(CatalogRole, Uuid); 4] = [
    (CatalogRole::Owner, Uuid::from_u128(0xae79f266_94d4_4dab_b730_feca7e132178)),
    (CatalogRole::Reader, Uuid::from_u128(0x44272f93_9762_48e8_af59_1b5351b1d6b3)),
    (CatalogRole::AccessPackageManager, Uuid::from_u128(0x7f480852_ebdc_47d4_87de_0d8498384a83)),
    (CatalogRole::AccessPackageAssignmentManager, Uuid::from_u128(0xe2182095_804a_4656_ae11_64734e9b7ae5)),
];

const CATALOG_SCOPE: &str = "/AccessPackageCatalog/";

pub fn definition_id(role: CatalogRole) -> Uuid {
    DEFINITIONS.iter().find(|(r, _)| *r == role).map(|(_, id)| *id).expect("every catalog role has a definition")
}

pub fn role_of_definition(id: Uuid) -> Option<CatalogRole> {
    DEFINITIONS.iter().find(|(_, d)| *d == id).map(|(r, _)| *r)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "unifiedRoleAssignment")]
pub struct RoleAssignment {
    pub id: String,
    pub role_definition_id: Uuid,
    pub principal_id: Uuid,
    pub directory_scope_id: String,
    pub app_scope_id: String,
    #[serde(skip)]
    pub catalog_id: Uuid,
    #[serde(skip)]
    pub role: CatalogRole,
}

impl RoleAssignment {
    /// The id names the triple itself (`{catalog}_{principal}_{definition}`): the store keys
    /// assignments by it, so no second key is needed and a repeated POST finds the same one.
    pub fn new(catalog_id: Uuid, principal_id: Uuid, role: CatalogRole) -> Self {
        let definition = definition_id(role);
        RoleAssignment {
            id: format!("{catalog_id}_{principal_id}_{definition}"),
            role_definition_id: definition,
            principal_id,
            directory_scope_id: "/".into(),
            app_scope_id: format!("{CATALOG_SCOPE}{catalog_id}"),
            catalog_id,
            role,
        }
    }

    /// `(catalog, principal, role)` from an id, or `None` for anything we did not issue.
    pub fn parse_id(id: &str) -> Option<(Uuid, Uuid, CatalogRole)> {
        let mut parts = id.split('_');
        let catalog = Uuid::parse_str(parts.next()?).ok()?;
        let principal = Uuid::parse_str(parts.next()?).ok()?;
        let role = role_of_definition(Uuid::parse_str(parts.next()?).ok()?)?;
        parts.next().is_none().then_some((catalog, principal, role))
    }
}

impl RoleAssignment {
    /// Whether this assignment passes a `$filter` of `eq` comparisons on its properties joined
    /// by `and`/`or` (what Graph clients send: `principalId eq '…'`, `roleDefinitionId eq '…'`,
    /// `appScopeId eq '/AccessPackageCatalog/…'`); anything else is refused, not ignored.
    pub fn matches(&self, filter: &Expr) -> Result<bool, ValidationError> {
        let refuse = || {
            ValidationError::new(
                "$filter",
                "roleAssignments filter on id, principalId, roleDefinitionId, appScopeId or directoryScopeId with eq, and, or",
            )
        };
        match filter {
            Expr::And(a, b) => Ok(self.matches(a)? && self.matches(b)?),
            Expr::Or(a, b) => Ok(self.matches(a)? || self.matches(b)?),
            Expr::Compare { op: CompareOp::Eq, lhs, rhs } => {
                let (Expr::Path(path), Expr::Literal(value)) = (lhs.as_ref(), rhs.as_ref()) else {
                    return Err(refuse());
                };
                let value = match value {
                    Literal::String(v) => v.clone(),
                    Literal::Guid(g) => g.to_string(),
                    _ => return Err(refuse()),
                };
                let actual = match path.join("/").as_str() {
                    "id" => self.id.clone(),
                    "principalId" => self.principal_id.to_string(),
                    "roleDefinitionId" => self.role_definition_id.to_string(),
                    "appScopeId" => self.app_scope_id.clone(),
                    "directoryScopeId" => self.directory_scope_id.clone(),
                    _ => return Err(refuse()),
                };
                Ok(actual.eq_ignore_ascii_case(&value))
            }
            _ => Err(refuse()),
        }
    }
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewRoleAssignment {
    #[schemars(required)]
    pub role_definition_id: Option<String>,
    #[schemars(required, extend("format" = "uuid"))]
    pub principal_id: Option<String>,
    pub directory_scope_id: Option<String>,
    pub app_scope_id: Option<String>,
}

impl NewRoleAssignment {
    /// Graph puts the catalog in `appScopeId` (with `directoryScopeId` "/"); `directoryScopeId`
    /// naming the catalog is accepted too.
    pub fn validate(self) -> Result<(Uuid, Uuid, CatalogRole), ValidationError> {
        let guid = |field: &str, v: Option<String>| -> Result<Uuid, ValidationError> {
            let v = v.ok_or_else(|| ValidationError::new(field, format!("{field} is required")))?;
            Uuid::parse_str(&v).map_err(|_| ValidationError::new(field, format!("'{v}' is not a valid id")))
        };
        let definition = guid("roleDefinitionId", self.role_definition_id)?;
        let role = role_of_definition(definition).ok_or_else(|| {
            ValidationError::new(
                "roleDefinitionId",
                format!("'{definition}' is not a catalog role (owner, reader, access package manager, access package assignment manager)"),
            )
        })?;
        let principal = guid("principalId", self.principal_id)?;
        let scope =
            [self.app_scope_id, self.directory_scope_id].into_iter().flatten().find(|s| s != "/").ok_or_else(|| {
                ValidationError::new("appScopeId", format!("appScopeId must be {CATALOG_SCOPE}{{catalogId}}"))
            })?;
        let catalog = scope.strip_prefix(CATALOG_SCOPE).and_then(|c| Uuid::parse_str(c).ok()).ok_or_else(|| {
            ValidationError::new("appScopeId", format!("'{scope}' is not {CATALOG_SCOPE}{{catalogId}}"))
        })?;
        Ok((catalog, principal, role))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_foreign_ids_do_not_parse() {
        for (role, _) in DEFINITIONS {
            let a = RoleAssignment::new(Uuid::from_u128(1), Uuid::from_u128(2), role);
            assert_eq!(RoleAssignment::parse_id(&a.id), Some((Uuid::from_u128(1), Uuid::from_u128(2), role)));
        }
        assert_eq!(RoleAssignment::parse_id("x"), None);
        assert_eq!(RoleAssignment::parse_id(&format!("{0}_{0}_{0}", Uuid::nil())), None);
    }

    #[test]
    fn filters_select_by_eq_and_refuse_the_rest() {
        let a = RoleAssignment::new(Uuid::from_u128(1), Uuid::from_u128(2), CatalogRole::Reader);
        let f = |text: &str| crate::odata::parse_filter(text).unwrap();
        let me = format!("principalId eq '{}'", Uuid::from_u128(2));
        assert!(a.matches(&f(&me)).unwrap());
        let both = format!("{me} and roleDefinitionId eq '44272f93-9762-48e8-af59-1b5351b1d6b3'");
        assert!(a.matches(&f(&both)).unwrap());
        assert!(!a.matches(&f("appScopeId eq '/AccessPackageCatalog/x'")).unwrap());
        assert!(a.matches(&f("startswith(appScopeId, '/')")).is_err());
        assert!(a.matches(&f("displayName eq 'x'")).is_err());
    }

    #[test]
    fn the_catalog_comes_from_the_app_scope() {
        let input = |app: Option<&str>, dir: Option<&str>| NewRoleAssignment {
            role_definition_id: Some("ae79f266-94d4-4dab-b730-feca7e132178".into()),
            principal_id: Some(Uuid::from_u128(5).to_string()),
            directory_scope_id: dir.map(str::to_owned),
            app_scope_id: app.map(str::to_owned),
        };
        let c = Uuid::from_u128(9);
        let scope = format!("/AccessPackageCatalog/{c}");
        assert_eq!(input(Some(&scope), Some("/")).validate().unwrap(), (c, Uuid::from_u128(5), CatalogRole::Owner));
        assert_eq!(input(None, Some(&scope)).validate().unwrap().0, c);
        assert!(input(None, Some("/")).validate().is_err());
        assert!(input(Some("/AccessPackageCatalog/nope"), None).validate().is_err());
    }
}
