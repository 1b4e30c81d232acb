//! Acting on request events inside the decision's transaction: audit every transition, create
//! the guest and the assignment when delivery starts, queue one provisioning job per resource
//! role (the transactional outbox), queue mail, and close the request when its jobs finish.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use gatehouse_domain::assignment::{end_date, Assignment};
use gatehouse_domain::connected_organization::{ConnectedOrganization, IdentitySource, SponsorKind};
use gatehouse_domain::connection::retry_delay;
use gatehouse_domain::custom_extension::CalloutStage;
use gatehouse_domain::directory::{email_domain, User};
use gatehouse_domain::enums::{
    AssignmentState, ConnectedOrganizationState, ExternalUserState, RequestState, RequestType, UserType,
};
use gatehouse_domain::policy::AssignmentPolicy;
use gatehouse_domain::request::{AssignmentRequest, Event};
use gatehouse_store::jobs::{self, NewJob};
use gatehouse_store::{
    access_packages, assignments, catalogs, connected_organizations as orgs, custom_extensions, directory, requests,
    WriteTx,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::audit::{created, updated, Change};
use crate::{Actor, App, AppError, Result};

/// Job kinds.
pub const PROVISION: &str = "provision";
pub const MAIL: &str = "mail";
/// A reconciliation run of one connection.
pub const RECONCILE: &str = "reconcile";
/// Attempts before a provisioning job gives up and the delivery is reported failed.
pub const PROVISION_ATTEMPTS: i64 = 5;

pub use gatehouse_domain::provisioning::Grant;

/// A guest about to be created: who they are and how they were recognised.
#[derive(Debug, Clone)]
pub(crate) struct NewGuest {
    /// Normalised address.
    pub email: String,
    pub display_name: Option<String>,
    pub given_name: Option<String>,
    pub surname: Option<String>,
    pub identities: Vec<gatehouse_domain::directory::ObjectIdentity>,
    pub state: ExternalUserState,
    /// Defaults to `local_domain#EXT#`.
    pub user_principal_name: Option<String>,
}

impl NewGuest {
    /// Someone an approved request named by address, who has not signed in yet.
    pub fn invited(email: String) -> NewGuest {
        NewGuest {
            email,
            display_name: None,
            given_name: None,
            surname: None,
            identities: vec![],
            state: ExternalUserState::PendingAcceptance,
            user_principal_name: None,
        }
    }
}

/// A message to people, sent by the mail worker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Mail {
    pub to: Vec<Uuid>,
    /// For recipients without an account yet.
    pub to_addresses: Vec<String>,
    pub subject: String,
    pub body: String,
}

impl App {
    pub(crate) async fn enqueue_mail(&self, conn: &mut WriteTx, mail: Mail, request: Option<Uuid>) -> Result<()> {
        if mail.to.is_empty() && mail.to_addresses.is_empty() {
            return Ok(());
        }
        let now = self.now();
        let job = NewJob {
            kind: MAIL,
            payload: json!(mail),
            max_attempts: 20,
            request_id: request,
            run_after: now,
            connection_id: None,
        };
        jobs::enqueue(conn, job, now).await?;
        Ok(())
    }

    /// Queue a mail carrying a one-time secret; returns the job, whose text is wiped once the
    /// secret is spent (see `store::passcodes::wipe_mail_jobs`). Few attempts: a code is dead
    /// in minutes, so retrying for hours only delivers a useless message.
    pub(crate) async fn enqueue_passcode_mail(&self, conn: &mut WriteTx, mail: Mail) -> Result<Uuid> {
        let now = self.now();
        let job = NewJob {
            kind: MAIL,
            payload: json!(mail),
            max_attempts: 4,
            request_id: None,
            run_after: now,
            connection_id: None,
        };
        Ok(jobs::enqueue(conn, job, now).await?)
    }

