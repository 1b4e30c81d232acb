//! A target outage and server crashes together: the SCIM application is stopped while 1,000
//! assignments are approved through a real `gatehouse serve`, which is killed (SIGKILL) twice
//! during the outage; the application comes back 60 seconds later. Every grant lands exactly
//! once, nothing fails, and the audit chain verifies. On SQLite and PostgreSQL.

mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use common::{count, start};
use gatehouse_testkit::targets::{scim_package, ScimPeer};
use gatehouse_testkit::{spawn, Backend};

const USERS: usize = 1000;

async fn run(backend: Backend) {
    let s = spawn(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let mut scim = ScimPeer::start();
    let mut serve = start(&s.database_url, dir.path()).await;
    // Registered through the server that will deliver, so its key seals the token.
    let p = scim_package(&serve.base, &s.admin_token, &scim).await;
    let mut users = Vec::with_capacity(USERS);
    for i in 0..USERS {
        users.push(s.member(&format!("Crash {i}"), &format!("crash{i}@contoso.example")).await);
    }

    scim.down();
    let down_at = Instant::now();
    let http = reqwest::Client::new();
    let mut kills = 0;
    for (i, user) in users.iter().enumerate() {
        common::assign_surviving_kills(&http, &mut serve, &s, dir.path(), (&p.package, &p.policy), user).await;
        if i == 300 || i == 700 {
            serve.kill();
            kills += 1;
            serve = start(&s.database_url, dir.path()).await;
        }
    }
    let path = format!("{}/v1.0/gatehouse/connections/{}", serve.base, p.connection);
    let mut saw_degraded = false;
    while down_at.elapsed() < Duration::from_secs(60) {
        let c: serde_json::Value =
            http.get(&path).bearer_auth(&s.admin_token).send().await.unwrap().json().await.unwrap();
        saw_degraded |= c["status"] == "degraded";
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(saw_degraded, "the connection showed degraded during the outage");
    assert_eq!(count(&s, "SELECT COUNT(*) FROM jobs WHERE state = 'failed'").await, 0, "an outage fails nothing");

    scim.up();
    common::wait_all_delivered(&s, Duration::from_secs(600), Duration::from_millis(500)).await;
    serve.kill();
    assert_eq!(kills, 2);

    let n = USERS as i64;
    assert_eq!(count(&s, "SELECT COUNT(*) FROM assignment_requests").await, n, "one request per user");
    assert_eq!(count(&s, "SELECT COUNT(*) FROM assignments WHERE state = 'delivered'").await, n);
    assert_eq!(
        count(&s, "SELECT COUNT(*) FROM audit_log WHERE activity = 'connection.grant'").await,
        n,
        "each grant once"
    );
    let members = scim.members(&p.group).await;
    assert_eq!(members.len(), USERS, "one membership per grant");
    assert_eq!(members.iter().collect::<HashSet<_>>().len(), USERS, "no membership twice");
    assert_eq!(scim.user_count().await, USERS as u64, "one account per person");
    common::assert_audit_intact(&s).await;

    // The token is sealed at rest and never logged, not even by the failures the outage caused.
    let log = common::log(dir.path());
    assert!(log.contains("job failed"), "the outage's failures are logged:\n{log}");
    assert!(!log.contains(&scim.token), "the bearer token is in the server's log");
    let mut conn = s.app.store.conn().await.unwrap();
    let row = sqlx::query("SELECT sealed_secrets FROM connections").fetch_one(&mut *conn).await.unwrap();
    let sealed: String = sqlx::Row::try_get(&row, 0).unwrap();
    assert!(sealed.starts_with("v1:") && !sealed.contains(&scim.token), "the token is stored in clear: {sealed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outage_and_sigkill_lose_nothing_sqlite() {
    run(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outage_and_sigkill_lose_nothing_postgres() {
    run(Backend::Postgres).await;
}
