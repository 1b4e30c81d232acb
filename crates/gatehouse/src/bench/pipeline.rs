//! Scenarios (a) and (b): requests submitted over HTTP to a server running in-process with its
//! workers, timed from the first submit until every accepted request is `delivered`.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gatehouse_app::App;
use gatehouse_server::ServerConfig;
use gatehouse_store::Store;
use gatehouse_workers::{LogMailer, Workers};
use serde_json::{json, Value};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use uuid::Uuid;

use super::fixture::Fixture;
use super::{count, secs, Params};

const EM: &str = "/v1.0/identityGovernance/entitlementManagement";
/// A scenario that makes no progress for this long is reported as stalled.
const STALL: Duration = Duration::from_secs(120);

/// The HTTP server and the workers, as `gatehouse serve` runs them, in this process.
pub struct Server {
    pub base: String,
    http: reqwest::Client,
    stop: watch::Sender<bool>,
    server: JoinHandle<std::io::Result<()>>,
    worker: JoinHandle<()>,
}

impl Server {
    pub async fn start(app: &App) -> anyhow::Result<Server> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let (stop, stopped) = watch::channel(false);
        let mut server_stop = stopped.clone();
        let config =
            ServerConfig { max_body_bytes: crate::config::Config::default().max_body_bytes, ..ServerConfig::default() };
        let server = tokio::spawn(gatehouse_server::serve(listener, app.clone(), config, async move {
            let _ = server_stop.wait_for(|s| *s).await;
        }));
        let mut worker_stop = stopped;
        let workers = Workers::new(app.clone(), Arc::new(LogMailer));
        let worker = tokio::spawn(workers.run(Duration::from_millis(50), async move {
            let _ = worker_stop.wait_for(|s| *s).await;
        }));
        Ok(Server { base, http: reqwest::Client::new(), stop, server, worker })
    }

    pub async fn stop(self) {
        drop(self.http);
        let _ = self.stop.send(true);
        let mut server = self.server;
        if tokio::time::timeout(Duration::from_secs(10), &mut server).await.is_err() {
            server.abort();
        }
        let mut worker = self.worker;
        if tokio::time::timeout(Duration::from_secs(60), &mut worker).await.is_err() {
            worker.abort();
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{EM}{path}", self.base)
    }
}

/// What one scenario measured.
pub struct Measured {
    /// Requests accepted (201) and delivered.
    pub accepted: usize,
    /// First submit → all delivered.
    pub total: Duration,
    /// Audit records written for the scenario's requests (for the baseline).
    pub audit_rows: i64,
    pub phases: String,
    pub failures: Vec<String>,
}

async fn send(req: reqwest::RequestBuilder) -> Result<(u16, Value), String> {
    let resp = req.send().await.map_err(|e| format!("HTTP error: {e}"))?;
    let status = resp.status().as_u16();
    let bytes = resp.bytes().await.map_err(|e| format!("HTTP body: {e}"))?;
    Ok((status, serde_json::from_slice(&bytes).unwrap_or(Value::Null)))
}

/// Errors seen by concurrent clients: the first few verbatim, and how many.
#[derive(Default)]
pub(super) struct Errors {
    count: usize,
    first: Vec<String>,
}

impl Errors {
    fn push(&mut self, e: String) {
        self.count += 1;
        if self.first.len() < 3 {
            self.first.push(e);
        }
    }

    pub(super) fn report(&self, what: &str, out: &mut Vec<String>) {
        if self.count > 0 {
            out.push(format!("{} {what} failed, e.g. {}", self.count, self.first.join(" | ")));
        }
    }
}

/// Run `job(i)` for i in 0..n on `c` concurrent tasks; count successes in `ok`.
pub(super) async fn fan_out<F, Fut>(n: usize, c: usize, ok: Arc<AtomicUsize>, job: F) -> Errors
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(), String>> + Send,
{
    let job = Arc::new(job);
    let next = Arc::new(AtomicUsize::new(0));
    let errors = Arc::new(Mutex::new(Errors::default()));
    let mut tasks = Vec::with_capacity(c);
    for _ in 0..c.min(n) {
        let (job, next, errors, ok) = (job.clone(), next.clone(), errors.clone(), ok.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return;
                }
                match job(i).await {
                    Ok(()) => {
                        ok.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => errors.lock().expect("errors").push(e),
                }
            }
        }));
    }
    for t in tasks {
        if let Err(e) = t.await {
            errors.lock().expect("errors").push(format!("client task panicked: {e}"));
        }
    }
    let mut errors = errors.lock().expect("errors");
    std::mem::take(&mut *errors)
}

