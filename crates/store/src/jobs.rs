//! The job queue (transactional outbox). Jobs are inserted in the transaction of the decision
//! that causes them and taken by workers with a lease: `FOR UPDATE SKIP LOCKED` on PostgreSQL
//! so several processes share the queue, a single writer on SQLite. A job whose lease runs out
//! (its worker crashed) is taken again; handlers are idempotent.

use chrono::{DateTime, Duration as Span, Utc};
use uuid::Uuid;

use crate::rows::{self, ts};
use crate::{Backend, Result, Tx};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: Uuid,
    pub kind: String,
    pub payload: serde_json::Value,
    pub attempts: i64,
    pub max_attempts: i64,
    pub request_id: Option<Uuid>,
    pub connection_id: Option<Uuid>,
}

pub struct NewJob<'a> {
    pub kind: &'a str,
    pub payload: serde_json::Value,
    pub max_attempts: i64,
    pub request_id: Option<Uuid>,
    pub run_after: DateTime<Utc>,
    /// The connection a provisioning job talks to: while it is degraded, its jobs wait.
    pub connection_id: Option<Uuid>,
}

pub async fn enqueue(conn: &mut Tx, job: NewJob<'_>, now: DateTime<Utc>) -> Result<Uuid> {
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO jobs (id, kind, payload, state, attempts, max_attempts, run_after, request_id, created_date_time,
         connection_id) VALUES ($1, $2, $3, 'pending', 0, $4, $5, $6, $7, $8)",
    )
    .bind(id.to_string())
    .bind(job.kind.to_owned())
    .bind(job.payload.to_string())
    .bind(job.max_attempts)
    .bind(ts(&job.run_after))
    .bind(job.request_id.map(|r| r.to_string()))
    .bind(ts(&now))
    .bind(job.connection_id.map(|c| c.to_string()))
    .execute(&mut *conn)
    .await?;
    Ok(id)
}

/// Lease up to `limit` ready jobs for `owner` until `now + lease`. Jobs of a degraded
/// connection wait until its next probe.
pub async fn claim(
    conn: &mut Tx,
    backend: Backend,
    owner: &str,
    now: DateTime<Utc>,
    lease: Span,
    limit: i64,
) -> Result<Vec<Job>> {
    let lock = if backend == Backend::Postgres { "FOR UPDATE SKIP LOCKED" } else { "" };
    let sql = format!(
        "UPDATE jobs SET lease_owner = $1, lease_until = $2, attempts = attempts + 1
         WHERE id IN (SELECT id FROM jobs WHERE state = 'pending' AND run_after <= $3
                      AND (lease_until IS NULL OR lease_until < $3)
                      AND (connection_id IS NULL OR connection_id NOT IN
                           (SELECT id FROM connections WHERE status = 'degraded' AND probe_after > $3))
                      ORDER BY run_after LIMIT $4 {lock})
         RETURNING id, kind, payload, attempts, max_attempts, request_id, connection_id"
    );
    let found = sqlx::query(&sql)
        .bind(owner.to_owned())
        .bind(ts(&(now + lease)))
        .bind(ts(&now))
        .bind(limit)
        .fetch_all(&mut *conn)
        .await?;
    found
        .iter()
        .map(|r| {
            Ok(Job {
                id: rows::uuid(r, "id")?,
                kind: rows::text(r, "kind")?,
                payload: rows::json(r, "payload")?,
                attempts: rows::int(r, "attempts")?,
                max_attempts: rows::int(r, "max_attempts")?,
                request_id: rows::opt_uuid(r, "request_id")?,
                connection_id: rows::opt_uuid(r, "connection_id")?,
            })
        })
        .collect()
}

