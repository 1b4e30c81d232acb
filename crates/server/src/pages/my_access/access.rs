//! My access (`/myaccess/access`): the assignments the person holds, with extend (a
//! `userUpdate` request) and remove (a `userRemove`, after a confirmation page) where the
//! policy allows them.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use gatehouse_app::my_access::views::{AssignmentView, RequestView};
use gatehouse_app::AppError;
use gatehouse_domain::request::RequestSchedule;
use gatehouse_domain::request_input::NewAssignmentRequest;
use serde_json::json;

use super::chrome;
use crate::pages::forms::FormData;
use crate::pages::{path_id, render, see_other, sentence, when, Chrome, PageError, PageResult, Viewer, INVALID};
use crate::state::AppState;

pub struct AccessRow {
    pub id: String,
    pub package: String,
    pub start: String,
    pub end: Option<String>,
    pub resources: Vec<String>,
    pub status: &'static str,
    pub can_extend: bool,
    pub extension_needs_approval: bool,
    pub can_remove: bool,
}

fn row(v: &AssignmentView) -> AccessRow {
    let a = &v.assignment;
    AccessRow {
        id: a.id.to_string(),
        package: v.package.as_ref().map_or_else(|| "A deleted access package".to_owned(), |p| p.display_name.clone()),
        start: when::date(&a.start_date_time),
        end: a.end_date_time.as_ref().map(when::date),
        resources: v.resources.clone(),
        status: match a.status() {
            "Delivered" => "Delivered",
            "Delivering" => "Being set up",
            "PartiallyDelivered" => "Partially delivered",
            "DeliveryFailed" => "Delivery failed",
            _ => "",
        },
        can_extend: v.can_extend(),
        extension_needs_approval: v.extension_needs_approval(),
        can_remove: v.can_remove(),
    }
}

#[derive(Template)]
#[template(path = "my_access/access.html")]
struct ListPage {
    chrome: Chrome,
    assignments: Vec<AccessRow>,
}

/// `GET /myaccess/access`.
pub async fn list(State(s): State<AppState>, v: Viewer) -> PageResult {
    let views = s.app.my_assignments(&v.actor()).await?;
    let assignments = views.iter().map(row).collect();
    render(StatusCode::OK, &ListPage { chrome: chrome(&s, &v, "access").await?, assignments })
}

#[derive(Template)]
#[template(path = "my_access/extend.html")]
struct ExtendPage {
    chrome: Chrome,
    a: AccessRow,
    /// The end the extension would give, when the policy decides it.
    new_end: Option<String>,
    custom_schedule: bool,
    justification_required: bool,
    justification: String,
    end: String,
    today: String,
    error: Option<String>,
    justification_error: Option<String>,
    end_error: Option<String>,
    /// The answers of the request that granted the access, sent again with the extension.
    answers: Vec<(String, String)>,
}

