//! The admin dashboard's counts, as aggregate SQL over the tables (nothing stored for it).
//! Days are the first ten characters of the fixed-width UTC times, which both backends cut
//! the same way.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::rows;
use crate::{Result, Tx};

/// How many audit records of each of `activities` were written per day since `since`:
/// `(day "2026-12-01", activity, count)`.
pub async fn activity_per_day(
    conn: &mut Tx,
    activities: &[&str],
    since: DateTime<Utc>,
) -> Result<Vec<(String, String, i64)>> {
    let marks: Vec<String> = (0..activities.len()).map(|i| format!("${}", i + 2)).collect();
    let sql = format!(
        "SELECT SUBSTR(activity_date_time, 1, 10) AS day, activity, COUNT(*) AS n FROM audit_log
         WHERE activity_date_time >= $1 AND activity IN ({}) GROUP BY SUBSTR(activity_date_time, 1, 10), activity",
        marks.join(", ")
    );
    let mut q = sqlx::query(&sql).bind(rows::ts(&since));
    for a in activities {
        q = q.bind(a.to_string());
    }
    let found = q.fetch_all(&mut *conn).await?;
    found.iter().map(|r| Ok((rows::text(r, "day")?, rows::text(r, "activity")?, rows::int(r, "n")?))).collect()
}

/// A guest's assignment: who, from when, and until when it ended (`None`: still held).
pub type GuestSpan = (Uuid, DateTime<Utc>, Option<DateTime<Utc>>);

/// Each guest's assignment spans that overlap `[since, now]`: `(guest, start, expired)`.
pub async fn guest_assignment_spans(conn: &mut Tx, since: DateTime<Utc>) -> Result<Vec<GuestSpan>> {
    let found = sqlx::query(
        "SELECT a.target_id, COALESCE(a.start_date_time, a.created_date_time) AS start_at, a.expired_date_time
         FROM assignments a JOIN users u ON u.id = a.target_id
         WHERE u.user_type = 'Guest' AND (a.expired_date_time IS NULL OR a.expired_date_time >= $1)",
    )
    .bind(rows::ts(&since))
    .fetch_all(&mut *conn)
    .await?;
    found
        .iter()
        .map(|r| Ok((rows::uuid(r, "target_id")?, rows::time(r, "start_at")?, rows::opt_time(r, "expired_date_time")?)))
        .collect()
}

/// Enabled guests per connected organization (`None`: guests of no organization).
pub async fn active_guests_by_organization(conn: &mut Tx) -> Result<Vec<(Option<Uuid>, i64)>> {
    let found = sqlx::query(
        "SELECT connected_organization_id AS org, COUNT(*) AS n FROM users
         WHERE user_type = 'Guest' AND account_enabled = 1 GROUP BY connected_organization_id",
    )
    .fetch_all(&mut *conn)
    .await?;
    found.iter().map(|r| Ok((rows::opt_uuid(r, "org")?, rows::int(r, "n")?))).collect()
}

/// Requests in each of `states`, tenant-wide.
pub async fn requests_in_states(conn: &mut Tx, states: &[&str]) -> Result<Vec<(String, i64)>> {
    let marks: Vec<String> = (0..states.len()).map(|i| format!("${}", i + 1)).collect();
    let sql = format!(
        "SELECT state, COUNT(*) AS n FROM assignment_requests WHERE state IN ({}) GROUP BY state",
        marks.join(", ")
    );
    let mut q = sqlx::query(&sql);
    for s in states {
        q = q.bind(s.to_string());
    }
    let found = q.fetch_all(&mut *conn).await?;
    found.iter().map(|r| Ok((rows::text(r, "state")?, rows::int(r, "n")?))).collect()
}