    /// Audit and act on the events of one transition of `request` (already loaded, not yet saved).
    pub(crate) async fn act_on(
        &self,
        conn: &mut WriteTx,
        actor: &Actor,
        request: &mut AssignmentRequest,
        before: Option<&AssignmentRequest>,
        events: Vec<Event>,
    ) -> Result<()> {
        let package = access_packages::get(conn, request.access_package_id).await?;
        let package_name = package.as_ref().map_or_else(|| "an access package".to_owned(), |p| p.display_name.clone());
        for event in events {
            let activity = match &event {
                Event::StageStarted { stage, approvers } => {
                    let mail = Mail {
                        to: approvers.clone(),
                        to_addresses: vec![],
                        subject: format!("Approval needed: {package_name}"),
                        body: format!(
                            "A request for {package_name} awaits your decision (stage {} of {}).\n\nApprove or deny it: {}",
                            stage + 1,
                            request.stages.len(),
                            self.link(&format!("/myaccess/approvals/{}", request.id))
                        ),
                    };
                    self.enqueue_mail(conn, mail, Some(request.id)).await?;
                    "assignmentRequest.stageStarted"
                }
                Event::StageEscalated { stage, approvers } => {
                    let mail = Mail {
                        to: approvers.clone(),
                        to_addresses: vec![],
                        subject: format!("Escalated approval: {package_name}"),
                        body: format!(
                            "A request for {package_name} was escalated to you (stage {} of {}).\n\nApprove or deny it: {}",
                            stage + 1,
                            request.stages.len(),
                            self.link(&format!("/myaccess/approvals/{}", request.id))
                        ),
                    };
                    self.enqueue_mail(conn, mail, Some(request.id)).await?;
                    "assignmentRequest.stageEscalated"
                }
                Event::StageDecided { .. } => "assignmentRequest.stageDecided",
                Event::Approved => {
                    self.call_out(conn, request, CalloutStage::AssignmentRequestApproved).await?;
                    // Only worth a message when someone actually approved.
                    if !request.stages.is_empty() {
                        self.notify_requestor(
                            conn,
                            request,
                            &format!("Request approved: {package_name}"),
                            "Your request was approved; access is being set up.",
                        )
                        .await?;
                    }
                    "assignmentRequest.approved"
                }
                Event::Denied { automatic } => {
                    let why = request
                        .stages
                        .iter()
                        .filter_map(|s| s.decision.as_ref())
                        .filter(|d| d.verdict == gatehouse_domain::request::Verdict::Deny)
                        .find_map(|d| d.justification.clone());
                    let text = match (automatic, why) {
                        (true, _) => "Your request was denied because nobody approved it in time.".to_owned(),
                        (false, Some(why)) => format!("Your request was denied. The approver wrote: {why}"),
                        (false, None) => "Your request was denied.".to_owned(),
                    };
                    self.notify_requestor(conn, request, &format!("Request denied: {package_name}"), &text).await?;
                    "assignmentRequest.denied"
                }
                Event::Scheduled { .. } => "assignmentRequest.scheduled",
                Event::DeliveryStarted => {
                    self.start_delivery(conn, actor, request).await?;
                    "assignmentRequest.deliveryStarted"
                }
                Event::Delivered => {
                    self.call_out(conn, request, CalloutStage::AssignmentRequestGranted).await?;
                    self.call_out(conn, request, CalloutStage::AssignmentRequestRemoved).await?;
                    if matches!(request.request_type, RequestType::UserAdd | RequestType::AdminAdd) {
                        self.notify_requestor(
                            conn,
                            request,
                            &format!("Access granted: {package_name}"),
                            "Your access is ready.",
                        )
                        .await?;
                    }
                    "assignmentRequest.delivered"
                }
                Event::PartiallyDelivered => "assignmentRequest.partiallyDelivered",
                Event::DeliveryFailed => "assignmentRequest.deliveryFailed",
                Event::Canceled => "assignmentRequest.canceled",
                Event::Held { stage, instance_id, extension_id } => {
                    let callout = crate::callouts::Callout {
                        extension_id: *extension_id,
                        stage: *stage,
                        request_id: Some(request.id),
                        assignment_id: request.assignment_id,
                        instance_id: *instance_id,
                        waits: true,
                    };
                    // An extension removed meanwhile is called once, and fails with the reason.
                    let retries =
                        custom_extensions::get(conn, *extension_id).await?.map_or(0, |e| e.extension.maximum_retries);
                    self.queue_callout(conn, callout, retries).await?;
                    "assignmentRequest.waitingForCallback"
                }
                Event::Resumed { .. } => "assignmentRequest.resumed",
                Event::CalloutTimedOut { .. } => "assignmentRequest.calloutTimedOut",
            };
            let before_summary = before.map(summary);
            let after_summary = summary(request);
            let change = Change {
                activity,
                target_type: "assignmentRequest",
                target_id: request.id.to_string(),
                before: before_summary.as_ref(),
                after: Some(&after_summary),
            };
            self.audit(conn, actor, change).await?;
        }
        Ok(())
    }

