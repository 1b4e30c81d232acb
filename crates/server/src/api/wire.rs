//! The response shapes the API builds itself (rather than serializing a domain type as it
//! is): each is a struct so that `/openapi.json` describes exactly what the handlers send.

use chrono::{DateTime, Utc};
use gatehouse_domain::access_package::AccessPackage;
use gatehouse_domain::enums::{ExpirationPatternType, RequestState, RequestType};
use gatehouse_domain::policy::{AssignmentPolicy, ExpirationPattern};
use gatehouse_domain::question::Question;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

/// `{"id": …}`: a navigation that is not expanded.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "entityReference")]
pub struct Ref {
    pub id: Uuid,
}

/// Graph `identity`: who decided.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "identity")]
pub struct Identity {
    pub id: Uuid,
    pub display_name: Option<String>,
}

/// Graph `entitlementManagementSchedule` as emitted (no recurrence: always null).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "entitlementManagementSchedule")]
pub struct Schedule {
    pub start_date_time: Option<DateTime<Utc>>,
    pub expiration: ExpirationPattern,
    /// Always null.
    pub recurrence: Option<Value>,
}

/// Graph `accessPackageSubject`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "accessPackageSubject")]
pub struct Subject {
    pub id: Option<Uuid>,
    pub object_id: Option<Uuid>,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub principal_name: Option<String>,
    /// Always `user`.
    pub subject_type: String,
    /// `governed` (a guest: the external user lifecycle applies), `notGoverned` (a member),
    /// `notDefined` (no longer in the directory).
    pub subject_lifecycle: SubjectLifecycle,
    pub connected_organization: Option<Ref>,
}

#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "accessPackageSubjectLifecycle")]
pub enum SubjectLifecycle {
    NotDefined,
    NotGoverned,
    Governed,
}

/// Graph `accessPackageAssignmentRequest`; `failureReason` is Gatehouse's: why delivery failed.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "accessPackageAssignmentRequest")]
pub struct AssignmentRequestOut {
    pub id: Uuid,
    pub request_type: RequestType,
    pub state: RequestState,
    pub status: String,
    pub justification: Option<String>,
    pub created_date_time: DateTime<Utc>,
    pub completed_date_time: Option<DateTime<Utc>>,
    pub schedule: Schedule,
    /// `accessPackageAnswerString` values, typed after the policy's questions.
    pub answers: Vec<Value>,
    pub custom_extension_callout_instances: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
}

/// Graph `accessPackageAssignment`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "accessPackageAssignment")]
pub struct AssignmentOut {
    pub id: Uuid,
    pub state: gatehouse_domain::enums::AssignmentState,
    pub status: String,
    pub expired_date_time: Option<DateTime<Utc>>,
    pub schedule: Schedule,
    pub custom_extension_callout_instances: Vec<Value>,
}

/// Graph `approval`: the stages of one request's approval (its id is the request's).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "approval")]
pub struct Approval {
    pub id: Uuid,
    pub stages: Vec<ApprovalStage>,
}

/// Graph `approvalStage`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "approvalStage")]
pub struct ApprovalStage {
    pub id: Uuid,
    pub display_name: Option<String>,
    pub review_result: ReviewResult,
    pub status: StageStatus,
    pub assigned_to_me: bool,
    pub justification: String,
    /// Null until someone decides, and for an automatic denial.
    pub reviewed_by: Option<Identity>,
    pub reviewed_date_time: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
#[schemars(rename = "approvalReviewResult")]
pub enum ReviewResult {
    NotReviewed,
    Approved,
    Denied,
}

#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
#[schemars(rename = "approvalStageStatus")]
pub enum StageStatus {
    Initializing,
    InProgress,
    Completed,
    Expired,
}

/// Graph `accessPackageAssignmentRequestRequirements`: one policy the caller may request under.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "accessPackageAssignmentRequestRequirements")]
pub struct PolicyRequirements {
    pub policy_id: Uuid,
    pub policy_display_name: String,
    pub policy_description: Option<String>,
    pub is_approval_required_for_add: bool,
    pub is_approval_required_for_update: bool,
    pub is_requestor_justification_required: bool,
    pub allow_custom_assignment_schedule: bool,
    /// Always null.
    pub schedule: Option<Value>,
    pub questions: Vec<Question>,
}

impl PolicyRequirements {
    pub fn of(p: &AssignmentPolicy) -> Self {
        let approval = &p.request_approval_settings;
        PolicyRequirements {
            policy_id: p.id,
            policy_display_name: p.display_name.clone(),
            policy_description: p.description.clone(),
            is_approval_required_for_add: approval.is_approval_required_for_add,
            is_approval_required_for_update: approval.is_approval_required_for_update,
            is_requestor_justification_required: approval.is_requestor_justification_required,
            allow_custom_assignment_schedule: p.requestor_settings.allow_custom_assignment_schedule,
            schedule: None,
            questions: p.questions.clone(),
        }
    }
}

/// An access package; `myAccessLink` (Gatehouse) is the direct link requestors use, which works
/// for hidden packages too.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "accessPackage")]
pub struct Package<'a> {
    #[serde(flatten)]
    pub package: &'a AccessPackage,
    pub my_access_link: String,
}

/// An assignment policy as `POST` and `PUT` answer it: with its package and questions.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "accessPackageAssignmentPolicyWithRefs")]
pub struct PolicyWithRefs<'a> {
    #[serde(flatten)]
    pub policy: &'a AssignmentPolicy,
    pub access_package: Ref,
    pub questions: &'a [Question],
}

