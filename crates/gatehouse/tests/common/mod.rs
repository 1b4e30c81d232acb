//! A real `gatehouse serve` process for the tests that kill it.

use std::process::{Child, Command};
use std::time::{Duration, Instant};

pub struct Serve {
    child: Child,
    pub base: String,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Start `gatehouse serve` on `database_url`, its secret key in `data_dir` (the same across
/// restarts), and wait until it is ready. What it logs is appended to `data_dir/serve.log`
/// (see [`log`]).
pub async fn start(database_url: &str, data_dir: &std::path::Path) -> Serve {
    let port = free_port();
    let log = std::fs::OpenOptions::new().create(true).append(true).open(data_dir.join("serve.log")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .arg("serve")
        .env("GATEHOUSE_DATABASE_URL", database_url)
        .env("GATEHOUSE_DATA_DIR", data_dir)
        .env("GATEHOUSE_LISTEN", format!("127.0.0.1:{port}"))
        .env("GATEHOUSE_LOG_LEVEL", "info")
        // A killed worker's jobs are taken over after this lease.
        .env("GATEHOUSE_JOB_LEASE_SECONDS", "2")
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("start gatehouse serve");
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if http.get(format!("{base}/readyz")).send().await.is_ok_and(|r| r.status().is_success()) {
            return Serve { child, base };
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("gatehouse serve did not become ready");
}

/// Everything the servers started in `data_dir` logged.
// Each test binary compiles this module; not every one reads the log.
#[allow(dead_code)]
pub fn log(data_dir: &std::path::Path) -> String {
    std::fs::read_to_string(data_dir.join("serve.log")).unwrap_or_default()
}

impl Serve {
    pub fn kill(mut self) {
        // std's kill is SIGKILL on Unix: no shutdown, no flushing, transactions cut mid-way.
        self.child.kill().expect("SIGKILL");
        let _ = self.child.wait();
    }
}

/// Submit a direct assignment of `user` through `serve`, starting the server again whenever a
/// kill cuts the call off (a 409 then means an earlier try got through before the crash).
pub async fn assign_surviving_kills(
    http: &reqwest::Client,
    serve: &mut Serve,
    s: &gatehouse_testkit::TestServer,
    data_dir: &std::path::Path,
    (package, policy): (&str, &str),
    user: &str,
) {
    let body = serde_json::json!({"requestType": "adminAdd",
        "assignment": {"accessPackageId": package, "assignmentPolicyId": policy, "targetId": user}});
    loop {
        let sent = http
            .post(format!("{}{}/assignmentRequests", serve.base, gatehouse_testkit::EM))
            .bearer_auth(&s.admin_token)
            .json(&body)
            .send()
            .await;
        match sent {
            Ok(r) if r.status().as_u16() == 201 || r.status().as_u16() == 409 => return,
            Ok(r) => panic!("unexpected {}: {}", r.status(), r.text().await.unwrap_or_default()),
            Err(_) => *serve = start(&s.database_url, data_dir).await,
        }
    }
}

/// One number from the database.
pub async fn count(s: &gatehouse_testkit::TestServer, sql: &str) -> i64 {
    let mut conn = s.app.store.conn().await.unwrap();
    let row = sqlx::query(sql).fetch_one(&mut *conn).await.unwrap();
    sqlx::Row::try_get::<i64, _>(&row, 0).unwrap()
}

/// Wait until every request is delivered and no provisioning job is pending, polling every
/// `poll`; fails with what is left once `within` has passed.
pub async fn wait_all_delivered(s: &gatehouse_testkit::TestServer, within: Duration, poll: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let open = count(s, "SELECT COUNT(*) FROM assignment_requests WHERE state <> 'delivered'").await;
        let pending = count(s, "SELECT COUNT(*) FROM jobs WHERE state = 'pending' AND kind = 'provision'").await;
        if open == 0 && pending == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "not everything was delivered: {open} requests open, {pending} jobs pending"
        );
        tokio::time::sleep(poll).await;
    }
}

/// The audit chain verifies end to end.
pub async fn assert_audit_intact(s: &gatehouse_testkit::TestServer) {
    let mut conn = s.app.store.conn().await.unwrap();
    let verdict = gatehouse_store::audit::verify(&mut conn).await.unwrap();
    assert!(matches!(verdict, gatehouse_store::audit::Verification::Intact { .. }), "{verdict:?}");
}