/// Submit a `userAdd` for `package` as each user; returns the request ids (None when refused).
async fn submit(
    server: &Server,
    fx: &Fixture,
    package: Uuid,
    p: Params,
    ok: Arc<AtomicUsize>,
) -> (Vec<Option<Uuid>>, Errors) {
    let tokens: Arc<Vec<String>> = Arc::new(fx.users.iter().map(|u| u.token.clone()).collect());
    let ids = Arc::new(Mutex::new(vec![None; p.requests]));
    let (http, url, out) = (server.http.clone(), server.url("/assignmentRequests"), ids.clone());
    let body = json!({"requestType": "userAdd", "assignment": {"accessPackageId": package}});
    let errors = fan_out(p.requests, p.concurrency, ok, move |i| {
        let req = http.post(&url).bearer_auth(&tokens[i]).json(&body);
        let out = out.clone();
        async move {
            match send(req).await? {
                (201, v) => {
                    let id = v["id"].as_str().and_then(|s| s.parse().ok()).ok_or("201 without an id")?;
                    out.lock().expect("ids")[i] = Some(id);
                    Ok(())
                }
                (status, v) => Err(format!("submit: {status} {v}")),
            }
        }
    })
    .await;
    let ids = std::mem::take(&mut *ids.lock().expect("ids"));
    (ids, errors)
}

