//! Reconciliation: who holds a governed role in the target, compared with the assignments that
//! explain it. Missing grants are re-applied; holders nothing explains (out-of-band grants) are
//! reported, and removed when the connection enforces.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::enums::graph_enum;
use uuid::Uuid;

graph_enum!(
    /// `running` (queued or being worked on), `succeeded` or `failed`.
    ReconciliationState("reconciliationState") { Running = "running", Succeeded = "succeeded", Failed = "failed" }
);

/// Counts of one run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Governed roles compared.
    pub roles: usize,
    /// Holders the target listed, over all those roles.
    pub holders: usize,
    pub missing: usize,
    pub unexplained: usize,
    pub reapplied: usize,
    pub removed: usize,
    /// Fixes the target refused.
    pub failed: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "reconciliation")]
pub struct Reconciliation {
    pub id: Uuid,
    pub connection_id: Uuid,
    /// Whether the run changes the target (re-applies missing grants, and under `enforce`
    /// removes unexplained holders) or only reports.
    pub fix: bool,
    /// Started by the schedule rather than by a person.
    pub scheduled: bool,
    pub requested_by: Option<Uuid>,
    pub state: ReconciliationState,
    pub summary: Option<Summary>,
    pub error: Option<String>,
    pub created_date_time: DateTime<Utc>,
    pub finished_date_time: Option<DateTime<Utc>>,
}

graph_enum!(
    /// `missing`: an assignment grants the role, the target does not have it; `unexplained`: the
    /// target has it, no assignment explains it.
    FindingKind("driftFindingKind") { Missing = "missing", Unexplained = "unexplained" }
);

graph_enum!(
    /// What the run did about it; `failed`: the fix was tried and the target refused it
    /// (`detail` says why).
    FindingAction("driftFindingAction") { Reported = "reported", Reapplied = "reapplied", Removed = "removed", Failed = "failed" }
);

/// One difference between the target and the assignments.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "driftFinding")]
pub struct Finding {
    pub id: Uuid,
    pub reconciliation_id: Uuid,
    pub connection_id: Uuid,
    pub resource_id: Option<Uuid>,
    pub resource_display_name: String,
    pub role_origin_id: String,
    pub role_display_name: String,
    pub kind: FindingKind,
    /// The holder as the target names it (SCIM user id, entry DN).
    pub holder: String,
    pub holder_display_name: String,
    /// The directory user, when the holder is one Gatehouse knows.
    pub user_id: Option<Uuid>,
    /// `Member` or `Guest` for known users.
    pub user_type: Option<String>,
    pub action: FindingAction,
    pub detail: Option<String>,
    pub created_date_time: DateTime<Utc>,
}

/// Someone who holds a role in the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// The target's own id for them (SCIM user id, entry DN).
    pub external_id: String,
    pub display_name: String,
    /// The Gatehouse user they are, if known.
    pub user_id: Option<Uuid>,
}

/// The difference: who should hold the role and does not, and who holds it unexplained.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Drift<'a> {
    pub missing: Vec<Uuid>,
    pub unexplained: Vec<&'a Holder>,
}

/// Compare the users the assignments explain with the holders the target listed.
pub fn compare<'a>(explained: &[Uuid], holders: &'a [Holder]) -> Drift<'a> {
    let explained: BTreeSet<Uuid> = explained.iter().copied().collect();
    let held: BTreeSet<Uuid> = holders.iter().filter_map(|h| h.user_id).collect();
    Drift {
        missing: explained.difference(&held).copied().collect(),
        unexplained: holders.iter().filter(|h| h.user_id.is_none_or(|u| !explained.contains(&u))).collect(),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn holder(n: u128, user: Option<u128>) -> Holder {
        Holder { external_id: format!("ext-{n}"), display_name: format!("h{n}"), user_id: user.map(Uuid::from_u128) }
    }

    #[test]
    fn missing_and_unexplained() {
        let holders = vec![holder(1, Some(1)), holder(2, Some(9)), holder(3, None)];
        let d = compare(&[Uuid::from_u128(1), Uuid::from_u128(2)], &holders);
        assert_eq!(d.missing, vec![Uuid::from_u128(2)]);
        let ext: Vec<&str> = d.unexplained.iter().map(|h| h.external_id.as_str()).collect();
        assert_eq!(ext, ["ext-2", "ext-3"]);
    }

    proptest! {
        /// Every explained user is either held or missing, never both; every holder is either
        /// explained or unexplained, never both.
        #[test]
        fn compare_partitions(explained in proptest::collection::vec(0u128..20, 0..15),
                              held in proptest::collection::vec((0u128..40, proptest::option::of(0u128..20)), 0..15)) {
            let explained: Vec<Uuid> = explained.into_iter().map(Uuid::from_u128).collect();
            let holders: Vec<Holder> = held.into_iter().map(|(n, u)| holder(n, u)).collect();
            let d = compare(&explained, &holders);
            for u in &explained {
                let is_held = holders.iter().any(|h| h.user_id == Some(*u));
                prop_assert_eq!(d.missing.contains(u), !is_held);
            }
            for h in &holders {
                let is_explained = h.user_id.is_some_and(|u| explained.contains(&u));
                prop_assert_eq!(d.unexplained.iter().any(|x| std::ptr::eq(*x, h)), !is_explained);
            }
        }
    }
}
