//! Calling custom extensions: which extension a policy names at a stage, the waits a new
//! request takes from its policy, the `callout` jobs (queued in the transaction of the decision
//! that reaches the stage), the message each sends, and the endpoint's answer
//! (`assignmentRequests/{id}/resume`).

use gatehouse_domain::authorization::Action;
use gatehouse_domain::custom_extension::{CalloutStage, CustomExtension};
use gatehouse_domain::enums::RequestType;
use gatehouse_domain::policy::AssignmentPolicy;
use gatehouse_domain::request::AssignmentRequest;
use gatehouse_domain::request_hold::{instance_id, Answer, CalloutStatus, ResumeBody, Wait, Waits};
use gatehouse_store::jobs::{self, NewJob};
use gatehouse_store::{
    access_packages, assignments, catalogs, custom_extensions, directory, policies, requests, WriteTx,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::{not_found, Actor, App, AppError, Result};

/// The job kind.
pub const CALLOUT: &str = "callout";

/// A `callout` job: call `extension` at `stage` about a request (or an assignment, before it
/// ends).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Callout {
    pub extension_id: Uuid,
    pub stage: CalloutStage,
    pub request_id: Option<Uuid>,
    pub assignment_id: Option<Uuid>,
    /// `customExtensionStageInstanceId`.
    pub instance_id: Uuid,
    /// The request waits for the answer at `…/resume`.
    pub waits: bool,
}

fn is_add(t: RequestType) -> bool {
    matches!(t, RequestType::UserAdd | RequestType::AdminAdd | RequestType::UserUpdate | RequestType::AdminUpdate)
}

impl App {
    /// The extension the policy names at `stage`, if any.
    async fn extension_at(
        &self,
        conn: &mut WriteTx,
        policy: &AssignmentPolicy,
        stage: CalloutStage,
    ) -> Result<Option<CustomExtension>> {
        let Some(setting) = policy.custom_extension_stage_settings.iter().find(|s| s.stage == stage) else {
            return Ok(None);
        };
        Ok(custom_extensions::get(conn, setting.custom_extension_id).await?.map(|s| s.extension))
    }

    /// The waits a new add or update request takes from its policy: the extensions at
    /// `assignmentRequestCreated` and `…Approved` that have a callback configuration.
    pub(crate) async fn waits_for(&self, conn: &mut WriteTx, policy: &AssignmentPolicy) -> Result<Waits> {
        let mut waits = Waits::default();
        for stage in [CalloutStage::AssignmentRequestCreated, CalloutStage::AssignmentRequestApproved] {
            let wait = self
                .extension_at(conn, policy, stage)
                .await?
                .and_then(|e| e.callback_timeout.map(|t| Wait { extension_id: e.id, timeout_seconds: t.seconds() }));
            match stage {
                CalloutStage::AssignmentRequestCreated => waits.created = wait,
                _ => waits.approved = wait,
            }
        }
        Ok(waits)
    }

    /// Queue a callout job; `maximum_retries` are the extension's retries after the first call.
    pub(crate) async fn queue_callout(&self, conn: &mut WriteTx, callout: Callout, maximum_retries: i64) -> Result<()> {
        let now = self.now();
        let job = NewJob {
            kind: CALLOUT,
            payload: json!(callout),
            max_attempts: 1 + maximum_retries,
            request_id: None,
            run_after: now,
            connection_id: None,
        };
        jobs::enqueue(conn, job, now).await?;
        Ok(())
    }

    /// A request reached `stage`: call the policy's extension there, unless it is one the
    /// request waits for (that one was called when the request started waiting).
    pub(crate) async fn call_out(
        &self,
        conn: &mut WriteTx,
        request: &mut AssignmentRequest,
        stage: CalloutStage,
    ) -> Result<()> {
        let fits = match stage {
            CalloutStage::AssignmentRequestCreated
            | CalloutStage::AssignmentRequestApproved
            | CalloutStage::AssignmentRequestGranted => is_add(request.request_type),
            CalloutStage::AssignmentRequestRemoved => !is_add(request.request_type),
            _ => false,
        };
        if !fits {
            return Ok(());
        }
        let Some(policy) = policies::get(conn, request.policy_id).await? else { return Ok(()) };
        let Some(e) = self.extension_at(conn, &policy, stage).await? else { return Ok(()) };
        if stage.can_hold() && e.callback_timeout.is_some() {
            return Ok(());
        }
        let instance = instance_id(request.id, stage);
        request.note_callout(instance, e.id, stage, CalloutStatus::CalloutSent, None);
        let callout = Callout {
            extension_id: e.id,
            stage,
            request_id: Some(request.id),
            assignment_id: request.assignment_id,
            instance_id: instance,
            waits: false,
        };
        self.queue_callout(conn, callout, e.maximum_retries).await
    }

