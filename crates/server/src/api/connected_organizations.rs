//! `/connectedOrganizations` and their sponsors.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gatehouse_domain::connected_organization::{
    ConnectedOrganization, ConnectedOrganizationPatch, NewConnectedOrganization, SponsorKind,
};
use serde_json::Value;

use crate::api::directory::render_user;
use crate::error::{ApiError, ApiResult};
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

#[derive(serde::Deserialize, schemars::JsonSchema)]
pub struct LookupQuery {
    domain: Option<String>,
    issuer: Option<String>,
}

/// `GET /gatehouse/connectedOrganizations/lookupDomain?domain=…[&issuer=…]`: what adding an
/// organization by this domain would use, for the administrator to see before saving. With an
/// `issuer`, that provider must answer; without, Gatehouse asks `https://<domain>` for a
/// discovery document. A provider that answers makes an OIDC identity source; none makes a
/// domain source, whose guests sign in with one-time passcodes. Nothing is stored.
pub async fn lookup_domain(
    State(state): State<AppState>,
    _c: Caller,
    axum::extract::Query(q): axum::extract::Query<LookupQuery>,
) -> ApiResult<Response> {
    let domain =
        q.domain.as_deref().ok_or_else(|| ApiError::bad_request("name the domain: ?domain=fabrikam.example"))?;
    Ok(axum::Json(look_up(&state, domain, q.issuer.as_deref()).await?).into_response())
}

/// The lookup itself, shared with the admin portal's wizard. A named issuer that does not
/// answer is an error on `issuer`; a domain without a provider is not an error (passcodes).
pub async fn look_up(
    state: &AppState,
    domain: &str,
    issuer: Option<&str>,
) -> Result<crate::api::wire::DomainLookup, gatehouse_domain::ValidationError> {
    use crate::api::wire::{DomainFound, DomainLookup};
    use gatehouse_domain::connected_organization::{normalize_domain, validate_issuer, IdentitySource};
    let domain = normalize_domain(domain)?;
    let given = issuer.map(validate_issuer).transpose()?;
    let candidate = given.clone().unwrap_or_else(|| format!("https://{domain}"));
    let found = state.relying_party.discover(&candidate).await;
    Ok(match (found, given) {
        (Ok(issuer), _) => DomainLookup {
            identity_source: IdentitySource::Oidc {
                domain_name: domain.clone(),
                display_name: Some(domain.clone()),
                issuer_uri: issuer,
                client_id: None,
                client_secret: None,
            },
            domain,
            found: DomainFound::OpenIdProvider,
            looked_at: candidate,
            note: "Partner users will sign in at this provider. Register Gatehouse there (redirect URI \
                   <public URL>/signin/callback) and add its clientId and clientSecret to the identity source."
                .into(),
        },
        (Err(e), Some(issuer)) => {
            return Err(gatehouse_domain::ValidationError::new(
                "issuer",
                format!("no OpenID provider answers at {issuer}: {e}"),
            ));
        }
        (Err(e), None) => {
            tracing::info!(%domain, reason = %e, "no OpenID provider at the domain");
            DomainLookup {
                identity_source: IdentitySource::Domain {
                    domain_name: domain.clone(),
                    display_name: Some(domain.clone()),
                },
                domain,
                found: DomainFound::None,
                note: format!(
                    "No OpenID provider answered at {candidate}; partner users will sign in with one-time \
                     passcodes mailed to their address."
                ),
                looked_at: candidate,
            }
        }
    })
}
