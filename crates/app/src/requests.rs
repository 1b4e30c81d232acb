//! Assignment requests: submit (with policy evaluation, answers, approver plan), decide a
//! stage, cancel, reprocess, and the clock-driven sweep for escalation and automatic denial.

use std::collections::HashMap;

use gatehouse_domain::answers::{validate_answers, validate_justification};
use gatehouse_domain::approval::{self, ApproverDirectory};
use gatehouse_domain::authorization::Action;
use gatehouse_domain::connected_organization::SponsorKind;
use gatehouse_domain::enums::{RequestType, UserType};
use gatehouse_domain::evaluation::{self, Purpose, Subject, SubjectKind, SubjectOrganization};
use gatehouse_domain::policy::AssignmentPolicy;
use gatehouse_domain::principal::Principal;
use gatehouse_domain::request::{AssignmentRequest, TransitionError, Verdict};
use gatehouse_domain::request_input::{NewAssignmentRequest, RequestCommand, Target};
use gatehouse_domain::subject_set::SubjectSet;
use gatehouse_domain::ValidationError;
use gatehouse_store::{
    access_packages, assignments, catalogs, connected_organizations as orgs, directory, policies, requests, Conn,
};
use uuid::Uuid;

use crate::audit::{created, deleted};
use crate::authorization::catalog_of_package;
use crate::{not_found, Actor, App, AppError, Result};

/// A requestor from outside ticked the box under the host's privacy statement.
#[derive(Debug, Clone)]
pub struct PrivacyAcceptance {
    /// The statement they were shown; `None` when the host has published none.
    pub statement_url: Option<String>,
}

fn transition(e: TransitionError) -> AppError {
    match e {
        TransitionError::NotAnApprover | TransitionError::OwnRequest => AppError::Forbidden(e.to_string()),
        TransitionError::UnknownStage(_) => AppError::NotFound(e.to_string()),
        TransitionError::JustificationRequired => ValidationError::new("justification", e.to_string()).into(),
        _ => AppError::Conflict(e.to_string()),
    }
}

fn caller(actor: &Actor) -> Result<&Principal> {
    actor.principal.as_ref().ok_or_else(|| AppError::Unauthenticated("sign in to make requests".into()))
}

/// Direct assignment (`kind`: adminAdd, adminUpdate, adminRemove) in `catalog`: the caller
/// must manage its assignments.
fn check_direct(actor: &Actor, kind: &str, catalog: Uuid) -> Result<()> {
    actor.check(Action::ManageAssignments, catalog).map_err(|e| match e {
        AppError::Forbidden(m) => AppError::Forbidden(m.replacen("this operation", kind, 1)),
        other => other,
    })
}

/// Whether the actor manages assignments of `catalog`'s packages (administrators, and its
/// owners, access package managers and assignment managers).
fn manages(actor: &Actor, catalog: Uuid) -> bool {
    actor.check(Action::ManageAssignments, catalog).is_ok()
}

/// How policy evaluation sees a directory user.
pub(crate) async fn subject_of(conn: &mut Conn, user: &gatehouse_domain::directory::User) -> Result<Subject> {
    let kind = match user.user_type {
        UserType::Member => SubjectKind::Member,
        UserType::Guest => {
            let organization = match user.connected_organization_id {
                Some(id) => orgs::get(conn, id).await?.map(|o| SubjectOrganization { id: o.id, state: o.state }),
                None => None,
            };
            SubjectKind::Guest { organization }
        }
    };
    Ok(Subject { user_id: Some(user.id), kind, groups: directory::groups_of(conn, user.id).await? })
}

/// An external person named by email: matched to a connected organization by domain only
/// for domain (passcode) sources, never for federated ones (DESIGN §4).
async fn external_subject(conn: &mut Conn, email: &str) -> Result<Subject> {
    let domain = gatehouse_domain::directory::email_domain(email).unwrap_or_default().to_owned();
    let mut organization = None;
    if let Some((id, _)) = orgs::domain_owner(conn, &domain, None).await? {
        if let Some(o) = orgs::get(conn, id).await? {
            let by_passcode = o.identity_sources.iter().any(|s| {
                matches!(s, gatehouse_domain::connected_organization::IdentitySource::Domain { domain_name, .. } if *domain_name == domain)
            });
            if by_passcode {
                organization = Some(SubjectOrganization { id: o.id, state: o.state });
            }
        }
    }
    Ok(Subject { user_id: None, kind: SubjectKind::External { domain, organization }, groups: vec![] })
}

