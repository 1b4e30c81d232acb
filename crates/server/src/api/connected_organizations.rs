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
            let page = state.app.list_sponsors(id, kind, gatehouse_app::ListQuery::EXPANDED).await?;
            v[nav] = Value::Array(page.items.iter().map(|u| render_user(ctx, u)).collect());
        }
    }
    Ok(v)
}

pub async fn list(State(state): State<AppState>, ctx: Ctx, OData(o): OData, _c: Caller) -> ApiResult<Response> {
    check_expand(&o.expand, NAVS, "connectedOrganization")?;
    let page = state.app.list_connected_organizations(list_query(&o)?).await?;
    let page = odata::render_all(page, |org| render(&state, &ctx, org, &o)).await?;
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

/// The sponsor handlers serve both lists; the route table instantiates them with
/// `EXTERNAL = false` for internal sponsors and `true` for external ones.
const fn kind(external: bool) -> (SponsorKind, &'static str) {
    if external {
        (SponsorKind::External, "externalSponsors")
    } else {
        (SponsorKind::Internal, "internalSponsors")
    }
}

pub async fn list_sponsors<const EXTERNAL: bool>(
    State(s): State<AppState>,
    ctx: Ctx,
    OData(o): OData,
    _c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    check_expand(&o.expand, &[], "user")?;
    let (k, nav) = kind(EXTERNAL);
    let page = s.app.list_sponsors(guid(&id, "connectedOrganization")?, k, list_query(&o)?).await?;
    odata::collection(&ctx, &format!("{SET}/{id}/{nav}"), page, &o.select, |u| Ok(render_user(&ctx, &u)))
}

/// Sponsors are users, referenced by `/users/{id}` or `/directoryObjects/{id}` on any host.
pub async fn add_sponsor<const EXTERNAL: bool>(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let user = reference(&body, &["users", "directoryObjects"])?;
    s.app.add_sponsor(&c.actor(), guid(&id, "connectedOrganization")?, kind(EXTERNAL).0, user).await?;
    Ok(odata::no_content())
}

pub async fn remove_sponsor<const EXTERNAL: bool>(
    State(s): State<AppState>,
    c: Caller,
    Path((id, user)): Path<(String, String)>,
) -> ApiResult<Response> {
    let org = guid(&id, "connectedOrganization")?;
    s.app.remove_sponsor(&c.actor(), org, kind(EXTERNAL).0, guid(&user, "user")?).await?;
    Ok(odata::no_content())
}
