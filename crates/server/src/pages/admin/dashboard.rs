//! The dashboard (`/admin`): pending approvals, failing deliveries, active guests per
//! connected organization, and a chart of the last 90 days (requests, approvals, denials,
//! active guests) with its numbers as a table for screen readers and copying.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use gatehouse_app::dashboard::Day;

use super::chart::{line_chart, Chart};
use super::{chrome, AdminChrome};
use crate::pages::{render, PageResult, Viewer};
use crate::state::AppState;

const DAYS: i64 = 90;

#[derive(Template)]
#[template(path = "admin/dashboard.html")]
struct DashboardPage {
    chrome: AdminChrome,
    pending_approvals: i64,
    failing_deliveries: i64,
    guests: Vec<(String, i64)>,
    chart: Chart,
    days: Vec<Day>,
    totals: (i64, i64, i64),
}

/// `GET /admin`.
pub async fn show(State(s): State<AppState>, v: Viewer) -> PageResult {
    let d = s.app.dashboard(DAYS).await?;
    let labels: Vec<String> = d.days.iter().map(|day| day.date.format("%-d %b").to_string()).collect();
    let pick = |f: fn(&Day) -> i64| d.days.iter().map(f).collect::<Vec<_>>();
    let chart = line_chart(
        &labels,
        vec![
            ("Requests", "requests", pick(|d| d.requests)),
            ("Approvals", "approvals", pick(|d| d.approvals)),
            ("Denials", "denials", pick(|d| d.denials)),
            ("Active guests", "guests", pick(|d| d.active_guests)),
        ],
    );
    let totals = d.days.iter().fold((0, 0, 0), |t, d| (t.0 + d.requests, t.1 + d.approvals, t.2 + d.denials));
    let page = DashboardPage {
        chrome: chrome(&s, &v, "dashboard").await?,
        pending_approvals: d.pending_approvals,
        failing_deliveries: d.failing_deliveries,
        guests: d.guests_by_organization,
        chart,
        days: d.days.into_iter().rev().collect(),
        totals,
    };
    render(StatusCode::OK, &page)
}
