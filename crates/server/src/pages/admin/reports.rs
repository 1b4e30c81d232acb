//! Reports (`/admin/reports`): who holds what — by access package, by resource, by connected
//! organization; one person's access (with the policy and request that explain each) and what
//! they could request; two people side by side. Every table is also CSV (`format=csv`).

use std::collections::BTreeSet;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use gatehouse_app::reports::Holding;
use gatehouse_store::query::Where;
use serde::Deserialize;

use super::audit::neutral;
use super::wizard::Errors;
use super::{chrome, AdminChrome};
use crate::pages::{render, when, PageError, PageResult, Viewer, INVALID};
use crate::state::AppState;

#[derive(Deserialize, schemars::JsonSchema, Default)]
pub struct ReportParams {
    /// `package` (default), `resource`, `organization`, `person` or `compare`.
    view: Option<String>,
    /// The person's email address (`person`, and the first of `compare`).
    person: Option<String>,
    /// The second person's email address (`compare`).
    other: Option<String>,
    /// `csv` for the table as CSV.
    format: Option<String>,
}

/// A report: its columns and rows, as shown and as exported.
pub struct Table {
    pub caption: String,
    pub columns: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

#[derive(Template)]
#[template(path = "admin/reports.html")]
struct ReportsPage {
    chrome: AdminChrome,
    view: String,
    person: String,
    other: String,
    errors: Errors,
    tables: Vec<Table>,
    csv: String,
}

const VIEWS: [(&str, &str); 5] = [
    ("package", "By access package"),
    ("resource", "By resource"),
    ("organization", "By connected organization"),
    ("person", "One person"),
    ("compare", "Two people"),
];

fn until(h: &Holding) -> String {
    h.assignment.end_date_time.as_ref().map_or_else(|| "Never expires".into(), when::date)
}

fn org(h: &Holding) -> String {
    h.organization.clone().unwrap_or_else(|| "Your directory".into())
}

/// The resource roles one holds, for comparing.
fn resource_set(hs: &[Holding]) -> BTreeSet<String> {
    hs.iter().flat_map(|h| h.resources.iter().cloned()).collect()
}

async fn by_mail(
    s: &AppState,
    field: &'static str,
    mail: &str,
    errors: &mut Errors,
) -> Result<Option<gatehouse_domain::directory::User>, PageError> {
    if mail.is_empty() {
        errors.add(field, "Enter the person's email address.");
        return Ok(None);
    }
    let u = s.app.find_user_by_mail(mail).await?;
    if u.is_none() {
        errors.add(field, format!("Nobody in the directory has the address {mail}."));
    }
    Ok(u)
}

async fn tables(s: &AppState, v: &Viewer, p: &ReportParams, errors: &mut Errors) -> Result<Vec<Table>, PageError> {
    let actor = v.actor();
    let view = p.view.as_deref().unwrap_or("package");
    let person = &crate::pages::forms::search_text(p.person.as_deref());
    let other = &crate::pages::forms::search_text(p.other.as_deref());
    Ok(match view {
        "resource" | "organization" | "package" => {
            let mut hs = s.app.holdings(&actor, Where::new()).await?;
            match view {
                "resource" => {
                    let mut rows: Vec<Vec<String>> = hs
                        .iter()
                        .flat_map(|h| {
                            h.resources
                                .iter()
                                .map(move |r| vec![r.clone(), h.person.clone(), h.mail.clone(), h.package.clone()])
                        })
                        .collect();
                    rows.sort();
                    vec![Table {
                        caption: "Who holds each resource role".into(),
                        columns: vec!["Resource role", "Person", "Email", "Through access package"],
                        rows,
                    }]
                }
                "organization" => {
                    hs.sort_by_key(|h| (org(h), h.person.clone(), h.package.clone()));
                    let rows = hs
                        .iter()
                        .map(|h| vec![org(h), h.person.clone(), h.mail.clone(), h.package.clone(), until(h)])
                        .collect();
                    vec![Table {
                        caption: "Access by connected organization".into(),
                        columns: vec!["Organization", "Person", "Email", "Access package", "Until"],
                        rows,
                    }]
                }
                _ => {
                    hs.sort_by_key(|h| (h.package.clone(), h.person.clone()));
                    let rows = hs
                        .iter()
                        .map(|h| {
                            vec![
                                h.package.clone(),
                                h.person.clone(),
                                h.mail.clone(),
                                org(h),
                                until(h),
                                h.policy.clone(),
                            ]
                        })
                        .collect();
                    vec![Table {
                        caption: "Who holds each access package".into(),
                        columns: vec!["Access package", "Person", "Email", "Organization", "Until", "Policy"],
                        rows,
                    }]
                }
            }
        }
        "person" => {
            let Some(u) = by_mail(s, "person", person, errors).await? else { return Ok(vec![]) };
            let hs = s.app.holdings(&actor, gatehouse_store::assignments::targeting(u.id)).await?;
            let held = hs
                .iter()
                .map(|h| {
                    vec![
                        h.package.clone(),
                        h.resources.join(", "),
                        h.policy.clone(),
                        h.assignment.request_id.map(|r| r.to_string()).unwrap_or_default(),
                        until(h),
                    ]
                })
                .collect();
            let could = s.app.requestable_by(&actor, u.id).await?;
            let held_ids: Vec<_> = hs.iter().map(|h| h.assignment.access_package_id).collect();
            let could = could
                .into_iter()
                .filter(|p| !held_ids.contains(&p.id))
                .map(|p| vec![p.display_name, p.description.unwrap_or_default()])
                .collect();
            vec![
                Table {
                    caption: format!("What {} holds", u.display_name),
                    columns: vec!["Access package", "Resource roles", "Policy", "Request", "Until"],
                    rows: held,
                },
                Table {
                    caption: format!("What {} could request", u.display_name),
                    columns: vec!["Access package", "Description"],
                    rows: could,
                },
            ]
        }
        "compare" => {
            let a = by_mail(s, "person", person, errors).await?;
            let b = by_mail(s, "other", other, errors).await?;
            let (Some(a), Some(b)) = (a, b) else { return Ok(vec![]) };
            let ha = s.app.holdings(&actor, gatehouse_store::assignments::targeting(a.id)).await?;
            let hb = s.app.holdings(&actor, gatehouse_store::assignments::targeting(b.id)).await?;
            let (ra, rb) = (resource_set(&ha), resource_set(&hb));
            let pa: BTreeSet<String> = ha.iter().map(|h| h.package.clone()).collect();
            let pb: BTreeSet<String> = hb.iter().map(|h| h.package.clone()).collect();
            let diff = |x: &BTreeSet<String>, y: &BTreeSet<String>, kind: &str| -> Vec<Vec<String>> {
                x.difference(y).map(|v| vec![kind.to_owned(), v.clone()]).collect()
            };
            let only = |name: &str, p: Vec<Vec<String>>, r: Vec<Vec<String>>| Table {
                caption: format!("What only {name} holds"),
                columns: vec!["Kind", "Name"],
                rows: p.into_iter().chain(r).collect(),
            };
            vec![
                only(&a.display_name, diff(&pa, &pb, "Access package"), diff(&ra, &rb, "Resource role")),
                only(&b.display_name, diff(&pb, &pa, "Access package"), diff(&rb, &ra, "Resource role")),
            ]
        }
        _ => {
            errors.add("view", "Choose one of the reports offered.");
            vec![]
        }
    })
}

/// `GET /admin/reports`.
pub async fn show(State(s): State<AppState>, v: Viewer, Query(p): Query<ReportParams>) -> PageResult {
    let mut errors = Errors::default();
    let tables = tables(&s, &v, &p, &mut errors).await?;
    if p.format.as_deref() == Some("csv") {
        if let Some((_, m)) = errors.all().next() {
            return Err(PageError::bad_request(m.to_owned()));
        }
        return csv(&tables);
    }
    let view = p.view.clone().unwrap_or_else(|| "package".into());
    let enc = |v: &str| percent_encoding::utf8_percent_encode(v, crate::pages::QUERY_VALUE).to_string();
    let csv = format!(
        "/admin/reports?view={}&person={}&other={}&format=csv",
        enc(&view),
        enc(p.person.as_deref().unwrap_or("")),
        enc(p.other.as_deref().unwrap_or(""))
    );
    let status = if errors.is_empty() { StatusCode::OK } else { INVALID };
    let page = ReportsPage {
        chrome: chrome(&s, &v, "reports").await?,
        view,
        person: crate::pages::forms::search_text(p.person.as_deref()),
        other: crate::pages::forms::search_text(p.other.as_deref()),
        errors,
        tables,
        csv,
    };
    render(status, &page)
}

impl ReportsPage {
    fn views(&self) -> &'static [(&'static str, &'static str)] {
        &VIEWS
    }
}

/// Every table of the report, one after the other, each headed by its caption.
fn csv(tables: &[Table]) -> PageResult {
    let failed = |e: csv::Error| PageError::bad_request(format!("the export could not be written: {e}"));
    let mut out = csv::WriterBuilder::new().flexible(true).from_writer(Vec::new());
    for t in tables {
        out.write_record([t.caption.as_str()]).map_err(failed)?;
        out.write_record(&t.columns).map_err(failed)?;
        for r in &t.rows {
            out.write_record(r.iter().map(|c| neutral(c))).map_err(failed)?;
        }
    }
    let body = out.into_inner().map_err(|e| PageError::bad_request(format!("the export could not be written: {e}")))?;
    Ok((
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8"),
            (CONTENT_DISPOSITION, "attachment; filename=\"gatehouse-report.csv\""),
        ],
        body,
    )
        .into_response())
}
