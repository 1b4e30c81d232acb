//! Integration-test harness: [`spawn`] boots a real Gatehouse server in-process on an ephemeral
//! port, on a fresh SQLite file or a fresh PostgreSQL database, with a manual clock, and hands
//! back a client holding the bootstrap administrator's token. [`both_backends!`] turns one async
//! scenario into a `sqlite` and a `postgres` test.

use std::sync::Arc;

pub mod fixtures;
pub mod peers;
pub mod targets;
pub mod web;

use gatehouse_app::{App, ManualClock};
use gatehouse_server::ServerConfig;
use gatehouse_store::Store;
use reqwest::{Method, StatusCode};
use serde_json::Value;

pub use gatehouse_app;
pub use gatehouse_store;
pub use serde_json::json;

pub const EM: &str = "/v1.0/identityGovernance/entitlementManagement";

/// Percent-encode a query option value (everything but unreserved characters), as clients do.
pub fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Where the PostgreSQL test server is; the test command (scripts/test.sh) provides it.
pub fn postgres_admin_url() -> String {
    std::env::var("GATEHOUSE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://gatehouse:gatehouse@127.0.0.1:5432/postgres".into())
}

pub struct TestServer {
    pub base_url: String,
    /// The database the server runs on (for the CLI's direct commands).
    pub database_url: String,
    pub admin_token: String,
    pub app: App,
    pub clock: Arc<ManualClock>,
    pub http: reqwest::Client,
    pub backend: Backend,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    workers_stop: Option<tokio::sync::oneshot::Sender<()>>,
    _dir: Option<tempfile::TempDir>,
    pg_database: Option<String>,
}

/// A response: status and JSON body (`Value::Null` when empty or not JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Reply {
    /// Assert the status, showing the body when it differs.
    #[track_caller]
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(self.status.as_u16(), status, "unexpected status; body: {}", self.body);
        self.body
    }

    /// Assert a Graph error with this status whose message contains `needle`.
    #[track_caller]
    pub fn expect_error(self, status: u16, needle: &str) -> Value {
        let body = self.expect(status);
        let message = body["error"]["message"].as_str().unwrap_or_default().to_owned();
        assert!(body["error"]["code"].is_string(), "error body lacks a code: {body}");
        assert!(body["error"]["innerError"]["request-id"].is_string(), "error body lacks a request-id: {body}");
        assert!(message.contains(needle), "error message '{message}' does not contain '{needle}'");
        body
    }
}

async fn connect_postgres() -> (Store, String, String) {
    let admin_url = postgres_admin_url();
    let admin = Store::connect(&admin_url, 1).await.unwrap_or_else(|e| {
        panic!(
            "PostgreSQL is not reachable at {} ({e}). Run scripts/test.sh, which installs and starts it, \
             or set GATEHOUSE_TEST_POSTGRES_URL to a server where this role may CREATE DATABASE.",
            gatehouse_store::redact(&admin_url)
        )
    });
    let name = format!("gatehouse_test_{}", uuid::Uuid::new_v4().simple());
    let mut conn = admin.conn().await.expect("postgres connection");
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut *conn).await.expect("create test database");
    drop(conn);
    admin.close().await;
    let url = match admin_url.rfind('/') {
        Some(i) => format!("{}/{name}", &admin_url[..i]),
        None => panic!("GATEHOUSE_TEST_POSTGRES_URL must name a database"),
    };
    (Store::connect(&url, 5).await.expect("connect to test database"), name, url)
}

/// Boot a server on `backend`.
pub async fn spawn(backend: Backend) -> TestServer {
    spawn_with(backend, |_| async { (ServerConfig { max_body_bytes: 64 * 1024, ..ServerConfig::default() }, ()) })
        .await
        .0
}

/// Boot a server on `backend` whose configuration depends on its own address (an identity
/// provider must know the callback URL before the server knows the provider): `configure` gets
/// the base URL and returns the configuration and whatever must live as long as the test.
pub async fn spawn_with<T, F, Fut>(backend: Backend, configure: F) -> (TestServer, T)
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = (ServerConfig, T)>,
{
    let (store, dir, pg_database, database_url) = match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}", dir.path().join("gatehouse.db").display());
            (Store::connect(&url, 5).await.expect("sqlite"), Some(dir), None, url)
        }
        Backend::Postgres => {
            let (store, name, url) = connect_postgres().await;
            (store, None, Some(name), url)
        }
    };
    store.migrate().await.expect("migrations");
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base_url = format!("http://{}", listener.local_addr().expect("addr"));
    let sealer = gatehouse_app::secrets::Sealer::with_random_key();
    let app = App::new(store, clock.clone()).with_public_url(&base_url).with_sealer(sealer);
    let (_, admin_token) = app.bootstrap().await.expect("bootstrap").expect("fresh database");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let (config, kept) = configure(base_url.clone()).await;
    let server_app = app.clone();
    tokio::spawn(async move {
        gatehouse_server::serve(listener, server_app, config, async {
            let _ = rx.await;
        })
        .await
        .expect("server");
    });
    let server = TestServer {
        base_url,
        database_url,
        admin_token,
        app,
        clock,
        http: reqwest::Client::new(),
        backend,
        shutdown: Some(tx),
        workers_stop: None,
        _dir: dir,
        pg_database,
    };
    (server, kept)
}

