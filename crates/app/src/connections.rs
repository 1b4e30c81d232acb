//! Connections to target systems: registering, changing and removing them (administrators),
//! checking them, searching their groups (whoever may add resources to a catalog), and what
//! deliveries tell about their health. Credentials are sealed before they reach the store and
//! opened only for the workers and checks.

use chrono::{DateTime, Utc};
use gatehouse_connectors::{Target, TargetError, TargetGroup};
use gatehouse_domain::authorization::{Action, Scope};
use gatehouse_domain::connection::{
    health::Change, Connection, ConnectionPatch, ConnectionStatus, NewConnection, Secrets,
};
use gatehouse_store::connections::{self, Stored};
use gatehouse_store::query::Where;
use gatehouse_store::WriteTx;
use uuid::Uuid;

use crate::audit::{created, deleted, updated, Change as AuditChange};
use crate::delivery::Seen;
use crate::secrets::SecretsError;
use crate::{not_found, Actor, App, AppError, ListQuery, Page, Result};

/// A connection with what is waiting on it.
#[derive(Debug, Clone)]
pub struct ConnectionDetails {
    pub connection: Connection,
    /// Provisioning jobs not yet done, and since when the oldest waits.
    pub waiting_jobs: i64,
    pub oldest_waiting: Option<DateTime<Utc>>,
    /// The resources that live in it, in the catalogs the viewer may read.
    pub resources: Vec<connections::ResourceIn>,
}

impl From<SecretsError> for AppError {
    fn from(e: SecretsError) -> Self {
        AppError::Conflict(e.to_string())
    }
}

impl App {
    fn sealed(&self, c: &Connection) -> Result<Option<String>> {
        if c.secrets == Secrets::default() {
            return Ok(None);
        }
        let plain = serde_json::to_vec(&c.secrets).expect("secrets serialize");
        Ok(Some(self.seal(&plain, c.id)?))
    }

    /// The stored connection with its credentials opened.
    fn opened(&self, stored: Stored) -> Result<Connection> {
        let mut c = stored.connection;
        if let Some(sealed) = stored.sealed_secrets {
            let plain = self.open_sealed(&sealed, c.id)?;
            c.secrets = serde_json::from_slice(&plain).map_err(|_| SecretsError::Open)?;
        }
        Ok(c)
    }

    /// Only administrators configure connections; anyone who may add resources to some catalog
    /// (its owners, and catalog creators, who own what they create) may see them to pick a
    /// target's groups, never their credentials.
    fn may_read_connections(&self, actor: &Actor) -> Result<()> {
        if actor.check_at(Action::ReadTenant, Scope::Tenant).is_ok()
            || actor.check_at(Action::CreateCatalog, Scope::Tenant).is_ok()
        {
            return Ok(());
        }
        match actor.reach(Action::ManageCatalog) {
            gatehouse_domain::authorization::Reach::Catalogs(c) if c.is_empty() => {
                Err(AppError::Forbidden("connections are for administrators and the owners of catalogs".into()))
            }
            _ => Ok(()),
        }
    }

    /// Register a connection. Its target is checked at once; a target that cannot be reached
    /// is stored anyway (it may come up later) with the reason on the connection. Returns the
    /// connection and, for a webhook target whose secret Gatehouse generated, that secret (the
    /// only time anyone sees it).
    pub async fn create_connection(&self, actor: &Actor, input: NewConnection) -> Result<(Connection, Option<String>)> {
        actor.check_at(Action::ManageTenant, Scope::Tenant)?;
        let mut generated = None;
        let mut c = Connection::create(input, crate::new_id(), self.now(), || {
            let s = gatehouse_connectors::webhook::generate_secret();
            generated = Some(s.clone());
            s
        })?;
        let sealed = self.sealed(&c)?;
        self.check_into(&mut c).await;
        let mut tx = self.store.begin().await?;
        connections::insert(&mut tx, &c, sealed.as_deref()).await?;
        connections::set_health(&mut tx, c.id, &c.health).await?;
        self.audit(&mut tx, actor, created("connection.create", "connection", c.id, &c)).await?;
        tx.commit().await?;
        Ok((c, generated))
    }

