//! Assignment requests and their approval stages: the request state machine, as pure
//! transitions that return the [`Event`]s the caller must act on (audit, mail, delivery).
//!
//! ```text
//! submitted ─(approval needed)→ pendingApproval ─(every stage approves)→ delivering → delivered
//!     │                              ├─(a stage denies / times out)→ denied            ├→ partiallyDelivered ─reprocess→ delivering
//!     │                              └─(cancel)→ canceled                                └→ deliveryFailed ────reprocess→ delivering
//!     ├─(no approval)→ delivering …      future start: … → scheduled ─(start reached)→ delivering
//!     └─(cancel)→ canceled
//! ```

use chrono::{DateTime, Duration as Span, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::answers::Answer;
use crate::approval::ResolvedStage;
use crate::custom_extension::CalloutStage;
use crate::enums::{RequestState, RequestType};
use crate::policy::{ApprovalStage, ExpirationPattern};
use crate::request_hold::{CalloutInstance, Hold, Waits};

/// How long after completion a failed delivery may be reprocessed (Graph: 14 days).
pub const REPROCESS_WINDOW_DAYS: i64 = 14;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum StageStatus {
    /// Not reached yet (Graph: `Initializing`).
    Initializing,
    InProgress,
    Completed,
    /// Nobody decided in time.
    Expired,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Verdict {
    Approve,
    Deny,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Decision {
    pub verdict: Verdict,
    /// The approver; `None` when the system decided (automatic denial).
    pub by: Option<Uuid>,
    pub at: DateTime<Utc>,
    pub justification: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Stage {
    pub id: Uuid,
    pub status: StageStatus,
    pub approvers: Vec<Uuid>,
    pub escalation_approvers: Vec<Uuid>,
    pub escalated: bool,
    pub used_fallback: bool,
    pub justification_required: bool,
    pub timeout: i64,
    /// Seconds before escalation; `None` when escalation is off.
    pub escalation_after: Option<i64>,
    pub started: Option<DateTime<Utc>>,
    pub decision: Option<Decision>,
}

impl Stage {
    pub fn deny_at(&self) -> Option<DateTime<Utc>> {
        self.started.map(|s| s + Span::seconds(self.timeout))
    }

    pub fn escalate_at(&self) -> Option<DateTime<Utc>> {
        match (self.started, self.escalation_after, self.escalated) {
            (Some(s), Some(after), false) if !self.escalation_approvers.is_empty() => Some(s + Span::seconds(after)),
            _ => None,
        }
    }

    /// Who may decide now: the approvers, plus the escalation approvers once escalated.
    pub fn current_approvers(&self) -> Vec<Uuid> {
        let mut all = self.approvers.clone();
        if self.escalated {
            all.extend(self.escalation_approvers.iter().filter(|a| !self.approvers.contains(a)));
        }
        all
    }
}

/// The schedule a request asks for (Graph `entitlementManagementSchedule`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RequestSchedule {
    pub start_date_time: Option<DateTime<Utc>>,
    pub expiration: ExpirationPattern,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssignmentRequest {
    pub id: Uuid,
    pub request_type: RequestType,
    pub state: RequestState,
    pub access_package_id: Uuid,
    pub policy_id: Uuid,
    /// The user the assignment is for; `None` while an external target has no account yet.
    pub target_id: Option<Uuid>,
    pub target_email: Option<String>,
    /// Who created the request (the target for self-requests, the admin for admin requests).
    pub requestor_id: Option<Uuid>,
    /// The assignment this request creates, updates or removes.
    pub assignment_id: Option<Uuid>,
    pub justification: Option<String>,
    pub answers: Vec<Answer>,
    pub schedule: RequestSchedule,
    pub stages: Vec<Stage>,
    pub created_date_time: DateTime<Utc>,
    pub completed_date_time: Option<DateTime<Utc>>,
    /// Why delivery failed, for admins.
    pub failure: Option<String>,
    /// Custom extensions the request will wait for (from its policy), taken as reached.
    #[serde(default, skip_serializing_if = "Waits::is_empty")]
    pub waits: Waits,
    /// Waiting for a custom extension's answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold: Option<Hold>,
    /// The custom extensions called for this request (`customExtensionCalloutInstances`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub callouts: Vec<CalloutInstance>,
}

/// What a transition did; the caller audits each and acts on some (mail, delivery).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    StageStarted {
        stage: usize,
        approvers: Vec<Uuid>,
    },
    StageEscalated {
        stage: usize,
        approvers: Vec<Uuid>,
    },
    StageDecided {
        stage: usize,
        decision: Decision,
    },
    /// Every stage approved (or none was needed).
    Approved,
    Denied {
        automatic: bool,
    },
    Scheduled {
        start: DateTime<Utc>,
    },
    /// Delivery must begin: create or update the assignment and queue provisioning.
    DeliveryStarted,
    Delivered,
    PartiallyDelivered,
    DeliveryFailed,
    Canceled,
    /// Waiting for a custom extension's answer: call it out.
    Held {
        stage: CalloutStage,
        instance_id: Uuid,
        extension_id: Uuid,
    },
    /// The extension answered.
    Resumed {
        stage: CalloutStage,
    },
    /// The extension did not answer in time (a denial follows).
    CalloutTimedOut {
        stage: CalloutStage,
    },
}

/// A transition the request's state does not allow, or a decision that is not the caller's to make.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("the request is not waiting for custom extension instance '{0}'")]
    NotWaiting(Uuid),
    #[error("the request is {0}; only requests awaiting approval can be decided")]
    NotPendingApproval(RequestState),
    #[error("approval stage '{0}' does not belong to this request")]
    UnknownStage(Uuid),
    #[error("this approval stage is already closed")]
    StageClosed,
    #[error("this approval stage is not open yet; an earlier stage must approve first")]
    StageNotOpen,
    #[error("you are not an approver of this stage")]
    NotAnApprover,
    #[error("you cannot approve your own request")]
    OwnRequest,
    #[error("this stage requires a justification for the decision")]
    JustificationRequired,
    #[error("a request that is {0} cannot be canceled")]
    CannotCancel(RequestState),
    #[error("only requests whose delivery failed can be reprocessed; this one is {0}")]
    CannotReprocess(RequestState),
    #[error("requests can be reprocessed only within {REPROCESS_WINDOW_DAYS} days of completion")]
    ReprocessWindowClosed,
    #[error("the request is {0}, not delivering")]
    NotDelivering(RequestState),
    #[error("the request is {0}; cancel it first, then delete it")]
    CancelBeforeDelete(RequestState),
    #[error("the request is {0}; it can be deleted once it is closed")]
    NotClosed(RequestState),
    #[error(
        "assignment '{0}', which this request delivered, is still active; remove the assignment first \
         (an adminRemove request), then delete the request"
    )]
    AssignmentStillActive(Uuid),
}

