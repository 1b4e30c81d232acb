//! Crash safety: a real `gatehouse serve` process under a stream of requests is killed with
//! SIGKILL again and again. After restarts, every accepted request is delivered exactly once:
//! one assignment and one group membership per user, one audit record per membership, no job
//! left behind, and the audit chain intact. On SQLite and PostgreSQL.

mod common;

use std::time::Duration;

use common::{count, start};
use gatehouse_testkit::{json, spawn, Backend};

const USERS: usize = 60;

async fn run(backend: Backend) {
    let s = spawn(backend).await;
    let fixture = s.group_package("P").await;
    let (group, package) = (fixture.group, fixture.package);
    let policy = s.add_policy(&package, json!({"displayName": "Direct"})).await;
    let mut users = Vec::new();
    for i in 0..USERS {
        users.push(s.member(&format!("U{i}"), &format!("u{i}@contoso.example")).await);
    }

    let http = reqwest::Client::new();
    let dir = tempfile::tempdir().unwrap();
    let mut serve = start(&s.database_url, dir.path()).await;
    let mut kills = 0;
    for (i, user) in users.iter().enumerate() {
        common::assign_surviving_kills(&http, &mut serve, &s, dir.path(), (&package, &policy), user).await;
        if i % 12 == 11 {
            // Kill while the workers are busy with what was just submitted.
            tokio::time::sleep(Duration::from_millis(20 * (i as u64 % 5))).await;
            serve.kill();
            kills += 1;
            serve = start(&s.database_url, dir.path()).await;
        }
    }
    // Let the last server finish the work, killing it once more half-way.
    tokio::time::sleep(Duration::from_millis(300)).await;
    serve.kill();
    kills += 1;
    let serve = start(&s.database_url, dir.path()).await;
    common::wait_all_delivered(&s, Duration::from_secs(90), Duration::from_millis(200)).await;
    serve.kill();
    assert!(kills >= 5, "the server was killed {kills} times");

    let n = USERS as i64;
    assert_eq!(count(&s, "SELECT COUNT(*) FROM assignment_requests").await, n, "one request per user");
    assert_eq!(count(&s, "SELECT COUNT(*) FROM assignments").await, n, "one assignment per user");
    assert_eq!(count(&s, "SELECT COUNT(*) FROM assignments WHERE state = 'delivered'").await, n);
    assert_eq!(count(&s, "SELECT COUNT(DISTINCT target_id) FROM assignments").await, n);
    assert_eq!(count(&s, &format!("SELECT COUNT(*) FROM group_members WHERE group_id = '{group}'")).await, n);
    assert_eq!(
        count(&s, "SELECT COUNT(*) FROM audit_log WHERE activity = 'group.addMember'").await,
        n,
        "each membership granted exactly once"
    );
    assert_eq!(count(&s, "SELECT COUNT(*) FROM audit_log WHERE activity = 'assignment.create'").await, n);
    assert_eq!(count(&s, "SELECT COUNT(*) FROM jobs WHERE state = 'failed'").await, 0);
    common::assert_audit_intact(&s).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_loses_nothing_and_duplicates_nothing_sqlite() {
    run(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_loses_nothing_and_duplicates_nothing_postgres() {
    run(Backend::Postgres).await;
}