impl App {
    /// The approvers of each stage for a request that waited for a custom extension before
    /// approval: resolved when the wait ends, as submission would have.
    pub(crate) async fn approval_plan(
        &self,
        conn: &mut gatehouse_store::WriteTx,
        policy: &AssignmentPolicy,
        request: &AssignmentRequest,
    ) -> Result<Vec<gatehouse_domain::approval::ResolvedStage>> {
        let organization = match request.target_id {
            Some(t) => directory::get_user(conn, t).await?.and_then(|u| u.connected_organization_id),
            None => match request.target_email.as_deref().and_then(gatehouse_domain::directory::email_domain) {
                Some(domain) => orgs::domain_owner(conn, domain, None).await?.map(|(id, _)| id),
                None => None,
            },
        };
        let update = matches!(request.request_type, RequestType::UserUpdate | RequestType::AdminUpdate);
        resolve_plan(conn, policy, organization, request.target_id, request.requestor_id, update).await
    }
}

/// The approvers of each of the policy's stages for this target, leaving out the target and
/// the requestor (nobody approves their own access).
async fn resolve_plan(
    conn: &mut Conn,
    policy: &AssignmentPolicy,
    organization: Option<Uuid>,
    target: Option<Uuid>,
    requestor: Option<Uuid>,
    update: bool,
) -> Result<Vec<gatehouse_domain::approval::ResolvedStage>> {
    let dir = approver_directory(conn, policy, organization, target).await?;
    let excluded: Vec<Uuid> = [target, requestor].into_iter().flatten().collect();
    approval::plan(&policy.request_approval_settings, update, &dir, &excluded)
        .map_err(|e| AppError::Conflict(e.to_string()))
}

/// Load the people the policy's approver sets can refer to for this target.
async fn approver_directory(
    conn: &mut Conn,
    policy: &AssignmentPolicy,
    organization: Option<Uuid>,
    target: Option<Uuid>,
) -> Result<ApproverDirectory> {
    let mut dir = ApproverDirectory::default();
    if let Some(org) = organization {
        dir.internal_sponsors = orgs::sponsors(conn, org, SponsorKind::Internal).await?;
        dir.external_sponsors = orgs::sponsors(conn, org, SponsorKind::External).await?;
    }
    let mut groups: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    let mut singles = Vec::new();
    for stage in &policy.request_approval_settings.stages {
        for set in stage
            .primary_approvers
            .iter()
            .chain(&stage.fallback_primary_approvers)
            .chain(&stage.escalation_approvers)
            .chain(&stage.fallback_escalation_approvers)
        {
            match set {
                SubjectSet::GroupMembers { group_id, .. } if !groups.contains_key(group_id) => {
                    groups.insert(*group_id, directory::members_of(conn, *group_id).await?);
                }
                SubjectSet::SingleUser { user_id, .. } => singles.push(*user_id),
                _ => {}
            }
        }
    }
    dir.group_members = groups;
    if let Some(mut current) = target {
        for _ in 0..2 {
            match directory::get_user(conn, current).await?.and_then(|u| u.manager_id) {
                Some(m) => {
                    dir.managers.push(m);
                    current = m;
                }
                None => break,
            }
        }
    }
    let candidates = dir
        .internal_sponsors
        .iter()
        .chain(&dir.external_sponsors)
        .chain(dir.group_members.values().flatten())
        .chain(&dir.managers)
        .chain(&singles)
        .copied()
        .collect::<Vec<_>>();
    for id in candidates {
        if !dir.enabled_users.contains(&id) && directory::get_user(conn, id).await?.is_some_and(|u| u.account_enabled) {
            dir.enabled_users.push(id);
        }
    }
    Ok(dir)
}

impl App {
    /// `POST assignmentRequests`.
    pub async fn create_assignment_request(
        &self,
        actor: &Actor,
        input: NewAssignmentRequest,
    ) -> Result<AssignmentRequest> {
        self.submit_request(actor, input, None).await
    }

