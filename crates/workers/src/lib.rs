//! Gatehouse's background work. [`Workers`] takes jobs from the outbox with a lease, runs them
//! through [`Connector`]s (provisioning) or a [`Mailer`], records the outcome, and lets time
//! pass for requests (escalation, automatic denial, scheduled starts). Several processes may
//! run workers against one PostgreSQL: leases keep them from running a job twice at once, and
//! every job is idempotent, so a crash at any point loses nothing.

pub mod connector;
pub mod directory_group;
pub mod mail;

use std::sync::Arc;
use std::time::Duration;

use chrono::Duration as Span;
use gatehouse_app::delivery::{Grant, Mail, MAIL, PROVISION};
use gatehouse_app::App;
use gatehouse_store::jobs::{self, Job};
use gatehouse_store::{assignments, directory};

pub use connector::{Connector, ConnectorError};
pub use directory_group::DirectoryGroupConnector;
pub use mail::{LogMailer, Mailer, Message, SmtpMailer, SmtpSettings, SmtpTls};

/// How long a worker may hold a job before another may take it over, by default.
pub const DEFAULT_LEASE_SECONDS: i64 = 60;
const BATCH: i64 = 32;

pub struct Workers {
    app: App,
    connectors: Vec<Arc<dyn Connector>>,
    mailer: Arc<dyn Mailer>,
    owner: String,
    lease: Span,
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

    /// One pass: the request sweep, then one batch of jobs. Returns how much was done.
    pub async fn run_once(&self) -> Result<usize, gatehouse_app::AppError> {
        let ticked = self.app.tick_requests().await?
            + self.app.expire_assignments().await?
            + self.app.remind_expiring().await?
            + self.app.delete_expired_guests().await?;
        let now = self.app.clock.now();
        let claimed = {
            let mut tx = self.app.store.begin().await?;
            let claimed = jobs::claim(&mut tx, self.app.store.backend(), &self.owner, now, self.lease, BATCH).await?;
            tx.commit().await?;
            claimed
        };
        let count = claimed.len();
        for job in claimed {
            self.run_job(job).await?;
        }
        Ok(ticked + count)
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

    async fn run_job(&self, job: Job) -> Result<(), gatehouse_app::AppError> {
        let outcome = match job.kind.as_str() {
            PROVISION => self.provision(&job).await,
            MAIL => self.mail(&job).await,
            other => Err(format!("unknown job kind '{other}'")),
        };
        self.app.finish_job(&job, &outcome).await
    }

    async fn provision(&self, job: &Job) -> Result<(), String> {
        let grant: Grant =
            serde_json::from_value(job.payload.clone()).map_err(|e| format!("bad provisioning job: {e}"))?;
        let connector = self
            .connectors
            .iter()
            .find(|c| c.origin_system() == grant.origin_system)
            .ok_or_else(|| format!("no connector for origin system '{}'", grant.origin_system))?;
        if grant.revoke {
            let mut conn = self.app.store.conn().await.map_err(|e| e.to_string())?;
            let kept = assignments::role_still_granted(
                &mut conn,
                grant.target_id,
                grant.assignment_id,
                &grant.origin_system,
                &grant.role_origin_id,
            )
            .await
            .map_err(|e| e.to_string())?;
            if kept {
                return Ok(());
            }
            connector.revoke(&grant).await.map_err(|e| e.0)
        } else {
            connector.grant(&grant).await.map_err(|e| e.0)
        }
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
