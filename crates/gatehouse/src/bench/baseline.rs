//! (c) The floor: per request, plain SQL over the same pool writing the rows the pipeline writes
//! for it — the request (with a realistic JSON body), the assignment, a job inserted then marked
//! done, the group membership, and as many hash-chained audit records as the real run wrote per
//! request — with the same concurrency, in as few transactions as the API allows: one for a
//! self-service request with no approval (durable before the 201), two when a person decides
//! (the submit before its 201, the decision before its 204).

use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use gatehouse_app::delivery::{Grant, PROVISION};
use gatehouse_domain::audit::AuditRecord;
use gatehouse_domain::enums::{RequestState, RequestType};
use gatehouse_domain::request::AssignmentRequest;
use gatehouse_store::rows::{to_json, ts};
use gatehouse_store::Store;
use serde_json::json;
use uuid::Uuid;

use super::fixture::Fixture;
use super::pipeline::fan_out;
use super::{count, secs, Params};

pub struct Baseline {
    n: usize,
    decided: bool,
    total: Duration,
    audit_rows: i64,
    pub failures: Vec<String>,
}

impl Baseline {
    pub fn per_second(&self) -> f64 {
        self.n as f64 / secs(self.total).max(f64::EPSILON)
    }

    pub fn describe(&self) -> String {
        format!(
            "{} requests in {} (request + assignment + job insert/update + membership + {:.2} audit rows each) in {:.2} s",
            self.n,
            if self.decided { "two transactions each, submit and decision" } else { "one transaction each" },
            self.audit_rows as f64 / self.n.max(1) as f64,
            secs(self.total)
        )
    }
}

/// The ids one baseline transaction needs.
#[derive(Clone, Copy)]
struct Target {
    package: Uuid,
    policy: Uuid,
    group: Uuid,
}

/// How many of `total` audit rows request `i` of `n` writes: spread so the sum is exact.
fn audits_for(i: usize, n: usize, total: i64) -> i64 {
    let (i, n) = (i as i64, n as i64);
    (i + 1) * total / n - i * total / n
}

async fn one(store: &Store, t: Target, user: Uuid, audits: i64, decided: bool) -> anyhow::Result<()> {
    let now = Utc::now();
    let (request_id, assignment_id, job_id) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let mut r = AssignmentRequest::new(
        request_id,
        RequestType::UserAdd,
        t.package,
        t.policy,
        Some(user),
        None,
        Some(user),
        now,
    );
    r.assignment_id = Some(assignment_id);
    r.state = RequestState::Delivered;
    r.completed_date_time = Some(now);
    let mut tx = store.begin().await?;
    sqlx::query(
        "INSERT INTO assignment_requests (id, request_type, state, access_package_id, policy_id, target_id, target_email,
         requestor_id, assignment_id, next_deadline, body, created_date_time, completed_date_time)
         VALUES ($1, $2, $3, $4, $5, $6, NULL, $7, $8, NULL, $9, $10, $11)",
    )
    .bind(request_id.to_string())
    .bind(r.request_type.as_str())
    .bind(r.state.as_str())
    .bind(t.package.to_string())
    .bind(t.policy.to_string())
    .bind(user.to_string())
    .bind(user.to_string())
    .bind(assignment_id.to_string())
    .bind(to_json(&r))
    .bind(ts(&now))
    .bind(ts(&now))
    .execute(&mut *tx)
    .await?;
    let mut audits_left = audits;
    if decided {
        // The request is durable before the 201 and the decision before the 204: two
        // transactions, the submit one with its share of the audit records.
        let submitted = audits / 2;
        for _ in 0..submitted {
            tx.audit(audit_record(user, request_id, &t, assignment_id, now));
        }
        audits_left -= submitted;
        tx.commit().await?;
        tx = store.begin().await?;
        sqlx::query("UPDATE assignment_requests SET state = $2, body = $3, completed_date_time = $4 WHERE id = $1")
            .bind(request_id.to_string())
            .bind(r.state.as_str())
            .bind(to_json(&r))
            .bind(ts(&now))
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query(
        "INSERT INTO assignments (id, access_package_id, assignment_policy_id, target_id, state, status, start_date_time,
         end_date_time, expired_date_time, request_id, created_date_time)
         VALUES ($1, $2, $3, $4, 'delivered', 'Delivered', $5, NULL, NULL, $6, $7)",
    )
    .bind(assignment_id.to_string())
    .bind(t.package.to_string())
    .bind(t.policy.to_string())
    .bind(user.to_string())
    .bind(ts(&now))
    .bind(request_id.to_string())
    .bind(ts(&now))
    .execute(&mut *tx)
    .await?;
    let grant = Grant {
        revoke: false,
        request_id,
        assignment_id,
        target_id: user,
        origin_system: gatehouse_domain::catalog::ORIGIN_DIRECTORY_GROUP.into(),
        role_origin_id: format!("Member_{}", t.group),
        resource_origin_id: t.group.to_string(),
        role_display_name: "Member".into(),
        connection_id: None,
    };
    sqlx::query(
        "INSERT INTO jobs (id, kind, payload, state, attempts, max_attempts, run_after, request_id, created_date_time)
         VALUES ($1, $2, $3, 'pending', 0, 5, $4, $5, $6)",
    )
    .bind(job_id.to_string())
    .bind(PROVISION)
    .bind(json!(grant).to_string())
    .bind(ts(&now))
    .bind(request_id.to_string())
    .bind(ts(&now))
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE jobs SET state = 'done', attempts = 1, finished_date_time = $2 WHERE id = $1")
        .bind(job_id.to_string())
        .bind(ts(&now))
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO group_members (group_id, member_id) VALUES ($1, $2)")
        .bind(t.group.to_string())
        .bind(user.to_string())
        .execute(&mut *tx)
        .await?;
    for _ in 0..audits_left {
        tx.audit(audit_record(user, request_id, &t, assignment_id, now));
    }
    tx.commit().await?;
    Ok(())
}

