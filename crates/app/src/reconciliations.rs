//! Reconciliation runs: started by people (API, CLI, portal) or the schedule, worked by the
//! workers (`workers::reconcile`), and recorded with their findings and audit records.

use chrono::{DateTime, Duration, Utc};
use gatehouse_domain::authorization::{Action, Scope};
use gatehouse_domain::connection::ConnectionKind;
use gatehouse_domain::reconcile::{Finding, FindingAction, FindingKind, Reconciliation, ReconciliationState};
use gatehouse_store::jobs::{self, NewJob};
use gatehouse_store::{connections, reconciliations, WriteTx};
use serde_json::json;
use uuid::Uuid;

use crate::audit::{created, updated, Change};
use crate::delivery::RECONCILE;
use crate::{not_found, Actor, App, AppError, Result};

/// The payload key of a `reconcile` job: the run it works on.
const RUN_KEY: &str = "reconciliationId";

/// The run a `reconcile` job works on.
pub fn run_of(job: &gatehouse_store::jobs::Job) -> Option<Uuid> {
    job.payload.get(RUN_KEY).and_then(|v| v.as_str()).and_then(|s| Uuid::parse_str(s).ok())
}

impl App {
    /// Queue a run of the connection. `fix`: re-apply missing grants, and remove unexplained
    /// holders if the connection enforces; otherwise only report.
    pub async fn start_reconciliation(&self, actor: &Actor, connection: Uuid, fix: bool) -> Result<Reconciliation> {
        actor.check_at(Action::ManageTenant, Scope::Tenant)?;
        let mut tx = self.store.begin().await?;
        let run = self.start_reconciliation_in(&mut tx, actor, connection, fix, false).await?;
        tx.commit().await?;
        self.wake_workers();
        Ok(run)
    }

    async fn start_reconciliation_in(
        &self,
        tx: &mut WriteTx,
        actor: &Actor,
        connection: Uuid,
        fix: bool,
        scheduled: bool,
    ) -> Result<Reconciliation> {
        let Some(c) = connections::get(tx, connection).await? else { return not_found("connection", connection) };
        if c.connection.kind() == ConnectionKind::Webhook {
            return Err(AppError::Conflict(format!(
                "connection '{}' is a webhook target, which cannot say who holds its roles: only SCIM and LDAP connections are reconciled",
                c.connection.display_name
            )));
        }
        let now = self.now();
        let run = Reconciliation {
            // Time-ordered, so runs started within the same clock tick still list newest first.
            id: Uuid::now_v7(),
            connection_id: connection,
            fix,
            scheduled,
            requested_by: actor.id(),
            state: ReconciliationState::Running,
            summary: None,
            error: None,
            created_date_time: now,
            finished_date_time: None,
        };
        reconciliations::insert(tx, &run).await?;
        // Not tied to the connection's health: a run against a target that is out fails at
        // once with the reason, rather than waiting unseen.
        let job = NewJob {
            kind: RECONCILE,
            payload: json!({RUN_KEY: run.id}),
            max_attempts: 3,
            request_id: None,
            run_after: now,
            connection_id: None,
        };
        jobs::enqueue(tx, job, now).await?;
        self.audit(tx, actor, created("reconciliation.start", "connection", connection, &run)).await?;
        Ok(run)
    }

    /// Queue the scheduled runs that are due; returns how many.
    pub async fn schedule_reconciliations(&self, now: DateTime<Utc>, every: Duration) -> Result<usize> {
        let mut tx = self.store.begin().await?;
        let due = connections::claim_due_reconciliations(&mut tx, now, now + every).await?;
        for id in &due {
            self.start_reconciliation_in(&mut tx, &Actor::system(), *id, true, true).await?;
        }
        tx.commit().await?;
        if !due.is_empty() {
            self.wake_workers();
        }
        Ok(due.len())
    }

    pub async fn get_reconciliation(&self, actor: &Actor, id: Uuid) -> Result<(Reconciliation, Vec<Finding>)> {
        actor.check_at(Action::ReadTenant, Scope::Tenant)?;
        let mut conn = self.store.conn().await?;
        let Some(run) = reconciliations::get(&mut conn, id).await? else { return not_found("reconciliation", id) };
        let findings = reconciliations::findings(&mut conn, id).await?;
        Ok((run, findings))
    }

    /// The connection's runs, newest first.
    pub async fn list_reconciliations(
        &self,
        actor: &Actor,
        connection: Uuid,
        limit: i64,
    ) -> Result<Vec<Reconciliation>> {
        actor.check_at(Action::ReadTenant, Scope::Tenant)?;
        let mut conn = self.store.conn().await?;
        Ok(reconciliations::of_connection(&mut conn, connection, limit).await?)
    }

    /// The run a reconcile job works on, if it still needs working on.
    pub async fn reconciliation_to_run(&self, id: Uuid) -> Result<Option<Reconciliation>> {
        let mut conn = self.store.conn().await?;
        Ok(reconciliations::get(&mut conn, id).await?.filter(|r| r.state == ReconciliationState::Running))
    }

    /// A run whose job gave up (its worker kept failing): failed, with the reason.
    pub(crate) async fn reconciliation_gave_up(
        &self,
        tx: &mut WriteTx,
        job: &gatehouse_store::jobs::Job,
        why: &str,
    ) -> Result<()> {
        let Some(mut run) = (match run_of(job) {
            Some(id) => reconciliations::get(tx, id).await?,
            None => None,
        }) else {
            return Ok(());
        };
        if run.state == ReconciliationState::Running {
            run.state = ReconciliationState::Failed;
            run.error = Some(why.to_owned());
            run.finished_date_time = Some(self.now());
            reconciliations::finish(tx, &run).await?;
        }
        Ok(())
    }

    /// Record a finished run: its findings, and audit records for what changed in the target
    /// and for unexplained holders the previous run had not seen.
    pub async fn finish_reconciliation(&self, mut run: Reconciliation, findings: Vec<Finding>) -> Result<()> {
        let actor = Actor::system();
        let mut tx = self.store.begin().await?;
        let before = run.clone();
        run.finished_date_time = Some(self.now());
        reconciliations::finish(&mut tx, &run).await?;
        let known: Vec<(String, String)> = match reconciliations::previous(&mut tx, run.connection_id, run.id).await? {
            Some(prev) => reconciliations::findings(&mut tx, prev.id)
                .await?
                .into_iter()
                .filter(|f| f.kind == FindingKind::Unexplained && f.action != FindingAction::Removed)
                .map(|f| (f.role_origin_id, f.holder))
                .collect(),
            None => vec![],
        };
        for f in &findings {
            reconciliations::insert_finding(&mut tx, f).await?;
            let activity = match (f.kind, f.action) {
                (_, FindingAction::Removed) => "drift.removed",
                (_, FindingAction::Reapplied) => "drift.reapplied",
                (_, FindingAction::Failed) => "drift.fixFailed",
                (FindingKind::Missing, FindingAction::Reported) => "drift.missing",
                (FindingKind::Unexplained, FindingAction::Reported) => {
                    if known.contains(&(f.role_origin_id.clone(), f.holder.clone())) {
                        continue;
                    }
                    "drift.detected"
                }
            };
            let change = Change {
                activity,
                target_type: "connection",
                target_id: run.connection_id.to_string(),
                before: None::<&()>,
                after: Some(f),
            };
            self.audit(&mut tx, &actor, change).await?;
        }
        self.audit(&mut tx, &actor, updated("reconciliation.finish", "connection", run.connection_id, &before, &run))
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
