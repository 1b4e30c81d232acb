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

/// The hash of one record: SHA-256 over the previous hash and the record's canonical JSON.
pub fn chain_hash(prev_hash: &str, chain_no: i64, r: &AuditRecord) -> String {
    use sha2::{Digest, Sha256};
    let content = serde_json::json!({
        "chainNo": chain_no, "id": r.id, "at": ts(&r.activity_date_time), "actorId": r.actor_id,
        "actor": r.actor_display_name, "activity": r.activity, "targetType": r.target_type, "targetId": r.target_id,
        "before": r.before, "after": r.after, "correlationId": r.correlation_id,
    });
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(b"\n");
    h.update(content.to_string().as_bytes());
    hex::encode(h.finalize())
}

/// Rows per INSERT: 13 parameters each stays far below both backends' bind limits.
const INSERT_CHUNK: usize = 500;
const COLUMNS: usize = 13;

/// Append records, chained to the last one and to each other, inside the caller's transaction.
/// [`crate::WriteTx`] calls this just before commit.
pub(crate) async fn append_all(conn: &mut Tx, records: &[AuditRecord]) -> Result<()> {
    // Bumping the head row takes its lock, which orders every writer's records; numbers are
    // reserved for the whole batch at once.
    let head =
        sqlx::query("UPDATE audit_chain SET last_no = last_no + $1 WHERE id = 'head' RETURNING last_no, last_hash")
            .bind(records.len() as i64)
            .fetch_one(&mut *conn)
            .await?;
    let mut chain_no = rows::int(&head, "last_no")? - records.len() as i64;
    let mut prev_hash = rows::text(&head, "last_hash")?;
    for chunk in records.chunks(INSERT_CHUNK) {
        // Built by hand, not with sqlx's QueryBuilder: under `Any` it writes `?` placeholders,
        // which PostgreSQL does not accept.
        let mut sql = String::from(
            "INSERT INTO audit_log (id, activity_date_time, actor_id, actor_display_name, activity, target_type, \
             target_id, before_json, after_json, correlation_id, chain_no, prev_hash, hash) VALUES ",
        );
        for i in 0..chunk.len() {
            let params: Vec<String> = (1..=COLUMNS).map(|c| format!("${}", i * COLUMNS + c)).collect();
            sql.push_str(if i == 0 { "(" } else { ", (" });
            sql.push_str(&params.join(", "));
            sql.push(')');
        }
        let mut insert = sqlx::query(&sql);
        for r in chunk {
            chain_no += 1;
            let hash = chain_hash(&prev_hash, chain_no, r);
            insert = insert
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
                .bind(chain_no)
                .bind(std::mem::replace(&mut prev_hash, hash.clone()))
                .bind(hash);
        }
        insert.execute(&mut *conn).await?;
    }
    sqlx::query("UPDATE audit_chain SET last_hash = $1 WHERE id = 'head'").bind(prev_hash).execute(&mut *conn).await?;
    Ok(())
}

/// The outcome of checking the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    Intact {
        records: i64,
    },
    /// The first record whose content, link or number does not fit.
    Broken {
        chain_no: i64,
        record: String,
        reason: String,
    },
}

/// Recompute the chain from the first record: a changed, removed or inserted record breaks it.
pub async fn verify(conn: &mut Tx) -> Result<Verification> {
    let head =
        sqlx::query("SELECT last_no, last_hash FROM audit_chain WHERE id = 'head'").fetch_one(&mut *conn).await?;
    let (last_no, last_hash) = (rows::int(&head, "last_no")?, rows::text(&head, "last_hash")?);
    let mut expected_prev = String::new();
    let mut expected_no = 1i64;
    let mut after = 0i64;
    loop {
        let batch = sqlx::query("SELECT * FROM audit_log WHERE chain_no > $1 ORDER BY chain_no LIMIT 1000")
            .bind(after)
            .fetch_all(&mut *conn)
            .await?;
        if batch.is_empty() {
            break;
        }
        for row in &batch {
            let record = from_row(row)?;
            let no = rows::int(row, "chain_no")?;
            let broken = |reason: &str| Verification::Broken {
                chain_no: no,
                record: record.id.to_string(),
                reason: reason.to_owned(),
            };
            if no != expected_no {
                return Ok(Verification::Broken {
                    chain_no: expected_no,
                    record: record.id.to_string(),
                    reason: format!("record {expected_no} is missing"),
                });
            }
            if rows::text(row, "prev_hash")? != expected_prev {
                return Ok(broken("it does not link to the record before it"));
            }
            let hash = rows::text(row, "hash")?;
            if chain_hash(&expected_prev, no, &record) != hash {
                return Ok(broken("its content was changed after it was written"));
            }
            expected_prev = hash;
            expected_no += 1;
            after = no;
        }
    }
    if expected_no - 1 != last_no || expected_prev != last_hash {
        return Ok(Verification::Broken {
            chain_no: expected_no,
            record: String::new(),
            reason: format!("the chain ends at record {} but {last_no} were written", expected_no - 1),
        });
    }
    Ok(Verification::Intact { records: last_no })
}

pub async fn count(conn: &mut Tx) -> Result<i64> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM audit_log").fetch_one(&mut *conn).await?;
    rows::int(&row, "n")
}

/// What the admin portal's audit log filters on; each part optional. Text parts match
/// case-insensitively anywhere in the field; times bound `activity_date_time` (inclusive).
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub target: Option<String>,
    pub activity: Option<String>,
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    pub until: Option<chrono::DateTime<chrono::Utc>>,
}

impl AuditFilter {
    pub fn scope(&self) -> crate::query::Where {
        use crate::query::{escape_like, Param, Where};
        let like = |s: &str| Param::Text(format!("%{}%", escape_like(&s.to_lowercase())));
        let mut w = Where::new();
        if let Some(a) = &self.actor {
            w = w.and_eq("LOWER(t.actor_display_name) LIKE {} ESCAPE '\\'", like(a));
        }
        if let Some(t) = &self.target {
            // A target is named by its id or its type ("accessPackage"); `{}` is one parameter.
            w = w.and_eq("LOWER(t.target_id) LIKE {} ESCAPE '\\' OR LOWER(t.target_type) LIKE {} ESCAPE '\\'", like(t));
        }
        if let Some(a) = &self.activity {
            w = w.and_eq("LOWER(t.activity) LIKE {} ESCAPE '\\'", like(a));
        }
        if let Some(f) = self.from {
            w = w.and_eq("t.activity_date_time >= {}", Param::Text(crate::rows::ts(&f)));
        }
        if let Some(u) = self.until {
            w = w.and_eq("t.activity_date_time <= {}", Param::Text(crate::rows::ts(&u)));
        }
        w
    }
}
