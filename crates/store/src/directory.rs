//! Directory users and groups, group membership, and the directory roles users hold.

use gatehouse_domain::directory::{Group, ObjectIdentity, User};
use gatehouse_domain::enums::{ExternalUserState, UserType};
use gatehouse_domain::principal::{CatalogRole, DirectoryRole};
use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::query::{Field, Kind, Param, Schema, Where};
use crate::rows::{self, b, ts};
use crate::{conflict_on_unique, Result, Tx};

fn user_type(s: &str) -> Option<&'static str> {
    UserType::parse(s).map(|v| v.as_str())
}

fn external_state(s: &str) -> Option<&'static str> {
    ExternalUserState::parse(s).map(|v| v.as_str())
}

pub const USERS: Schema = Schema {
    name: "users",
    table: "users",
    fields: &[
        Field::new("id", "id", Kind::Guid),
        Field::new("displayName", "display_name", Kind::Text),
        Field::new("givenName", "given_name", Kind::Text),
        Field::new("surname", "surname", Kind::Text),
        Field::new("mail", "mail", Kind::Text),
        Field::new("userPrincipalName", "user_principal_name", Kind::Text),
        Field::new("userType", "user_type", Kind::Enum(user_type)),
        Field::new("accountEnabled", "account_enabled", Kind::Bool),
        Field::new("externalUserState", "external_user_state", Kind::Enum(external_state)),
        Field::new("connectedOrganizationId", "connected_organization_id", Kind::Guid),
        Field::new("createdDateTime", "created_date_time", Kind::DateTime),
    ],
    collections: &[],
    search: &["LOWER(t.display_name) LIKE {p} ESCAPE '\\'", "t.mail LIKE {p} ESCAPE '\\'"],
};

pub const GROUPS: Schema = Schema {
    name: "groups",
    table: "groups",
    fields: &[
        Field::new("id", "id", Kind::Guid),
        Field::new("displayName", "display_name", Kind::Text),
        Field::new("description", "description", Kind::Text),
        Field::new("mailNickname", "mail_nickname", Kind::Text),
        Field::new("securityEnabled", "security_enabled", Kind::Bool),
        Field::new("createdDateTime", "created_date_time", Kind::DateTime),
    ],
    collections: &[],
    search: &["LOWER(t.display_name) LIKE {p} ESCAPE '\\'"],
};

/// A user row without identities; [`load_identities`] completes it.
pub fn user_from_row(row: &AnyRow) -> Result<User> {
    Ok(User {
        id: rows::uuid(row, "id")?,
        display_name: rows::text(row, "display_name")?,
        given_name: rows::opt_text(row, "given_name")?,
        surname: rows::opt_text(row, "surname")?,
        mail: rows::opt_text(row, "mail")?,
        mail_nickname: rows::opt_text(row, "mail_nickname")?,
        user_principal_name: rows::text(row, "user_principal_name")?,
        user_type: rows::parsed(row, "user_type")?,
        account_enabled: rows::boolean(row, "account_enabled")?,
        external_user_state: rows::opt_text(row, "external_user_state")?
            .map(|s| s.parse().map_err(crate::StoreError::Corrupt))
            .transpose()?,
        connected_organization_id: rows::opt_uuid(row, "connected_organization_id")?,
        manager_id: rows::opt_uuid(row, "manager_id")?,
        identities: Vec::new(),
        created_date_time: rows::time(row, "created_date_time")?,
    })
}

pub async fn load_identities(conn: &mut Tx, user: &mut User) -> Result<()> {
    let found = sqlx::query("SELECT sign_in_type, issuer, issuer_assigned_id FROM user_identities WHERE user_id = $1 ORDER BY issuer, issuer_assigned_id")
        .bind(user.id.to_string())
        .fetch_all(&mut *conn)
        .await?;
    user.identities = found
        .iter()
        .map(|r| {
            Ok(ObjectIdentity {
                sign_in_type: rows::text(r, "sign_in_type")?,
                issuer: rows::text(r, "issuer")?,
                issuer_assigned_id: rows::text(r, "issuer_assigned_id")?,
                odata_type: None,
            })
        })
        .collect::<Result<_>>()?;
    Ok(())
}