/// The answers given when the access was granted: an extension is asked under the same
/// policy, whose questions need answers again (the person should not have to retype them).
async fn earlier_answers(s: &AppState, v: &Viewer, view: &AssignmentView) -> Result<Option<RequestView>, PageError> {
    let Some(rid) = view.assignment.request_id else { return Ok(None) };
    match s.app.request_view(&v.actor(), rid).await {
        Ok(r) => Ok(Some(r)),
        Err(AppError::NotFound(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

async fn extend_page(
    s: &AppState,
    v: &Viewer,
    view: &AssignmentView,
    status: StatusCode,
    f: Option<&FormData>,
    errors: [Option<String>; 3],
) -> PageResult {
    let policy =
        view.policy.as_ref().ok_or_else(|| PageError::not_found("This assignment's policy no longer exists."))?;
    let now = s.app.clock.now();
    let [error, justification_error, end_error] = errors;
    let earlier = earlier_answers(s, v, view).await?;
    let answers = earlier.as_ref().map(|r| super::requests::answers(r, &v.languages)).unwrap_or_default();
    let page = ExtendPage {
        chrome: chrome(s, v, "access").await?,
        a: row(view),
        new_end: gatehouse_domain::assignment::end_date(policy, &RequestSchedule::default(), now)
            .as_ref()
            .map(when::date),
        custom_schedule: policy.requestor_settings.allow_custom_assignment_schedule,
        justification_required: policy.request_approval_settings.is_requestor_justification_required,
        justification: f.and_then(|f| f.raw("justification")).unwrap_or("").trim().to_owned(),
        end: f.and_then(|f| f.get("end")).unwrap_or("").to_owned(),
        today: when::input_date(&now),
        error,
        justification_error,
        end_error,
        answers,
    };
    render(status, &page)
}

/// One of the caller's own assignments, if its policy allows `may`; else a page saying why.
async fn own(
    s: &AppState,
    v: &Viewer,
    id: &str,
    may: fn(&AssignmentView) -> bool,
    title: &'static str,
    why: &str,
) -> Result<AssignmentView, PageError> {
    let id = path_id(id, "assignment")?;
    let view = s.app.my_assignment(&v.actor(), id).await?;
    if !may(&view) {
        return Err(PageError::Message { status: StatusCode::CONFLICT, title, message: why.into() });
    }
    Ok(view)
}

async fn extendable(s: &AppState, v: &Viewer, id: &str) -> Result<AssignmentView, PageError> {
    let why = "Its policy does not let you ask for more time, or it never ends. Ask an administrator.";
    own(s, v, id, AssignmentView::can_extend, "This access cannot be extended", why).await
}

/// `GET /myaccess/access/{id}/extend`.
pub async fn extend_form(State(s): State<AppState>, v: Viewer, Path(id): Path<String>) -> PageResult {
    let view = extendable(&s, &v, &id).await?;
    extend_page(&s, &v, &view, StatusCode::OK, None, [None, None, None]).await
}

/// `POST /myaccess/access/{id}/extend`: a `userUpdate` request, approved when the policy
/// says so.
pub async fn extend(State(s): State<AppState>, v: Viewer, Path(id): Path<String>, body: Bytes) -> PageResult {
    let view = extendable(&s, &v, &id).await?;
    let f = FormData::parse(&body);
    let earlier = earlier_answers(&s, &v, &view).await?;
    let answers: Vec<serde_json::Value> = earlier
        .iter()
        .flat_map(|r| r.request.answers.iter())
        .map(|a| json!({"value": a.value, "displayValue": a.display_value, "answeredQuestion": {"id": a.question_id}}))
        .collect();
    let mut request = json!({"requestType": "userUpdate", "assignment": {"id": view.assignment.id},
        "justification": f.raw("justification").unwrap_or("").trim(), "answers": answers});
    if let Some(end) = f.get("end") {
        let Some(end) = when::end_of(end) else {
            let e = Some("Enter the date as year-month-day, for example 2027-01-31.".to_owned());
            return extend_page(&s, &v, &view, INVALID, Some(&f), [None, None, e]).await;
        };
        request["schedule"] = json!({"expiration": {"type": "afterDateTime", "endDateTime": end}});
    }
    let input: NewAssignmentRequest =
        serde_json::from_value(request).map_err(|e| PageError::bad_request(e.to_string()))?;
    match s.app.create_assignment_request(&v.actor(), input).await {
        Ok(r) => see_other(&format!("/myaccess/requests/{}", r.id)),
        Err(AppError::Validation(e)) => {
            let words = Some(sentence(&e.message));
            let errors = match e.target.as_deref() {
                Some("justification") => [None, words, None],
                Some(t) if t.starts_with("schedule") => [None, None, words],
                _ => [words, None, None],
            };
            extend_page(&s, &v, &view, INVALID, Some(&f), errors).await
        }
        Err(e @ (AppError::Conflict(_) | AppError::Forbidden(_))) => {
            extend_page(&s, &v, &view, INVALID, Some(&f), [Some(sentence(&e.to_string())), None, None]).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "my_access/remove.html")]
struct RemovePage {
    chrome: Chrome,
    a: AccessRow,
}

async fn removable(s: &AppState, v: &Viewer, id: &str) -> Result<AssignmentView, PageError> {
    let why = "Its policy does not let you; ask an administrator to remove it.";
    own(s, v, id, AssignmentView::can_remove, "You cannot remove this access yourself", why).await
}

/// `GET /myaccess/access/{id}/remove`: the confirmation.
pub async fn remove_form(State(s): State<AppState>, v: Viewer, Path(id): Path<String>) -> PageResult {
    let view = removable(&s, &v, &id).await?;
    render(StatusCode::OK, &RemovePage { chrome: chrome(&s, &v, "access").await?, a: row(&view) })
}

/// `POST /myaccess/access/{id}/remove`: a `userRemove` request.
pub async fn remove(State(s): State<AppState>, v: Viewer, Path(id): Path<String>) -> PageResult {
    let view = removable(&s, &v, &id).await?;
    let input: NewAssignmentRequest =
        serde_json::from_value(json!({"requestType": "userRemove", "assignment": {"id": view.assignment.id}}))
            .map_err(|e| PageError::bad_request(e.to_string()))?;
    let r = s.app.create_assignment_request(&v.actor(), input).await?;
    // A guest who gave up their last access may be blocked by the external-user lifecycle
    // in the same transaction, which ends this session: say so rather than show sign-in.
    if !s.app.get_user(v.principal.user_id).await?.account_enabled {
        let page = crate::sign_in::handlers::MessagePage {
            title: "Your access was removed",
            message: &format!(
                "{} is removed. You hold no other access here, so your guest account is closed and you are signed out.",
                row(&view).package
            ),
            error: false,
            link: Some(("/signin", "Sign in again to ask for access")),
        };
        return render(StatusCode::OK, &page);
    }
    see_other(&format!("/myaccess/requests/{}", r.id))
}
