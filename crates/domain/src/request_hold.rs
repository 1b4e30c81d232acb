//! A request waiting for a custom extension's answer: at `assignmentRequestCreated` (before
//! approval) or `assignmentRequestApproved` (before delivery), a policy's extension with a
//! callback configuration holds the request until the endpoint resumes it (go on) or denies it,
//! or until the wait times out (denied, with the reason).

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::custom_extension::CalloutStage;
use crate::request::{AssignmentRequest, Event, TransitionError};

/// An extension the request will wait for at a stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Wait {
    pub extension_id: Uuid,
    pub timeout_seconds: i64,
}

/// The waits a request's policy asks for, taken as each is reached.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Waits {
    pub created: Option<Wait>,
    pub approved: Option<Wait>,
}

impl Waits {
    pub fn is_empty(&self) -> bool {
        self.created.is_none() && self.approved.is_none()
    }
}

/// Where a request waits, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Hold {
    pub stage: CalloutStage,
    /// `customExtensionStageInstanceId`: the resume must name it.
    pub instance_id: Uuid,
    pub extension_id: Uuid,
    pub until: DateTime<Utc>,
}

/// `customExtensionCalloutInstanceStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum CalloutStatus {
    CalloutSent,
    CallbackReceived,
    CalloutFailed,
    CallbackTimedOut,
    WaitingForCallback,
}

/// Graph's `customExtensionCalloutInstance`: one call of an extension for this request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CalloutInstance {
    pub id: Uuid,
    pub custom_extension_id: Uuid,
    #[serde(skip_serializing)]
    pub stage: Option<CalloutStage>,
    pub detail: Option<String>,
    pub external_correlation_id: Option<String>,
    pub status: CalloutStatus,
}

/// What the endpoint sends to `…/resume`: Graph's shape.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ResumeBody {
    /// Who answers (kept in the audit log).
    pub source: Option<String>,
    /// `microsoft.graph.accessPackageCustomExtensionStage.<stage>`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    #[schemars(required)]
    pub data: Option<ResumeData>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ResumeData {
    #[serde(rename = "@odata.type")]
    pub odata_type: Option<String>,
    pub stage: Option<String>,
    #[schemars(required)]
    pub custom_extension_stage_instance_id: Option<Uuid>,
    #[schemars(length(max = 2000))]
    pub custom_extension_stage_instance_detail: Option<String>,
    /// `denied` (or `canceled`) ends the request; absent, it goes on.
    pub state: Option<String>,
}

/// What the endpoint said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Continue,
    Deny,
}

/// The instance id of a request's callout at a stage: one per request and stage, so a callout
/// sent twice (a retry) is the same instance.
pub fn instance_id(request: Uuid, stage: CalloutStage) -> Uuid {
    let n = CalloutStage::ALL.iter().position(|s| *s == stage).unwrap_or(0) as u128 + 1;
    Uuid::from_u128(request.as_u128() ^ (n << 64 | n))
}

impl AssignmentRequest {
    /// Start waiting at `stage` if the policy asks to; the event tells the caller to call out.
    pub(crate) fn hold_at(&mut self, stage: CalloutStage, now: DateTime<Utc>) -> Option<Event> {
        let wait = match stage {
            CalloutStage::AssignmentRequestCreated => self.waits.created.take(),
            CalloutStage::AssignmentRequestApproved => self.waits.approved.take(),
            _ => None,
        }?;
        let hold = Hold {
            stage,
            instance_id: instance_id(self.id, stage),
            extension_id: wait.extension_id,
            until: now + chrono::Duration::seconds(wait.timeout_seconds),
        };
        self.hold = Some(hold);
        self.note_callout(hold.instance_id, wait.extension_id, stage, CalloutStatus::WaitingForCallback, None);
        Some(Event::Held { stage, instance_id: hold.instance_id, extension_id: wait.extension_id })
    }

    /// Record (or update) a callout instance.
    pub fn note_callout(
        &mut self,
        id: Uuid,
        extension: Uuid,
        stage: CalloutStage,
        status: CalloutStatus,
        detail: Option<String>,
    ) {
        match self.callouts.iter_mut().find(|c| c.id == id) {
            Some(c) => {
                c.status = status;
                if detail.is_some() {
                    c.detail = detail;
                }
            }
            None => self.callouts.push(CalloutInstance {
                id,
                custom_extension_id: extension,
                stage: Some(stage),
                detail,
                external_correlation_id: None,
                status,
            }),
        }
    }