impl AssignmentRequest {
    /// A new request in `submitted`; call [`AssignmentRequest::submit`] next.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        id: Uuid,
        request_type: RequestType,
        access_package_id: Uuid,
        policy_id: Uuid,
        target_id: Option<Uuid>,
        target_email: Option<String>,
        requestor_id: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> Self {
        AssignmentRequest {
            id,
            request_type,
            state: RequestState::Submitted,
            access_package_id,
            policy_id,
            target_id,
            target_email,
            requestor_id,
            assignment_id: None,
            justification: None,
            answers: Vec::new(),
            schedule: RequestSchedule::default(),
            stages: Vec::new(),
            created_date_time: now,
            completed_date_time: None,
            failure: None,
            waits: Waits::default(),
            hold: None,
            callouts: Vec::new(),
        }
    }

    /// A request about an existing assignment (remove, update, expiry): same package, policy
    /// and target, linked to the assignment.
    pub fn for_assignment(
        id: Uuid,
        request_type: RequestType,
        assignment: &crate::assignment::Assignment,
        requestor_id: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> Self {
        let mut r = AssignmentRequest::new(
            id,
            request_type,
            assignment.access_package_id,
            assignment.assignment_policy_id,
            Some(assignment.target_id),
            None,
            requestor_id,
            now,
        );
        r.assignment_id = Some(assignment.id);
        r
    }

    /// Graph's finer-grained `status` text.
    pub fn status(&self) -> &'static str {
        if self.hold.is_some() && self.is_open() {
            return "WaitingForCallback";
        }
        match self.state {
            RequestState::Submitted => "Accepted",
            RequestState::PendingApproval if self.current_stage().is_some_and(|s| self.stages[s].escalated) => {
                "PendingApprovalEscalated"
            }
            RequestState::PendingApproval => "PendingApproval",
            RequestState::Scheduled => "PendingNotBefore",
            RequestState::Delivering => "Delivering",
            RequestState::Delivered => "Delivered",
            RequestState::DeliveryFailed => "DeliveryFailed",
            RequestState::PartiallyDelivered => "PartiallyDelivered",
            RequestState::Denied => "Denied",
            RequestState::Canceled => "Canceled",
            RequestState::UnknownFutureValue => "Unknown",
        }
    }

