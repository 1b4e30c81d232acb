//! A package's policies from its overview: add one (`/admin/accessPackages/{id}/policies/new`)
//! or edit one (`…/policies/{policy}/edit`) with the new-package wizard's Requests, Requestor
//! information and Lifecycle tabs. Editing lays the form over the stored policy, so settings
//! the form does not show survive; a policy the form cannot show (attribute rules, service
//! principals, approvers given as groups of sponsors…) is edited through the API instead.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use gatehouse_app::AppError;
use gatehouse_domain::authorization::{can, Action, Scope};
use uuid::Uuid;

use super::package_draft::Draft;
use super::package_new::{page, submit_in, Mode};
use super::wizard::Errors;
use crate::pages::{path_id, PageError, PageResult, Viewer};
use crate::state::AppState;

/// The package, if the viewer manages its policies.
async fn managed(
    s: &AppState,
    v: &Viewer,
    id: Uuid,
) -> Result<gatehouse_domain::access_package::AccessPackage, AppError> {
    let p = s.app.get_package(&v.actor(), id).await?;
    can(&v.principal, Action::ManagePackages, Scope::Catalog(p.catalog_id)).map_err(|d| AppError::Forbidden(d.0))?;
    Ok(p)
}

/// `GET /admin/accessPackages/{id}/policies/new`.
pub async fn new_form(State(s): State<AppState>, v: Viewer, Path(id): Path<String>) -> PageResult {
    let id = path_id(&id, "access package")?;
    let p = managed(&s, &v, id).await?;
    let mut d = Draft::fresh(Some(p.catalog_id));
    d.name = p.display_name;
    d.policy_name = String::new();
    page(&s, &v, Mode::NewPolicy { package: id }, StatusCode::OK, d, "requests", Errors::default()).await
}

/// `POST /admin/accessPackages/{id}/policies/new`.
pub async fn create(State(s): State<AppState>, v: Viewer, Path(id): Path<String>, body: Bytes) -> PageResult {
    let id = path_id(&id, "access package")?;
    managed(&s, &v, id).await?;
    submit_in(&s, &v, Mode::NewPolicy { package: id }, &body).await
}

/// `GET /admin/accessPackages/{id}/policies/{policy}/edit`: the tabs, filled from the policy.
pub async fn edit_form(State(s): State<AppState>, v: Viewer, Path((id, policy)): Path<(String, String)>) -> PageResult {
    let (id, policy) = (path_id(&id, "access package")?, path_id(&policy, "policy")?);
    let p = managed(&s, &v, id).await?;
    let stored = s.app.get_policy(&v.actor(), policy).await?;
    if stored.access_package_id != id {
        return Err(PageError::not_found("This package has no such policy."));
    }
    let mut mails = HashMap::new();
    for set in stored.subject_sets() {
        if let gatehouse_domain::subject_set::SubjectSet::SingleUser { user_id, .. } = set {
            if let Some(mail) = s.app.get_user(*user_id).await.ok().and_then(|u| u.mail) {
                mails.insert(*user_id, mail);
            }
        }
    }
    let d =
        Draft::from_policy(&stored, &p.display_name, p.catalog_id, &|u| mails.get(&u).cloned()).map_err(|what| {
            PageError::Message {
                status: StatusCode::CONFLICT,
                title: "Edit this policy through the API",
                message: format!(
                "{} uses settings this page does not show ({what}); change it with PUT assignmentPolicies/{policy}.",
                stored.display_name
            ),
            }
        })?;
    page(&s, &v, Mode::EditPolicy { package: id, policy }, StatusCode::OK, d, "requests", Errors::default()).await
}

/// `POST /admin/accessPackages/{id}/policies/{policy}/edit`.
pub async fn edit(
    State(s): State<AppState>,
    v: Viewer,
    Path((id, policy)): Path<(String, String)>,
    body: Bytes,
) -> PageResult {
    let (id, policy) = (path_id(&id, "access package")?, path_id(&policy, "policy")?);
    managed(&s, &v, id).await?;
    if s.app.get_policy(&v.actor(), policy).await?.access_package_id != id {
        return Err(PageError::not_found("This package has no such policy."));
    }
    submit_in(&s, &v, Mode::EditPolicy { package: id, policy }, &body).await
}
