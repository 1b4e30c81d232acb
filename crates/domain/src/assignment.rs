//! Assignments: a subject holding an access package under a policy, with its schedule.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::enums::{AssignmentState, ExpirationPatternType};
use crate::policy::{AssignmentPolicy, ExpirationPattern};
use crate::request::RequestSchedule;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Assignment {
    pub id: Uuid,
    pub access_package_id: Uuid,
    pub assignment_policy_id: Uuid,
    pub target_id: Uuid,
    pub state: AssignmentState,
    pub start_date_time: DateTime<Utc>,
    /// `None`: never expires.
    pub end_date_time: Option<DateTime<Utc>>,
    pub expired_date_time: Option<DateTime<Utc>>,
    /// The request that created or last changed it.
    pub request_id: Option<Uuid>,
    pub created_date_time: DateTime<Utc>,
}

impl Assignment {
    /// Graph's `status` text.
    pub fn status(&self) -> &'static str {
        match self.state {
            AssignmentState::Delivering => "Delivering",
            AssignmentState::Delivered => "Delivered",
            AssignmentState::PartiallyDelivered => "PartiallyDelivered",
            AssignmentState::DeliveryFailed => "DeliveryFailed",
            AssignmentState::Expired => "Expired",
            AssignmentState::UnknownFutureValue => "Unknown",
        }
    }

    /// Held: the target has (or is getting) the package's access.
    pub fn is_active(&self) -> bool {
        self.state != AssignmentState::Expired
    }

    /// The Graph JSON shape; the computed end is emitted as `afterDateTime`.
    pub fn to_graph(&self) -> Value {
        let expiration = match self.end_date_time {
            Some(end) => json!({"type": "afterDateTime", "endDateTime": end, "duration": null}),
            None => json!({"type": "noExpiration", "endDateTime": null, "duration": null}),
        };
        json!({
            "id": self.id,
            "state": self.state,
            "status": self.status(),
            "expiredDateTime": self.expired_date_time,
            "schedule": {"startDateTime": self.start_date_time, "expiration": expiration, "recurrence": null},
            "customExtensionCalloutInstances": [],
        })
    }
}

/// When an assignment that starts at `start` ends: the requested expiration when the policy
/// lets requestors choose and it is not later than the policy's, else the policy's.
pub fn end_date(policy: &AssignmentPolicy, requested: &RequestSchedule, start: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let from = |p: &ExpirationPattern| match p.kind.unwrap_or(ExpirationPatternType::NoExpiration) {
        ExpirationPatternType::AfterDateTime => p.end_date_time,
        ExpirationPatternType::AfterDuration => p.duration.map(|d| start + d.to_chrono()),
        ExpirationPatternType::NoExpiration | ExpirationPatternType::NotSpecified => None,
    };
    let policy_end = from(&policy.expiration);
    let custom = policy.requestor_settings.allow_custom_assignment_schedule
        && requested.expiration.kind.is_some_and(|k| k != ExpirationPatternType::NotSpecified);
    if !custom {
        return policy_end;
    }
    match (from(&requested.expiration), policy_end) {
        (Some(asked), Some(limit)) => Some(asked.min(limit)),
        (Some(asked), None) => Some(asked),
        (None, limit) => limit,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::duration::Duration;

    fn policy(expiration: ExpirationPattern, custom: bool) -> AssignmentPolicy {
        let mut ids = Uuid::new_v4;
        let input =
            serde_json::from_value(json!({"displayName": "P", "allowedTargetScope": "allMemberUsers"})).unwrap();
        let mut p = AssignmentPolicy::build(
            input,
            crate::policy::PolicyContext {
                id: Uuid::nil(),
                access_package_id: Uuid::nil(),
                catalog_id: Uuid::nil(),
                now: Utc::now(),
                existing: None,
                new_id: &mut ids,
            },
        )
        .unwrap();
        p.expiration = expiration;
        p.requestor_settings.allow_custom_assignment_schedule = custom;
        p
    }

    fn after_days(days: i64) -> ExpirationPattern {
        ExpirationPattern {
            kind: Some(ExpirationPatternType::AfterDuration),
            duration: Some(Duration::from_days(days)),
            ..Default::default()
        }
    }

    #[test]
    fn policy_duration_and_requested_shorter_schedules() {
        let start = DateTime::from_timestamp(1_790_000_000, 0).unwrap();
        let p = policy(after_days(90), false);
        let asked = RequestSchedule { start_date_time: None, expiration: after_days(10) };
        assert_eq!(
            end_date(&p, &asked, start),
            Some(start + chrono::Duration::days(90)),
            "custom schedules not allowed"
        );
        let p = policy(after_days(90), true);
        assert_eq!(end_date(&p, &asked, start), Some(start + chrono::Duration::days(10)));
        let longer = RequestSchedule { start_date_time: None, expiration: after_days(400) };
        assert_eq!(end_date(&p, &longer, start), Some(start + chrono::Duration::days(90)), "never past the policy");
        let never = policy(ExpirationPattern::never(), false);
        assert_eq!(end_date(&never, &RequestSchedule::default(), start), None);
    }
}
