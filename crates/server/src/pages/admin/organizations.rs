//! Connected organizations (`/admin/connectedOrganizations`): the list with its search by name
//! **or domain** (the anchor product searches names only, seed 004), each organization's
//! domains, how its users sign in, its state and its sponsors; names that more than one
//! organization uses are flagged (seed 003 asks for that warning). One organization's overview
//! (`/admin/connectedOrganizations/{id}`): its properties, directories and domains, sponsors.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use gatehouse_app::ListQuery;
use gatehouse_domain::connected_organization::{ConnectedOrganization, IdentitySource, SponsorKind};
use gatehouse_domain::principal::Permission;
use serde::Deserialize;

use super::{chrome, AdminChrome, COUNT_ONLY};
use crate::pages::{path_id, render, when, PageResult, Viewer};
use crate::state::AppState;

/// The most organizations one page lists; a search narrows it.
const PAGE_SIZE: u32 = 100;

#[derive(Deserialize, schemars::JsonSchema)]
pub struct ListParams {
    /// Part of an organization's name or one of its domains.
    q: Option<String>,
}

pub struct Row {
    pub id: String,
    pub name: String,
    pub description: String,
    pub domains: String,
    pub sign_in: String,
    pub state: String,
    pub internal_sponsors: i64,
    pub external_sponsors: i64,
    /// Another organization has the same name (case aside).
    pub name_taken: bool,
}

#[derive(Template)]
#[template(path = "admin/organizations.html")]
struct ListPage {
    chrome: AdminChrome,
    query: String,
    rows: Vec<Row>,
    /// More organizations match than the page shows.
    more: bool,
    /// The viewer may add organizations.
    may_add: bool,
}

/// How the organization's users sign in, in the admin's words.
pub fn sign_in_kind(source: &IdentitySource) -> &'static str {
    match source {
        IdentitySource::Domain { .. } => "One-time passcode",
        IdentitySource::Oidc { .. } => "OpenID Connect",
        IdentitySource::ExternalDomainFederation { .. } => "SAML/WS-Fed federation",
        IdentitySource::AzureActiveDirectoryTenant { .. } => "Microsoft Entra ID",
        IdentitySource::CrossCloudAzureActiveDirectoryTenant { .. } => "Microsoft Entra ID (other cloud)",
        IdentitySource::Social { .. } => "Social identity",
    }
}

fn joined<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for i in items {
        if !seen.contains(&i) {
            seen.push(i);
        }
    }
    seen.join(", ")
}

async fn sponsors(
    s: &AppState,
    org: &ConnectedOrganization,
    kind: SponsorKind,
) -> Result<i64, gatehouse_app::AppError> {
    Ok(s.app.list_sponsors(org.id, kind, COUNT_ONLY).await?.count.unwrap_or(0))
}

/// How many organizations use each name (lower-cased), across the tenant rather than one page.
pub(super) async fn names_in_use(s: &AppState) -> Result<HashMap<String, usize>, gatehouse_app::AppError> {
    let mut names: HashMap<String, usize> = HashMap::new();
    for o in s.app.list_connected_organizations(ListQuery::EXPANDED).await?.items {
        *names.entry(o.display_name.to_lowercase()).or_default() += 1;
    }
    Ok(names)
}

fn name_taken(names: &HashMap<String, usize>, o: &ConnectedOrganization) -> bool {
    names.get(&o.display_name.to_lowercase()).copied().unwrap_or(0) > 1
}

/// `GET /admin/connectedOrganizations?q=`: the list, searched by name or domain.
pub async fn list(State(s): State<AppState>, v: Viewer, Query(p): Query<ListParams>) -> PageResult {
    let query = crate::pages::forms::search_text(p.q.as_deref());
    let search = Some(query.as_str()).filter(|q| !q.is_empty());
    let page = s.app.list_connected_organizations(ListQuery { search, top: PAGE_SIZE, ..ListQuery::EXPANDED }).await?;
    let more = page.next_skip.is_some();
    let names = names_in_use(&s).await?;
    let mut rows = Vec::with_capacity(page.items.len());
    for o in &page.items {
        rows.push(Row {
            id: o.id.to_string(),
            name: o.display_name.clone(),
            description: o.description.clone().unwrap_or_default(),
            domains: joined(o.identity_sources.iter().filter_map(IdentitySource::domain_name)),
            sign_in: joined(o.identity_sources.iter().map(sign_in_kind)),
            state: o.state.to_string(),
            internal_sponsors: sponsors(&s, o, SponsorKind::Internal).await?,
            external_sponsors: sponsors(&s, o, SponsorKind::External).await?,
            name_taken: name_taken(&names, o),
        });
    }
    let chrome = chrome(&s, &v, "organizations").await?;
    let may_add = v.principal.may(Permission::EntitlementWrite).is_ok();
    render(StatusCode::OK, &ListPage { chrome, query, rows, more, may_add })
}

