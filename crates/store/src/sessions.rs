//! Sign-in state: sessions (looked up by the SHA-256 of the cookie's secret), pending OpenID
//! Connect sign-ins, and bootstrap links. Secrets are never stored, only their hashes.

use chrono::{DateTime, Utc};
use gatehouse_domain::session::{AuthMethod, Session};
use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::rows::{self, ts};
use crate::{Result, StoreError, Tx};

fn session_from(r: &AnyRow) -> Result<Session> {
    let method = rows::text(r, "auth_method")?;
    Ok(Session {
        id: rows::uuid(r, "id")?,
        user_id: rows::uuid(r, "user_id")?,
        auth_method: AuthMethod::parse(&method)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown auth method '{method}'")))?,
        identity_issuer: rows::opt_text(r, "identity_issuer")?,
        csrf_token: rows::text(r, "csrf_token")?,
        created_date_time: rows::time(r, "created_date_time")?,
        last_seen_date_time: rows::time(r, "last_seen_date_time")?,
        expires_date_time: rows::time(r, "expires_date_time")?,
        ended_date_time: rows::opt_time(r, "ended_date_time")?,
        client_ip: rows::opt_text(r, "client_ip")?,
        user_agent: rows::opt_text(r, "user_agent")?,
    })
}

pub async fn insert(conn: &mut Tx, s: &Session, secret_hash: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO sessions (id, secret_hash, user_id, auth_method, identity_issuer, csrf_token, created_date_time,
         last_seen_date_time, expires_date_time, ended_date_time, client_ip, user_agent)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(s.id.to_string())
    .bind(secret_hash.to_owned())
    .bind(s.user_id.to_string())
    .bind(s.auth_method.as_str())
    .bind(s.identity_issuer.clone())
    .bind(s.csrf_token.clone())
    .bind(ts(&s.created_date_time))
    .bind(ts(&s.last_seen_date_time))
    .bind(ts(&s.expires_date_time))
    .bind(s.ended_date_time.as_ref().map(ts))
    .bind(s.client_ip.clone())
    .bind(s.user_agent.clone())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn find_by_secret_hash(conn: &mut Tx, secret_hash: &str) -> Result<Option<Session>> {
    let row = sqlx::query("SELECT * FROM sessions WHERE secret_hash = $1")
        .bind(secret_hash.to_owned())
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(session_from).transpose()
}

pub async fn get(conn: &mut Tx, id: Uuid) -> Result<Option<Session>> {
    let row =
        sqlx::query("SELECT * FROM sessions WHERE id = $1").bind(id.to_string()).fetch_optional(&mut *conn).await?;
    row.as_ref().map(session_from).transpose()
}

/// A user's sessions, newest first, ended ones included (they explain past sign-ins).
pub async fn list_for_user(conn: &mut Tx, user: Uuid, limit: i64) -> Result<Vec<Session>> {
    let found = sqlx::query("SELECT * FROM sessions WHERE user_id = $1 ORDER BY created_date_time DESC LIMIT $2")
        .bind(user.to_string())
        .bind(limit)
        .fetch_all(&mut *conn)
        .await?;
    found.iter().map(session_from).collect()
}

pub async fn touch(conn: &mut Tx, id: Uuid, now: DateTime<Utc>) -> Result<()> {
    sqlx::query("UPDATE sessions SET last_seen_date_time = $2 WHERE id = $1 AND ended_date_time IS NULL")
        .bind(id.to_string())
        .bind(ts(&now))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// End one session. Returns whether it was still open.
pub async fn end(conn: &mut Tx, id: Uuid, now: DateTime<Utc>) -> Result<bool> {
    let r = sqlx::query("UPDATE sessions SET ended_date_time = $2 WHERE id = $1 AND ended_date_time IS NULL")
        .bind(id.to_string())
        .bind(ts(&now))
        .execute(&mut *conn)
        .await?;
    Ok(r.rows_affected() > 0)
}

/// End every open session of a user. Returns how many.
pub async fn end_all_for_user(conn: &mut Tx, user: Uuid, now: DateTime<Utc>) -> Result<u64> {
    let r = sqlx::query("UPDATE sessions SET ended_date_time = $2 WHERE user_id = $1 AND ended_date_time IS NULL")
        .bind(user.to_string())
        .bind(ts(&now))
        .execute(&mut *conn)
        .await?;
    Ok(r.rows_affected())
}

/// A sign-in at an OpenID Connect provider that has not come back yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInFlow {
    /// SHA-256 of the `state` parameter.
    pub state_hash: String,
    /// SHA-256 of the pre-sign-in cookie: the callback must come back to the same browser.
    pub browser_hash: String,
    pub issuer: String,
    /// The connected organization whose provider this is; none for the host's provider.
    pub organization_id: Option<Uuid>,
    pub nonce: String,
    pub pkce_verifier: String,
    pub return_to: Option<String>,
    pub created_date_time: DateTime<Utc>,
    pub expires_date_time: DateTime<Utc>,
}

pub async fn insert_flow(conn: &mut Tx, f: &SignInFlow) -> Result<()> {
    sqlx::query(
        "INSERT INTO sign_in_flows (state_hash, browser_hash, issuer, organization_id, nonce, pkce_verifier, return_to,
         created_date_time, expires_date_time) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(f.state_hash.clone())
    .bind(f.browser_hash.clone())
    .bind(f.issuer.clone())
    .bind(f.organization_id.map(|o| o.to_string()))
    .bind(f.nonce.clone())
    .bind(f.pkce_verifier.clone())
    .bind(f.return_to.clone())
    .bind(ts(&f.created_date_time))
    .bind(ts(&f.expires_date_time))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Take a pending sign-in out of the table: whoever takes it first owns it, so a replayed
/// `state` finds nothing.
pub async fn take_flow(conn: &mut Tx, state_hash: &str) -> Result<Option<SignInFlow>> {
    let row = sqlx::query("DELETE FROM sign_in_flows WHERE state_hash = $1 RETURNING *")
        .bind(state_hash.to_owned())
        .fetch_optional(&mut *conn)
        .await?;
    let Some(r) = row else { return Ok(None) };
    Ok(Some(SignInFlow {
        state_hash: rows::text(&r, "state_hash")?,
        browser_hash: rows::text(&r, "browser_hash")?,
        issuer: rows::text(&r, "issuer")?,
        organization_id: rows::opt_uuid(&r, "organization_id")?,
        nonce: rows::text(&r, "nonce")?,
        pkce_verifier: rows::text(&r, "pkce_verifier")?,
        return_to: rows::opt_text(&r, "return_to")?,
        created_date_time: rows::time(&r, "created_date_time")?,
        expires_date_time: rows::time(&r, "expires_date_time")?,
    }))
}

/// Forget sign-ins that never came back.
pub async fn delete_expired_flows(conn: &mut Tx, now: DateTime<Utc>) -> Result<u64> {
    let r = sqlx::query("DELETE FROM sign_in_flows WHERE expires_date_time <= $1")
        .bind(ts(&now))
        .execute(&mut *conn)
        .await?;
    Ok(r.rows_affected())
}

pub async fn insert_bootstrap_link(
    conn: &mut Tx,
    secret_hash: &str,
    user: Uuid,
    now: DateTime<Utc>,
    expires: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO bootstrap_links (secret_hash, user_id, created_date_time, expires_date_time) VALUES ($1, $2, $3, $4)",
    )
    .bind(secret_hash.to_owned())
    .bind(user.to_string())
    .bind(ts(&now))
    .bind(ts(&expires))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Use a bootstrap link: it must exist, be unused and unexpired. Returns its user; the link is
/// spent either way once found, so it cannot be tried twice.
pub async fn redeem_bootstrap_link(conn: &mut Tx, secret_hash: &str, now: DateTime<Utc>) -> Result<Option<Uuid>> {
    let row = sqlx::query(
        "UPDATE bootstrap_links SET used_date_time = $2 WHERE secret_hash = $1 AND used_date_time IS NULL
         RETURNING user_id, expires_date_time",
    )
    .bind(secret_hash.to_owned())
    .bind(ts(&now))
    .fetch_optional(&mut *conn)
    .await?;
    let Some(r) = row else { return Ok(None) };
    if rows::time(&r, "expires_date_time")? <= now {
        return Ok(None);
    }
    Ok(Some(rows::uuid(&r, "user_id")?))
}
