//! Assignment policies. The searchable properties are columns; the full Graph shape is JSON.

use gatehouse_domain::enums::AllowedTargetScope;
use gatehouse_domain::policy::AssignmentPolicy;
use gatehouse_domain::question::Question;
use gatehouse_domain::subject_set::SubjectSet;
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::query::{Field, Kind, Param, Schema, Where};
use crate::rows::{self, ts};
use crate::{Result, StoreError, Tx};

fn scope(s: &str) -> Option<&'static str> {
    AllowedTargetScope::parse(s).map(|v| v.as_str())
}

pub const SCHEMA: Schema = Schema {
    name: "assignmentPolicies",
    table: "assignment_policies",
    fields: &[
        Field::new("id", "id", Kind::Guid),
        Field::new("displayName", "display_name", Kind::Text),
        Field::new("description", "description", Kind::Text),
        Field::new("allowedTargetScope", "allowed_target_scope", Kind::Enum(scope)),
        Field::new("accessPackage/id", "access_package_id", Kind::Guid),
        Field::new("catalog/id", "catalog_id", Kind::Guid),
        Field::new("createdDateTime", "created_date_time", Kind::DateTime),
        Field::new("modifiedDateTime", "modified_date_time", Kind::DateTime),
    ],
    collections: &[],
    search: &["LOWER(t.display_name) LIKE {p} ESCAPE '\\'"],
};

/// The stored JSON body: the Graph shape plus questions (a navigation on the wire).
#[derive(Serialize, Deserialize)]
struct Body {
    #[serde(flatten)]
    policy: serde_json::Value,
    questions: Vec<Question>,
    /// Also a navigation; absent from policies stored before custom extensions.
    #[serde(default)]
    custom_extension_stage_settings: Vec<gatehouse_domain::custom_extension::StageSetting>,
}

pub fn from_row(row: &AnyRow) -> Result<AssignmentPolicy> {
    let body: Body = rows::json(row, "body")?;
    let mut p: AssignmentPolicy =
        serde_json::from_value(body.policy).map_err(|e| StoreError::Corrupt(format!("policy body: {e}")))?;
    p.access_package_id = rows::uuid(row, "access_package_id")?;
    p.catalog_id = rows::uuid(row, "catalog_id")?;
    p.questions = body.questions;
    p.custom_extension_stage_settings = body.custom_extension_stage_settings;
    Ok(p)
}

fn body(p: &AssignmentPolicy) -> String {
    rows::to_json(&Body {
        policy: serde_json::to_value(p).expect("policy serializes"),
        questions: p.questions.clone(),
        custom_extension_stage_settings: p.custom_extension_stage_settings.clone(),
    })
}

