//! What a requestor may see and ask for: requestable packages, applicable policies, assignments.

use gatehouse_domain::access_package::AccessPackage;
use gatehouse_domain::assignment::Assignment;
use gatehouse_domain::authorization::Action;
use gatehouse_domain::evaluation::{self, Purpose};
use gatehouse_domain::policy::AssignmentPolicy;
use gatehouse_store::query::Where;
use gatehouse_store::{access_packages, assignments, catalogs, directory, policies};
use uuid::Uuid;

use crate::authorization::{catalog_of_package, packages_in_reach};

pub mod offer;
pub mod views;
use crate::{not_found, Actor, App, AppError, ListQuery, Page, Result};

impl App {
    async fn subject_for(
        &self,
        conn: &mut gatehouse_store::Conn,
        actor: &Actor,
    ) -> Result<gatehouse_domain::evaluation::Subject> {
        let me = actor.principal.as_ref().ok_or_else(|| AppError::Unauthenticated("sign in first".into()))?;
        let user = directory::get_user(conn, me.user_id)
            .await?
            .ok_or_else(|| AppError::Unauthenticated("your account no longer exists".into()))?;
        crate::requests::subject_of(conn, &user).await
    }

    /// The policies of `package` under which the caller may request it (works for hidden
    /// packages: a direct link must work for admitted users).
    pub async fn applicable_policies(
        &self,
        actor: &Actor,
        package: Uuid,
    ) -> Result<(AccessPackage, Vec<AssignmentPolicy>)> {
        let mut conn = self.store.conn().await?;
        let Some(pkg) = access_packages::get(&mut conn, package).await? else {
            return not_found("accessPackage", package);
        };
        let subject = self.subject_for(&mut conn, actor).await?;
        let catalog = catalogs::get(&mut conn, pkg.catalog_id)
            .await?
            .ok_or_else(|| AppError::Conflict("the package's catalog no longer exists".into()))?;
        let all = policies::of_package(&mut conn, package).await?;
        let admitted =
            evaluation::admitting_policies(&subject, &catalog, &all, Purpose::SelfAdd).into_iter().cloned().collect();
        Ok((pkg, admitted))
    }

    /// `accessPackages/filterByCurrentUser(on='allowedRequestor')`: packages the caller may
    /// request, matching `search` (name or description) when given. Hidden packages are
    /// never listed. The store narrows the policies to those in the caller's reach; the
    /// domain's evaluation decides.
    pub async fn requestable_packages(&self, actor: &Actor, search: Option<&str>) -> Result<Vec<AccessPackage>> {
        let mut conn = self.store.conn().await?;
        let subject = self.subject_for(&mut conn, actor).await?;
        let candidates = gatehouse_store::requestable::candidates(&mut conn, &subject.policy_reach(), search).await?;
        Ok(candidates
            .into_iter()
            .filter(|c| !evaluation::admitting_policies(&subject, &c.catalog, &c.policies, Purpose::SelfAdd).is_empty())
            .map(|c| c.package)
            .collect())
    }

    /// `GET assignments`: assignments of packages in catalogs the caller may read.
    pub async fn list_assignments_in_reach(
        &self,
        actor: &Actor,
        scope: Where,
        q: ListQuery<'_>,
    ) -> Result<Page<Assignment>> {
        let scope = packages_in_reach(scope, "t.access_package_id", actor, Action::ReadAssignments);
        self.list_assignments(scope, q).await
    }

    /// Assignments in `scope`, which must itself limit them to what the caller may see.
    pub async fn list_assignments(&self, scope: Where, q: ListQuery<'_>) -> Result<Page<Assignment>> {
        let mut conn = self.store.conn().await?;
        let page = gatehouse_store::query::list(&mut conn, &assignments::SCHEMA, scope, q).await?;
        Page::from_rows(page, assignments::from_row)
    }

    /// An assignment without a visibility check: for rendering the `assignment` navigation of a
    /// request the caller may already see.
    pub async fn assignment(&self, id: Uuid) -> Result<Option<Assignment>> {
        let mut conn = self.store.conn().await?;
        Ok(assignments::get(&mut conn, id).await?)
    }

    /// An assignment, visible to administrators and to its target.
    pub async fn get_assignment(&self, actor: &Actor, id: Uuid) -> Result<Assignment> {
        let me = actor.principal.as_ref().ok_or_else(|| AppError::Unauthenticated("sign in first".into()))?;
        let mut conn = self.store.conn().await?;
        match assignments::get(&mut conn, id).await? {
            Some(a) if a.target_id == me.user_id => Ok(a),
            Some(a) => {
                let catalog = catalog_of_package(&mut conn, a.access_package_id).await?;
                // Not 403: whether someone else's assignment exists is not the caller's business.
                match actor.check(Action::ReadAssignments, catalog) {
                    Ok(()) => Ok(a),
                    Err(_) => not_found("assignment", id),
                }
            }
            None => not_found("assignment", id),
        }
    }
}

impl App {
    /// `POST assignments/{id}/reprocess`: push the package's roles to the target again (after
    /// someone removed them in the origin system). Grants are idempotent.
    pub async fn reprocess_assignment(&self, actor: &Actor, id: Uuid) -> Result<Assignment> {
        actor.principal.as_ref().ok_or_else(|| AppError::Unauthenticated("sign in first".into()))?;
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let Some(a) = assignments::get(&mut tx, id).await? else { return not_found("assignment", id) };
        actor.check(Action::ManageAssignments, catalog_of_package(&mut tx, a.access_package_id).await?)?;
        if !a.is_active() {
            return Err(AppError::Conflict(format!("assignment '{id}' has ended; nothing to reprocess")));
        }
        // Not tied to a request: the assignment's request is long closed.
        let queued = crate::delivery::queue_grants(&mut tx, &a, None, false, now).await?;
        let change = serde_json::json!({"grantsQueued": queued});
        self.audit(&mut tx, actor, crate::audit::created("assignment.reprocess", "assignment", id, &change)).await?;
        tx.commit().await?;
        self.wake_workers();
        Ok(a)
    }
}
