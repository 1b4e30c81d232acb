//! Who approves each stage of a request: the policy's subject sets resolved against the
//! directory data the caller loads (sponsors, group members, managers). Pure.

use std::collections::HashMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::policy::{ApprovalSettings, ApprovalStage};
use crate::subject_set::SubjectSet;

/// The people behind the approver subject sets of one request.
#[derive(Debug, Clone, Default)]
pub struct ApproverDirectory {
    /// Internal sponsors of the target's connected organization.
    pub internal_sponsors: Vec<Uuid>,
    /// External sponsors of the target's connected organization.
    pub external_sponsors: Vec<Uuid>,
    /// Members of every group an approver set names.
    pub group_members: HashMap<Uuid, Vec<Uuid>>,
    /// The target's manager chain: `[manager, manager's manager]`.
    pub managers: Vec<Uuid>,
    /// Only these ids are users who may sign in and decide (enabled accounts).
    pub enabled_users: Vec<Uuid>,
}

/// The approvers of one stage, fixed when the request is submitted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResolvedStage {
    pub approvers: Vec<Uuid>,
    pub escalation_approvers: Vec<Uuid>,
    /// The primary set resolved to nobody and the fallback approvers were used.
    pub used_fallback: bool,
}

/// A stage no one can approve: the request is refused at once rather than left to time out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no approver could be found for approval stage {stage} of this policy; ask the package's manager to fix its approvers")]
pub struct NoApprover {
    pub stage: usize,
}

fn resolve(sets: &[SubjectSet], dir: &ApproverDirectory, excluded: &[Uuid]) -> Vec<Uuid> {
    let mut out: Vec<Uuid> = Vec::new();
    let mut add = |ids: &[Uuid]| {
        for id in ids {
            if !out.contains(id) && !excluded.contains(id) && dir.enabled_users.contains(id) {
                out.push(*id);
            }
        }
    };
    for set in sets {
        match set {
            SubjectSet::SingleUser { user_id, .. } => add(&[*user_id]),
            SubjectSet::GroupMembers { group_id, .. } => {
                add(dir.group_members.get(group_id).map_or(&[][..], Vec::as_slice))
            }
            SubjectSet::InternalSponsors => add(&dir.internal_sponsors),
            SubjectSet::ExternalSponsors => add(&dir.external_sponsors),
            SubjectSet::TargetUserSponsors => {
                add(&dir.internal_sponsors);
                add(&dir.external_sponsors);
            }
            SubjectSet::RequestorManager { manager_level } => {
                let level = usize::try_from(*manager_level).unwrap_or(1).max(1);
                add(dir.managers.get(level - 1).map(std::slice::from_ref).unwrap_or_default());
            }
            // Not approver sets (refused when the policy was saved).
            SubjectSet::ConnectedOrganizationMembers { .. }
            | SubjectSet::AttributeRuleMembers { .. }
            | SubjectSet::SingleServicePrincipal { .. }
            | SubjectSet::TargetManager { .. } => {}
        }
    }
    out
}

/// Resolve one stage. `excluded` holds the target and the requestor: nobody approves their
/// own request, and if that leaves the primary set empty the fallback approvers are used.
pub fn resolve_stage(stage: &ApprovalStage, dir: &ApproverDirectory, excluded: &[Uuid]) -> ResolvedStage {
    let mut approvers = resolve(&stage.primary_approvers, dir, excluded);
    let mut used_fallback = false;
    if approvers.is_empty() {
        approvers = resolve(&stage.fallback_primary_approvers, dir, excluded);
        used_fallback = true;
    }
    let escalation_approvers = if stage.is_escalation_enabled {
        let e = resolve(&stage.escalation_approvers, dir, excluded);
        if e.is_empty() {
            resolve(&stage.fallback_escalation_approvers, dir, excluded)
        } else {
            e
        }
    } else {
        Vec::new()
    };
    ResolvedStage { approvers, escalation_approvers, used_fallback }
}

