//! `/roleManagement/entitlementManagement/roleAssignments`: catalog roles, assigned as in Graph
//! (`roleDefinitionId`, `principalId`, `appScopeId` = `/AccessPackageCatalog/{catalogId}`).

use axum::extract::{Path, State};
use axum::response::Response;
use gatehouse_app::Page;
use gatehouse_domain::role_assignment::NewRoleAssignment;

use crate::error::{ApiError, ApiResult};
use crate::extract::{Body, Caller, OData};
use crate::odata::{self, check_expand, Ctx};
use crate::state::AppState;

const SET: &str = "roleManagement/entitlementManagement/roleAssignments";

/// Every assignment in the catalogs the caller may read, filtered in memory: a handful per
/// catalog, so one page.
pub async fn list(State(s): State<AppState>, ctx: Ctx, OData(o): OData, c: Caller) -> ApiResult<Response> {
    check_expand(&o.expand, &[], "unifiedRoleAssignment")?;
    if !o.orderby.is_empty() || o.search.is_some() || o.skip.is_some() || o.skiptoken.is_some() {
        return Err(ApiError::bad_request("roleAssignments support $filter, $select, $top and $count"));
    }
    let mut items = Vec::new();
    for a in s.app.list_role_assignments(&c.actor()).await? {
        let keep = match &o.filter {
            Some(f) => a.matches(f).map_err(|e| ApiError::bad_request(e.message))?,
            None => true,
        };
        if keep {
            items.push(a);
        }
    }
    let count = o.count.then_some(items.len() as i64);
    items.truncate(o.top.map_or(usize::MAX, |t| t as usize));
    let page = Page { items, next_skip: None, count };
    odata::collection(&ctx, SET, page, &o.select, |a| Ok(odata::to_value(&a)))
}

pub async fn get(
    State(s): State<AppState>,
    ctx: Ctx,
    OData(o): OData,
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    check_expand(&o.expand, &[], "unifiedRoleAssignment")?;
    let a = s.app.get_role_assignment(&c.actor(), &id).await?;
    odata::entity(&ctx, SET, odata::to_value(&a), &o.select)
}

pub async fn create(
    State(s): State<AppState>,
    ctx: Ctx,
    c: Caller,
    Body(input): Body<NewRoleAssignment>,
) -> ApiResult<Response> {
    let a = s.app.create_role_assignment(&c.actor(), input).await?;
    Ok(odata::created(&ctx, SET, odata::to_value(&a), &format!("/v1.0/{SET}/{}", a.id)))
}

pub async fn delete(State(s): State<AppState>, c: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    s.app.delete_role_assignment(&c.actor(), &id).await?;
    Ok(odata::no_content())
}