    /// A request from the My Access package page, where someone from outside accepted the
    /// host's privacy statement: the acceptance is part of the request's audit record.
    pub async fn create_assignment_request_accepting_privacy(
        &self,
        actor: &Actor,
        input: NewAssignmentRequest,
        accepted: PrivacyAcceptance,
    ) -> Result<AssignmentRequest> {
        self.submit_request(actor, input, Some(accepted)).await
    }

    async fn submit_request(
        &self,
        actor: &Actor,
        input: NewAssignmentRequest,
        privacy: Option<PrivacyAcceptance>,
    ) -> Result<AssignmentRequest> {
        let now = self.now();
        let command = input.validate(now)?;
        let me = caller(actor)?.clone();
        let mut tx = self.store.begin().await?;
        let (mut request, events) = match command {
            RequestCommand::Add { admin, package, policy, target, justification, answers, schedule } => {
                let Some(pkg) = access_packages::get(&mut tx, package).await? else {
                    return not_found("accessPackage", package);
                };
                if admin {
                    check_direct(actor, "adminAdd", pkg.catalog_id)?;
                }
                let catalog = catalogs::get(&mut tx, pkg.catalog_id)
                    .await?
                    .ok_or_else(|| AppError::Conflict("the package's catalog no longer exists".into()))?;
                let package_policies = policies::of_package(&mut tx, package).await?;
                let (target_user, target_email) = match target {
                    Target::Caller => (
                        Some(
                            directory::get_user(&mut tx, me.user_id)
                                .await?
                                .ok_or_else(|| AppError::Unauthenticated("your account no longer exists".into()))?,
                        ),
                        None,
                    ),
                    Target::User(id) if !admin && id != me.user_id => {
                        return Err(AppError::Forbidden(
                            "a userAdd request is for yourself; use adminAdd to assign someone else".into(),
                        ))
                    }
                    Target::User(id) => {
                        (Some(crate::directory::require_user(&mut tx, id, "assignment.targetId").await?), None)
                    }
                    Target::Email { email, .. } => match directory::find_by_mail(&mut tx, &email).await? {
                        Some(id) => (directory::get_user(&mut tx, id).await?, None),
                        None => (None, Some(email)),
                    },
                };
                let subject = match (&target_user, &target_email) {
                    (Some(u), _) => subject_of(&mut tx, u).await?,
                    (None, Some(email)) => external_subject(&mut tx, email).await?,
                    (None, None) => return Err(AppError::Conflict("the request names no target".into())),
                };
                // Domain allow/deny lists apply to everyone from outside, before anything else.
                let outside_domain = match (&subject.kind, &target_user, &target_email) {
                    (SubjectKind::External { domain, .. }, _, _) => Some(domain.clone()),
                    (SubjectKind::Guest { .. }, Some(u), _) => {
                        u.mail.as_deref().and_then(gatehouse_domain::directory::email_domain).map(str::to_owned)
                    }
                    _ => None,
                };
                if let Some(domain) = outside_domain {
                    let settings = gatehouse_store::settings::get(&mut tx).await?;
                    if let Some(why) = settings.refuses_domain(&domain) {
                        return Err(AppError::Forbidden(why));
                    }
                }
                let policy = if admin {
                    let id = policy.unwrap_or_default();
                    package_policies.iter().find(|p| p.id == id).cloned().ok_or_else(|| {
                        ValidationError::new(
                            "assignment.assignmentPolicyId",
                            format!("policy '{id}' is not a policy of access package '{}'", pkg.display_name),
                        )
                    })?
                } else {
                    evaluation::choose_policy(&subject, &catalog, &package_policies, Purpose::SelfAdd, policy)
                        .map_err(|r| AppError::Forbidden(r.to_string()))?
                        .clone()
                };
                if let Some(u) = &target_user {
                    if assignments::active_for(&mut tx, package, u.id).await?.is_some() {
                        return Err(AppError::Conflict(format!(
                            "{} already has access package '{}'",
                            u.display_name, pkg.display_name
                        )));
                    }
                    if let Some(open) = requests::open_for(&mut tx, package, u.id).await? {
                        return Err(AppError::Conflict(format!(
                            "a request for '{}' is already open ({open})",
                            pkg.display_name
                        )));
                    }
                    let held = assignments::incompatible_held(&mut tx, package, u.id).await?;
                    if !held.is_empty() {
                        return Err(AppError::Conflict(format!(
                            "'{}' is incompatible with access already held: {}",
                            pkg.display_name,
                            held.join(", ")
                        )));
                    }
                    let joined = assignments::incompatible_groups_joined(&mut tx, package, u.id).await?;
                    if !joined.is_empty() {
                        return Err(AppError::Conflict(format!(
                            "members of {} cannot get '{}'",
                            joined.join(", "),
                            pkg.display_name
                        )));
                    }
                }
                let answers = validate_answers(&policy.questions, &answers)?;
                let justification = if admin {
                    justification
                } else {
                    validate_justification(&policy, justification.as_deref(), false)?
                };
                if !admin
                    && !policy.requestor_settings.allow_custom_assignment_schedule
                    && (schedule.start_date_time.is_some() || schedule.expiration.kind.is_some())
                {
                    return Err(ValidationError::new(
                        "schedule",
                        "this policy does not let requestors choose a schedule",
                    )
                    .into());
                }
                let organization = match &subject.kind {
                    SubjectKind::Guest { organization } | SubjectKind::External { organization, .. } => {
                        organization.as_ref().map(|o| o.id)
                    }
                    SubjectKind::Member => None,
                };
                let target_id = target_user.as_ref().map(|u| u.id);
                let plan = if admin {
                    Vec::new()
                } else {
                    resolve_plan(&mut tx, &policy, organization, target_id, Some(me.user_id), false).await?
                };
                let request_type = if admin { RequestType::AdminAdd } else { RequestType::UserAdd };
                let mut request = AssignmentRequest::new(
                    crate::new_id(),
                    request_type,
                    package,
                    policy.id,
                    target_id,
                    target_email,
                    Some(me.user_id),
                    now,
                );
                request.justification = justification;
                request.answers = answers;
                request.schedule = schedule;
                request.waits = self.waits_for(&mut tx, &policy).await?;
                let mut ids = crate::new_id;
                let events = request.submit(plan, &policy.request_approval_settings.stages, &mut ids, now);
                (request, events)
            }
            RequestCommand::Remove { admin, assignment, justification } => {
                let Some(a) = assignments::get(&mut tx, assignment).await? else {
                    return not_found("assignment", assignment);
                };
                if admin {
                    check_direct(actor, "adminRemove", catalog_of_package(&mut tx, a.access_package_id).await?)?;
                }
                if !admin && a.target_id != me.user_id {
                    return Err(AppError::Forbidden("a userRemove request can only remove your own assignment".into()));
                }
                if !a.is_active() {
                    return Err(AppError::Conflict(format!("assignment '{assignment}' has already ended")));
                }
                if !admin {
                    let policy = policies::get(&mut tx, a.assignment_policy_id).await?;
                    if !policy.is_some_and(|p| p.requestor_settings.enable_targets_to_self_remove_access) {
                        return Err(AppError::Forbidden(
                            "this assignment's policy does not let you remove it yourself; ask an administrator".into(),
                        ));
                    }
                }
                let request_type = if admin { RequestType::AdminRemove } else { RequestType::UserRemove };
                let mut request =
                    AssignmentRequest::for_assignment(crate::new_id(), request_type, &a, Some(me.user_id), now);
                request.justification = justification;
                let mut ids = crate::new_id;
                let events = request.submit(Vec::new(), &[], &mut ids, now);
                (request, events)
            }
            RequestCommand::Update { admin, assignment, justification, answers, schedule } => {
                let Some(a) = assignments::get(&mut tx, assignment).await? else {
                    return not_found("assignment", assignment);
                };
                if admin {
                    check_direct(actor, "adminUpdate", catalog_of_package(&mut tx, a.access_package_id).await?)?;
                }
                if !admin && a.target_id != me.user_id {
                    return Err(AppError::Forbidden("a userUpdate request can only extend your own assignment".into()));
                }
                if !a.is_active() {
                    return Err(AppError::Conflict(format!(
                        "assignment '{assignment}' has ended; request the package again"
                    )));
                }
                let policy = policies::get(&mut tx, a.assignment_policy_id)
                    .await?
                    .ok_or_else(|| AppError::Conflict("the assignment's policy no longer exists".into()))?;
                if !admin && !policy.requestor_settings.enable_targets_to_self_update_access {
                    return Err(AppError::Forbidden(
                        "this assignment's policy does not let you extend it; ask an administrator".into(),
                    ));
                }
                if !admin
                    && !policy.requestor_settings.allow_custom_assignment_schedule
                    && (schedule.start_date_time.is_some() || schedule.expiration.kind.is_some())
                {
                    return Err(ValidationError::new(
                        "schedule",
                        "this policy extends by its own duration; leave schedule out",
                    )
                    .into());
                }
                if let Some(open) = requests::open_for(&mut tx, a.access_package_id, a.target_id).await? {
                    return Err(AppError::Conflict(format!(
                        "a request for this access package is already open ({open})"
                    )));
                }
                let new_end = gatehouse_domain::assignment::end_date(&policy, &schedule, now);
                match (a.end_date_time, new_end) {
                    (None, _) => {
                        return Err(AppError::Conflict(
                            "this assignment never expires; there is nothing to extend".into(),
                        ))
                    }
                    (Some(current), Some(new)) if new <= current => {
                        return Err(ValidationError::new(
                            "schedule",
                            format!("the new end ({new}) is not later than the current one ({current})"),
                        )
                        .into())
                    }
                    _ => {}
                }
                let answers = validate_answers(&policy.questions, &answers)?;
                let justification = if admin {
                    justification
                } else {
                    validate_justification(&policy, justification.as_deref(), true)?
                };
                let plan = if admin {
                    Vec::new()
                } else {
                    let target = directory::get_user(&mut tx, a.target_id).await?;
                    let organization = target.as_ref().and_then(|u| u.connected_organization_id);
                    resolve_plan(&mut tx, &policy, organization, Some(a.target_id), Some(me.user_id), true).await?
                };
                let request_type = if admin { RequestType::AdminUpdate } else { RequestType::UserUpdate };
                let mut request =
                    AssignmentRequest::for_assignment(crate::new_id(), request_type, &a, Some(me.user_id), now);
                request.justification = justification;
                request.answers = answers;
                request.schedule = schedule;
                request.waits = self.waits_for(&mut tx, &policy).await?;
                let mut ids = crate::new_id;
                let events = request.submit(plan, &policy.request_approval_settings.stages, &mut ids, now);
                (request, events)
            }
        };
        requests::insert(&mut tx, &request).await?;
        let mut summary = serde_json::json!({
            "requestType": request.request_type, "accessPackageId": request.access_package_id, "policyId": request.policy_id,
            "targetId": request.target_id, "targetEmail": request.target_email, "justification": request.justification,
        });
        if let Some(p) = privacy {
            summary["privacyStatementAccepted"] = serde_json::json!({"statementUrl": p.statement_url, "at": now});
        }
        self.audit(&mut tx, actor, created("assignmentRequest.submit", "assignmentRequest", request.id, &summary))
            .await?;
        self.act_on(&mut tx, actor, &mut request, None, events).await?;
        self.call_out(
            &mut tx,
            &mut request,
            gatehouse_domain::custom_extension::CalloutStage::AssignmentRequestCreated,
        )
        .await?;
        requests::update(&mut tx, &request).await?;
        tx.commit().await?;
        self.wake_workers();
        Ok(request)
    }

