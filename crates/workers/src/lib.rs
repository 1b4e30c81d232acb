//! Gatehouse's background work. [`Workers`] takes jobs from the outbox with a lease, runs them
//! through [`Connector`]s (provisioning) or a [`Mailer`], records the outcome, and lets time
//! pass for requests (escalation, automatic denial, scheduled starts). Several processes may
//! run workers against one PostgreSQL: leases keep them from running a job twice at once, and
//! every job is idempotent, so a crash at any point loses nothing.

pub mod connectors;
pub mod mail;
pub mod reconcile;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Duration as Span, Utc};
use futures::StreamExt;
use gatehouse_app::callouts::{Callout, CALLOUT};
use gatehouse_app::delivery::{Grant, JobError, Mail, MAIL, PROVISION, RECONCILE};
use gatehouse_app::App;
use gatehouse_domain::connection::Connection;
use gatehouse_store::jobs::{self, Job};
use gatehouse_store::{assignments, directory};

pub use connectors::directory_group::DirectoryGroupConnector;
pub use connectors::ldap::LdapConnector;
pub use connectors::scim::ScimConnector;
pub use connectors::webhook::WebhookConnector;
pub use connectors::{Change, Connector};
pub use mail::{LogMailer, Mailer, Message, SmtpMailer, SmtpSettings, SmtpTls};

/// How long a worker may hold a job before another may take it over, by default.
pub const DEFAULT_LEASE_SECONDS: i64 = 60;
/// Jobs claimed per pass.
const BATCH: i64 = 128;
/// Mails sent at once within a batch.
const MAIL_CONCURRENCY: usize = 8;

/// Where a grant goes: its origin system and connection.
type Target = (String, Option<uuid::Uuid>);

pub struct Workers {
    app: App,
    connectors: Vec<Arc<dyn Connector>>,
    mailer: Arc<dyn Mailer>,
    owner: String,
    lease: Span,
    /// The clock time of the last sweep, whether the last pass found jobs, and whether the last
    /// sweep found work.
    last_sweep: Mutex<Option<DateTime<Utc>>>,
    busy: AtomicBool,
    sweep_found_work: AtomicBool,
    /// How often each connection is reconciled on schedule (`None`: never).
    reconcile_every: Option<Span>,
}

impl Workers {
    /// Workers with every connector and the given mailer.
    pub fn new(app: App, mailer: Arc<dyn Mailer>) -> Self {
        let connectors: Vec<Arc<dyn Connector>> = vec![
            Arc::new(DirectoryGroupConnector::new(app.store.clone(), app.clock.clone())),
            Arc::new(ScimConnector::new(app.clone())),
            Arc::new(LdapConnector::new(app.clone())),
            Arc::new(WebhookConnector::new(app.clone())),
        ];
        Workers {
            app,
            connectors,
            mailer,
            owner: format!("worker-{}", uuid::Uuid::new_v4()),
            lease: Span::seconds(DEFAULT_LEASE_SECONDS),
            last_sweep: Mutex::new(None),
            busy: AtomicBool::new(false),
            sweep_found_work: AtomicBool::new(false),
            reconcile_every: None,
        }
    }

    /// Reconcile every connection this often (and fix what drifted), besides runs people start.
    pub fn with_reconcile_every(mut self, every: Option<Span>) -> Self {
        self.reconcile_every = every.filter(|e| *e > Span::zero());
        self
    }

    /// How soon another worker may take over a job whose worker died. Shorter recovers faster
    /// after a crash; a job running longer than this may run twice (connectors are idempotent).
    pub fn with_lease(mut self, lease: Span) -> Self {
        self.lease = lease;
        self
    }

    /// Use `connector` for the origin systems it serves instead of the built-in one.
    pub fn with_connector(mut self, connector: Arc<dyn Connector>) -> Self {
        self.connectors.retain(|c| !c.origin_systems().iter().any(|o| connector.origin_systems().contains(o)));
        self.connectors.push(connector);
        self
    }

    /// One pass: the clock-driven sweeps (when due), then one batch of jobs. Returns how much
    /// was done; a pass that returns 0 has always swept.
    pub async fn run_once(&self) -> Result<usize, gatehouse_app::AppError> {
        let now = self.app.clock.now();
        let mut done = 0;
        let swept = self.sweep_due(now);
        if swept {
            done += self.sweep(now).await?;
        }
        let claimed = {
            let mut tx = self.app.store.begin().await?;
            let claimed = jobs::claim(&mut tx, self.app.store.backend(), &self.owner, now, self.lease, BATCH).await?;
            tx.commit().await?;
            claimed
        };
        let count = claimed.len();
        self.busy.store(count > 0, Ordering::Relaxed);
        let outcomes = self.run_jobs(claimed).await;
        self.app.finish_jobs(&outcomes).await?;
        done += count;
        if done == 0 && !swept {
            done += self.sweep(now).await?;
        }
        Ok(done)
    }

