//! Reconciliation runs and the differences (findings) each one saw.

use gatehouse_domain::reconcile::{Finding, FindingAction, FindingKind, Reconciliation, ReconciliationState};
use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::rows::{self, b, ts};
use crate::{Result, StoreError, Tx};

fn from_row(row: &AnyRow) -> Result<Reconciliation> {
    let state = rows::text(row, "state")?;
    Ok(Reconciliation {
        id: rows::uuid(row, "id")?,
        connection_id: rows::uuid(row, "connection_id")?,
        fix: rows::boolean(row, "fix")?,
        scheduled: rows::boolean(row, "scheduled")?,
        requested_by: rows::opt_uuid(row, "requested_by")?,
        state: ReconciliationState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("reconciliation state '{state}'")))?,
        summary: rows::opt_text(row, "summary")?
            .map(|s| serde_json::from_str(&s).map_err(|e| StoreError::Corrupt(format!("reconciliation summary: {e}"))))
            .transpose()?,
        error: rows::opt_text(row, "error")?,
        created_date_time: rows::time(row, "created_date_time")?,
        finished_date_time: rows::opt_time(row, "finished_date_time")?,
    })
}

pub async fn insert(conn: &mut Tx, r: &Reconciliation) -> Result<()> {
    sqlx::query(
        "INSERT INTO reconciliations (id, connection_id, fix, scheduled, requested_by, state, summary, error, created_date_time)
         VALUES ($1, $2, $3, $4, $5, $6, NULL, NULL, $7)",
    )
    .bind(r.id.to_string())
    .bind(r.connection_id.to_string())
    .bind(b(r.fix))
    .bind(b(r.scheduled))
    .bind(r.requested_by.map(|u| u.to_string()))
    .bind(r.state.as_str())
    .bind(ts(&r.created_date_time))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn finish(conn: &mut Tx, r: &Reconciliation) -> Result<()> {
    sqlx::query(
        "UPDATE reconciliations SET state = $2, summary = $3, error = $4, finished_date_time = $5 WHERE id = $1",
    )
    .bind(r.id.to_string())
    .bind(r.state.as_str())
    .bind(r.summary.as_ref().map(rows::to_json))
    .bind(r.error.clone())
    .bind(r.finished_date_time.as_ref().map(ts))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn get(conn: &mut Tx, id: Uuid) -> Result<Option<Reconciliation>> {
    let row = sqlx::query("SELECT * FROM reconciliations WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// The connection's runs, newest first.
pub async fn of_connection(conn: &mut Tx, connection: Uuid, limit: i64) -> Result<Vec<Reconciliation>> {
    let found = sqlx::query(
        "SELECT * FROM reconciliations WHERE connection_id = $1 ORDER BY created_date_time DESC, id DESC LIMIT $2",
    )
    .bind(connection.to_string())
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    found.iter().map(from_row).collect()
}

/// The last finished run of the connection before `before`, if any.
pub async fn previous(conn: &mut Tx, connection: Uuid, before: Uuid) -> Result<Option<Reconciliation>> {
    let row = sqlx::query(
        "SELECT * FROM reconciliations WHERE connection_id = $1 AND id <> $2 AND state = 'succeeded'
         ORDER BY created_date_time DESC, id DESC LIMIT 1",
    )
    .bind(connection.to_string())
    .bind(before.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

fn finding_from_row(row: &AnyRow) -> Result<Finding> {
    let kind = rows::text(row, "kind")?;
    let action = rows::text(row, "action")?;
    Ok(Finding {
        id: rows::uuid(row, "id")?,
        reconciliation_id: rows::uuid(row, "reconciliation_id")?,
        connection_id: rows::uuid(row, "connection_id")?,
        resource_id: rows::opt_uuid(row, "resource_id")?,
        resource_display_name: rows::text(row, "resource_display_name")?,
        role_origin_id: rows::text(row, "role_origin_id")?,
        role_display_name: rows::text(row, "role_display_name")?,
        kind: FindingKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("finding kind '{kind}'")))?,
        holder: rows::text(row, "holder")?,
        holder_display_name: rows::text(row, "holder_display_name")?,
        user_id: rows::opt_uuid(row, "user_id")?,
        user_type: rows::opt_text(row, "user_type")?,
        action: FindingAction::parse(&action)
            .ok_or_else(|| StoreError::Corrupt(format!("finding action '{action}'")))?,
        detail: rows::opt_text(row, "detail")?,
        created_date_time: rows::time(row, "created_date_time")?,
    })
}

pub async fn insert_finding(conn: &mut Tx, f: &Finding) -> Result<()> {
    sqlx::query(
        "INSERT INTO drift_findings (id, reconciliation_id, connection_id, resource_id, role_origin_id, role_display_name,
         resource_display_name, kind, holder, holder_display_name, user_id, user_type, action, detail, created_date_time)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(f.id.to_string())
    .bind(f.reconciliation_id.to_string())
    .bind(f.connection_id.to_string())
    .bind(f.resource_id.map(|r| r.to_string()))
    .bind(f.role_origin_id.clone())
    .bind(f.role_display_name.clone())
    .bind(f.resource_display_name.clone())
    .bind(f.kind.as_str())
    .bind(f.holder.clone())
    .bind(f.holder_display_name.clone())
    .bind(f.user_id.map(|u| u.to_string()))
    .bind(f.user_type.clone())
    .bind(f.action.as_str())
    .bind(f.detail.clone())
    .bind(ts(&f.created_date_time))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn findings(conn: &mut Tx, run: Uuid) -> Result<Vec<Finding>> {
    let found = sqlx::query(
        "SELECT * FROM drift_findings WHERE reconciliation_id = $1 ORDER BY resource_display_name, role_display_name, kind, holder_display_name",
    )
    .bind(run.to_string())
    .fetch_all(&mut *conn)
    .await?;
    found.iter().map(finding_from_row).collect()
}
