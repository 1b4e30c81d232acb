//! Property tests of the request state machine: random sequences of decisions, time passing,
//! cancels, delivery outcomes and reprocessing never reach an illegal state, never deliver a
//! denied or canceled request, and always end an approved request delivered exactly once.

use chrono::{DateTime, Duration as Span, Utc};
use proptest::prelude::*;
use serde_json::json;
use uuid::Uuid;

use crate::approval::ResolvedStage;
use crate::enums::{RequestState, RequestType};
use crate::policy::ApprovalStage;
use crate::request::{AssignmentRequest, Event, StageStatus, TransitionError, Verdict};

#[derive(Debug, Clone)]
enum Op {
    /// Decide the stage at `stage` (possibly not the current one) as person `who`.
    Decide {
        stage: usize,
        who: usize,
        approve: bool,
        justify: bool,
    },
    Hours(u32),
    Cancel,
    Finish {
        failed: usize,
    },
    Reprocess,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (0..4usize, 0..6usize, any::<bool>(), any::<bool>())
            .prop_map(|(stage, who, approve, justify)| Op::Decide { stage, who, approve, justify }),
        3 => (1..400u32).prop_map(Op::Hours),
        1 => Just(Op::Cancel),
        2 => (0..3usize).prop_map(|failed| Op::Finish { failed }),
        1 => Just(Op::Reprocess),
    ]
}

struct World {
    request: AssignmentRequest,
    /// 0 = target (also requestor), 1..=2 approvers, 3 escalation approver, 4..5 strangers.
    people: Vec<Uuid>,
    now: DateTime<Utc>,
    deliveries: usize,
    reprocessed: usize,
    approved: bool,
    ended_negative: bool,
    window_closed: bool,
}

fn world(stage_count: usize, escalate: bool, scheduled: bool, justification: bool) -> World {
    let people: Vec<Uuid> = (0..6).map(|_| Uuid::new_v4()).collect();
    let now = DateTime::from_timestamp(1_790_000_000, 0).unwrap();
    let mut request = AssignmentRequest::new(
        Uuid::new_v4(),
        RequestType::UserAdd,
        Uuid::new_v4(),
        Uuid::new_v4(),
        Some(people[0]),
        None,
        Some(people[0]),
        now,
    );
    if scheduled {
        request.schedule.start_date_time = Some(now + Span::days(3));
    }
    let settings: ApprovalStage = serde_json::from_value(json!({
        "durationBeforeAutomaticDenial": "P14D",
        "isApproverJustificationRequired": justification,
        "isEscalationEnabled": escalate,
        "durationBeforeEscalation": "P3D",
        "primaryApprovers": [{"@odata.type": "#microsoft.graph.internalSponsors"}],
        "escalationApprovers": [{"@odata.type": "#microsoft.graph.internalSponsors"}]
    }))
    .unwrap();
    let stages = vec![settings; stage_count];
    let plan = (0..stage_count)
        .map(|_| ResolvedStage {
            approvers: vec![people[1], people[2]],
            escalation_approvers: if escalate { vec![people[3]] } else { vec![] },
            used_fallback: false,
        })
        .collect();
    let mut ids = Uuid::new_v4;
    let events = request.submit(plan, &stages, &mut ids, now);
    let mut w = World {
        request,
        people,
        now,
        deliveries: 0,
        reprocessed: 0,
        approved: false,
        ended_negative: false,
        window_closed: false,
    };
    w.absorb(&events);
    w
}

impl World {
    fn absorb(&mut self, events: &[Event]) {
        for e in events {
            match e {
                Event::DeliveryStarted => {
                    assert!(!self.ended_negative, "delivery started for a denied or canceled request");
                    self.deliveries += 1;
                }
                Event::Approved => {
                    assert!(!self.approved, "approved twice");
                    self.approved = true;
                }
                Event::Denied { .. } | Event::Canceled => {
                    assert!(
                        self.deliveries == 0 || self.request.state == RequestState::Canceled,
                        "denied after delivery"
                    );
                    self.ended_negative = true;
                }
                Event::StageDecided { decision, .. } => {
                    assert_ne!(decision.by, Some(self.people[0]), "the requestor decided their own request");
                }
                _ => {}
            }
        }
    }