/// Keep `assignment_policy_targets` in step with the policy's specific targets.
async fn write_targets(conn: &mut Tx, p: &AssignmentPolicy) -> Result<()> {
    sqlx::query("DELETE FROM assignment_policy_targets WHERE policy_id = $1")
        .bind(p.id.to_string())
        .execute(&mut *conn)
        .await?;
    let mut named: Vec<Uuid> = p
        .specific_allowed_targets
        .iter()
        .filter_map(|t| match t {
            SubjectSet::SingleUser { user_id, .. } => Some(*user_id),
            SubjectSet::GroupMembers { group_id, .. } => Some(*group_id),
            SubjectSet::ConnectedOrganizationMembers { connected_organization_id, .. } => {
                Some(*connected_organization_id)
            }
            _ => None,
        })
        .collect();
    named.sort();
    named.dedup();
    for target in named {
        sqlx::query("INSERT INTO assignment_policy_targets (policy_id, target_id) VALUES ($1, $2)")
            .bind(p.id.to_string())
            .bind(target.to_string())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

pub async fn insert(conn: &mut Tx, p: &AssignmentPolicy) -> Result<()> {
    sqlx::query(
        "INSERT INTO assignment_policies (id, access_package_id, catalog_id, display_name, description, allowed_target_scope,
         body, created_date_time, modified_date_time) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(p.id.to_string())
    .bind(p.access_package_id.to_string())
    .bind(p.catalog_id.to_string())
    .bind(p.display_name.clone())
    .bind(p.description.clone())
    .bind(p.allowed_target_scope.as_str())
    .bind(body(p))
    .bind(ts(&p.created_date_time))
    .bind(ts(&p.modified_date_time))
    .execute(&mut *conn)
    .await?;
    write_targets(conn, p).await
}

pub async fn update(conn: &mut Tx, p: &AssignmentPolicy) -> Result<()> {
    sqlx::query(
        "UPDATE assignment_policies SET display_name = $2, description = $3, allowed_target_scope = $4, body = $5,
         modified_date_time = $6 WHERE id = $1",
    )
    .bind(p.id.to_string())
    .bind(p.display_name.clone())
    .bind(p.description.clone())
    .bind(p.allowed_target_scope.as_str())
    .bind(body(p))
    .bind(ts(&p.modified_date_time))
    .execute(&mut *conn)
    .await?;
    write_targets(conn, p).await
}

pub async fn get(conn: &mut Tx, id: Uuid) -> Result<Option<AssignmentPolicy>> {
    let row = sqlx::query("SELECT * FROM assignment_policies WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn delete(conn: &mut Tx, id: Uuid) -> Result<bool> {
    let r =
        sqlx::query("DELETE FROM assignment_policies WHERE id = $1").bind(id.to_string()).execute(&mut *conn).await?;
    Ok(r.rows_affected() > 0)
}

pub async fn count_assignments(conn: &mut Tx, policy: Uuid) -> Result<i64> {
    let row =
        sqlx::query("SELECT COUNT(*) AS n FROM assignments WHERE assignment_policy_id = $1 AND state <> 'expired'")
            .bind(policy.to_string())
            .fetch_one(&mut *conn)
            .await?;
    rows::int(&row, "n")
}

pub async fn of_package(conn: &mut Tx, package: Uuid) -> Result<Vec<AssignmentPolicy>> {
    let found =
        sqlx::query("SELECT * FROM assignment_policies WHERE access_package_id = $1 ORDER BY created_date_time, id")
            .bind(package.to_string())
            .fetch_all(&mut *conn)
            .await?;
    found.iter().map(from_row).collect()
}

pub fn for_package(package: Uuid) -> Where {
    Where::new().and_eq("t.access_package_id = {}", Param::Text(package.to_string()))
}

/// Policies that name this connected organization as a target (it cannot be deleted under them).
pub async fn naming_organization(conn: &mut Tx, org: Uuid) -> Result<Vec<String>> {
    let found = sqlx::query("SELECT display_name FROM assignment_policies WHERE body LIKE $1 ORDER BY display_name")
        .bind(format!("%\"connectedOrganizationId\":\"{org}\"%"))
        .fetch_all(&mut *conn)
        .await?;
    found.iter().map(|r| rows::text(r, "display_name")).collect()
}

/// Names of the catalog's policies that admit people from outside the host organization.
pub async fn external_in_catalog(conn: &mut Tx, catalog: Uuid) -> Result<Vec<String>> {
    let found = sqlx::query(
        "SELECT display_name FROM assignment_policies WHERE catalog_id = $1 AND allowed_target_scope IN
         ('specificConnectedOrganizationUsers', 'allConfiguredConnectedOrganizationUsers', 'allExternalUsers')
         ORDER BY display_name",
    )
    .bind(catalog.to_string())
    .fetch_all(&mut *conn)
    .await?;
    found.iter().map(|r| rows::text(r, "display_name")).collect()
}

/// Every policy with this target scope (home-realm discovery asks whether any admits all
/// external users).
pub async fn with_scope(conn: &mut Tx, scope: AllowedTargetScope) -> Result<Vec<AssignmentPolicy>> {
    let found =
        sqlx::query("SELECT * FROM assignment_policies WHERE allowed_target_scope = $1 ORDER BY created_date_time")
            .bind(scope.as_str())
            .fetch_all(&mut *conn)
            .await?;
    found.iter().map(from_row).collect()
}
