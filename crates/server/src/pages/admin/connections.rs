//! Connections (`/admin/connections`): the target systems Gatehouse provisions into, with their
//! health — a degraded one shows why and how many jobs wait on it — and on a connection's page
//! its settings (never its credentials), the resources that live in it, Test, Reconcile (report
//! or fix) with the last runs' findings, the reconcile mode, and Delete. The forms to register
//! and edit one are `connection_form`.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use gatehouse_app::ListQuery;
use gatehouse_domain::connection::{Connection, ConnectionPatch, ConnectionSettings, ConnectionStatus, ReconcileMode};
use gatehouse_domain::principal::Permission;
use gatehouse_domain::reconcile::{Finding, Reconciliation};

use super::{chrome, AdminChrome};
use crate::pages::forms::FormData;
use crate::pages::when::datetime;
use crate::pages::{path_id, render, see_other, PageError, PageResult, Viewer};
use crate::state::AppState;

/// A connection as the pages show it.
pub struct ConnectionRow {
    pub id: String,
    pub name: String,
    pub kind: &'static str,
    pub status: &'static str,
    pub status_label: &'static str,
    pub since: String,
    pub last_error: String,
    pub mode: &'static str,
    pub target: String,
}

pub fn kind_label(c: &Connection) -> &'static str {
    match c.settings {
        ConnectionSettings::Scim(_) => "SCIM application",
        ConnectionSettings::Ldap(_) => "LDAP directory",
        ConnectionSettings::Webhook(_) => "Webhook target",
    }
}

fn status_label(s: ConnectionStatus) -> &'static str {
    match s {
        ConnectionStatus::Untested => "Not checked yet",
        ConnectionStatus::Healthy => "Healthy",
        ConnectionStatus::Degraded => "Degraded",
    }
}

fn mode_label(m: ReconcileMode) -> &'static str {
    match m {
        ReconcileMode::Report => "Report",
        ReconcileMode::Enforce => "Enforce",
    }
}

fn when(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| datetime(&t)).unwrap_or_default()
}

pub fn row(c: &Connection) -> ConnectionRow {
    ConnectionRow {
        id: c.id.to_string(),
        name: c.display_name.clone(),
        kind: kind_label(c),
        status: c.health.status.as_str(),
        status_label: status_label(c.health.status),
        since: when(c.health.status_date_time),
        last_error: c.health.last_error.clone().unwrap_or_default(),
        mode: mode_label(c.reconcile_mode),
        target: c.settings.url().to_owned(),
    }
}

#[derive(Template)]
#[template(path = "admin/connections.html")]
struct ListPage {
    chrome: AdminChrome,
    rows: Vec<(ConnectionRow, i64)>,
    may_manage: bool,
}

/// `GET /admin/connections`.
pub async fn list(State(s): State<AppState>, v: Viewer) -> PageResult {
    let actor = v.actor();
    let page = s.app.list_connections(&actor, ListQuery { top: 500, ..ListQuery::EXPANDED }).await?;
    let waiting = s.app.waiting_jobs_by_connection(&actor).await?;
    let rows = page.items.iter().map(|c| (row(c), waiting.get(&c.id).copied().unwrap_or(0))).collect();
    let may_manage = v.principal.may(Permission::EntitlementWrite).is_ok() && actor.governs();
    render(StatusCode::OK, &ListPage { chrome: chrome(&s, &v, "connections").await?, rows, may_manage })
}

/// A finding as the page shows it.
pub struct FindingRow {
    pub kind: &'static str,
    pub resource: String,
    pub role: String,
    pub holder: String,
    pub guest: bool,
    pub action: &'static str,
    pub detail: String,
}

fn finding_row(f: &Finding) -> FindingRow {
    use gatehouse_domain::reconcile::{FindingAction as A, FindingKind as K};
    FindingRow {
        kind: match f.kind {
            K::Missing => "Missing: an assignment grants it, the target does not have it",
            K::Unexplained => "Unexplained: the target has it, no assignment explains it",
        },
        resource: f.resource_display_name.clone(),
        role: f.role_display_name.clone(),
        holder: f.holder_display_name.clone(),
        guest: f.user_type.as_deref() == Some("Guest"),
        action: match f.action {
            A::Reported => "Reported",
            A::Reapplied => "Re-applied",
            A::Removed => "Removed",
            A::Failed => "Fix failed",
        },
        detail: f.detail.clone().unwrap_or_default(),
    }
}

/// A reconciliation run as the page shows it.
pub struct RunRow {
    pub id: String,
    pub when: String,
    pub state: &'static str,
    pub how: &'static str,
    pub summary: String,
    pub error: String,
}

fn run_row(r: &Reconciliation) -> RunRow {
    let summary = r.summary.as_ref().map_or_else(String::new, |s| {
        format!(
            "roles {}, holders {}; missing {}, unexplained {}; re-applied {}, removed {}, failed {}",
            s.roles, s.holders, s.missing, s.unexplained, s.reapplied, s.removed, s.failed
        )
    });
    RunRow {
        id: r.id.to_string(),
        when: datetime(&r.created_date_time),
        state: r.state.as_str(),
        how: match (r.scheduled, r.fix) {
            (true, _) => "Scheduled, fixing",
            (false, true) => "Fixing",
            (false, false) => "Report only",
        },
        summary,
        error: r.error.clone().unwrap_or_default(),
    }
}

