//! Assignment requests. The request is stored whole as JSON; the columns serve queries, and
//! `approval_assignees` says who may decide each open stage.

use chrono::{DateTime, Utc};
use gatehouse_domain::enums::{RequestState, RequestType};
use gatehouse_domain::request::{AssignmentRequest, StageStatus};
use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::query::{Field, Kind, Param, Schema, Where};
use crate::rows::{self, ts};
use crate::{Result, Tx};

fn request_type(s: &str) -> Option<&'static str> {
    RequestType::parse(s).map(|v| v.as_str())
}

fn request_state(s: &str) -> Option<&'static str> {
    RequestState::parse(s).map(|v| v.as_str())
}

pub const SCHEMA: Schema = Schema {
    name: "assignmentRequests",
    table: "assignment_requests",
    fields: &[
        Field::new("id", "id", Kind::Guid),
        Field::new("requestType", "request_type", Kind::Enum(request_type)),
        Field::new("state", "state", Kind::Enum(request_state)),
        Field::new("accessPackage/id", "access_package_id", Kind::Guid),
        Field::new("requestor/objectId", "target_id", Kind::Guid),
        Field::new("createdDateTime", "created_date_time", Kind::DateTime),
        Field::new("completedDateTime", "completed_date_time", Kind::DateTime),
    ],
    collections: &[],
    search: &[],
};

pub fn from_row(row: &AnyRow) -> Result<AssignmentRequest> {
    rows::json(row, "body")
}

fn columns(r: &AssignmentRequest) -> [Option<String>; 9] {
    [
        Some(r.request_type.as_str().to_owned()),
        Some(r.state.as_str().to_owned()),
        Some(r.access_package_id.to_string()),
        Some(r.policy_id.to_string()),
        r.target_id.map(|x| x.to_string()),
        r.target_email.clone(),
        r.requestor_id.map(|x| x.to_string()),
        r.assignment_id.map(|x| x.to_string()),
        r.next_deadline().as_ref().map(ts),
    ]
}

async fn write_assignees(conn: &mut Tx, r: &AssignmentRequest) -> Result<()> {
    sqlx::query("DELETE FROM approval_assignees WHERE request_id = $1")
        .bind(r.id.to_string())
        .execute(&mut *conn)
        .await?;
    if let Some(i) = r.current_stage() {
        let stage = &r.stages[i];
        debug_assert_eq!(stage.status, StageStatus::InProgress);
        for user in stage.current_approvers() {
            sqlx::query("INSERT INTO approval_assignees (request_id, stage_id, user_id) VALUES ($1, $2, $3)")
                .bind(r.id.to_string())
                .bind(stage.id.to_string())
                .bind(user.to_string())
                .execute(&mut *conn)
                .await?;
        }
    }
    Ok(())
}

pub async fn insert(conn: &mut Tx, r: &AssignmentRequest) -> Result<()> {
    let [rt, state, pkg, policy, target, email, requestor, assignment, deadline] = columns(r);
    sqlx::query(
        "INSERT INTO assignment_requests (id, request_type, state, access_package_id, policy_id, target_id, target_email,
         requestor_id, assignment_id, next_deadline, body, created_date_time, completed_date_time)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(r.id.to_string())
    .bind(rt)
    .bind(state)
    .bind(pkg)
    .bind(policy)
    .bind(target)
    .bind(email)
    .bind(requestor)
    .bind(assignment)
    .bind(deadline)
    .bind(rows::to_json(r))
    .bind(ts(&r.created_date_time))
    .bind(r.completed_date_time.as_ref().map(ts))
    .execute(&mut *conn)
    .await?;
    write_assignees(conn, r).await?;
    write_decisions(conn, r).await
}

/// Remember who decided a stage, for the approvers' "past decisions".
async fn write_decisions(conn: &mut Tx, r: &AssignmentRequest) -> Result<()> {
    let mut deciders: Vec<Uuid> = r.stages.iter().filter_map(|s| s.decision.as_ref()?.by).collect();
    deciders.sort();
    deciders.dedup();
    for user in deciders {
        let known = sqlx::query("SELECT 1 AS x FROM approval_decisions WHERE request_id = $1 AND user_id = $2")
            .bind(r.id.to_string())
            .bind(user.to_string())
            .fetch_optional(&mut *conn)
            .await?;
        if known.is_none() {
            sqlx::query("INSERT INTO approval_decisions (request_id, user_id) VALUES ($1, $2)")
                .bind(r.id.to_string())
                .bind(user.to_string())
                .execute(&mut *conn)
                .await?;
        }
    }
    Ok(())
}

