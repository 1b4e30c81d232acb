//! Approvals (`/myaccess/approvals`): requests waiting for the signed-in approver, with the
//! requestor, their organization, the package, their answers and justification and the time
//! left before automatic denial; approve or deny with a justification; past decisions. With
//! htmx a decision swaps only its card (and announces the result); without, the form posts
//! and the page reloads.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use gatehouse_app::my_access::views::RequestView;
use gatehouse_app::AppError;
use gatehouse_domain::request::Verdict;
use uuid::Uuid;

use super::chrome;
use super::requests::answers;
use crate::pages::forms::FormData;
use crate::pages::wording::{self, Status};
use crate::pages::{path_id, render, see_other, sentence, when, Chrome, PageResult, Viewer, INVALID};
use crate::state::AppState;

pub struct Card {
    pub id: String,
    pub package: String,
    pub kind: &'static str,
    pub requestor: String,
    pub mail: Option<String>,
    pub organization: Option<String>,
    pub created: String,
    pub justification: Option<String>,
    pub answers: Vec<(String, String)>,
    pub status: Status,
    /// The open stage awaiting this approver: its id and "stage 1 of 2".
    pub stage: Option<(String, String)>,
    pub time_left: Option<String>,
    pub justification_required: bool,
    /// What this approver decided, on a past decision.
    pub mine: Option<String>,
    pub typed: String,
    pub error: Option<String>,
}

fn card(v: &RequestView, me: Uuid, languages: &[String], now: chrono::DateTime<chrono::Utc>) -> Card {
    let r = &v.request;
    let open = v.stage_for(me);
    let stage = open.map(|s| {
        let i = r.stages.iter().position(|x| x.id == s.id).unwrap_or(0);
        (s.id.to_string(), format!("Stage {} of {}", i + 1, r.stages.len()))
    });
    let mine = r.stages.iter().filter_map(|s| s.decision.as_ref()).find(|d| d.by == Some(me)).map(|d| {
        let verb = if d.verdict == Verdict::Approve { "You approved" } else { "You denied" };
        format!("{verb} it on {}.", when::datetime(&d.at))
    });
    Card {
        id: r.id.to_string(),
        package: v.package_name().to_owned(),
        kind: wording::kind(r.request_type),
        requestor: v.target_name.clone(),
        mail: v.target_mail.clone(),
        organization: v.target_organization.clone(),
        created: when::datetime(&r.created_date_time),
        justification: r.justification.clone(),
        answers: answers(v, languages),
        status: wording::request_status(v),
        time_left: open.and_then(|s| s.deny_at()).map(|at| when::left(now, at)),
        justification_required: open.is_some_and(|s| s.justification_required),
        stage,
        mine,
        typed: String::new(),
        error: None,
    }
}

#[derive(Template)]
#[template(path = "my_access/approvals.html")]
struct ListPage {
    chrome: Chrome,
    waiting: Vec<Card>,
    decided: Vec<Card>,
}

/// `GET /myaccess/approvals`.
pub async fn list(State(s): State<AppState>, v: Viewer) -> PageResult {
    let actor = v.actor();
    let now = s.app.clock.now();
    let me = v.principal.user_id;
    let waiting = s.app.approvals_waiting(&actor).await?.iter().map(|r| card(r, me, &v.languages, now)).collect();
    let decided = s.app.approvals_decided(&actor).await?.iter().map(|r| card(r, me, &v.languages, now)).collect();
    render(StatusCode::OK, &ListPage { chrome: chrome(&s, &v, "approvals").await?, waiting, decided })
}

#[derive(Template)]
#[template(path = "my_access/approval.html")]
struct ApprovalPage {
    chrome: Chrome,
    c: Card,
}

/// Only the card, for htmx; `toast` is announced in the page's live region.
#[derive(Template)]
#[template(path = "my_access/approval_fragment.html")]
struct CardFragment {
    chrome: Chrome,
    c: Card,
    toast: Option<String>,
}

async fn answer(s: &AppState, v: &Viewer, status: StatusCode, c: Card, toast: Option<String>) -> PageResult {
    let chrome = chrome(s, v, "approvals").await?;
    if v.htmx {
        render(status, &CardFragment { chrome, c, toast })
    } else {
        render(status, &ApprovalPage { chrome, c })
    }
}

/// `GET /myaccess/approvals/{id}`: the link in the approver's mail.
pub async fn show(State(s): State<AppState>, v: Viewer, Path(id): Path<String>) -> PageResult {
    let id = path_id(&id, "approval")?;
    let view = s.app.approval_view(&v.actor(), id).await?;
    let c = card(&view, v.principal.user_id, &v.languages, s.app.clock.now());
    answer(&s, &v, StatusCode::OK, c, None).await
}

/// `POST /myaccess/approvals/{id}`: approve or deny the open stage (form: `stage`,
/// `decision` = approve | deny, `justification`), through the service behind
/// `PATCH …/stages/{stageId}`.
pub async fn decide(State(s): State<AppState>, v: Viewer, Path(id): Path<String>, body: Bytes) -> PageResult {
    let id = path_id(&id, "approval")?;
    let f = FormData::parse(&body);
    let actor = v.actor();
    let view = s.app.approval_view(&actor, id).await?;
    let now = s.app.clock.now();
    let mut c = card(&view, v.principal.user_id, &v.languages, now);
    c.typed = f.raw("justification").unwrap_or("").trim().to_owned();
    let verdict = match f.get("decision") {
        Some("approve") => Some(Verdict::Approve),
        Some("deny") => Some(Verdict::Deny),
        _ => None,
    };
    let (Some(verdict), Some(stage)) = (verdict, f.get("stage").and_then(|st| st.parse::<Uuid>().ok())) else {
        c.error = Some("Choose Approve or Deny.".into());
        return answer(&s, &v, INVALID, c, None).await;
    };
    let justification = Some(c.typed.clone()).filter(|j| !j.is_empty());
    match s.app.decide_stage(&actor, id, stage, verdict, justification).await {
        Ok(_) => {
            if !v.htmx {
                return see_other(&format!("/myaccess/approvals/{id}"));
            }
            let view = s.app.approval_view(&actor, id).await?;
            let c = card(&view, v.principal.user_id, &v.languages, s.app.clock.now());
            let done = if verdict == Verdict::Approve { "Approved" } else { "Denied" };
            let toast = format!("{done}: {}'s request for {}.", c.requestor, c.package);
            answer(&s, &v, StatusCode::OK, c, Some(toast)).await
        }
        Err(e @ (AppError::Validation(_) | AppError::Conflict(_) | AppError::Forbidden(_))) => {
            c.error = Some(match &e {
                AppError::Validation(_) => {
                    "Write why you decide as you do: this stage asks for a justification.".into()
                }
                other => sentence(&other.to_string()),
            });
            answer(&s, &v, INVALID, c, None).await
        }
        Err(e) => Err(e.into()),
    }
}
