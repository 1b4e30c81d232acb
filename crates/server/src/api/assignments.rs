//! `/assignments`: who holds which access package. Also renders `accessPackageSubject`, the
//! shape of an assignment's `target` and of a request's `requestor`.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use gatehouse_app::AppError;
use gatehouse_domain::assignment::Assignment;
use gatehouse_domain::directory::User;
use gatehouse_domain::enums::UserType;
use gatehouse_domain::odata::QueryOptions;
use gatehouse_store::query::Where;
use serde_json::Value;
use uuid::Uuid;

use gatehouse_app::Actor;

use crate::api::packages::render_package;
use crate::api::policies::render_policy;
use crate::api::wire::{AssignmentOut, Ref, Subject, SubjectLifecycle};
use crate::error::{ApiError, ApiResult};
use crate::extract::{guid, Caller, OData};
use crate::odata::{self, check_expand, expands, list_query, Ctx};
use crate::state::AppState;

const SET: &str = "identityGovernance/entitlementManagement/assignments";
const NAVS: &[&str] = &["target", "accessPackage", "assignmentPolicy"];

/// Graph function calls share the `{id}` segment of their entity set; a function option that
/// is not routed must not read as a malformed id.
pub fn refuse_unknown_function(segment: &str) -> ApiResult<()> {
    if segment.starts_with("filterByCurrentUser(") {
        return Err(ApiError::bad_request(format!("unsupported filterByCurrentUser option: {segment}")));
    }
    Ok(())
}

