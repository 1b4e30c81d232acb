//! `/accessPackages`, the roles they grant, their policies and incompatibilities.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use gatehouse_app::packages::GrantedRole;
use gatehouse_domain::access_package::{AccessPackage, AccessPackagePatch, NewAccessPackage, NewResourceRoleScope};
use gatehouse_domain::odata::{ExpandItem, QueryOptions};
use gatehouse_store::access_packages::{self as store, Incompatible};
use gatehouse_store::query::Where;
use serde_json::{json, Value};
use uuid::Uuid;

use gatehouse_app::Actor;

use crate::api::directory::render_group;
use crate::api::policies::render_policy;
use crate::api::wire;
use crate::error::ApiResult;
use crate::extract::{guid, reference, Body, Caller, OData};
use crate::odata::{self, check_expand, expands, list_query, Ctx};
use crate::state::AppState;

const SET: &str = "identityGovernance/entitlementManagement/accessPackages";
const NAVS: &[&str] = &[
    "catalog",
    "assignmentPolicies",
    "resourceRoleScopes",
    "incompatibleAccessPackages",
    "incompatibleGroups",
    "accessPackagesIncompatibleWith",
];
const ALL: gatehouse_app::ListQuery<'static> = gatehouse_app::ListQuery::EXPANDED;

/// A package; `myAccessLink` is a Gatehouse extension: the direct link requestors use, which
/// works for hidden packages too.
pub fn render_package(ctx: &Ctx, p: &AccessPackage) -> Value {
    odata::to_value(&wire::Package { package: p, my_access_link: p.my_access_link(&ctx.base) })
}

fn render_granted(g: &GrantedRole, expand: &[ExpandItem]) -> Value {
    let mut v =
        odata::to_value(&wire::RoleScope { id: g.role_scope.id(), created_date_time: g.role_scope.created_date_time });
    if expands(expand, "role").is_some() {
        let mut role = odata::to_value(&g.role);
        role["resource"] = json!({"id": g.role.resource_id});
        v["role"] = role;
    }
    if expands(expand, "scope").is_some() {
        v["scope"] = odata::to_value(&g.scope);
    }
    v
}

async fn render(s: &AppState, a: &Actor, ctx: &Ctx, p: AccessPackage, o: &QueryOptions) -> ApiResult<Value> {
    let id = p.id;
    let mut v = render_package(ctx, &p);
    if expands(&o.expand, "catalog").is_some() {
        v["catalog"] = odata::to_value(&s.app.get_catalog(a, p.catalog_id).await?);
    }
    if let Some(e) = expands(&o.expand, "assignmentPolicies") {
        check_expand(&e.expand, &["questions"], "accessPackageAssignmentPolicy")?;
        let page = s.app.list_policies(a, gatehouse_store::policies::for_package(id), ALL).await?;
        v["assignmentPolicies"] = Value::Array(page.items.iter().map(|p| render_policy(p, &e.expand)).collect());
    }
    if let Some(e) = expands(&o.expand, "resourceRoleScopes") {
        check_expand(&e.expand, &["role", "scope"], "accessPackageResourceRoleScope")?;
        let granted = s.app.granted_roles(a, id).await?;
        v["resourceRoleScopes"] = Value::Array(granted.iter().map(|g| render_granted(g, &e.expand)).collect());
    }
    for (nav, scope) in [
        ("incompatibleAccessPackages", store::incompatible_packages_of(id)),
        ("accessPackagesIncompatibleWith", store::packages_incompatible_with(id)),
    ] {
        if expands(&o.expand, nav).is_some() {
            let page = s.app.list_packages(a, scope, ALL).await?;
            v[nav] = Value::Array(page.items.iter().map(|p| render_package(ctx, p)).collect());
        }
    }
    if expands(&o.expand, "incompatibleGroups").is_some() {
        let page = s.app.list_groups(store::incompatible_groups_of(id), ALL).await?;
        v["incompatibleGroups"] = Value::Array(page.items.iter().map(render_group).collect());
    }
    Ok(v)
}

