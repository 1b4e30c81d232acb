//! Custom extensions (Graph's `customCalloutExtension` in a catalog's
//! `customWorkflowExtensions`): an endpoint Gatehouse calls at stages of a request or an
//! assignment, as a policy's `customExtensionStageSettings` say. Gatehouse calls a plain HTTPS
//! endpoint (`#microsoft.graph.httpRequestEndpoint`) and signs the call the Standard Webhooks
//! way (`#gatehouse.webhookSignatureAuthentication`, its secret write-only), instead of Logic
//! Apps and Entra tokens, which only Azure has.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::connection::{validate_http_url, validate_signing_secret, Secret};
use crate::duration::Duration;
use crate::enums::graph_enum;
use crate::error::{invalid, optional_text, required_text, ValidationError, DESCRIPTION_MAX, NAME_MAX};

pub const REQUEST_TYPE: &str = "#microsoft.graph.accessPackageAssignmentRequestWorkflowExtension";
pub const ASSIGNMENT_TYPE: &str = "#microsoft.graph.accessPackageAssignmentWorkflowExtension";
const HTTP_ENDPOINT: &str = "#microsoft.graph.httpRequestEndpoint";
const SIGNATURE_AUTH: &str = "#gatehouse.webhookSignatureAuthentication";

/// Which stages an extension serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ExtensionKind {
    /// `accessPackageAssignmentRequestWorkflowExtension`: the request stages; may hold a request
    /// until the endpoint answers.
    AssignmentRequest,
    /// `accessPackageAssignmentWorkflowExtension`: the stages before an assignment ends.
    Assignment,
}

impl ExtensionKind {
    pub fn odata_type(self) -> &'static str {
        match self {
            ExtensionKind::AssignmentRequest => REQUEST_TYPE,
            ExtensionKind::Assignment => ASSIGNMENT_TYPE,
        }
    }
}

graph_enum!(CalloutStage("accessPackageCustomExtensionStage") {
    AssignmentRequestCreated = "assignmentRequestCreated",
    AssignmentRequestApproved = "assignmentRequestApproved",
    AssignmentRequestGranted = "assignmentRequestGranted",
    AssignmentRequestRemoved = "assignmentRequestRemoved",
    AssignmentFourteenDaysBeforeExpiration = "assignmentFourteenDaysBeforeExpiration",
    AssignmentOneDayBeforeExpiration = "assignmentOneDayBeforeExpiration",
});

impl CalloutStage {
    /// The kind of extension that serves this stage.
    pub fn kind(self) -> ExtensionKind {
        match self {
            CalloutStage::AssignmentFourteenDaysBeforeExpiration | CalloutStage::AssignmentOneDayBeforeExpiration => {
                ExtensionKind::Assignment
            }
            _ => ExtensionKind::AssignmentRequest,
        }
    }

    /// Whether a request can wait here for the endpoint's answer (and be denied by it).
    pub fn can_hold(self) -> bool {
        matches!(self, CalloutStage::AssignmentRequestCreated | CalloutStage::AssignmentRequestApproved)
    }
}

/// The shortest and longest a request may wait for an endpoint's answer (Graph's limits).
pub const CALLBACK_MIN_SECONDS: i64 = 5 * 60;
pub const CALLBACK_MAX_SECONDS: i64 = 14 * 24 * 3600;

#[derive(Debug, Clone, PartialEq)]
pub struct CustomExtension {
    pub id: Uuid,
    pub catalog_id: Uuid,
    pub kind: ExtensionKind,
    pub display_name: String,
    pub description: Option<String>,
    pub target_url: String,
    /// The HTTP call's timeout.
    pub timeout_ms: i64,
    /// Retries after a failed call (besides the first).
    pub maximum_retries: i64,
    /// How long a request waits for the answer; `None`: launch and continue.
    pub callback_timeout: Option<Duration>,
    pub signing_secret: Option<Secret>,
    pub created_by: Option<String>,
    pub created_date_time: DateTime<Utc>,
    pub last_modified_by: Option<String>,
    pub last_modified_date_time: DateTime<Utc>,
}

