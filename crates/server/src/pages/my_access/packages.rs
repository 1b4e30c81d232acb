//! Access packages: the list of what the signed-in person may request (`/myaccess`), and the
//! package link (`/myaccess/packages/{id}`) with its request form. The form posts to the
//! same service as `POST assignmentRequests`, with the body the API would get.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use gatehouse_app::my_access::offer::PackageOffer;
use gatehouse_app::requests::PrivacyAcceptance;
use gatehouse_app::AppError;
use gatehouse_domain::policy::AssignmentPolicy;
use gatehouse_domain::question::{Question, QuestionKind};
use gatehouse_domain::request_input::NewAssignmentRequest;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::{chrome, lifetime};
use crate::pages::forms::FormData;
use crate::pages::{path_id, render, see_other, sentence, when, Chrome, PageResult, Viewer, INVALID};
use crate::state::AppState;

/// A package in the list.
pub struct Listed {
    pub id: String,
    pub name: String,
    pub description: String,
}

#[derive(Template)]
#[template(path = "my_access/packages.html")]
struct ListPage {
    chrome: Chrome,
    query: String,
    packages: Vec<Listed>,
}

#[derive(Deserialize, schemars::JsonSchema)]
pub struct ListQuery {
    q: Option<String>,
}

/// `GET /myaccess`: the packages the person may request, with search.
pub async fn list(State(s): State<AppState>, v: Viewer, Query(q): Query<ListQuery>) -> PageResult {
    let query = crate::pages::forms::search_text(q.q.as_deref());
    let search = Some(query.as_str()).filter(|q| !q.is_empty());
    let packages = s.app.requestable_packages(&v.actor(), search).await?;
    let packages = packages
        .into_iter()
        .map(|p| Listed { id: p.id.to_string(), name: p.display_name, description: p.description.unwrap_or_default() })
        .collect();
    render(StatusCode::OK, &ListPage { chrome: chrome(&s, &v, "packages").await?, query, packages })
}

/// One choice of a multiple-choice question, as the browser sees it: its position and its
/// text in the reader's language. The stored value never leaves the server.
pub struct ChoiceField {
    pub index: usize,
    pub text: String,
    pub checked: bool,
}

pub struct QuestionField {
    /// The form field's name: `q.<question id>`.
    pub name: String,
    pub dom_id: String,
    pub text: String,
    pub required: bool,
    /// `text`, `textarea`, `single` or `multi`.
    pub control: &'static str,
    pub choices: Vec<ChoiceField>,
    pub value: String,
    pub error: Option<String>,
}

/// A policy the person may request under, with its form.
pub struct PolicyForm {
    pub id: String,
    pub name: String,
    pub description: String,
    pub lifetime: String,
    pub approval: bool,
    pub justification_required: bool,
    pub custom_schedule: bool,
    pub questions: Vec<QuestionField>,
}

/// What the person typed, and what was wrong with it.
#[derive(Default)]
pub struct Entered {
    pub justification: String,
    pub start: String,
    pub end: String,
    pub accepted: bool,
    pub justification_error: Option<String>,
    pub schedule_error: Option<String>,
    pub accept_error: Option<String>,
    pub form_error: Option<String>,
    /// For each answer sent, the index of its question in the form (service errors name
    /// answers by position).
    answer_owner: Vec<usize>,
}

#[derive(Template)]
#[template(path = "my_access/package.html")]
struct PackagePage {
    chrome: Chrome,
    id: String,
    name: String,
    description: String,
    refusal: Option<String>,
    open_request: Option<String>,
    holds: bool,
    from_outside: bool,
    resources: Vec<String>,
    /// Several policies admit them and none is chosen yet: they choose first.
    choose: Vec<PolicyForm>,
    form: Option<PolicyForm>,
    entered: Entered,
    privacy_url: Option<String>,
    privacy_contact: Option<String>,
    today: String,
}

#[derive(Deserialize, schemars::JsonSchema)]
pub struct ShowQuery {
    policy: Option<String>,
    /// Resubmit an earlier, denied or expired request: its answers are filled in.
    resubmit: Option<String>,
}