    async fn transition(
        &self,
        actor: &Actor,
        id: Uuid,
        step: impl FnOnce(&mut AssignmentRequest, &Principal, Uuid) -> Result<Vec<gatehouse_domain::request::Event>>,
    ) -> Result<AssignmentRequest> {
        let me = caller(actor)?.clone();
        let mut tx = self.store.begin().await?;
        let postgres = self.store.backend() == gatehouse_store::Backend::Postgres;
        let Some(mut request) = requests::get_for_update(&mut tx, id, postgres).await? else {
            return not_found("assignmentRequest", id);
        };
        // The step decides with the package's catalog: who manages assignments there.
        let catalog = catalog_of_package(&mut tx, request.access_package_id).await?;
        let before = request.clone();
        let events = step(&mut request, &me, catalog)?;
        self.act_on(&mut tx, actor, &mut request, Some(&before), events).await?;
        requests::update(&mut tx, &request).await?;
        tx.commit().await?;
        self.wake_workers();
        Ok(request)
    }

    /// `PATCH accessPackageAssignmentApprovals/{id}/stages/{stageId}`.
    pub async fn decide_stage(
        &self,
        actor: &Actor,
        request: Uuid,
        stage: Uuid,
        verdict: Verdict,
        justification: Option<String>,
    ) -> Result<AssignmentRequest> {
        let now = self.now();
        self.transition(actor, request, |r, me, catalog| {
            let approver = r
                .stages
                .iter()
                .any(|s| s.approvers.contains(&me.user_id) || s.escalation_approvers.contains(&me.user_id));
            let involved = r.target_id == Some(me.user_id) || r.requestor_id == Some(me.user_id);
            if !approver && !involved {
                // Whoever may not see the request is not told it exists, nor whether it is open.
                if actor.check(Action::ReadAssignments, catalog).is_err() {
                    return not_found("assignmentRequest", request);
                }
                return Err(transition(TransitionError::NotAnApprover));
            }
            r.decide(stage, me.user_id, verdict, justification, now).map_err(transition)
        })
        .await
    }