    /// Still being worked on: a second request for the same package and target is refused.
    pub fn is_open(&self) -> bool {
        matches!(
            self.state,
            RequestState::Submitted
                | RequestState::PendingApproval
                | RequestState::Scheduled
                | RequestState::Delivering
        )
    }

    /// Whether the request record may be deleted (`DELETE assignmentRequests/{id}`). Only a
    /// closed request: an open one is canceled first. A request that delivered an assignment
    /// (in whole or in part) is the record of why that access is held, so it stays while the
    /// assignment is active (Graph: no delete while the request has assignments). Denied and
    /// canceled requests changed nothing and may always go. The audit log keeps them all.
    pub fn check_deletable(&self, assignment_active: bool) -> Result<(), TransitionError> {
        match self.state {
            RequestState::Denied | RequestState::Canceled => Ok(()),
            RequestState::Delivered | RequestState::PartiallyDelivered | RequestState::DeliveryFailed => {
                match self.assignment_id {
                    Some(id) if assignment_active => Err(TransitionError::AssignmentStillActive(id)),
                    _ => Ok(()),
                }
            }
            RequestState::Submitted | RequestState::PendingApproval | RequestState::Scheduled => {
                Err(TransitionError::CancelBeforeDelete(self.state))
            }
            RequestState::Delivering | RequestState::UnknownFutureValue => Err(TransitionError::NotClosed(self.state)),
        }
    }

    /// What the audit log keeps of a request: enough to explain the decision, not the answers'
    /// text. (`app::delivery` has a private copy of this shape, to be folded into this one.)
    pub fn audit_summary(&self) -> serde_json::Value {
        serde_json::json!({
            "state": self.state, "status": self.status(), "requestType": self.request_type,
            "accessPackageId": self.access_package_id, "policyId": self.policy_id,
            "targetId": self.target_id, "targetEmail": self.target_email, "requestorId": self.requestor_id,
            "assignmentId": self.assignment_id,
            "stages": self.stages.iter().map(|s| serde_json::json!({"id": s.id, "status": s.status,
                "approvers": s.approvers, "escalated": s.escalated, "decision": s.decision})).collect::<Vec<_>>(),
            "failure": self.failure,
        })
    }

    pub fn current_stage(&self) -> Option<usize> {
        self.stages.iter().position(|s| s.status == StageStatus::InProgress)
    }

    /// The next moment [`AssignmentRequest::tick`] has work: escalation, automatic denial or a scheduled start.
    pub fn next_deadline(&self) -> Option<DateTime<Utc>> {
        if let Some(h) = &self.hold {
            return Some(h.until);
        }
        match self.state {
            RequestState::PendingApproval => {
                let s = &self.stages[self.current_stage()?];
                [s.escalate_at(), s.deny_at()].into_iter().flatten().min()
            }
            RequestState::Scheduled => self.schedule.start_date_time,
            _ => None,
        }
    }

