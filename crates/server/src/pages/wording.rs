//! How a request's state reads on the pages: the same states as the API's `state`, in words
//! a requestor understands, with what they can do about it.

use gatehouse_app::my_access::views::RequestView;
use gatehouse_domain::enums::{RequestState, RequestType};
use gatehouse_domain::request::{StageStatus, Verdict};

use super::when;

/// A status line and the sentences that explain it. `tone` is a CSS class suffix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub label: String,
    pub details: Vec<String>,
    pub tone: &'static str,
}

fn status(label: impl Into<String>, tone: &'static str, details: Vec<String>) -> Status {
    Status { label: label.into(), details, tone }
}

/// What kind of request it is, as a heading word.
pub fn kind(t: RequestType) -> &'static str {
    match t {
        RequestType::UserAdd => "Request",
        RequestType::AdminAdd => "Assigned by an administrator",
        RequestType::UserUpdate | RequestType::AdminUpdate => "Extension",
        RequestType::UserRemove => "Removal",
        RequestType::AdminRemove => "Removed by an administrator",
        RequestType::SystemRemove => "Expiry",
        _ => "Request",
    }
}

/// The request's status for the people it concerns.
pub fn request_status(v: &RequestView) -> Status {
    let r = &v.request;
    match r.state {
        RequestState::Submitted => status("Submitted", "waiting", vec![]),
        RequestState::PendingApproval => {
            let Some(i) = r.current_stage() else { return status("Pending approval", "waiting", vec![]) };
            let mut details = Vec::new();
            if !v.approvers.is_empty() {
                details.push(format!("Can approve: {}.", v.approvers.join(", ")));
            }
            if r.stages[i].escalated {
                details.push("Nobody decided in time, so it was escalated to more approvers.".into());
            }
            status(format!("Pending approval (stage {} of {})", i + 1, r.stages.len()), "waiting", details)
        }
        RequestState::Scheduled => {
            let when = r.schedule.start_date_time.map(|t| format!("Access starts on {}.", when::date(&t)));
            status("Scheduled", "waiting", when.into_iter().collect())
        }
        RequestState::Delivering => status("Delivering", "waiting", vec!["Access is being set up.".into()]),
        RequestState::Delivered => match r.request_type {
            RequestType::UserUpdate | RequestType::AdminUpdate => status("Extended", "good", vec![]),
            RequestType::UserRemove | RequestType::AdminRemove => status("Removed", "neutral", vec![]),
            RequestType::SystemRemove => {
                status("Expired", "neutral", vec!["The access reached its end date and was removed.".into()])
            }
            _ => status("Delivered", "good", vec![]),
        },
        RequestState::PartiallyDelivered => status("Partially delivered", "bad", failures(v)),
        RequestState::DeliveryFailed => status("Delivery failed", "bad", failures(v)),
        RequestState::Denied => denied(v),
        RequestState::Canceled => status("Canceled", "neutral", vec![]),
        RequestState::UnknownFutureValue => status("Unknown", "neutral", vec![]),
    }
}

fn failures(v: &RequestView) -> Vec<String> {
    if v.failed_resources.is_empty() {
        return vec!["Some access could not be set up; an administrator can retry it.".into()];
    }
    v.failed_resources
        .iter()
        .map(|f| match &f.reason {
            Some(reason) => format!("Not delivered: {}. {}", f.name, super::sentence(reason)),
            None => format!("Not delivered: {}.", f.name),
        })
        .collect()
}