#[derive(Template)]
#[template(path = "admin/connection.html")]
struct ShowPage {
    chrome: AdminChrome,
    c: ConnectionRow,
    settings: Vec<(&'static str, String)>,
    secrets: String,
    enforce: bool,
    waiting: i64,
    oldest_waiting: String,
    resources: Vec<(String, String, String)>,
    runs: Vec<RunRow>,
    findings: Vec<FindingRow>,
    /// Whether any run has finished: "found nothing" is only said of a finished run.
    finished: bool,
    running: bool,
    reconcilable: bool,
    may_manage: bool,
    notice: String,
}

/// What a connection's settings are, in words.
pub fn settings_rows(c: &Connection) -> Vec<(&'static str, String)> {
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "—".into());
    match &c.settings {
        ConnectionSettings::Scim(s) => {
            let mut rows = vec![("SCIM base URL", s.base_url.clone())];
            if let Some(url) = &s.token_url {
                rows.push(("Authentication", "OAuth 2.0 client credentials".into()));
                rows.push(("Token URL", url.clone()));
                rows.push(("Client id", opt(&s.client_id)));
                rows.push(("Scope", opt(&s.scope)));
            } else {
                rows.push(("Authentication", "Bearer token".into()));
            }
            rows
        }
        ConnectionSettings::Ldap(s) => vec![
            ("Directory URL", s.url.clone()),
            ("StartTLS", if s.start_tls { "Yes" } else { "No" }.into()),
            ("CA file", opt(&s.ca_file)),
            ("Bind DN", s.bind_dn.clone()),
            ("People under", s.people_base_dn.clone()),
            ("Groups under", s.groups_base_dn.clone()),
            ("Person naming attribute", s.person_naming_attribute.clone()),
        ],
        ConnectionSettings::Webhook(s) => vec![
            ("Grant URL", s.grant_url.clone()),
            ("Revoke URL", s.revoke_url.clone()),
            ("Roles", s.roles.join(", ")),
            ("Signature", "Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature)".into()),
        ],
    }
}

pub(crate) async fn show_page(s: &AppState, v: &Viewer, id: uuid::Uuid, notice: String) -> PageResult {
    let actor = v.actor();
    let d = s.app.get_connection(&actor, id).await?;
    let governs = actor.governs();
    let runs = if governs { s.app.list_reconciliations(&actor, id, 5).await? } else { vec![] };
    let latest_done = runs.iter().find(|r| r.state != gatehouse_domain::reconcile::ReconciliationState::Running);
    let findings = match latest_done {
        Some(r) => s.app.get_reconciliation(&actor, r.id).await?.1.iter().map(finding_row).collect(),
        None => vec![],
    };
    let c = &d.connection;
    let page = ShowPage {
        chrome: chrome(s, v, "connections").await?,
        settings: settings_rows(c),
        secrets: c.secrets.names().join(", "),
        enforce: c.reconcile_mode == ReconcileMode::Enforce,
        waiting: d.waiting_jobs,
        oldest_waiting: when(d.oldest_waiting),
        resources: d
            .resources
            .iter()
            .map(|r| (r.catalog_id.to_string(), r.catalog.clone(), r.resource.clone()))
            .collect(),
        running: runs.first().is_some_and(|r| r.state == gatehouse_domain::reconcile::ReconciliationState::Running),
        runs: runs.iter().map(run_row).collect(),
        findings,
        finished: latest_done.is_some(),
        reconcilable: !matches!(c.settings, ConnectionSettings::Webhook(_)),
        may_manage: governs && v.principal.may(Permission::EntitlementWrite).is_ok(),
        c: row(c),
        notice,
    };
    render(StatusCode::OK, &page)
}

/// `GET /admin/connections/{id}`.
pub async fn show(State(s): State<AppState>, v: Viewer, Path(id): Path<String>) -> PageResult {
    show_page(&s, &v, path_id(&id, "connection")?, String::new()).await
}

/// `POST /admin/connections/{id}/test`: reach the target now.
pub async fn test(State(s): State<AppState>, v: Viewer, Path(id): Path<String>) -> PageResult {
    let id = path_id(&id, "connection")?;
    let c = s.app.test_connection(&v.actor(), id).await?;
    let notice = match c.health.status {
        ConnectionStatus::Healthy => "The target answered.".to_owned(),
        _ => "The target did not answer as it should; see the last error.".to_owned(),
    };
    show_page(&s, &v, id, notice).await
}

/// `POST /admin/connections/{id}/reconcile` (form: fix): start a run.
pub async fn reconcile(State(s): State<AppState>, v: Viewer, Path(id): Path<String>, body: Bytes) -> PageResult {
    let id = path_id(&id, "connection")?;
    let fix = FormData::parse(&body).get("fix") == Some("yes");
    s.app.start_reconciliation(&v.actor(), id, fix).await?;
    see_other(&format!("/admin/connections/{id}#reconciliation"))
}

/// `POST /admin/connections/{id}/mode` (form: mode): report or enforce.
pub async fn mode(State(s): State<AppState>, v: Viewer, Path(id): Path<String>, body: Bytes) -> PageResult {
    let id = path_id(&id, "connection")?;
    let mode = match FormData::parse(&body).get("mode") {
        Some("report") => ReconcileMode::Report,
        Some("enforce") => ReconcileMode::Enforce,
        _ => return Err(PageError::bad_request("Choose report or enforce.")),
    };
    let patch = ConnectionPatch { reconcile_mode: Some(mode), ..ConnectionPatch::default() };
    s.app.update_connection(&v.actor(), id, patch).await?;
    see_other(&format!("/admin/connections/{id}"))
}

/// `POST /admin/connections/{id}/delete`.
pub async fn delete(State(s): State<AppState>, v: Viewer, Path(id): Path<String>) -> PageResult {
    let id = path_id(&id, "connection")?;
    s.app.delete_connection(&v.actor(), id).await?;
    see_other("/admin/connections")
}
