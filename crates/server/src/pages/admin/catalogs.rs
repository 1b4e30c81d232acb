//! Catalogs (`/admin/catalogs`): the catalogs the viewer may read — all of them for
//! administrators, their own for catalog owners and readers (the same reach as the API's
//! list) — with whether each is enabled and open to external users, and how many access
//! packages it holds; searched by name.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use gatehouse_app::ListQuery;
use gatehouse_domain::enums::CatalogState;
use gatehouse_domain::principal::Permission;
use gatehouse_store::catalogs::in_catalog;
use serde::Deserialize;

use super::{chrome, AdminChrome, COUNT_ONLY};
use crate::pages::{render, PageResult, Viewer};
use crate::state::AppState;

const PAGE_SIZE: u32 = 100;

#[derive(Deserialize, schemars::JsonSchema)]
pub struct ListParams {
    /// Part of a catalog's name.
    q: Option<String>,
}

pub struct Row {
    pub id: String,
    pub name: String,
    pub description: String,
    pub enabled: bool,
    pub external: bool,
    pub packages: i64,
}

#[derive(Template)]
#[template(path = "admin/catalogs.html")]
struct ListPage {
    chrome: AdminChrome,
    query: String,
    rows: Vec<Row>,
    more: bool,
    may_create: bool,
}

/// `GET /admin/catalogs?q=`.
pub async fn list(State(s): State<AppState>, v: Viewer, Query(p): Query<ListParams>) -> PageResult {
    let query = crate::pages::forms::search_text(p.q.as_deref());
    let search = Some(query.as_str()).filter(|q| !q.is_empty());
    let actor = v.actor();
    let page = s.app.list_catalogs(&actor, ListQuery { search, top: PAGE_SIZE, ..ListQuery::EXPANDED }).await?;
    let more = page.next_skip.is_some();
    let mut rows = Vec::with_capacity(page.items.len());
    for c in page.items {
        let packages = s.app.list_packages(&actor, in_catalog(c.id), COUNT_ONLY).await?.count.unwrap_or(0);
        rows.push(Row {
            id: c.id.to_string(),
            name: c.display_name,
            description: c.description.unwrap_or_default(),
            enabled: c.state == CatalogState::Published,
            external: c.is_externally_visible,
            packages,
        });
    }
    let may_create = v.principal.may(Permission::CatalogCreate).is_ok();
    render(StatusCode::OK, &ListPage { chrome: chrome(&s, &v, "catalogs").await?, query, rows, more, may_create })
}
