//! Access packages (`/admin/accessPackages`): the packages in the catalogs the viewer may read,
//! searched by name and description, each with its catalog and whether it is hidden.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use gatehouse_app::ListQuery;
use gatehouse_domain::authorization::{can, Action, Scope};
use gatehouse_store::query::Where;
use serde::Deserialize;

use super::{chrome, AdminChrome};
use crate::pages::{render, PageResult, Viewer};
use crate::state::AppState;

const PAGE_SIZE: u32 = 100;

#[derive(Deserialize, schemars::JsonSchema)]
pub struct ListParams {
    /// Part of a package's name or description.
    q: Option<String>,
}

pub struct Row {
    pub id: String,
    pub name: String,
    pub description: String,
    pub catalog: String,
    pub hidden: bool,
}

#[derive(Template)]
#[template(path = "admin/packages.html")]
struct ListPage {
    chrome: AdminChrome,
    query: String,
    rows: Vec<Row>,
    more: bool,
    /// The viewer may create packages in some catalog.
    may_create: bool,
}

/// `GET /admin/accessPackages?q=`.
pub async fn list(State(s): State<AppState>, v: Viewer, Query(p): Query<ListParams>) -> PageResult {
    let query = crate::pages::forms::search_text(p.q.as_deref());
    let search = Some(query.as_str()).filter(|q| !q.is_empty());
    let actor = v.actor();
    let page =
        s.app.list_packages(&actor, Where::new(), ListQuery { search, top: PAGE_SIZE, ..ListQuery::EXPANDED }).await?;
    let catalogs = s.app.list_catalogs(&actor, ListQuery::EXPANDED).await?.items;
    let names: HashMap<_, _> = catalogs.iter().map(|c| (c.id, c.display_name.clone())).collect();
    let may_create = catalogs.iter().any(|c| can(&v.principal, Action::ManagePackages, Scope::Catalog(c.id)).is_ok());
    let rows = page
        .items
        .into_iter()
        .map(|p| Row {
            id: p.id.to_string(),
            catalog: names.get(&p.catalog_id).cloned().unwrap_or_default(),
            name: p.display_name,
            description: p.description.unwrap_or_default(),
            hidden: p.is_hidden,
        })
        .collect();
    let more = page.next_skip.is_some();
    render(StatusCode::OK, &ListPage { chrome: chrome(&s, &v, "packages").await?, query, rows, more, may_create })
}