    /// `POST assignmentRequests/{id}/cancel`: by the requestor, the target or an administrator.
    pub async fn cancel_request(&self, actor: &Actor, id: Uuid) -> Result<AssignmentRequest> {
        let now = self.now();
        self.transition(actor, id, |r, me, catalog| {
            if !manages(actor, catalog) && r.target_id != Some(me.user_id) && r.requestor_id != Some(me.user_id) {
                let approver = r
                    .stages
                    .iter()
                    .any(|s| s.approvers.contains(&me.user_id) || s.escalation_approvers.contains(&me.user_id));
                // Like GET: a request that is none of the caller's business does not exist for them.
                if !approver && actor.check(Action::ReadAssignments, catalog).is_err() {
                    return Err(AppError::NotFound(format!("assignmentRequest '{id}' was not found")));
                }
                return Err(AppError::Forbidden(
                    "only the requestor or an administrator can cancel this request".into(),
                ));
            }
            r.cancel(now).map_err(transition)
        })
        .await
    }

    /// `POST assignmentRequests/{id}/reprocess`: administrators retry a failed delivery.
    pub async fn reprocess_request(&self, actor: &Actor, id: Uuid) -> Result<AssignmentRequest> {
        let now = self.now();
        self.transition(actor, id, |r, _, catalog| {
            actor.check(Action::ManageAssignments, catalog)?;
            r.reprocess(now).map_err(transition)
        })
        .await
    }

