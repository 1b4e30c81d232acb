//! Access packages, the resource roles they grant, and incompatibilities.

use gatehouse_domain::access_package::{AccessPackage, ResourceRoleScope};
use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::query::{Field, Kind, Param, Schema, Where};
use crate::rows::{self, b, ts};
use crate::{Result, Tx};

pub const SCHEMA: Schema = Schema {
    name: "accessPackages",
    table: "access_packages",
    fields: &[
        Field::new("id", "id", Kind::Guid),
        Field::new("displayName", "display_name", Kind::Text),
        Field::new("description", "description", Kind::Text),
        Field::new("isHidden", "is_hidden", Kind::Bool),
        Field::new("catalog/id", "catalog_id", Kind::Guid),
        Field::new("createdDateTime", "created_date_time", Kind::DateTime),
        Field::new("modifiedDateTime", "modified_date_time", Kind::DateTime),
    ],
    collections: &[],
    search: &["LOWER(t.display_name) LIKE {p} ESCAPE '\\'", "LOWER(t.description) LIKE {p} ESCAPE '\\'"],
};

pub fn from_row(row: &AnyRow) -> Result<AccessPackage> {
    Ok(AccessPackage {
        id: rows::uuid(row, "id")?,
        catalog_id: rows::uuid(row, "catalog_id")?,
        display_name: rows::text(row, "display_name")?,
        description: rows::opt_text(row, "description")?,
        is_hidden: rows::boolean(row, "is_hidden")?,
        created_date_time: rows::time(row, "created_date_time")?,
        modified_date_time: rows::time(row, "modified_date_time")?,
    })
}

pub async fn insert(conn: &mut Tx, p: &AccessPackage) -> Result<()> {
    sqlx::query(
        "INSERT INTO access_packages (id, catalog_id, display_name, description, is_hidden, created_date_time, modified_date_time)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(p.id.to_string())
    .bind(p.catalog_id.to_string())
    .bind(p.display_name.clone())
    .bind(p.description.clone())
    .bind(b(p.is_hidden))
    .bind(ts(&p.created_date_time))
    .bind(ts(&p.modified_date_time))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn update(conn: &mut Tx, p: &AccessPackage) -> Result<()> {
    sqlx::query("UPDATE access_packages SET display_name = $2, description = $3, is_hidden = $4, modified_date_time = $5 WHERE id = $1")
        .bind(p.id.to_string())
        .bind(p.display_name.clone())
        .bind(p.description.clone())
        .bind(b(p.is_hidden))
        .bind(ts(&p.modified_date_time))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn get(conn: &mut Tx, id: Uuid) -> Result<Option<AccessPackage>> {
    let row = sqlx::query("SELECT * FROM access_packages WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn delete(conn: &mut Tx, id: Uuid) -> Result<bool> {
    let r = sqlx::query("DELETE FROM access_packages WHERE id = $1").bind(id.to_string()).execute(&mut *conn).await?;
    Ok(r.rows_affected() > 0)
}

pub async fn count_assignments(conn: &mut Tx, package: Uuid) -> Result<i64> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM assignments WHERE access_package_id = $1 AND state <> 'expired'")
        .bind(package.to_string())
        .fetch_one(&mut *conn)
        .await?;
    rows::int(&row, "n")
}

pub async fn role_scopes(conn: &mut Tx, package: Uuid) -> Result<Vec<ResourceRoleScope>> {
    let found = sqlx::query(
        "SELECT * FROM access_package_resource_role_scopes WHERE access_package_id = $1 ORDER BY created_date_time, role_id",
    )
    .bind(package.to_string())
    .fetch_all(&mut *conn)
    .await?;
    found
        .iter()
        .map(|r| {
            Ok(ResourceRoleScope {
                access_package_id: rows::uuid(r, "access_package_id")?,
                role_id: rows::uuid(r, "role_id")?,
                scope_id: rows::uuid(r, "scope_id")?,
                created_date_time: rows::time(r, "created_date_time")?,
            })
        })
        .collect()
}

/// Returns false when the package already grants this role in this scope.
pub async fn add_role_scope(conn: &mut Tx, rs: &ResourceRoleScope) -> Result<bool> {
    let exists = sqlx::query("SELECT 1 AS x FROM access_package_resource_role_scopes WHERE access_package_id = $1 AND role_id = $2 AND scope_id = $3")
        .bind(rs.access_package_id.to_string())
        .bind(rs.role_id.to_string())
        .bind(rs.scope_id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    if exists.is_some() {
        return Ok(false);
    }
    sqlx::query("INSERT INTO access_package_resource_role_scopes (access_package_id, role_id, scope_id, created_date_time) VALUES ($1, $2, $3, $4)")
        .bind(rs.access_package_id.to_string())
        .bind(rs.role_id.to_string())
        .bind(rs.scope_id.to_string())
        .bind(ts(&rs.created_date_time))
        .execute(&mut *conn)
        .await?;
    Ok(true)
}

pub async fn remove_role_scope(conn: &mut Tx, package: Uuid, role: Uuid, scope: Uuid) -> Result<bool> {
    let r = sqlx::query("DELETE FROM access_package_resource_role_scopes WHERE access_package_id = $1 AND role_id = $2 AND scope_id = $3")
        .bind(package.to_string())
        .bind(role.to_string())
        .bind(scope.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(r.rows_affected() > 0)
}

/// Which link table an incompatibility lives in.
#[derive(Debug, Clone, Copy)]
pub enum Incompatible {
    AccessPackage,
    Group,
}

impl Incompatible {
    fn table_and_column(self) -> (&'static str, &'static str) {
        match self {
            Incompatible::AccessPackage => ("incompatible_access_packages", "incompatible_id"),
            Incompatible::Group => ("incompatible_groups", "group_id"),
        }
    }
}

pub async fn add_incompatible(conn: &mut Tx, kind: Incompatible, package: Uuid, other: Uuid) -> Result<bool> {
    let (table, col) = kind.table_and_column();
    let exists = sqlx::query(&format!("SELECT 1 AS x FROM {table} WHERE access_package_id = $1 AND {col} = $2"))
        .bind(package.to_string())
        .bind(other.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    if exists.is_some() {
        return Ok(false);
    }
    sqlx::query(&format!("INSERT INTO {table} (access_package_id, {col}) VALUES ($1, $2)"))
        .bind(package.to_string())
        .bind(other.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(true)
}

pub async fn remove_incompatible(conn: &mut Tx, kind: Incompatible, package: Uuid, other: Uuid) -> Result<bool> {
    let (table, col) = kind.table_and_column();
    let r = sqlx::query(&format!("DELETE FROM {table} WHERE access_package_id = $1 AND {col} = $2"))
        .bind(package.to_string())
        .bind(other.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(r.rows_affected() > 0)
}

/// Scopes for the navigation lists of a package.
pub fn incompatible_packages_of(package: Uuid) -> Where {
    Where::new().and_eq(
        "t.id IN (SELECT incompatible_id FROM incompatible_access_packages WHERE access_package_id = {})",
        Param::Text(package.to_string()),
    )
}

pub fn packages_incompatible_with(package: Uuid) -> Where {
    Where::new().and_eq(
        "t.id IN (SELECT access_package_id FROM incompatible_access_packages WHERE incompatible_id = {})",
        Param::Text(package.to_string()),
    )
}

pub fn incompatible_groups_of(package: Uuid) -> Where {
    Where::new().and_eq(
        "t.id IN (SELECT group_id FROM incompatible_groups WHERE access_package_id = {})",
        Param::Text(package.to_string()),
    )
}
