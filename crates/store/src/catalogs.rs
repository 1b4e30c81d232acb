//! Catalogs, their resources with roles and scopes, and resource requests.

use gatehouse_domain::catalog::{Catalog, Resource, ResourceRequest, ResourceRole, ResourceScope};
use gatehouse_domain::enums::{CatalogState, CatalogType};
use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::query::{Field, Kind, Param, Schema, Where};
use crate::rows::{self, b, ts};
use crate::{conflict_on_unique, Result, Tx};

fn state(s: &str) -> Option<&'static str> {
    CatalogState::parse(s).map(|v| v.as_str())
}

fn catalog_type(s: &str) -> Option<&'static str> {
    CatalogType::parse(s).map(|v| v.as_str())
}

pub const CATALOGS: Schema = Schema {
    name: "catalogs",
    table: "catalogs",
    fields: &[
        Field::new("id", "id", Kind::Guid),
        Field::new("displayName", "display_name", Kind::Text),
        Field::new("description", "description", Kind::Text),
        Field::new("state", "state", Kind::Enum(state)),
        Field::new("catalogType", "catalog_type", Kind::Enum(catalog_type)),
        Field::new("isExternallyVisible", "is_externally_visible", Kind::Bool),
        Field::new("createdDateTime", "created_date_time", Kind::DateTime),
        Field::new("modifiedDateTime", "modified_date_time", Kind::DateTime),
    ],
    collections: &[],
    search: &["LOWER(t.display_name) LIKE {p} ESCAPE '\\'"],
};

pub const RESOURCES: Schema = Schema {
    name: "resources",
    table: "resources",
    fields: &[
        Field::new("id", "id", Kind::Guid),
        Field::new("displayName", "display_name", Kind::Text),
        Field::new("originSystem", "origin_system", Kind::Text),
        Field::new("originId", "origin_id", Kind::Text),
        Field::new("createdDateTime", "created_date_time", Kind::DateTime),
    ],
    collections: &[],
    search: &["LOWER(t.display_name) LIKE {p} ESCAPE '\\'"],
};

pub const RESOURCE_ROLES: Schema = Schema {
    name: "resourceRoles",
    table: "resource_roles",
    fields: &[
        Field::new("id", "id", Kind::Guid),
        Field::new("displayName", "display_name", Kind::Text),
        Field::new("originSystem", "origin_system", Kind::Text),
        Field::new("originId", "origin_id", Kind::Text),
        Field::new("resource/id", "resource_id", Kind::Guid),
    ],
    collections: &[],
    search: &[],
};

pub const RESOURCE_SCOPES: Schema = Schema {
    name: "resourceScopes",
    table: "resource_scopes",
    fields: &[
        Field::new("id", "id", Kind::Guid),
        Field::new("displayName", "display_name", Kind::Text),
        Field::new("originSystem", "origin_system", Kind::Text),
        Field::new("originId", "origin_id", Kind::Text),
        Field::new("isRootScope", "is_root_scope", Kind::Bool),
        Field::new("resource/id", "resource_id", Kind::Guid),
    ],
    collections: &[],
    search: &[],
};

fn request_type(s: &str) -> Option<&'static str> {
    gatehouse_domain::enums::RequestType::parse(s).map(|v| v.as_str())
}

fn request_state(s: &str) -> Option<&'static str> {
    gatehouse_domain::enums::RequestState::parse(s).map(|v| v.as_str())
}

pub const RESOURCE_REQUESTS: Schema = Schema {
    name: "resourceRequests",
    table: "resource_requests",
    fields: &[
        Field::new("id", "id", Kind::Guid),
        Field::new("requestType", "request_type", Kind::Enum(request_type)),
        Field::new("state", "state", Kind::Enum(request_state)),
        Field::new("catalog/id", "catalog_id", Kind::Guid),
        Field::new("resource/id", "resource_id", Kind::Guid),
        Field::new("createdDateTime", "created_date_time", Kind::DateTime),
    ],
    collections: &[],
    search: &[],
};

