//! Add resources to a catalog (`/admin/catalogs/{id}/resources/add`): from Gatehouse's own
//! directory groups, or from a connection — a SCIM application's groups and the application
//! itself, an LDAP directory's groups (searched in the target), a webhook target's roles. The
//! ticked ones are added all or none, through the same resource requests as the API.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use gatehouse_app::{AppError, ListQuery};
use gatehouse_domain::authorization::{can, Action, Scope};
use gatehouse_domain::catalog::{NewResourceRequest, ORIGIN_DIRECTORY_GROUP};
use gatehouse_domain::connection::{
    Connection, ConnectionSettings, ORIGIN_LDAP_GROUP, ORIGIN_SCIM_APPLICATION, ORIGIN_SCIM_GROUP, ORIGIN_WEBHOOK,
};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::wizard::Errors;
use super::{chrome, AdminChrome};
use crate::pages::forms::FormData;
use crate::pages::{path_id, render, see_other, sentence, PageResult, Viewer, INVALID};
use crate::state::AppState;

#[derive(Deserialize, schemars::JsonSchema)]
pub struct GroupSearch {
    /// Part of a group's name.
    q: Option<String>,
    /// Where the resources come from: a connection's id; the directory when left out.
    source: Option<String>,
}

pub struct GroupRow {
    pub id: String,
    pub name: String,
    pub description: String,
}

/// A place resources come from, for the source picker.
pub struct Source {
    pub id: String,
    pub name: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "admin/catalog_add_resources.html")]
struct AddResourcesPage {
    chrome: AdminChrome,
    id: String,
    name: String,
    query: String,
    sources: Vec<Source>,
    /// The connection picked, empty for the directory.
    source: String,
    /// What the source offers besides searched groups: the connection itself, as `(value, label)`.
    whole: Option<(String, String)>,
    /// Whether the source has groups to search.
    searchable: bool,
    groups: Vec<GroupRow>,
    /// Why the target's groups could not be listed.
    target_error: String,
    errors: Errors,
}

fn managing(v: &Viewer, id: Uuid) -> Result<(), AppError> {
    can(&v.principal, Action::ManageCatalog, Scope::Catalog(id)).map_err(|d| AppError::Forbidden(d.0))
}

/// The directory groups matching `query` that are not yet resources of the catalog.
pub async fn groups_not_in(s: &AppState, v: &Viewer, catalog: Uuid, query: &str) -> Result<Vec<GroupRow>, AppError> {
    let present = present(s, v, catalog).await?;
    let search = Some(query).filter(|q| !q.is_empty());
    let q = ListQuery { search, top: 50, ..ListQuery::EXPANDED };
    let groups = s.app.list_groups(gatehouse_store::query::Where::new(), q).await?;
    Ok(groups
        .items
        .into_iter()
        .filter(|g| !present.contains(&g.id.to_string()))
        .map(|g| GroupRow {
            id: g.id.to_string(),
            name: g.display_name,
            description: g.description.unwrap_or_default(),
        })
        .collect())
}

/// The origin ids already in the catalog.
async fn present(s: &AppState, v: &Viewer, catalog: Uuid) -> Result<Vec<String>, AppError> {
    Ok(s.app
        .list_resources(&v.actor(), catalog, ListQuery::EXPANDED)
        .await?
        .items
        .into_iter()
        .map(|r| r.origin_id)
        .collect())
}

/// The connection itself as a resource, when it is one: `(form value, label)`.
fn whole(c: &Connection) -> Option<(String, String)> {
    match &c.settings {
        ConnectionSettings::Scim(_) => {
            Some(("application".into(), format!("{} itself — role User (the person has an account)", c.display_name)))
        }
        ConnectionSettings::Webhook(w) => {
            Some(("target".into(), format!("{} — roles {}", c.display_name, w.roles.join(", "))))
        }
        ConnectionSettings::Ldap(_) => None,
    }
}

struct Picked {
    source: String,
    whole: Option<(String, String)>,
    searchable: bool,
    groups: Vec<GroupRow>,
    target_error: String,
}

async fn pick(s: &AppState, v: &Viewer, catalog: Uuid, source: Option<Uuid>, query: &str) -> Result<Picked, AppError> {
    let Some(connection) = source else {
        let groups = groups_not_in(s, v, catalog, query).await?;
        return Ok(Picked {
            source: String::new(),
            whole: None,
            searchable: true,
            groups,
            target_error: String::new(),
        });
    };
    let c = s.app.get_connection(&v.actor(), connection).await?.connection;
    let present = present(s, v, catalog).await?;
    let whole = whole(&c).filter(|_| !present.contains(&c.id.to_string()));
    let searchable = !matches!(c.settings, ConnectionSettings::Webhook(_));
    let (groups, target_error) = if searchable {
        match s.app.search_connection_groups(&v.actor(), connection, query).await {
            Ok(found) => (
                found
                    .into_iter()
                    .filter(|g| !present.iter().any(|p| p.eq_ignore_ascii_case(&g.origin_id)))
                    .map(|g| GroupRow {
                        id: g.origin_id,
                        name: g.display_name,
                        description: g.description.unwrap_or_default(),
                    })
                    .collect(),
                String::new(),
            ),
            Err(AppError::Conflict(m)) => (vec![], sentence(&m)),
            Err(e) => return Err(e),
        }
    } else {
        (vec![], String::new())
    };
    Ok(Picked { source: connection.to_string(), whole, searchable, groups, target_error })
}

