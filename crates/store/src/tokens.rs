//! API bearer tokens, stored as SHA-256 hashes: a leaked database does not leak tokens.

use chrono::{DateTime, Utc};
use gatehouse_domain::principal::TokenScope;
use uuid::Uuid;

use crate::rows::{self, ts};
use crate::{Result, Tx};

#[derive(Debug, Clone)]
pub struct StoredToken {
    pub id: Uuid,
    pub user_id: Uuid,
    pub scopes: Vec<TokenScope>,
    pub description: Option<String>,
    pub created_date_time: DateTime<Utc>,
    pub expires_date_time: Option<DateTime<Utc>>,
    pub revoked: bool,
}

pub async fn insert(conn: &mut Tx, t: &StoredToken, token_hash: &str) -> Result<()> {
    let scopes = t.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ");
    sqlx::query(
        "INSERT INTO api_tokens (id, token_hash, user_id, scopes, description, created_date_time, expires_date_time, revoked)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 0)",
    )
    .bind(t.id.to_string())
    .bind(token_hash.to_owned())
    .bind(t.user_id.to_string())
    .bind(scopes)
    .bind(t.description.clone())
    .bind(ts(&t.created_date_time))
    .bind(t.expires_date_time.as_ref().map(ts))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn find_by_hash(conn: &mut Tx, token_hash: &str) -> Result<Option<StoredToken>> {
    let row = sqlx::query("SELECT * FROM api_tokens WHERE token_hash = $1")
        .bind(token_hash.to_owned())
        .fetch_optional(&mut *conn)
        .await?;
    let Some(r) = row else { return Ok(None) };
    let scopes = rows::text(&r, "scopes")?.split_whitespace().filter_map(TokenScope::parse).collect();
    Ok(Some(StoredToken {
        id: rows::uuid(&r, "id")?,
        user_id: rows::uuid(&r, "user_id")?,
        scopes,
        description: rows::opt_text(&r, "description")?,
        created_date_time: rows::time(&r, "created_date_time")?,
        expires_date_time: rows::opt_time(&r, "expires_date_time")?,
        revoked: rows::boolean(&r, "revoked")?,
    }))
}
