//! The body of `POST assignmentRequests`, validated into a [`RequestCommand`].
//!
//! Graph docs and the Python SDK put the package, policy and target inside `assignment`
//! (beta examples say `accessPackageAssignment`), with camelCase or snake_case keys; all are
//! accepted. Properties a client echoes from a read (`state`, `status`, …) are ignored.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use crate::answers::Answer;
use crate::directory::normalize_email;
use crate::enums::{ExpirationPatternType, RequestType};
use crate::error::{invalid, ValidationError};
use crate::input::EntityRef;
use crate::policy::ExpirationPattern;
use crate::request::RequestSchedule;

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewAssignmentRequest {
    pub request_type: Option<RequestType>,
    pub assignment: Option<AssignmentInput>,
    pub access_package_assignment: Option<AssignmentInput>,
    pub access_package: Option<EntityRef>,
    pub justification: Option<String>,
    #[serde(default)]
    pub answers: Vec<Answer>,
    pub schedule: Option<ScheduleInput>,
    /// Beta: validate without creating. Refused rather than ignored.
    pub is_validation_only: Option<bool>,
    // Read-only properties a client may echo back.
    pub state: Option<Value>,
    pub status: Option<Value>,
    pub completed_date_time: Option<Value>,
    pub custom_extension_callout_instances: Option<Value>,
    pub requestor: Option<Value>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AssignmentInput {
    #[serde(rename = "@odata.type")]
    pub odata_type: Option<String>,
    pub id: Option<Uuid>,
    #[serde(alias = "access_package_id")]
    pub access_package_id: Option<Uuid>,
    #[serde(alias = "assignment_policy_id")]
    pub assignment_policy_id: Option<Uuid>,
    #[serde(alias = "target_id")]
    pub target_id: Option<Uuid>,
    pub target: Option<TargetInput>,
    pub access_package: Option<EntityRef>,
    pub assignment_policy: Option<EntityRef>,
    pub schedule: Option<ScheduleInput>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TargetInput {
    pub email: Option<String>,
    pub display_name: Option<String>,
    pub object_id: Option<Uuid>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScheduleInput {
    #[serde(rename = "@odata.type")]
    pub odata_type: Option<String>,
    #[serde(default, deserialize_with = "crate::datetime::deserialize_opt")]
    pub start_date_time: Option<DateTime<Utc>>,
    pub expiration: Option<ExpirationPattern>,
    pub recurrence: Option<Value>,
}

/// Who an add request is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The caller (self-service).
    Caller,
    User(Uuid),
    /// Someone not in the directory yet: a guest is created when access is delivered.
    Email {
        email: String,
        display_name: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestCommand {
    Add {
        admin: bool,
        package: Uuid,
        policy: Option<Uuid>,
        target: Target,
        justification: Option<String>,
        answers: Vec<Answer>,
        schedule: RequestSchedule,
    },
    Remove {
        admin: bool,
        assignment: Uuid,
        justification: Option<String>,
    },
    /// Extend an assignment (Graph has no `selfExtend`: an update carrying a new schedule).
    Update {
        admin: bool,
        assignment: Uuid,
        justification: Option<String>,
        answers: Vec<Answer>,
        schedule: RequestSchedule,
    },
}

fn schedule_of(input: Option<ScheduleInput>, now: DateTime<Utc>) -> Result<RequestSchedule, ValidationError> {
    let Some(s) = input else { return Ok(RequestSchedule::default()) };
    if s.recurrence.as_ref().is_some_and(|r| !r.is_null()) {
        return invalid("schedule.recurrence", "assignments do not recur; leave schedule.recurrence empty");
    }
    let expiration = s.expiration.unwrap_or_default();
    if expiration.kind.is_some_and(|k| k != ExpirationPatternType::NotSpecified) {
        expiration.validate("schedule.expiration", now)?;
    }
    // A start in the past means "now".
    let start = s.start_date_time.filter(|t| *t > now);
    Ok(RequestSchedule { start_date_time: start, expiration })
}

impl NewAssignmentRequest {
    pub fn validate(self, now: DateTime<Utc>) -> Result<RequestCommand, ValidationError> {
        if self.is_validation_only == Some(true) {
            return invalid("isValidationOnly", "validation-only requests are not supported");
        }
        let request_type =
            self.request_type.ok_or_else(|| ValidationError::new("requestType", "requestType is required"))?;
        let assignment = self.assignment.or(self.access_package_assignment);
        let justification = self.justification.map(|j| j.trim().to_owned()).filter(|j| !j.is_empty());
        let admin = matches!(request_type, RequestType::AdminAdd | RequestType::AdminRemove | RequestType::AdminUpdate);
        match request_type {
            RequestType::UserAdd | RequestType::AdminAdd => {
                let a = assignment.ok_or_else(|| {
                    ValidationError::new("assignment", "assignment with an accessPackageId is required")
                })?;
                let package = a
                    .access_package_id
                    .or(a.access_package.map(|r| r.id))
                    .or(self.access_package.map(|r| r.id))
                    .ok_or_else(|| {
                        ValidationError::new("assignment.accessPackageId", "assignment.accessPackageId is required")
                    })?;
                let policy = a.assignment_policy_id.or(a.assignment_policy.map(|r| r.id));
                let target = match (a.target_id.or(a.target.as_ref().and_then(|t| t.object_id)), a.target) {
                    (Some(id), _) => Target::User(id),
                    (None, Some(TargetInput { email: Some(email), display_name, .. })) => {
                        Target::Email { email: normalize_email(&email)?, display_name }
                    }
                    (None, _) if !admin => Target::Caller,
                    (None, _) => {
                        return invalid(
                            "assignment.targetId",
                            "an adminAdd request needs assignment.targetId or assignment.target.email",
                        )
                    }
                };
                if admin && policy.is_none() {
                    return invalid(
                        "assignment.assignmentPolicyId",
                        "an adminAdd request needs assignment.assignmentPolicyId",
                    );
                }
                if !admin && matches!(target, Target::Email { .. }) {
                    return invalid(
                        "assignment.target",
                        "a userAdd request is for the caller; use adminAdd to assign someone else",
                    );
                }
                let schedule = schedule_of(self.schedule.or(a.schedule), now)?;
                Ok(RequestCommand::Add {
                    admin,
                    package,
                    policy,
                    target,
                    justification,
                    answers: self.answers,
                    schedule,
                })
            }
            RequestType::UserRemove | RequestType::AdminRemove => {
                let id = assignment
                    .and_then(|a| a.id)
                    .ok_or_else(|| ValidationError::new("assignment.id", "a remove request needs assignment.id"))?;
                Ok(RequestCommand::Remove { admin, assignment: id, justification })
            }
            RequestType::UserUpdate | RequestType::AdminUpdate => {
                let a = assignment
                    .ok_or_else(|| ValidationError::new("assignment.id", "an update request needs assignment.id"))?;
                let id =
                    a.id.ok_or_else(|| ValidationError::new("assignment.id", "an update request needs assignment.id"))?;
                let schedule = schedule_of(self.schedule.or(a.schedule), now)?;
                Ok(RequestCommand::Update { admin, assignment: id, justification, answers: self.answers, schedule })
            }
            other => invalid(
                "requestType",
                format!("requestType '{other}' cannot be requested; use userAdd, userRemove, adminAdd or adminRemove"),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Result<RequestCommand, String> {
        let input: NewAssignmentRequest = serde_json::from_value(v).map_err(|e| e.to_string())?;
        input.validate(Utc::now()).map_err(|e| e.message)
    }

    #[test]
    fn graph_and_sdk_spellings() {
        let (p, q) = (Uuid::new_v4(), Uuid::new_v4());
        let a = parse(json!({"requestType": "UserAdd", "assignment": {"accessPackageId": p, "assignmentPolicyId": q}}))
            .unwrap();
        assert!(matches!(a, RequestCommand::Add { admin: false, target: Target::Caller, policy: Some(_), .. }));
        let b = parse(json!({"requestType": "userAdd", "accessPackageAssignment": {"access_package_id": p}})).unwrap();
        assert!(matches!(b, RequestCommand::Add { policy: None, .. }));
        let c = parse(json!({"requestType": "adminAdd", "assignment": {"accessPackageId": p, "assignmentPolicyId": q,
            "target": {"email": "Ana@Fabrikam.example", "displayName": "Ana"}}, "state": "submitted"}))
        .unwrap();
        assert!(
            matches!(c, RequestCommand::Add { admin: true, target: Target::Email { ref email, .. }, .. } if email == "ana@fabrikam.example")
        );
        let d = parse(json!({"requestType": "adminRemove", "assignment": {"id": q}})).unwrap();
        assert_eq!(d, RequestCommand::Remove { admin: true, assignment: q, justification: None });
    }

    #[test]
    fn refusals() {
        let p = Uuid::new_v4();
        assert!(parse(json!({"assignment": {"accessPackageId": p}})).unwrap_err().contains("requestType is required"));
        assert!(parse(json!({"requestType": "userAdd", "assignment": {}})).unwrap_err().contains("accessPackageId"));
        assert!(parse(json!({"requestType": "adminAdd", "assignment": {"accessPackageId": p}}))
            .unwrap_err()
            .contains("targetId"));
        assert!(parse(json!({"requestType": "systemAdd", "assignment": {"accessPackageId": p}}))
            .unwrap_err()
            .contains("cannot be requested"));
        assert!(parse(json!({"requestType": "userRemove", "assignment": {}})).unwrap_err().contains("assignment.id"));
        assert!(parse(json!({"requestType": "userUpdate", "assignment": {"accessPackageId": p}}))
            .unwrap_err()
            .contains("assignment.id"));
        let update = parse(json!({"requestType": "userUpdate", "assignment": {"id": p},
            "schedule": {"expiration": {"type": "afterDuration", "duration": "P30D"}}}))
        .unwrap();
        assert!(matches!(update, RequestCommand::Update { admin: false, .. }));
        assert!(parse(
            json!({"requestType": "userAdd", "assignment": {"accessPackageId": p}, "isValidationOnly": true})
        )
        .unwrap_err()
        .contains("not supported"));
        assert!(parse(json!({"requestType": "userAdd", "assignment": {"accessPackageId": p, "colour": 1}}))
            .unwrap_err()
            .contains("colour"));
        let past = json!({"requestType": "userAdd", "assignment": {"accessPackageId": p},
            "schedule": {"expiration": {"type": "afterDateTime", "endDateTime": "2000-01-01T00:00:00Z"}}});
        assert!(parse(past).unwrap_err().contains("future"));
    }
}