pub async fn insert_user(conn: &mut Tx, u: &User) -> Result<()> {
    sqlx::query(
        "INSERT INTO users (id, display_name, given_name, surname, mail, mail_nickname, user_principal_name,
         user_type, account_enabled, external_user_state, connected_organization_id, manager_id, created_date_time)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(u.id.to_string())
    .bind(u.display_name.clone())
    .bind(u.given_name.clone())
    .bind(u.surname.clone())
    .bind(u.mail.clone())
    .bind(u.mail_nickname.clone())
    .bind(u.user_principal_name.clone())
    .bind(u.user_type.as_str())
    .bind(b(u.account_enabled))
    .bind(u.external_user_state.map(|s| s.as_str()))
    .bind(u.connected_organization_id.map(|x| x.to_string()))
    .bind(u.manager_id.map(|x| x.to_string()))
    .bind(ts(&u.created_date_time))
    .execute(&mut *conn)
    .await
    .map_err(|e| {
        conflict_on_unique(e, || format!("userPrincipalName '{}' is already in use", u.user_principal_name))
    })?;
    for i in &u.identities {
        sqlx::query(
            "INSERT INTO user_identities (user_id, sign_in_type, issuer, issuer_assigned_id) VALUES ($1, $2, $3, $4)",
        )
        .bind(u.id.to_string())
        .bind(i.sign_in_type.clone())
        .bind(i.issuer.clone())
        .bind(i.issuer_assigned_id.clone())
        .execute(&mut *conn)
        .await
        .map_err(|e| {
            conflict_on_unique(e, || {
                format!("identity {} / {} already belongs to another user", i.issuer, i.issuer_assigned_id)
            })
        })?;
    }
    Ok(())
}

