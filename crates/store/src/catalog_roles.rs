//! Who holds which role in which catalog (`catalog_role_assignments`).

use gatehouse_domain::principal::CatalogRole;
use uuid::Uuid;

use crate::{rows, Result, Tx};

/// One held role: (catalog, user, role).
pub type Held = (Uuid, Uuid, CatalogRole);

fn held(r: &sqlx::any::AnyRow) -> Result<Held> {
    Ok((rows::uuid(r, "catalog_id")?, rows::uuid(r, "user_id")?, rows::parsed(r, "role")?))
}

/// Every role held in `catalogs` (all catalogs when `None`), in a stable order.
pub async fn list(conn: &mut Tx, catalogs: Option<&[Uuid]>) -> Result<Vec<Held>> {
    let mut sql = "SELECT catalog_id, user_id, role FROM catalog_role_assignments".to_owned();
    if let Some(ids) = catalogs {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ph: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
        sql.push_str(&format!(" WHERE catalog_id IN ({})", ph.join(", ")));
    }
    sql.push_str(" ORDER BY catalog_id, user_id, role");
    let mut q = sqlx::query(&sql);
    for id in catalogs.unwrap_or_default() {
        q = q.bind(id.to_string());
    }
    q.fetch_all(&mut *conn).await?.iter().map(held).collect()
}

pub async fn exists(conn: &mut Tx, catalog: Uuid, user: Uuid, role: CatalogRole) -> Result<bool> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM catalog_role_assignments WHERE catalog_id = $1 AND user_id = $2 AND role = $3",
    )
    .bind(catalog.to_string())
    .bind(user.to_string())
    .bind(role.as_str())
    .fetch_one(&mut *conn)
    .await?;
    Ok(rows::int(&row, "n")? > 0)
}

/// Returns false when the role was already held.
pub async fn insert(conn: &mut Tx, catalog: Uuid, user: Uuid, role: CatalogRole) -> Result<bool> {
    if exists(conn, catalog, user, role).await? {
        return Ok(false);
    }
    sqlx::query("INSERT INTO catalog_role_assignments (catalog_id, user_id, role) VALUES ($1, $2, $3)")
        .bind(catalog.to_string())
        .bind(user.to_string())
        .bind(role.as_str())
        .execute(&mut *conn)
        .await?;
    Ok(true)
}

/// Returns false when the role was not held.
pub async fn delete(conn: &mut Tx, catalog: Uuid, user: Uuid, role: CatalogRole) -> Result<bool> {
    let done = sqlx::query("DELETE FROM catalog_role_assignments WHERE catalog_id = $1 AND user_id = $2 AND role = $3")
        .bind(catalog.to_string())
        .bind(user.to_string())
        .bind(role.as_str())
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() > 0)
}