    /// `DELETE assignmentRequests/{id}`: administrators remove a closed request's record. The
    /// rule is [`AssignmentRequest::check_deletable`]; the assignment it delivered is never
    /// touched, and the audit log keeps the request's summary.
    pub async fn delete_request(&self, actor: &Actor, id: Uuid) -> Result<()> {
        caller(actor)?;
        let mut tx = self.store.begin().await?;
        let postgres = self.store.backend() == gatehouse_store::Backend::Postgres;
        let Some(request) = requests::get_for_update(&mut tx, id, postgres).await? else {
            return not_found("assignmentRequest", id);
        };
        actor.check(Action::ManageAssignments, catalog_of_package(&mut tx, request.access_package_id).await?)?;
        let assignment_active = match request.assignment_id {
            Some(a) => assignments::get(&mut tx, a).await?.is_some_and(|a| a.is_active()),
            None => false,
        };
        request.check_deletable(assignment_active).map_err(transition)?;
        requests::delete(&mut tx, id).await?;
        let before = request.audit_summary();
        self.audit(&mut tx, actor, deleted("assignmentRequest.delete", "assignmentRequest", id, &before)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Let time pass for every request with a deadline due: escalation, automatic denial and
    /// scheduled starts. Returns how many requests changed.
    pub async fn tick_requests(&self) -> Result<usize> {
        let now = self.now();
        let due = {
            let mut conn = self.store.conn().await?;
            requests::due(&mut conn, now, 500).await?
        };
        let mut changed = 0;
        for id in due {
            let mut tx = self.store.begin().await?;
            let postgres = self.store.backend() == gatehouse_store::Backend::Postgres;
            let Some(mut request) = requests::get_for_update(&mut tx, id, postgres).await? else { continue };
            let before = request.clone();
            let events = request.tick(now);
            if !events.is_empty() {
                changed += 1;
                self.act_on(&mut tx, &Actor::system(), &mut request, Some(&before), events).await?;
            }
            requests::update(&mut tx, &request).await?;
            tx.commit().await?;
        }
        Ok(changed)
    }
}
