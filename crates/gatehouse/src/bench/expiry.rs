//! (d) The expiry sweep: M assignments (and their users) bulk-loaded with plain multi-row
//! INSERTs, K of them ended a second ago and holding a group membership; then the workers run
//! until every one of the K is expired and its membership revoked.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use gatehouse_app::{Actor, App, AppError};
use gatehouse_store::rows::ts;
use gatehouse_store::{assignments, Backend, Store};
use gatehouse_workers::{LogMailer, Workers};
use serde_json::json;
use uuid::Uuid;

use super::{count, progress, secs, Params};

/// Rows per INSERT statement and per transaction. Bigger statements are slower per row through
/// sqlx on SQLite (1000 rows a statement loaded about 5× slower than 100); PostgreSQL is flat.
const ROWS_PER_STATEMENT: usize = 100;
const ROWS_PER_TRANSACTION: usize = 10_000;

pub struct Sweep {
    /// Bulk load (not part of the measurement).
    pub load: Duration,
    /// Workers start → all K expired and their memberships revoked.
    pub total: Duration,
    pub phases: String,
    pub failures: Vec<String>,
}

/// Whether assignment `i` of `m` is one of the `k` that expire: spread evenly, exactly k.
fn expiring(i: usize, m: usize, k: usize) -> bool {
    let (i, m, k) = (i as u128, m as u128, k as u128);
    i * k / m != (i + 1) * k / m
}

