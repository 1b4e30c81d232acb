//! One catalog (`/admin/catalogs/{id}`): its properties, its resources (Add resources is
//! `catalog_resources`), its access packages, and its roles and
//! administrators (owners, readers, access package managers, assignment managers). New
//! catalog (`/admin/catalogs/new`) is one form. Buttons appear only for what the viewer may
//! do in this catalog (`domain::authorization::can`), and the services check again.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use gatehouse_app::{AppError, ListQuery};
use gatehouse_domain::authorization::{can, Action, Scope};
use gatehouse_domain::catalog::NewCatalog;
use gatehouse_domain::enums::CatalogState;
use gatehouse_domain::principal::CatalogRole;
use gatehouse_domain::role_assignment::{definition_id, NewRoleAssignment};
use gatehouse_store::catalogs::in_catalog;
use serde_json::json;
use uuid::Uuid;

use super::wizard::Errors;
use super::{chrome, AdminChrome};
use crate::pages::forms::FormData;
use crate::pages::{path_id, render, see_other, sentence, PageResult, Viewer, INVALID};
use crate::state::AppState;

/// The catalog roles in the order the page lists them, with the admin's words.
pub const ROLES: [(CatalogRole, &str); 4] = [
    (CatalogRole::Owner, "Catalog owner"),
    (CatalogRole::Reader, "Catalog reader"),
    (CatalogRole::AccessPackageManager, "Access package manager"),
    (CatalogRole::AccessPackageAssignmentManager, "Access package assignment manager"),
];

fn role_label(role: CatalogRole) -> &'static str {
    ROLES.iter().find(|(r, _)| *r == role).map_or("Catalog role", |(_, l)| l)
}

#[derive(Template)]
#[template(path = "admin/catalog_new.html")]
struct NewPage {
    chrome: AdminChrome,
    errors: Errors,
    name: String,
    description: String,
    enabled: bool,
    external: bool,
}

/// `GET /admin/catalogs/new`.
pub async fn new_form(State(s): State<AppState>, v: Viewer) -> PageResult {
    let page = NewPage {
        chrome: chrome(&s, &v, "catalogs").await?,
        errors: Errors::default(),
        name: String::new(),
        description: String::new(),
        enabled: true,
        external: false,
    };
    render(StatusCode::OK, &page)
}

/// `POST /admin/catalogs/new`: the body `POST catalogs` would get.
pub async fn create(State(s): State<AppState>, v: Viewer, body: Bytes) -> PageResult {
    let f = FormData::parse(&body);
    let mut page = NewPage {
        chrome: chrome(&s, &v, "catalogs").await?,
        errors: Errors::default(),
        name: f.get("name").unwrap_or("").to_owned(),
        description: f.get("description").unwrap_or("").to_owned(),
        enabled: f.get("enabled") == Some("yes"),
        external: f.get("external") == Some("yes"),
    };
    if page.name.is_empty() {
        page.errors.add("name", "Enter the catalog's name.");
        return render(INVALID, &page);
    }
    let mut input = json!({"displayName": page.name,
        "state": if page.enabled { "published" } else { "unpublished" }, "isExternallyVisible": page.external});
    if !page.description.is_empty() {
        input["description"] = json!(page.description);
    }
    let created = match serde_json::from_value::<NewCatalog>(input) {
        Ok(input) => s.app.create_catalog(&v.actor(), input).await,
        Err(e) => Err(gatehouse_domain::ValidationError::general(e.to_string()).into()),
    };
    match created {
        Ok(c) => see_other(&format!("/admin/catalogs/{}", c.id)),
        Err(AppError::Validation(e)) => {
            let field = match e.target.as_deref() {
                Some("description") => "description",
                _ => "name",
            };
            page.errors.add(field, sentence(&e.message));
            render(INVALID, &page)
        }
        Err(e) => Err(e.into()),
    }
}

pub struct ResourceRow {
    pub id: String,
    pub name: String,
    pub description: String,
    pub kind: &'static str,
}

pub struct PackageRow {
    pub id: String,
    pub name: String,
    pub hidden: bool,
}

pub struct RoleRow {
    pub id: String,
    pub role: &'static str,
    pub name: String,
    pub mail: String,
}

