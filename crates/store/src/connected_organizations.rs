//! Connected organizations, their identity sources and sponsors.

use gatehouse_domain::connected_organization::{
    ClientSecret, ConnectedOrganization, IdentitySource, SponsorKind, OIDC_TYPE,
};
use gatehouse_domain::enums::ConnectedOrganizationState;
use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::query::{Collection, Field, Kind, Schema};
use crate::rows::{self, ts};
use crate::{conflict_on_unique, Result, Tx};

fn state(s: &str) -> Option<&'static str> {
    ConnectedOrganizationState::parse(s).map(|v| v.as_str())
}

pub const SCHEMA: Schema = Schema {
    name: "connectedOrganizations",
    table: "connected_organizations",
    fields: &[
        Field::new("id", "id", Kind::Guid),
        Field::new("displayName", "display_name", Kind::Text),
        Field::new("description", "description", Kind::Text),
        Field::new("state", "state", Kind::Enum(state)),
        Field::new("createdDateTime", "created_date_time", Kind::DateTime),
        Field::new("modifiedDateTime", "modified_date_time", Kind::DateTime),
    ],
    collections: &[Collection {
        path: "identitySources",
        table: "connected_organization_identity_sources",
        parent_column: "organization_id",
        type_column: Some("odata_type"),
        fields: &[
            Field::new("domainName", "domain_name", Kind::Text),
            Field::new("displayName", "display_name", Kind::Text),
            Field::new("issuerUri", "issuer_uri", Kind::Text),
            Field::new("tenantId", "tenant_id", Kind::Text),
        ],
    }],
    search: &[
        "LOWER(t.display_name) LIKE {p} ESCAPE '\\'",
        "EXISTS (SELECT 1 FROM connected_organization_identity_sources s WHERE s.organization_id = t.id AND s.domain_name LIKE {p} ESCAPE '\\')",
    ],
};

pub fn from_row(row: &AnyRow) -> Result<ConnectedOrganization> {
    Ok(ConnectedOrganization {
        id: rows::uuid(row, "id")?,
        display_name: rows::text(row, "display_name")?,
        description: rows::opt_text(row, "description")?,
        identity_sources: rows::json(row, "identity_sources")?,
        state: rows::parsed(row, "state")?,
        created_date_time: rows::time(row, "created_date_time")?,
        modified_date_time: rows::time(row, "modified_date_time")?,
    })
}

fn client_secret(s: &IdentitySource) -> Option<&str> {
    match s {
        IdentitySource::Oidc { client_secret, .. } => client_secret.as_ref().map(ClientSecret::expose),
        _ => None,
    }
}

/// Gatehouse's client secret at the provider of `org`'s OIDC source for `domain` (never part of
/// the organization as read: the identity sources' JSON leaves it out).
pub async fn oidc_client_secret(conn: &mut Tx, org: Uuid, domain: &str) -> Result<Option<ClientSecret>> {
    let row = sqlx::query(
        "SELECT client_secret FROM connected_organization_identity_sources
         WHERE organization_id = $1 AND domain_name = $2 AND odata_type = $3",
    )
    .bind(org.to_string())
    .bind(domain.to_owned())
    .bind(OIDC_TYPE)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|r| rows::opt_text(&r, "client_secret")).transpose()?.flatten().map(ClientSecret))
}

