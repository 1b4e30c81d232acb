//! The audit log (`/admin/audit`): every change, newest first, filtered by actor, target,
//! activity and date range; the chain's verification on request (it reads every record); and
//! the same selection as CSV (`/admin/audit/export`), for auditors' spreadsheets.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use gatehouse_app::ListQuery;
use gatehouse_domain::audit::AuditRecord;
use gatehouse_domain::odata::OrderBy;
use gatehouse_store::audit::{AuditFilter, Verification};
use serde::Deserialize;

use super::wizard::Errors;
use super::{chrome, AdminChrome};
use crate::pages::{render, when, PageError, PageResult, Viewer, QUERY_VALUE};
use crate::state::AppState;

const PAGE_SIZE: u32 = 100;
/// The most records one export holds; narrow the dates for more.
const EXPORT_MAX: u32 = 50_000;

#[derive(Deserialize, schemars::JsonSchema, Default)]
pub struct AuditParams {
    /// Part of the actor's name.
    actor: Option<String>,
    /// Part of the target's id or type.
    target: Option<String>,
    /// Part of the activity, e.g. `assignmentRequest` or `.create`.
    activity: Option<String>,
    /// First day (year-month-day, UTC).
    from: Option<String>,
    /// Last day (year-month-day, UTC).
    to: Option<String>,
    /// `1`: verify the chain.
    verify: Option<String>,
    /// Records to skip (the next page).
    skip: Option<u64>,
}

struct Parsed {
    filter: AuditFilter,
    errors: Errors,
}

fn text(v: &Option<String>) -> Option<String> {
    Some(crate::pages::forms::search_text(v.as_deref())).filter(|s| !s.is_empty())
}

fn parse(p: &AuditParams) -> Parsed {
    let mut errors = Errors::default();
    let mut day = |field: &'static str, raw: &Option<String>, end: bool| {
        let raw = text(raw)?;
        let t = if end { when::end_of(&raw) } else { when::start_of(&raw) };
        if t.is_none() {
            errors.add(field, "Enter the date as year-month-day, for example 2026-12-01.");
        }
        t
    };
    let from = day("from", &p.from, false);
    let until = day("to", &p.to, true);
    let filter =
        AuditFilter { actor: text(&p.actor), target: text(&p.target), activity: text(&p.activity), from, until };
    Parsed { filter, errors }
}

fn newest_first() -> [OrderBy; 1] {
    [OrderBy { path: vec!["activityDateTime".into()], descending: true }]
}

pub struct Row {
    pub when: String,
    pub actor: String,
    pub activity: String,
    pub target: String,
    pub correlation: String,
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    chrome: AdminChrome,
    errors: Errors,
    actor: String,
    target: String,
    activity: String,
    from: String,
    to: String,
    rows: Vec<Row>,
    next: Option<String>,
    export: String,
    /// `None` until asked; then whether the chain is intact, in words.
    verification: Option<(bool, String)>,
}

/// The filter as a query string, for the next page and the export link.
fn query_of(p: &AuditParams) -> String {
    let enc = |v: &str| percent_encoding::utf8_percent_encode(v, QUERY_VALUE).to_string();
    [("actor", &p.actor), ("target", &p.target), ("activity", &p.activity), ("from", &p.from), ("to", &p.to)]
        .iter()
        .filter_map(|(k, v)| text(v).map(|v| format!("{k}={}", enc(&v))))
        .collect::<Vec<_>>()
        .join("&")
}

/// `GET /admin/audit`.
pub async fn list(State(s): State<AppState>, v: Viewer, Query(p): Query<AuditParams>) -> PageResult {
    let parsed = parse(&p);
    let order = newest_first();
    let skip = p.skip.unwrap_or(0).min(10_000_000);
    let (rows, next) = if parsed.errors.is_empty() {
        let q = ListQuery { orderby: &order, top: PAGE_SIZE, skip, ..ListQuery::EXPANDED };
        let page = s.app.list_audit(parsed.filter.scope(), q).await?;
        let next = page.next_skip.map(|n| format!("/admin/audit?{}&skip={n}", query_of(&p)));
        (page.items.iter().map(row).collect(), next)
    } else {
        (Vec::new(), None)
    };
    let verification = match p.verify.as_deref() {
        Some(_) => Some(match s.app.verify_audit().await? {
            Verification::Intact { records } => (true, format!("The chain is intact: all {records} records verify.")),
            Verification::Broken { chain_no, record, reason } => {
                (false, format!("The chain is broken at record {chain_no} ({record}): {reason}."))
            }
        }),
        None => None,
    };
    let status = if parsed.errors.is_empty() { StatusCode::OK } else { crate::pages::INVALID };
    let page = AuditPage {
        chrome: chrome(&s, &v, "audit").await?,
        actor: text(&p.actor).unwrap_or_default(),
        target: text(&p.target).unwrap_or_default(),
        activity: text(&p.activity).unwrap_or_default(),
        from: text(&p.from).unwrap_or_default(),
        to: text(&p.to).unwrap_or_default(),
        errors: parsed.errors,
        rows,
        next,
        export: format!("/admin/audit/export?{}", query_of(&p)),
        verification,
    };
    render(status, &page)
}

fn row(r: &AuditRecord) -> Row {
    Row {
        when: when::datetime(&r.activity_date_time),
        actor: r.actor_display_name.clone(),
        activity: r.activity.clone(),
        target: format!("{} {}", r.target_type, r.target_id),
        correlation: r.correlation_id.clone().unwrap_or_default(),
    }
}

/// `GET /admin/audit/export`: the filtered records as CSV, oldest first, with before and after.
pub async fn export(State(s): State<AppState>, _v: Viewer, Query(p): Query<AuditParams>) -> PageResult {
    let parsed = parse(&p);
    if let Some((_, message)) = parsed.errors.all().next() {
        return Err(PageError::bad_request(message.to_owned()));
    }
    let q = ListQuery { top: EXPORT_MAX, ..ListQuery::EXPANDED };
    let records = s.app.list_audit(parsed.filter.scope(), q).await?.items;
    let mut out = csv::Writer::from_writer(Vec::new());
    let header =
        ["activityDateTime", "actor", "actorId", "activity", "targetType", "targetId", "requestId", "before", "after"];
    let failed = |e: csv::Error| PageError::bad_request(format!("the export could not be written: {e}"));
    out.write_record(header).map_err(failed)?;
    for r in &records {
        let json = |v: &Option<serde_json::Value>| v.as_ref().map(|v| v.to_string()).unwrap_or_default();
        out.write_record([
            r.activity_date_time.to_rfc3339(),
            neutral(&r.actor_display_name),
            r.actor_id.map(|a| a.to_string()).unwrap_or_default(),
            r.activity.clone(),
            r.target_type.clone(),
            r.target_id.clone(),
            r.correlation_id.clone().unwrap_or_default(),
            json(&r.before),
            json(&r.after),
        ])
        .map_err(failed)?;
    }
    let body = out.into_inner().map_err(|e| PageError::bad_request(format!("the export could not be written: {e}")))?;
    Ok((
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8"),
            (CONTENT_DISPOSITION, "attachment; filename=\"gatehouse-audit.csv\""),
        ],
        body,
    )
        .into_response())
}

/// A spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` as a formula (CSV
/// injection): names people chose for themselves get a leading apostrophe.
pub fn neutral(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    }
}