pub async fn update_user(conn: &mut Tx, u: &User) -> Result<()> {
    sqlx::query(
        "UPDATE users SET display_name = $2, given_name = $3, surname = $4, mail = $5, account_enabled = $6,
         external_user_state = $7, connected_organization_id = $8, manager_id = $9 WHERE id = $1",
    )
    .bind(u.id.to_string())
    .bind(u.display_name.clone())
    .bind(u.given_name.clone())
    .bind(u.surname.clone())
    .bind(u.mail.clone())
    .bind(b(u.account_enabled))
    .bind(u.external_user_state.map(|s| s.as_str()))
    .bind(u.connected_organization_id.map(|x| x.to_string()))
    .bind(u.manager_id.map(|x| x.to_string()))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn get_user(conn: &mut Tx, id: Uuid) -> Result<Option<User>> {
    let row = sqlx::query("SELECT * FROM users WHERE id = $1").bind(id.to_string()).fetch_optional(&mut *conn).await?;
    match row {
        None => Ok(None),
        Some(r) => {
            let mut u = user_from_row(&r)?;
            load_identities(conn, &mut u).await?;
            Ok(Some(u))
        }
    }
}

pub async fn delete_user(conn: &mut Tx, id: Uuid) -> Result<bool> {
    let r = sqlx::query("DELETE FROM users WHERE id = $1").bind(id.to_string()).execute(&mut *conn).await?;
    Ok(r.rows_affected() > 0)
}

pub fn group_from_row(row: &AnyRow) -> Result<Group> {
    Ok(Group {
        id: rows::uuid(row, "id")?,
        display_name: rows::text(row, "display_name")?,
        description: rows::opt_text(row, "description")?,
        mail_nickname: rows::opt_text(row, "mail_nickname")?,
        security_enabled: rows::boolean(row, "security_enabled")?,
        mail_enabled: rows::boolean(row, "mail_enabled")?,
        created_date_time: rows::time(row, "created_date_time")?,
    })
}

pub async fn insert_group(conn: &mut Tx, g: &Group) -> Result<()> {
    sqlx::query(
        "INSERT INTO groups (id, display_name, description, mail_nickname, security_enabled, mail_enabled, created_date_time)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(g.id.to_string())
    .bind(g.display_name.clone())
    .bind(g.description.clone())
    .bind(g.mail_nickname.clone())
    .bind(b(g.security_enabled))
    .bind(b(g.mail_enabled))
    .bind(ts(&g.created_date_time))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn update_group(conn: &mut Tx, g: &Group) -> Result<()> {
    sqlx::query("UPDATE groups SET display_name = $2, description = $3, mail_nickname = $4 WHERE id = $1")
        .bind(g.id.to_string())
        .bind(g.display_name.clone())
        .bind(g.description.clone())
        .bind(g.mail_nickname.clone())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn get_group(conn: &mut Tx, id: Uuid) -> Result<Option<Group>> {
    let row = sqlx::query("SELECT * FROM groups WHERE id = $1").bind(id.to_string()).fetch_optional(&mut *conn).await?;
    row.as_ref().map(group_from_row).transpose()
}

pub async fn delete_group(conn: &mut Tx, id: Uuid) -> Result<bool> {
    let r = sqlx::query("DELETE FROM groups WHERE id = $1").bind(id.to_string()).execute(&mut *conn).await?;
    Ok(r.rows_affected() > 0)
}

/// Idempotent: adding an existing member changes nothing and returns false.
pub async fn add_member(conn: &mut Tx, group: Uuid, user: Uuid) -> Result<bool> {
    if is_member(conn, group, user).await? {
        return Ok(false);
    }
    sqlx::query("INSERT INTO group_members (group_id, member_id) VALUES ($1, $2)")
        .bind(group.to_string())
        .bind(user.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(true)
}

pub async fn remove_member(conn: &mut Tx, group: Uuid, user: Uuid) -> Result<bool> {
    let r = sqlx::query("DELETE FROM group_members WHERE group_id = $1 AND member_id = $2")
        .bind(group.to_string())
        .bind(user.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(r.rows_affected() > 0)
}

/// The groups a user is a direct member of.
pub async fn groups_of(conn: &mut Tx, user: Uuid) -> Result<Vec<Uuid>> {
    let found = sqlx::query("SELECT group_id FROM group_members WHERE member_id = $1")
        .bind(user.to_string())
        .fetch_all(&mut *conn)
        .await?;
    found.iter().map(|r| rows::uuid(r, "group_id")).collect()
}

/// A group's direct members, in id order.
pub async fn members_of(conn: &mut Tx, group: Uuid) -> Result<Vec<Uuid>> {
    let found = sqlx::query("SELECT member_id FROM group_members WHERE group_id = $1 ORDER BY member_id")
        .bind(group.to_string())
        .fetch_all(&mut *conn)
        .await?;
    found.iter().map(|r| rows::uuid(r, "member_id")).collect()
}

/// Take a user out of every group (before their account is deleted).
pub async fn leave_all_groups(conn: &mut Tx, user: Uuid) -> Result<()> {
    sqlx::query("DELETE FROM group_members WHERE member_id = $1").bind(user.to_string()).execute(&mut *conn).await?;
    Ok(())
}

/// The user whose mail is exactly this address, if any.
pub async fn find_by_mail(conn: &mut Tx, mail: &str) -> Result<Option<Uuid>> {
    let row =
        sqlx::query("SELECT id FROM users WHERE mail = $1").bind(mail.to_owned()).fetch_optional(&mut *conn).await?;
    row.map(|r| rows::uuid(&r, "id")).transpose()
}

pub async fn is_member(conn: &mut Tx, group: Uuid, user: Uuid) -> Result<bool> {
    let row = sqlx::query("SELECT 1 AS x FROM group_members WHERE group_id = $1 AND member_id = $2")
        .bind(group.to_string())
        .bind(user.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.is_some())
}

/// Restricts a users list to one group's members.
pub fn members_scope(group: Uuid) -> Where {
    Where::new()
        .and_eq("t.id IN (SELECT member_id FROM group_members WHERE group_id = {})", Param::Text(group.to_string()))
}

pub async fn grant_directory_role(conn: &mut Tx, user: Uuid, role: DirectoryRole) -> Result<()> {
    sqlx::query("DELETE FROM directory_role_assignments WHERE user_id = $1 AND role = $2")
        .bind(user.to_string())
        .bind(role.as_str())
        .execute(&mut *conn)
        .await?;
    sqlx::query("INSERT INTO directory_role_assignments (user_id, role) VALUES ($1, $2)")
        .bind(user.to_string())
        .bind(role.as_str())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn directory_roles(conn: &mut Tx, user: Uuid) -> Result<Vec<DirectoryRole>> {
    let found = sqlx::query("SELECT role FROM directory_role_assignments WHERE user_id = $1 ORDER BY role")
        .bind(user.to_string())
        .fetch_all(&mut *conn)
        .await?;
    found.iter().map(|r| rows::parsed(r, "role")).collect()
}

pub async fn catalog_roles(conn: &mut Tx, user: Uuid) -> Result<Vec<(Uuid, CatalogRole)>> {
    let found = sqlx::query("SELECT catalog_id, role FROM catalog_role_assignments WHERE user_id = $1")
        .bind(user.to_string())
        .fetch_all(&mut *conn)
        .await?;
    found.iter().map(|r| Ok((rows::uuid(r, "catalog_id")?, rows::parsed(r, "role")?))).collect()
}

/// Whether any user holds any directory role: false only on a fresh install.
pub async fn any_administrator(conn: &mut Tx) -> Result<bool> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM directory_role_assignments").fetch_one(&mut *conn).await?;
    Ok(rows::int(&row, "n")? > 0)
}

/// Groups that are a resource of some catalog cannot be deleted from under it.
pub async fn group_in_catalog(conn: &mut Tx, group: Uuid) -> Result<Option<String>> {
    let row = sqlx::query(
        "SELECT c.display_name FROM resources r JOIN catalogs c ON c.id = r.catalog_id
         WHERE r.origin_system = 'AadGroup' AND r.origin_id = $1",
    )
    .bind(group.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| rows::text(&r, "display_name")).transpose()
}

/// The earliest-created holder of a directory role.
pub async fn first_with_role(conn: &mut Tx, role: DirectoryRole) -> Result<Option<Uuid>> {
    let row = sqlx::query(
        "SELECT u.id FROM users u JOIN directory_role_assignments r ON r.user_id = u.id
         WHERE r.role = $1 ORDER BY u.created_date_time LIMIT 1",
    )
    .bind(role.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| rows::uuid(&r, "id")).transpose()
}

/// Record (or clear) when a guest was blocked because their last assignment ended.
pub async fn set_blocked(conn: &mut Tx, user: Uuid, blocked: Option<chrono::DateTime<chrono::Utc>>) -> Result<()> {
    sqlx::query("UPDATE users SET blocked_date_time = $2, account_enabled = $3 WHERE id = $1")
        .bind(user.to_string())
        .bind(blocked.as_ref().map(ts))
        .bind(b(blocked.is_none()))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn blocked_since(conn: &mut Tx, user: Uuid) -> Result<Option<chrono::DateTime<chrono::Utc>>> {
    let row = sqlx::query("SELECT blocked_date_time FROM users WHERE id = $1")
        .bind(user.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.map(|r| rows::opt_time(&r, "blocked_date_time")).transpose()?.flatten())
}

/// Guests blocked at or before `cutoff`.
pub async fn blocked_before(conn: &mut Tx, cutoff: chrono::DateTime<chrono::Utc>, limit: i64) -> Result<Vec<Uuid>> {
    let found = sqlx::query("SELECT id FROM users WHERE user_type = 'Guest' AND blocked_date_time <= $1 ORDER BY blocked_date_time LIMIT $2")
        .bind(ts(&cutoff))
        .bind(limit)
        .fetch_all(&mut *conn)
        .await?;
    found.iter().map(|r| rows::uuid(r, "id")).collect()
}

/// The user an identity provider's subject is linked to.
pub async fn find_by_identity(conn: &mut Tx, issuer: &str, subject: &str) -> Result<Option<Uuid>> {
    let row = sqlx::query("SELECT user_id FROM user_identities WHERE issuer = $1 AND issuer_assigned_id = $2")
        .bind(issuer.to_owned())
        .bind(subject.to_owned())
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|r| rows::uuid(&r, "user_id")).transpose()
}

/// Link an identity to a user (first sign-in through a provider).
pub async fn add_identity(conn: &mut Tx, user: Uuid, identity: &ObjectIdentity) -> Result<()> {
    sqlx::query(
        "INSERT INTO user_identities (user_id, sign_in_type, issuer, issuer_assigned_id) VALUES ($1, $2, $3, $4)",
    )
    .bind(user.to_string())
    .bind(identity.sign_in_type.clone())
    .bind(identity.issuer.clone())
    .bind(identity.issuer_assigned_id.clone())
    .execute(&mut *conn)
    .await
    .map_err(|e| {
        conflict_on_unique(e, || {
            format!("identity {} / {} already belongs to another user", identity.issuer, identity.issuer_assigned_id)
        })
    })?;
    Ok(())
}

/// Users of a type whose mail or user principal name is this address (lower-cased on write).
pub async fn find_by_address(conn: &mut Tx, address: &str, user_type: UserType) -> Result<Vec<Uuid>> {
    let found = sqlx::query("SELECT id FROM users WHERE (mail = $1 OR user_principal_name = $1) AND user_type = $2")
        .bind(address.to_lowercase())
        .bind(user_type.as_str())
        .fetch_all(&mut *conn)
        .await?;
    found.iter().map(|r| rows::uuid(r, "id")).collect()
}
