//! Assignments: who holds which package under which policy, until when.

use gatehouse_domain::assignment::Assignment;
use gatehouse_domain::enums::AssignmentState;
use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::query::{Field, Kind, Param, Schema, Where};
use crate::rows::{self, ts};
use crate::{Result, Tx};

fn state(s: &str) -> Option<&'static str> {
    AssignmentState::parse(s).map(|v| v.as_str())
}

pub const SCHEMA: Schema = Schema {
    name: "assignments",
    table: "assignments",
    fields: &[
        Field::new("id", "id", Kind::Guid),
        Field::new("state", "state", Kind::Enum(state)),
        Field::new("accessPackage/id", "access_package_id", Kind::Guid),
        Field::new("assignmentPolicy/id", "assignment_policy_id", Kind::Guid),
        Field::new("target/objectId", "target_id", Kind::Guid),
        Field::new("target/id", "target_id", Kind::Guid),
        Field::new("schedule/expiration/endDateTime", "end_date_time", Kind::DateTime),
        Field::new("expiredDateTime", "expired_date_time", Kind::DateTime),
    ],
    collections: &[],
    search: &[],
};

pub fn from_row(row: &AnyRow) -> Result<Assignment> {
    Ok(Assignment {
        id: rows::uuid(row, "id")?,
        access_package_id: rows::uuid(row, "access_package_id")?,
        assignment_policy_id: rows::uuid(row, "assignment_policy_id")?,
        target_id: rows::uuid(row, "target_id")?,
        state: rows::parsed(row, "state")?,
        start_date_time: rows::opt_time(row, "start_date_time")?
            .map_or_else(|| rows::time(row, "created_date_time"), Ok)?,
        end_date_time: rows::opt_time(row, "end_date_time")?,
        expired_date_time: rows::opt_time(row, "expired_date_time")?,
        request_id: rows::opt_uuid(row, "request_id")?,
        created_date_time: rows::time(row, "created_date_time")?,
    })
}

pub async fn insert(conn: &mut Tx, a: &Assignment) -> Result<()> {
    sqlx::query(
        "INSERT INTO assignments (id, access_package_id, assignment_policy_id, target_id, state, status, start_date_time,
         end_date_time, expired_date_time, request_id, created_date_time) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(a.id.to_string())
    .bind(a.access_package_id.to_string())
    .bind(a.assignment_policy_id.to_string())
    .bind(a.target_id.to_string())
    .bind(a.state.as_str())
    .bind(a.status())
    .bind(ts(&a.start_date_time))
    .bind(a.end_date_time.as_ref().map(ts))
    .bind(a.expired_date_time.as_ref().map(ts))
    .bind(a.request_id.map(|r| r.to_string()))
    .bind(ts(&a.created_date_time))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn update(conn: &mut Tx, a: &Assignment) -> Result<()> {
    sqlx::query(
        "UPDATE assignments SET state = $2, status = $3, end_date_time = $4, expired_date_time = $5, request_id = $6 WHERE id = $1",
    )
    .bind(a.id.to_string())
    .bind(a.state.as_str())
    .bind(a.status())
    .bind(a.end_date_time.as_ref().map(ts))
    .bind(a.expired_date_time.as_ref().map(ts))
    .bind(a.request_id.map(|r| r.to_string()))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn get(conn: &mut Tx, id: Uuid) -> Result<Option<Assignment>> {
    let row =
        sqlx::query("SELECT * FROM assignments WHERE id = $1").bind(id.to_string()).fetch_optional(&mut *conn).await?;
    row.as_ref().map(from_row).transpose()
}

/// The target's active assignment of a package, if any.
pub async fn active_for(conn: &mut Tx, package: Uuid, target: Uuid) -> Result<Option<Assignment>> {
    let row =
        sqlx::query("SELECT * FROM assignments WHERE access_package_id = $1 AND target_id = $2 AND state <> 'expired'")
            .bind(package.to_string())
            .bind(target.to_string())
            .fetch_optional(&mut *conn)
            .await?;
    row.as_ref().map(from_row).transpose()
}

/// Names of packages the target holds that are incompatible with `package`, in either direction.
pub async fn incompatible_held(conn: &mut Tx, package: Uuid, target: Uuid) -> Result<Vec<String>> {
    let found = sqlx::query(
        "SELECT p.display_name FROM assignments a JOIN access_packages p ON p.id = a.access_package_id
         WHERE a.target_id = $1 AND a.state <> 'expired' AND (
             a.access_package_id IN (SELECT incompatible_id FROM incompatible_access_packages WHERE access_package_id = $2)
          OR a.access_package_id IN (SELECT access_package_id FROM incompatible_access_packages WHERE incompatible_id = $2))",
    )
    .bind(target.to_string())
    .bind(package.to_string())
    .fetch_all(&mut *conn)
    .await?;
    found.iter().map(|r| rows::text(r, "display_name")).collect()
}

/// Names of the package's incompatible groups the target is a member of.
pub async fn incompatible_groups_joined(conn: &mut Tx, package: Uuid, target: Uuid) -> Result<Vec<String>> {
    let found = sqlx::query(
        "SELECT g.display_name FROM incompatible_groups i JOIN groups g ON g.id = i.group_id
         JOIN group_members m ON m.group_id = i.group_id WHERE i.access_package_id = $1 AND m.member_id = $2",
    )
    .bind(package.to_string())
    .bind(target.to_string())
    .fetch_all(&mut *conn)
    .await?;
    found.iter().map(|r| rows::text(r, "display_name")).collect()
}

pub fn targeting(user: Uuid) -> Where {
    Where::new().and_eq("t.target_id = {}", Param::Text(user.to_string()))
}

/// Assignments whose originating request (the add that created them, not a later update or
/// removal, which also name the assignment) was made by `user`.
pub fn created_by(user: Uuid) -> Where {
    Where::new().and_eq(
        "t.id IN (SELECT assignment_id FROM assignment_requests WHERE requestor_id = {}
          AND request_type IN ('userAdd', 'adminAdd', 'systemAdd') AND assignment_id IS NOT NULL)",
        Param::Text(user.to_string()),
    )
}

/// Whether another active assignment of `target` still grants this role (then a revoke must
/// leave it in place: two packages may grant the same group membership).
pub async fn role_still_granted(
    conn: &mut Tx,
    target: Uuid,
    except: Uuid,
    origin_system: &str,
    role_origin_id: &str,
    connection: Option<Uuid>,
) -> Result<bool> {
    // Role origin ids are unique within a target; a connection is one target ('' the directory).
    let row = sqlx::query(
        "SELECT a.id FROM assignments a
         JOIN access_package_resource_role_scopes rs ON rs.access_package_id = a.access_package_id
         JOIN resource_roles r ON r.id = rs.role_id
         JOIN resources res ON res.id = r.resource_id
         WHERE a.target_id = $1 AND a.id <> $2 AND a.state <> 'expired' AND r.origin_system = $3 AND r.origin_id = $4
           AND COALESCE(res.connection_id, '') = $5 LIMIT 1",
    )
    .bind(target.to_string())
    .bind(except.to_string())
    .bind(origin_system.to_owned())
    .bind(role_origin_id.to_owned())
    .bind(connection.map(|c| c.to_string()).unwrap_or_default())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.is_some())
}

