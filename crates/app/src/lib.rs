//! Application services: one function per use case. Each write runs in one transaction that
//! validates with the pure domain, writes through the store, and appends its audit records.
//! HTTP handlers, the CLI and (later) workers all call these; none of them talks SQL.

pub mod auth;
pub mod callouts;
pub mod catalogs;
pub mod client_token;
pub mod clients;
pub mod clock;
pub mod connected_organizations;
pub mod connections;
pub mod custom_extensions;
pub mod dashboard;
pub mod delivery;
pub mod directory;
pub mod guest_sign_in;
pub mod lifecycle;
pub mod my_access;
pub mod package_plan;
pub mod packages;
pub mod policies;
pub mod reconciliations;
pub mod reports;
pub mod request_views;
pub mod requests;
pub mod role_assignments;
pub mod secrets;
pub mod sessions;
pub mod settings;
pub mod sign_in;
pub mod sponsors;

mod audit;
mod authorization;

use std::sync::Arc;

use gatehouse_domain::principal::Principal;
use gatehouse_domain::ValidationError;
use gatehouse_store::{Store, StoreError};
use thiserror::Error;
use uuid::Uuid;

pub use clock::{Clock, ManualClock, SystemClock};
pub use gatehouse_store::query::ListQuery;

#[derive(Debug, Error)]
pub enum AppError {
    #[error("{0}")]
    Validation(#[from] ValidationError),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    BadQuery(String),
    #[error("{0}")]
    Store(StoreError),
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(m) => AppError::Conflict(m),
            StoreError::BadQuery(m) => AppError::BadQuery(m),
            other => AppError::Store(other),
        }
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        AppError::from(StoreError::from(e))
    }
}

pub type Result<T> = std::result::Result<T, AppError>;

pub(crate) fn not_found<T>(what: &str, id: impl std::fmt::Display) -> Result<T> {
    Err(AppError::NotFound(format!("{what} '{id}' was not found")))
}

/// Who is acting, for authorization and the audit log.
#[derive(Debug, Clone)]
pub struct Actor {
    pub principal: Option<Principal>,
    /// The API request id, stored on audit records to tie them to access logs.
    pub correlation_id: Option<String>,
}

impl Actor {
    pub fn system() -> Self {
        Actor { principal: None, correlation_id: None }
    }

    pub fn user(principal: Principal, correlation_id: Option<String>) -> Self {
        Actor { principal: Some(principal), correlation_id }
    }

    pub fn id(&self) -> Option<Uuid> {
        self.principal.as_ref().map(|p| p.user_id)
    }

    pub fn display_name(&self) -> String {
        self.principal.as_ref().map_or_else(|| "Gatehouse".to_owned(), |p| p.display_name.clone())
    }
}

/// A page of a list, ready for the OData envelope.
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_skip: Option<u64>,
    pub count: Option<i64>,
}

impl<T> Page<T> {
    pub(crate) fn from_rows(
        page: gatehouse_store::query::Page,
        f: impl Fn(&sqlx::any::AnyRow) -> gatehouse_store::Result<T>,
    ) -> Result<Page<T>> {
        Ok(Page {
            items: page.rows.iter().map(f).collect::<gatehouse_store::Result<_>>()?,
            next_skip: page.next_skip,
            count: page.count,
        })
    }
}

/// The services, shared by every caller.
#[derive(Clone)]
pub struct App {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    /// Wakes the in-process workers after a commit that queued work.
    pub work: Arc<tokio::sync::Notify>,
    /// When sign-in sessions time out.
    pub session_policy: gatehouse_domain::session::SessionPolicy,
    /// The key API clients' access tokens are signed with, loaded on first use.
    signing_key: Arc<tokio::sync::OnceCell<client_token::SigningKey>>,
    /// The externally visible base URL, for links in mail (`None`: links are paths).
    public_url: Option<Arc<str>>,
    /// Seals connections' credentials at rest; without it, none can be stored.
    sealer: Option<Arc<secrets::Sealer>>,
    /// For calls to target systems (checks, group searches).
    pub http: reqwest::Client,
}

impl App {
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> Self {
        App {
            store,
            clock,
            work: Arc::new(tokio::sync::Notify::new()),
            session_policy: Default::default(),
            signing_key: Arc::default(),
            public_url: None,
            sealer: None,
            http: gatehouse_connectors::http_client(),
        }
    }

    /// Credentials of connections are sealed with this key.
    pub fn with_sealer(mut self, sealer: secrets::Sealer) -> Self {
        self.sealer = Some(Arc::new(sealer));
        self
    }

    /// Links in mail point at this base URL (`https://gatehouse.example.com`).
    pub fn with_public_url(mut self, url: &str) -> Self {
        self.public_url = Some(Arc::from(url.trim_end_matches('/')));
        self
    }

    /// An absolute link to one of Gatehouse's pages, for mail.
    pub fn link(&self, path: &str) -> String {
        match &self.public_url {
            Some(base) => format!("{base}{path}"),
            None => path.to_owned(),
        }
    }

    pub fn with_session_policy(mut self, policy: gatehouse_domain::session::SessionPolicy) -> Self {
        self.session_policy = policy;
        self
    }

    pub(crate) fn wake_workers(&self) {
        self.work.notify_one();
    }

    pub(crate) fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }
}

pub(crate) fn new_id() -> Uuid {
    Uuid::new_v4()
}