/// `($1, $2, …), (…)`: `rows` groups of `width` placeholders.
fn placeholders(rows: usize, width: usize) -> String {
    (0..rows)
        .map(|r| {
            let cols: Vec<String> = (1..=width).map(|c| format!("${}", r * width + c)).collect();
            format!("({})", cols.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

struct Load {
    package: Uuid,
    policy: Uuid,
    group: Uuid,
    now: DateTime<Utc>,
}

/// Insert users, assignments and memberships for indices `from..to` in one transaction.
async fn load_chunk(store: &Store, l: &Load, from: usize, to: usize, p: Params) -> anyhow::Result<()> {
    let ended = ts(&(l.now - chrono::Duration::seconds(1)));
    let later = ts(&(l.now + chrono::Duration::days(365)));
    let started = ts(&(l.now - chrono::Duration::days(30)));
    let mut tx = store.begin().await?;
    let mut at = from;
    while at < to {
        let end = (at + ROWS_PER_STATEMENT).min(to);
        let ids: Vec<(String, String)> =
            (at..end).map(|_| (Uuid::new_v4().to_string(), Uuid::new_v4().to_string())).collect();
        let sql = format!(
            "INSERT INTO users (id, display_name, mail, user_principal_name, user_type, account_enabled, created_date_time) VALUES {}",
            placeholders(end - at, 7)
        );
        let mut q = sqlx::query(&sql);
        for (i, (user, _)) in (at..end).zip(&ids) {
            q = q
                .bind(user.clone())
                .bind(format!("Sweep User {i}"))
                .bind(format!("sweep{i}@contoso.example"))
                .bind(format!("sweep{i}@contoso.example"))
                .bind("Member")
                .bind(1i64)
                .bind(started.clone());
        }
        q.execute(&mut *tx).await?;
        // Those that expire had both reminders already (as they would have in a live system).
        let sql = format!(
            "INSERT INTO assignments (id, access_package_id, assignment_policy_id, target_id, state, status,
             start_date_time, end_date_time, created_date_time, reminders_sent) VALUES {}",
            placeholders(end - at, 10)
        );
        let mut q = sqlx::query(&sql);
        let mut members = Vec::new();
        for (i, (user, assignment)) in (at..end).zip(&ids) {
            let expires = expiring(i, p.assignments, p.expiring);
            if expires {
                members.push(user.clone());
            }
            q = q
                .bind(assignment.clone())
                .bind(l.package.to_string())
                .bind(l.policy.to_string())
                .bind(user.clone())
                .bind("delivered")
                .bind("Delivered")
                .bind(started.clone())
                .bind(if expires { ended.clone() } else { later.clone() })
                .bind(started.clone())
                .bind(if expires { 2i64 } else { 0 });
        }
        q.execute(&mut *tx).await?;
        if !members.is_empty() {
            let sql =
                format!("INSERT INTO group_members (group_id, member_id) VALUES {}", placeholders(members.len(), 2));
            let mut q = sqlx::query(&sql);
            for m in members {
                q = q.bind(l.group.to_string()).bind(m);
            }
            q.execute(&mut *tx).await?;
        }
        at = end;
    }
    tx.commit().await?;
    Ok(())
}

async fn bulk_load(store: &Store, l: &Load, p: Params) -> anyhow::Result<()> {
    let mut from = 0;
    let mut reported = Instant::now();
    while from < p.assignments {
        let to = (from + ROWS_PER_TRANSACTION).min(p.assignments);
        load_chunk(store, l, from, to, p).await?;
        from = to;
        if reported.elapsed() > Duration::from_secs(10) {
            progress(format!("  loaded {from} of {} assignments", p.assignments));
            reported = Instant::now();
        }
    }
    if store.backend() == Backend::Postgres {
        // Autovacuum would analyze soon after such a load; do it now so the plans are steady.
        let mut conn = store.conn().await?;
        sqlx::query("ANALYZE").execute(&mut *conn).await?;
    }
    Ok(())
}

/// How long each of the sweep's queries takes on the loaded table, in ms.
async fn sweep_query_costs(store: &Store, now: DateTime<Utc>) -> anyhow::Result<String> {
    let mut conn = store.conn().await?;
    let t = Instant::now();
    let due = assignments::ended(&mut conn, now, 500).await?.len();
    let ended = t.elapsed();
    let t = Instant::now();
    assignments::ending_before(&mut conn, now, now + chrono::Duration::days(1), 2, 500).await?;
    let day = t.elapsed();
    let t = Instant::now();
    assignments::ending_before(&mut conn, now, now + chrono::Duration::days(14), 1, 500).await?;
    let fortnight = t.elapsed();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    Ok(format!(
        "expiry query {:.1} ms ({due} due), reminder queries {:.1} + {:.1} ms",
        ms(ended),
        ms(day),
        ms(fortnight)
    ))
}

#[derive(Default, Clone, Copy)]
struct Reached {
    expired: Option<Duration>,
    revoked: Option<Duration>,
}

/// Watch while the workers run: note when none of the due assignments is left unexpired and
/// when no membership is left. Both counts shrink as the sweep progresses (index ranges), so
/// watching stays cheap next to the work it watches.
async fn watch(store: Store, group: String, due: String, started: Instant, stop: Arc<AtomicBool>) -> Reached {
    let mut r = Reached::default();
    let mut reported = Instant::now();
    while r.expired.is_none() || r.revoked.is_none() {
        let stopping = stop.load(Ordering::Acquire);
        let mut left = (0, 0);
        if r.expired.is_none() {
            let sql = "SELECT COUNT(*) FROM assignments WHERE state = 'delivered' AND end_date_time <= $1";
            left.0 = count(&store, sql, &[&due]).await.unwrap_or(-1);
            if left.0 == 0 {
                r.expired = Some(started.elapsed());
            }
        }
        if r.revoked.is_none() {
            let sql = "SELECT COUNT(*) FROM group_members WHERE group_id = $1";
            left.1 = count(&store, sql, &[&group]).await.unwrap_or(-1);
            if left.1 == 0 {
                r.revoked = Some(started.elapsed());
            }
        }
        if stopping {
            break;
        }
        // A long sweep shows its progress, so even an interrupted run tells where the time went.
        if reported.elapsed() > Duration::from_secs(30) {
            let (expire, revoke) = left;
            progress(format!("  {:.0} s: {expire} left to expire, {revoke} memberships left", secs(started.elapsed())));
            reported = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    r
}

pub async fn run(app: &App, p: Params) -> anyhow::Result<Sweep> {
    let store = &app.store;
    let catalog = app
        .create_catalog(
            &Actor::system(),
            serde_json::from_value(json!({"displayName": "Sweep", "state": "published"}))?,
        )
        .await?
        .id;
    let (package, policy, group) = super::fixture::package(app, catalog, "Expiring", json!({})).await?;
    let now = app.clock.now();
    let l = Load { package, policy, group, now };
    let t = Instant::now();
    bulk_load(store, &l, p).await?;
    let load = t.elapsed();
    progress(format!("  bulk load took {:.1} s; running the workers", secs(load)));
    let costs = sweep_query_costs(store, app.clock.now()).await?;

    let workers = Workers::new(app.clone(), Arc::new(LogMailer));
    let stop = Arc::new(AtomicBool::new(false));
    let k = p.expiring as i64;
    let started = Instant::now();
    let due = ts(&now);
    let watcher = tokio::spawn(watch(store.clone(), group.to_string(), due, started, stop.clone()));
    // run_until_idle gives up after 1000 passes (32 jobs each); keep calling it until idle.
    let mut caps = 0;
    loop {
        match workers.run_until_idle().await {
            Ok(()) => break,
            Err(AppError::Conflict(m)) if m.contains("did not become idle") => caps += 1,
            Err(e) => {
                stop.store(true, Ordering::Release);
                return Err(e.into());
            }
        }
    }
    let idle = started.elapsed();
    stop.store(true, Ordering::Release);
    let reached = watcher.await.unwrap_or_default();
    let t = Instant::now();
    workers.run_once().await?;
    let idle_pass = t.elapsed();

    let mut failures = Vec::new();
    let pkg = package.to_string();
    let expired =
        count(store, "SELECT COUNT(*) FROM assignments WHERE state = 'expired' AND access_package_id = $1", &[&pkg])
            .await?;
    let active =
        count(store, "SELECT COUNT(*) FROM assignments WHERE state <> 'expired' AND access_package_id = $1", &[&pkg])
            .await?;
    let members = count(store, "SELECT COUNT(*) FROM group_members WHERE group_id = $1", &[&group.to_string()]).await?;
    let removals = count(
        store,
        "SELECT COUNT(*) FROM assignment_requests WHERE request_type = 'systemRemove' AND state = 'delivered' AND access_package_id = $1",
        &[&pkg],
    )
    .await?;
    let failed = count(store, "SELECT COUNT(*) FROM jobs WHERE state <> 'done'", &[]).await?;
    if expired != k {
        failures.push(format!("{expired} assignments expired, expected exactly {k}"));
    }
    if active != (p.assignments - p.expiring) as i64 {
        failures.push(format!("{active} assignments still active, expected {}", p.assignments - p.expiring));
    }
    if members != 0 {
        failures.push(format!("the group still has {members} members, expected 0"));
    }
    if removals != k {
        failures.push(format!("{removals} systemRemove requests delivered, expected {k}"));
    }
    if failed != 0 {
        failures.push(format!("{failed} jobs not done"));
    }
    let total = match (reached.expired, reached.revoked) {
        // The watcher polls; whatever it saw after the workers went idle was done by then.
        (Some(a), Some(b)) => a.max(b).min(idle),
        _ => {
            failures.push("the sweep never reached all-expired and all-revoked".into());
            idle
        }
    };
    let at = |d: Option<Duration>| d.map_or_else(|| "never".to_owned(), |d| format!("{:.2} s", secs(d.min(idle))));
    let phases = format!(
        "all {k} marked expired at {}, memberships revoked at {}, workers idle at {:.2} s \
         (run_until_idle hit its 1000-pass cap {caps} times); on {} assignments: {costs}; an idle worker pass {:.1} ms",
        at(reached.expired),
        at(reached.revoked),
        secs(idle),
        p.assignments,
        idle_pass.as_secs_f64() * 1000.0
    );
    Ok(Sweep { load, total, phases, failures })
}

#[cfg(test)]
mod tests {
    #[test]
    fn exactly_k_expire_spread_over_m() {
        for (m, k) in [(10, 1), (10, 10), (2000, 200), (1_000_000, 100_000), (7, 3)] {
            let picked: Vec<usize> = (0..m).filter(|&i| super::expiring(i, m, k)).collect();
            assert_eq!(picked.len(), k);
        }
        assert_eq!(super::placeholders(2, 2), "($1, $2), ($3, $4)");
    }
}