    /// An assignment nears its end: call the policy's extension for that stage.
    pub(crate) async fn call_out_before_expiry(
        &self,
        conn: &mut WriteTx,
        assignment: &gatehouse_domain::assignment::Assignment,
        stage: CalloutStage,
    ) -> Result<()> {
        let Some(policy) = policies::get(conn, assignment.assignment_policy_id).await? else { return Ok(()) };
        let Some(e) = self.extension_at(conn, &policy, stage).await? else { return Ok(()) };
        let callout = Callout {
            extension_id: e.id,
            stage,
            request_id: assignment.request_id,
            assignment_id: Some(assignment.id),
            instance_id: instance_id(assignment.id, stage),
            waits: false,
        };
        self.queue_callout(conn, callout, e.maximum_retries).await
    }

    /// A callout gave up: its instance on the request says so (a request waiting for it
    /// stays held until its wait runs out).
    pub(crate) async fn callout_failed(
        &self,
        tx: &mut WriteTx,
        job: &gatehouse_store::jobs::Job,
        why: &str,
    ) -> Result<()> {
        let Ok(c) = serde_json::from_value::<Callout>(job.payload.clone()) else { return Ok(()) };
        let Some(request_id) = c.request_id else { return Ok(()) };
        let postgres = self.store.backend() == gatehouse_store::Backend::Postgres;
        if let Some(mut r) = requests::get_for_update(tx, request_id, postgres).await? {
            r.note_callout(c.instance_id, c.extension_id, c.stage, CalloutStatus::CalloutFailed, Some(why.to_owned()));
            requests::update(tx, &r).await?;
        }
        Ok(())
    }

    /// The message a callout sends: Graph's `customExtensionCalloutRequest` envelope with
    /// `accessPackageAssignmentRequestCalloutData` (or `…AssignmentCalloutData` before expiry),
    /// read when it is sent so it says how things are now.
    pub async fn callout_message(&self, c: &Callout) -> Result<(CustomExtension, Value)> {
        let extension = self.custom_extension(c.extension_id).await?;
        let mut conn = self.store.conn().await?;
        let request = match c.request_id {
            Some(id) => requests::get(&mut conn, id).await?,
            None => None,
        };
        let assignment_id = c.assignment_id.or(request.as_ref().and_then(|r| r.assignment_id));
        let assignment = match assignment_id {
            Some(id) => assignments::get(&mut conn, id).await?,
            None => None,
        };
        let package_id =
            request.as_ref().map(|r| r.access_package_id).or(assignment.as_ref().map(|a| a.access_package_id));
        let package = match package_id {
            Some(id) => access_packages::get(&mut conn, id).await?,
            None => None,
        };
        let catalog = match &package {
            Some(p) => catalogs::get(&mut conn, p.catalog_id).await?,
            None => None,
        };
        let target_id = request.as_ref().and_then(|r| r.target_id).or(assignment.as_ref().map(|a| a.target_id));
        let target = match target_id {
            Some(id) => directory::get_user(&mut conn, id).await?,
            None => None,
        };
        let requestor = match request.as_ref().and_then(|r| r.requestor_id) {
            Some(id) => directory::get_user(&mut conn, id).await?,
            None => None,
        };
        let person = |u: &Option<gatehouse_domain::directory::User>| {
            u.as_ref().map(|u| {
                json!({"id": u.id, "objectId": u.id, "displayName": u.display_name, "email": u.mail,
                "connectedOrganizationId": u.connected_organization_id})
            })
        };
        let stage = c.stage.as_str();
        let request_data = c.stage.kind() == gatehouse_domain::custom_extension::ExtensionKind::AssignmentRequest;
        let mut data = json!({
            "@odata.type": if request_data { "#microsoft.graph.accessPackageAssignmentRequestCalloutData" } else { "#microsoft.graph.accessPackageAssignmentCalloutData" },
            "stage": stage,
            "customExtensionStageInstanceId": c.instance_id,
            "accessPackageAssignmentRequestId": c.request_id,
            "accessPackage": package.as_ref().map(|p| json!({"id": p.id, "displayName": p.display_name, "description": p.description})),
            "accessPackageCatalog": catalog.as_ref().map(|k| json!({"id": k.id, "displayName": k.display_name, "description": k.description})),
            "assignment": assignment.as_ref().map(|a| json!({"id": a.id, "state": a.state, "status": a.status(),
                "schedule": {"startDateTime": a.start_date_time, "expiration": {"endDateTime": a.end_date_time}},
                "target": person(&target), "assignmentPolicy": {"id": a.assignment_policy_id}})),
        });
        if let Some(r) = &request {
            data["requestType"] = json!(r.request_type);
            data["state"] = json!(r.state);
            data["status"] = json!(r.status());
            data["answers"] = json!(r.answers);
            data["requestor"] = person(&requestor).unwrap_or(Value::Null);
            data["target"] = person(&target).unwrap_or(Value::Null);
        }
        if c.waits {
            data["callbackUriPath"] = json!(format!(
                "/identityGovernance/entitlementManagement/assignmentRequests/{}/resume",
                c.request_id.unwrap_or_default()
            ));
            data["callbackConfiguration"] = json!({"timeoutDuration": extension.callback_timeout});
        }
        let source = match c.request_id {
            Some(id) => format!("/identityGovernance/entitlementManagement/assignmentRequests/{id}"),
            None => {
                format!("/identityGovernance/entitlementManagement/assignments/{}", assignment_id.unwrap_or_default())
            }
        };
        let message = json!({
            "type": format!("microsoft.graph.accessPackageCustomExtensionStage.{stage}"),
            "source": source,
            "data": data,
        });
        Ok((extension, message))
    }

