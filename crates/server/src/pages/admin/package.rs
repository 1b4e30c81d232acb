//! An access package's overview (`/admin/accessPackages/{id}`): its properties with Edit (the
//! Hidden toggle of seed 000), the My Access link to send partners (with a copy button), its
//! policies, assignments (a direct assignment to a member or to an outsider by address, and
//! removal), requests (status, reprocess), and incompatible packages and groups. Every change
//! is the API's body handed to the API's service.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use gatehouse_app::{AppError, ListQuery};
use gatehouse_domain::authorization::{can, Action, Scope};
use gatehouse_domain::enums::RequestState;
use gatehouse_domain::request_input::NewAssignmentRequest;
use gatehouse_store::policies::for_package;
use serde_json::json;
use uuid::Uuid;

use super::wizard::Errors;
use super::{chrome, AdminChrome};
use crate::odata::Ctx;
use crate::pages::forms::FormData;
use crate::pages::{path_id, render, see_other, sentence, when, wording, PageError, PageResult, Viewer, INVALID};
use crate::state::AppState;

pub struct PolicyRow {
    pub id: String,
    pub name: String,
    pub who: String,
    pub approval: bool,
}

pub struct AssignmentRow {
    pub id: String,
    pub person: String,
    pub state: &'static str,
    pub until: String,
    pub policy: String,
}

pub struct RequestRow {
    pub id: String,
    pub person: String,
    pub kind: &'static str,
    pub state: String,
    pub created: String,
    pub failure: String,
    pub may_reprocess: bool,
}

#[derive(Template)]
#[template(path = "admin/package.html")]
struct OverviewPage {
    chrome: AdminChrome,
    id: String,
    name: String,
    description: String,
    hidden: bool,
    catalog_id: String,
    catalog: String,
    created: String,
    link: String,
    roles: Vec<String>,
    policies: Vec<PolicyRow>,
    assignments: Vec<AssignmentRow>,
    requests: Vec<RequestRow>,
    incompatible_packages: Vec<(String, String)>,
    incompatible_groups: Vec<(String, String)>,
    /// Other packages the viewer may read, and groups, to mark incompatible.
    package_choices: Vec<(String, String)>,
    group_choices: Vec<(String, String)>,
    may_manage: bool,
    may_assign: bool,
    errors: Errors,
    /// What the edit and assign forms sent, when they were refused.
    edit_name: String,
    edit_description: String,
    assign_email: String,
}

async fn person(s: &AppState, id: Option<Uuid>, email: Option<&str>) -> String {
    match id {
        Some(id) => match s.app.get_user(id).await {
            Ok(u) => match u.mail {
                Some(m) => format!("{} ({m})", u.display_name),
                None => u.display_name,
            },
            Err(_) => id.to_string(),
        },
        None => email.unwrap_or("—").to_owned(),
    }
}

/// `GET /admin/accessPackages/{id}`.
pub async fn show(State(s): State<AppState>, v: Viewer, ctx: Ctx, Path(id): Path<String>) -> PageResult {
    let id = path_id(&id, "access package")?;
    overview(&s, &v, &ctx, id, StatusCode::OK, Errors::default(), None, String::new()).await
}

