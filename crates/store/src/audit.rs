//! The append-only audit log. Rows are only ever inserted; there is no update or delete here.

use gatehouse_domain::audit::AuditRecord;
use sqlx::any::AnyRow;

use crate::query::{Field, Kind, Schema};
use crate::rows::{self, ts};
use crate::{Result, Tx};

pub const SCHEMA: Schema = Schema {
    name: "auditLogs",
    table: "audit_log",
    fields: &[
        Field::new("id", "id", Kind::Guid),
        Field::new("activity", "activity", Kind::Text),
        Field::new("targetType", "target_type", Kind::Text),
        Field::new("targetId", "target_id", Kind::Text),
        Field::new("actorId", "actor_id", Kind::Guid),
        Field::new("activityDateTime", "activity_date_time", Kind::DateTime),
        Field::new("correlationId", "correlation_id", Kind::Text),
    ],
    collections: &[],
    search: &[],
};

pub fn from_row(row: &AnyRow) -> Result<AuditRecord> {
    Ok(AuditRecord {
        id: rows::uuid(row, "id")?,
        activity_date_time: rows::time(row, "activity_date_time")?,
        actor_id: rows::opt_uuid(row, "actor_id")?,
        actor_display_name: rows::text(row, "actor_display_name")?,
        activity: rows::text(row, "activity")?,
        target_type: rows::text(row, "target_type")?,
        target_id: rows::text(row, "target_id")?,
        before: rows::opt_text(row, "before_json")?.and_then(|s| serde_json::from_str(&s).ok()),
        after: rows::opt_text(row, "after_json")?.and_then(|s| serde_json::from_str(&s).ok()),
        correlation_id: rows::opt_text(row, "correlation_id")?,
    })
}

pub async fn append(conn: &mut Tx, r: &AuditRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (id, activity_date_time, actor_id, actor_display_name, activity, target_type, target_id,
         before_json, after_json, correlation_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(r.id.to_string())
    .bind(ts(&r.activity_date_time))
    .bind(r.actor_id.map(|x| x.to_string()))
    .bind(r.actor_display_name.clone())
    .bind(r.activity.clone())
    .bind(r.target_type.clone())
    .bind(r.target_id.clone())
    .bind(r.before.as_ref().map(rows::to_json))
    .bind(r.after.as_ref().map(rows::to_json))
    .bind(r.correlation_id.clone())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn count(conn: &mut Tx) -> Result<i64> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM audit_log").fetch_one(&mut *conn).await?;
    rows::int(&row, "n")
}