    /// The endpoint's answer (`POST assignmentRequests/{id}/resume`). Continuing at
    /// `assignmentRequestCreated` returns [`Event::Resumed`] and leaves the request in
    /// `submitted`: the caller submits it (its approval plan is resolved then). Continuing at
    /// `assignmentRequestApproved` goes on to delivery here.
    pub fn resume(
        &mut self,
        instance: Uuid,
        stage: Option<CalloutStage>,
        answer: Answer,
        detail: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Event>, TransitionError> {
        let hold = self.hold.filter(|h| h.instance_id == instance).ok_or(TransitionError::NotWaiting(instance))?;
        if stage.is_some_and(|s| s != hold.stage) {
            return Err(TransitionError::NotWaiting(instance));
        }
        self.hold = None;
        self.note_callout(instance, hold.extension_id, hold.stage, CalloutStatus::CallbackReceived, detail);
        let mut events = vec![Event::Resumed { stage: hold.stage }];
        match (answer, hold.stage) {
            (Answer::Deny, _) => events.push(self.deny(false, now)),
            (Answer::Continue, CalloutStage::AssignmentRequestApproved) => events.extend(self.after_approval(now)),
            (Answer::Continue, _) => {}
        }
        Ok(events)
    }

    /// The wait ran out: denied, with the reason.
    pub(crate) fn hold_timed_out(&mut self, now: DateTime<Utc>) -> Option<Vec<Event>> {
        let hold = self.hold.filter(|h| now >= h.until)?;
        self.hold = None;
        self.note_callout(hold.instance_id, hold.extension_id, hold.stage, CalloutStatus::CallbackTimedOut, None);
        self.failure = Some(format!(
            "the custom extension did not answer by {} ({})",
            crate::datetime::to_wire(&hold.until),
            hold.stage.as_str()
        ));
        Some(vec![Event::CalloutTimedOut { stage: hold.stage }, self.deny(true, now)])
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::enums::{RequestState, RequestType};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap()
    }

    fn request(waits: Waits) -> AssignmentRequest {
        let mut r = AssignmentRequest::new(
            Uuid::from_u128(1),
            RequestType::UserAdd,
            Uuid::from_u128(2),
            Uuid::from_u128(3),
            Some(Uuid::from_u128(4)),
            None,
            Some(Uuid::from_u128(4)),
            now(),
        );
        r.waits = waits;
        r
    }

    fn wait() -> Option<Wait> {
        Some(Wait { extension_id: Uuid::from_u128(9), timeout_seconds: 3600 })
    }

    fn submit(r: &mut AssignmentRequest) -> Vec<Event> {
        let mut ids = || Uuid::new_v4();
        r.submit(vec![], &[], &mut ids, now())
    }

    #[test]
    fn a_created_hold_waits_then_goes_on_when_resumed() {
        let mut r = request(Waits { created: wait(), approved: None });
        let events = submit(&mut r);
        let Event::Held { stage, instance_id, .. } = events[0] else { panic!("{events:?}") };
        assert_eq!(stage, CalloutStage::AssignmentRequestCreated);
        assert_eq!((r.state, r.status()), (RequestState::Submitted, "WaitingForCallback"));
        assert_eq!(r.next_deadline(), Some(now() + chrono::Duration::hours(1)));
        assert_eq!(r.callouts[0].status, CalloutStatus::WaitingForCallback);
        let wrong = r.resume(Uuid::new_v4(), None, Answer::Continue, None, now());
        assert!(matches!(wrong, Err(TransitionError::NotWaiting(_))));
        let events = r.resume(instance_id, Some(stage), Answer::Continue, Some("verified".into()), now()).unwrap();
        assert_eq!(events, vec![Event::Resumed { stage }]);
        assert_eq!(r.callouts[0].status, CalloutStatus::CallbackReceived);
        assert_eq!(r.callouts[0].detail.as_deref(), Some("verified"));
        let events = submit(&mut r);
        assert_eq!(events, vec![Event::Approved, Event::DeliveryStarted]);
        assert_eq!(r.state, RequestState::Delivering);
    }

    #[test]
    fn an_endpoint_may_deny() {
        let mut r = request(Waits { created: wait(), approved: None });
        submit(&mut r);
        let instance = r.hold.unwrap().instance_id;
        let events = r.resume(instance, None, Answer::Deny, Some("SoD conflict".into()), now()).unwrap();
        assert!(matches!(events[1], Event::Denied { automatic: false }));
        assert_eq!(r.state, RequestState::Denied);
    }

    #[test]
    fn an_approved_hold_delivers_when_resumed() {
        let mut r = request(Waits { created: None, approved: wait() });
        let events = submit(&mut r);
        assert!(matches!(
            events[..],
            [Event::Approved, Event::Held { stage: CalloutStage::AssignmentRequestApproved, .. }]
        ));
        let instance = r.hold.unwrap().instance_id;
        let events = r.resume(instance, None, Answer::Continue, None, now()).unwrap();
        assert_eq!(events.last(), Some(&Event::DeliveryStarted));
    }

    #[test]
    fn no_answer_in_time_denies_with_the_reason() {
        let mut r = request(Waits { created: wait(), approved: None });
        submit(&mut r);
        assert!(r.tick(now() + chrono::Duration::minutes(59)).is_empty());
        let events = r.tick(now() + chrono::Duration::hours(1));
        assert!(matches!(events[..], [Event::CalloutTimedOut { .. }, Event::Denied { automatic: true }]));
        assert!(r.failure.as_deref().unwrap().contains("did not answer"));
        assert_eq!(r.callouts[0].status, CalloutStatus::CallbackTimedOut);
        assert!(r.hold.is_none());
    }

    #[test]
    fn a_held_request_can_be_canceled() {
        let mut r = request(Waits { created: wait(), approved: None });
        submit(&mut r);
        r.cancel(now()).unwrap();
        assert!(r.hold.is_none());
        assert_eq!(r.state, RequestState::Canceled);
    }

    #[test]
    fn instance_ids_differ_by_stage() {
        let id = Uuid::new_v4();
        assert_ne!(
            instance_id(id, CalloutStage::AssignmentRequestCreated),
            instance_id(id, CalloutStage::AssignmentRequestApproved)
        );
        assert_eq!(
            instance_id(id, CalloutStage::AssignmentRequestCreated),
            instance_id(id, CalloutStage::AssignmentRequestCreated)
        );
    }
}