#[derive(Template)]
#[template(path = "admin/catalog.html")]
struct CatalogPage {
    chrome: AdminChrome,
    id: String,
    name: String,
    description: String,
    enabled: bool,
    external: bool,
    resources: Vec<ResourceRow>,
    packages: Vec<PackageRow>,
    roles: Vec<RoleRow>,
    may_manage: bool,
    may_add_packages: bool,
    errors: Errors,
    role_email: String,
    role_choices: Vec<(String, &'static str)>,
}

/// `GET /admin/catalogs/{id}`.
pub async fn show(State(s): State<AppState>, v: Viewer, Path(id): Path<String>) -> PageResult {
    let id = path_id(&id, "catalog")?;
    catalog_page(&s, &v, id, StatusCode::OK, Errors::default(), String::new()).await
}

async fn catalog_page(
    s: &AppState,
    v: &Viewer,
    id: Uuid,
    status: StatusCode,
    errors: Errors,
    role_email: String,
) -> PageResult {
    let actor = v.actor();
    let c = s.app.get_catalog(&actor, id).await?;
    let mut resources: Vec<ResourceRow> = s
        .app
        .list_resources(&actor, id, ListQuery::EXPANDED)
        .await?
        .items
        .into_iter()
        .map(|r| ResourceRow {
            id: r.id.to_string(),
            kind: if r.origin_system == gatehouse_domain::catalog::ORIGIN_DIRECTORY_GROUP {
                "Group"
            } else {
                "Resource"
            },
            name: r.display_name,
            description: r.description.unwrap_or_default(),
        })
        .collect();
    resources.sort_by_key(|r| r.name.to_lowercase());
    let packages = s
        .app
        .list_packages(&actor, in_catalog(id), ListQuery::EXPANDED)
        .await?
        .items
        .into_iter()
        .map(|p| PackageRow { id: p.id.to_string(), name: p.display_name, hidden: p.is_hidden })
        .collect();
    let mut roles = Vec::new();
    for ra in s.app.list_role_assignments(&actor).await?.into_iter().filter(|r| r.catalog_id == id) {
        let (name, mail) = match s.app.get_user(ra.principal_id).await {
            Ok(u) => (u.display_name, u.mail.unwrap_or_default()),
            Err(_) => (ra.principal_id.to_string(), String::new()),
        };
        roles.push(RoleRow { id: ra.id, role: role_label(ra.role), name, mail });
    }
    roles.sort_by(|a, b| (a.role, &a.name).cmp(&(b.role, &b.name)));
    let page = CatalogPage {
        chrome: chrome(s, v, "catalogs").await?,
        id: c.id.to_string(),
        name: c.display_name,
        description: c.description.unwrap_or_default(),
        enabled: c.state == CatalogState::Published,
        external: c.is_externally_visible,
        resources,
        packages,
        roles,
        may_manage: can(&v.principal, Action::ManageCatalog, Scope::Catalog(id)).is_ok(),
        may_add_packages: can(&v.principal, Action::ManagePackages, Scope::Catalog(id)).is_ok(),
        errors,
        role_email,
        role_choices: ROLES.iter().map(|(r, l)| (definition_id(*r).to_string(), *l)).collect(),
    };
    render(status, &page)
}

/// The viewer manages this catalog, or the form is refused before it is read.
fn managing(v: &Viewer, id: Uuid) -> Result<(), AppError> {
    can(&v.principal, Action::ManageCatalog, Scope::Catalog(id)).map_err(|d| AppError::Forbidden(d.0))
}

/// `POST /admin/catalogs/{id}/roles`: give a person a role in the catalog, by address.
pub async fn add_role(State(s): State<AppState>, v: Viewer, Path(id): Path<String>, body: Bytes) -> PageResult {
    let id = path_id(&id, "catalog")?;
    managing(&v, id)?;
    let f = FormData::parse(&body);
    let email = f.get("email").unwrap_or("").to_owned();
    let mut errors = Errors::default();
    let user = if email.is_empty() { None } else { s.app.find_user_by_mail(&email).await? };
    match user {
        None if email.is_empty() => errors.add("email", "Enter the person's email address."),
        None => errors.add("email", format!("Nobody in the directory has the address {email}.")),
        Some(u) => {
            let input = NewRoleAssignment {
                role_definition_id: f.get("role").map(str::to_owned),
                principal_id: Some(u.id.to_string()),
                directory_scope_id: Some("/".into()),
                app_scope_id: Some(format!("/AccessPackageCatalog/{id}")),
            };
            match s.app.create_role_assignment(&v.actor(), input).await {
                Ok(_) => return see_other(&format!("/admin/catalogs/{id}#roles")),
                Err(AppError::Validation(e)) => errors.add("email", sentence(&e.message)),
                Err(e) => return Err(e.into()),
            }
        }
    }
    catalog_page(&s, &v, id, INVALID, errors, email).await
}

/// `POST /admin/catalogs/{id}/roles/remove`: take a role away (form: the assignment id).
pub async fn remove_role(State(s): State<AppState>, v: Viewer, Path(id): Path<String>, body: Bytes) -> PageResult {
    let id = path_id(&id, "catalog")?;
    managing(&v, id)?;
    let f = FormData::parse(&body);
    let assignment = f.get("assignment").unwrap_or("");
    s.app.delete_role_assignment(&v.actor(), assignment).await?;
    see_other(&format!("/admin/catalogs/{id}#roles"))
}
