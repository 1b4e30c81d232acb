//! Assignment policies: who may request a package, approval, expiry, questions, reviews.
//! Stored and validated now; acted on by the request lifecycle.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::duration::Duration;
use crate::enums::{
    AccessReviewExpirationBehavior, AllowedTargetScope, ApproverInformationVisibility, ExpirationPatternType,
};
use crate::error::{invalid, optional_text, required_text, ValidationError, DESCRIPTION_MAX, NAME_MAX};
use crate::input::EntityRef;
use crate::question::Question;
use crate::subject_set::SubjectSet;

/// Longest assignment lifetime the portal offers (3660 days).
pub const MAX_ASSIGNMENT_DAYS: i64 = 3660;
/// Longest a request may wait for one stage's decision.
pub const MAX_STAGE_DAYS: i64 = 14;
pub const MAX_STAGES: usize = 3;
pub const MAX_QUESTIONS: usize = 20;
/// Graph's limit on users, groups and organizations named in one policy's scope.
pub const MAX_SPECIFIC_TARGETS: usize = 1000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(rename = "expirationPattern")]
pub struct ExpirationPattern {
    /// Accepted on input (clients may annotate any complex value), never emitted.
    #[serde(rename = "@odata.type", default, skip_serializing)]
    pub odata_type: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<ExpirationPatternType>,
    #[serde(default, deserialize_with = "crate::datetime::deserialize_opt")]
    pub end_date_time: Option<DateTime<Utc>>,
    pub duration: Option<Duration>,
}

impl ExpirationPattern {
    pub fn never() -> Self {
        ExpirationPattern { kind: Some(ExpirationPatternType::NoExpiration), ..Default::default() }
    }

