//! Assignment policies: pure validation in the domain, references checked here.

use gatehouse_domain::authorization::Action;
use gatehouse_domain::policy::{AssignmentPolicy, PolicyContext, PolicyInput};
use gatehouse_domain::subject_set::SubjectSet;
use gatehouse_domain::ValidationError;
use gatehouse_store::query::Where;
use gatehouse_store::WriteTx;
use gatehouse_store::{access_packages, catalogs, connected_organizations, policies, Conn};
use uuid::Uuid;

use crate::audit::{created, deleted, updated};
use crate::authorization::in_reach;
use crate::directory::{require_group, require_user};
use crate::{not_found, Actor, App, AppError, ListQuery, Page, Result};

/// Every user, group and organization a policy names must exist, and a policy for external
/// users needs a catalog that is enabled and open to them.
async fn check_references(conn: &mut Conn, policy: &AssignmentPolicy) -> Result<()> {
    let catalog = catalogs::get(conn, policy.catalog_id)
        .await?
        .ok_or_else(|| AppError::Conflict("the package's catalog no longer exists".into()))?;
    if policy.allowed_target_scope.admits_external_users() {
        catalog.open_to_external_users()?;
    }
    for set in policy.subject_sets() {
        match set {
            SubjectSet::SingleUser { user_id, .. } => {
                require_user(conn, *user_id, "singleUser.userId").await?;
            }
            SubjectSet::GroupMembers { group_id, .. } => {
                require_group(conn, *group_id, "groupMembers.groupId").await?;
            }
            SubjectSet::ConnectedOrganizationMembers { connected_organization_id: id, .. }
                if connected_organizations::get(conn, *id).await?.is_none() =>
            {
                return Err(ValidationError::new(
                    "specificAllowedTargets",
                    format!("connected organization '{id}' does not exist"),
                )
                .into());
            }
            _ => {}
        }
    }
    // Each stage's extension is one of this catalog's, of the kind that serves the stage.
    for setting in &policy.custom_extension_stage_settings {
        let target = "customExtensionStageSettings";
        let stage = setting.stage.as_str();
        let Some(stored) = gatehouse_store::custom_extensions::get(conn, setting.custom_extension_id).await? else {
            return Err(ValidationError::new(
                target,
                format!("custom extension '{}' does not exist", setting.custom_extension_id),
            )
            .into());
        };
        let e = stored.extension;
        if e.catalog_id != policy.catalog_id {
            return Err(ValidationError::new(
                target,
                format!("custom extension '{}' belongs to another catalog", e.display_name),
            )
            .into());
        }
        if e.kind != setting.stage.kind() {
            return Err(ValidationError::new(
                target,
                format!(
                    "stage {stage} needs a {} extension; '{}' is a {}",
                    setting.stage.kind().odata_type(),
                    e.display_name,
                    e.kind.odata_type()
                ),
            )
            .into());
        }
    }
    Ok(())
}

impl App {
    pub async fn create_policy(&self, actor: &Actor, input: PolicyInput) -> Result<AssignmentPolicy> {
        let mut tx = self.store.begin().await?;
        let out = self.create_policy_in(&mut tx, actor, input).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// [`Self::create_policy`] inside the caller's transaction (the admin portal's wizards write
    /// several objects at once).
    pub(crate) async fn create_policy_in(
        &self,
        tx: &mut WriteTx,
        actor: &Actor,
        input: PolicyInput,
    ) -> Result<AssignmentPolicy> {
        let package_id = input
            .access_package_id()
            .ok_or_else(|| ValidationError::new("accessPackage", "accessPackage with an id is required"))?;
        let Some(package) = access_packages::get(tx, package_id).await? else {
            return Err(
                ValidationError::new("accessPackage", format!("access package '{package_id}' does not exist")).into()
            );
        };
        actor.check(Action::ManagePackages, package.catalog_id)?;
        let mut ids = crate::new_id;
        let policy = AssignmentPolicy::build(
            input,
            PolicyContext {
                id: crate::new_id(),
                access_package_id: package.id,
                catalog_id: package.catalog_id,
                now: self.now(),
                existing: None,
                new_id: &mut ids,
            },
        )?;
        check_references(tx, &policy).await?;
        policies::insert(tx, &policy).await?;
        self.audit(tx, actor, created("assignmentPolicy.create", "assignmentPolicy", policy.id, &policy)).await?;
        Ok(policy)
    }

    /// `PUT`: the whole policy is replaced; it stays on its package.
    pub async fn replace_policy(&self, actor: &Actor, id: Uuid, input: PolicyInput) -> Result<AssignmentPolicy> {
        let mut tx = self.store.begin().await?;
        let Some(before) = policies::get(&mut tx, id).await? else { return not_found("assignmentPolicy", id) };
        actor.check(Action::ManagePackages, before.catalog_id)?;
        if input.access_package_id().is_some_and(|p| p != before.access_package_id) {
            return Err(ValidationError::new("accessPackage", "a policy cannot move to another access package").into());
        }
        let mut ids = crate::new_id;
        let after = AssignmentPolicy::build(
            input,
            PolicyContext {
                id,
                access_package_id: before.access_package_id,
                catalog_id: before.catalog_id,
                now: self.now(),
                existing: Some(&before),
                new_id: &mut ids,
            },
        )?;
        check_references(&mut tx, &after).await?;
        policies::update(&mut tx, &after).await?;
        self.audit(&mut tx, actor, updated("assignmentPolicy.update", "assignmentPolicy", id, &before, &after)).await?;
        tx.commit().await?;
        Ok(after)
    }

    pub async fn delete_policy(&self, actor: &Actor, id: Uuid) -> Result<()> {
        let mut tx = self.store.begin().await?;
        let Some(before) = policies::get(&mut tx, id).await? else { return not_found("assignmentPolicy", id) };
        actor.check(Action::ManagePackages, before.catalog_id)?;
        let held = policies::count_assignments(&mut tx, id).await?;
        if held > 0 {
            return Err(AppError::Conflict(format!(
                "assignment policy '{}' still has {held} assignment(s); remove them first",
                before.display_name
            )));
        }
        policies::delete(&mut tx, id).await?;
        self.audit(&mut tx, actor, deleted("assignmentPolicy.delete", "assignmentPolicy", id, &before)).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn get_policy(&self, actor: &Actor, id: Uuid) -> Result<AssignmentPolicy> {
        let mut conn = self.store.conn().await?;
        match policies::get(&mut conn, id).await? {
            Some(p) => {
                actor.check(Action::ReadCatalog, p.catalog_id)?;
                Ok(p)
            }
            None => not_found("assignmentPolicy", id),
        }
    }

    /// Policies in `scope` of the catalogs the caller may see.
    pub async fn list_policies(&self, actor: &Actor, scope: Where, q: ListQuery<'_>) -> Result<Page<AssignmentPolicy>> {
        let scope = in_reach(scope, "t.catalog_id", actor, Action::ReadCatalog);
        let mut conn = self.store.conn().await?;
        let page = gatehouse_store::query::list(&mut conn, &policies::SCHEMA, scope, q).await?;
        Page::from_rows(page, policies::from_row)
    }
}