async fn write_sources(conn: &mut Tx, org: &ConnectedOrganization) -> Result<()> {
    sqlx::query("DELETE FROM connected_organization_identity_sources WHERE organization_id = $1")
        .bind(org.id.to_string())
        .execute(&mut *conn)
        .await?;
    for (i, s) in org.identity_sources.iter().enumerate() {
        sqlx::query(
            "INSERT INTO connected_organization_identity_sources
             (organization_id, position, odata_type, domain_name, display_name, issuer_uri, tenant_id, client_secret)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(org.id.to_string())
        .bind(i as i64)
        .bind(s.odata_type())
        .bind(s.domain_name().map(str::to_owned))
        .bind(s.display_name().map(str::to_owned))
        .bind(s.issuer_uri().map(str::to_owned))
        .bind(s.tenant_id().map(str::to_owned))
        .bind(client_secret(s).map(str::to_owned))
        .execute(&mut *conn)
        .await
        .map_err(|e| {
            conflict_on_unique(e, || {
                format!("domain '{}' already belongs to another connected organization", s.domain_name().unwrap_or(""))
            })
        })?;
    }
    Ok(())
}

pub async fn insert(conn: &mut Tx, org: &ConnectedOrganization) -> Result<()> {
    sqlx::query(
        "INSERT INTO connected_organizations
         (id, display_name, description, state, identity_sources, created_date_time, modified_date_time)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(org.id.to_string())
    .bind(org.display_name.clone())
    .bind(org.description.clone())
    .bind(org.state.as_str())
    .bind(rows::to_json(&org.identity_sources))
    .bind(ts(&org.created_date_time))
    .bind(ts(&org.modified_date_time))
    .execute(&mut *conn)
    .await?;
    write_sources(conn, org).await
}

pub async fn update(conn: &mut Tx, org: &ConnectedOrganization) -> Result<()> {
    sqlx::query(
        "UPDATE connected_organizations SET display_name = $2, description = $3, state = $4,
         identity_sources = $5, modified_date_time = $6 WHERE id = $1",
    )
    .bind(org.id.to_string())
    .bind(org.display_name.clone())
    .bind(org.description.clone())
    .bind(org.state.as_str())
    .bind(rows::to_json(&org.identity_sources))
    .bind(ts(&org.modified_date_time))
    .execute(&mut *conn)
    .await?;
    write_sources(conn, org).await
}

pub async fn get(conn: &mut Tx, id: Uuid) -> Result<Option<ConnectedOrganization>> {
    let row = sqlx::query("SELECT * FROM connected_organizations WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn delete(conn: &mut Tx, id: Uuid) -> Result<bool> {
    let r = sqlx::query("DELETE FROM connected_organizations WHERE id = $1")
        .bind(id.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(r.rows_affected() > 0)
}

/// The organization (other than `except`) that already answers for `domain`.
pub async fn domain_owner(conn: &mut Tx, domain: &str, except: Option<Uuid>) -> Result<Option<(Uuid, String)>> {
    let row = sqlx::query(
        "SELECT o.id, o.display_name FROM connected_organization_identity_sources s
         JOIN connected_organizations o ON o.id = s.organization_id
         WHERE s.domain_name = $1 AND o.id <> $2",
    )
    .bind(domain.to_owned())
    .bind(except.map(|u| u.to_string()).unwrap_or_default())
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| Ok((rows::uuid(&r, "id")?, rows::text(&r, "display_name")?))).transpose()
}

pub async fn add_sponsor(conn: &mut Tx, org: Uuid, kind: SponsorKind, user: Uuid) -> Result<bool> {
    let exists = sqlx::query(
        "SELECT 1 AS x FROM connected_organization_sponsors WHERE organization_id = $1 AND kind = $2 AND user_id = $3",
    )
    .bind(org.to_string())
    .bind(kind.as_str())
    .bind(user.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    if exists.is_some() {
        return Ok(false);
    }
    sqlx::query("INSERT INTO connected_organization_sponsors (organization_id, kind, user_id) VALUES ($1, $2, $3)")
        .bind(org.to_string())
        .bind(kind.as_str())
        .bind(user.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(true)
}

pub async fn remove_sponsor(conn: &mut Tx, org: Uuid, kind: SponsorKind, user: Uuid) -> Result<bool> {
    let r = sqlx::query(
        "DELETE FROM connected_organization_sponsors WHERE organization_id = $1 AND kind = $2 AND user_id = $3",
    )
    .bind(org.to_string())
    .bind(kind.as_str())
    .bind(user.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(r.rows_affected() > 0)
}

/// The sponsors of one kind of an organization, in id order.
pub async fn sponsors(conn: &mut Tx, org: Uuid, kind: SponsorKind) -> Result<Vec<Uuid>> {
    let found = sqlx::query(
        "SELECT user_id FROM connected_organization_sponsors WHERE organization_id = $1 AND kind = $2 ORDER BY user_id",
    )
    .bind(org.to_string())
    .bind(kind.as_str())
    .fetch_all(&mut *conn)
    .await?;
    found.iter().map(|r| rows::uuid(r, "user_id")).collect()
}

/// Whether the user is an external sponsor of any organization.
pub async fn sponsors_any(conn: &mut Tx, user: Uuid) -> Result<bool> {
    let row =
        sqlx::query("SELECT 1 AS x FROM connected_organization_sponsors WHERE kind = 'external' AND user_id = $1")
            .bind(user.to_string())
            .fetch_optional(&mut *conn)
            .await?;
    Ok(row.is_some())
}

/// Restricts a users list to the sponsors of one kind of one organization.
pub fn sponsors_scope(org: Uuid, kind: SponsorKind) -> crate::query::Where {
    crate::query::Where::new()
        .and_eq(
            "t.id IN (SELECT user_id FROM connected_organization_sponsors WHERE organization_id = {} AND kind = '__KIND__')"
                .replace("__KIND__", kind.as_str())
                .as_str(),
            crate::query::Param::Text(org.to_string()),
        )
}
