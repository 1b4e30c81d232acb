//! What the new-access-package wizard's form carries, read from the form and turned into the
//! bodies the API would get (`accessPackages`, `assignmentPolicies`). No IO: addresses typed
//! into the form are resolved to people by the handler, which passes them in.

use gatehouse_domain::enums::ExpirationPatternType;
use gatehouse_domain::policy::AssignmentPolicy;
use gatehouse_domain::question::QuestionKind;
use gatehouse_domain::subject_set::SubjectSet;
use serde_json::{json, Value};
use uuid::Uuid;

use super::wizard::{self, Errors};
use crate::pages::forms::FormData;

pub const MAX_STAGES: usize = 3;
pub const MAX_QUESTIONS: usize = 20;
/// Approvers a stage may name without a picker, as Graph's subject set types.
pub const STAGE_APPROVERS: [(&str, &str); 3] = [
    ("externalSponsors", "External sponsors of the requestor's organization"),
    ("internalSponsors", "Internal sponsors of the requestor's organization"),
    ("requestorManager", "The requestor's manager"),
];
/// Who may request, as Graph's `allowedTargetScope`, in the wizard's words.
pub const SCOPES: [(&str, &str, bool); 6] = [
    ("specificDirectoryUsers", "Specific users and groups in your directory", false),
    ("allMemberUsers", "All members of your directory", false),
    ("specificConnectedOrganizationUsers", "Specific connected organizations", true),
    ("allConfiguredConnectedOrganizationUsers", "All configured connected organizations", true),
    ("allExternalUsers", "All users, including people from organizations not yet connected", true),
    ("notSpecified", "None: administrators assign it directly", false),
];

#[derive(Default, Clone)]
pub struct Stage {
    pub approvers: Vec<String>,
    pub users: String,
    pub group: String,
    pub fallback: String,
    pub days: String,
    pub justification: bool,
    pub escalation: bool,
    pub escalation_days: String,
    pub escalation_users: String,
}

#[derive(Default, Clone)]
pub struct QuestionDraft {
    pub text: String,
    /// `text` or `choice`.
    pub kind: String,
    pub required: bool,
    pub multiple: bool,
    /// One choice per line.
    pub choices: String,
    /// One translation per line: `fr: Texte`.
    pub localized: String,
}

#[derive(Default)]
pub struct Draft {
    pub name: String,
    pub description: String,
    pub catalog: Option<Uuid>,
    pub hidden: bool,
    /// Resource id → the role's `originId` (empty: not granted).
    pub roles: Vec<(Uuid, String)>,
    /// Groups outside the catalog → role name (`Member`, `Owner`), added on the way.
    pub new_roles: Vec<(Uuid, String)>,
    pub group_q: String,
    pub policy_name: String,
    pub scope: String,
    pub target_orgs: Vec<Uuid>,
    pub target_groups: Vec<Uuid>,
    pub target_emails: String,
    pub approval: bool,
    pub requestor_justification: bool,
    pub stages: Vec<Stage>,
    pub enabled: bool,
    pub questions: Vec<QuestionDraft>,
    pub expiry: String,
    pub expiry_days: String,
    pub expiry_hours: String,
    pub expiry_date: String,
    pub extension: bool,
    pub extension_approval: bool,
    pub custom_schedule: bool,
    pub review: bool,
    pub review_self: bool,
    pub review_every_months: String,
}

fn text(f: &FormData, k: &str) -> String {
    f.raw(k).unwrap_or("").trim().to_owned()
}

fn yes(f: &FormData, k: &str) -> bool {
    f.get(k) == Some("yes")
}