    async fn notify_requestor(
        &self,
        conn: &mut WriteTx,
        r: &AssignmentRequest,
        subject: &str,
        body: &str,
    ) -> Result<()> {
        // Delivered access is listed under My access; everything else is news about the request.
        let link = if r.state == RequestState::Delivered {
            ("See your access", "/myaccess/access".to_owned())
        } else {
            ("See your request", format!("/myaccess/requests/{}", r.id))
        };
        let mail = Mail {
            to: r.target_id.into_iter().collect(),
            to_addresses: if r.target_id.is_none() { r.target_email.clone().into_iter().collect() } else { vec![] },
            subject: subject.to_owned(),
            body: format!("{body}\n\n{}: {}", link.0, self.link(&link.1)),
        };
        self.enqueue_mail(conn, mail, Some(r.id)).await
    }

    /// Delivery begins: make sure the target exists, create or end the assignment, and queue
    /// one provisioning job per resource role the package grants.
    async fn start_delivery(&self, conn: &mut WriteTx, actor: &Actor, request: &mut AssignmentRequest) -> Result<()> {
        let now = self.now();
        let policy = gatehouse_store::policies::get(conn, request.policy_id)
            .await?
            .ok_or_else(|| AppError::Conflict("the request's policy no longer exists".into()))?;
        if matches!(request.request_type, RequestType::UserUpdate | RequestType::AdminUpdate) {
            return self.extend(conn, actor, request, &policy).await;
        }
        let removing = matches!(
            request.request_type,
            RequestType::UserRemove | RequestType::AdminRemove | RequestType::SystemRemove
        );
        let assignment = if removing {
            let id = request.assignment_id.ok_or_else(|| AppError::Conflict("a removal needs an assignment".into()))?;
            let mut a = assignments::get(conn, id)
                .await?
                .ok_or_else(|| AppError::NotFound(format!("assignment '{id}' was not found")))?;
            if a.is_active() {
                let before = a.clone();
                a.state = AssignmentState::Expired;
                a.expired_date_time = Some(now);
                a.request_id = Some(request.id);
                assignments::update(conn, &a).await?;
                let activity = if request.request_type == RequestType::SystemRemove {
                    "assignment.expire"
                } else {
                    "assignment.remove"
                };
                self.audit(conn, actor, updated(activity, "assignment", a.id, &before, &a)).await?;
                self.after_assignment_ended(conn, actor, a.target_id).await?;
            }
            a
        } else if let Some(existing) = request.assignment_id {
            // Reprocessing: the assignment exists; try its roles again.
            assignments::get(conn, existing)
                .await?
                .ok_or_else(|| AppError::NotFound(format!("assignment '{existing}' was not found")))?
        } else {
            let target = self.ensure_target(conn, actor, request, &policy, now).await?;
            self.before_assignment_granted(conn, actor, target).await?;
            let a = Assignment {
                id: crate::new_id(),
                access_package_id: request.access_package_id,
                assignment_policy_id: request.policy_id,
                target_id: target,
                state: AssignmentState::Delivering,
                start_date_time: now,
                end_date_time: end_date(&policy, &request.schedule, now),
                expired_date_time: None,
                request_id: Some(request.id),
                created_date_time: now,
            };
            assignments::insert(conn, &a).await?;
            self.audit(conn, actor, created("assignment.create", "assignment", a.id, &a)).await?;
            request.assignment_id = Some(a.id);
            a
        };
        // A retry re-runs only what failed; done grants stay done.
        let retried = jobs::retry_failed(conn, request.id, PROVISION, now).await?;
        if retried == 0 {
            queue_grants(conn, &assignment, Some(request.id), removing, now).await?;
        }
        // A package that grants nothing is delivered at once.
        self.finish_delivery_if_done(conn, actor, request).await
    }