/// Active assignments whose end has come.
pub async fn ended(conn: &mut Tx, now: chrono::DateTime<chrono::Utc>, limit: i64) -> Result<Vec<Assignment>> {
    let found = sqlx::query(
        "SELECT * FROM assignments WHERE state <> 'expired' AND end_date_time <= $1 ORDER BY end_date_time LIMIT $2",
    )
    .bind(ts(&now))
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    found.iter().map(from_row).collect()
}

/// Active assignments ending after `now` but before `horizon` that have had fewer than
/// `reminders` reminders. (One that has ended already gets no reminder: expiry is its news.)
pub async fn ending_before(
    conn: &mut Tx,
    now: chrono::DateTime<chrono::Utc>,
    horizon: chrono::DateTime<chrono::Utc>,
    reminders: i64,
    limit: i64,
) -> Result<Vec<Assignment>> {
    let found = sqlx::query(
        "SELECT * FROM assignments WHERE state <> 'expired' AND end_date_time > $1 AND end_date_time <= $2
         AND reminders_sent < $3 ORDER BY end_date_time LIMIT $4",
    )
    .bind(ts(&now))
    .bind(ts(&horizon))
    .bind(reminders)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    found.iter().map(from_row).collect()
}

pub async fn set_reminders_sent(conn: &mut Tx, id: Uuid, sent: i64) -> Result<()> {
    sqlx::query("UPDATE assignments SET reminders_sent = $2 WHERE id = $1")
        .bind(id.to_string())
        .bind(sent)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Claim an ended assignment for the expiry sweep: of several replicas sweeping at once, one
/// wins the row. True when this caller won it.
pub async fn claim_expiring(conn: &mut Tx, id: Uuid, now: chrono::DateTime<chrono::Utc>) -> Result<bool> {
    let claimed = sqlx::query(
        "UPDATE assignments SET status = 'Expiring' WHERE id = $1 AND state <> 'expired' AND end_date_time <= $2",
    )
    .bind(id.to_string())
    .bind(ts(&now))
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(claimed > 0)
}

/// How many active assignments a user holds.
pub async fn active_count(conn: &mut Tx, target: Uuid) -> Result<i64> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM assignments WHERE target_id = $1 AND state <> 'expired'")
        .bind(target.to_string())
        .fetch_one(&mut *conn)
        .await?;
    rows::int(&row, "n")
}

/// `additionalAccess`: active assignments of `package` whose targets also hold `other`.
pub fn also_holding(package: Uuid, other: Uuid) -> Where {
    Where::new()
        .and_eq("t.access_package_id = {}", Param::Text(package.to_string()))
        .and_raw("t.state <> 'expired'")
        .and_eq(
            "t.target_id IN (SELECT target_id FROM assignments WHERE access_package_id = {} AND state <> 'expired')",
            Param::Text(other.to_string()),
        )
}