fn question_field(q: &Question, languages: &[String], earlier: &[&str]) -> QuestionField {
    let id = q.id.map(|i| i.to_string()).unwrap_or_default();
    let (control, choices) = match &q.kind {
        QuestionKind::TextInput { is_single_line_question, .. } => {
            (if *is_single_line_question { "text" } else { "textarea" }, vec![])
        }
        QuestionKind::MultipleChoice { choices, is_multiple_selection_allowed } => {
            let fields = choices
                .iter()
                .enumerate()
                .map(|(index, c)| ChoiceField {
                    index,
                    text: c.text_for(languages).to_owned(),
                    checked: earlier.contains(&index.to_string().as_str()),
                })
                .collect();
            (if *is_multiple_selection_allowed { "multi" } else { "single" }, fields)
        }
    };
    QuestionField {
        name: format!("q.{id}"),
        dom_id: format!("q-{id}"),
        text: q.text_for(languages).to_owned(),
        required: q.is_required,
        control,
        value: if control == "text" || control == "textarea" {
            earlier.first().copied().unwrap_or("").to_owned()
        } else {
            String::new()
        },
        choices,
        error: None,
    }
}

fn policy_form(p: &AssignmentPolicy, languages: &[String], earlier: &dyn Fn(Uuid) -> Vec<String>) -> PolicyForm {
    let mut questions: Vec<&Question> = p.questions.iter().collect();
    questions.sort_by_key(|q| q.sequence);
    PolicyForm {
        id: p.id.to_string(),
        name: p.display_name.clone(),
        description: p.description.clone().unwrap_or_default(),
        lifetime: lifetime(p),
        approval: p.request_approval_settings.is_approval_required_for_add,
        justification_required: p.request_approval_settings.is_requestor_justification_required,
        custom_schedule: p.requestor_settings.allow_custom_assignment_schedule,
        questions: questions
            .into_iter()
            .map(|q| {
                let values = q.id.map(earlier).unwrap_or_default();
                let refs: Vec<&str> = values.iter().map(String::as_str).collect();
                question_field(q, languages, &refs)
            })
            .collect(),
    }
}

struct Render<'a> {
    s: &'a AppState,
    v: &'a Viewer,
    offer: &'a PackageOffer,
}

impl Render<'_> {
    async fn page(
        &self,
        status: StatusCode,
        choose: Vec<PolicyForm>,
        form: Option<PolicyForm>,
        entered: Entered,
    ) -> PageResult {
        let o = self.offer;
        let page = PackagePage {
            chrome: chrome(self.s, self.v, "packages").await?,
            id: o.package.id.to_string(),
            name: o.package.display_name.clone(),
            description: o.package.description.clone().unwrap_or_default(),
            refusal: o.refusal.as_deref().map(sentence),
            open_request: o.open_request.map(|r| r.to_string()),
            holds: o.assignment.is_some(),
            from_outside: o.from_outside,
            resources: o.resources.clone(),
            choose,
            form,
            entered,
            privacy_url: o.privacy.statement_url.clone(),
            privacy_contact: o.privacy.contact_email.clone(),
            today: when::input_date(&self.s.app.clock.now()),
        };
        render(status, &page)
    }
}

/// `GET /myaccess/packages/{id}`: the package, and the form under the policy that admits the
/// person (or the choice between several), or why they may not ask.
pub async fn show(
    State(s): State<AppState>,
    v: Viewer,
    Path(id): Path<String>,
    Query(q): Query<ShowQuery>,
) -> PageResult {
    let id = path_id(&id, "access package")?;
    let offer = s.app.package_offer(&v.actor(), id).await?;
    let r = Render { s: &s, v: &v, offer: &offer };
    if offer.refusal.is_some() || offer.open_request.is_some() || offer.assignment.is_some() {
        // Nothing to ask for: the page says why (and creates nothing).
        let status = if offer.refusal.is_some() { StatusCode::FORBIDDEN } else { StatusCode::OK };
        return r.page(status, vec![], None, Entered::default()).await;
    }
    // An earlier request of theirs for this package, to fill the form in again.
    let earlier = match q.resubmit.as_deref().and_then(|r| r.parse::<Uuid>().ok()) {
        Some(rid) => match s.app.request_view(&v.actor(), rid).await {
            Ok(view) if view.request.access_package_id == id && view.request.target_id == Some(v.principal.user_id) => {
                Some(view.request)
            }
            _ => None,
        },
        None => None,
    };
    let chosen = q
        .policy
        .as_deref()
        .and_then(|p| p.parse::<Uuid>().ok())
        .or(earlier.as_ref().map(|r| r.policy_id))
        .and_then(|p| offer.policies.iter().find(|x| x.id == p))
        .or(if offer.policies.len() == 1 { offer.policies.first() } else { None });
    let answers_of = |question: Uuid| -> Vec<String> {
        let Some(r) = &earlier else { return vec![] };
        let Some(policy) = chosen else { return vec![] };
        let q = policy.questions.iter().find(|q| q.id == Some(question));
        r.answers
            .iter()
            .filter(|a| a.question_id == question)
            .filter_map(|a| match q.map(|q| &q.kind) {
                // The form names choices by position, never by stored value.
                Some(QuestionKind::MultipleChoice { choices, .. }) => {
                    choices.iter().position(|c| c.actual_value == a.value).map(|i| i.to_string())
                }
                _ => Some(a.value.clone()),
            })
            .collect()
    };
    match chosen {
        Some(policy) => {
            let form = policy_form(policy, &v.languages, &answers_of);
            let entered = Entered {
                justification: earlier.as_ref().and_then(|r| r.justification.clone()).unwrap_or_default(),
                ..Entered::default()
            };
            r.page(StatusCode::OK, vec![], Some(form), entered).await
        }
        None => {
            let choose = offer.policies.iter().map(|p| policy_form(p, &v.languages, &|_| vec![])).collect();
            r.page(StatusCode::OK, choose, None, Entered::default()).await
        }
    }
}