/// Graph `accessPackageResourceRoleScope` (role and scope are navigations).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "accessPackageResourceRoleScope")]
pub struct RoleScope {
    pub id: String,
    pub created_date_time: DateTime<Utc>,
}

/// An API client (Gatehouse's `servicePrincipal`); `secretText` only in the answer to its
/// creation.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "gatehouse.servicePrincipal")]
pub struct ServicePrincipal {
    pub id: Uuid,
    pub app_id: String,
    pub display_name: String,
    pub scopes: Vec<String>,
    pub account_enabled: bool,
    pub created_date_time: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_text: Option<String>,
}

/// RFC 6749 §5.1: the client-credentials answer.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "oauth2TokenResponse")]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    pub expires_in: i64,
    pub scope: String,
}

/// RFC 6749 §5.2: a refused token request.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "oauth2Error")]
pub struct TokenError {
    pub error: TokenErrorCode,
    pub error_description: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "oauth2ErrorCode")]
pub enum TokenErrorCode {
    InvalidRequest,
    InvalidClient,
    UnsupportedGrantType,
    InvalidScope,
    TemporarilyUnavailable,
}

/// What adding an organization by a domain would use.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "gatehouse.domainLookup")]
pub struct DomainLookup {
    pub domain: String,
    pub found: DomainFound,
    pub looked_at: String,
    pub identity_source: gatehouse_domain::connected_organization::IdentitySource,
    pub note: String,
}

#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "gatehouse.domainLookupFound")]
pub enum DomainFound {
    OpenIdProvider,
    None,
}

/// A sign-in session of the caller's.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "gatehouse.session")]
pub struct SessionOut {
    pub id: Uuid,
    pub auth_method: gatehouse_domain::session::AuthMethod,
    pub identity_issuer: Option<String>,
    pub created_date_time: DateTime<Utc>,
    pub last_seen_date_time: DateTime<Utc>,
    pub expires_date_time: DateTime<Utc>,
    pub ended_date_time: Option<DateTime<Utc>>,
    pub client_ip: Option<String>,
    pub user_agent: Option<String>,
    pub current: bool,
}

/// `{"value": [...]}` without OData annotations (the Gatehouse extensions that are not sets).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "{T}Collection")]
pub struct Values<T> {
    pub value: Vec<T>,
}

/// An assignment's computed end, emitted as `afterDateTime`.
fn ends(end: Option<DateTime<Utc>>) -> ExpirationPattern {
    match end {
        Some(end) => ExpirationPattern {
            kind: Some(ExpirationPatternType::AfterDateTime),
            end_date_time: Some(end),
            ..Default::default()
        },
        None => ExpirationPattern::never(),
    }
}

impl AssignmentOut {
    /// The computed end is emitted as `afterDateTime`.
    pub fn of(a: &gatehouse_domain::assignment::Assignment) -> Self {
        AssignmentOut {
            id: a.id,
            state: a.state,
            status: a.status().to_owned(),
            expired_date_time: a.expired_date_time,
            schedule: Schedule {
                start_date_time: Some(a.start_date_time),
                expiration: ends(a.end_date_time),
                recurrence: None,
            },
            custom_extension_callout_instances: Vec::new(),
        }
    }
}

/// `GET /directoryObjects/{id}`: a user or a group, told apart by `@odata.type`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(untagged)]
#[schemars(rename = "directoryObject")]
pub enum DirectoryObject<'a> {
    User(&'a gatehouse_domain::directory::User),
    Group(&'a gatehouse_domain::directory::Group),
}

/// A connection as `POST /gatehouse/connections` answers it: with the webhook signing secret
/// Gatehouse generated, when it did, this one time.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "connectionCreated")]
pub struct ConnectionCreated<'a> {
    #[serde(flatten)]
    pub connection: gatehouse_domain::connection::ConnectionView<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signing_secret: Option<String>,
}

/// A connection with what waits on it and what lives in it.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "connectionDetails")]
pub struct ConnectionDetails<'a> {
    #[serde(flatten)]
    pub connection: gatehouse_domain::connection::ConnectionView<'a>,
    /// Provisioning jobs not done yet (waiting while the connection is degraded).
    pub waiting_jobs: i64,
    pub oldest_waiting_date_time: Option<DateTime<Utc>>,
    /// The catalog resources that live in this connection.
    pub resources: Vec<ConnectionResource>,
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionResource {
    pub catalog_id: Uuid,
    pub catalog: String,
    pub resource: String,
}

/// A reconciliation run with what it found.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "reconciliationWithFindings")]
pub struct ReconciliationWithFindings {
    #[serde(flatten)]
    pub reconciliation: gatehouse_domain::reconcile::Reconciliation,
    pub findings: Vec<gatehouse_domain::reconcile::Finding>,
}

/// Graph `customCalloutExtension` as Gatehouse emits it (`CustomExtension::to_graph`).
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "customCalloutExtension")]
pub struct CustomExtensionOut {
    #[serde(rename = "@odata.type")]
    pub odata_type: String,
    pub id: Uuid,
    pub display_name: String,
    pub description: Option<String>,
    /// `#microsoft.graph.httpRequestEndpoint` with `targetUrl`.
    pub endpoint_configuration: Value,
    /// `#gatehouse.webhookSignatureAuthentication`; `signingSecret` only in the answer that made it.
    pub authentication_configuration: Value,
    pub client_configuration: Value,
    pub callback_configuration: Option<Value>,
    pub created_by: Option<String>,
    pub created_date_time: DateTime<Utc>,
    pub last_modified_by: Option<String>,
    pub last_modified_date_time: DateTime<Utc>,
}
