//! What a principal may do to entitlement-management objects, catalog by catalog.
//!
//! [`Principal::may`] answers per route ("may this caller reach the catalog API at all?");
//! [`can`] answers per object ("may they change *this* catalog's packages?"). Services call
//! [`can`] with the catalog of the object they loaded, and [`reach`] to restrict a list to the
//! catalogs the caller may see, so a list never shows another catalog's objects.
//!
//! The rules follow Entra ID Governance's role table:
//! - global and identity governance administrators: everything, in every catalog;
//! - catalog creator: create catalogs (and becomes owner of each one they create);
//! - catalog owner: everything inside their catalog, including its role assignments;
//! - access package manager: packages and policies in the catalog, and their assignments;
//! - access package assignment manager: assignments and requests of the catalog's packages;
//! - catalog reader: reads everything in the catalog, changes nothing.
//!
//! Every role reads the catalog it holds. Writes also need a token that may write.

use uuid::Uuid;

use crate::principal::{CatalogRole, Denied, DirectoryRole, Principal, TokenScope};

/// Something a caller wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// See a catalog and what is configured in it: resources, packages, policies, role
    /// assignments.
    ReadCatalog,
    /// Change the catalog itself: its properties, its resources, who holds roles in it.
    ManageCatalog,
    /// Create, change and delete packages, what they grant, and their policies.
    ManagePackages,
    /// See the assignments and assignment requests of the catalog's packages.
    ReadAssignments,
    /// Assign and remove directly (adminAdd, adminUpdate, adminRemove), reprocess, delete
    /// request records.
    ManageAssignments,
    /// Create a new catalog (tenant-wide).
    CreateCatalog,
    /// Tenant-wide configuration: connected organizations, settings, the audit log.
    ManageTenant,
    ReadTenant,
}

impl Action {
    pub fn writes(self) -> bool {
        matches!(
            self,
            Action::ManageCatalog
                | Action::ManagePackages
                | Action::ManageAssignments
                | Action::CreateCatalog
                | Action::ManageTenant
        )
    }

    /// The catalog roles that allow this action in their catalog.
    fn catalog_roles(self) -> &'static [CatalogRole] {
        use CatalogRole::*;
        match self {
            Action::ReadCatalog | Action::ReadAssignments => {
                &[Owner, Reader, AccessPackageManager, AccessPackageAssignmentManager]
            }
            Action::ManageCatalog => &[Owner],
            Action::ManagePackages => &[Owner, AccessPackageManager],
            Action::ManageAssignments => &[Owner, AccessPackageManager, AccessPackageAssignmentManager],
            Action::CreateCatalog | Action::ManageTenant | Action::ReadTenant => &[],
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Action::ReadCatalog | Action::ReadAssignments => {
                "the Identity Governance Administrator role or a role in this catalog"
            }
            Action::ManageCatalog => "the Identity Governance Administrator role or the catalog owner role on this catalog",
            Action::ManagePackages => {
                "the Identity Governance Administrator role, or the catalog owner or access package manager role on this catalog"
            }
            Action::ManageAssignments => {
                "the Identity Governance Administrator role, or the catalog owner, access package manager or access package assignment manager role on this catalog"
            }
            Action::CreateCatalog => "the Catalog creator role",
            Action::ManageTenant | Action::ReadTenant => "the Identity Governance Administrator role",
        }
    }
}

/// Where an action applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Tenant,
    Catalog(Uuid),
}

/// Which catalogs a caller may act on, for filtering lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    All,
    /// Only these (possibly none).
    Catalogs(Vec<Uuid>),
}

impl Reach {
    pub fn includes(&self, catalog: Uuid) -> bool {
        match self {
            Reach::All => true,
            Reach::Catalogs(c) => c.contains(&catalog),
        }
    }
}

fn governance(p: &Principal) -> bool {
    p.directory_roles
        .iter()
        .any(|r| matches!(r, DirectoryRole::GlobalAdministrator | DirectoryRole::IdentityGovernanceAdministrator))
}