    /// The endpoint's answer: go on, or deny. Whoever manages the catalog's assignments (an
    /// API client with the write scope, as the endpoint's service would be) may answer.
    pub async fn resume_request(&self, actor: &Actor, id: Uuid, body: ResumeBody) -> Result<()> {
        let data = body.data.ok_or_else(|| gatehouse_domain::ValidationError::new("data", "data is required"))?;
        let instance = data.custom_extension_stage_instance_id.ok_or_else(|| {
            gatehouse_domain::ValidationError::new(
                "data.customExtensionStageInstanceId",
                "customExtensionStageInstanceId is required",
            )
        })?;
        let stage =
            match data.stage.as_deref() {
                None => None,
                Some(s) => Some(CalloutStage::parse(s).ok_or_else(|| {
                    gatehouse_domain::ValidationError::new("data.stage", format!("unknown stage '{s}'"))
                })?),
            };
        let answer = match data.state.as_deref().map(str::to_ascii_lowercase).as_deref() {
            None | Some("") => Answer::Continue,
            Some("denied" | "canceled") => Answer::Deny,
            Some(other) => {
                return Err(gatehouse_domain::ValidationError::new(
                    "data.state",
                    format!("state '{other}' is not an answer; leave it out to go on, or send denied"),
                )
                .into())
            }
        };
        let detail = data.custom_extension_stage_instance_detail.map(|d| d.chars().take(2000).collect::<String>());
        let postgres = self.store.backend() == gatehouse_store::Backend::Postgres;
        let mut tx = self.store.begin().await?;
        let Some(mut request) = requests::get_for_update(&mut tx, id, postgres).await? else {
            return not_found("assignmentRequest", id);
        };
        let catalog = crate::authorization::catalog_of_package(&mut tx, request.access_package_id).await?;
        if actor.check(Action::ManageAssignments, catalog).is_err() {
            return not_found("assignmentRequest", id);
        }
        let held_at = request.hold.map(|h| h.stage);
        let before = request.clone();
        let mut events = request
            .resume(instance, stage, answer, detail.clone(), self.now())
            .map_err(|e| AppError::Conflict(e.to_string()))?;
        if held_at == Some(CalloutStage::AssignmentRequestCreated) && answer == Answer::Continue {
            events.extend(self.submit_after_wait(&mut tx, &mut request).await?);
        }
        let record = crate::audit::Change {
            activity: "assignmentRequest.resume",
            target_type: "assignmentRequest",
            target_id: id.to_string(),
            before: None::<&()>,
            after: Some(&json!({"source": body.source, "type": body.kind, "instance": instance,
                "answer": if answer == Answer::Deny { "denied" } else { "continue" }, "detail": detail})),
        };
        self.audit(&mut tx, actor, record).await?;
        self.act_on(&mut tx, actor, &mut request, Some(&before), events).await?;
        requests::update(&mut tx, &request).await?;
        tx.commit().await?;
        self.wake_workers();
        Ok(())
    }

    /// After the wait at `assignmentRequestCreated`: approval (resolved now) or delivery.
    async fn submit_after_wait(
        &self,
        tx: &mut WriteTx,
        request: &mut AssignmentRequest,
    ) -> Result<Vec<gatehouse_domain::request::Event>> {
        let policy = policies::get(tx, request.policy_id)
            .await?
            .ok_or_else(|| AppError::Conflict("the request's policy no longer exists".into()))?;
        let admin = matches!(request.request_type, RequestType::AdminAdd | RequestType::AdminUpdate);
        let plan = if admin { Vec::new() } else { self.approval_plan(tx, &policy, request).await? };
        let mut ids = crate::new_id;
        Ok(request.submit(plan, &policy.request_approval_settings.stages, &mut ids, self.now()))
    }
}