    /// Accept the request: start the first approval stage, or go on to delivery when the
    /// policy needs no approval. `plan[i]` are stage `i`'s resolved approvers.
    pub fn submit(
        &mut self,
        plan: Vec<ResolvedStage>,
        stages: &[ApprovalStage],
        ids: &mut dyn FnMut() -> Uuid,
        now: DateTime<Utc>,
    ) -> Vec<Event> {
        debug_assert_eq!(self.state, RequestState::Submitted);
        if let Some(held) = self.hold_at(CalloutStage::AssignmentRequestCreated, now) {
            return vec![held];
        }
        self.stages = plan
            .into_iter()
            .zip(stages)
            .map(|(resolved, settings)| Stage {
                id: ids(),
                status: StageStatus::Initializing,
                approvers: resolved.approvers,
                escalation_approvers: resolved.escalation_approvers,
                escalated: false,
                used_fallback: resolved.used_fallback,
                justification_required: settings.is_approver_justification_required,
                timeout: settings.duration_before_automatic_denial.seconds(),
                escalation_after: settings.is_escalation_enabled.then(|| settings.duration_before_escalation.seconds()),
                started: None,
                decision: None,
            })
            .collect();
        if self.stages.is_empty() {
            let mut events = vec![Event::Approved];
            events.extend(self.after_approval(now));
            events
        } else {
            self.state = RequestState::PendingApproval;
            vec![self.start_stage(0, now)]
        }
    }

    fn start_stage(&mut self, i: usize, now: DateTime<Utc>) -> Event {
        let stage = &mut self.stages[i];
        stage.status = StageStatus::InProgress;
        stage.started = Some(now);
        Event::StageStarted { stage: i, approvers: stage.approvers.clone() }
    }

    pub(crate) fn after_approval(&mut self, now: DateTime<Utc>) -> Vec<Event> {
        if let Some(held) = self.hold_at(CalloutStage::AssignmentRequestApproved, now) {
            return vec![held];
        }
        match self.schedule.start_date_time {
            Some(start) if start > now => {
                self.state = RequestState::Scheduled;
                vec![Event::Scheduled { start }]
            }
            _ => {
                self.state = RequestState::Delivering;
                vec![Event::DeliveryStarted]
            }
        }
    }

    pub(crate) fn deny(&mut self, automatic: bool, now: DateTime<Utc>) -> Event {
        self.state = RequestState::Denied;
        self.completed_date_time = Some(now);
        for s in &mut self.stages {
            if s.status == StageStatus::Initializing {
                s.status = StageStatus::Expired;
            }
        }
        Event::Denied { automatic }
    }