/// Restricts a requests list to those the user decided a stage of.
pub fn decided_by(user: Uuid) -> Where {
    Where::new()
        .and_eq("t.id IN (SELECT request_id FROM approval_decisions WHERE user_id = {})", Param::Text(user.to_string()))
}

pub async fn update(conn: &mut Tx, r: &AssignmentRequest) -> Result<()> {
    let [_, state, _, _, target, _, _, assignment, deadline] = columns(r);
    sqlx::query(
        "UPDATE assignment_requests SET state = $2, target_id = $3, assignment_id = $4, next_deadline = $5, body = $6,
         completed_date_time = $7 WHERE id = $1",
    )
    .bind(r.id.to_string())
    .bind(state)
    .bind(target)
    .bind(assignment)
    .bind(deadline)
    .bind(rows::to_json(r))
    .bind(r.completed_date_time.as_ref().map(ts))
    .execute(&mut *conn)
    .await?;
    write_assignees(conn, r).await?;
    write_decisions(conn, r).await
}

pub async fn get(conn: &mut Tx, id: Uuid) -> Result<Option<AssignmentRequest>> {
    let row = sqlx::query("SELECT body FROM assignment_requests WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Delete a request record and its approver rows. The caller decides whether it may go; jobs
/// that named it stay as they are (their outcomes no longer change any request).
pub async fn delete(conn: &mut Tx, id: Uuid) -> Result<()> {
    for table in ["approval_assignees", "approval_decisions"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE request_id = $1"))
            .bind(id.to_string())
            .execute(&mut *conn)
            .await?;
    }
    sqlx::query("DELETE FROM assignment_requests WHERE id = $1").bind(id.to_string()).execute(&mut *conn).await?;
    Ok(())
}

/// Lock a request for a decision: on PostgreSQL `FOR UPDATE`, so two approvers deciding at
/// once are serialised; SQLite transactions already hold the write lock.
pub async fn get_for_update(conn: &mut Tx, id: Uuid, postgres: bool) -> Result<Option<AssignmentRequest>> {
    let sql = if postgres {
        "SELECT body FROM assignment_requests WHERE id = $1 FOR UPDATE"
    } else {
        "SELECT body FROM assignment_requests WHERE id = $1"
    };
    let row = sqlx::query(sql).bind(id.to_string()).fetch_optional(&mut *conn).await?;
    row.as_ref().map(from_row).transpose()
}

/// An open request by the same target for the same package, if any.
pub async fn open_for(conn: &mut Tx, package: Uuid, target: Uuid) -> Result<Option<Uuid>> {
    let row = sqlx::query(
        "SELECT id FROM assignment_requests WHERE access_package_id = $1 AND target_id = $2
         AND state IN ('submitted', 'pendingApproval', 'scheduled', 'delivering') LIMIT 1",
    )
    .bind(package.to_string())
    .bind(target.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| rows::uuid(&r, "id")).transpose()
}

/// Requests whose deadline has come (escalation, automatic denial, scheduled start).
pub async fn due(conn: &mut Tx, now: DateTime<Utc>, limit: i64) -> Result<Vec<Uuid>> {
    let found =
        sqlx::query("SELECT id FROM assignment_requests WHERE next_deadline <= $1 ORDER BY next_deadline LIMIT $2")
            .bind(ts(&now))
            .bind(limit)
            .fetch_all(&mut *conn)
            .await?;
    found.iter().map(|r| rows::uuid(r, "id")).collect()
}

pub fn targeting(user: Uuid) -> Where {
    Where::new().and_eq("t.target_id = {}", Param::Text(user.to_string()))
}

pub fn created_by(user: Uuid) -> Where {
    Where::new().and_eq("t.requestor_id = {}", Param::Text(user.to_string()))
}

/// Requests awaiting this approver's decision.
pub fn awaiting(user: Uuid) -> Where {
    Where::new().and_eq(
        "t.state = 'pendingApproval' AND t.id IN (SELECT request_id FROM approval_assignees WHERE user_id = {})",
        Param::Text(user.to_string()),
    )
}