/// The request body the API would get, built from the form; `None` when a field is wrong
/// (the errors are then in `form` and `entered`).
fn request_body(
    package: Uuid,
    policy: &AssignmentPolicy,
    f: &FormData,
    form: &mut PolicyForm,
    entered: &mut Entered,
    languages: &[String],
    now: chrono::DateTime<chrono::Utc>,
) -> Option<Value> {
    let mut ok = true;
    let mut answers = Vec::new();
    for (qi, (field, q)) in form.questions.iter_mut().zip(sorted(&policy.questions)).enumerate() {
        let Some(qid) = q.id else { continue };
        let values = f.all(&field.name);
        match &q.kind {
            QuestionKind::TextInput { .. } => {
                field.value = f.raw(&field.name).unwrap_or("").trim().to_owned();
                if !field.value.is_empty() {
                    answers.push(json!({"value": field.value, "answeredQuestion": {"id": qid}}));
                    entered.answer_owner.push(qi);
                }
            }
            QuestionKind::MultipleChoice { choices, .. } => {
                let mut picked = Vec::new();
                for raw in &values {
                    match raw.parse::<usize>().ok().and_then(|i| choices.get(i).map(|c| (i, c))) {
                        Some(found) => picked.push(found),
                        None => {
                            field.error = Some("Choose one of the options shown.".into());
                            ok = false;
                        }
                    }
                }
                for c in &mut field.choices {
                    c.checked = picked.iter().any(|(i, _)| *i == c.index);
                }
                for (_, c) in picked {
                    answers.push(json!({"value": c.actual_value, "displayValue": c.text_for(languages), "answeredQuestion": {"id": qid}}));
                    entered.answer_owner.push(qi);
                }
            }
        }
        if q.is_required && field.error.is_none() && !answers.iter().any(|a| a["answeredQuestion"]["id"] == json!(qid))
        {
            field.error = Some("This question needs an answer.".into());
            ok = false;
        }
    }
    entered.justification = f.raw("justification").unwrap_or("").trim().to_owned();
    if form.justification_required && entered.justification.is_empty() {
        entered.justification_error = Some("Say why you need this access; the approvers read it.".into());
        ok = false;
    }
    entered.accepted = f.get("accept_privacy") == Some("yes");
    let mut body = json!({
        "requestType": "userAdd",
        "assignment": {"accessPackageId": package, "assignmentPolicyId": policy.id},
        "justification": entered.justification,
        "answers": answers,
    });
    if form.custom_schedule {
        entered.start = f.get("start").unwrap_or("").to_owned();
        entered.end = f.get("end").unwrap_or("").to_owned();
        let start = if entered.start.is_empty() { None } else { when::start_of(&entered.start) };
        let end = if entered.end.is_empty() { None } else { when::end_of(&entered.end) };
        if (!entered.start.is_empty() && start.is_none()) || (!entered.end.is_empty() && end.is_none()) {
            entered.schedule_error = Some("Enter dates as year-month-day, for example 2027-01-31.".into());
            ok = false;
        } else if let Some(end) = end {
            if end <= start.unwrap_or(now) {
                entered.schedule_error = Some("The end date must come after the start.".into());
                ok = false;
            } else {
                body["schedule"] = json!({"startDateTime": start,
                    "expiration": {"type": "afterDateTime", "endDateTime": end}});
            }
        } else if let Some(start) = start {
            body["schedule"] = json!({"startDateTime": start});
        }
    }
    ok.then_some(body)
}

