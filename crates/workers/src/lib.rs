//! Gatehouse's background work. [`Workers`] takes jobs from the outbox with a lease, runs them
//! through [`Connector`]s (provisioning) or a [`Mailer`], records the outcome, and lets time
//! pass for requests (escalation, automatic denial, scheduled starts). Several processes may
//! run workers against one PostgreSQL: leases keep them from running a job twice at once, and
//! every job is idempotent, so a crash at any point loses nothing.

pub mod connector;
pub mod directory_group;
pub mod mail;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Duration as Span, Utc};
use futures::StreamExt;
use gatehouse_app::delivery::{Grant, Mail, MAIL, PROVISION};
use gatehouse_app::App;
use gatehouse_store::jobs::{self, Job};
use gatehouse_store::{assignments, directory};

pub use connector::{Connector, ConnectorError};
pub use directory_group::DirectoryGroupConnector;
pub use mail::{LogMailer, Mailer, Message, SmtpMailer, SmtpSettings, SmtpTls};

/// How long a worker may hold a job before another may take it over, by default.
pub const DEFAULT_LEASE_SECONDS: i64 = 60;
/// Jobs claimed per pass.
const BATCH: i64 = 128;
/// Mails sent at once within a batch.
const MAIL_CONCURRENCY: usize = 8;

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
}

impl Workers {
    /// Workers with the built-in connectors and the given mailer.
    pub fn new(app: App, mailer: Arc<dyn Mailer>) -> Self {
        let group: Arc<dyn Connector> = Arc::new(DirectoryGroupConnector::new(app.store.clone(), app.clock.clone()));
        Workers {
            app,
            connectors: vec![group],
            mailer,
            owner: format!("worker-{}", uuid::Uuid::new_v4()),
            lease: Span::seconds(DEFAULT_LEASE_SECONDS),
            last_sweep: Mutex::new(None),
            busy: AtomicBool::new(false),
            sweep_found_work: AtomicBool::new(false),
        }
    }

    /// How soon another worker may take over a job whose worker died. Shorter recovers faster
    /// after a crash; a job running longer than this may run twice (connectors are idempotent).
    pub fn with_lease(mut self, lease: Span) -> Self {
        self.lease = lease;
        self
    }

    pub fn with_connector(mut self, connector: Arc<dyn Connector>) -> Self {
        self.connectors.retain(|c| c.origin_system() != connector.origin_system());
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
        let found = self.app.tick_requests().await?
            + self.app.expire_assignments().await?
            + self.app.remind_expiring().await?
            + self.app.delete_expired_guests().await?;
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
    async fn run_jobs(&self, claimed: Vec<Job>) -> Vec<(Job, Result<(), String>)> {
        let mut outcomes = Vec::with_capacity(claimed.len());
        let mut provisioning: Vec<(Job, Grant)> = Vec::new();
        let mut mail = Vec::new();
        for job in claimed {
            match job.kind.as_str() {
                PROVISION => match serde_json::from_value::<Grant>(job.payload.clone()) {
                    Ok(grant) => provisioning.push((job, grant)),
                    Err(e) => outcomes.push((job, Err(format!("bad provisioning job: {e}")))),
                },
                MAIL => mail.push(job),
                other => {
                    let error = format!("unknown job kind '{other}'");
                    outcomes.push((job, Err(error)));
                }
            }
        }
        outcomes.extend(self.provision(provisioning).await);
        let sent: Vec<_> = futures::stream::iter(mail)
            .map(|job| async move {
                let outcome = self.mail(&job).await;
                (job, outcome)
            })
            .buffer_unordered(MAIL_CONCURRENCY)
            .collect()
            .await;
        outcomes.extend(sent);
        outcomes
    }

    async fn provision(&self, batch: Vec<(Job, Grant)>) -> Vec<(Job, Result<(), String>)> {
        let mut outcomes = Vec::with_capacity(batch.len());
        let mut by_system: BTreeMap<String, Vec<(Job, Grant)>> = BTreeMap::new();
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
                        outcomes.push((job, Err(e)));
                        continue;
                    }
                }
            }
            by_system.entry(grant.origin_system.clone()).or_default().push((job, grant));
        }
        for (system, items) in by_system {
            let Some(connector) = self.connectors.iter().find(|c| c.origin_system() == system) else {
                let error = format!("no connector for origin system '{system}'");
                outcomes.extend(items.into_iter().map(|(job, _)| (job, Err(error.clone()))));
                continue;
            };
            let (jobs, grants): (Vec<Job>, Vec<Grant>) = items.into_iter().unzip();
            let mut results = connector.apply_all(&grants).await.into_iter();
            for job in jobs {
                let result = results.next().unwrap_or_else(|| {
                    Err(ConnectorError(format!("connector '{system}' returned fewer outcomes than changes")))
                });
                outcomes.push((job, result.map_err(|e| e.0)));
            }
        }
        outcomes
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
        )
        .await
        .map_err(|e| e.to_string())
    }

    async fn mail(&self, job: &Job) -> Result<(), String> {
        let mail: Mail = serde_json::from_value(job.payload.clone()).map_err(|e| format!("bad mail job: {e}"))?;
        let mut to = mail.to_addresses.clone();
        {
            let mut conn = self.app.store.conn().await.map_err(|e| e.to_string())?;
            for id in &mail.to {
                if let Some(address) =
                    directory::get_user(&mut conn, *id).await.map_err(|e| e.to_string())?.and_then(|u| u.mail)
                {
                    to.push(address);
                }
            }
        }
        if to.is_empty() {
            // Nobody with an address: nothing to send, and nothing to retry.
            return Ok(());
        }
        self.mailer.send(&Message { to, subject: mail.subject, body: mail.body }).await
    }
}
