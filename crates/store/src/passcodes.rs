//! Email one-time passcode challenges. The code is stored only as a salted hash; the browser
//! that asked for it is known by the SHA-256 of a cookie it holds.

use chrono::{DateTime, Utc};
use gatehouse_domain::passcode::PasscodeChallenge;
use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::rows::{self, ts};
use crate::{Result, Tx};

/// A challenge and what the sign-in remembers beside it.
#[derive(Debug, Clone)]
pub struct StoredChallenge {
    pub challenge: PasscodeChallenge,
    pub return_to: Option<String>,
    pub mail_job_id: Option<Uuid>,
}

fn from_row(r: &AnyRow) -> Result<StoredChallenge> {
    Ok(StoredChallenge {
        challenge: PasscodeChallenge {
            id: rows::uuid(r, "id")?,
            email: rows::text(r, "email")?,
            code_hash: rows::text(r, "code_hash")?,
            organization_id: rows::opt_uuid(r, "organization_id")?,
            client_ip: rows::opt_text(r, "client_ip")?,
            created_date_time: rows::time(r, "created_date_time")?,
            expires_date_time: rows::time(r, "expires_date_time")?,
            failed_attempts: u32::try_from(rows::int(r, "failed_attempts")?).unwrap_or(u32::MAX),
            closed_date_time: rows::opt_time(r, "closed_date_time")?,
        },
        return_to: rows::opt_text(r, "return_to")?,
        mail_job_id: rows::opt_uuid(r, "mail_job_id")?,
    })
}

pub async fn insert(conn: &mut Tx, s: &StoredChallenge, browser_hash: &str) -> Result<()> {
    let c = &s.challenge;
    sqlx::query(
        "INSERT INTO passcode_challenges (id, email, code_hash, browser_hash, organization_id, client_ip, return_to,
         mail_job_id, created_date_time, expires_date_time, failed_attempts, closed_date_time)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(c.id.to_string())
    .bind(c.email.clone())
    .bind(c.code_hash.clone())
    .bind(browser_hash.to_owned())
    .bind(c.organization_id.map(|o| o.to_string()))
    .bind(c.client_ip.clone())
    .bind(s.return_to.clone())
    .bind(s.mail_job_id.map(|j| j.to_string()))
    .bind(ts(&c.created_date_time))
    .bind(ts(&c.expires_date_time))
    .bind(i64::from(c.failed_attempts))
    .bind(c.closed_date_time.as_ref().map(ts))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The challenge this browser asked for, locked for the try on PostgreSQL (SQLite writers are
/// serialised already), so that concurrent tries cannot both be counted as the first.
pub async fn for_browser(conn: &mut Tx, browser_hash: &str, postgres: bool) -> Result<Option<StoredChallenge>> {
    let sql = if postgres {
        "SELECT * FROM passcode_challenges WHERE browser_hash = $1 FOR UPDATE"
    } else {
        "SELECT * FROM passcode_challenges WHERE browser_hash = $1"
    };
    let row = sqlx::query(sql).bind(browser_hash.to_owned()).fetch_optional(&mut *conn).await?;
    row.as_ref().map(from_row).transpose()
}

/// Record a try: the tries counted and whether the challenge is closed.
pub async fn save_attempt(conn: &mut Tx, c: &PasscodeChallenge) -> Result<()> {
    sqlx::query("UPDATE passcode_challenges SET failed_attempts = $2, closed_date_time = $3 WHERE id = $1")
        .bind(c.id.to_string())
        .bind(i64::from(c.failed_attempts))
        .bind(c.closed_date_time.as_ref().map(ts))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Close the open challenges of an address (a newer code replaces them). Returns their mail jobs.
pub async fn close_open_for(conn: &mut Tx, email: &str, now: DateTime<Utc>) -> Result<Vec<Uuid>> {
    let rows = sqlx::query(
        "UPDATE passcode_challenges SET closed_date_time = $2 WHERE email = $1 AND closed_date_time IS NULL
         RETURNING mail_job_id",
    )
    .bind(email.to_owned())
    .bind(ts(&now))
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.iter().filter_map(|r| rows::opt_uuid(r, "mail_job_id").ok().flatten()).collect())
}

/// Codes sent to an address, and codes asked for from a client address, since `since`.
pub async fn sent_since(
    conn: &mut Tx,
    email: &str,
    client_ip: Option<&str>,
    since: DateTime<Utc>,
) -> Result<(u32, u32)> {
    let count = |r: AnyRow| u32::try_from(rows::int(&r, "n").unwrap_or(0)).unwrap_or(u32::MAX);
    let to_address =
        sqlx::query("SELECT COUNT(*) AS n FROM passcode_challenges WHERE email = $1 AND created_date_time >= $2")
            .bind(email.to_owned())
            .bind(ts(&since))
            .fetch_one(&mut *conn)
            .await?;
    let from_client = match client_ip {
        Some(ip) => count(
            sqlx::query(
                "SELECT COUNT(*) AS n FROM passcode_challenges WHERE client_ip = $1 AND created_date_time >= $2",
            )
            .bind(ip.to_owned())
            .bind(ts(&since))
            .fetch_one(&mut *conn)
            .await?,
        ),
        None => 0,
    };
    Ok((count(to_address), from_client))
}

/// Forget challenges created before `cutoff` (past every send window). Returns their mail jobs.
pub async fn delete_before(conn: &mut Tx, cutoff: DateTime<Utc>) -> Result<Vec<Uuid>> {
    let rows = sqlx::query("DELETE FROM passcode_challenges WHERE created_date_time < $1 RETURNING mail_job_id")
        .bind(ts(&cutoff))
        .fetch_all(&mut *conn)
        .await?;
    Ok(rows.iter().filter_map(|r| rows::opt_uuid(r, "mail_job_id").ok().flatten()).collect())
}

/// The mail job of a challenge carries the code until it is sent; once the challenge is
/// closed the code is useless, and its text is wiped from the outbox (a mail to nobody, which
/// the mail worker completes without sending if it had not run yet).
pub async fn wipe_mail_jobs(conn: &mut Tx, jobs: &[Uuid]) -> Result<()> {
    for id in jobs {
        sqlx::query("UPDATE jobs SET payload = $2 WHERE id = $1")
            .bind(id.to_string())
            .bind(r#"{"to":[],"toAddresses":[],"subject":"","body":""}"#)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}