#[allow(clippy::too_many_arguments)]
async fn overview(
    s: &AppState,
    v: &Viewer,
    ctx: &Ctx,
    id: Uuid,
    status: StatusCode,
    errors: Errors,
    edited: Option<(String, String)>,
    assign_email: String,
) -> PageResult {
    let actor = v.actor();
    let p = s.app.get_package(&actor, id).await?;
    let catalog = s.app.get_catalog(&actor, p.catalog_id).await?;
    let mut roles = Vec::new();
    for g in s.app.granted_roles(&actor, id).await? {
        let resource = s.app.get_resource(&actor, p.catalog_id, g.role.resource_id).await?;
        roles.push(format!("{} ({})", resource.display_name, g.role.display_name));
    }
    let policy_list = s.app.list_policies(&actor, for_package(id), ListQuery::EXPANDED).await?.items;
    let policies = policy_list
        .iter()
        .map(|pol| PolicyRow {
            id: pol.id.to_string(),
            name: pol.display_name.clone(),
            who: super::package_draft::SCOPES
                .iter()
                .find(|(k, _, _)| *k == pol.allowed_target_scope.as_str())
                .map_or_else(|| pol.allowed_target_scope.to_string(), |(_, l, _)| (*l).to_owned()),
            approval: pol.request_approval_settings.is_approval_required_for_add,
        })
        .collect();
    let policy_name =
        |pid: Uuid| policy_list.iter().find(|p| p.id == pid).map(|p| p.display_name.clone()).unwrap_or_default();
    let mut assignments = Vec::new();
    for a in s.app.list_assignments_in_reach(&actor, for_package(id), ListQuery::EXPANDED).await?.items {
        assignments.push(AssignmentRow {
            id: a.id.to_string(),
            person: person(s, Some(a.target_id), None).await,
            state: a.status(),
            until: a.end_date_time.as_ref().map_or_else(|| "Never expires".into(), when::date),
            policy: policy_name(a.assignment_policy_id),
        });
    }
    let may_assign = can(&v.principal, Action::ManageAssignments, Scope::Catalog(p.catalog_id)).is_ok();
    let mut requests = Vec::new();
    let recent = ListQuery { top: 50, ..ListQuery::EXPANDED };
    for r in s.app.list_requests_in_reach(&actor, for_package(id), recent).await?.items.into_iter().rev() {
        requests.push(RequestRow {
            id: r.id.to_string(),
            person: person(s, r.target_id, r.target_email.as_deref()).await,
            kind: wording::kind(r.request_type),
            state: r.state.to_string(),
            created: when::datetime(&r.created_date_time),
            failure: r.failure.clone().unwrap_or_default(),
            may_reprocess: may_assign
                && matches!(r.state, RequestState::PartiallyDelivered | RequestState::DeliveryFailed),
        });
    }
    let incompatible_packages = s
        .app
        .list_packages(&actor, gatehouse_store::access_packages::incompatible_packages_of(id), ListQuery::EXPANDED)
        .await?
        .items
        .into_iter()
        .map(|p| (p.id.to_string(), p.display_name))
        .collect::<Vec<_>>();
    let incompatible_groups = s
        .app
        .list_groups(gatehouse_store::access_packages::incompatible_groups_of(id), ListQuery::EXPANDED)
        .await?
        .items
        .into_iter()
        .map(|g| (g.id.to_string(), g.display_name))
        .collect::<Vec<_>>();
    let package_choices = s
        .app
        .list_packages(&actor, gatehouse_store::query::Where::new(), ListQuery { top: 200, ..ListQuery::EXPANDED })
        .await?
        .items
        .into_iter()
        .filter(|o| o.id != id && !incompatible_packages.iter().any(|(i, _)| *i == o.id.to_string()))
        .map(|o| (o.id.to_string(), o.display_name))
        .collect();
    let group_choices = s
        .app
        .list_groups(gatehouse_store::query::Where::new(), ListQuery { top: 200, ..ListQuery::EXPANDED })
        .await?
        .items
        .into_iter()
        .filter(|g| !incompatible_groups.iter().any(|(i, _)| *i == g.id.to_string()))
        .map(|g| (g.id.to_string(), g.display_name))
        .collect();
    let (edit_name, edit_description) =
        edited.unwrap_or_else(|| (p.display_name.clone(), p.description.clone().unwrap_or_default()));
    let page = OverviewPage {
        chrome: chrome(s, v, "packages").await?,
        id: p.id.to_string(),
        link: ctx.url(&format!("/myaccess/packages/{}", p.id)),
        name: p.display_name,
        description: p.description.unwrap_or_default(),
        hidden: p.is_hidden,
        catalog_id: catalog.id.to_string(),
        catalog: catalog.display_name,
        created: when::date(&p.created_date_time),
        roles,
        policies,
        assignments,
        requests,
        incompatible_packages,
        incompatible_groups,
        package_choices,
        group_choices,
        may_manage: can(&v.principal, Action::ManagePackages, Scope::Catalog(p.catalog_id)).is_ok(),
        may_assign,
        errors,
        edit_name,
        edit_description,
        assign_email,
    };
    render(status, &page)
}

/// The viewer may do `action` on this package, or the form is refused before it is read.
async fn allowed(s: &AppState, v: &Viewer, id: Uuid, action: Action) -> Result<(), AppError> {
    let p = s.app.get_package(&v.actor(), id).await?;
    can(&v.principal, action, Scope::Catalog(p.catalog_id)).map_err(|d| AppError::Forbidden(d.0))
}

/// `POST /admin/accessPackages/{id}/properties`: Edit (name, description, Hidden).
pub async fn edit(State(s): State<AppState>, v: Viewer, ctx: Ctx, Path(id): Path<String>, body: Bytes) -> PageResult {
    let id = path_id(&id, "access package")?;
    allowed(&s, &v, id, Action::ManagePackages).await?;
    let f = FormData::parse(&body);
    let name = f.get("name").unwrap_or("").to_owned();
    let description = f.get("description").unwrap_or("").to_owned();
    let mut errors = Errors::default();
    if name.is_empty() {
        errors.add("name", "Enter the access package's name.");
    } else {
        let patch = json!({"displayName": name, "description": if description.is_empty() { None } else { Some(&description) },
            "isHidden": f.get("hidden") == Some("yes")});
        let patch =
            serde_json::from_value(patch).map_err(|e| gatehouse_domain::ValidationError::general(e.to_string()));
        match patch.map_err(AppError::from) {
            Ok(patch) => match s.app.update_package(&v.actor(), id, patch).await {
                Ok(_) => return see_other(&format!("/admin/accessPackages/{id}")),
                Err(AppError::Validation(e)) => errors.add("name", sentence(&e.message)),
                Err(e) => return Err(e.into()),
            },
            Err(AppError::Validation(e)) => errors.add("name", sentence(&e.message)),
            Err(e) => return Err(e.into()),
        }
    }
    overview(&s, &v, &ctx, id, INVALID, errors, Some((name, description)), String::new()).await
}

