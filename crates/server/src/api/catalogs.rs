//! `/catalogs`, their resources, roles and scopes, and `/resourceRequests`.

use axum::extract::{Path, State};
use axum::response::Response;
use gatehouse_domain::catalog::{Catalog, CatalogPatch, NewCatalog, NewResourceRequest, Resource, ResourceRequest};
use gatehouse_domain::odata::{ExpandItem, QueryOptions};
use gatehouse_store::catalogs::in_catalog;
use serde_json::Value;
use uuid::Uuid;

use crate::api::packages::render_package;
use crate::error::ApiResult;
use gatehouse_app::Actor;

use crate::extract::{guid, Body, Caller, OData};
use crate::odata::{self, check_expand, expands, list_query, Ctx};
use crate::state::AppState;

const SET: &str = "identityGovernance/entitlementManagement/catalogs";
const ALL: gatehouse_app::ListQuery<'static> = gatehouse_app::ListQuery::EXPANDED;

async fn render_catalog(s: &AppState, a: &Actor, ctx: &Ctx, c: Catalog, o: &QueryOptions) -> ApiResult<Value> {
    let id = c.id;
    let mut v = odata::to_value(&c);
    if expands(&o.expand, "accessPackages").is_some() {
        let page = s.app.list_packages(a, in_catalog(id), ALL).await?;
        v["accessPackages"] = Value::Array(page.items.iter().map(|p| render_package(ctx, p)).collect());
    }
    if let Some(e) = expands(&o.expand, "resources") {
        check_expand(&e.expand, &["roles", "scopes"], "accessPackageResource")?;
        let page = s.app.list_resources(a, id, ALL).await?;
        let mut list = Vec::new();
        for r in page.items {
            list.push(render_resource(s, r, &e.expand).await?);
        }
        v["resources"] = Value::Array(list);
    }
    Ok(v)
}

/// A resource, with `roles` and `scopes` when expanded.
pub async fn render_resource(s: &AppState, r: Resource, expand: &[ExpandItem]) -> ApiResult<Value> {
    let id = r.id;
    let mut v = odata::to_value(&r);
    if expands(expand, "roles").is_some() || expands(expand, "scopes").is_some() {
        let (roles, scopes) = s.app.resource_roles_and_scopes(id).await?;
        if expands(expand, "roles").is_some() {
            v["roles"] = odata::to_value(&roles);
        }
        if expands(expand, "scopes").is_some() {
            v["scopes"] = odata::to_value(&scopes);
        }
    }
    Ok(v)
}

pub async fn list(State(s): State<AppState>, ctx: Ctx, OData(o): OData, c: Caller) -> ApiResult<Response> {
    check_expand(&o.expand, &["accessPackages", "resources"], "accessPackageCatalog")?;
    let a = c.actor();
    let page = s.app.list_catalogs(&a, list_query(&o)?).await?;
    let page = odata::render_all(page, |cat| render_catalog(&s, &a, &ctx, cat, &o)).await?;
    odata::collection(&ctx, SET, page, &o.select, Ok)
}

pub async fn create(
    State(s): State<AppState>,
    ctx: Ctx,
    c: Caller,
    Body(input): Body<NewCatalog>,
) -> ApiResult<Response> {
    let cat = s.app.create_catalog(&c.actor(), input).await?;
    Ok(odata::created(&ctx, SET, odata::to_value(&cat), &format!("/v1.0/{SET}/{}", cat.id)))
}

pub async fn get(
    State(s): State<AppState>,
    ctx: Ctx,
    OData(o): OData,
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    check_expand(&o.expand, &["accessPackages", "resources"], "accessPackageCatalog")?;
    let a = c.actor();
    let cat = s.app.get_catalog(&a, guid(&id, "catalog")?).await?;
    let v = render_catalog(&s, &a, &ctx, cat, &o).await?;
    odata::entity(&ctx, SET, v, &o.select)
}

pub async fn update(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    Body(p): Body<CatalogPatch>,
) -> ApiResult<Response> {
    s.app.update_catalog(&c.actor(), guid(&id, "catalog")?, p).await?;
    Ok(odata::no_content())
}

pub async fn delete(State(s): State<AppState>, c: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    s.app.delete_catalog(&c.actor(), guid(&id, "catalog")?).await?;
    Ok(odata::no_content())
}

pub async fn list_packages(
    State(s): State<AppState>,
    ctx: Ctx,
    OData(o): OData,
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    check_expand(&o.expand, &[], "accessPackage")?;
    let cid = guid(&id, "catalog")?;
    let a = c.actor();
    s.app.get_catalog(&a, cid).await?;
    let page = s.app.list_packages(&a, in_catalog(cid), list_query(&o)?).await?;
    odata::collection(&ctx, &format!("{SET}/{id}/accessPackages"), page, &o.select, |p| Ok(render_package(&ctx, &p)))
}

pub async fn list_resources(
    State(s): State<AppState>,
    ctx: Ctx,
    OData(o): OData,
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    check_expand(&o.expand, &["roles", "scopes"], "accessPackageResource")?;
    let page = s.app.list_resources(&c.actor(), guid(&id, "catalog")?, list_query(&o)?).await?;
    let page = odata::render_all(page, |r| render_resource(&s, r, &o.expand)).await?;
    odata::collection(&ctx, &format!("{SET}/{id}/resources"), page, &o.select, Ok)
}

pub async fn get_resource(
    State(s): State<AppState>,
    ctx: Ctx,
    OData(o): OData,
    c: Caller,
    Path((id, rid)): Path<(String, String)>,
) -> ApiResult<Response> {
    check_expand(&o.expand, &["roles", "scopes"], "accessPackageResource")?;
    let r = s.app.get_resource(&c.actor(), guid(&id, "catalog")?, guid(&rid, "resource")?).await?;
    let v = render_resource(&s, r, &o.expand).await?;
    odata::entity(&ctx, &format!("{SET}/{id}/resources"), v, &o.select)
}