fn scope_allows(p: &Principal, action: Action) -> Result<(), Denied> {
    let ok = if action.writes() {
        p.scopes.contains(&TokenScope::ReadWrite)
    } else {
        p.scopes.iter().any(|s| matches!(s, TokenScope::Read | TokenScope::ReadWrite))
    };
    if ok {
        return Ok(());
    }
    let needed = if action.writes() { TokenScope::ReadWrite } else { TokenScope::Read };
    Err(Denied(format!("the token lacks the {needed} scope")))
}

/// May `p` do `action` at `scope`? Deny by default.
pub fn can(p: &Principal, action: Action, scope: Scope) -> Result<(), Denied> {
    scope_allows(p, action)?;
    let allowed = governance(p)
        || match (action, scope) {
            (Action::CreateCatalog, _) => p.directory_roles.contains(&DirectoryRole::CatalogCreator),
            (_, Scope::Catalog(c)) => {
                p.catalog_roles.iter().any(|(held, role)| *held == c && action.catalog_roles().contains(role))
            }
            (_, Scope::Tenant) => false,
        };
    if allowed {
        Ok(())
    } else {
        Err(Denied(format!("this operation needs {}", action.describe())))
    }
}

/// The catalogs where `p` may do `action`: every catalog for administrators, otherwise those
/// where they hold a role that allows it. A token without the needed scope reaches none.
pub fn reach(p: &Principal, action: Action) -> Reach {
    if scope_allows(p, action).is_err() {
        return Reach::Catalogs(Vec::new());
    }
    if governance(p) {
        return Reach::All;
    }
    let mut ids: Vec<Uuid> =
        p.catalog_roles.iter().filter(|(_, role)| action.catalog_roles().contains(role)).map(|(c, _)| *c).collect();
    ids.sort();
    ids.dedup();
    Reach::Catalogs(ids)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::enums::UserType;

    const ALL_ACTIONS: [Action; 8] = [
        Action::ReadCatalog,
        Action::ManageCatalog,
        Action::ManagePackages,
        Action::ReadAssignments,
        Action::ManageAssignments,
        Action::CreateCatalog,
        Action::ManageTenant,
        Action::ReadTenant,
    ];
    const ROLES: [CatalogRole; 4] = [
        CatalogRole::Owner,
        CatalogRole::Reader,
        CatalogRole::AccessPackageManager,
        CatalogRole::AccessPackageAssignmentManager,
    ];

    fn who(dir: Vec<DirectoryRole>, cat: Vec<(Uuid, CatalogRole)>, scope: TokenScope) -> Principal {
        Principal {
            user_id: Uuid::nil(),
            display_name: "x".into(),
            user_type: UserType::Member,
            directory_roles: dir,
            catalog_roles: cat,
            scopes: vec![scope],
        }
    }

    #[test]
    fn owner_manages_only_their_catalog() {
        let (mine, other) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let p = who(vec![], vec![(mine, CatalogRole::Owner)], TokenScope::ReadWrite);
        for a in [Action::ReadCatalog, Action::ManageCatalog, Action::ManagePackages, Action::ManageAssignments] {
            assert!(can(&p, a, Scope::Catalog(mine)).is_ok(), "{a:?}");
            assert!(can(&p, a, Scope::Catalog(other)).is_err(), "{a:?}");
        }
        assert!(can(&p, Action::ManageTenant, Scope::Tenant).is_err());
        assert!(can(&p, Action::CreateCatalog, Scope::Tenant).is_err());
        assert_eq!(reach(&p, Action::ReadCatalog), Reach::Catalogs(vec![mine]));
    }

    #[test]
    fn each_catalog_role_does_what_its_name_says() {
        let c = Uuid::from_u128(7);
        let at = |role| who(vec![], vec![(c, role)], TokenScope::ReadWrite);
        let ok = |p: &Principal, a| can(p, a, Scope::Catalog(c)).is_ok();
        let reader = at(CatalogRole::Reader);
        assert!(ok(&reader, Action::ReadCatalog) && ok(&reader, Action::ReadAssignments));
        assert!(!ok(&reader, Action::ManagePackages) && !ok(&reader, Action::ManageAssignments));
        let apm = at(CatalogRole::AccessPackageManager);
        assert!(ok(&apm, Action::ManagePackages) && ok(&apm, Action::ManageAssignments));
        assert!(!ok(&apm, Action::ManageCatalog));
        let apam = at(CatalogRole::AccessPackageAssignmentManager);
        assert!(ok(&apam, Action::ManageAssignments) && ok(&apam, Action::ReadCatalog));
        assert!(!ok(&apam, Action::ManagePackages) && !ok(&apam, Action::ManageCatalog));
    }

    #[test]
    fn creators_create_but_reach_nothing_else() {
        let p = who(vec![DirectoryRole::CatalogCreator], vec![], TokenScope::ReadWrite);
        assert!(can(&p, Action::CreateCatalog, Scope::Tenant).is_ok());
        assert!(can(&p, Action::ReadCatalog, Scope::Catalog(Uuid::from_u128(3))).is_err());
        assert_eq!(reach(&p, Action::ReadCatalog), Reach::Catalogs(vec![]));
    }

    #[test]
    fn read_tokens_never_write() {
        let p = who(vec![DirectoryRole::GlobalAdministrator], vec![], TokenScope::Read);
        assert!(can(&p, Action::ReadCatalog, Scope::Catalog(Uuid::nil())).is_ok());
        let e = can(&p, Action::ManagePackages, Scope::Catalog(Uuid::nil())).unwrap_err();
        assert!(e.0.contains("ReadWrite"));
        assert_eq!(reach(&p, Action::ManageAssignments), Reach::Catalogs(vec![]));
        assert_eq!(reach(&p, Action::ReadAssignments), Reach::All);
    }

    fn any_role() -> impl Strategy<Value = CatalogRole> {
        (0..ROLES.len()).prop_map(|i| ROLES[i])
    }

    proptest! {
        /// Without a directory role, nothing is ever allowed in a catalog where the caller holds
        /// no role, and `reach` agrees with `can` on every catalog.
        #[test]
        fn catalog_roles_never_leak_to_other_catalogs(
            held in proptest::collection::vec((0u128..4, any_role()), 0..6),
            target in 0u128..6,
            action in 0usize..ALL_ACTIONS.len(),
            write in any::<bool>(),
        ) {
            let held: Vec<(Uuid, CatalogRole)> = held.into_iter().map(|(c, r)| (Uuid::from_u128(c), r)).collect();
            let scope = if write { TokenScope::ReadWrite } else { TokenScope::Read };
            let p = who(vec![], held.clone(), scope);
            let action = ALL_ACTIONS[action];
            let target = Uuid::from_u128(target);
            let allowed = can(&p, action, Scope::Catalog(target)).is_ok();
            if !held.iter().any(|(c, _)| *c == target) {
                prop_assert!(!allowed);
            }
            if action != Action::CreateCatalog {
                prop_assert_eq!(allowed, reach(&p, action).includes(target));
            }
            if action.writes() && !write {
                prop_assert!(!allowed);
            }
        }

        /// Administrators may do everything their token's scope allows, everywhere.
        #[test]
        fn administrators_reach_everything(target in any::<u128>(), action in 0usize..ALL_ACTIONS.len()) {
            let action = ALL_ACTIONS[action];
            for role in [DirectoryRole::GlobalAdministrator, DirectoryRole::IdentityGovernanceAdministrator] {
                let p = who(vec![role], vec![], TokenScope::ReadWrite);
                prop_assert!(can(&p, action, Scope::Catalog(Uuid::from_u128(target))).is_ok());
                prop_assert_eq!(reach(&p, action), Reach::All);
            }
        }
    }
}
