//! Custom extensions of catalogs. The signing secret arrives sealed (`app::secrets`).

use gatehouse_domain::custom_extension::{CustomExtension, ExtensionKind};
use gatehouse_domain::duration::Duration;
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::rows::{self, ts};
use crate::{Result, Tx};

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Body {
    kind: ExtensionKind,
    description: Option<String>,
    target_url: String,
    timeout_ms: i64,
    maximum_retries: i64,
    callback_timeout: Option<Duration>,
    created_by: Option<String>,
    last_modified_by: Option<String>,
}

/// An extension as stored: its secret still sealed.
pub struct Stored {
    pub extension: CustomExtension,
    pub sealed_secret: Option<String>,
}

fn from_row(row: &AnyRow) -> Result<Stored> {
    let b: Body = rows::json(row, "body")?;
    Ok(Stored {
        extension: CustomExtension {
            id: rows::uuid(row, "id")?,
            catalog_id: rows::uuid(row, "catalog_id")?,
            kind: b.kind,
            display_name: rows::text(row, "display_name")?,
            description: b.description,
            target_url: b.target_url,
            timeout_ms: b.timeout_ms,
            maximum_retries: b.maximum_retries,
            callback_timeout: b.callback_timeout,
            signing_secret: None,
            created_by: b.created_by,
            created_date_time: rows::time(row, "created_date_time")?,
            last_modified_by: b.last_modified_by,
            last_modified_date_time: rows::time(row, "modified_date_time")?,
        },
        sealed_secret: rows::opt_text(row, "sealed_secret")?,
    })
}

fn body(e: &CustomExtension) -> String {
    rows::to_json(&Body {
        kind: e.kind,
        description: e.description.clone(),
        target_url: e.target_url.clone(),
        timeout_ms: e.timeout_ms,
        maximum_retries: e.maximum_retries,
        callback_timeout: e.callback_timeout,
        created_by: e.created_by.clone(),
        last_modified_by: e.last_modified_by.clone(),
    })
}

fn kind(k: ExtensionKind) -> &'static str {
    match k {
        ExtensionKind::AssignmentRequest => "assignmentRequest",
        ExtensionKind::Assignment => "assignment",
    }
}

pub async fn insert(conn: &mut Tx, e: &CustomExtension, sealed: Option<&str>) -> Result<()> {
    sqlx::query(
        "INSERT INTO custom_extensions (id, catalog_id, kind, display_name, body, sealed_secret, created_date_time, modified_date_time)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(e.id.to_string())
    .bind(e.catalog_id.to_string())
    .bind(kind(e.kind))
    .bind(e.display_name.clone())
    .bind(body(e))
    .bind(sealed.map(str::to_owned))
    .bind(ts(&e.created_date_time))
    .bind(ts(&e.last_modified_date_time))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn update(conn: &mut Tx, e: &CustomExtension, sealed: Option<&str>) -> Result<()> {
    sqlx::query(
        "UPDATE custom_extensions SET display_name = $2, body = $3, sealed_secret = $4, modified_date_time = $5 WHERE id = $1",
    )
    .bind(e.id.to_string())
    .bind(e.display_name.clone())
    .bind(body(e))
    .bind(sealed.map(str::to_owned))
    .bind(ts(&e.last_modified_date_time))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn get(conn: &mut Tx, id: Uuid) -> Result<Option<Stored>> {
    let row = sqlx::query("SELECT * FROM custom_extensions WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn in_catalog(conn: &mut Tx, catalog: Uuid) -> Result<Vec<Stored>> {
    let found = sqlx::query("SELECT * FROM custom_extensions WHERE catalog_id = $1 ORDER BY display_name, id")
        .bind(catalog.to_string())
        .fetch_all(&mut *conn)
        .await?;
    found.iter().map(from_row).collect()
}

pub async fn delete(conn: &mut Tx, id: Uuid) -> Result<()> {
    sqlx::query("DELETE FROM custom_extensions WHERE id = $1").bind(id.to_string()).execute(&mut *conn).await?;
    Ok(())
}

/// Names of the policies whose stage settings name the extension.
pub async fn policies_using(conn: &mut Tx, id: Uuid) -> Result<Vec<String>> {
    let found = sqlx::query("SELECT display_name FROM assignment_policies WHERE body LIKE $1 ORDER BY display_name")
        .bind(format!("%\"customExtensionId\":\"{id}\"%"))
        .fetch_all(&mut *conn)
        .await?;
    found.iter().map(|r| rows::text(r, "display_name")).collect()
}
