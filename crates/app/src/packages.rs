//! Access packages, the resource roles they grant, and incompatibilities.

use gatehouse_domain::access_package::{
    AccessPackage, AccessPackagePatch, NewAccessPackage, NewResourceRoleScope, ResourceRoleScope,
};
use gatehouse_domain::authorization::Action;
use gatehouse_domain::catalog::{ResourceRole, ResourceScope};
use gatehouse_domain::ValidationError;
use gatehouse_store::access_packages::{self as packages, Incompatible};
use gatehouse_store::query::Where;
use gatehouse_store::WriteTx;
use gatehouse_store::{catalogs, Conn};
use uuid::Uuid;

use crate::audit::{created, deleted, updated};
use crate::authorization::in_reach;
use crate::directory::require_group;
use crate::{not_found, Actor, App, AppError, ListQuery, Page, Result};

/// A granted role with its role and scope, as Graph renders it.
#[derive(Debug, Clone)]
pub struct GrantedRole {
    pub role_scope: ResourceRoleScope,
    pub role: ResourceRole,
    pub scope: ResourceScope,
}

async fn require_package(conn: &mut Conn, id: Uuid) -> Result<AccessPackage> {
    match packages::get(conn, id).await? {
        Some(p) => Ok(p),
        None => not_found("accessPackage", id),
    }
}

/// A package the actor may change: they manage packages in its catalog.
async fn managed_package(conn: &mut Conn, actor: &Actor, id: Uuid) -> Result<AccessPackage> {
    let package = require_package(conn, id).await?;
    actor.check(Action::ManagePackages, package.catalog_id)?;
    Ok(package)
}