    /// While jobs stream through and the sweeps find nothing, the sweeps (a few indexed queries
    /// each) run at most once per second of the clock rather than once per batch. An idle
    /// worker sweeps every pass, and a sweep that found work is followed by another.
    fn sweep_due(&self, now: DateTime<Utc>) -> bool {
        let last = *self.last_sweep.lock().expect("sweep time");
        !self.busy.load(Ordering::Relaxed)
            || self.sweep_found_work.load(Ordering::Relaxed)
            || last.is_none_or(|t| now - t >= Span::seconds(1) || now < t)
    }

    async fn sweep(&self, now: DateTime<Utc>) -> Result<usize, gatehouse_app::AppError> {
        *self.last_sweep.lock().expect("sweep time") = Some(now);
        let mut found = self.app.tick_requests().await?
            + self.app.expire_assignments().await?
            + self.app.remind_expiring().await?
            + self.app.delete_expired_guests().await?;
        if let Some(every) = self.reconcile_every {
            found += self.app.schedule_reconciliations(now, every).await?;
        }
        self.sweep_found_work.store(found > 0, Ordering::Relaxed);
        Ok(found)
    }

    /// Run until a pass finds nothing to do (tests, and draining at shutdown).
    pub async fn run_until_idle(&self) -> Result<(), gatehouse_app::AppError> {
        for _ in 0..1000 {
            if self.run_once().await? == 0 {
                return Ok(());
            }
        }
        Err(gatehouse_app::AppError::Conflict("the workers did not become idle after 1000 passes".into()))
    }

