//! Connections to target systems, their health, the accounts Gatehouse holds in them, and what
//! their resources' roles are granted to. Credentials arrive sealed (`app::secrets`): this
//! module never sees them in clear.

use chrono::{DateTime, Utc};
use gatehouse_domain::connection::{
    Connection, ConnectionKind, ConnectionSettings, ConnectionStatus, Health, ReconcileMode, Secrets,
};
use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::query::{Field, Kind, Schema};
use crate::rows::{self, b, ts};
use crate::{Result, StoreError, Tx};

fn kind(s: &str) -> Option<&'static str> {
    ConnectionKind::parse(s).map(ConnectionKind::as_str)
}

fn status(s: &str) -> Option<&'static str> {
    ConnectionStatus::parse(s).map(ConnectionStatus::as_str)
}

pub const CONNECTIONS: Schema = Schema {
    name: "connections",
    table: "connections",
    fields: &[
        Field::new("id", "id", Kind::Guid),
        Field::new("displayName", "display_name", Kind::Text),
        Field::new("description", "description", Kind::Text),
        Field::new("kind", "kind", Kind::Enum(kind)),
        Field::new("status", "status", Kind::Enum(status)),
        Field::new("createdDateTime", "created_date_time", Kind::DateTime),
        Field::new("modifiedDateTime", "modified_date_time", Kind::DateTime),
    ],
    collections: &[],
    search: &["LOWER(t.display_name) LIKE {p} ESCAPE '\\'"],
};

/// A connection as stored: its credentials still sealed.
#[derive(Debug, Clone)]
pub struct Stored {
    /// With empty [`Secrets`]; `app::secrets` opens `sealed` into them.
    pub connection: Connection,
    pub sealed_secrets: Option<String>,
}

pub fn from_row(row: &AnyRow) -> Result<Stored> {
    let kind_text = rows::text(row, "kind")?;
    let corrupt = |what: &str| StoreError::Corrupt(format!("connection {what}"));
    let settings_json = rows::text(row, "settings")?;
    let settings = match ConnectionKind::parse(&kind_text).ok_or_else(|| corrupt("kind"))? {
        ConnectionKind::Scim => ConnectionSettings::Scim(parse(&settings_json)?),
        ConnectionKind::Ldap => ConnectionSettings::Ldap(parse(&settings_json)?),
        ConnectionKind::Webhook => ConnectionSettings::Webhook(parse(&settings_json)?),
    };
    Ok(Stored {
        connection: Connection {
            id: rows::uuid(row, "id")?,
            display_name: rows::text(row, "display_name")?,
            description: rows::opt_text(row, "description")?,
            settings,
            secrets: Secrets::default(),
            reconcile_mode: ReconcileMode::parse(&rows::text(row, "reconcile_mode")?)
                .ok_or_else(|| corrupt("reconcile mode"))?,
            health: Health {
                status: ConnectionStatus::parse(&rows::text(row, "status")?).ok_or_else(|| corrupt("status"))?,
                last_error: rows::opt_text(row, "last_error")?,
                status_date_time: rows::opt_time(row, "status_date_time")?,
                last_success_date_time: rows::opt_time(row, "last_success_date_time")?,
                consecutive_failures: rows::int(row, "consecutive_failures")?,
                probe_after: rows::opt_time(row, "probe_after")?,
            },
            created_date_time: rows::time(row, "created_date_time")?,
            modified_date_time: rows::time(row, "modified_date_time")?,
        },
        sealed_secrets: rows::opt_text(row, "sealed_secrets")?,
    })
}

fn parse<T: serde::de::DeserializeOwned>(s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("connection settings: {e}")))
}

fn settings_json(c: &Connection) -> String {
    match &c.settings {
        ConnectionSettings::Scim(s) => rows::to_json(s),
        ConnectionSettings::Ldap(s) => rows::to_json(s),
        ConnectionSettings::Webhook(s) => rows::to_json(s),
    }
}