/// Finish a job that succeeded.
pub async fn complete(conn: &mut Tx, id: Uuid, now: DateTime<Utc>) -> Result<()> {
    sqlx::query("UPDATE jobs SET state = 'done', lease_owner = NULL, lease_until = NULL, last_error = NULL, finished_date_time = $2 WHERE id = $1")
        .bind(id.to_string())
        .bind(ts(&now))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// How a failed attempt ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Try again at this time; the attempt counts towards `max_attempts`, and the job gives up
    /// when they are spent.
    Retry(DateTime<Utc>),
    /// Try again at this time without counting the attempt: the target was out, the job itself
    /// is not at fault, and an outage of any length must not use its attempts up.
    Wait(DateTime<Utc>),
    /// Give up now: retrying cannot help.
    Permanent,
}

/// Record a failed attempt. Returns whether the job gave up.
pub async fn fail(conn: &mut Tx, job: &Job, error: &str, failure: Failure, now: DateTime<Utc>) -> Result<bool> {
    let (give_up, run_after, refund) = match failure {
        Failure::Retry(at) => (job.attempts >= job.max_attempts, at, 0),
        Failure::Wait(at) => (false, at, 1),
        Failure::Permanent => (true, now, 0),
    };
    let (state, finished) = if give_up { ("failed", Some(ts(&now))) } else { ("pending", None) };
    sqlx::query(
        "UPDATE jobs SET state = $2, lease_owner = NULL, lease_until = NULL, last_error = $3, run_after = $4,
         finished_date_time = $5, attempts = attempts - $6 WHERE id = $1",
    )
    .bind(job.id.to_string())
    .bind(state)
    .bind(error.chars().take(2000).collect::<String>())
    .bind(ts(&run_after))
    .bind(finished)
    .bind(refund)
    .execute(&mut *conn)
    .await?;
    Ok(give_up)
}

/// The provisioning jobs of a request's current delivery: (pending, failed, done, last error).
pub async fn delivery_progress(conn: &mut Tx, request: Uuid, kind: &str) -> Result<(i64, i64, i64, Option<String>)> {
    let row = sqlx::query(
        "SELECT SUM(CASE WHEN state = 'pending' THEN 1 ELSE 0 END) AS pending,
                SUM(CASE WHEN state = 'failed' THEN 1 ELSE 0 END) AS failed,
                SUM(CASE WHEN state = 'done' THEN 1 ELSE 0 END) AS done,
                MAX(CASE WHEN state = 'failed' THEN last_error END) AS error
         FROM jobs WHERE request_id = $1 AND kind = $2",
    )
    .bind(request.to_string())
    .bind(kind.to_owned())
    .fetch_one(&mut *conn)
    .await?;
    let n = |c: &str| -> Result<i64> { Ok(row.try_get::<Option<i64>, _>(c)?.unwrap_or(0)) };
    Ok((n("pending")?, n("failed")?, n("done")?, rows::opt_text(&row, "error")?))
}

use sqlx::Row;

/// Put a request's failed jobs of `kind` back in the queue (reprocess). Returns how many.
pub async fn retry_failed(conn: &mut Tx, request: Uuid, kind: &str, now: DateTime<Utc>) -> Result<u64> {
    let r = sqlx::query(
        "UPDATE jobs SET state = 'pending', attempts = 0, run_after = $3, last_error = NULL, finished_date_time = NULL
         WHERE request_id = $1 AND kind = $2 AND state = 'failed'",
    )
    .bind(request.to_string())
    .bind(kind.to_owned())
    .bind(ts(&now))
    .execute(&mut *conn)
    .await?;
    Ok(r.rows_affected())
}

/// The payloads of a request's failed jobs of `kind`, with their last error.
pub async fn failed_payloads(
    conn: &mut Tx,
    request: Uuid,
    kind: &str,
) -> Result<Vec<(serde_json::Value, Option<String>)>> {
    let found = sqlx::query(
        "SELECT payload, last_error FROM jobs WHERE request_id = $1 AND kind = $2 AND state = 'failed'
         ORDER BY created_date_time, id",
    )
    .bind(request.to_string())
    .bind(kind.to_owned())
    .fetch_all(&mut *conn)
    .await?;
    found.iter().map(|r| Ok((rows::json(r, "payload")?, rows::opt_text(r, "last_error")?))).collect()
}