/// `POST …/customWorkflowExtensions` and `PUT …/{id}` (the whole object).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CustomExtensionInput {
    #[serde(rename = "@odata.type")]
    #[schemars(required)]
    pub odata_type: Option<String>,
    #[schemars(required, length(min = 1, max = 256))]
    pub display_name: Option<String>,
    #[schemars(length(max = 1024))]
    pub description: Option<String>,
    #[schemars(required)]
    pub endpoint_configuration: Option<EndpointInput>,
    pub authentication_configuration: Option<AuthenticationInput>,
    pub client_configuration: Option<ClientInput>,
    pub callback_configuration: Option<CallbackInput>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EndpointInput {
    #[serde(rename = "@odata.type")]
    pub odata_type: Option<String>,
    /// `#microsoft.graph.httpRequestEndpoint`'s URL.
    pub target_url: Option<String>,
    /// Logic App settings: refused (Gatehouse calls plain endpoints).
    pub subscription_id: Option<String>,
    pub resource_group_name: Option<String>,
    pub logic_app_workflow_name: Option<String>,
    pub url: Option<String>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AuthenticationInput {
    #[serde(rename = "@odata.type")]
    pub odata_type: Option<String>,
    /// Write-only; `whsec_…`. Generated (and shown once) when left out.
    pub signing_secret: Option<String>,
    pub resource_id: Option<String>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClientInput {
    #[serde(rename = "@odata.type")]
    pub odata_type: Option<String>,
    pub timeout_in_milliseconds: Option<i64>,
    pub maximum_retries: Option<i64>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CallbackInput {
    #[serde(rename = "@odata.type")]
    pub odata_type: Option<String>,
    pub timeout_duration: Option<Duration>,
    /// The name Graph's own examples use for `timeoutDuration`.
    pub duration_before_timeout: Option<Duration>,
}

fn same_type(given: Option<&str>, want: &str) -> bool {
    given.is_some_and(|g| g.trim_start_matches('#').eq_ignore_ascii_case(want.trim_start_matches('#')))
}

/// Who changes the extension, and the ids and clock, passed in.
pub struct ExtensionContext<'a> {
    pub id: Uuid,
    pub catalog_id: Uuid,
    pub now: DateTime<Utc>,
    pub by: Option<String>,
    pub existing: Option<&'a CustomExtension>,
}

impl CustomExtension {
    /// Build from a create or a whole replacement. `generated` makes a signing secret when
    /// none is given or stored.
    pub fn build(
        input: CustomExtensionInput,
        ctx: ExtensionContext<'_>,
        generated: impl FnOnce() -> String,
    ) -> Result<Self, ValidationError> {
        let kind = match input.odata_type.as_deref() {
            t if same_type(t, REQUEST_TYPE) => ExtensionKind::AssignmentRequest,
            t if same_type(t, ASSIGNMENT_TYPE) => ExtensionKind::Assignment,
            _ => {
                return invalid(
                    "@odata.type",
                    format!("@odata.type must be {REQUEST_TYPE} (request stages) or {ASSIGNMENT_TYPE} (before expiry)"),
                )
            }
        };
        if let Some(existing) = ctx.existing {
            if existing.kind != kind {
                return invalid("@odata.type", "an extension's type cannot change; create another one");
            }
        }
        let endpoint = input
            .endpoint_configuration
            .ok_or_else(|| ValidationError::new("endpointConfiguration", "endpointConfiguration is required"))?;
        if endpoint.subscription_id.is_some() || endpoint.logic_app_workflow_name.is_some() {
            return invalid(
                "endpointConfiguration",
                format!("Gatehouse calls an HTTPS endpoint, not a Logic App: use {HTTP_ENDPOINT} with targetUrl"),
            );
        }
        if !same_type(endpoint.odata_type.as_deref(), HTTP_ENDPOINT) && endpoint.odata_type.is_some() {
            return invalid("endpointConfiguration", format!("endpointConfiguration must be {HTTP_ENDPOINT}"));
        }
        let url = endpoint.target_url.or(endpoint.url).ok_or_else(|| {
            ValidationError::new("endpointConfiguration.targetUrl", "endpointConfiguration.targetUrl is required")
        })?;
        let target_url = validate_http_url("endpointConfiguration.targetUrl", &url)?;
        let mut signing_secret = ctx.existing.and_then(|e| e.signing_secret.clone());
        if let Some(auth) = input.authentication_configuration {
            if auth.odata_type.is_some() && !same_type(auth.odata_type.as_deref(), SIGNATURE_AUTH) {
                return invalid(
                    "authenticationConfiguration",
                    format!("Gatehouse signs its calls with Standard Webhooks: use {SIGNATURE_AUTH} (with a signingSecret, or none to have one made)"),
                );
            }
            if auth.resource_id.is_some() {
                return invalid(
                    "authenticationConfiguration",
                    "resourceId belongs to Entra tokens, which Gatehouse does not issue",
                );
            }
            if let Some(s) = auth.signing_secret {
                validate_signing_secret(&s)
                    .map_err(|e| ValidationError::new("authenticationConfiguration.signingSecret", e.message))?;
                signing_secret = Some(Secret::new(s));
            }
        }
        if signing_secret.is_none() {
            signing_secret = Some(Secret::new(generated()));
        }
        let client = input.client_configuration;
        let timeout_ms = client.as_ref().and_then(|c| c.timeout_in_milliseconds).unwrap_or(10_000);
        if !(200..=30_000).contains(&timeout_ms) {
            return invalid("clientConfiguration.timeoutInMilliseconds", "timeoutInMilliseconds must be 200 to 30000");
        }
        let maximum_retries = client.as_ref().and_then(|c| c.maximum_retries).unwrap_or(3);
        if !(0..=10).contains(&maximum_retries) {
            return invalid("clientConfiguration.maximumRetries", "maximumRetries must be 0 to 10");
        }
        let callback_timeout = match input.callback_configuration {
            None => None,
            Some(c) => {
                let d = c.timeout_duration.or(c.duration_before_timeout).ok_or_else(|| {
                    ValidationError::new(
                        "callbackConfiguration.timeoutDuration",
                        "callbackConfiguration needs timeoutDuration",
                    )
                })?;
                if kind != ExtensionKind::AssignmentRequest {
                    return invalid(
                        "callbackConfiguration",
                        "only request workflow extensions can wait for an answer; assignment workflow extensions launch and continue",
                    );
                }
                if !(CALLBACK_MIN_SECONDS..=CALLBACK_MAX_SECONDS).contains(&d.seconds()) {
                    return invalid(
                        "callbackConfiguration.timeoutDuration",
                        "timeoutDuration must be between PT5M and P14D",
                    );
                }
                Some(d)
            }
        };
        Ok(CustomExtension {
            id: ctx.id,
            catalog_id: ctx.catalog_id,
            kind,
            display_name: required_text("displayName", input.display_name.as_deref(), NAME_MAX)?,
            description: optional_text("description", input.description.as_deref(), DESCRIPTION_MAX)?,
            target_url,
            timeout_ms,
            maximum_retries,
            callback_timeout,
            signing_secret,
            created_by: ctx.existing.map_or_else(|| ctx.by.clone(), |e| e.created_by.clone()),
            created_date_time: ctx.existing.map_or(ctx.now, |e| e.created_date_time),
            last_modified_by: ctx.by,
            last_modified_date_time: ctx.now,
        })
    }

    /// Graph's shape (the signing secret never shown).
    pub fn to_graph(&self) -> Value {
        let mut v = json!({
            "@odata.type": self.kind.odata_type(),
            "id": self.id,
            "displayName": self.display_name,
            "description": self.description,
            "endpointConfiguration": {"@odata.type": HTTP_ENDPOINT, "targetUrl": self.target_url},
            "authenticationConfiguration": {"@odata.type": SIGNATURE_AUTH},
            "clientConfiguration": {"@odata.type": "#microsoft.graph.customExtensionClientConfiguration",
                "timeoutInMilliseconds": self.timeout_ms, "maximumRetries": self.maximum_retries},
            "callbackConfiguration": Value::Null,
            "createdBy": self.created_by,
            "createdDateTime": crate::datetime::to_wire(&self.created_date_time),
            "lastModifiedBy": self.last_modified_by,
            "lastModifiedDateTime": crate::datetime::to_wire(&self.last_modified_date_time),
        });
        if let Some(d) = &self.callback_timeout {
            v["callbackConfiguration"] =
                json!({"@odata.type": "#microsoft.graph.customExtensionCallbackConfiguration", "timeoutDuration": d});
        }
        v
    }
}

/// A policy's `customExtensionStageSettings` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StageSetting {
    pub id: Uuid,
    pub stage: CalloutStage,
    pub custom_extension_id: Uuid,
}

/// One as a policy body sends it: `{"stage": "…", "customExtension": {"id": "…"}}`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StageSettingInput {
    #[serde(rename = "@odata.type")]
    pub odata_type: Option<String>,
    pub id: Option<Uuid>,
    #[schemars(required)]
    pub stage: Option<String>,
    #[schemars(required)]
    pub custom_extension: Option<ExtensionRef>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExtensionRef {
    #[serde(rename = "@odata.type")]
    pub odata_type: Option<String>,
    pub id: Option<Uuid>,
}

/// Validate the settings' shape (which extension exists is the store's to say). One extension
/// per stage.
pub fn stage_settings(
    input: Vec<StageSettingInput>,
    new_id: &mut dyn FnMut() -> Uuid,
) -> Result<Vec<StageSetting>, ValidationError> {
    let t = "customExtensionStageSettings";
    let mut out: Vec<StageSetting> = Vec::with_capacity(input.len());
    for s in input {
        let raw = s.stage.ok_or_else(|| ValidationError::new(t, "each stage setting needs a stage"))?;
        let stage = CalloutStage::parse(&raw).ok_or_else(|| {
            let all: Vec<&str> = CalloutStage::ALL.iter().map(|s| s.as_str()).collect();
            ValidationError::new(t, format!("unknown stage '{raw}'; expected one of: {}", all.join(", ")))
        })?;
        let id = s.custom_extension.and_then(|e| e.id).ok_or_else(|| {
            ValidationError::new(t, format!("the {} setting needs customExtension with its id", stage.as_str()))
        })?;
        if out.iter().any(|o| o.stage == stage) {
            return invalid(t, format!("stage {} is named twice; one extension per stage", stage.as_str()));
        }
        out.push(StageSetting { id: s.id.unwrap_or_else(&mut *new_id), stage, custom_extension_id: id });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> ExtensionContext<'static> {
        ExtensionContext {
            id: Uuid::nil(),
            catalog_id: Uuid::nil(),
            now: Utc::now(),
            by: Some("admin".into()),
            existing: None,
        }
    }

    fn build(v: Value) -> Result<CustomExtension, ValidationError> {
        let input: CustomExtensionInput =
            serde_json::from_value(v).map_err(|e| ValidationError::general(e.to_string()))?;
        CustomExtension::build(input, ctx(), || "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into())
    }

    fn request_ext() -> Value {
        json!({"@odata.type": "#microsoft.graph.accessPackageAssignmentRequestWorkflowExtension", "displayName": "SoD check",
               "endpointConfiguration": {"@odata.type": "#microsoft.graph.httpRequestEndpoint", "targetUrl": "https://hooks.example/sod"},
               "callbackConfiguration": {"@odata.type": "microsoft.graph.customExtensionCallbackConfiguration", "durationBeforeTimeout": "PT1H"}})
    }

    #[test]
    fn a_request_extension_that_waits() {
        let e = build(request_ext()).unwrap();
        assert_eq!(e.kind, ExtensionKind::AssignmentRequest);
        assert_eq!(e.callback_timeout.unwrap().seconds(), 3600);
        assert!(e.signing_secret.is_some());
        let g = e.to_graph();
        assert_eq!(g["callbackConfiguration"]["timeoutDuration"], "PT1H");
        assert!(!g.to_string().contains("whsec_"), "{g}");
    }

    #[test]
    fn logic_apps_entra_tokens_and_bad_limits_are_refused() {
        let mut v = request_ext();
        v["endpointConfiguration"] = json!({"@odata.type": "#microsoft.graph.logicAppTriggerEndpointConfiguration",
            "subscriptionId": "x", "resourceGroupName": "y", "logicAppWorkflowName": "z"});
        assert_eq!(build(v).unwrap_err().target.as_deref(), Some("endpointConfiguration"));
        let mut v = request_ext();
        v["authenticationConfiguration"] = json!({"@odata.type": "#microsoft.graph.azureAdPopTokenAuthentication"});
        assert_eq!(build(v).unwrap_err().target.as_deref(), Some("authenticationConfiguration"));
        let mut v = request_ext();
        v["callbackConfiguration"] = json!({"timeoutDuration": "PT1M"});
        assert!(build(v).unwrap_err().message.contains("PT5M"));
        let mut v = request_ext();
        v["@odata.type"] = json!("#microsoft.graph.accessPackageAssignmentWorkflowExtension");
        assert_eq!(build(v).unwrap_err().target.as_deref(), Some("callbackConfiguration"));
        let mut v = request_ext();
        v["endpointConfiguration"]["targetUrl"] = json!("http://hooks.example/sod");
        assert!(build(v).unwrap_err().message.contains("https"));
    }

    #[test]
    fn stages_parse_case_insensitively_once_each() {
        assert_eq!(CalloutStage::parse("AssignmentRequestCreated"), Some(CalloutStage::AssignmentRequestCreated));
        let x = Uuid::from_u128(7);
        let mut ids = || Uuid::from_u128(1);
        let ok: Vec<StageSettingInput> =
            serde_json::from_value(json!([{"stage": "assignmentRequestGranted", "customExtension": {"id": x}}]))
                .unwrap();
        assert_eq!(stage_settings(ok, &mut ids).unwrap()[0].custom_extension_id, x);
        let twice: Vec<StageSettingInput> = serde_json::from_value(json!([
            {"stage": "assignmentRequestGranted", "customExtension": {"id": x}},
            {"stage": "assignmentRequestGranted", "customExtension": {"id": x}}]))
        .unwrap();
        assert!(stage_settings(twice, &mut ids).is_err());
        let unknown: Vec<StageSettingInput> =
            serde_json::from_value(json!([{"stage": "whenever", "customExtension": {"id": x}}])).unwrap();
        assert!(stage_settings(unknown, &mut ids).unwrap_err().message.contains("unknown stage"));
    }
}