fn denied(v: &RequestView) -> Status {
    let r = &v.request;
    let denial = r
        .stages
        .iter()
        .enumerate()
        .find_map(|(i, s)| s.decision.as_ref().filter(|d| d.verdict == Verdict::Deny).map(|d| (i, s.status, d)));
    match denial {
        Some((_, stage, d)) if stage == StageStatus::Expired || d.by.is_none() => {
            status("Expired", "bad", vec!["Nobody decided in time, so the request was denied automatically.".into()])
        }
        Some((i, _, d)) => {
            let by = v.decided_by.get(i).cloned().flatten();
            let mut details = Vec::new();
            if let Some(j) = d.justification.as_deref().filter(|j| !j.trim().is_empty()) {
                details.push(format!("The approver wrote: “{}”", j.trim()));
            }
            let label = match by {
                Some(name) => format!("Denied by {name}"),
                None => "Denied".to_owned(),
            };
            status(label, "bad", details)
        }
        None => status("Denied", "bad", vec![]),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};
    use gatehouse_app::my_access::views::FailedResource;
    use gatehouse_domain::request::{AssignmentRequest, Decision, Stage};
    use uuid::Uuid;

    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    fn view(state: RequestState, kind: RequestType, stages: Vec<Stage>) -> RequestView {
        let mut r = AssignmentRequest::new(Uuid::nil(), kind, Uuid::nil(), Uuid::nil(), None, None, None, now());
        r.state = state;
        r.stages = stages;
        RequestView {
            request: r,
            package: None,
            policy: None,
            approvers: vec![],
            decided_by: vec![],
            failed_resources: vec![],
            target_name: "Pat".into(),
            target_mail: None,
            target_organization: None,
        }
    }

    fn stage(status: StageStatus, decision: Option<Decision>) -> Stage {
        Stage {
            id: Uuid::new_v4(),
            status,
            approvers: vec![Uuid::from_u128(7)],
            escalation_approvers: vec![],
            escalated: false,
            used_fallback: false,
            justification_required: false,
            timeout: 86_400,
            escalation_after: None,
            started: Some(now()),
            decision,
        }
    }

    fn deny(by: Option<Uuid>, why: Option<&str>) -> Option<Decision> {
        Some(Decision { verdict: Verdict::Deny, by, at: now(), justification: why.map(str::to_owned) })
    }

    #[test]
    fn pending_names_the_stage_and_who_can_approve() {
        let mut v = view(
            RequestState::PendingApproval,
            RequestType::UserAdd,
            vec![stage(StageStatus::Completed, None), stage(StageStatus::InProgress, None)],
        );
        v.approvers = vec!["Ana Silva".into(), "Alex Wilber".into()];
        let s = request_status(&v);
        assert_eq!(s.label, "Pending approval (stage 2 of 2)");
        assert_eq!(s.details, ["Can approve: Ana Silva, Alex Wilber."]);
        assert_eq!(s.tone, "waiting");
    }

    #[test]
    fn a_denial_shows_the_approver_and_their_reason() {
        let mut v = view(
            RequestState::Denied,
            RequestType::UserAdd,
            vec![stage(StageStatus::Completed, deny(Some(Uuid::from_u128(7)), Some("  Not on the project ")))],
        );
        v.decided_by = vec![Some("Ana Silva".into())];
        let s = request_status(&v);
        assert_eq!(s.label, "Denied by Ana Silva");
        assert_eq!(s.details, ["The approver wrote: “Not on the project”"]);
    }

    #[test]
    fn nobody_deciding_in_time_reads_as_expired() {
        let v = view(RequestState::Denied, RequestType::UserAdd, vec![stage(StageStatus::Expired, deny(None, None))]);
        let s = request_status(&v);
        assert_eq!(s.label, "Expired");
        assert!(s.details[0].contains("Nobody decided in time"));
    }

    #[test]
    fn partial_delivery_names_what_failed() {
        let mut v = view(RequestState::PartiallyDelivered, RequestType::UserAdd, vec![]);
        v.failed_resources =
            vec![FailedResource { name: "Wiki (Member)".into(), reason: Some("target said 403".into()) }];
        let s = request_status(&v);
        assert_eq!(s.label, "Partially delivered");
        assert_eq!(s.details, ["Not delivered: Wiki (Member). Target said 403."]);
        assert_eq!(s.tone, "bad");
    }

    #[test]
    fn delivered_reads_after_the_kind_of_request() {
        let cases = [
            (RequestType::UserAdd, "Delivered"),
            (RequestType::UserUpdate, "Extended"),
            (RequestType::UserRemove, "Removed"),
            (RequestType::SystemRemove, "Expired"),
        ];
        for (kind, label) in cases {
            assert_eq!(request_status(&view(RequestState::Delivered, kind, vec![])).label, label, "{kind:?}");
        }
        assert_eq!(request_status(&view(RequestState::Canceled, RequestType::UserAdd, vec![])).label, "Canceled");
        assert_eq!(request_status(&view(RequestState::Delivering, RequestType::UserAdd, vec![])).label, "Delivering");
    }
}