fn audit_record(
    user: Uuid,
    request_id: Uuid,
    t: &Target,
    assignment_id: Uuid,
    now: chrono::DateTime<Utc>,
) -> AuditRecord {
    let summary = json!({
        "state": "delivered", "status": "Delivered", "requestType": "userAdd", "accessPackageId": t.package,
        "policyId": t.policy, "targetId": user, "targetEmail": null, "requestorId": user,
        "assignmentId": assignment_id, "stages": [], "failure": null,
    });
    AuditRecord {
        id: Uuid::new_v4(),
        activity_date_time: now,
        actor_id: Some(user),
        actor_display_name: "Bench baseline".into(),
        activity: "assignmentRequest.baseline".into(),
        target_type: "assignmentRequest".into(),
        target_id: request_id.to_string(),
        before: None,
        after: Some(summary),
        correlation_id: Some(request_id.to_string()),
    }
}

/// Write the rows of `p.requests` requests with `audit_rows` audit records in all.
pub async fn run(
    store: &Store,
    fx: &Fixture,
    group: Uuid,
    audit_rows: i64,
    decided: bool,
    p: Params,
) -> anyhow::Result<Baseline> {
    let n = p.requests.min(fx.users.len());
    let users: Arc<Vec<Uuid>> = Arc::new(fx.users.iter().map(|u| u.id).collect());
    let target = Target { package: fx.auto_package, policy: fx.auto_policy, group };
    let ok = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let s = store.clone();
    let errors =
        fan_out(n, p.concurrency, ok.clone(), move |i| {
            let (store, user) = (s.clone(), users[i]);
            async move {
                one(&store, target, user, audits_for(i, n, audit_rows), decided).await.map_err(|e| format!("{e:#}"))
            }
        })
        .await;
    let total = started.elapsed();
    let mut failures = Vec::new();
    errors.report("baseline transactions", &mut failures);
    let members = count(store, "SELECT COUNT(*) FROM group_members WHERE group_id = $1", &[&group.to_string()]).await?;
    if members != n as i64 {
        failures.push(format!("the baseline wrote {members} memberships, expected {n}"));
    }
    Ok(Baseline { n, decided, total, audit_rows, failures })
}

#[cfg(test)]
mod tests {
    #[test]
    fn audit_rows_are_spread_exactly() {
        for (n, total) in [(1, 7), (3, 10), (2000, 13_999), (50, 350)] {
            let sum: i64 = (0..n).map(|i| super::audits_for(i, n, total)).sum();
            assert_eq!(sum, total);
        }
    }
}