pub async fn insert(conn: &mut Tx, c: &Connection, sealed: Option<&str>) -> Result<()> {
    sqlx::query(
        "INSERT INTO connections (id, display_name, description, kind, settings, sealed_secrets, reconcile_mode, status,
         consecutive_failures, created_date_time, modified_date_time)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $10)",
    )
    .bind(c.id.to_string())
    .bind(c.display_name.clone())
    .bind(c.description.clone())
    .bind(c.kind().as_str())
    .bind(settings_json(c))
    .bind(sealed.map(str::to_owned))
    .bind(c.reconcile_mode.as_str())
    .bind(c.health.status.as_str())
    .bind(ts(&c.created_date_time))
    .bind(ts(&c.modified_date_time))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Write what people change: names, settings, credentials, mode (and the status a change of
/// settings resets). Health written by the workers goes through [`set_health`].
pub async fn update(conn: &mut Tx, c: &Connection, sealed: Option<&str>) -> Result<()> {
    sqlx::query(
        "UPDATE connections SET display_name = $2, description = $3, settings = $4, sealed_secrets = $5,
         reconcile_mode = $6, status = $7, last_error = $8, modified_date_time = $9 WHERE id = $1",
    )
    .bind(c.id.to_string())
    .bind(c.display_name.clone())
    .bind(c.description.clone())
    .bind(settings_json(c))
    .bind(sealed.map(str::to_owned))
    .bind(c.reconcile_mode.as_str())
    .bind(c.health.status.as_str())
    .bind(c.health.last_error.clone())
    .bind(ts(&c.modified_date_time))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn set_health(conn: &mut Tx, id: Uuid, h: &Health) -> Result<()> {
    sqlx::query(
        "UPDATE connections SET status = $2, last_error = $3, status_date_time = $4, last_success_date_time = $5,
         consecutive_failures = $6, probe_after = $7 WHERE id = $1",
    )
    .bind(id.to_string())
    .bind(h.status.as_str())
    .bind(h.last_error.as_ref().map(|e| e.chars().take(2000).collect::<String>()))
    .bind(h.status_date_time.as_ref().map(ts))
    .bind(h.last_success_date_time.as_ref().map(ts))
    .bind(h.consecutive_failures)
    .bind(h.probe_after.as_ref().map(ts))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn get(conn: &mut Tx, id: Uuid) -> Result<Option<Stored>> {
    get_for_update(conn, id, false).await
}

/// With `lock`, the row stays locked while a batch's outcome is folded into its health
/// (PostgreSQL only: SQLite's writer is single anyway).
pub async fn get_for_update(conn: &mut Tx, id: Uuid, lock: bool) -> Result<Option<Stored>> {
    let sql = if lock {
        "SELECT * FROM connections WHERE id = $1 FOR UPDATE"
    } else {
        "SELECT * FROM connections WHERE id = $1"
    };
    let row = sqlx::query(sql).bind(id.to_string()).fetch_optional(&mut *conn).await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn all(conn: &mut Tx) -> Result<Vec<Stored>> {
    let found = sqlx::query("SELECT * FROM connections ORDER BY display_name, id").fetch_all(&mut *conn).await?;
    found.iter().map(from_row).collect()
}

pub async fn delete(conn: &mut Tx, id: Uuid) -> Result<bool> {
    let r = sqlx::query("DELETE FROM connections WHERE id = $1").bind(id.to_string()).execute(&mut *conn).await?;
    Ok(r.rows_affected() > 0)
}

/// A resource that lives in a connection, with its catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceIn {
    pub catalog_id: Uuid,
    pub catalog: String,
    pub resource: String,
}

/// The resources that live in the connection.
pub async fn resources_in(conn: &mut Tx, id: Uuid) -> Result<Vec<ResourceIn>> {
    let found = sqlx::query(
        "SELECT c.id AS catalog_id, c.display_name AS catalog, r.display_name AS resource FROM resources r
         JOIN catalogs c ON c.id = r.catalog_id WHERE r.connection_id = $1 ORDER BY c.display_name, r.display_name",
    )
    .bind(id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    found
        .iter()
        .map(|r| {
            Ok(ResourceIn {
                catalog_id: rows::uuid(r, "catalog_id")?,
                catalog: rows::text(r, "catalog")?,
                resource: rows::text(r, "resource")?,
            })
        })
        .collect()
}

/// Jobs of the connection that are still to run, and the oldest of them.
pub async fn waiting_jobs(conn: &mut Tx, id: Uuid) -> Result<(i64, Option<DateTime<Utc>>)> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n, MIN(created_date_time) AS oldest FROM jobs WHERE connection_id = $1 AND state = 'pending'",
    )
    .bind(id.to_string())
    .fetch_one(&mut *conn)
    .await?;
    Ok((rows::int(&row, "n")?, rows::opt_time(&row, "oldest")?))
}

/// How many jobs wait on each connection that has any (the connections list).
pub async fn waiting_counts(conn: &mut Tx) -> Result<std::collections::HashMap<Uuid, i64>> {
    let found = sqlx::query(
        "SELECT connection_id, COUNT(*) AS n FROM jobs WHERE connection_id IS NOT NULL AND state = 'pending'
         GROUP BY connection_id",
    )
    .fetch_all(&mut *conn)
    .await?;
    found.iter().map(|r| Ok((rows::uuid(r, "connection_id")?, rows::int(r, "n")?))).collect()
}

/// A recovered connection's waiting jobs run now rather than at their backed-off times.
pub async fn release_jobs(conn: &mut Tx, id: Uuid, now: DateTime<Utc>) -> Result<u64> {
    let r =
        sqlx::query("UPDATE jobs SET run_after = $2 WHERE connection_id = $1 AND state = 'pending' AND run_after > $2")
            .bind(id.to_string())
            .bind(ts(&now))
            .execute(&mut *conn)
            .await?;
    Ok(r.rows_affected())
}

/// A person's account in a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub user_id: Uuid,
    /// `None` between recording the intent to create it and the target's answer.
    pub external_id: Option<String>,
    pub created_by_gatehouse: bool,
    pub active: bool,
}

fn account_from_row(row: &AnyRow) -> Result<Account> {
    Ok(Account {
        user_id: rows::uuid(row, "user_id")?,
        external_id: rows::opt_text(row, "external_id")?,
        created_by_gatehouse: rows::boolean(row, "created_by_gatehouse")?,
        active: rows::boolean(row, "active")?,
    })
}

pub async fn account(conn: &mut Tx, connection: Uuid, user: Uuid) -> Result<Option<Account>> {
    let row = sqlx::query("SELECT * FROM connection_accounts WHERE connection_id = $1 AND user_id = $2")
        .bind(connection.to_string())
        .bind(user.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(account_from_row).transpose()
}

/// Every account Gatehouse knows in the connection (reconciliation maps holders through them).
pub async fn accounts(conn: &mut Tx, connection: Uuid) -> Result<Vec<Account>> {
    let found = sqlx::query("SELECT * FROM connection_accounts WHERE connection_id = $1")
        .bind(connection.to_string())
        .fetch_all(&mut *conn)
        .await?;
    found.iter().map(account_from_row).collect()
}

/// Record (or replace) a person's account.
pub async fn put_account(conn: &mut Tx, connection: Uuid, a: &Account, now: DateTime<Utc>) -> Result<()> {
    sqlx::query("DELETE FROM connection_accounts WHERE connection_id = $1 AND user_id = $2")
        .bind(connection.to_string())
        .bind(a.user_id.to_string())
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO connection_accounts (connection_id, user_id, external_id, created_by_gatehouse, active, created_date_time)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(connection.to_string())
    .bind(a.user_id.to_string())
    .bind(a.external_id.clone())
    .bind(b(a.created_by_gatehouse))
    .bind(b(a.active))
    .bind(ts(&now))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn forget_account(conn: &mut Tx, connection: Uuid, user: Uuid) -> Result<()> {
    sqlx::query("DELETE FROM connection_accounts WHERE connection_id = $1 AND user_id = $2")
        .bind(connection.to_string())
        .bind(user.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Whether `user` holds any role in the connection through an active assignment other than
/// `except`: if not, their account there has nothing left to do.
pub async fn holds_anything_else(conn: &mut Tx, connection: Uuid, user: Uuid, except: Uuid) -> Result<bool> {
    let row = sqlx::query(
        "SELECT a.id FROM assignments a
         JOIN access_package_resource_role_scopes rs ON rs.access_package_id = a.access_package_id
         JOIN resource_roles r ON r.id = rs.role_id
         JOIN resources res ON res.id = r.resource_id
         WHERE a.target_id = $1 AND a.id <> $2 AND a.state <> 'expired' AND res.connection_id = $3 LIMIT 1",
    )
    .bind(user.to_string())
    .bind(except.to_string())
    .bind(connection.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.is_some())
}

/// One role a connection's resources offer, as the target names it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct GovernedRole {
    pub origin_system: String,
    pub resource_origin_id: String,
    pub role_origin_id: String,
    pub resource_display_name: String,
    pub role_display_name: String,
    /// One of the catalog resources that carry it (the same group may sit in several catalogs).
    pub resource_id: Uuid,
}

/// The roles of the connection that some access package grants: the ones Gatehouse governs.
pub async fn governed_roles(conn: &mut Tx, connection: Uuid) -> Result<Vec<GovernedRole>> {
    let found = sqlx::query(
        "SELECT DISTINCT res.origin_system, res.origin_id AS resource_origin_id, r.origin_id AS role_origin_id,
                res.display_name AS resource_name, r.display_name AS role_name, res.id AS resource_id
         FROM resources res JOIN resource_roles r ON r.resource_id = res.id
         JOIN access_package_resource_role_scopes rs ON rs.role_id = r.id
         WHERE res.connection_id = $1 ORDER BY res.origin_id, r.origin_id",
    )
    .bind(connection.to_string())
    .fetch_all(&mut *conn)
    .await?;
    let mut out: Vec<GovernedRole> = Vec::new();
    for row in &found {
        let role = GovernedRole {
            origin_system: rows::text(row, "origin_system")?,
            resource_origin_id: rows::text(row, "resource_origin_id")?,
            role_origin_id: rows::text(row, "role_origin_id")?,
            resource_display_name: rows::text(row, "resource_name")?,
            role_display_name: rows::text(row, "role_name")?,
            resource_id: rows::uuid(row, "resource_id")?,
        };
        if !out
            .iter()
            .any(|o| o.resource_origin_id == role.resource_origin_id && o.role_origin_id == role.role_origin_id)
        {
            out.push(role);
        }
    }
    Ok(out)
}

/// Who should hold a role of the connection: the targets of active assignments that grant it,
/// with the assignment (and its request) that explains each.
pub async fn explained_holders(
    conn: &mut Tx,
    connection: Uuid,
    resource_origin_id: &str,
    role_origin_id: &str,
) -> Result<Vec<(Uuid, Uuid, Option<Uuid>)>> {
    let found = sqlx::query(
        "SELECT a.target_id, a.id AS assignment_id, a.request_id FROM assignments a
         JOIN access_package_resource_role_scopes rs ON rs.access_package_id = a.access_package_id
         JOIN resource_roles r ON r.id = rs.role_id
         JOIN resources res ON res.id = r.resource_id
         WHERE a.state <> 'expired' AND res.connection_id = $1 AND res.origin_id = $2 AND r.origin_id = $3
         ORDER BY a.target_id, a.created_date_time",
    )
    .bind(connection.to_string())
    .bind(resource_origin_id.to_owned())
    .bind(role_origin_id.to_owned())
    .fetch_all(&mut *conn)
    .await?;
    found
        .iter()
        .map(|r| Ok((rows::uuid(r, "target_id")?, rows::uuid(r, "assignment_id")?, rows::opt_uuid(r, "request_id")?)))
        .collect()
}

/// Take the scheduled reconciliations that are due, moving each one's next time to `next`.
/// The conditional update makes exactly one replica take each.
pub async fn claim_due_reconciliations(conn: &mut Tx, now: DateTime<Utc>, next: DateTime<Utc>) -> Result<Vec<Uuid>> {
    let due = sqlx::query(
        "SELECT id, next_reconcile_date_time FROM connections
         WHERE kind <> 'webhook' AND (next_reconcile_date_time IS NULL OR next_reconcile_date_time <= $1) LIMIT 50",
    )
    .bind(ts(&now))
    .fetch_all(&mut *conn)
    .await?;
    let mut taken = Vec::new();
    for row in &due {
        let id = rows::text(row, "id")?;
        // Taken only if nobody moved it since we read it (NULL compared as '').
        let was = rows::opt_text(row, "next_reconcile_date_time")?.unwrap_or_default();
        let r = sqlx::query(
            "UPDATE connections SET next_reconcile_date_time = $2
             WHERE id = $1 AND COALESCE(next_reconcile_date_time, '') = $3",
        )
        .bind(id.clone())
        .bind(ts(&next))
        .bind(was)
        .execute(&mut *conn)
        .await?;
        if r.rows_affected() == 1 {
            taken.push(rows::uuid(row, "id")?);
        }
    }
    Ok(taken)
}