impl TestServer {
    /// Send a request with an explicit token (or none) and a raw body.
    pub async fn raw(&self, method: Method, path: &str, token: Option<&str>, body: Option<(&str, Vec<u8>)>) -> Reply {
        let mut req = self.http.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some((content_type, bytes)) = body {
            req = req.header("content-type", content_type).body(bytes);
        }
        self.send(req).await
    }

    /// An absolute URL for `path` (returned as is when it already is one).
    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base_url)
        }
    }

    /// Send a request built by hand (custom headers, other schemes) and collect the reply.
    pub async fn send(&self, req: reqwest::RequestBuilder) -> Reply {
        let resp = req.send().await.expect("request reaches the test server");
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.expect("body");
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply { status, body, headers }
    }

    pub async fn call(&self, method: Method, path: &str, token: &str, body: Option<Value>) -> Reply {
        let body = body.map(|b| ("application/json", serde_json::to_vec(&b).expect("json")));
        self.raw(method, path, Some(token), body).await
    }

    /// As the bootstrap administrator.
    pub async fn get(&self, path: &str) -> Reply {
        self.call(Method::GET, path, &self.admin_token, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.call(Method::POST, path, &self.admin_token, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Reply {
        self.call(Method::PATCH, path, &self.admin_token, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Reply {
        self.call(Method::PUT, path, &self.admin_token, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.call(Method::DELETE, path, &self.admin_token, None).await
    }

    /// Run the job queue and the request sweep until nothing is left to do (provisioning
    /// through the real connectors; mail goes to the log until SMTP is configured).
    pub async fn run_workers(&self) {
        gatehouse_workers::Workers::new(self.app.clone(), Arc::new(gatehouse_workers::LogMailer))
            .run_until_idle()
            .await
            .expect("workers finish");
    }

    /// Run the workers in the background, as `gatehouse serve` does, until the server is
    /// dropped (for browser tests, which wait on delivery like a person would).
    pub fn start_workers(&mut self, mailer: Arc<dyn gatehouse_workers::Mailer>) {
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let workers = gatehouse_workers::Workers::new(self.app.clone(), mailer);
        tokio::spawn(workers.run(std::time::Duration::from_millis(200), async {
            let _ = rx.await;
        }));
        self.workers_stop = Some(tx);
    }

    /// Run the workers with a given mailer (e.g. SMTP to a test server).
    pub async fn run_workers_with(&self, mailer: Arc<dyn gatehouse_workers::Mailer>) {
        gatehouse_workers::Workers::new(self.app.clone(), mailer).run_until_idle().await.expect("workers finish");
    }

    /// Number of audit records: a refused request must leave it unchanged.
    pub async fn audit_count(&self) -> i64 {
        let mut conn = self.app.store.conn().await.expect("conn");
        gatehouse_store::audit::count(&mut conn).await.expect("count")
    }

    /// A personal token for a directory user.
    pub async fn token_for(&self, user: uuid::Uuid, scope: gatehouse_domain::principal::TokenScope) -> String {
        let actor = gatehouse_app::Actor::system();
        self.app.create_token(&actor, user, vec![scope], None).await.expect("token").0
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.workers_stop.take() {
            let _ = tx.send(());
        }
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(name) = self.pg_database.take() {
            // Drop runs outside async: clean the database up on a thread of its own.
            let store = self.app.store.clone();
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
                rt.block_on(async move {
                    store.close().await;
                    if let Ok(admin) = Store::connect(&postgres_admin_url(), 1).await {
                        if let Ok(mut c) = admin.conn().await {
                            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                                .execute(&mut *c)
                                .await;
                        }
                        admin.close().await;
                    }
                });
            })
            .join();
        }
    }
}

/// `both_backends!(scenario_a, scenario_b)` where each is `async fn(TestServer)`: generates
/// `scenario_a::sqlite` and `scenario_a::postgres` tests.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::spawn($crate::Backend::Sqlite).await).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::spawn($crate::Backend::Postgres).await).await
            }
        }
    )*};
}

/// Like [`both_backends!`], for tests that start their own server (e.g. with [`spawn_with`]):
/// each named `async fn(Backend)` runs once per backend.
#[macro_export]
macro_rules! each_backend {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::Backend::Postgres).await
            }
        }
    )*};
}
