//! `/connectedOrganizations` and their sponsors.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use gatehouse_domain::connected_organization::{
    ConnectedOrganization, ConnectedOrganizationPatch, NewConnectedOrganization, SponsorKind,
};
use serde_json::Value;

use crate::api::directory::render_user;
use crate::error::ApiResult;
use crate::extract::{guid, reference, Body, Caller, OData};
use crate::odata::{self, check_expand, expands, list_query, Ctx};
use crate::state::AppState;

const SET: &str = "identityGovernance/entitlementManagement/connectedOrganizations";
const NAVS: &[&str] = &["internalSponsors", "externalSponsors"];

async fn render(
    state: &AppState,
    ctx: &Ctx,
    org: ConnectedOrganization,
    o: &gatehouse_domain::odata::QueryOptions,
) -> ApiResult<Value> {
    let id = org.id;
    let mut v = odata::to_value(&org);
    for (nav, kind) in [("internalSponsors", SponsorKind::Internal), ("externalSponsors", SponsorKind::External)] {
        if expands(&o.expand, nav).is_some() {
            let q =
                gatehouse_app::ListQuery { filter: None, orderby: &[], search: None, top: 999, skip: 0, count: false };
            let page = state.app.list_sponsors(id, kind, q).await?;
            v[nav] = Value::Array(page.items.iter().map(|u| render_user(ctx, u)).collect());
        }
    }
    Ok(v)
}

pub async fn list(State(state): State<AppState>, ctx: Ctx, OData(o): OData, _c: Caller) -> ApiResult<Response> {
    check_expand(&o.expand, NAVS, "connectedOrganization")?;
    let page = state.app.list_connected_organizations(list_query(&o)?).await?;
    let mut rendered = Vec::new();
    for org in page.items {
        rendered.push(render(&state, &ctx, org, &o).await?);
    }
    let page = gatehouse_app::Page { items: rendered, next_skip: page.next_skip, count: page.count };
    odata::collection(&ctx, SET, page, &o.select, Ok)
}

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    c: Caller,
    Body(input): Body<NewConnectedOrganization>,
) -> ApiResult<Response> {
    let org = state.app.create_connected_organization(&c.actor(), input).await?;
    let location = format!("/v1.0/{SET}/{}", org.id);
    Ok(odata::created(&ctx, SET, odata::to_value(&org), &location))
}

pub async fn get(
    State(state): State<AppState>,
    ctx: Ctx,
    OData(o): OData,
    _c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    check_expand(&o.expand, NAVS, "connectedOrganization")?;
    let org = state.app.get_connected_organization(guid(&id, "connectedOrganization")?).await?;
    let v = render(&state, &ctx, org, &o).await?;
    odata::entity(&ctx, SET, v, &o.select)
}

/// Graph documents 202 Accepted with the entity for this PATCH.
pub async fn update(
    State(state): State<AppState>,
    ctx: Ctx,
    c: Caller,
    Path(id): Path<String>,
    Body(patch): Body<ConnectedOrganizationPatch>,
) -> ApiResult<Response> {
    let org = state.app.update_connected_organization(&c.actor(), guid(&id, "connectedOrganization")?, patch).await?;
    Ok(odata::entity_with_status(&ctx, SET, odata::to_value(&org), StatusCode::ACCEPTED))
}

pub async fn delete(State(state): State<AppState>, c: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    state.app.delete_connected_organization(&c.actor(), guid(&id, "connectedOrganization")?).await?;
    Ok(odata::no_content())
}

fn kind(nav: &str) -> SponsorKind {
    if nav == "internalSponsors" {
        SponsorKind::Internal
    } else {
        SponsorKind::External
    }
}

async fn list_sponsors(
    state: AppState,
    ctx: Ctx,
    o: gatehouse_domain::odata::QueryOptions,
    id: String,
    k: SponsorKind,
) -> ApiResult<Response> {
    check_expand(&o.expand, &[], "user")?;
    let page = state.app.list_sponsors(guid(&id, "connectedOrganization")?, k, list_query(&o)?).await?;
    let set =
        format!("{SET}/{id}/{}", if k == SponsorKind::Internal { "internalSponsors" } else { "externalSponsors" });
    odata::collection(&ctx, &set, page, &o.select, |u| Ok(render_user(&ctx, &u)))
}

pub async fn list_internal_sponsors(
    State(s): State<AppState>,
    ctx: Ctx,
    OData(o): OData,
    _c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    list_sponsors(s, ctx, o, id, SponsorKind::Internal).await
}

pub async fn list_external_sponsors(
    State(s): State<AppState>,
    ctx: Ctx,
    OData(o): OData,
    _c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    list_sponsors(s, ctx, o, id, SponsorKind::External).await
}

const USER_REFS: &[&str] = &["users", "directoryObjects"];

pub async fn add_internal_sponsor(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let user = reference(&body, USER_REFS)?;
    s.app.add_sponsor(&c.actor(), guid(&id, "connectedOrganization")?, kind("internalSponsors"), user).await?;
    Ok(odata::no_content())
}

pub async fn add_external_sponsor(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let user = reference(&body, USER_REFS)?;
    s.app.add_sponsor(&c.actor(), guid(&id, "connectedOrganization")?, kind("externalSponsors"), user).await?;
    Ok(odata::no_content())
}

pub async fn remove_internal_sponsor(
    State(s): State<AppState>,
    c: Caller,
    Path((id, user)): Path<(String, String)>,
) -> ApiResult<Response> {
    s.app
        .remove_sponsor(&c.actor(), guid(&id, "connectedOrganization")?, SponsorKind::Internal, guid(&user, "user")?)
        .await?;
    Ok(odata::no_content())
}

pub async fn remove_external_sponsor(
    State(s): State<AppState>,
    c: Caller,
    Path((id, user)): Path<(String, String)>,
) -> ApiResult<Response> {
    s.app
        .remove_sponsor(&c.actor(), guid(&id, "connectedOrganization")?, SponsorKind::External, guid(&user, "user")?)
        .await?;
    Ok(odata::no_content())
}