    /// An approved extension: move the assignment's end and re-arm its reminders. The roles
    /// are already granted, so nothing is provisioned and the request is delivered at once.
    async fn extend(
        &self,
        conn: &mut WriteTx,
        actor: &Actor,
        request: &mut AssignmentRequest,
        policy: &AssignmentPolicy,
    ) -> Result<()> {
        let id = request.assignment_id.ok_or_else(|| AppError::Conflict("an extension needs an assignment".into()))?;
        let mut a = assignments::get(conn, id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("assignment '{id}' was not found")))?;
        if a.is_active() {
            let before = a.clone();
            let new_end = end_date(policy, &request.schedule, self.now());
            // Never shorten: an extension approved late must not cut access that was extended since.
            a.end_date_time = match (a.end_date_time, new_end) {
                (Some(current), Some(new)) => Some(current.max(new)),
                (_, new) => new,
            };
            a.request_id = Some(request.id);
            assignments::update(conn, &a).await?;
            assignments::set_reminders_sent(conn, a.id, 0).await?;
            self.audit(conn, actor, updated("assignment.extend", "assignment", a.id, &before, &a)).await?;
        }
        self.finish_delivery_if_done(conn, actor, request).await
    }

    /// The user the assignment is for; an external target gets a guest account now, linked to
    /// the connected organization of their domain (a `proposed` one when the domain is new).
    async fn ensure_target(
        &self,
        conn: &mut WriteTx,
        actor: &Actor,
        request: &mut AssignmentRequest,
        policy: &AssignmentPolicy,
        now: DateTime<Utc>,
    ) -> Result<Uuid> {
        if let Some(id) = request.target_id {
            return Ok(id);
        }
        let email =
            request.target_email.clone().ok_or_else(|| AppError::Conflict("the request names no target".into()))?;
        let domain = email_domain(&email).unwrap_or_default().to_owned();
        let org = match orgs::domain_owner(conn, &domain, None).await? {
            Some((id, _)) => Some(id),
            None if policy.allowed_target_scope == gatehouse_domain::enums::AllowedTargetScope::AllExternalUsers => {
                let org = ConnectedOrganization {
                    id: crate::new_id(),
                    display_name: domain.clone(),
                    description: Some(format!("Proposed when a user from {domain} was approved")),
                    identity_sources: vec![IdentitySource::Domain {
                        domain_name: domain.clone(),
                        display_name: Some(domain.clone()),
                    }],
                    state: ConnectedOrganizationState::Proposed,
                    created_date_time: now,
                    modified_date_time: now,
                };
                orgs::insert(conn, &org).await?;
                self.audit(
                    conn,
                    actor,
                    created("connectedOrganization.propose", "connectedOrganization", org.id, &org),
                )
                .await?;
                Some(org.id)
            }
            None => None,
        };
        let user = self.create_guest(conn, actor, NewGuest::invited(email), org, Some(request.id)).await?;
        request.target_id = Some(user.id);
        Ok(user.id)
    }

    /// Create a guest user of `org` (or of none) and tell the organization's sponsors. The one
    /// place guests are made: approved requests for new addresses, and guests' first sign-in.
    pub(crate) async fn create_guest(
        &self,
        conn: &mut WriteTx,
        actor: &Actor,
        guest: NewGuest,
        org: Option<Uuid>,
        request: Option<Uuid>,
    ) -> Result<User> {
        let now = self.now();
        let local = guest.email.split('@').next().unwrap_or(&guest.email).to_owned();
        let email = guest.email;
        let user = User {
            id: crate::new_id(),
            display_name: guest.display_name.unwrap_or(local),
            given_name: guest.given_name,
            surname: guest.surname,
            mail: Some(email.clone()),
            mail_nickname: None,
            user_principal_name: guest
                .user_principal_name
                .unwrap_or_else(|| format!("{}#EXT#", email.replace('@', "_"))),
            user_type: UserType::Guest,
            account_enabled: true,
            external_user_state: Some(guest.state),
            connected_organization_id: org,
            manager_id: None,
            identities: guest.identities,
            created_date_time: now,
        };
        directory::insert_user(conn, &user).await?;
        self.audit(conn, actor, created("user.createGuest", "user", user.id, &user)).await?;
        if let Some(org) = org {
            // Sponsors hear about new guests of their organization.
            let mut sponsors = orgs::sponsors(conn, org, SponsorKind::Internal).await?;
            sponsors.extend(orgs::sponsors(conn, org, SponsorKind::External).await?);
            let mail = Mail {
                to: sponsors,
                to_addresses: vec![],
                subject: format!("New guest: {email}"),
                body: format!("{email} was added as a guest of your organization."),
            };
            self.enqueue_mail(conn, mail, request).await?;
        }
        Ok(user)
    }

    /// When no provisioning job of the request is pending any more, close the delivery.
    pub(crate) async fn finish_delivery_if_done(
        &self,
        conn: &mut WriteTx,
        actor: &Actor,
        request: &mut AssignmentRequest,
    ) -> Result<()> {
        if request.state != RequestState::Delivering {
            return Ok(());
        }
        let (pending, failed, done, error) = jobs::delivery_progress(conn, request.id, PROVISION).await?;
        if pending > 0 {
            return Ok(());
        }
        let before = request.clone();
        let total = usize::try_from(failed + done).unwrap_or(0);
        let events = request
            .delivery_finished(usize::try_from(failed).unwrap_or(0), total, error, self.now())
            .map_err(|e| AppError::Conflict(e.to_string()))?;
        if let Some(id) = request.assignment_id {
            if let Some(mut a) = assignments::get(conn, id).await? {
                if a.is_active() {
                    a.state = match request.state {
                        RequestState::Delivered => AssignmentState::Delivered,
                        RequestState::PartiallyDelivered => AssignmentState::PartiallyDelivered,
                        _ => AssignmentState::DeliveryFailed,
                    };
                    assignments::update(conn, &a).await?;
                }
            }
        }
        Box::pin(self.act_on(conn, actor, request, Some(&before), events)).await
    }

    /// Record the outcomes of a batch of jobs in one transaction, with what they say about each
    /// connection's health. For provisioning, closing a request's delivery happens in the same
    /// transaction as marking its last job done: a crash between the two would otherwise leave
    /// the request delivering forever.
    pub async fn finish_jobs(&self, outcomes: &[(jobs::Job, std::result::Result<(), JobError>)]) -> Result<()> {
        if outcomes.is_empty() {
            return Ok(());
        }
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let mut delivered = Vec::new();
        let mut seen: BTreeMap<Uuid, Seen> = BTreeMap::new();
        for (job, outcome) in outcomes {
            let finished = match outcome {
                Ok(()) => {
                    jobs::complete(&mut tx, job.id, now).await?;
                    self.audit_delivered(&mut tx, job).await?;
                    true
                }
                Err(error) => {
                    tracing::warn!(job = %job.id, kind = %job.kind, attempt = job.attempts, %error, "job failed");
                    let gave_up = jobs::fail(&mut tx, job, error.message(), self.failure(job, error, now), now).await?;
                    if gave_up && job.kind == crate::callouts::CALLOUT {
                        self.callout_failed(&mut tx, job, error.message()).await?;
                    }
                    if gave_up && job.kind == RECONCILE {
                        self.reconciliation_gave_up(&mut tx, job, error.message()).await?;
                    }
                    gave_up
                }
            };
            if let Some(c) = job.connection_id {
                let s = seen.entry(c).or_default();
                match outcome {
                    // A refusal is an answer: the target is up.
                    Ok(()) | Err(JobError::Permanent(_)) => s.answered += 1,
                    Err(e) => {
                        s.failed += 1;
                        s.error = Some(e.message().to_owned());
                    }
                }
            }
            if job.kind == PROVISION && finished {
                delivered.extend(job.request_id);
            }
        }
        for (connection, s) in seen {
            self.observe_connection(&mut tx, connection, &s, now).await?;
        }
        // Each request once, however many of its jobs were in the batch.
        delivered.sort_unstable();
        delivered.dedup();
        let postgres = self.store.backend() == gatehouse_store::Backend::Postgres;
        for request_id in delivered {
            if let Some(mut request) = requests::get_for_update(&mut tx, request_id, postgres).await? {
                self.finish_delivery_if_done(&mut tx, &Actor::system(), &mut request).await?;
                requests::update(&mut tx, &request).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// A grant or revoke a connection made, on the record like the directory's own changes.
    async fn audit_delivered(&self, tx: &mut WriteTx, job: &jobs::Job) -> Result<()> {
        let (Some(connection), PROVISION) = (job.connection_id, job.kind.as_str()) else { return Ok(()) };
        let Ok(grant) = serde_json::from_value::<Grant>(job.payload.clone()) else { return Ok(()) };
        let change = json!({
            "userId": grant.target_id, "originSystem": grant.origin_system, "resource": grant.resource_origin_id,
            "role": grant.role_display_name, "roleOriginId": grant.role_origin_id,
            "assignmentId": grant.assignment_id, "requestId": grant.request_id,
        });
        let record = crate::audit::Change {
            activity: if grant.revoke { "connection.revoke" } else { "connection.grant" },
            target_type: "connection",
            target_id: connection.to_string(),
            before: grant.revoke.then_some(&change),
            after: (!grant.revoke).then_some(&change),
        };
        let actor = Actor { principal: None, correlation_id: Some(grant.request_id.to_string()) };
        self.audit(tx, &actor, record).await
    }

    /// When a failed job runs again.
    fn failure(&self, job: &jobs::Job, error: &JobError, now: DateTime<Utc>) -> jobs::Failure {
        let jitter: f64 = rand::random();
        match error {
            JobError::Permanent(_) => jobs::Failure::Permanent,
            JobError::Outage(_) => jobs::Failure::Wait(now + retry_delay(job.attempts, jitter)),
            JobError::Transient(_) if job.kind != MAIL => jobs::Failure::Retry(now + retry_delay(job.attempts, jitter)),
            // Mail: 30 s, 1 min, 2 min, … capped at an hour.
            JobError::Transient(_) => {
                jobs::Failure::Retry(now + chrono::Duration::seconds((30i64 << job.attempts.clamp(0, 7)).min(3600)))
            }
        }
    }
}

/// Why a job failed, and so what happens next.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    /// This attempt failed but another may pass; attempts count towards giving up.
    #[error("{0}")]
    Transient(String),
    /// The target cannot be reached, or refuses the connection's credentials: the job waits
    /// without using up attempts, and the connection shows degraded.
    #[error("{0}")]
    Outage(String),
    /// Retrying cannot help (the target refused this change); the delivery reports it, and
    /// `reprocess` tries again after someone fixed the cause.
    #[error("{0}")]
    Permanent(String),
}

impl JobError {
    pub fn message(&self) -> &str {
        match self {
            JobError::Transient(m) | JobError::Outage(m) | JobError::Permanent(m) => m,
        }
    }
}

/// What one batch saw of a connection.
#[derive(Debug, Default)]
pub(crate) struct Seen {
    pub answered: usize,
    pub failed: usize,
    pub error: Option<String>,
}

/// Queue one provisioning job per resource role the assignment's package grants (or revokes).
/// `request` ties the jobs to a delivery, whose state they decide; reprocessing a delivered
/// assignment queues them on their own. Returns how many were queued.
pub(crate) async fn queue_grants(
    conn: &mut WriteTx,
    assignment: &Assignment,
    request: Option<Uuid>,
    revoke: bool,
    now: DateTime<Utc>,
) -> Result<usize> {
    let mut queued = 0;
    for rs in access_packages::role_scopes(conn, assignment.access_package_id).await? {
        let (Some(role), Some(scope)) =
            (catalogs::get_role(conn, rs.role_id).await?, catalogs::get_scope(conn, rs.scope_id).await?)
        else {
            continue;
        };
        let connection_id = catalogs::get_resource(conn, role.resource_id).await?.and_then(|r| r.connection_id);
        let grant = Grant {
            revoke,
            request_id: request.or(assignment.request_id).unwrap_or_default(),
            assignment_id: assignment.id,
            target_id: assignment.target_id,
            origin_system: role.origin_system,
            role_origin_id: role.origin_id,
            resource_origin_id: scope.origin_id,
            role_display_name: role.display_name,
            connection_id,
        };
        let job = NewJob {
            kind: PROVISION,
            payload: json!(grant),
            max_attempts: PROVISION_ATTEMPTS,
            request_id: request,
            run_after: now,
            connection_id,
        };
        jobs::enqueue(conn, job, now).await?;
        queued += 1;
    }
    Ok(queued)
}

/// What the audit log keeps of a request: enough to explain the decision, not the answers' text.
fn summary(r: &AssignmentRequest) -> serde_json::Value {
    json!({
        "state": r.state, "status": r.status(), "requestType": r.request_type,
        "accessPackageId": r.access_package_id, "policyId": r.policy_id,
        "targetId": r.target_id, "targetEmail": r.target_email, "requestorId": r.requestor_id,
        "assignmentId": r.assignment_id,
        "stages": r.stages.iter().map(|s| json!({"id": s.id, "status": s.status, "approvers": s.approvers,
            "escalated": s.escalated, "decision": s.decision})).collect::<Vec<_>>(),
        "failure": r.failure,
    })
}