fn ids(f: &FormData, k: &str) -> Vec<Uuid> {
    let mut out = Vec::new();
    for id in f.all(k).iter().filter_map(|v| v.parse::<Uuid>().ok()) {
        if !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

/// Fields named `prefix.<uuid>`, with their values.
fn keyed(f: &FormData, prefix: &str) -> Vec<(Uuid, String)> {
    f.pairs().filter_map(|(k, v)| Some((k.strip_prefix(prefix)?.parse::<Uuid>().ok()?, v.trim().to_owned()))).collect()
}

impl Draft {
    /// An empty wizard: the choices the seeds start from.
    pub fn fresh(catalog: Option<Uuid>) -> Draft {
        Draft {
            catalog,
            policy_name: "Initial policy".into(),
            scope: "specificConnectedOrganizationUsers".into(),
            approval: true,
            requestor_justification: true,
            stages: vec![Stage { days: "14".into(), ..Stage::default() }],
            enabled: true,
            expiry: "days".into(),
            expiry_days: "365".into(),
            review_every_months: "3".into(),
            ..Draft::default()
        }
    }

    pub fn read(f: &FormData) -> Draft {
        let stages = wizard::rows(f, "stage.days", MAX_STAGES)
            .into_iter()
            .map(|i| {
                let k = |name: &str| format!("stage.{name}.{i}");
                Stage {
                    approvers: f.all(&k("approvers")).into_iter().map(str::to_owned).collect(),
                    users: text(f, &k("users")),
                    group: text(f, &k("group")),
                    fallback: text(f, &k("fallback")),
                    days: text(f, &k("days")),
                    justification: yes(f, &k("justification")),
                    escalation: yes(f, &k("escalation")),
                    escalation_days: text(f, &k("escalation_days")),
                    escalation_users: text(f, &k("escalation_users")),
                }
            })
            .collect();
        let questions = wizard::rows(f, "q.text", MAX_QUESTIONS)
            .into_iter()
            .map(|i| {
                let k = |name: &str| format!("q.{name}.{i}");
                QuestionDraft {
                    text: text(f, &k("text")),
                    kind: if f.get(&k("kind")) == Some("choice") { "choice".into() } else { "text".into() },
                    required: yes(f, &k("required")),
                    multiple: yes(f, &k("multiple")),
                    choices: text(f, &k("choices")),
                    localized: text(f, &k("localized")),
                }
            })
            .collect();
        Draft {
            name: text(f, "name"),
            description: text(f, "description"),
            catalog: f.get("catalog").and_then(|c| c.parse().ok()),
            hidden: yes(f, "hidden"),
            roles: keyed(f, "role."),
            new_roles: keyed(f, "newrole.").into_iter().filter(|(_, r)| r == "Member" || r == "Owner").collect(),
            group_q: text(f, "group_q"),
            policy_name: text(f, "policy_name"),
            scope: f.get("who").filter(|s| SCOPES.iter().any(|(k, _, _)| k == s)).unwrap_or("notSpecified").to_owned(),
            target_orgs: ids(f, "target_org"),
            target_groups: ids(f, "target_group"),
            target_emails: text(f, "target_emails"),
            approval: yes(f, "approval"),
            requestor_justification: yes(f, "requestor_justification"),
            stages,
            enabled: yes(f, "enabled"),
            questions,
            expiry: f.get("expiry").unwrap_or("never").to_owned(),
            expiry_days: text(f, "expiry_days"),
            expiry_hours: text(f, "expiry_hours"),
            expiry_date: text(f, "expiry_date"),
            extension: yes(f, "extension"),
            extension_approval: yes(f, "extension_approval"),
            custom_schedule: yes(f, "custom_schedule"),
            review: yes(f, "review"),
            review_self: yes(f, "review_self"),
            review_every_months: text(f, "review_every_months"),
        }
    }

    pub fn external(&self) -> bool {
        SCOPES.iter().any(|(k, _, outside)| *k == self.scope && *outside)
    }

    /// The granted roles' `originId`s: catalog roles chosen, then the new groups'.
    pub fn role_origins(&self) -> Vec<String> {
        let mut out: Vec<String> = self.roles.iter().filter(|(_, r)| !r.is_empty()).map(|(_, r)| r.clone()).collect();
        out.extend(self.new_roles.iter().map(|(g, r)| format!("{r}_{g}")));
        out
    }

    pub fn package_body(&self) -> Value {
        let mut body = json!({"displayName": self.name, "isHidden": self.hidden});
        if let Some(c) = self.catalog {
            body["catalog"] = json!({"id": c});
        }
        if !self.description.is_empty() {
            body["description"] = json!(self.description);
        }
        body
    }

    /// The policy's body, without `accessPackage`; `people` maps each address typed in the
    /// form to its user id (the handler resolved them; unknown ones were refused before).
    pub fn policy_body(&self, people: &dyn Fn(&str) -> Option<Uuid>, errors: &mut Errors) -> Value {
        let users = |field: &str, list: &str, errors: &mut Errors| -> Vec<Value> {
            addresses(list)
                .filter_map(|a| match people(a) {
                    Some(id) => Some(json!({"@odata.type": "#microsoft.graph.singleUser", "userId": id})),
                    None => {
                        errors.add(field, format!("Nobody in the directory has the address {a}."));
                        None
                    }
                })
                .collect()
        };
        let mut targets: Vec<Value> = Vec::new();
        match self.scope.as_str() {
            "specificConnectedOrganizationUsers" => targets.extend(self.target_orgs.iter().map(|o| {
                json!({"@odata.type": "#microsoft.graph.connectedOrganizationMembers", "connectedOrganizationId": o})
            })),
            "specificDirectoryUsers" => {
                targets.extend(
                    self.target_groups
                        .iter()
                        .map(|g| json!({"@odata.type": "#microsoft.graph.groupMembers", "groupId": g})),
                );
                targets.extend(users("target_emails", &self.target_emails, errors));
            }
            _ => {}
        }
        let mut stages = Vec::new();
        if self.approval {
            for (i, st) in self.stages.iter().enumerate() {
                let mut primary: Vec<Value> = st
                    .approvers
                    .iter()
                    .filter(|a| STAGE_APPROVERS.iter().any(|(k, _)| k == a))
                    .map(|a| json!({"@odata.type": format!("#microsoft.graph.{a}")}))
                    .collect();
                primary.extend(users(&format!("stage.users.{i}"), &st.users, errors));
                if let Ok(g) = st.group.parse::<Uuid>() {
                    primary.push(json!({"@odata.type": "#microsoft.graph.groupMembers", "groupId": g}));
                }
                let days = whole(&st.days, &format!("stage.days.{i}"), "days", 1, 14, errors).unwrap_or(14);
                let mut stage = json!({
                    "durationBeforeAutomaticDenial": format!("P{days}D"),
                    "isApproverJustificationRequired": st.justification,
                    "primaryApprovers": primary,
                    "fallbackPrimaryApprovers": users(&format!("stage.fallback.{i}"), &st.fallback, errors),
                    "isEscalationEnabled": st.escalation,
                });
                if st.escalation {
                    let after =
                        whole(&st.escalation_days, &format!("stage.escalation_days.{i}"), "days", 1, 13, errors)
                            .unwrap_or(1);
                    stage["durationBeforeEscalation"] = json!(format!("P{after}D"));
                    stage["escalationApprovers"] =
                        json!(users(&format!("stage.escalation_users.{i}"), &st.escalation_users, errors));
                }
                stages.push(stage);
            }
        }
        let open = self.enabled && self.scope != "notSpecified";
        let mut body = json!({
            "displayName": self.policy_name,
            "allowedTargetScope": self.scope,
            "specificAllowedTargets": targets,
            "requestorSettings": {"enableTargetsToSelfAddAccess": open, "enableTargetsToSelfUpdateAccess": open && self.extension,
                "enableTargetsToSelfRemoveAccess": open, "allowCustomAssignmentSchedule": self.custom_schedule},
            "requestApprovalSettings": {"isApprovalRequiredForAdd": self.approval,
                "isApprovalRequiredForUpdate": self.approval && self.extension_approval,
                "isRequestorJustificationRequired": self.requestor_justification, "stages": stages},
            "expiration": self.expiration(errors),
            "questions": self.questions_body(errors),
        });
        if self.review {
            let months = whole(&self.review_every_months, "review_every_months", "months", 1, 12, errors).unwrap_or(3);
            body["reviewSettings"] = json!({"isEnabled": true, "isSelfReview": self.review_self,
                "primaryReviewers": if self.review_self { json!([]) } else { json!([{"@odata.type": "#microsoft.graph.requestorManager", "managerLevel": 1}]) },
                "expirationBehavior": "keepAccess",
                "schedule": {"expiration": {"type": "afterDuration", "duration": "P14D"},
                    "recurrence": {"pattern": {"type": "absoluteMonthly", "interval": months}, "range": {"type": "noEnd"}}}});
        }
        body
    }

    fn expiration(&self, errors: &mut Errors) -> Value {
        match self.expiry.as_str() {
            "days" => {
                let d = whole(&self.expiry_days, "expiry_days", "days", 1, 3660, errors).unwrap_or(1);
                json!({"type": "afterDuration", "duration": format!("P{d}D")})
            }
            "hours" => {
                let h = whole(&self.expiry_hours, "expiry_hours", "hours", 1, 3660 * 24, errors).unwrap_or(1);
                json!({"type": "afterDuration", "duration": format!("PT{h}H")})
            }
            "date" => match crate::pages::when::end_of(&self.expiry_date) {
                Some(end) => json!({"type": "afterDateTime", "endDateTime": end}),
                None => {
                    errors.add("expiry_date", "Enter the date as year-month-day, for example 2027-06-30.");
                    json!({"type": "noExpiration"})
                }
            },
            _ => json!({"type": "noExpiration"}),
        }
    }

    fn questions_body(&self, errors: &mut Errors) -> Vec<Value> {
        let mut out = Vec::new();
        for (i, q) in self.questions.iter().enumerate() {
            if q.text.is_empty() {
                errors.add(format!("q.text.{i}"), "Enter the question, or remove it.");
                continue;
            }
            let mut localizations = Vec::new();
            for line in q.localized.lines().map(str::trim).filter(|l| !l.is_empty()) {
                match line.split_once(':') {
                    Some((lang, t)) if !lang.trim().is_empty() && !t.trim().is_empty() => {
                        localizations.push(json!({"languageCode": lang.trim(), "text": t.trim()}))
                    }
                    _ => errors.add(
                        format!("q.localized.{i}"),
                        format!("Write each translation as language: text, for example fr: {}", q.text),
                    ),
                }
            }
            let mut body =
                json!({"sequence": i + 1, "isRequired": q.required, "text": q.text, "localizations": localizations});
            if q.kind == "choice" {
                let choices: Vec<Value> = q
                    .choices
                    .lines()
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(|c| json!({"actualValue": c, "text": c, "localizations": []}))
                    .collect();
                if choices.len() < 2 {
                    errors.add(
                        format!("q.choices.{i}"),
                        "A multiple choice question needs at least two choices, one per line.",
                    );
                }
                body["@odata.type"] = json!("#microsoft.graph.accessPackageMultipleChoiceQuestion");
                body["choices"] = json!(choices);
                body["isMultipleSelectionAllowed"] = json!(q.multiple);
            } else {
                body["@odata.type"] = json!("#microsoft.graph.accessPackageTextInputQuestion");
                body["isSingleLineQuestion"] = json!(true);
            }
            out.push(body);
        }
        out
    }

    /// Every address typed into the form, with the field it was typed in.
    pub fn typed_addresses(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut take = |field: String, list: &str| out.extend(addresses(list).map(|a| (field.clone(), a.to_owned())));
        if self.scope == "specificDirectoryUsers" {
            take("target_emails".into(), &self.target_emails);
        }
        if self.approval {
            for (i, st) in self.stages.iter().enumerate() {
                take(format!("stage.users.{i}"), &st.users);
                take(format!("stage.fallback.{i}"), &st.fallback);
                if st.escalation {
                    take(format!("stage.escalation_users.{i}"), &st.escalation_users);
                }
            }
        }
        out
    }
}

impl Draft {
    /// A stored policy as the form shows it, for editing; `mail` names each user id it
    /// mentions. `Err` names what the form cannot show (then the policy is edited through the
    /// API rather than losing it).
    pub fn from_policy(
        p: &AssignmentPolicy,
        package: &str,
        catalog: Uuid,
        mail: &dyn Fn(Uuid) -> Option<String>,
    ) -> Result<Draft, String> {
        let mut d = Draft { name: package.to_owned(), catalog: Some(catalog), ..Draft::default() };
        d.policy_name = p.display_name.clone();
        d.scope = p.allowed_target_scope.to_string();
        if !SCOPES.iter().any(|(k, _, _)| *k == d.scope) {
            return Err(format!("who may request ({})", d.scope));
        }
        let mut emails = Vec::new();
        for t in &p.specific_allowed_targets {
            match t {
                SubjectSet::ConnectedOrganizationMembers { connected_organization_id, .. } => {
                    d.target_orgs.push(*connected_organization_id)
                }
                SubjectSet::GroupMembers { group_id, .. } => d.target_groups.push(*group_id),
                SubjectSet::SingleUser { user_id, .. } => {
                    emails.push(mail(*user_id).ok_or("a requestor without an address")?)
                }
                other => return Err(format!("requestors given as {}", other.type_name())),
            }
        }
        d.target_emails = emails.join("\n");
        let users = |sets: &[SubjectSet]| -> Result<String, String> {
            let mut out = Vec::new();
            for s in sets {
                match s {
                    SubjectSet::SingleUser { user_id, .. } => {
                        out.push(mail(*user_id).ok_or("an approver without an address")?)
                    }
                    other => return Err(format!("approvers given as {}", other.type_name())),
                }
            }
            Ok(out.join("\n"))
        };
        let a = &p.request_approval_settings;
        d.approval = a.is_approval_required_for_add;
        d.requestor_justification = a.is_requestor_justification_required;
        d.extension_approval = a.is_approval_required_for_update;
        for st in &a.stages {
            let mut stage = Stage {
                days: (st.duration_before_automatic_denial.seconds() / 86_400).max(1).to_string(),
                justification: st.is_approver_justification_required,
                escalation: st.is_escalation_enabled,
                ..Stage::default()
            };
            let mut singles = Vec::new();
            for s in &st.primary_approvers {
                match s {
                    SubjectSet::ExternalSponsors => stage.approvers.push("externalSponsors".into()),
                    SubjectSet::InternalSponsors => stage.approvers.push("internalSponsors".into()),
                    SubjectSet::RequestorManager { .. } => stage.approvers.push("requestorManager".into()),
                    SubjectSet::GroupMembers { group_id, .. } if stage.group.is_empty() => {
                        stage.group = group_id.to_string()
                    }
                    SubjectSet::SingleUser { .. } => singles.push(s.clone()),
                    other => return Err(format!("approvers given as {}", other.type_name())),
                }
            }
            stage.users = users(&singles)?;
            stage.fallback = users(&st.fallback_primary_approvers)?;
            if st.is_escalation_enabled {
                stage.escalation_days = (st.duration_before_escalation.seconds() / 86_400).max(1).to_string();
                stage.escalation_users = users(&st.escalation_approvers)?;
            }
            d.stages.push(stage);
        }
        if d.stages.is_empty() {
            d.stages.push(Stage { days: "14".into(), ..Stage::default() });
        }
        let r = &p.requestor_settings;
        d.enabled = r.enable_targets_to_self_add_access;
        d.extension = r.enable_targets_to_self_update_access;
        d.custom_schedule = r.allow_custom_assignment_schedule;
        for q in &p.questions {
            let localized = q
                .localizations
                .iter()
                .map(|l| format!("{}: {}", l.language_code, l.text))
                .collect::<Vec<_>>()
                .join("\n");
            d.questions.push(match &q.kind {
                QuestionKind::TextInput { .. } => QuestionDraft {
                    text: q.text.clone(),
                    kind: "text".into(),
                    required: q.is_required,
                    localized,
                    ..QuestionDraft::default()
                },
                QuestionKind::MultipleChoice { choices, is_multiple_selection_allowed } => QuestionDraft {
                    text: q.text.clone(),
                    kind: "choice".into(),
                    required: q.is_required,
                    multiple: *is_multiple_selection_allowed,
                    choices: choices.iter().map(|c| c.actual_value.clone()).collect::<Vec<_>>().join("\n"),
                    localized,
                },
            });
        }
        let e = &p.expiration;
        let secs = e.duration.map(|x| x.seconds()).unwrap_or(0);
        (d.expiry, d.expiry_days, d.expiry_hours, d.expiry_date) = match e.kind {
            Some(ExpirationPatternType::AfterDuration) if secs % 86_400 == 0 => {
                ("days".into(), (secs / 86_400).to_string(), String::new(), String::new())
            }
            Some(ExpirationPatternType::AfterDuration) => {
                ("hours".into(), String::new(), (secs / 3600).max(1).to_string(), String::new())
            }
            Some(ExpirationPatternType::AfterDateTime) => (
                "date".into(),
                String::new(),
                String::new(),
                e.end_date_time.map(|t| t.format("%Y-%m-%d").to_string()).unwrap_or_default(),
            ),
            _ => ("never".into(), String::new(), String::new(), String::new()),
        };
        d.review_every_months = "3".into();
        if let Some(r) = p.review_settings.as_ref().filter(|r| r.is_enabled) {
            d.review = true;
            d.review_self = r.is_self_review;
            if let Some(n) =
                r.schedule.as_ref().and_then(|s| s.recurrence.as_ref()).and_then(|r| r["pattern"]["interval"].as_i64())
            {
                d.review_every_months = n.to_string();
            }
        }
        Ok(d)
    }
}

/// The form's policy body laid over the stored one, so that what the form does not show
/// (a description, on-behalf requestors, notification settings, a stage's escalation
/// fallbacks) survives the `PUT`.
pub fn over(stored: &AssignmentPolicy, form: Value) -> Value {
    let mut base = serde_json::to_value(stored).unwrap_or_else(|_| json!({}));
    if let Some(o) = base.as_object_mut() {
        for k in ["id", "createdDateTime", "modifiedDateTime"] {
            o.remove(k);
        }
        // A navigation, not serialized with the policy: kept so a question's pattern and id
        // survive (the id keeps earlier answers tied to it).
        o.insert("questions".into(), serde_json::to_value(&stored.questions).unwrap_or_default());
    }
    let mut form = form;
    // Choices are shown by their stored values: unchanged ones keep their display texts and
    // translations, which the form cannot show.
    if let (Some(fq), Some(sq)) = (form["questions"].as_array_mut(), base["questions"].as_array()) {
        let values =
            |q: &Value| q["choices"].as_array().map(|c| c.iter().map(|c| c["actualValue"].clone()).collect::<Vec<_>>());
        for (f, s) in fq.iter_mut().zip(sq) {
            if f["@odata.type"] == s["@odata.type"] && values(f) == values(s) {
                if let Some(o) = f.as_object_mut() {
                    o.remove("choices");
                }
            }
        }
    }
    merge(&mut base, form);
    base
}

fn merge(base: &mut Value, top: Value) {
    match (base, top) {
        (Value::Object(b), Value::Object(t)) => {
            for (k, v) in t {
                merge(b.entry(k).or_insert(Value::Null), v);
            }
        }
        // Lists of objects merge by position where an item keeps its kind (a stage, a question
        // of the same type): the form sets what it shows, the rest of the item stays.
        (Value::Array(b), Value::Array(t)) => {
            b.truncate(t.len());
            for (i, v) in t.into_iter().enumerate() {
                match b.get_mut(i) {
                    Some(slot)
                        if slot.is_object() && v.is_object() && slot.get("@odata.type") == v.get("@odata.type") =>
                    {
                        merge(slot, v)
                    }
                    Some(slot) => *slot = v,
                    None => b.push(v),
                }
            }
        }
        (b, t) => *b = t,
    }
}

/// Addresses separated by commas, spaces or lines.
pub fn addresses(list: &str) -> impl Iterator<Item = &str> {
    list.split(|c: char| c == ',' || c == ';' || c.is_whitespace()).filter(|a| !a.is_empty())
}

/// A whole number in `lo..=hi`, or a message on `field`.
fn whole(raw: &str, field: &str, unit: &str, lo: i64, hi: i64, errors: &mut Errors) -> Option<i64> {
    match raw.parse::<i64>() {
        Ok(n) if (lo..=hi).contains(&n) => Some(n),
        _ => {
            errors.add(field, format!("Enter a whole number of {unit} from {lo} to {hi}."));
            None
        }
    }
}

#[cfg(test)]
#[path = "package_draft_tests.rs"]
mod tests;
