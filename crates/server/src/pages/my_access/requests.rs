//! Request history (`/myaccess/requests`) and one request's status page, with cancel while it
//! is not delivered yet and resubmit after a denial or expiry.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use gatehouse_app::my_access::views::RequestView;
use gatehouse_domain::enums::{RequestState, RequestType};
use gatehouse_domain::question::QuestionKind;

use super::chrome;
use crate::pages::wording::{self, Status};
use crate::pages::{path_id, render, see_other, when, Chrome, PageResult, Viewer};
use crate::state::AppState;

/// A request as its requestor reads it.
pub struct RequestRow {
    pub id: String,
    pub package_id: String,
    pub package: String,
    pub kind: &'static str,
    pub created: String,
    pub completed: Option<String>,
    pub status: Status,
    pub can_cancel: bool,
    /// Denied or expired add requests can be asked for again with the same answers.
    pub can_resubmit: bool,
    pub justification: Option<String>,
    /// (question, answer) in the reader's language.
    pub answers: Vec<(String, String)>,
    pub end: Option<String>,
}

pub fn row(v: &RequestView, languages: &[String]) -> RequestRow {
    let r = &v.request;
    let open = matches!(r.state, RequestState::Submitted | RequestState::PendingApproval | RequestState::Scheduled);
    let resubmit = r.request_type == RequestType::UserAdd && r.state == RequestState::Denied && v.package.is_some();
    RequestRow {
        id: r.id.to_string(),
        package_id: r.access_package_id.to_string(),
        package: v.package_name().to_owned(),
        kind: wording::kind(r.request_type),
        created: when::datetime(&r.created_date_time),
        completed: r.completed_date_time.as_ref().map(when::datetime),
        status: wording::request_status(v),
        can_cancel: open,
        can_resubmit: resubmit,
        justification: r.justification.clone(),
        answers: answers(v, languages),
        end: r.schedule.expiration.end_date_time.as_ref().map(when::date),
    }
}

/// The request's answers with their questions, as the person who answered saw them: a
/// choice shows its text, never its stored value.
pub fn answers(v: &RequestView, languages: &[String]) -> Vec<(String, String)> {
    let questions = v.policy.as_ref().map(|p| p.questions.as_slice()).unwrap_or_default();
    v.request
        .answers
        .iter()
        .map(|a| {
            let q = questions.iter().find(|q| q.id == Some(a.question_id));
            let question =
                q.map_or_else(|| "A question no longer asked".to_owned(), |q| q.text_for(languages).to_owned());
            let answer = match q.map(|q| &q.kind) {
                Some(QuestionKind::MultipleChoice { choices, .. }) => choices
                    .iter()
                    .find(|c| c.actual_value == a.value)
                    .map(|c| c.text_for(languages).to_owned())
                    .or_else(|| a.display_value.clone())
                    .unwrap_or_default(),
                _ => a.display_value.clone().unwrap_or_else(|| a.value.clone()),
            };
            (question, answer)
        })
        .collect()
}

#[derive(Template)]
#[template(path = "my_access/requests.html")]
struct ListPage {
    chrome: Chrome,
    requests: Vec<RequestRow>,
}

/// `GET /myaccess/requests`.
pub async fn list(State(s): State<AppState>, v: Viewer) -> PageResult {
    let views = s.app.my_requests(&v.actor()).await?;
    let requests = views.iter().map(|r| row(r, &v.languages)).collect();
    render(StatusCode::OK, &ListPage { chrome: chrome(&s, &v, "requests").await?, requests })
}

#[derive(Template)]
#[template(path = "my_access/request.html")]
struct RequestPage {
    chrome: Chrome,
    r: RequestRow,
}

/// `GET /myaccess/requests/{id}`: a request's status (its requestor, target and approvers may
/// see it, as through the API).
pub async fn show(State(s): State<AppState>, v: Viewer, Path(id): Path<String>) -> PageResult {
    let id = path_id(&id, "request")?;
    let view = s.app.request_view(&v.actor(), id).await?;
    let r = row(&view, &v.languages);
    let mine =
        view.request.target_id == Some(v.principal.user_id) || view.request.requestor_id == Some(v.principal.user_id);
    let r = RequestRow { can_cancel: r.can_cancel && mine, can_resubmit: r.can_resubmit && mine, ..r };
    render(StatusCode::OK, &RequestPage { chrome: chrome(&s, &v, "requests").await?, r })
}

/// `POST /myaccess/requests/{id}/cancel`.
pub async fn cancel(State(s): State<AppState>, v: Viewer, Path(id): Path<String>) -> PageResult {
    let id = path_id(&id, "request")?;
    s.app.cancel_request(&v.actor(), id).await?;
    see_other(&format!("/myaccess/requests/{id}"))
}