    /// Checks the pattern's internal consistency for a policy.
    pub fn validate(&self, target: &str, now: DateTime<Utc>) -> Result<(), ValidationError> {
        match self.kind.unwrap_or(ExpirationPatternType::NoExpiration) {
            ExpirationPatternType::NoExpiration | ExpirationPatternType::NotSpecified => {
                if self.end_date_time.is_some() || self.duration.is_some() {
                    return invalid(target, format!("{target}: noExpiration takes neither endDateTime nor duration"));
                }
            }
            ExpirationPatternType::AfterDateTime => {
                let Some(end) = self.end_date_time else {
                    return invalid(target, format!("{target}: afterDateTime needs endDateTime"));
                };
                if self.duration.is_some() {
                    return invalid(target, format!("{target}: afterDateTime takes no duration"));
                }
                if end <= now {
                    return invalid(target, format!("{target}.endDateTime must be in the future"));
                }
            }
            ExpirationPatternType::AfterDuration => {
                let Some(d) = self.duration else {
                    return invalid(target, format!("{target}: afterDuration needs duration"));
                };
                if self.end_date_time.is_some() {
                    return invalid(target, format!("{target}: afterDuration takes no endDateTime"));
                }
                if d.is_zero() || d > Duration::from_days(MAX_ASSIGNMENT_DAYS) {
                    return invalid(
                        target,
                        format!("{target}.duration must be more than zero and at most {MAX_ASSIGNMENT_DAYS} days"),
                    );
                }
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
#[schemars(rename = "accessPackageAssignmentRequestorSettings")]
pub struct RequestorSettings {
    /// Accepted on input (clients may annotate any complex value), never emitted.
    #[serde(rename = "@odata.type", default, skip_serializing)]
    pub odata_type: Option<String>,
    pub enable_targets_to_self_add_access: bool,
    pub enable_targets_to_self_update_access: bool,
    pub enable_targets_to_self_remove_access: bool,
    pub allow_custom_assignment_schedule: bool,
    pub enable_on_behalf_requestors_to_add_access: bool,
    pub enable_on_behalf_requestors_to_update_access: bool,
    pub enable_on_behalf_requestors_to_remove_access: bool,
    pub on_behalf_requestors: Vec<SubjectSet>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(rename = "accessPackageApprovalStage")]
pub struct ApprovalStage {
    #[serde(rename = "@odata.type", default, skip_serializing)]
    pub odata_type: Option<String>,
    #[serde(default = "default_stage_timeout")]
    pub duration_before_automatic_denial: Duration,
    #[serde(default)]
    pub is_approver_justification_required: bool,
    #[serde(default)]
    pub is_escalation_enabled: bool,
    #[serde(default)]
    pub duration_before_escalation: Duration,
    #[serde(default)]
    pub primary_approvers: Vec<SubjectSet>,
    #[serde(default)]
    pub fallback_primary_approvers: Vec<SubjectSet>,
    #[serde(default)]
    pub escalation_approvers: Vec<SubjectSet>,
    #[serde(default)]
    pub fallback_escalation_approvers: Vec<SubjectSet>,
    #[serde(default = "default_visibility")]
    pub approver_information_visibility: ApproverInformationVisibility,
}

fn default_stage_timeout() -> Duration {
    Duration::from_days(MAX_STAGE_DAYS)
}

fn default_visibility() -> ApproverInformationVisibility {
    ApproverInformationVisibility::Default
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
#[schemars(rename = "accessPackageAssignmentApprovalSettings")]
pub struct ApprovalSettings {
    /// Accepted on input (clients may annotate any complex value), never emitted.
    #[serde(rename = "@odata.type", default, skip_serializing)]
    pub odata_type: Option<String>,
    pub is_approval_required_for_add: bool,
    pub is_approval_required_for_update: bool,
    pub is_requestor_justification_required: bool,
    pub stages: Vec<ApprovalStage>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(rename = "accessPackageReviewSchedule")]
pub struct ReviewSchedule {
    /// Accepted on input (clients may annotate any complex value), never emitted.
    #[serde(rename = "@odata.type", default, skip_serializing)]
    pub odata_type: Option<String>,
    #[serde(default, deserialize_with = "crate::datetime::deserialize_opt")]
    pub start_date_time: Option<DateTime<Utc>>,
    pub expiration: Option<ExpirationPattern>,
    /// `patternedRecurrence`, kept as sent until access reviews act on it.
    pub recurrence: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(rename = "accessPackageAssignmentReviewSettings")]
pub struct ReviewSettings {
    /// Accepted on input (clients may annotate any complex value), never emitted.
    #[serde(rename = "@odata.type", default, skip_serializing)]
    pub odata_type: Option<String>,
    #[serde(default)]
    pub is_enabled: bool,
    pub expiration_behavior: Option<AccessReviewExpirationBehavior>,
    #[serde(default = "yes")]
    pub is_recommendation_enabled: bool,
    #[serde(default = "yes")]
    pub is_reviewer_justification_required: bool,
    #[serde(default)]
    pub is_self_review: bool,
    #[serde(default)]
    pub primary_reviewers: Vec<SubjectSet>,
    #[serde(default)]
    pub fallback_reviewers: Vec<SubjectSet>,
    pub schedule: Option<ReviewSchedule>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
#[schemars(rename = "accessPackageAutomaticRequestSettings")]
pub struct AutomaticRequestSettings {
    /// Accepted on input (clients may annotate any complex value), never emitted.
    #[serde(rename = "@odata.type", default, skip_serializing)]
    pub odata_type: Option<String>,
    pub request_access_for_allowed_targets: bool,
    pub remove_access_when_target_leaves_allowed_targets: bool,
    pub grace_period_before_access_removal: Option<Duration>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
#[schemars(rename = "accessPackageNotificationSettings")]
pub struct NotificationSettings {
    /// Accepted on input (clients may annotate any complex value), never emitted.
    #[serde(rename = "@odata.type", default, skip_serializing)]
    pub odata_type: Option<String>,
    pub is_assignment_notification_disabled: bool,
}

/// Body of `POST assignmentPolicies` and `PUT assignmentPolicies/{id}`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PolicyInput {
    #[schemars(required, length(min = 1, max = 256))]
    pub display_name: Option<String>,
    #[schemars(length(max = 1024))]
    pub description: Option<String>,
    pub allowed_target_scope: Option<AllowedTargetScope>,
    pub specific_allowed_targets: Option<Vec<SubjectSet>>,
    pub automatic_request_settings: Option<AutomaticRequestSettings>,
    pub expiration: Option<ExpirationPattern>,
    pub requestor_settings: Option<RequestorSettings>,
    pub request_approval_settings: Option<ApprovalSettings>,
    pub review_settings: Option<ReviewSettings>,
    pub notification_settings: Option<NotificationSettings>,
    pub questions: Option<Vec<Question>>,
    #[schemars(required)]
    pub access_package: Option<EntityRef>,
    pub catalog: Option<EntityRef>,
    pub custom_extension_stage_settings: Option<Vec<crate::custom_extension::StageSettingInput>>,
}

impl PolicyInput {
    pub fn access_package_id(&self) -> Option<Uuid> {
        self.access_package.map(|r| r.id)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "accessPackageAssignmentPolicy")]
pub struct AssignmentPolicy {
    pub id: Uuid,
    #[serde(skip)]
    pub access_package_id: Uuid,
    #[serde(skip)]
    pub catalog_id: Uuid,
    pub display_name: String,
    pub description: Option<String>,
    pub allowed_target_scope: AllowedTargetScope,
    pub specific_allowed_targets: Vec<SubjectSet>,
    pub automatic_request_settings: Option<AutomaticRequestSettings>,
    pub expiration: ExpirationPattern,
    pub requestor_settings: RequestorSettings,
    pub request_approval_settings: ApprovalSettings,
    pub review_settings: Option<ReviewSettings>,
    pub notification_settings: NotificationSettings,
    /// A navigation in Graph: emitted only with `$expand=questions`.
    #[serde(skip_serializing, default)]
    pub questions: Vec<Question>,
    /// A navigation in Graph: emitted with `$expand=customExtensionStageSettings`.
    #[serde(skip_serializing, default)]
    #[schemars(skip)]
    pub custom_extension_stage_settings: Vec<crate::custom_extension::StageSetting>,
    pub created_date_time: DateTime<Utc>,
    pub modified_date_time: DateTime<Utc>,
}

/// Ids and clock for building a policy, passed in so the function stays pure.
pub struct PolicyContext<'a> {
    pub id: Uuid,
    pub access_package_id: Uuid,
    pub catalog_id: Uuid,
    pub now: DateTime<Utc>,
    /// The policy being replaced by a PUT: keeps its creation time and question ids.
    pub existing: Option<&'a AssignmentPolicy>,
    pub new_id: &'a mut dyn FnMut() -> Uuid,
}

impl AssignmentPolicy {
    pub fn build(input: PolicyInput, ctx: PolicyContext<'_>) -> Result<Self, ValidationError> {
        let scope = input.allowed_target_scope.unwrap_or(AllowedTargetScope::NotSpecified);
        validate_scope(scope, input.specific_allowed_targets.as_deref().unwrap_or_default())?;
        let expiration = input.expiration.unwrap_or_else(ExpirationPattern::never);
        expiration.validate("expiration", ctx.now)?;
        let requestor_settings = input.requestor_settings.unwrap_or_else(|| {
            // A request-based policy without requestor settings lets its targets ask for themselves,
            // as the portal's default does; an admin-only policy lets nobody self-request.
            let open = scope != AllowedTargetScope::NotSpecified;
            RequestorSettings {
                enable_targets_to_self_add_access: open,
                enable_targets_to_self_update_access: open,
                enable_targets_to_self_remove_access: open,
                ..Default::default()
            }
        });
        validate_on_behalf(&requestor_settings)?;
        let approval = input.request_approval_settings.unwrap_or_default();
        validate_approval(&approval, scope)?;
        if let Some(review) = &input.review_settings {
            validate_review(review, ctx.now)?;
        }
        if let Some(auto) = &input.automatic_request_settings {
            if auto.request_access_for_allowed_targets && scope != AllowedTargetScope::SpecificDirectoryUsers {
                return invalid(
                    "automaticRequestSettings",
                    "automatic assignment needs allowedTargetScope specificDirectoryUsers with an attribute rule",
                );
            }
        }
        let mut questions = input.questions.unwrap_or_default();
        if questions.len() > MAX_QUESTIONS {
            return invalid("questions", format!("at most {MAX_QUESTIONS} questions are allowed"));
        }
        let known: Vec<Uuid> =
            ctx.existing.map(|p| p.questions.iter().filter_map(|q| q.id).collect()).unwrap_or_default();
        for (i, q) in questions.iter_mut().enumerate() {
            q.validate(i)?;
            q.text = q.text.trim().to_owned();
            // Keep the id of a question that is being edited; assign ids to new ones.
            q.id = match q.id {
                Some(id) if known.contains(&id) => Some(id),
                _ => Some((ctx.new_id)()),
            };
        }
        questions.sort_by_key(|q| q.sequence);
        Ok(AssignmentPolicy {
            id: ctx.id,
            access_package_id: ctx.access_package_id,
            catalog_id: ctx.catalog_id,
            display_name: required_text("displayName", input.display_name.as_deref(), NAME_MAX)?,
            description: optional_text("description", input.description.as_deref(), DESCRIPTION_MAX)?,
            allowed_target_scope: scope,
            specific_allowed_targets: input.specific_allowed_targets.unwrap_or_default(),
            automatic_request_settings: input.automatic_request_settings,
            expiration,
            requestor_settings,
            request_approval_settings: approval,
            review_settings: input.review_settings,
            notification_settings: input.notification_settings.unwrap_or_default(),
            questions,
            custom_extension_stage_settings: crate::custom_extension::stage_settings(
                input.custom_extension_stage_settings.unwrap_or_default(),
                ctx.new_id,
            )?,
            created_date_time: ctx.existing.map_or(ctx.now, |p| p.created_date_time),
            modified_date_time: ctx.now,
        })
    }

    /// Every subject set in the policy, for referential checks by the caller.
    pub fn subject_sets(&self) -> impl Iterator<Item = &SubjectSet> {
        let stages = self.request_approval_settings.stages.iter().flat_map(|s| {
            s.primary_approvers
                .iter()
                .chain(&s.fallback_primary_approvers)
                .chain(&s.escalation_approvers)
                .chain(&s.fallback_escalation_approvers)
        });
        let reviews = self.review_settings.iter().flat_map(|r| r.primary_reviewers.iter().chain(&r.fallback_reviewers));
        self.specific_allowed_targets
            .iter()
            .chain(&self.requestor_settings.on_behalf_requestors)
            .chain(stages)
            .chain(reviews)
    }
}

fn validate_scope(scope: AllowedTargetScope, targets: &[SubjectSet]) -> Result<(), ValidationError> {
    use AllowedTargetScope as S;
    let t = "specificAllowedTargets";
    match scope {
        S::UnknownFutureValue => return invalid("allowedTargetScope", "allowedTargetScope must be a known value"),
        S::SpecificDirectoryServicePrincipals | S::AllDirectoryServicePrincipals | S::AllDirectoryAgentIdentities => {
            return invalid(
                "allowedTargetScope",
                format!("allowedTargetScope '{scope}' is not supported: Gatehouse assigns packages to users"),
            )
        }
        S::SpecificDirectoryUsers | S::SpecificConnectedOrganizationUsers => {
            if targets.is_empty() {
                return invalid(
                    t,
                    format!("allowedTargetScope '{scope}' needs at least one specificAllowedTargets entry"),
                );
            }
            if targets.len() > MAX_SPECIFIC_TARGETS {
                return invalid(t, format!("at most {MAX_SPECIFIC_TARGETS} specificAllowedTargets are allowed"));
            }
            for target in targets {
                let ok = match scope {
                    S::SpecificConnectedOrganizationUsers => {
                        matches!(target, SubjectSet::ConnectedOrganizationMembers { .. })
                    }
                    _ => matches!(
                        target,
                        SubjectSet::SingleUser { .. }
                            | SubjectSet::GroupMembers { .. }
                            | SubjectSet::AttributeRuleMembers { .. }
                    ),
                };
                if !ok {
                    return invalid(t, format!("a {} cannot be a target of a '{scope}' policy", target.type_name()));
                }
            }
        }
        _ => {
            if !targets.is_empty() {
                return invalid(t, format!("specificAllowedTargets must be empty for allowedTargetScope '{scope}'"));
            }
        }
    }
    Ok(())
}

fn validate_on_behalf(settings: &RequestorSettings) -> Result<(), ValidationError> {
    for s in &settings.on_behalf_requestors {
        if !matches!(s, SubjectSet::SingleUser { .. } | SubjectSet::GroupMembers { .. }) {
            return invalid(
                "requestorSettings.onBehalfRequestors",
                format!("a {} cannot request on behalf of others", s.type_name()),
            );
        }
    }
    Ok(())
}

fn validate_approvers(sets: &[SubjectSet], target: &str, scope: AllowedTargetScope) -> Result<(), ValidationError> {
    for s in sets {
        match s {
            SubjectSet::SingleUser { .. } | SubjectSet::GroupMembers { .. } | SubjectSet::TargetUserSponsors => {}
            SubjectSet::RequestorManager { manager_level } => {
                if !(1..=2).contains(manager_level) {
                    return invalid(target, format!("{target}: requestorManager.managerLevel must be 1 or 2"));
                }
            }
            SubjectSet::InternalSponsors | SubjectSet::ExternalSponsors => {
                if !scope.admits_external_users() {
                    return invalid(
                        target,
                        format!("{target}: {} only resolve for requestors from connected organizations, but the policy's scope is '{scope}'", s.type_name()),
                    );
                }
            }
            other => return invalid(target, format!("{target}: a {} cannot approve", other.type_name())),
        }
    }
    Ok(())
}

fn validate_approval(a: &ApprovalSettings, scope: AllowedTargetScope) -> Result<(), ValidationError> {
    let t = "requestApprovalSettings";
    if a.stages.len() > MAX_STAGES {
        return invalid(t, format!("{t}: at most {MAX_STAGES} approval stages are allowed"));
    }
    if (a.is_approval_required_for_add || a.is_approval_required_for_update) && a.stages.is_empty() {
        return invalid(t, format!("{t}: approval is required but no stages are defined"));
    }
    for (i, stage) in a.stages.iter().enumerate() {
        let st = format!("{t}.stages[{i}]");
        if stage.primary_approvers.is_empty() {
            return invalid(&st, format!("{st}.primaryApprovers must name at least one approver"));
        }
        let timeout = stage.duration_before_automatic_denial;
        if timeout < Duration::from_seconds(3600) || timeout > Duration::from_days(MAX_STAGE_DAYS) {
            return invalid(
                &st,
                format!("{st}.durationBeforeAutomaticDenial must be between 1 hour and {MAX_STAGE_DAYS} days"),
            );
        }
        if stage.is_escalation_enabled {
            if stage.escalation_approvers.is_empty() {
                return invalid(&st, format!("{st}: escalation is enabled but escalationApprovers is empty"));
            }
            if stage.duration_before_escalation.is_zero() || stage.duration_before_escalation >= timeout {
                return invalid(&st, format!("{st}.durationBeforeEscalation must be more than zero and less than durationBeforeAutomaticDenial"));
            }
        }
        if stage.approver_information_visibility == ApproverInformationVisibility::UnknownFutureValue {
            return invalid(&st, format!("{st}.approverInformationVisibility must be a known value"));
        }
        validate_approvers(&stage.primary_approvers, &format!("{st}.primaryApprovers"), scope)?;
        validate_approvers(&stage.fallback_primary_approvers, &format!("{st}.fallbackPrimaryApprovers"), scope)?;
        validate_approvers(&stage.escalation_approvers, &format!("{st}.escalationApprovers"), scope)?;
        validate_approvers(&stage.fallback_escalation_approvers, &format!("{st}.fallbackEscalationApprovers"), scope)?;
    }
    Ok(())
}

fn validate_review(r: &ReviewSettings, now: DateTime<Utc>) -> Result<(), ValidationError> {
    let t = "reviewSettings";
    if !r.is_enabled {
        return Ok(());
    }
    if r.primary_reviewers.is_empty() && !r.is_self_review {
        return invalid(t, format!("{t}: enabled reviews need primaryReviewers or isSelfReview"));
    }
    if r.expiration_behavior == Some(AccessReviewExpirationBehavior::UnknownFutureValue) {
        return invalid(t, format!("{t}.expirationBehavior must be a known value"));
    }
    for s in r.primary_reviewers.iter().chain(&r.fallback_reviewers) {
        if !matches!(
            s,
            SubjectSet::SingleUser { .. }
                | SubjectSet::GroupMembers { .. }
                | SubjectSet::RequestorManager { .. }
                | SubjectSet::TargetManager { .. }
                | SubjectSet::InternalSponsors
                | SubjectSet::ExternalSponsors
                | SubjectSet::TargetUserSponsors
        ) {
            return invalid(t, format!("{t}: a {} cannot review", s.type_name()));
        }
    }
    let Some(schedule) = &r.schedule else {
        return invalid(t, format!("{t}: enabled reviews need a schedule"));
    };
    if let Some(exp) = &schedule.expiration {
        exp.validate("reviewSettings.schedule.expiration", now)?;
    }
    if schedule.recurrence.as_ref().is_some_and(|v| !v.is_object() && !v.is_null()) {
        return invalid(t, format!("{t}.schedule.recurrence must be a patternedRecurrence object"));
    }
    Ok(())
}