    pub async fn update_connection(&self, actor: &Actor, id: Uuid, patch: ConnectionPatch) -> Result<Connection> {
        actor.check_at(Action::ManageTenant, Scope::Tenant)?;
        let before = self.connection(id).await?;
        let mut after = before.clone();
        after.apply(patch, self.now())?;
        if after.health.status == ConnectionStatus::Untested {
            self.check_into(&mut after).await;
        }
        let sealed = self.sealed(&after)?;
        let mut tx = self.store.begin().await?;
        if connections::get(&mut tx, id).await?.is_none() {
            return not_found("connection", id);
        }
        connections::update(&mut tx, &after, sealed.as_deref()).await?;
        connections::set_health(&mut tx, id, &after.health).await?;
        if after.health.status != ConnectionStatus::Degraded {
            connections::release_jobs(&mut tx, id, self.now()).await?;
        }
        self.audit(&mut tx, actor, updated("connection.update", "connection", id, &before, &after)).await?;
        tx.commit().await?;
        // A fixed credential or address lets waiting jobs try at once.
        self.wake_workers();
        Ok(after)
    }

    /// Remove a connection no resource lives in any more.
    pub async fn delete_connection(&self, actor: &Actor, id: Uuid) -> Result<()> {
        actor.check_at(Action::ManageTenant, Scope::Tenant)?;
        let mut tx = self.store.begin().await?;
        let Some(stored) = connections::get(&mut tx, id).await? else { return not_found("connection", id) };
        let resources = connections::resources_in(&mut tx, id).await?;
        if !resources.is_empty() {
            let names: Vec<String> =
                resources.iter().map(|r| format!("{} (catalog {})", r.resource, r.catalog)).collect();
            return Err(AppError::Conflict(format!(
                "connection '{}' still has resources in catalogs: {}; remove them first",
                stored.connection.display_name,
                names.join(", ")
            )));
        }
        connections::delete(&mut tx, id).await?;
        self.audit(&mut tx, actor, deleted("connection.delete", "connection", id, &stored.connection)).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn get_connection(&self, actor: &Actor, id: Uuid) -> Result<ConnectionDetails> {
        self.may_read_connections(actor)?;
        let mut conn = self.store.conn().await?;
        let Some(stored) = connections::get(&mut conn, id).await? else { return not_found("connection", id) };
        let (waiting_jobs, oldest_waiting) = connections::waiting_jobs(&mut conn, id).await?;
        let reach = actor.reach(Action::ReadCatalog);
        let mut resources = connections::resources_in(&mut conn, id).await?;
        resources.retain(|r| reach.includes(r.catalog_id));
        Ok(ConnectionDetails { connection: self.shown(stored), waiting_jobs, oldest_waiting, resources })
    }

    pub async fn list_connections(&self, actor: &Actor, q: ListQuery<'_>) -> Result<Page<Connection>> {
        self.may_read_connections(actor)?;
        let mut conn = self.store.conn().await?;
        let page = gatehouse_store::query::list(&mut conn, &connections::CONNECTIONS, Where::new(), q).await?;
        let page = Page::from_rows(page, connections::from_row)?;
        Ok(Page {
            items: page.items.into_iter().map(|s| self.shown(s)).collect(),
            next_skip: page.next_skip,
            count: page.count,
        })
    }

    /// How many jobs wait on each connection that has any.
    pub async fn waiting_jobs_by_connection(&self, actor: &Actor) -> Result<std::collections::HashMap<Uuid, i64>> {
        self.may_read_connections(actor)?;
        let mut conn = self.store.conn().await?;
        Ok(connections::waiting_counts(&mut conn).await?)
    }

    /// A connection to show: its credentials opened only to say which are set (its
    /// serialization never carries them). One that will not open shows none, and says why in
    /// the log.
    fn shown(&self, stored: Stored) -> Connection {
        let fallback = stored.connection.clone();
        self.opened(stored).unwrap_or_else(|e| {
            tracing::warn!(connection = %fallback.id, error = %e, "a connection's credentials cannot be opened");
            fallback
        })
    }

    /// Check the connection now and record what was found.
    pub async fn test_connection(&self, actor: &Actor, id: Uuid) -> Result<Connection> {
        actor.check_at(Action::ManageTenant, Scope::Tenant)?;
        let mut c = self.connection(id).await?;
        let before = c.clone();
        self.check_into(&mut c).await;
        let mut tx = self.store.begin().await?;
        connections::set_health(&mut tx, id, &c.health).await?;
        if c.health.status == ConnectionStatus::Healthy {
            // It answers: what waits on it runs now.
            connections::release_jobs(&mut tx, id, self.now()).await?;
        }
        if before.health.status != c.health.status {
            self.audit(&mut tx, actor, updated("connection.check", "connection", id, &before, &c)).await?;
        }
        tx.commit().await?;
        self.wake_workers();
        Ok(c)
    }

    /// The target's groups whose name contains `text`, for adding them to a catalog.
    pub async fn search_connection_groups(&self, actor: &Actor, id: Uuid, text: &str) -> Result<Vec<TargetGroup>> {
        self.may_read_connections(actor)?;
        let c = self.connection(id).await?;
        let target = Target::new(self.http.clone(), &c).map_err(refused)?;
        target.search_groups(text, 50).await.map_err(refused)
    }

    /// A connection with its credentials, for the workers and reconciliation.
    pub async fn connection(&self, id: Uuid) -> Result<Connection> {
        let mut conn = self.store.conn().await?;
        match connections::get(&mut conn, id).await? {
            Some(stored) => self.opened(stored),
            None => not_found("connection", id),
        }
    }

    pub async fn all_connections(&self) -> Result<Vec<Connection>> {
        let mut conn = self.store.conn().await?;
        connections::all(&mut conn).await?.into_iter().map(|s| self.opened(s)).collect()
    }

    /// Ask the target whether it answers, and note the outcome on the connection.
    async fn check_into(&self, c: &mut Connection) {
        let now = self.now();
        let outcome = match Target::new(self.http.clone(), c) {
            Ok(t) => t.check().await,
            Err(e) => Err(e),
        };
        match outcome {
            Ok(_) => {
                c.health.record(1, 0, None, now, rand::random());
            }
            Err(e) => {
                c.health.status = ConnectionStatus::Degraded;
                c.health.status_date_time = Some(now);
                c.health.last_error = Some(e.message);
            }
        }
    }

    /// Fold what a batch of jobs saw of a connection into its health, inside the batch's
    /// transaction. Degrading and recovering are audited; recovery lets the waiting jobs run.
    pub(crate) async fn observe_connection(
        &self,
        tx: &mut WriteTx,
        id: Uuid,
        seen: &Seen,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let postgres = self.store.backend() == gatehouse_store::Backend::Postgres;
        let Some(stored) = connections::get_for_update(tx, id, postgres).await? else { return Ok(()) };
        let before = stored.connection;
        let mut health = before.health.clone();
        let change = health.record(seen.answered, seen.failed, seen.error.as_deref(), now, rand::random());
        if health == before.health {
            return Ok(());
        }
        connections::set_health(tx, id, &health).await?;
        let activity = match change {
            Change::None => return Ok(()),
            Change::Degraded => "connection.degraded",
            Change::Recovered => {
                connections::release_jobs(tx, id, now).await?;
                self.wake_workers();
                "connection.recovered"
            }
        };
        let mut after = before.clone();
        after.health = health;
        let record = AuditChange {
            activity,
            target_type: "connection",
            target_id: id.to_string(),
            before: Some(&before),
            after: Some(&after),
        };
        self.audit(tx, &Actor::system(), record).await
    }
}

/// A target's refusal, as the caller's problem to fix (409 with the target's words).
pub(crate) fn refused(e: TargetError) -> AppError {
    AppError::Conflict(e.message)
}