async fn roles_or_scopes(
    s: &AppState,
    a: &Actor,
    ctx: &Ctx,
    o: &QueryOptions,
    (catalog, resource): (Uuid, Option<Uuid>),
    roles: bool,
    set: &str,
) -> ApiResult<Response> {
    check_expand(
        &o.expand,
        &["resource"],
        if roles { "accessPackageResourceRole" } else { "accessPackageResourceScope" },
    )?;
    let with_resource = expands(&o.expand, "resource").is_some();
    // Roles and scopes render alike: the entity, plus its resource when expanded.
    let attach = |mut v: Value, resource_id: Uuid| async move {
        if with_resource {
            v["resource"] = odata::to_value(&s.app.get_resource(a, catalog, resource_id).await?);
        }
        Ok::<_, crate::error::ApiError>(v)
    };
    let page = if roles {
        let page = s.app.list_resource_roles(a, catalog, resource, list_query(o)?).await?;
        odata::render_all(page, |r| attach(odata::to_value(&r), r.resource_id)).await?
    } else {
        let page = s.app.list_resource_scopes(a, catalog, resource, list_query(o)?).await?;
        odata::render_all(page, |r| attach(odata::to_value(&r), r.resource_id)).await?
    };
    odata::collection(ctx, set, page, &o.select, Ok)
}

pub async fn list_resource_roles(
    State(s): State<AppState>,
    ctx: Ctx,
    OData(o): OData,
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    roles_or_scopes(&s, &c.actor(), &ctx, &o, (guid(&id, "catalog")?, None), true, &format!("{SET}/{id}/resourceRoles"))
        .await
}

pub async fn list_resource_scopes(
    State(s): State<AppState>,
    ctx: Ctx,
    OData(o): OData,
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    roles_or_scopes(
        &s,
        &c.actor(),
        &ctx,
        &o,
        (guid(&id, "catalog")?, None),
        false,
        &format!("{SET}/{id}/resourceScopes"),
    )
    .await
}

pub async fn list_roles_of_resource(
    State(s): State<AppState>,
    ctx: Ctx,
    OData(o): OData,
    c: Caller,
    Path((id, rid)): Path<(String, String)>,
) -> ApiResult<Response> {
    let (cid, rid_) = (guid(&id, "catalog")?, guid(&rid, "resource")?);
    s.app.get_resource(&c.actor(), cid, rid_).await?;
    roles_or_scopes(&s, &c.actor(), &ctx, &o, (cid, Some(rid_)), true, &format!("{SET}/{id}/resources/{rid}/roles"))
        .await
}

pub async fn list_scopes_of_resource(
    State(s): State<AppState>,
    ctx: Ctx,
    OData(o): OData,
    c: Caller,
    Path((id, rid)): Path<(String, String)>,
) -> ApiResult<Response> {
    let (cid, rid_) = (guid(&id, "catalog")?, guid(&rid, "resource")?);
    s.app.get_resource(&c.actor(), cid, rid_).await?;
    roles_or_scopes(&s, &c.actor(), &ctx, &o, (cid, Some(rid_)), false, &format!("{SET}/{id}/resources/{rid}/scopes"))
        .await
}

const REQUESTS: &str = "identityGovernance/entitlementManagement/resourceRequests";

async fn render_request(s: &AppState, a: &Actor, r: ResourceRequest, o: &QueryOptions) -> ApiResult<Value> {
    let mut v = odata::to_value(&r);
    if expands(&o.expand, "catalog").is_some() {
        v["catalog"] = odata::to_value(&s.app.get_catalog(a, r.catalog_id).await?);
    }
    if expands(&o.expand, "resource").is_some() {
        v["resource"] = match r.resource_id {
            Some(rid) => match s.app.get_resource(a, r.catalog_id, rid).await {
                Ok(res) => odata::to_value(&res),
                Err(_) => Value::Null, // removed by this or a later request
            },
            None => Value::Null,
        };
    }
    Ok(v)
}

pub async fn list_requests(State(s): State<AppState>, ctx: Ctx, OData(o): OData, c: Caller) -> ApiResult<Response> {
    check_expand(&o.expand, &["catalog", "resource"], "accessPackageResourceRequest")?;
    let a = c.actor();
    let page = s.app.list_resource_requests(&a, list_query(&o)?).await?;
    let page = odata::render_all(page, |r| render_request(&s, &a, r, &o)).await?;
    odata::collection(&ctx, REQUESTS, page, &o.select, Ok)
}

pub async fn create_request(
    State(s): State<AppState>,
    ctx: Ctx,
    c: Caller,
    Body(input): Body<NewResourceRequest>,
) -> ApiResult<Response> {
    let a = c.actor();
    let r = s.app.create_resource_request(&a, input).await?;
    let id = r.id;
    let mut v = odata::to_value(&r);
    if let Some(rid) = r.resource_id {
        if let Ok(res) = s.app.get_resource(&a, r.catalog_id, rid).await {
            v["resource"] = odata::to_value(&res);
        }
    }
    Ok(odata::created(&ctx, REQUESTS, v, &format!("/v1.0/{REQUESTS}/{id}")))
}

pub async fn get_request(
    State(s): State<AppState>,
    ctx: Ctx,
    OData(o): OData,
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    check_expand(&o.expand, &["catalog", "resource"], "accessPackageResourceRequest")?;
    let a = c.actor();
    let r = s.app.get_resource_request(&a, guid(&id, "resourceRequest")?).await?;
    let v = render_request(&s, &a, r, &o).await?;
    odata::entity(&ctx, REQUESTS, v, &o.select)
}