/// One directory or domain of the organization.
pub struct SourceRow {
    pub domain: String,
    pub name: String,
    pub sign_in: &'static str,
    /// Where its users sign in, when that is a provider of theirs.
    pub issuer: String,
}

pub struct SponsorRow {
    pub name: String,
    pub mail: String,
}

#[derive(Template)]
#[template(path = "admin/organization.html")]
struct OverviewPage {
    chrome: AdminChrome,
    id: String,
    name: String,
    description: String,
    state: String,
    created: String,
    name_taken: bool,
    sources: Vec<SourceRow>,
    internal: Vec<SponsorRow>,
    external: Vec<SponsorRow>,
    may_change: bool,
}

fn source_row(source: &IdentitySource) -> SourceRow {
    let (name, issuer, tenant) = match source {
        IdentitySource::Domain { display_name, .. } | IdentitySource::Social { display_name, .. } => {
            (display_name.clone(), None, None)
        }
        IdentitySource::Oidc { display_name, issuer_uri, .. }
        | IdentitySource::ExternalDomainFederation { display_name, issuer_uri, .. } => {
            (display_name.clone(), Some(issuer_uri.clone()), None)
        }
        IdentitySource::AzureActiveDirectoryTenant { display_name, tenant_id }
        | IdentitySource::CrossCloudAzureActiveDirectoryTenant { display_name, tenant_id, .. } => {
            (display_name.clone(), None, Some(tenant_id.clone()))
        }
    };
    SourceRow {
        domain: source.domain_name().map(str::to_owned).or(tenant).unwrap_or_default(),
        name: name.unwrap_or_default(),
        sign_in: sign_in_kind(source),
        issuer: issuer.unwrap_or_default(),
    }
}

async fn sponsor_rows(
    s: &AppState,
    org: uuid::Uuid,
    kind: SponsorKind,
) -> Result<Vec<SponsorRow>, gatehouse_app::AppError> {
    let page = s.app.list_sponsors(org, kind, ListQuery::EXPANDED).await?;
    Ok(page.items.into_iter().map(|u| SponsorRow { name: u.display_name, mail: u.mail.unwrap_or_default() }).collect())
}

/// `GET /admin/connectedOrganizations/{id}`: the organization's overview.
pub async fn show(State(s): State<AppState>, v: Viewer, Path(id): Path<String>) -> PageResult {
    let id = path_id(&id, "connected organization")?;
    let o = s.app.get_connected_organization(id).await?;
    let name_taken = name_taken(&names_in_use(&s).await?, &o);
    let page = OverviewPage {
        chrome: chrome(&s, &v, "organizations").await?,
        id: o.id.to_string(),
        name: o.display_name.clone(),
        description: o.description.clone().unwrap_or_default(),
        state: o.state.to_string(),
        created: when::date(&o.created_date_time),
        name_taken,
        sources: o.identity_sources.iter().map(source_row).collect(),
        internal: sponsor_rows(&s, id, SponsorKind::Internal).await?,
        external: sponsor_rows(&s, id, SponsorKind::External).await?,
        may_change: v.principal.may(Permission::EntitlementWrite).is_ok(),
    };
    render(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "admin/organization_delete.html")]
struct DeletePage {
    chrome: AdminChrome,
    id: String,
    name: String,
    /// Policies that name the organization: it cannot go while they do.
    naming: Vec<String>,
    guests: i64,
}

async fn delete_page(s: &AppState, v: &Viewer, id: uuid::Uuid, status: StatusCode) -> PageResult {
    let o = s.app.get_connected_organization(id).await?;
    let naming = s.app.policies_naming_organization(id).await?;
    let guests = gatehouse_store::query::Where::new()
        .and_eq("t.connected_organization_id = {}", gatehouse_store::query::Param::Text(id.to_string()));
    let guests = s.app.list_users(guests, COUNT_ONLY).await?.count.unwrap_or(0);
    let page = DeletePage {
        chrome: chrome(s, v, "organizations").await?,
        id: id.to_string(),
        name: o.display_name,
        naming,
        guests,
    };
    render(status, &page)
}

/// `GET /admin/connectedOrganizations/{id}/delete`: what deleting would mean, first.
pub async fn delete_form(State(s): State<AppState>, v: Viewer, Path(id): Path<String>) -> PageResult {
    let id = path_id(&id, "connected organization")?;
    delete_page(&s, &v, id, StatusCode::OK).await
}

/// `POST /admin/connectedOrganizations/{id}/delete`: refused (409, the page again) while
/// policies name it.
pub async fn delete(State(s): State<AppState>, v: Viewer, Path(id): Path<String>) -> PageResult {
    let id = path_id(&id, "connected organization")?;
    match s.app.delete_connected_organization(&v.actor(), id).await {
        Ok(()) => crate::pages::see_other("/admin/connectedOrganizations"),
        Err(gatehouse_app::AppError::Conflict(_)) => delete_page(&s, &v, id, StatusCode::CONFLICT).await,
        Err(e) => Err(e.into()),
    }
}