    fn apply(&mut self, op: &Op) {
        let before = self.request.clone();
        let result = match op {
            Op::Decide { stage, who, approve, justify } => {
                let Some(s) = self.request.stages.get(*stage) else { return };
                let verdict = if *approve { Verdict::Approve } else { Verdict::Deny };
                let j = justify.then(|| "because".to_owned());
                self.request.decide(s.id, self.people[*who], verdict, j, self.now)
            }
            Op::Hours(h) => {
                self.now += Span::hours(i64::from(*h));
                Ok(self.request.tick(self.now))
            }
            Op::Cancel => self.request.cancel(self.now),
            Op::Finish { failed } => {
                self.request.delivery_finished(*failed, 2, Some("target unreachable".into()), self.now)
            }
            Op::Reprocess => {
                let r = self.request.reprocess(self.now);
                if r.is_ok() {
                    self.reprocessed += 1;
                }
                r
            }
        };
        match result {
            Ok(events) => self.absorb(&events),
            Err(e) => {
                assert_eq!(self.request, before, "a refused transition ({e}) changed the request");
                if let (Op::Decide { who: 0, .. }, TransitionError::NotAnApprover) = (op, &e) {
                    panic!("the requestor must be refused as the requestor, not as a stranger");
                }
            }
        }
        self.check();
    }

    fn check(&self) {
        let r = &self.request;
        let in_progress = r.stages.iter().filter(|s| s.status == StageStatus::InProgress).count();
        match r.state {
            RequestState::PendingApproval => {
                assert_eq!(in_progress, 1, "exactly one open stage while pending");
                let open = r.current_stage().unwrap();
                for s in &r.stages[..open] {
                    assert_eq!(s.status, StageStatus::Completed);
                    assert_eq!(s.decision.as_ref().map(|d| d.verdict), Some(Verdict::Approve));
                }
                for s in &r.stages[open + 1..] {
                    assert_eq!(s.status, StageStatus::Initializing);
                }
            }
            _ => assert_eq!(in_progress, 0, "no open stage outside pendingApproval"),
        }
        if matches!(r.state, RequestState::Delivering | RequestState::Delivered | RequestState::Scheduled) {
            assert!(r.stages.iter().all(|s| s.decision.as_ref().is_some_and(|d| d.verdict == Verdict::Approve)));
        }
        let completed = matches!(
            r.state,
            RequestState::Denied
                | RequestState::Canceled
                | RequestState::Delivered
                | RequestState::PartiallyDelivered
                | RequestState::DeliveryFailed
        );
        assert_eq!(r.completed_date_time.is_some(), completed, "completedDateTime iff finished ({:?})", r.state);
        // Only a finished request may be deleted, and never one whose assignment is still held.
        assert_eq!(r.check_deletable(false).is_ok(), completed, "deletable iff finished ({:?})", r.state);
        if r.assignment_id.is_some() && !matches!(r.state, RequestState::Denied | RequestState::Canceled) {
            assert!(r.check_deletable(true).is_err(), "deletable while its assignment is active ({:?})", r.state);
        }
        assert!(self.deliveries <= 1 + self.reprocessed, "delivered more often than attempted");
        if r.state == RequestState::Denied {
            assert_eq!(self.deliveries, 0);
        }
    }