impl App {
    pub async fn create_package(&self, actor: &Actor, input: NewAccessPackage) -> Result<AccessPackage> {
        let mut tx = self.store.begin().await?;
        let out = self.create_package_in(&mut tx, actor, input).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// [`Self::create_package`] inside the caller's transaction (the admin portal's wizards write
    /// several objects at once).
    pub(crate) async fn create_package_in(
        &self,
        tx: &mut WriteTx,
        actor: &Actor,
        input: NewAccessPackage,
    ) -> Result<AccessPackage> {
        let package = AccessPackage::create(input, crate::new_id(), self.now())?;
        if catalogs::get(tx, package.catalog_id).await?.is_none() {
            return Err(
                ValidationError::new("catalog", format!("catalog '{}' does not exist", package.catalog_id)).into()
            );
        }
        actor.check(Action::ManagePackages, package.catalog_id)?;
        packages::insert(tx, &package).await?;
        self.audit(tx, actor, created("accessPackage.create", "accessPackage", package.id, &package)).await?;
        Ok(package)
    }

    pub async fn update_package(&self, actor: &Actor, id: Uuid, patch: AccessPackagePatch) -> Result<AccessPackage> {
        let mut tx = self.store.begin().await?;
        let before = managed_package(&mut tx, actor, id).await?;
        let mut after = before.clone();
        after.apply(patch, self.now())?;
        packages::update(&mut tx, &after).await?;
        self.audit(&mut tx, actor, updated("accessPackage.update", "accessPackage", id, &before, &after)).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Refused while anyone holds the package; its policies go with it.
    pub async fn delete_package(&self, actor: &Actor, id: Uuid) -> Result<()> {
        let mut tx = self.store.begin().await?;
        let before = managed_package(&mut tx, actor, id).await?;
        let held = packages::count_assignments(&mut tx, id).await?;
        if held > 0 {
            return Err(AppError::Conflict(format!(
                "access package '{}' still has {held} assignment(s); remove them first",
                before.display_name
            )));
        }
        packages::delete(&mut tx, id).await?;
        self.audit(&mut tx, actor, deleted("accessPackage.delete", "accessPackage", id, &before)).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn get_package(&self, actor: &Actor, id: Uuid) -> Result<AccessPackage> {
        let mut conn = self.store.conn().await?;
        let package = require_package(&mut conn, id).await?;
        actor.check(Action::ReadCatalog, package.catalog_id)?;
        Ok(package)
    }

    /// Packages in `scope` that the caller may see: only those of catalogs they hold a role in.
    pub async fn list_packages(&self, actor: &Actor, scope: Where, q: ListQuery<'_>) -> Result<Page<AccessPackage>> {
        let scope = in_reach(scope, "t.catalog_id", actor, Action::ReadCatalog);
        let mut conn = self.store.conn().await?;
        let page = gatehouse_store::query::list(&mut conn, &packages::SCHEMA, scope, q).await?;
        Page::from_rows(page, packages::from_row)
    }

    /// Grant a resource role through a package. Role and scope must come from a resource in the
    /// package's own catalog; the scope defaults to the resource's root scope.
    pub async fn add_role_scope(
        &self,
        actor: &Actor,
        package_id: Uuid,
        input: NewResourceRoleScope,
    ) -> Result<GrantedRole> {
        let mut tx = self.store.begin().await?;
        let out = self.add_role_scope_in(&mut tx, actor, package_id, input).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// [`Self::add_role_scope`] inside the caller's transaction (the admin portal's wizards write
    /// several objects at once).
    pub(crate) async fn add_role_scope_in(
        &self,
        tx: &mut WriteTx,
        actor: &Actor,
        package_id: Uuid,
        input: NewResourceRoleScope,
    ) -> Result<GrantedRole> {
        let package = managed_package(tx, actor, package_id).await?;
        let role_ref = input.role.ok_or_else(|| ValidationError::new("role", "role is required"))?;
        let role = match (role_ref.id, role_ref.origin_id.as_deref()) {
            (Some(id), _) => catalogs::get_role(tx, id).await?,
            (None, Some(origin)) => {
                catalogs::find_role(tx, package.catalog_id, origin, role_ref.resource.map(|r| r.id)).await?
            }
            (None, None) => return Err(ValidationError::new("role", "role needs an id or an originId").into()),
        }
        .ok_or_else(|| ValidationError::new("role", "the role does not exist"))?;
        if role.catalog_id != package.catalog_id {
            return Err(ValidationError::new(
                "role",
                format!("role '{}' belongs to a resource in another catalog; add the resource to this package's catalog first", role.display_name),
            )
            .into());
        }
        let scope = match input.scope {
            Some(s) => match (s.id, s.origin_id.as_deref()) {
                (Some(id), _) => catalogs::get_scope(tx, id).await?,
                (None, Some(origin)) => catalogs::find_scope(tx, package.catalog_id, origin, role.resource_id).await?,
                (None, None) => None,
            }
            .ok_or_else(|| ValidationError::new("scope", "the scope does not exist"))?,
            None => catalogs::scopes_of(tx, role.resource_id)
                .await?
                .into_iter()
                .find(|s| s.is_root_scope)
                .ok_or_else(|| ValidationError::new("scope", "the resource has no root scope"))?,
        };
        if scope.resource_id != role.resource_id {
            return Err(ValidationError::new("scope", "role and scope must belong to the same resource").into());
        }
        let rs = ResourceRoleScope {
            access_package_id: package_id,
            role_id: role.id,
            scope_id: scope.id,
            created_date_time: self.now(),
        };
        if !packages::add_role_scope(tx, &rs).await? {
            return Err(AppError::Conflict(format!(
                "access package '{}' already grants role '{}'",
                package.display_name, role.display_name
            )));
        }
        let change = serde_json::json!({"id": rs.id(), "role": role, "scope": scope});
        self.audit(tx, actor, created("accessPackage.addResourceRoleScope", "accessPackage", package_id, &change))
            .await?;
        Ok(GrantedRole { role_scope: rs, role, scope })
    }

    pub async fn remove_role_scope(&self, actor: &Actor, package_id: Uuid, role_scope_id: &str) -> Result<()> {
        let Some((role, scope)) = ResourceRoleScope::parse_id(role_scope_id) else {
            return not_found("resourceRoleScope", role_scope_id);
        };
        let mut tx = self.store.begin().await?;
        managed_package(&mut tx, actor, package_id).await?;
        if !packages::remove_role_scope(&mut tx, package_id, role, scope).await? {
            return not_found("resourceRoleScope", role_scope_id);
        }
        let change = serde_json::json!({"id": role_scope_id});
        self.audit(
            &mut tx,
            actor,
            deleted("accessPackage.removeResourceRoleScope", "accessPackage", package_id, &change),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn granted_roles(&self, actor: &Actor, package_id: Uuid) -> Result<Vec<GrantedRole>> {
        let mut conn = self.store.conn().await?;
        let package = require_package(&mut conn, package_id).await?;
        actor.check(Action::ReadCatalog, package.catalog_id)?;
        let mut out = Vec::new();
        for rs in packages::role_scopes(&mut conn, package_id).await? {
            let role = catalogs::get_role(&mut conn, rs.role_id).await?;
            let scope = catalogs::get_scope(&mut conn, rs.scope_id).await?;
            if let (Some(role), Some(scope)) = (role, scope) {
                out.push(GrantedRole { role_scope: rs, role, scope });
            }
        }
        Ok(out)
    }

    pub async fn add_incompatible_package(&self, actor: &Actor, package_id: Uuid, other: Uuid) -> Result<()> {
        if package_id == other {
            return Err(
                ValidationError::new("@odata.id", "an access package cannot be incompatible with itself").into()
            );
        }
        let mut tx = self.store.begin().await?;
        managed_package(&mut tx, actor, package_id).await?;
        let Some(other_package) = packages::get(&mut tx, other).await? else {
            return Err(ValidationError::new("@odata.id", format!("access package '{other}' does not exist")).into());
        };
        // Naming a package of a catalog the caller cannot see would let them probe it.
        actor.check(Action::ReadCatalog, other_package.catalog_id)?;
        if packages::add_incompatible(&mut tx, Incompatible::AccessPackage, package_id, other).await? {
            let change = serde_json::json!({"incompatibleAccessPackageId": other});
            self.audit(
                &mut tx,
                actor,
                created("accessPackage.addIncompatibleAccessPackage", "accessPackage", package_id, &change),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn add_incompatible_group(&self, actor: &Actor, package_id: Uuid, group: Uuid) -> Result<()> {
        let mut tx = self.store.begin().await?;
        managed_package(&mut tx, actor, package_id).await?;
        require_group(&mut tx, group, "@odata.id").await?;
        if packages::add_incompatible(&mut tx, Incompatible::Group, package_id, group).await? {
            let change = serde_json::json!({"incompatibleGroupId": group});
            self.audit(
                &mut tx,
                actor,
                created("accessPackage.addIncompatibleGroup", "accessPackage", package_id, &change),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn remove_incompatible(
        &self,
        actor: &Actor,
        package_id: Uuid,
        kind: Incompatible,
        other: Uuid,
    ) -> Result<()> {
        let mut tx = self.store.begin().await?;
        managed_package(&mut tx, actor, package_id).await?;
        if !packages::remove_incompatible(&mut tx, kind, package_id, other).await? {
            return not_found("incompatibility", other);
        }
        let change = serde_json::json!({"removed": other});
        self.audit(&mut tx, actor, deleted("accessPackage.removeIncompatible", "accessPackage", package_id, &change))
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