pub async fn list(State(s): State<AppState>, ctx: Ctx, OData(o): OData, c: Caller) -> ApiResult<Response> {
    check_expand(&o.expand, NAVS, "accessPackage")?;
    let a = c.actor();
    let page = s.app.list_packages(&a, Where::new(), list_query(&o)?).await?;
    let page = odata::render_all(page, |p| render(&s, &a, &ctx, p, &o)).await?;
    odata::collection(&ctx, SET, page, &o.select, Ok)
}

pub async fn create(
    State(s): State<AppState>,
    ctx: Ctx,
    c: Caller,
    Body(input): Body<NewAccessPackage>,
) -> ApiResult<Response> {
    let p = s.app.create_package(&c.actor(), input).await?;
    Ok(odata::created(&ctx, SET, render_package(&ctx, &p), &format!("/v1.0/{SET}/{}", p.id)))
}

pub async fn get(
    State(s): State<AppState>,
    ctx: Ctx,
    OData(o): OData,
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    check_expand(&o.expand, NAVS, "accessPackage")?;
    let a = c.actor();
    let p = s.app.get_package(&a, guid(&id, "accessPackage")?).await?;
    let v = render(&s, &a, &ctx, p, &o).await?;
    odata::entity(&ctx, SET, v, &o.select)
}

pub async fn update(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    Body(p): Body<AccessPackagePatch>,
) -> ApiResult<Response> {
    s.app.update_package(&c.actor(), guid(&id, "accessPackage")?, p).await?;
    Ok(odata::no_content())
}

pub async fn delete(State(s): State<AppState>, c: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    s.app.delete_package(&c.actor(), guid(&id, "accessPackage")?).await?;
    Ok(odata::no_content())
}

pub async fn get_catalog(
    State(s): State<AppState>,
    ctx: Ctx,
    OData(o): OData,
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    check_expand(&o.expand, &[], "accessPackageCatalog")?;
    let a = c.actor();
    let p = s.app.get_package(&a, guid(&id, "accessPackage")?).await?;
    let cat = s.app.get_catalog(&a, p.catalog_id).await?;
    odata::entity(&ctx, "identityGovernance/entitlementManagement/catalogs", odata::to_value(&cat), &o.select)
}

pub async fn list_role_scopes(
    State(s): State<AppState>,
    ctx: Ctx,
    OData(o): OData,
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    check_expand(&o.expand, &["role", "scope"], "accessPackageResourceRoleScope")?;
    if o.filter.is_some() || o.search.is_some() {
        return Err(crate::error::ApiError::bad_request("$filter and $search are not supported on resourceRoleScopes"));
    }
    let granted = s.app.granted_roles(&c.actor(), guid(&id, "accessPackage")?).await?;
    let items: Vec<Value> = granted.iter().map(|g| render_granted(g, &o.expand)).collect();
    let page = gatehouse_app::Page { items, next_skip: None, count: o.count.then_some(granted.len() as i64) };
    odata::collection(&ctx, &format!("{SET}/{id}/resourceRoleScopes"), page, &o.select, Ok)
}

pub async fn add_role_scope(
    State(s): State<AppState>,
    ctx: Ctx,
    c: Caller,
    Path(id): Path<String>,
    Body(input): Body<NewResourceRoleScope>,
) -> ApiResult<Response> {
    let granted = s.app.add_role_scope(&c.actor(), guid(&id, "accessPackage")?, input).await?;
    let all = [
        ExpandItem { path: vec!["role".into()], ..Default::default() },
        ExpandItem { path: vec!["scope".into()], ..Default::default() },
    ];
    let v = render_granted(&granted, &all);
    let set = format!("{SET}/{id}/resourceRoleScopes");
    Ok(odata::created(&ctx, &set, v, &format!("/v1.0/{set}/{}", granted.role_scope.id())))
}

pub async fn get_role_scope(
    State(s): State<AppState>,
    ctx: Ctx,
    OData(o): OData,
    c: Caller,
    Path((id, rs)): Path<(String, String)>,
) -> ApiResult<Response> {
    check_expand(&o.expand, &["role", "scope"], "accessPackageResourceRoleScope")?;
    let granted = s.app.granted_roles(&c.actor(), guid(&id, "accessPackage")?).await?;
    let g = granted
        .iter()
        .find(|g| g.role_scope.id() == rs)
        .ok_or_else(|| crate::error::ApiError::not_found(format!("resourceRoleScope '{rs}' was not found")))?;
    odata::entity(&ctx, &format!("{SET}/{id}/resourceRoleScopes"), render_granted(g, &o.expand), &o.select)
}