    /// The workers' part: let time pass and deliver successfully until nothing is left to do.
    fn drive_to_end(&mut self) {
        for _ in 0..10 {
            match self.request.state {
                RequestState::Scheduled | RequestState::PendingApproval => {
                    self.now += Span::days(30);
                    let events = self.request.tick(self.now);
                    self.absorb(&events);
                }
                RequestState::Delivering => {
                    let events = self.request.delivery_finished(0, 2, None, self.now).unwrap();
                    self.absorb(&events);
                }
                RequestState::DeliveryFailed | RequestState::PartiallyDelivered => {
                    match self.request.reprocess(self.now) {
                        Ok(events) => {
                            self.reprocessed += 1;
                            self.absorb(&events);
                        }
                        // Left failed past the window: the failure stays visible, nothing retries it.
                        Err(e) => {
                            assert_eq!(e, TransitionError::ReprocessWindowClosed);
                            self.window_closed = true;
                            break;
                        }
                    }
                }
                _ => break,
            }
            self.check();
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn the_request_state_machine_holds_its_invariants(
        stages in 0..4usize,
        escalate in any::<bool>(),
        scheduled in any::<bool>(),
        justification in any::<bool>(),
        ops in prop::collection::vec(op(), 0..25),
    ) {
        let mut w = world(stages, escalate, scheduled, justification);
        for op in &ops {
            w.apply(op);
        }
        w.drive_to_end();
        let r = &w.request;
        match r.state {
            RequestState::Delivered => {
                prop_assert!(w.approved, "delivered without approval");
                prop_assert_eq!(w.deliveries, 1 + w.reprocessed, "each delivery attempt started once");
            }
            RequestState::Denied => prop_assert!(!w.approved && w.deliveries == 0),
            RequestState::Canceled => prop_assert_eq!(w.deliveries, 0),
            RequestState::PartiallyDelivered | RequestState::DeliveryFailed => {
                prop_assert!(w.window_closed && w.approved && r.failure.is_some());
            }
            other => prop_assert!(false, "the request ended in {:?}", other),
        }
        // Every approved request that was not canceled before delivery ends delivered.
        if w.approved && r.state != RequestState::Canceled && !w.window_closed {
            prop_assert_eq!(r.state, RequestState::Delivered);
        }
    }
}

#[test]
fn two_stages_then_delivery() {
    let mut w = world(2, false, false, false);
    let (s1, s2) = (w.request.stages[0].id, w.request.stages[1].id);
    let e = w.request.decide(s2, w.people[1], Verdict::Approve, None, w.now).unwrap_err();
    assert_eq!(e, TransitionError::StageNotOpen);
    let events = w.request.decide(s1, w.people[1], Verdict::Approve, None, w.now).unwrap();
    assert!(matches!(events[1], Event::StageStarted { stage: 1, .. }));
    // One decision per stage: a second approver on the closed stage is refused.
    assert_eq!(
        w.request.decide(s1, w.people[2], Verdict::Deny, None, w.now).unwrap_err(),
        TransitionError::StageClosed
    );
    let events = w.request.decide(s2, w.people[2], Verdict::Approve, None, w.now).unwrap();
    assert_eq!(events[1..], [Event::Approved, Event::DeliveryStarted]);
    assert_eq!(w.request.status(), "Delivering");
}

#[test]
fn escalation_then_automatic_denial() {
    let mut w = world(1, true, false, false);
    let stage = w.request.stages[0].id;
    assert_eq!(
        w.request.decide(stage, w.people[3], Verdict::Approve, None, w.now).unwrap_err(),
        TransitionError::NotAnApprover
    );
    assert_eq!(w.request.next_deadline(), Some(w.now + Span::days(3)));
    let events = w.request.tick(w.now + Span::days(3));
    assert_eq!(events, vec![Event::StageEscalated { stage: 0, approvers: vec![w.people[3]] }]);
    assert_eq!(w.request.status(), "PendingApprovalEscalated");
    assert_eq!(w.request.next_deadline(), Some(w.now + Span::days(14)));
    assert!(w.request.tick(w.now + Span::days(13)).is_empty());
    assert_eq!(w.request.tick(w.now + Span::days(14)), vec![Event::Denied { automatic: true }]);
    assert_eq!(w.request.stages[0].status, StageStatus::Expired);
}

#[test]
fn escalation_approvers_may_decide_once_escalated() {
    let mut w = world(1, true, false, true);
    w.request.tick(w.now + Span::days(4));
    let stage = w.request.stages[0].id;
    let e = w.request.decide(stage, w.people[3], Verdict::Approve, None, w.now).unwrap_err();
    assert_eq!(e, TransitionError::JustificationRequired);
    w.request.decide(stage, w.people[3], Verdict::Approve, Some("covering".into()), w.now).unwrap();
    assert_eq!(w.request.state, RequestState::Delivering);
}

#[test]
fn own_request_and_strangers_are_refused() {
    let mut w = world(1, false, false, false);
    let stage = w.request.stages[0].id;
    assert_eq!(
        w.request.decide(stage, w.people[0], Verdict::Approve, None, w.now).unwrap_err(),
        TransitionError::OwnRequest
    );
    assert_eq!(
        w.request.decide(stage, w.people[5], Verdict::Approve, None, w.now).unwrap_err(),
        TransitionError::NotAnApprover
    );
    assert_eq!(
        w.request.decide(Uuid::nil(), w.people[1], Verdict::Approve, None, w.now).unwrap_err(),
        TransitionError::UnknownStage(Uuid::nil())
    );
}

#[test]
fn scheduled_requests_wait_for_their_start_and_can_be_canceled() {
    let mut w = world(0, false, true, false);
    assert_eq!(w.request.state, RequestState::Scheduled);
    assert_eq!(w.request.status(), "PendingNotBefore");
    assert!(w.request.tick(w.now + Span::days(2)).is_empty());
    assert_eq!(w.request.tick(w.now + Span::days(3)), vec![Event::DeliveryStarted]);
    let mut w = world(0, false, true, false);
    w.request.cancel(w.now).unwrap();
    assert_eq!(w.request.cancel(w.now).unwrap_err(), TransitionError::CannotCancel(RequestState::Canceled));
}

#[test]
fn failed_delivery_can_be_reprocessed_within_the_window() {
    let mut w = world(0, false, false, false);
    w.request.delivery_finished(1, 2, Some("LDAP down".into()), w.now).unwrap();
    assert_eq!(w.request.state, RequestState::PartiallyDelivered);
    assert_eq!(w.request.failure.as_deref(), Some("LDAP down"));
    let late = w.now + Span::days(15);
    assert_eq!(w.request.clone().reprocess(late).unwrap_err(), TransitionError::ReprocessWindowClosed);
    assert_eq!(w.request.reprocess(w.now).unwrap(), vec![Event::DeliveryStarted]);
    w.request.delivery_finished(0, 2, None, w.now).unwrap();
    assert_eq!(w.request.state, RequestState::Delivered);
    assert!(w.request.failure.is_none());
    assert_eq!(w.request.cancel(w.now).unwrap_err(), TransitionError::CannotCancel(RequestState::Delivered));
}

#[test]
fn only_closed_requests_may_be_deleted() {
    let mut w = world(1, false, false, false);
    assert_eq!(
        w.request.check_deletable(false),
        Err(TransitionError::CancelBeforeDelete(RequestState::PendingApproval))
    );
    let stage = w.request.stages[0].id;
    w.request.decide(stage, w.people[1], Verdict::Approve, None, w.now).unwrap();
    assert_eq!(w.request.check_deletable(false), Err(TransitionError::NotClosed(RequestState::Delivering)));
    let assignment = Uuid::new_v4();
    w.request.assignment_id = Some(assignment);
    w.request.delivery_finished(0, 1, None, w.now).unwrap();
    assert_eq!(w.request.check_deletable(true), Err(TransitionError::AssignmentStillActive(assignment)));
    assert_eq!(w.request.check_deletable(false), Ok(()), "once the assignment has ended");

    let mut w = world(1, false, false, false);
    w.request.cancel(w.now).unwrap();
    assert_eq!(w.request.check_deletable(true), Ok(()), "a canceled request changed nothing");
}
