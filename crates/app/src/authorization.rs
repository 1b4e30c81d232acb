//! The services' side of [`gatehouse_domain::authorization`]: checks against an [`Actor`]
//! (the system acts for itself and may do anything) and list filters over the catalogs the
//! caller reaches, so no list shows another catalog's objects.

use gatehouse_domain::authorization::{self, Action, Reach, Scope};
use gatehouse_store::query::{Param, Where};
use gatehouse_store::Conn;
use uuid::Uuid;

use crate::{Actor, AppError, Result};

impl Actor {
    /// May this actor do `action` in `catalog`? A refusal is a 403 that names the missing role.
    pub fn check(&self, action: Action, catalog: Uuid) -> Result<()> {
        self.check_at(action, Scope::Catalog(catalog))
    }

    pub fn check_at(&self, action: Action, scope: Scope) -> Result<()> {
        match &self.principal {
            None => Ok(()),
            Some(p) => authorization::can(p, action, scope).map_err(|d| AppError::Forbidden(d.0)),
        }
    }

    pub fn reach(&self, action: Action) -> Reach {
        match &self.principal {
            None => Reach::All,
            Some(p) => authorization::reach(p, action),
        }
    }

    /// Whether the actor holds a tenant-wide entitlement-management role (administrators).
    pub fn governs(&self) -> bool {
        self.reach(Action::ReadCatalog) == Reach::All
    }
}

/// Restrict `scope` to rows whose `column` (a catalog id) the actor reaches for `action`.
pub(crate) fn in_reach(scope: Where, column: &str, actor: &Actor, action: Action) -> Where {
    restrict(scope, &format!("{column} IN ({{}})"), actor, action)
}

/// As [`in_reach`], for rows that name an access package in `column`.
pub(crate) fn packages_in_reach(scope: Where, column: &str, actor: &Actor, action: Action) -> Where {
    restrict(scope, &format!("{column} IN (SELECT id FROM access_packages WHERE catalog_id IN ({{}}))"), actor, action)
}

fn restrict(scope: Where, sql: &str, actor: &Actor, action: Action) -> Where {
    match actor.reach(action) {
        Reach::All => scope,
        Reach::Catalogs(ids) => scope.and_in(sql, ids.into_iter().map(|c| Param::Text(c.to_string()))),
    }
}

/// The catalog an access package belongs to, for checks on the package's children.
pub(crate) async fn catalog_of_package(conn: &mut Conn, package: Uuid) -> Result<Uuid> {
    match gatehouse_store::access_packages::get(conn, package).await? {
        Some(p) => Ok(p.catalog_id),
        None => crate::not_found("accessPackage", package),
    }
}