pub async fn remove_role_scope(
    State(s): State<AppState>,
    c: Caller,
    Path((id, rs)): Path<(String, String)>,
) -> ApiResult<Response> {
    s.app.remove_role_scope(&c.actor(), guid(&id, "accessPackage")?, &rs).await?;
    Ok(odata::no_content())
}

pub async fn list_policies(
    State(s): State<AppState>,
    ctx: Ctx,
    OData(o): OData,
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    check_expand(&o.expand, &["questions"], "accessPackageAssignmentPolicy")?;
    let pid = guid(&id, "accessPackage")?;
    let a = c.actor();
    s.app.get_package(&a, pid).await?;
    let page = s.app.list_policies(&a, gatehouse_store::policies::for_package(pid), list_query(&o)?).await?;
    odata::collection(&ctx, &format!("{SET}/{id}/assignmentPolicies"), page, &o.select, |p| {
        Ok(render_policy(&p, &o.expand))
    })
}

async fn list_related(
    s: AppState,
    a: Actor,
    ctx: Ctx,
    o: QueryOptions,
    id: String,
    nav: &str,
    scope: fn(Uuid) -> Where,
) -> ApiResult<Response> {
    check_expand(&o.expand, &[], "accessPackage")?;
    let pid = guid(&id, "accessPackage")?;
    s.app.get_package(&a, pid).await?;
    let page = s.app.list_packages(&a, scope(pid), list_query(&o)?).await?;
    odata::collection(&ctx, &format!("{SET}/{id}/{nav}"), page, &o.select, |p| Ok(render_package(&ctx, &p)))
}

pub async fn list_incompatible_packages(
    State(s): State<AppState>,
    ctx: Ctx,
    OData(o): OData,
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    list_related(s, c.actor(), ctx, o, id, "incompatibleAccessPackages", store::incompatible_packages_of).await
}

pub async fn list_packages_incompatible_with(
    State(s): State<AppState>,
    ctx: Ctx,
    OData(o): OData,
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    list_related(s, c.actor(), ctx, o, id, "accessPackagesIncompatibleWith", store::packages_incompatible_with).await
}

pub async fn add_incompatible_package(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let other = reference(&body, &["accessPackages"])?;
    s.app.add_incompatible_package(&c.actor(), guid(&id, "accessPackage")?, other).await?;
    Ok(odata::no_content())
}

pub async fn remove_incompatible_package(
    State(s): State<AppState>,
    c: Caller,
    Path((id, other)): Path<(String, String)>,
) -> ApiResult<Response> {
    s.app
        .remove_incompatible(
            &c.actor(),
            guid(&id, "accessPackage")?,
            Incompatible::AccessPackage,
            guid(&other, "accessPackage")?,
        )
        .await?;
    Ok(odata::no_content())
}

pub async fn list_incompatible_groups(
    State(s): State<AppState>,
    ctx: Ctx,
    OData(o): OData,
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    check_expand(&o.expand, &[], "group")?;
    let pid = guid(&id, "accessPackage")?;
    s.app.get_package(&c.actor(), pid).await?;
    let page = s.app.list_groups(store::incompatible_groups_of(pid), list_query(&o)?).await?;
    odata::collection(&ctx, &format!("{SET}/{id}/incompatibleGroups"), page, &o.select, |g| Ok(render_group(&g)))
}

pub async fn add_incompatible_group(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let group = reference(&body, &["groups", "directoryObjects"])?;
    s.app.add_incompatible_group(&c.actor(), guid(&id, "accessPackage")?, group).await?;
    Ok(odata::no_content())
}

pub async fn remove_incompatible_group(
    State(s): State<AppState>,
    c: Caller,
    Path((id, g)): Path<(String, String)>,
) -> ApiResult<Response> {
    s.app.remove_incompatible(&c.actor(), guid(&id, "accessPackage")?, Incompatible::Group, guid(&g, "group")?).await?;
    Ok(odata::no_content())
}