async fn add_resources_page(
    s: &AppState,
    v: &Viewer,
    id: Uuid,
    source: Option<Uuid>,
    query: String,
    status: StatusCode,
    errors: Errors,
) -> PageResult {
    let actor = v.actor();
    let c = s.app.get_catalog(&actor, id).await?;
    managing(v, id)?;
    let connections = s.app.list_connections(&actor, ListQuery { top: 200, ..ListQuery::EXPANDED }).await?.items;
    let mut sources = vec![Source { id: String::new(), name: "Directory groups".into(), current: source.is_none() }];
    sources.extend(connections.iter().map(|k| Source {
        id: k.id.to_string(),
        name: format!("{} ({})", k.display_name, super::connections::kind_label(k)),
        current: source == Some(k.id),
    }));
    let p = pick(s, v, id, source, &query).await?;
    let page = AddResourcesPage {
        chrome: chrome(s, v, "catalogs").await?,
        id: id.to_string(),
        name: c.display_name,
        query,
        sources,
        source: p.source,
        whole: p.whole,
        searchable: p.searchable,
        groups: p.groups,
        target_error: p.target_error,
        errors,
    };
    render(status, &page)
}

fn source_of(raw: Option<&str>) -> Result<Option<Uuid>, crate::pages::PageError> {
    match raw.map(str::trim).filter(|r| !r.is_empty()) {
        None => Ok(None),
        Some(r) => path_id(r, "connection").map(Some),
    }
}

/// `GET /admin/catalogs/{id}/resources/add?source=&q=`: pick resources to add.
pub async fn add_resources_form(
    State(s): State<AppState>,
    v: Viewer,
    Path(id): Path<String>,
    Query(q): Query<GroupSearch>,
) -> PageResult {
    let id = path_id(&id, "catalog")?;
    let query = crate::pages::forms::search_text(q.q.as_deref());
    let source = source_of(q.source.as_deref())?;
    add_resources_page(&s, &v, id, source, query, StatusCode::OK, Errors::default()).await
}

/// The resource request for one ticked value of `source` (the directory when `None`).
fn request_for(catalog: Uuid, source: Option<&Connection>, value: &str) -> NewResourceRequest {
    let resource = match source {
        None => json!({"originId": value, "originSystem": ORIGIN_DIRECTORY_GROUP}),
        Some(k) => {
            let system = match (&k.settings, value) {
                (ConnectionSettings::Scim(_), "application") => ORIGIN_SCIM_APPLICATION,
                (ConnectionSettings::Scim(_), _) => ORIGIN_SCIM_GROUP,
                (ConnectionSettings::Ldap(_), _) => ORIGIN_LDAP_GROUP,
                (ConnectionSettings::Webhook(_), _) => ORIGIN_WEBHOOK,
            };
            let mut r = json!({"originSystem": system, "environment": {"id": k.id}});
            if !matches!(system, ORIGIN_SCIM_APPLICATION | ORIGIN_WEBHOOK) {
                r["originId"] = json!(value);
            }
            r
        }
    };
    let body = json!({"requestType": "adminAdd", "catalog": {"id": catalog}, "resource": resource});
    serde_json::from_value(body).expect("a well-formed resource request")
}

/// `POST /admin/catalogs/{id}/resources/add`: add the ticked resources, all or none.
pub async fn add_resources(State(s): State<AppState>, v: Viewer, Path(id): Path<String>, body: Bytes) -> PageResult {
    let id = path_id(&id, "catalog")?;
    managing(&v, id)?;
    let f = FormData::parse(&body);
    let query: String = f.get("q").unwrap_or("").chars().take(200).collect();
    let source = source_of(f.get("source"))?;
    let picked: Vec<&str> = f.all("group");
    let mut errors = Errors::default();
    if picked.is_empty() {
        errors.add("group", "Tick at least one resource to add.");
        return add_resources_page(&s, &v, id, source, query, INVALID, errors).await;
    }
    let connection = match source {
        Some(c) => Some(s.app.get_connection(&v.actor(), c).await?.connection),
        None => None,
    };
    let requests = picked.into_iter().map(|value| request_for(id, connection.as_ref(), value)).collect();
    match s.app.create_resource_requests(&v.actor(), requests).await {
        Ok(_) => see_other(&format!("/admin/catalogs/{id}#resources")),
        Err(AppError::Validation(gatehouse_domain::ValidationError { message, .. }) | AppError::Conflict(message)) => {
            errors.add("group", sentence(&message));
            add_resources_page(&s, &v, id, source, query, INVALID, errors).await
        }
        Err(e) => Err(e.into()),
    }
}
