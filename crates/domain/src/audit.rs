//! Audit records: one per change, who did what to which entity, with the state before and after.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "gatehouse.auditRecord")]
pub struct AuditRecord {
    pub id: Uuid,
    pub activity_date_time: DateTime<Utc>,
    /// The principal that acted; `None` for the system (workers, bootstrap).
    pub actor_id: Option<Uuid>,
    pub actor_display_name: String,
    /// `<entity>.<verb>`, e.g. `connectedOrganization.create`.
    pub activity: String,
    pub target_type: String,
    pub target_id: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
    /// Correlates with the `request-id` response header of the API call that caused it.
    pub correlation_id: Option<String>,
}