/// `None` when the entity is gone: a navigation to a deleted entity renders as null.
pub fn found<T>(r: gatehouse_app::Result<T>) -> ApiResult<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(AppError::NotFound(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// A directory user as Graph's `accessPackageSubject`. Guests are `governed` (the external
/// user lifecycle in `settings` applies to them), members `notGoverned`.
pub fn subject_json(user: &User) -> Value {
    let lifecycle =
        if user.user_type == UserType::Guest { SubjectLifecycle::Governed } else { SubjectLifecycle::NotGoverned };
    odata::to_value(&Subject {
        id: Some(user.id),
        object_id: Some(user.id),
        display_name: Some(user.display_name.clone()),
        email: user.mail.clone(),
        principal_name: Some(user.user_principal_name.clone()),
        subject_type: "user".into(),
        subject_lifecycle: lifecycle,
        connected_organization: user.connected_organization_id.map(|id| Ref { id }),
    })
}

fn unknown_subject(id: Option<Uuid>, email: Option<&str>, lifecycle: SubjectLifecycle) -> Value {
    odata::to_value(&Subject {
        id,
        object_id: id,
        display_name: None,
        email: email.map(str::to_owned),
        principal_name: None,
        subject_type: "user".into(),
        subject_lifecycle: lifecycle,
        connected_organization: None,
    })
}

/// The subject for a user id, or for an email that has no account yet (`objectId` null, as
/// in Graph while an external requestor is not in the directory; they will be a guest).
pub async fn render_subject(s: &AppState, user: Option<Uuid>, email: Option<&str>) -> ApiResult<Value> {
    if let Some(id) = user {
        return Ok(match found(s.app.get_user(id).await)? {
            Some(u) => subject_json(&u),
            None => unknown_subject(Some(id), email, SubjectLifecycle::NotDefined),
        });
    }
    Ok(unknown_subject(None, email, SubjectLifecycle::Governed))
}

/// Renders an assignment the caller may see; its package and policy come with it whatever the
/// caller's catalog roles (the target sees the package they hold).
pub async fn render_assignment(s: &AppState, ctx: &Ctx, a: &Assignment, o: &QueryOptions) -> ApiResult<Value> {
    let mut v = odata::to_value(&AssignmentOut::of(a));
    if expands(&o.expand, "target").is_some() {
        v["target"] = render_subject(s, Some(a.target_id), None).await?;
    }
    if expands(&o.expand, "accessPackage").is_some() {
        v["accessPackage"] = found(s.app.get_package(&Actor::system(), a.access_package_id).await)?
            .map_or(Value::Null, |p| render_package(ctx, &p));
    }
    if expands(&o.expand, "assignmentPolicy").is_some() {
        v["assignmentPolicy"] = found(s.app.get_policy(&Actor::system(), a.assignment_policy_id).await)?
            .map_or(Value::Null, |p| render_policy(&p, &[]));
    }
    Ok(v)
}

/// `in_reach_of`: restrict to the catalogs this caller may read (the administrative lists);
/// `None` for the caller's own lists, whose scope already limits them.
async fn list_scoped(
    s: &AppState,
    ctx: &Ctx,
    o: &QueryOptions,
    scope: Where,
    in_reach_of: Option<&Actor>,
) -> ApiResult<Response> {
    check_expand(&o.expand, NAVS, "accessPackageAssignment")?;
    let page = match in_reach_of {
        Some(a) => s.app.list_assignments_in_reach(a, scope, list_query(o)?).await?,
        None => s.app.list_assignments(scope, list_query(o)?).await?,
    };
    let page = odata::render_all(page, |a| async move { render_assignment(s, ctx, &a, o).await }).await?;
    odata::collection(ctx, SET, page, &o.select, Ok)
}

pub async fn list(State(s): State<AppState>, ctx: Ctx, OData(o): OData, c: Caller) -> ApiResult<Response> {
    list_scoped(&s, &ctx, &o, Where::new(), Some(&c.actor())).await
}

/// `assignments/filterByCurrentUser(on='target')`: the caller's own access.
pub async fn list_mine(State(s): State<AppState>, ctx: Ctx, OData(o): OData, c: Caller) -> ApiResult<Response> {
    list_scoped(&s, &ctx, &o, gatehouse_store::assignments::targeting(c.0.user_id), None).await
}

/// `assignments/filterByCurrentUser(on='createdBy')`: assignments from requests the caller made
/// (for themselves or, as an administrator, for others).
pub async fn list_created_by_me(
    State(s): State<AppState>,
    ctx: Ctx,
    OData(o): OData,
    c: Caller,
) -> ApiResult<Response> {
    list_scoped(&s, &ctx, &o, gatehouse_store::assignments::created_by(c.0.user_id), None).await
}

/// `additionalAccess(accessPackageId='a',incompatibleAccessPackageId='b')`: the arguments.
fn additional_access_args(segment: &str) -> ApiResult<Option<(Uuid, Uuid)>> {
    let Some(inner) = segment.strip_prefix("additionalAccess(").and_then(|r| r.strip_suffix(')')) else {
        return Ok(None);
    };
    let (mut a, mut b) = (None, None);
    for pair in inner.split(',') {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| ApiError::bad_request("additionalAccess takes name='value' arguments"))?;
        let value = guid(value.trim().trim_matches('\''), "accessPackage")?;
        match key.trim() {
            "accessPackageId" => a = Some(value),
            "incompatibleAccessPackageId" => b = Some(value),
            other => return Err(ApiError::bad_request(format!("additionalAccess has no argument '{other}'"))),
        }
    }
    match (a, b) {
        (Some(a), Some(b)) if a != b => Ok(Some((a, b))),
        (Some(_), Some(_)) => Err(ApiError::bad_request("additionalAccess needs two different access packages")),
        _ => Err(ApiError::bad_request("additionalAccess needs accessPackageId and incompatibleAccessPackageId")),
    }
}

pub async fn get(
    State(s): State<AppState>,
    ctx: Ctx,
    OData(o): OData,
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    // Graph's additionalAccess function shares this segment (its arguments are inside it).
    if let Some((package, other)) = additional_access_args(&id)? {
        c.0.may(gatehouse_domain::principal::Permission::EntitlementRead).map_err(|d| ApiError::forbidden(d.0))?;
        let scope = gatehouse_store::assignments::also_holding(package, other);
        return list_scoped(&s, &ctx, &o, scope, Some(&c.actor())).await;
    }
    refuse_unknown_function(&id)?;
    check_expand(&o.expand, NAVS, "accessPackageAssignment")?;
    let a = s.app.get_assignment(&c.actor(), guid(&id, "assignment")?).await?;
    let v = render_assignment(&s, &ctx, &a, &o).await?;
    odata::entity(&ctx, SET, v, &o.select)
}

/// `POST assignments/{id}/reprocess`: re-push the package's roles to the target.
pub async fn reprocess(State(s): State<AppState>, c: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    s.app.reprocess_assignment(&c.actor(), guid(&id, "assignment")?).await?;
    Ok(axum::http::StatusCode::ACCEPTED.into_response())
}