/// `POST /admin/accessPackages/{id}/assignments`: a direct assignment (adminAdd) to the
/// person with this address — a member, a guest, or someone outside not yet in the directory.
pub async fn assign(State(s): State<AppState>, v: Viewer, ctx: Ctx, Path(id): Path<String>, body: Bytes) -> PageResult {
    let id = path_id(&id, "access package")?;
    allowed(&s, &v, id, Action::ManageAssignments).await?;
    let f = FormData::parse(&body);
    let email = f.get("email").unwrap_or("").to_owned();
    let policy = f.get("policy").and_then(|p| p.parse::<Uuid>().ok());
    let mut errors = Errors::default();
    if email.is_empty() {
        errors.add("email", "Enter the address of the person to assign.");
    } else if policy.is_none() {
        errors.add("email", "Choose the policy the assignment follows.");
    } else {
        let assignment = match s.app.find_user_by_mail(&email).await? {
            Some(u) => json!({"accessPackageId": id, "assignmentPolicyId": policy, "targetId": u.id}),
            None => json!({"accessPackageId": id, "assignmentPolicyId": policy, "target": {"email": email}}),
        };
        let body = json!({"requestType": "adminAdd", "assignment": assignment});
        let input: NewAssignmentRequest = serde_json::from_value(body)
            .map_err(|e| AppError::from(gatehouse_domain::ValidationError::general(e.to_string())))?;
        match s.app.create_assignment_request(&v.actor(), input).await {
            Ok(_) => return see_other(&format!("/admin/accessPackages/{id}#assignments")),
            Err(AppError::Validation(e)) => errors.add("email", sentence(&e.message)),
            Err(AppError::Conflict(m)) => errors.add("email", sentence(&m)),
            Err(e) => return Err(e.into()),
        }
    }
    overview(&s, &v, &ctx, id, INVALID, errors, None, email).await
}

/// `POST /admin/accessPackages/{id}/assignments/remove`: adminRemove (form: assignment).
pub async fn unassign(State(s): State<AppState>, v: Viewer, Path(id): Path<String>, body: Bytes) -> PageResult {
    let id = path_id(&id, "access package")?;
    allowed(&s, &v, id, Action::ManageAssignments).await?;
    let f = FormData::parse(&body);
    let assignment = path_id(f.get("assignment").unwrap_or(""), "assignment")?;
    let body = json!({"requestType": "adminRemove", "assignment": {"id": assignment}});
    let input: NewAssignmentRequest = serde_json::from_value(body)
        .map_err(|e| AppError::from(gatehouse_domain::ValidationError::general(e.to_string())))?;
    s.app.create_assignment_request(&v.actor(), input).await?;
    see_other(&format!("/admin/accessPackages/{id}#assignments"))
}

/// `POST /admin/accessPackages/{id}/requests/reprocess` (form: request).
pub async fn reprocess(State(s): State<AppState>, v: Viewer, Path(id): Path<String>, body: Bytes) -> PageResult {
    let id = path_id(&id, "access package")?;
    allowed(&s, &v, id, Action::ManageAssignments).await?;
    let f = FormData::parse(&body);
    let request = path_id(f.get("request").unwrap_or(""), "request")?;
    s.app.reprocess_request(&v.actor(), request).await?;
    see_other(&format!("/admin/accessPackages/{id}#requests"))
}

/// `POST /admin/accessPackages/{id}/policies/delete` (form: policy).
pub async fn delete_policy(State(s): State<AppState>, v: Viewer, Path(id): Path<String>, body: Bytes) -> PageResult {
    let id = path_id(&id, "access package")?;
    allowed(&s, &v, id, Action::ManagePackages).await?;
    let f = FormData::parse(&body);
    let policy = path_id(f.get("policy").unwrap_or(""), "policy")?;
    s.app.delete_policy(&v.actor(), policy).await?;
    see_other(&format!("/admin/accessPackages/{id}#policies"))
}

/// `POST /admin/accessPackages/{id}/incompatible` (form: `package` or `group` to add, or
/// `remove_package` / `remove_group` to take away).
pub async fn incompatible(State(s): State<AppState>, v: Viewer, Path(id): Path<String>, body: Bytes) -> PageResult {
    use gatehouse_store::access_packages::Incompatible;
    let id = path_id(&id, "access package")?;
    allowed(&s, &v, id, Action::ManagePackages).await?;
    let f = FormData::parse(&body);
    let actor = v.actor();
    let pick = |k: &str| f.get(k).map(|raw| path_id(raw, "object")).transpose();
    if let Some(other) = pick("package")? {
        s.app.add_incompatible_package(&actor, id, other).await?;
    } else if let Some(group) = pick("group")? {
        s.app.add_incompatible_group(&actor, id, group).await?;
    } else if let Some(other) = pick("remove_package")? {
        s.app.remove_incompatible(&actor, id, Incompatible::AccessPackage, other).await?;
    } else if let Some(group) = pick("remove_group")? {
        s.app.remove_incompatible(&actor, id, Incompatible::Group, group).await?;
    } else {
        return Err(PageError::bad_request("Choose a package or a group."));
    }
    see_other(&format!("/admin/accessPackages/{id}#incompatible"))
}
