//! Gatehouse persistence: one set of portable SQL over `sqlx::Any`, run on SQLite (the embedded
//! default) or PostgreSQL. One module per aggregate, each a set of functions over a connection
//! or transaction; [`query`] compiles OData `$filter`/`$orderby` to SQL with bound parameters.
//!
//! Portability rules, because `Any` only carries a few types: ids are TEXT, booleans BIGINT 0/1,
//! times fixed-width UTC TEXT, nested Graph shapes JSON TEXT. Never SELECT a boolean expression.

pub mod access_packages;
pub mod assignments;
pub mod audit;
pub mod catalog_roles;
pub mod catalogs;
pub mod clients;
pub mod connected_organizations;
pub mod connections;
pub mod custom_extensions;
pub mod dashboard;
pub mod directory;
pub mod jobs;
pub mod passcodes;
pub mod policies;
pub mod query;
pub mod reconciliations;
pub mod requestable;
pub mod requests;
pub mod rows;
pub mod sessions;
pub mod settings;
pub mod tokens;
mod write_tx;

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyConnection, AnyPool, Connection, Executor};
use thiserror::Error;

pub use sqlx::AnyConnection as Conn;
pub use write_tx::WriteTx;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A unique or foreign-key constraint refused the write.
    #[error("{0}")]
    Conflict(String),
    /// A query option names something this entity set cannot filter or sort on.
    #[error("{0}")]
    BadQuery(String),
    /// A stored value could not be read back; a bug or a hand-edited database.
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    #[error("unsupported database URL '{0}': use sqlite://PATH or postgres://...")]
    UnsupportedUrl(String),
}

pub type Result<T> = std::result::Result<T, StoreError>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The database handle shared by the server and the workers.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    gate: write_tx::Gate,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Store {
    /// Connect to `sqlite://path` (created if missing, WAL mode) or `postgres://...`.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl(redact(url)));
        };
        let url = match backend {
            Backend::Sqlite if !url.contains("mode=") && !url.contains(":memory:") => {
                let sep = if url.contains('?') { '&' } else { '?' };
                format!("{url}{sep}mode=rwc")
            }
            _ => url.to_owned(),
        };
        let options = AnyConnectOptions::from_str(&url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // busy_timeout lets concurrent writers queue instead of failing.
                        conn.execute(
                            "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        if backend == Backend::Sqlite {
            pool.execute("PRAGMA journal_mode = WAL;").await?;
        }
        let gate = if backend == Backend::Sqlite { write_tx::Gate::sqlite() } else { write_tx::Gate::default() };
        Ok(Store { pool, backend, gate })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub async fn migrate(&self) -> Result<()> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&self.pool).await?;
        Ok(())
    }

    /// A write transaction: every decision and its audit records are written in one. Never
    /// begin a second one while holding one: on SQLite the second waits for the first forever.
    pub async fn begin(&self) -> Result<WriteTx> {
        // The gate comes before the pool, so writers waiting their turn hold no connection
        // that readers need.
        let gate = self.gate.enter().await;
        let tx = match self.backend {
            // Take SQLite's write lock up front (another process may hold it; the busy timeout
            // covers that) so a read-then-write transaction never fails on upgrade.
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        Ok(WriteTx::new(tx, gate))
    }

    /// A pooled connection for reads.
    pub async fn conn(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Any>> {
        Ok(self.pool.acquire().await?)
    }

    /// Readiness probe.
    pub async fn ping(&self) -> Result<()> {
        let mut c = self.pool.acquire().await?;
        c.ping().await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Hide the password in a database URL before it reaches a log or an error.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

/// Map constraint violations to [`StoreError::Conflict`] with a readable message.
pub(crate) fn conflict_on_unique(e: sqlx::Error, message: impl FnOnce() -> String) -> StoreError {
    if let sqlx::Error::Database(db) = &e {
        if db.is_unique_violation() {
            return StoreError::Conflict(message());
        }
    }
    StoreError::Database(e)
}

pub(crate) type Tx = AnyConnection;
