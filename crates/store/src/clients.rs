//! API clients (service principals) and the key their access tokens are signed with.

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::rows::{self, b, ts};
use crate::{conflict_on_unique, Result, Tx};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServicePrincipal {
    pub id: Uuid,
    pub client_id: String,
    pub display_name: String,
    /// Space-separated scopes the client may ask for.
    pub scopes: String,
    pub enabled: bool,
    pub created_date_time: DateTime<Utc>,
}

fn from_row(r: &AnyRow) -> Result<ServicePrincipal> {
    Ok(ServicePrincipal {
        id: rows::uuid(r, "id")?,
        client_id: rows::text(r, "client_id")?,
        display_name: rows::text(r, "display_name")?,
        scopes: rows::text(r, "scopes")?,
        enabled: rows::boolean(r, "enabled")?,
        created_date_time: rows::time(r, "created_date_time")?,
    })
}

pub async fn insert(conn: &mut Tx, sp: &ServicePrincipal, secret_hash: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO service_principals (id, client_id, display_name, secret_hash, scopes, enabled, created_date_time)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(sp.id.to_string())
    .bind(sp.client_id.clone())
    .bind(sp.display_name.clone())
    .bind(secret_hash.to_owned())
    .bind(sp.scopes.clone())
    .bind(b(sp.enabled))
    .bind(ts(&sp.created_date_time))
    .execute(&mut *conn)
    .await
    .map_err(|e| conflict_on_unique(e, || format!("client id '{}' is already in use", sp.client_id)))?;
    Ok(())
}

/// The client and its secret's hash.
pub async fn find_by_client_id(conn: &mut Tx, client_id: &str) -> Result<Option<(ServicePrincipal, String)>> {
    let row = sqlx::query("SELECT * FROM service_principals WHERE client_id = $1")
        .bind(client_id.to_owned())
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|r| Ok((from_row(&r)?, rows::text(&r, "secret_hash")?))).transpose()
}

pub async fn get(conn: &mut Tx, id: Uuid) -> Result<Option<ServicePrincipal>> {
    let row = sqlx::query("SELECT * FROM service_principals WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn list(conn: &mut Tx) -> Result<Vec<ServicePrincipal>> {
    let found =
        sqlx::query("SELECT * FROM service_principals ORDER BY display_name, client_id").fetch_all(&mut *conn).await?;
    found.iter().map(from_row).collect()
}

pub async fn set_enabled(conn: &mut Tx, id: Uuid, enabled: bool) -> Result<bool> {
    let r = sqlx::query("UPDATE service_principals SET enabled = $2 WHERE id = $1")
        .bind(id.to_string())
        .bind(b(enabled))
        .execute(&mut *conn)
        .await?;
    Ok(r.rows_affected() > 0)
}

/// The current signing key: (kid, PKCS#8, public key), base64 in the table.
pub async fn signing_key(conn: &mut Tx) -> Result<Option<(String, String, String)>> {
    let row =
        sqlx::query("SELECT kid, private_key, public_key FROM signing_keys ORDER BY created_date_time DESC LIMIT 1")
            .fetch_optional(&mut *conn)
            .await?;
    row.map(|r| Ok((rows::text(&r, "kid")?, rows::text(&r, "private_key")?, rows::text(&r, "public_key")?))).transpose()
}

/// Store a key unless one exists (replicas starting together race here; the first wins and the
/// others read it back).
pub async fn insert_signing_key_if_none(
    conn: &mut Tx,
    kid: &str,
    private_key: &str,
    public_key: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO signing_keys (kid, algorithm, private_key, public_key, created_date_time)
         SELECT $1, 'EdDSA', $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM signing_keys)",
    )
    .bind(kid.to_owned())
    .bind(private_key.to_owned())
    .bind(public_key.to_owned())
    .bind(ts(&now))
    .execute(&mut *conn)
    .await?;
    Ok(())
}