    /// An approver's decision on a stage (`PATCH …/stages/{id}`).
    pub fn decide(
        &mut self,
        stage_id: Uuid,
        approver: Uuid,
        verdict: Verdict,
        justification: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Event>, TransitionError> {
        let index = self.stages.iter().position(|s| s.id == stage_id).ok_or(TransitionError::UnknownStage(stage_id))?;
        let stage = &self.stages[index];
        match stage.status {
            StageStatus::Completed | StageStatus::Expired => return Err(TransitionError::StageClosed),
            StageStatus::Initializing if self.state == RequestState::PendingApproval => {
                return Err(TransitionError::StageNotOpen)
            }
            _ => {}
        }
        if self.state != RequestState::PendingApproval {
            return Err(TransitionError::NotPendingApproval(self.state));
        }
        if Some(approver) == self.target_id || Some(approver) == self.requestor_id {
            return Err(TransitionError::OwnRequest);
        }
        if !stage.current_approvers().contains(&approver) {
            return Err(TransitionError::NotAnApprover);
        }
        let justification = justification.map(|j| j.trim().to_owned()).filter(|j| !j.is_empty());
        if stage.justification_required && justification.is_none() {
            return Err(TransitionError::JustificationRequired);
        }
        let decision = Decision { verdict, by: Some(approver), at: now, justification };
        let stage = &mut self.stages[index];
        stage.status = StageStatus::Completed;
        stage.decision = Some(decision.clone());
        let mut events = vec![Event::StageDecided { stage: index, decision }];
        match verdict {
            Verdict::Deny => events.push(self.deny(false, now)),
            Verdict::Approve if index + 1 < self.stages.len() => events.push(self.start_stage(index + 1, now)),
            Verdict::Approve => {
                events.push(Event::Approved);
                events.extend(self.after_approval(now));
            }
        }
        Ok(events)
    }

    /// Let time pass: escalate, deny automatically, or start a scheduled delivery.
    pub fn tick(&mut self, now: DateTime<Utc>) -> Vec<Event> {
        if self.hold.is_some() {
            return self.hold_timed_out(now).unwrap_or_default();
        }
        match self.state {
            RequestState::PendingApproval => {
                let Some(i) = self.current_stage() else { return Vec::new() };
                let mut events = Vec::new();
                if self.stages[i].escalate_at().is_some_and(|t| now >= t)
                    && self.stages[i].deny_at().is_some_and(|t| now < t)
                {
                    let stage = &mut self.stages[i];
                    stage.escalated = true;
                    events.push(Event::StageEscalated { stage: i, approvers: stage.escalation_approvers.clone() });
                }
                if self.stages[i].deny_at().is_some_and(|t| now >= t) {
                    let stage = &mut self.stages[i];
                    stage.status = StageStatus::Expired;
                    stage.decision = Some(Decision { verdict: Verdict::Deny, by: None, at: now, justification: None });
                    events.push(self.deny(true, now));
                }
                events
            }
            RequestState::Scheduled if self.schedule.start_date_time.is_none_or(|s| now >= s) => {
                self.state = RequestState::Delivering;
                vec![Event::DeliveryStarted]
            }
            _ => Vec::new(),
        }
    }

    /// `cancel`: only before delivery starts.
    pub fn cancel(&mut self, now: DateTime<Utc>) -> Result<Vec<Event>, TransitionError> {
        if !matches!(self.state, RequestState::Submitted | RequestState::PendingApproval | RequestState::Scheduled) {
            return Err(TransitionError::CannotCancel(self.state));
        }
        self.state = RequestState::Canceled;
        self.completed_date_time = Some(now);
        self.hold = None;
        for s in &mut self.stages {
            if matches!(s.status, StageStatus::Initializing | StageStatus::InProgress) {
                s.status = StageStatus::Expired;
            }
        }
        Ok(vec![Event::Canceled])
    }

    /// The provisioning jobs of a delivery finished: `failed` of `total` gave up.
    pub fn delivery_finished(
        &mut self,
        failed: usize,
        total: usize,
        reason: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Event>, TransitionError> {
        if self.state != RequestState::Delivering {
            return Err(TransitionError::NotDelivering(self.state));
        }
        self.completed_date_time = Some(now);
        let (state, event) = match failed {
            0 => (RequestState::Delivered, Event::Delivered),
            f if f < total => (RequestState::PartiallyDelivered, Event::PartiallyDelivered),
            _ => (RequestState::DeliveryFailed, Event::DeliveryFailed),
        };
        self.state = state;
        self.failure = if failed == 0 { None } else { reason };
        Ok(vec![event])
    }

    /// `reprocess`: try a failed delivery again, within the window.
    pub fn reprocess(&mut self, now: DateTime<Utc>) -> Result<Vec<Event>, TransitionError> {
        if !matches!(self.state, RequestState::DeliveryFailed | RequestState::PartiallyDelivered) {
            return Err(TransitionError::CannotReprocess(self.state));
        }
        if self.completed_date_time.is_some_and(|c| now - c > Span::days(REPROCESS_WINDOW_DAYS)) {
            return Err(TransitionError::ReprocessWindowClosed);
        }
        self.state = RequestState::Delivering;
        self.completed_date_time = None;
        Ok(vec![Event::DeliveryStarted])
    }
}
