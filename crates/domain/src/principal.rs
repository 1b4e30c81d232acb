//! Who is calling and what they may do. The route table names a [`Permission`] per route;
//! [`Principal::may`] is the one place that decides.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::enums::UserType;

crate::graph_enum!(
    /// Tenant-wide administrative roles.
    DirectoryRole("directoryRole") {
        GlobalAdministrator = "globalAdministrator",
        IdentityGovernanceAdministrator = "identityGovernanceAdministrator",
        CatalogCreator = "catalogCreator",
    }
);

crate::graph_enum!(
    /// Roles held on one catalog.
    CatalogRole("catalogRole") {
        Owner = "owner", Reader = "reader", AccessPackageManager = "accessPackageManager",
        AccessPackageAssignmentManager = "accessPackageAssignmentManager",
    }
);

crate::graph_enum!(
    /// OAuth scopes a token carries.
    TokenScope("scope") {
        Read = "EntitlementManagement.Read.All",
        ReadWrite = "EntitlementManagement.ReadWrite.All",
    }
);

/// What a route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Permission {
    /// Anyone, signed in or not (health, metrics, OpenAPI).
    Anonymous,
    /// Any signed-in principal (`/me`).
    Authenticated,
    /// Any signed-in principal whose token may write: self-service changes (submit or cancel
    /// a request, decide an approval). Which ones the caller may make is the service's call.
    AuthenticatedWrite,
    /// Read the entitlement-management configuration.
    EntitlementRead,
    /// Change the tenant-wide entitlement-management configuration (connected organizations,
    /// settings).
    EntitlementWrite,
    /// Change something inside a catalog: any entitlement-management role passes the route,
    /// and the service decides for the object's catalog (`authorization::can`).
    CatalogWrite,
    /// Read tenant-wide records that span every catalog (the audit log): administrators only.
    TenantRead,
    /// Create catalogs.
    CatalogCreate,
    DirectoryRead,
    DirectoryWrite,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user_id: Uuid,
    pub display_name: String,
    pub user_type: UserType,
    pub directory_roles: Vec<DirectoryRole>,
    pub catalog_roles: Vec<(Uuid, CatalogRole)>,
    pub scopes: Vec<TokenScope>,
}

/// Why a principal was refused, for a 403 that tells them what is missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied(pub String);

impl Principal {
    fn has(&self, role: DirectoryRole) -> bool {
        self.directory_roles.contains(&role)
    }

    fn can_write(&self) -> bool {
        self.scopes.contains(&TokenScope::ReadWrite)
    }

    fn can_read(&self) -> bool {
        self.can_write() || self.scopes.contains(&TokenScope::Read)
    }

    /// Deny by default: each permission lists the roles that grant it.
    pub fn may(&self, permission: Permission) -> Result<(), Denied> {
        use DirectoryRole::*;
        let admin = self.has(GlobalAdministrator);
        let governance = admin || self.has(IdentityGovernanceAdministrator);
        let (role_ok, needs_write, needed) = match permission {
            Permission::Anonymous | Permission::Authenticated => (true, false, ""),
            Permission::AuthenticatedWrite => (true, true, ""),
            Permission::EntitlementRead => (
                governance || self.has(CatalogCreator) || !self.catalog_roles.is_empty(),
                false,
                "an entitlement-management role",
            ),
            Permission::EntitlementWrite => (governance, true, "the Identity Governance Administrator role"),
            Permission::CatalogWrite => (
                governance || self.has(CatalogCreator) || !self.catalog_roles.is_empty(),
                true,
                "the Identity Governance Administrator role or a catalog role",
            ),
            Permission::TenantRead => (governance, false, "the Identity Governance Administrator role"),
            Permission::CatalogCreate => (governance || self.has(CatalogCreator), true, "the Catalog creator role"),
            Permission::DirectoryRead => (governance || self.user_type == UserType::Member, false, "a member account"),
            Permission::DirectoryWrite => (admin, true, "the Global Administrator role"),
        };
        if !role_ok {
            return Err(Denied(format!("this operation needs {needed}")));
        }
        let scope_ok = match permission {
            Permission::Anonymous | Permission::Authenticated => true,
            _ if needs_write => self.can_write(),
            _ => self.can_read(),
        };
        if !scope_ok {
            let scope = if needs_write { TokenScope::ReadWrite } else { TokenScope::Read };
            return Err(Denied(format!("the token lacks the {scope} scope")));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(roles: Vec<DirectoryRole>, scopes: Vec<TokenScope>) -> Principal {
        Principal {
            user_id: Uuid::nil(),
            display_name: "x".into(),
            user_type: UserType::Member,
            directory_roles: roles,
            catalog_roles: vec![],
            scopes,
        }
    }

    #[test]
    fn deny_by_default() {
        let nobody = principal(vec![], vec![TokenScope::ReadWrite]);
        assert!(nobody.may(Permission::EntitlementRead).is_err());
        assert!(nobody.may(Permission::EntitlementWrite).is_err());
        assert!(nobody.may(Permission::Authenticated).is_ok());
        assert!(nobody.may(Permission::AuthenticatedWrite).is_ok());
    }

    #[test]
    fn self_service_changes_need_a_write_token() {
        let reader = principal(vec![], vec![TokenScope::Read]);
        assert!(reader.may(Permission::Authenticated).is_ok());
        assert!(reader.may(Permission::AuthenticatedWrite).unwrap_err().0.contains("ReadWrite"));
    }

    #[test]
    fn read_scope_cannot_write() {
        let admin = principal(vec![DirectoryRole::GlobalAdministrator], vec![TokenScope::Read]);
        assert!(admin.may(Permission::EntitlementRead).is_ok());
        let e = admin.may(Permission::EntitlementWrite).unwrap_err();
        assert!(e.0.contains("ReadWrite"));
    }

    #[test]
    fn governance_admin_cannot_change_directory() {
        let iga = principal(vec![DirectoryRole::IdentityGovernanceAdministrator], vec![TokenScope::ReadWrite]);
        assert!(iga.may(Permission::EntitlementWrite).is_ok());
        assert!(iga.may(Permission::DirectoryWrite).is_err());
    }
}