    /// Work until `shutdown` resolves: wake on new work or every `poll`.
    pub async fn run(self, poll: Duration, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            match self.run_once().await {
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "worker pass failed; retrying"),
            }
            tokio::select! {
                _ = &mut shutdown => return,
                _ = self.app.work.notified() => {}
                _ = tokio::time::sleep(poll) => {}
            }
        }
    }

    /// Run a batch: provisioning grouped by connector (each connector gets its share at once),
    /// mail a few at a time. Returns each job's outcome.
    async fn run_jobs(&self, claimed: Vec<Job>) -> Vec<(Job, Result<(), JobError>)> {
        let mut outcomes = Vec::with_capacity(claimed.len());
        let mut provisioning: Vec<(Job, Grant)> = Vec::new();
        let mut mail = Vec::new();
        let mut reconciliations = Vec::new();
        for job in claimed {
            match job.kind.as_str() {
                PROVISION => match serde_json::from_value::<Grant>(job.payload.clone()) {
                    Ok(grant) => provisioning.push((job, grant)),
                    Err(e) => outcomes.push((job, Err(JobError::Permanent(format!("bad provisioning job: {e}"))))),
                },
                MAIL | CALLOUT => mail.push(job),
                RECONCILE => reconciliations.push(job),
                other => {
                    let error = format!("unknown job kind '{other}'");
                    outcomes.push((job, Err(JobError::Permanent(error))));
                }
            }
        }
        outcomes.extend(self.provision(provisioning).await);
        for job in reconciliations {
            let outcome = reconcile::run(&self.app, &self.connectors, &job).await;
            outcomes.push((job, outcome));
        }
        // Mail and custom-extension calls go out a few at a time.
        let sent: Vec<_> = futures::stream::iter(mail)
            .map(|job| async move {
                let outcome = if job.kind == CALLOUT { self.call_out(&job).await } else { self.mail(&job).await };
                (job, outcome)
            })
            .buffer_unordered(MAIL_CONCURRENCY)
            .collect()
            .await;
        outcomes.extend(sent);
        outcomes
    }

    async fn provision(&self, batch: Vec<(Job, Grant)>) -> Vec<(Job, Result<(), JobError>)> {
        let mut outcomes = Vec::with_capacity(batch.len());
        // Each connector gets its share, one connection at a time.
        let mut by_target: BTreeMap<Target, Vec<(Job, Grant)>> = BTreeMap::new();
        // One connection for the whole batch's checks, taken at the first revoke.
        let mut conn = None;
        for (job, grant) in batch {
            // A revoke of a role another active assignment still grants is done already.
            if grant.revoke {
                match self.still_granted(&mut conn, &grant).await {
                    Ok(true) => {
                        outcomes.push((job, Ok(())));
                        continue;
                    }
                    Ok(false) => {}
                    Err(e) => {
                        outcomes.push((job, Err(JobError::Transient(e))));
                        continue;
                    }
                }
            }
            by_target.entry((grant.origin_system.clone(), grant.connection_id)).or_default().push((job, grant));
        }
        drop(conn);
        for ((system, connection_id), items) in by_target {
            let Some(connector) = connectors::for_origin(&self.connectors, &system) else {
                let error = JobError::Permanent(format!("no connector for origin system '{system}'"));
                outcomes.extend(items.into_iter().map(|(job, _)| (job, Err(error.clone()))));
                continue;
            };
            let connection = match connection_id {
                None => None,
                Some(id) => match self.connection(id).await {
                    Ok(c) => Some(c),
                    Err(e) => {
                        outcomes.extend(items.into_iter().map(|(job, _)| (job, Err(e.clone()))));
                        continue;
                    }
                },
            };
            let changes: Vec<Change> = items.iter().map(|(job, grant)| (job.id, grant.clone())).collect();
            let mut results = connector.apply_all(connection.as_ref(), &changes).await.into_iter();
            for (job, _) in items {
                let result = results.next().unwrap_or_else(|| {
                    Err(JobError::Transient(format!("connector '{system}' returned fewer outcomes than changes")))
                });
                outcomes.push((job, result));
            }
        }
        outcomes
    }

    /// A connection with its credentials, or why its jobs cannot run.
    async fn connection(&self, id: uuid::Uuid) -> Result<Connection, JobError> {
        match self.app.connection(id).await {
            Ok(c) => Ok(c),
            Err(gatehouse_app::AppError::NotFound(_)) => {
                Err(JobError::Permanent(format!("connection '{id}' no longer exists")))
            }
            // A credential that will not open (the key changed) waits for someone to fix the key.
            Err(gatehouse_app::AppError::Conflict(m)) => Err(JobError::Outage(m)),
            Err(e) => Err(JobError::Transient(e.to_string())),
        }
    }

    async fn still_granted(
        &self,
        conn: &mut Option<sqlx::pool::PoolConnection<sqlx::Any>>,
        grant: &Grant,
    ) -> Result<bool, String> {
        if conn.is_none() {
            *conn = Some(self.app.store.conn().await.map_err(|e| e.to_string())?);
        }
        let conn = conn.as_mut().expect("a connection was just taken");
        assignments::role_still_granted(
            conn,
            grant.target_id,
            grant.assignment_id,
            &grant.origin_system,
            &grant.role_origin_id,
            grant.connection_id,
        )
        .await
        .map_err(|e| e.to_string())
    }

    /// Call a custom extension: the message as things are now, signed as a webhook (the job's
    /// id is its `webhook-id`, the same on every retry).
    async fn call_out(&self, job: &Job) -> Result<(), JobError> {
        let callout: Callout = serde_json::from_value(job.payload.clone())
            .map_err(|e| JobError::Permanent(format!("bad callout job: {e}")))?;
        let (extension, message) = match self.app.callout_message(&callout).await {
            Ok(m) => m,
            Err(gatehouse_app::AppError::NotFound(m)) => return Err(JobError::Permanent(m)),
            Err(e) => return Err(JobError::Transient(e.to_string())),
        };
        let secret = extension.signing_secret.ok_or_else(|| {
            JobError::Permanent(format!("custom extension '{}' has no signing secret", extension.display_name))
        })?;
        let timeout = Duration::from_millis(u64::try_from(extension.timeout_ms).unwrap_or(10_000));
        let id = format!("msg_{}", job.id.simple());
        let now = chrono::Utc::now().timestamp();
        gatehouse_connectors::webhook::post(
            &self.app.http,
            &extension.target_url,
            &secret,
            &id,
            now,
            &message,
            Some(timeout),
        )
        .await
        .map_err(|e| match connectors::job_error(e) {
            // An endpoint that is out is not a connection's outage: retries count.
            JobError::Outage(m) => JobError::Transient(m),
            other => other,
        })
    }

    async fn mail(&self, job: &Job) -> Result<(), JobError> {
        let mail: Mail = serde_json::from_value(job.payload.clone())
            .map_err(|e| JobError::Permanent(format!("bad mail job: {e}")))?;
        let mut to = mail.to_addresses.clone();
        {
            let mut conn = self.app.store.conn().await.map_err(|e| JobError::Transient(e.to_string()))?;
            for id in &mail.to {
                if let Some(address) = directory::get_user(&mut conn, *id)
                    .await
                    .map_err(|e| JobError::Transient(e.to_string()))?
                    .and_then(|u| u.mail)
                {
                    to.push(address);
                }
            }
        }
        if to.is_empty() {
            // Nobody with an address: nothing to send, and nothing to retry.
            return Ok(());
        }
        self.mailer.send(&Message { to, subject: mail.subject, body: mail.body }).await.map_err(JobError::Transient)
    }
}
