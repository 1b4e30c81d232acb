//! Catalog role assignments (`/roleManagement/entitlementManagement/roleAssignments`): who
//! holds which role in which catalog. Administrators and the catalog's owners assign them.

use gatehouse_domain::authorization::{Action, Reach};
use gatehouse_domain::principal::CatalogRole;
use gatehouse_domain::role_assignment::{NewRoleAssignment, RoleAssignment};
use gatehouse_domain::ValidationError;
use gatehouse_store::{catalog_roles, catalogs, directory, WriteTx};
use uuid::Uuid;

use crate::audit::{created, deleted};
use crate::{not_found, Actor, App, AppError, Result};

impl App {
    /// The role assignments of every catalog the caller may read.
    pub async fn list_role_assignments(&self, actor: &Actor) -> Result<Vec<RoleAssignment>> {
        let mut conn = self.store.conn().await?;
        let reach = actor.reach(Action::ReadCatalog);
        let only = match &reach {
            Reach::All => None,
            Reach::Catalogs(ids) => Some(ids.as_slice()),
        };
        let held = catalog_roles::list(&mut conn, only).await?;
        Ok(held.into_iter().map(|(c, u, r)| RoleAssignment::new(c, u, r)).collect())
    }

    pub async fn get_role_assignment(&self, actor: &Actor, id: &str) -> Result<RoleAssignment> {
        let Some((catalog, user, role)) = RoleAssignment::parse_id(id) else { return not_found("roleAssignment", id) };
        // The id names its catalog, so the check comes first and probes nothing.
        actor.check(Action::ReadCatalog, catalog)?;
        let mut conn = self.store.conn().await?;
        if !catalog_roles::exists(&mut conn, catalog, user, role).await? {
            return not_found("roleAssignment", id);
        }
        Ok(RoleAssignment::new(catalog, user, role))
    }

    pub async fn create_role_assignment(&self, actor: &Actor, input: NewRoleAssignment) -> Result<RoleAssignment> {
        let (catalog, user, role) = input.validate()?;
        let mut tx = self.store.begin().await?;
        if catalogs::get(&mut tx, catalog).await?.is_none() {
            return Err(ValidationError::new("appScopeId", format!("catalog '{catalog}' does not exist")).into());
        }
        actor.check(Action::ManageCatalog, catalog)?;
        if directory::get_user(&mut tx, user).await?.is_none() {
            return Err(ValidationError::new("principalId", format!("user '{user}' does not exist")).into());
        }
        let assignment = RoleAssignment::new(catalog, user, role);
        if !self.grant_catalog_role_in(&mut tx, actor, catalog, user, role).await? {
            return Err(AppError::Conflict(format!("the principal already holds this role (id '{}')", assignment.id)));
        }
        tx.commit().await?;
        Ok(assignment)
    }

    pub async fn delete_role_assignment(&self, actor: &Actor, id: &str) -> Result<()> {
        let Some((catalog, user, role)) = RoleAssignment::parse_id(id) else { return not_found("roleAssignment", id) };
        actor.check(Action::ManageCatalog, catalog)?;
        let mut tx = self.store.begin().await?;
        if !catalog_roles::exists(&mut tx, catalog, user, role).await? {
            return not_found("roleAssignment", id);
        }
        catalog_roles::delete(&mut tx, catalog, user, role).await?;
        let before = RoleAssignment::new(catalog, user, role);
        self.audit(&mut tx, actor, deleted("roleAssignment.delete", "roleAssignment", &before.id, &before)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Grant a catalog role inside the caller's transaction, audited. Returns false when the
    /// role was already held (nothing written).
    pub(crate) async fn grant_catalog_role_in(
        &self,
        tx: &mut WriteTx,
        actor: &Actor,
        catalog: Uuid,
        user: Uuid,
        role: CatalogRole,
    ) -> Result<bool> {
        if !catalog_roles::insert(tx, catalog, user, role).await? {
            return Ok(false);
        }
        let after = RoleAssignment::new(catalog, user, role);
        self.audit(tx, actor, created("roleAssignment.create", "roleAssignment", &after.id, &after)).await?;
        Ok(true)
    }
}