pub fn catalog_from_row(row: &AnyRow) -> Result<Catalog> {
    Ok(Catalog {
        id: rows::uuid(row, "id")?,
        display_name: rows::text(row, "display_name")?,
        description: rows::opt_text(row, "description")?,
        catalog_type: rows::parsed(row, "catalog_type")?,
        state: rows::parsed(row, "state")?,
        is_externally_visible: rows::boolean(row, "is_externally_visible")?,
        created_date_time: rows::time(row, "created_date_time")?,
        modified_date_time: rows::time(row, "modified_date_time")?,
    })
}

pub async fn insert(conn: &mut Tx, c: &Catalog) -> Result<()> {
    sqlx::query(
        "INSERT INTO catalogs (id, display_name, description, catalog_type, state, is_externally_visible,
         created_date_time, modified_date_time) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(c.id.to_string())
    .bind(c.display_name.clone())
    .bind(c.description.clone())
    .bind(c.catalog_type.as_str())
    .bind(c.state.as_str())
    .bind(b(c.is_externally_visible))
    .bind(ts(&c.created_date_time))
    .bind(ts(&c.modified_date_time))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn update(conn: &mut Tx, c: &Catalog) -> Result<()> {
    sqlx::query(
        "UPDATE catalogs SET display_name = $2, description = $3, state = $4, is_externally_visible = $5,
         modified_date_time = $6 WHERE id = $1",
    )
    .bind(c.id.to_string())
    .bind(c.display_name.clone())
    .bind(c.description.clone())
    .bind(c.state.as_str())
    .bind(b(c.is_externally_visible))
    .bind(ts(&c.modified_date_time))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn get(conn: &mut Tx, id: Uuid) -> Result<Option<Catalog>> {
    let row =
        sqlx::query("SELECT * FROM catalogs WHERE id = $1").bind(id.to_string()).fetch_optional(&mut *conn).await?;
    row.as_ref().map(catalog_from_row).transpose()
}

/// Deletes the catalog and its resources; the caller has checked it holds no packages.
pub async fn delete(conn: &mut Tx, id: Uuid) -> Result<bool> {
    sqlx::query("DELETE FROM resources WHERE catalog_id = $1").bind(id.to_string()).execute(&mut *conn).await?;
    sqlx::query("DELETE FROM resource_requests WHERE catalog_id = $1").bind(id.to_string()).execute(&mut *conn).await?;
    let r = sqlx::query("DELETE FROM catalogs WHERE id = $1").bind(id.to_string()).execute(&mut *conn).await?;
    Ok(r.rows_affected() > 0)
}

pub async fn count_packages(conn: &mut Tx, catalog: Uuid) -> Result<i64> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM access_packages WHERE catalog_id = $1")
        .bind(catalog.to_string())
        .fetch_one(&mut *conn)
        .await?;
    rows::int(&row, "n")
}

pub fn in_catalog(catalog: Uuid) -> Where {
    Where::new().and_eq("t.catalog_id = {}", Param::Text(catalog.to_string()))
}

pub fn resource_from_row(row: &AnyRow) -> Result<Resource> {
    Ok(Resource {
        id: rows::uuid(row, "id")?,
        catalog_id: rows::uuid(row, "catalog_id")?,
        display_name: rows::text(row, "display_name")?,
        description: rows::opt_text(row, "description")?,
        origin_system: rows::text(row, "origin_system")?,
        origin_id: rows::text(row, "origin_id")?,
        connection_id: rows::opt_uuid(row, "connection_id")?,
        created_date_time: rows::time(row, "created_date_time")?,
        modified_date_time: rows::time(row, "modified_date_time")?,
    })
}

pub fn role_from_row(row: &AnyRow) -> Result<ResourceRole> {
    Ok(ResourceRole {
        id: rows::uuid(row, "id")?,
        resource_id: rows::uuid(row, "resource_id")?,
        catalog_id: rows::uuid(row, "catalog_id")?,
        display_name: rows::text(row, "display_name")?,
        description: rows::opt_text(row, "description")?,
        origin_system: rows::text(row, "origin_system")?,
        origin_id: rows::text(row, "origin_id")?,
    })
}

pub fn scope_from_row(row: &AnyRow) -> Result<ResourceScope> {
    Ok(ResourceScope {
        id: rows::uuid(row, "id")?,
        resource_id: rows::uuid(row, "resource_id")?,
        catalog_id: rows::uuid(row, "catalog_id")?,
        display_name: rows::text(row, "display_name")?,
        description: rows::opt_text(row, "description")?,
        origin_system: rows::text(row, "origin_system")?,
        origin_id: rows::text(row, "origin_id")?,
        is_root_scope: rows::boolean(row, "is_root_scope")?,
    })
}

pub async fn insert_resource(conn: &mut Tx, r: &Resource, roles: &[ResourceRole], scope: &ResourceScope) -> Result<()> {
    sqlx::query(
        "INSERT INTO resources (id, catalog_id, display_name, description, origin_system, origin_id,
         created_date_time, modified_date_time, connection_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(r.id.to_string())
    .bind(r.catalog_id.to_string())
    .bind(r.display_name.clone())
    .bind(r.description.clone())
    .bind(r.origin_system.clone())
    .bind(r.origin_id.clone())
    .bind(ts(&r.created_date_time))
    .bind(ts(&r.modified_date_time))
    .bind(r.connection_id.map(|c| c.to_string()))
    .execute(&mut *conn)
    .await
    .map_err(|e| {
        conflict_on_unique(e, || format!("resource {} '{}' is already in this catalog", r.origin_system, r.origin_id))
    })?;
    insert_roles(conn, roles, r.created_date_time).await?;
    sqlx::query(
        "INSERT INTO resource_scopes (id, resource_id, catalog_id, display_name, description, origin_system, origin_id,
         is_root_scope, created_date_time) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(scope.id.to_string())
    .bind(scope.resource_id.to_string())
    .bind(scope.catalog_id.to_string())
    .bind(scope.display_name.clone())
    .bind(scope.description.clone())
    .bind(scope.origin_system.clone())
    .bind(scope.origin_id.clone())
    .bind(b(scope.is_root_scope))
    .bind(ts(&r.created_date_time))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn insert_roles(conn: &mut Tx, roles: &[ResourceRole], now: chrono::DateTime<chrono::Utc>) -> Result<()> {
    for role in roles {
        sqlx::query(
            "INSERT INTO resource_roles (id, resource_id, catalog_id, display_name, description, origin_system, origin_id,
             created_date_time) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(role.id.to_string())
        .bind(role.resource_id.to_string())
        .bind(role.catalog_id.to_string())
        .bind(role.display_name.clone())
        .bind(role.description.clone())
        .bind(role.origin_system.clone())
        .bind(role.origin_id.clone())
        .bind(ts(&now))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

pub async fn update_resource(conn: &mut Tx, r: &Resource) -> Result<()> {
    sqlx::query("UPDATE resources SET display_name = $2, description = $3, modified_date_time = $4 WHERE id = $1")
        .bind(r.id.to_string())
        .bind(r.display_name.clone())
        .bind(r.description.clone())
        .bind(ts(&r.modified_date_time))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn get_resource(conn: &mut Tx, id: Uuid) -> Result<Option<Resource>> {
    let row =
        sqlx::query("SELECT * FROM resources WHERE id = $1").bind(id.to_string()).fetch_optional(&mut *conn).await?;
    row.as_ref().map(resource_from_row).transpose()
}

pub async fn find_resource(
    conn: &mut Tx,
    catalog: Uuid,
    origin_system: &str,
    origin_id: &str,
) -> Result<Option<Resource>> {
    let row = sqlx::query("SELECT * FROM resources WHERE catalog_id = $1 AND origin_system = $2 AND origin_id = $3")
        .bind(catalog.to_string())
        .bind(origin_system.to_owned())
        .bind(origin_id.to_owned())
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(resource_from_row).transpose()
}

pub async fn delete_resource(conn: &mut Tx, id: Uuid) -> Result<bool> {
    let r = sqlx::query("DELETE FROM resources WHERE id = $1").bind(id.to_string()).execute(&mut *conn).await?;
    Ok(r.rows_affected() > 0)
}

/// Names of packages that grant a role of this resource; a resource in use cannot be removed.
pub async fn packages_using_resource(conn: &mut Tx, resource: Uuid) -> Result<Vec<String>> {
    let found = sqlx::query(
        "SELECT DISTINCT p.display_name FROM access_package_resource_role_scopes rs
         JOIN resource_roles r ON r.id = rs.role_id JOIN access_packages p ON p.id = rs.access_package_id
         WHERE r.resource_id = $1 ORDER BY p.display_name",
    )
    .bind(resource.to_string())
    .fetch_all(&mut *conn)
    .await?;
    found.iter().map(|r| rows::text(r, "display_name")).collect()
}

pub async fn roles_of(conn: &mut Tx, resource: Uuid) -> Result<Vec<ResourceRole>> {
    let found = sqlx::query("SELECT * FROM resource_roles WHERE resource_id = $1 ORDER BY display_name")
        .bind(resource.to_string())
        .fetch_all(&mut *conn)
        .await?;
    found.iter().map(role_from_row).collect()
}

pub async fn scopes_of(conn: &mut Tx, resource: Uuid) -> Result<Vec<ResourceScope>> {
    let found = sqlx::query("SELECT * FROM resource_scopes WHERE resource_id = $1 ORDER BY display_name")
        .bind(resource.to_string())
        .fetch_all(&mut *conn)
        .await?;
    found.iter().map(scope_from_row).collect()
}

pub async fn get_role(conn: &mut Tx, id: Uuid) -> Result<Option<ResourceRole>> {
    let row = sqlx::query("SELECT * FROM resource_roles WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(role_from_row).transpose()
}

pub async fn get_scope(conn: &mut Tx, id: Uuid) -> Result<Option<ResourceScope>> {
    let row = sqlx::query("SELECT * FROM resource_scopes WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(scope_from_row).transpose()
}

/// A role found by origin id inside a catalog (how scripts name roles before knowing ids).
pub async fn find_role(
    conn: &mut Tx,
    catalog: Uuid,
    origin_id: &str,
    resource: Option<Uuid>,
) -> Result<Option<ResourceRole>> {
    let row = sqlx::query(
        "SELECT * FROM resource_roles WHERE catalog_id = $1 AND origin_id = $2 AND ($3 = '' OR resource_id = $3)",
    )
    .bind(catalog.to_string())
    .bind(origin_id.to_owned())
    .bind(resource.map(|r| r.to_string()).unwrap_or_default())
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(role_from_row).transpose()
}

pub async fn find_scope(
    conn: &mut Tx,
    catalog: Uuid,
    origin_id: &str,
    resource: Uuid,
) -> Result<Option<ResourceScope>> {
    let row =
        sqlx::query("SELECT * FROM resource_scopes WHERE catalog_id = $1 AND origin_id = $2 AND resource_id = $3")
            .bind(catalog.to_string())
            .bind(origin_id.to_owned())
            .bind(resource.to_string())
            .fetch_optional(&mut *conn)
            .await?;
    row.as_ref().map(scope_from_row).transpose()
}

pub fn request_from_row(row: &AnyRow) -> Result<ResourceRequest> {
    Ok(ResourceRequest {
        id: rows::uuid(row, "id")?,
        request_type: rows::parsed(row, "request_type")?,
        state: rows::parsed(row, "state")?,
        created_date_time: rows::time(row, "created_date_time")?,
        catalog_id: rows::uuid(row, "catalog_id")?,
        resource_id: rows::opt_uuid(row, "resource_id")?,
    })
}

pub async fn insert_request(conn: &mut Tx, r: &ResourceRequest) -> Result<()> {
    sqlx::query(
        "INSERT INTO resource_requests (id, catalog_id, resource_id, request_type, state, created_date_time)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(r.id.to_string())
    .bind(r.catalog_id.to_string())
    .bind(r.resource_id.map(|x| x.to_string()))
    .bind(r.request_type.as_str())
    .bind(r.state.as_str())
    .bind(ts(&r.created_date_time))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn get_request(conn: &mut Tx, id: Uuid) -> Result<Option<ResourceRequest>> {
    let row = sqlx::query("SELECT * FROM resource_requests WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(request_from_row).transpose()
}