fn sorted(questions: &[Question]) -> Vec<&Question> {
    let mut qs: Vec<&Question> = questions.iter().collect();
    qs.sort_by_key(|q| q.sequence);
    qs
}

/// `POST /myaccess/packages/{id}`: submit the request. Wrong fields come back next to
/// themselves (422) with what was typed; nothing is written until everything is right.
pub async fn submit(State(s): State<AppState>, v: Viewer, Path(id): Path<String>, body: Bytes) -> PageResult {
    let id = path_id(&id, "access package")?;
    let f = FormData::parse(&body);
    let offer = s.app.package_offer(&v.actor(), id).await?;
    let r = Render { s: &s, v: &v, offer: &offer };
    if offer.refusal.is_some() || offer.open_request.is_some() || offer.assignment.is_some() {
        return r.page(StatusCode::FORBIDDEN, vec![], None, Entered::default()).await;
    }
    let chosen =
        f.get("policy").and_then(|p| p.parse::<Uuid>().ok()).and_then(|p| offer.policies.iter().find(|x| x.id == p));
    let Some(policy) = chosen else {
        let choose = offer.policies.iter().map(|p| policy_form(p, &v.languages, &|_| vec![])).collect();
        let entered =
            Entered { form_error: Some("Choose the policy you are asking under.".into()), ..Entered::default() };
        return r.page(INVALID, choose, None, entered).await;
    };
    let mut form = policy_form(policy, &v.languages, &|_| vec![]);
    let mut entered = Entered::default();
    let now = s.app.clock.now();
    let body = request_body(id, policy, &f, &mut form, &mut entered, &v.languages, now);
    if offer.from_outside && !entered.accepted {
        entered.accept_error = Some("Tick the box to accept the privacy statement, or you cannot ask.".into());
    }
    let Some(body) = body.filter(|_| entered.accept_error.is_none()) else {
        return r.page(INVALID, vec![], Some(form), entered).await;
    };
    let input: NewAssignmentRequest = match serde_json::from_value(body) {
        Ok(input) => input,
        Err(e) => {
            entered.form_error = Some(sentence(&e.to_string()));
            return r.page(INVALID, vec![], Some(form), entered).await;
        }
    };
    let submitted = if offer.from_outside {
        let accepted = PrivacyAcceptance { statement_url: offer.privacy.statement_url.clone() };
        s.app.create_assignment_request_accepting_privacy(&v.actor(), input, accepted).await
    } else {
        s.app.create_assignment_request(&v.actor(), input).await
    };
    match submitted {
        Ok(request) => see_other(&format!("/myaccess/requests/{}", request.id)),
        Err(AppError::Validation(e)) => {
            place_error(&mut form, &mut entered, e.target.as_deref(), &e.message);
            r.page(INVALID, vec![], Some(form), entered).await
        }
        Err(e @ (AppError::Conflict(_) | AppError::Forbidden(_))) => {
            entered.form_error = Some(sentence(&e.to_string()));
            r.page(INVALID, vec![], Some(form), entered).await
        }
        Err(e) => Err(e.into()),
    }
}

/// Put a service's validation error next to the field it names (`answers[i]` is the i-th
/// answer sent).
fn place_error(form: &mut PolicyForm, entered: &mut Entered, target: Option<&str>, message: &str) {
    // The service names the field; the page says it in words (without the JSON path).
    let words = sentence(message.split_once(": ").map_or(message, |(_, rest)| rest));
    let target = target.unwrap_or("");
    let answer =
        target.strip_prefix("answers[").and_then(|t| t.strip_suffix(']')).and_then(|i| i.parse::<usize>().ok());
    if let Some(q) = answer.and_then(|i| entered.answer_owner.get(i)).and_then(|qi| form.questions.get_mut(*qi)) {
        // A choice's error would name stored values: say it without them.
        let choice = q.control == "single" || q.control == "multi";
        q.error = Some(if choice { "Choose one of the options shown.".into() } else { words });
        return;
    }
    match target {
        "justification" => entered.justification_error = Some(words),
        t if t.starts_with("schedule") => entered.schedule_error = Some(words),
        _ => entered.form_error = Some(words),
    }
}
