//! Reading assignment requests: who may see which. Administrators and the catalog's roles see
//! the requests of its packages; a request is also visible to its target, its requestor and
//! its approvers; the `filterByCurrentUser` lists limit themselves.

use gatehouse_domain::authorization::Action;
use gatehouse_domain::request::AssignmentRequest;
use gatehouse_store::query::Where;
use gatehouse_store::requests;
use uuid::Uuid;

use crate::authorization::{catalog_of_package, packages_in_reach};
use crate::{not_found, Actor, App, AppError, ListQuery, Page, Result};

impl App {
    /// A request, visible to administrators, its target, its requestor and its approvers.
    pub async fn get_request(&self, actor: &Actor, id: Uuid) -> Result<AssignmentRequest> {
        let me = actor.principal.as_ref().ok_or_else(|| AppError::Unauthenticated("sign in first".into()))?;
        let mut conn = self.store.conn().await?;
        let Some(r) = requests::get(&mut conn, id).await? else { return not_found("assignmentRequest", id) };
        let approver = r.stages.iter().any(|s| {
            s.current_approvers().contains(&me.user_id) || s.decision.as_ref().is_some_and(|d| d.by == Some(me.user_id))
        });
        let catalog = catalog_of_package(&mut conn, r.access_package_id).await?;
        let visible = actor.check(Action::ReadAssignments, catalog).is_ok()
            || r.target_id == Some(me.user_id)
            || r.requestor_id == Some(me.user_id)
            || approver;
        if !visible {
            // Not 403: whether a request exists is itself not the caller's business.
            return not_found("assignmentRequest", id);
        }
        Ok(r)
    }

    /// `GET assignmentRequests`: the requests of packages in catalogs the caller may read.
    pub async fn list_requests_in_reach(
        &self,
        actor: &Actor,
        scope: Where,
        q: ListQuery<'_>,
    ) -> Result<Page<AssignmentRequest>> {
        let scope = packages_in_reach(scope, "t.access_package_id", actor, Action::ReadAssignments);
        self.list_requests(scope, q).await
    }

    /// Requests in `scope`, which must itself limit them to what the caller may see (the
    /// `filterByCurrentUser` lists).
    pub async fn list_requests(&self, scope: Where, q: ListQuery<'_>) -> Result<Page<AssignmentRequest>> {
        let mut conn = self.store.conn().await?;
        let page = gatehouse_store::query::list(&mut conn, &requests::SCHEMA, scope, q).await?;
        Page::from_rows(page, requests::from_row)
    }
}