/// Every stage's approvers for a new request, or the first stage nobody could approve.
/// Empty when the policy needs no approval for this kind of request.
pub fn plan(
    settings: &ApprovalSettings,
    for_update: bool,
    dir: &ApproverDirectory,
    excluded: &[Uuid],
) -> Result<Vec<ResolvedStage>, NoApprover> {
    let required =
        if for_update { settings.is_approval_required_for_update } else { settings.is_approval_required_for_add };
    if !required {
        return Ok(Vec::new());
    }
    settings
        .stages
        .iter()
        .enumerate()
        .map(|(i, stage)| {
            let resolved = resolve_stage(stage, dir, excluded);
            if resolved.approvers.is_empty() {
                Err(NoApprover { stage: i + 1 })
            } else {
                Ok(resolved)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn stage(v: serde_json::Value) -> ApprovalStage {
        serde_json::from_value(v).unwrap()
    }

    fn ids(n: usize) -> Vec<Uuid> {
        (0..n).map(|_| Uuid::new_v4()).collect()
    }

    #[test]
    fn sponsors_groups_managers_and_fallback() {
        let people = ids(6);
        let group = Uuid::new_v4();
        let dir = ApproverDirectory {
            internal_sponsors: vec![people[0]],
            external_sponsors: vec![people[1]],
            group_members: HashMap::from([(group, vec![people[2], people[3]])]),
            managers: vec![people[4], people[5]],
            enabled_users: people.clone(),
        };
        let s = stage(json!({"primaryApprovers": [{"@odata.type": "#microsoft.graph.externalSponsors"},
                                                  {"@odata.type": "#microsoft.graph.groupMembers", "groupId": group},
                                                  {"@odata.type": "#microsoft.graph.requestorManager", "managerLevel": 2}]}));
        let r = resolve_stage(&s, &dir, &[]);
        assert_eq!(r.approvers, vec![people[1], people[2], people[3], people[5]]);
        assert!(!r.used_fallback);
        // The requestor is in the group: they are left out, never asked to approve themselves.
        let r = resolve_stage(&s, &dir, &[people[2]]);
        assert!(!r.approvers.contains(&people[2]));
        // Primary resolves to nobody (no external sponsor): the fallback approvers are used.
        let s = stage(json!({"primaryApprovers": [{"@odata.type": "#microsoft.graph.externalSponsors"}],
                             "fallbackPrimaryApprovers": [{"@odata.type": "#microsoft.graph.internalSponsors"}]}));
        let dir2 = ApproverDirectory { external_sponsors: vec![], ..dir.clone() };
        let r = resolve_stage(&s, &dir2, &[]);
        assert_eq!(r.approvers, vec![people[0]]);
        assert!(r.used_fallback);
    }

    #[test]
    fn disabled_accounts_do_not_approve_and_a_stage_without_approvers_is_refused() {
        let alex = Uuid::new_v4();
        let dir = ApproverDirectory { internal_sponsors: vec![alex], enabled_users: vec![], ..Default::default() };
        let settings: ApprovalSettings = serde_json::from_value(json!({
            "isApprovalRequiredForAdd": true,
            "stages": [{"primaryApprovers": [{"@odata.type": "#microsoft.graph.internalSponsors"}]}]
        }))
        .unwrap();
        assert_eq!(plan(&settings, false, &dir, &[]), Err(NoApprover { stage: 1 }));
        assert_eq!(plan(&settings, true, &dir, &[]), Ok(vec![]), "updates need no approval here");
    }

    #[test]
    fn escalation_uses_its_fallback_when_empty() {
        let (boss, backup) = (Uuid::new_v4(), Uuid::new_v4());
        let dir = ApproverDirectory {
            internal_sponsors: vec![boss],
            enabled_users: vec![boss, backup],
            ..Default::default()
        };
        let s = stage(json!({"primaryApprovers": [{"@odata.type": "#microsoft.graph.internalSponsors"}],
            "isEscalationEnabled": true, "durationBeforeEscalation": "P2D",
            "escalationApprovers": [{"@odata.type": "#microsoft.graph.externalSponsors"}],
            "fallbackEscalationApprovers": [{"@odata.type": "#microsoft.graph.singleUser", "userId": backup}]}));
        assert_eq!(resolve_stage(&s, &dir, &[]).escalation_approvers, vec![backup]);
    }
}