/// Poll every 20 ms until `target` requests of `package` are delivered, once `done` is set.
async fn wait_delivered(
    store: &Store,
    package: Uuid,
    target: &AtomicUsize,
    done: &AtomicBool,
    started: Instant,
) -> Result<Duration, String> {
    let package = package.to_string();
    let (mut last, mut last_change) = (-1i64, Instant::now());
    loop {
        let delivered = count(
            store,
            "SELECT COUNT(*) FROM assignment_requests WHERE state = 'delivered' AND access_package_id = $1",
            &[&package],
        )
        .await
        .map_err(|e| e.to_string())?;
        if done.load(Ordering::Acquire) && delivered >= target.load(Ordering::Acquire) as i64 {
            return Ok(started.elapsed());
        }
        if delivered != last {
            (last, last_change) = (delivered, Instant::now());
        } else if last_change.elapsed() > STALL {
            return Err(format!(
                "stalled: {delivered} delivered of {} accepted; requests by state: {}",
                target.load(Ordering::Acquire),
                states(store, &package).await
            ));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn states(store: &Store, package: &str) -> String {
    let Ok(mut conn) = store.conn().await else { return "?".into() };
    let rows = sqlx::query(
        "SELECT state, COUNT(*) AS n FROM assignment_requests WHERE access_package_id = $1 GROUP BY state ORDER BY state",
    )
    .bind(package.to_owned())
    .fetch_all(&mut *conn)
    .await
    .unwrap_or_default();
    rows.iter()
        .map(|r| {
            let state: String = sqlx::Row::try_get(r, "state").unwrap_or_default();
            let n: i64 = sqlx::Row::try_get(r, "n").unwrap_or_default();
            format!("{state}={n}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Let the workers finish what follows delivery (mail), so the next scenario starts clean.
async fn wait_idle(store: &Store, failures: &mut Vec<String>) -> anyhow::Result<()> {
    let deadline = Instant::now() + STALL;
    while count(store, "SELECT COUNT(*) FROM jobs WHERE state = 'pending'", &[]).await? > 0 {
        if Instant::now() > deadline {
            failures.push("jobs still pending long after delivery".into());
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let failed = count(store, "SELECT COUNT(*) FROM jobs WHERE state = 'failed'", &[]).await?;
    if failed > 0 {
        failures.push(format!("{failed} jobs failed"));
    }
    Ok(())
}

async fn totals(store: &Store) -> anyhow::Result<(i64, i64)> {
    Ok((
        count(store, "SELECT COUNT(*) FROM audit_log", &[]).await?,
        count(store, "SELECT COUNT(*) FROM jobs", &[]).await?,
    ))
}

async fn check_members(store: &Store, group: Uuid, expected: usize, failures: &mut Vec<String>) -> anyhow::Result<()> {
    let members = count(store, "SELECT COUNT(*) FROM group_members WHERE group_id = $1", &[&group.to_string()]).await?;
    if members != expected as i64 {
        failures.push(format!("the group has {members} members, expected {expected}"));
    }
    Ok(())
}

fn per_request(rows: i64, n: usize) -> f64 {
    rows as f64 / n.max(1) as f64
}

/// (a) No approval: submit → delivered.
pub async fn auto_approve(server: &Server, app: &App, fx: &Fixture, p: Params) -> anyhow::Result<Measured> {
    let store = &app.store;
    let (audit0, jobs0) = totals(store).await?;
    let accepted = Arc::new(AtomicUsize::new(0));
    let done = AtomicBool::new(false);
    let started = Instant::now();
    let submitting = async {
        let r = submit(server, fx, fx.auto_package, p, accepted.clone()).await;
        done.store(true, Ordering::Release);
        (r, started.elapsed())
    };
    let (((_, errors), submitted), delivered) =
        tokio::join!(submitting, wait_delivered(store, fx.auto_package, &accepted, &done, started));
    finish(
        store,
        accepted.load(Ordering::Acquire),
        audit0,
        jobs0,
        fx.auto_group,
        p,
        |failures| {
            errors.report("submits", failures);
            format!("all submitted (201) after {:.2} s", secs(submitted))
        },
        delivered,
    )
    .await
}

/// (b) One approval stage decided by a single user: submit all, then approve all.
pub async fn one_stage(server: &Server, app: &App, fx: &Fixture, p: Params) -> anyhow::Result<Measured> {
    let store = &app.store;
    let (audit0, jobs0) = totals(store).await?;
    let started = Instant::now();
    let (ids, submit_errors) = submit(server, fx, fx.approval_package, p, Arc::new(AtomicUsize::new(0))).await;
    let submitted = started.elapsed();
    let ids: Arc<Vec<Uuid>> = Arc::new(ids.into_iter().flatten().collect());
    let approved = Arc::new(AtomicUsize::new(0));
    let done = AtomicBool::new(false);
    let (http, token) = (server.http.clone(), fx.approver.token.clone());
    let base = server.url("/accessPackageAssignmentApprovals");
    let approving = async {
        let list = ids.clone();
        let errors = fan_out(list.len(), p.concurrency, approved.clone(), move |i| {
            let (http, token, approval) = (http.clone(), token.clone(), format!("{base}/{}", list[i]));
            async move {
                let (status, v) = send(http.get(&approval).bearer_auth(&token)).await?;
                let stage = v["stages"][0]["id"].as_str().ok_or_else(|| format!("approval: {status} {v}"))?;
                let patch = http
                    .patch(format!("{approval}/stages/{stage}"))
                    .bearer_auth(&token)
                    .json(&json!({"reviewResult": "Approve"}));
                match send(patch).await? {
                    (204, _) => Ok(()),
                    (status, v) => Err(format!("approve: {status} {v}")),
                }
            }
        })
        .await;
        done.store(true, Ordering::Release);
        (errors, started.elapsed())
    };
    let ((approve_errors, approved_at), delivered) =
        tokio::join!(approving, wait_delivered(store, fx.approval_package, &approved, &done, started));
    finish(
        store,
        approved.load(Ordering::Acquire),
        audit0,
        jobs0,
        fx.approval_group,
        p,
        |failures| {
            submit_errors.report("submits", failures);
            approve_errors.report("approvals", failures);
            format!(
                "all submitted after {:.2} s, all approved (GET approval + PATCH stage) after {:.2} s",
                secs(submitted),
                secs(approved_at)
            )
        },
        delivered,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn finish(
    store: &Store,
    accepted: usize,
    audit0: i64,
    jobs0: i64,
    group: Uuid,
    p: Params,
    describe: impl FnOnce(&mut Vec<String>) -> String,
    delivered: Result<Duration, String>,
) -> anyhow::Result<Measured> {
    let mut failures = Vec::new();
    let first = describe(&mut failures);
    if accepted < p.requests {
        failures.push(format!("only {accepted} of {} requests went through", p.requests));
    }
    let total = match delivered {
        Ok(t) => t,
        Err(e) => {
            failures.push(e);
            Duration::ZERO
        }
    };
    wait_idle(store, &mut failures).await?;
    check_members(store, group, accepted, &mut failures).await?;
    let (audit1, jobs1) = totals(store).await?;
    let audit_rows = audit1 - audit0;
    let phases = format!(
        "{first}, all delivered after {:.2} s; per request {:.2} audit rows and {:.2} jobs rows",
        secs(total),
        per_request(audit_rows, accepted),
        per_request(jobs1 - jobs0, accepted)
    );
    Ok(Measured { accepted, total, audit_rows, phases, failures })
}
