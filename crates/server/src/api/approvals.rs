//! `/accessPackageAssignmentApprovals`: an approval is a request seen by its approvers (the
//! approval id is the request id); its stages are decided by `PATCH …/stages/{stageId}`.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::response::Response;
use gatehouse_app::Page;
use gatehouse_domain::request::{AssignmentRequest, Stage, StageStatus, Verdict};
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use crate::api::assignments::{found, refuse_unknown_function};
use crate::api::wire;
use crate::error::{ApiError, ApiResult};
use crate::extract::{guid, Body, Caller, OData};
use crate::odata::{self, check_expand, list_query, Ctx};
use crate::state::AppState;

const SET: &str = "identityGovernance/entitlementManagement/accessPackageAssignmentApprovals";

/// Renders approvals for one caller (`assignedToMe`), remembering approvers' names.
struct ApprovalRenderer<'a> {
    s: &'a AppState,
    me: Uuid,
    names: HashMap<Uuid, Option<String>>,
}

impl<'a> ApprovalRenderer<'a> {
    fn new(s: &'a AppState, me: Uuid) -> Self {
        ApprovalRenderer { s, me, names: HashMap::new() }
    }

    async fn name(&mut self, user: Uuid) -> ApiResult<Option<String>> {
        if !self.names.contains_key(&user) {
            let name = found(self.s.app.get_user(user).await)?.map(|u| u.display_name);
            self.names.insert(user, name);
        }
        Ok(self.names[&user].clone())
    }

    /// Graph `approvalStage`.
    async fn stage(&mut self, stage: &Stage) -> ApiResult<wire::ApprovalStage> {
        let decision = stage.decision.as_ref();
        let review_result = match decision.map(|d| d.verdict) {
            None => wire::ReviewResult::NotReviewed,
            Some(Verdict::Approve) => wire::ReviewResult::Approved,
            Some(Verdict::Deny) => wire::ReviewResult::Denied,
        };
        let status = match stage.status {
            StageStatus::Initializing => wire::StageStatus::Initializing,
            StageStatus::InProgress => wire::StageStatus::InProgress,
            StageStatus::Completed => wire::StageStatus::Completed,
            StageStatus::Expired => wire::StageStatus::Expired,
        };
        // Null until someone decides, and also for an automatic denial (nobody reviewed it;
        // Graph's all-zero identity would only read as a person).
        let reviewed_by = match decision.and_then(|d| d.by) {
            Some(by) => Some(wire::Identity { id: by, display_name: self.name(by).await? }),
            None => None,
        };
        Ok(wire::ApprovalStage {
            id: stage.id,
            display_name: None,
            review_result,
            status,
            assigned_to_me: stage.status == StageStatus::InProgress && stage.current_approvers().contains(&self.me),
            justification: decision.and_then(|d| d.justification.clone()).unwrap_or_default(),
            reviewed_by,
            reviewed_date_time: decision.map(|d| d.at),
        })
    }

    async fn approval(&mut self, r: &AssignmentRequest) -> ApiResult<wire::Approval> {
        let mut stages = Vec::with_capacity(r.stages.len());
        for st in &r.stages {
            stages.push(self.stage(st).await?);
        }
        Ok(wire::Approval { id: r.id, stages })
    }
}

fn find_stage<'r>(r: &'r AssignmentRequest, raw: &str) -> ApiResult<&'r Stage> {
    let id = guid(raw, "approvalStage")?;
    r.stages
        .iter()
        .find(|s| s.id == id)
        .ok_or_else(|| ApiError::not_found(format!("approval stage '{id}' was not found in approval '{}'", r.id)))
}

/// Visible to administrators, the request's target and requestor, and its approvers (current
/// or past); to anyone else the approval does not exist.
async fn load(s: &AppState, c: &Caller, id: &str) -> ApiResult<AssignmentRequest> {
    refuse_unknown_function(id)?;
    Ok(s.app.get_request(&c.actor(), guid(id, "approval")?).await?)
}

/// `filterByCurrentUser(on='approver')`: approvals with a stage awaiting the caller.
pub async fn list_awaiting_me(State(s): State<AppState>, ctx: Ctx, OData(o): OData, c: Caller) -> ApiResult<Response> {
    check_expand(&o.expand, &[], "approval")?;
    let page = s.app.list_requests(gatehouse_store::requests::awaiting(c.0.user_id), list_query(&o)?).await?;
    let mut renderer = ApprovalRenderer::new(&s, c.0.user_id);
    let mut items = Vec::with_capacity(page.items.len());
    for r in &page.items {
        items.push(odata::to_value(&renderer.approval(r).await?));
    }
    let page = Page { items, next_skip: page.next_skip, count: page.count };
    odata::collection(&ctx, SET, page, &o.select, Ok)
}

pub async fn get(
    State(s): State<AppState>,
    ctx: Ctx,
    OData(o): OData,
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    check_expand(&o.expand, &["stages"], "approval")?;
    let r = load(&s, &c, &id).await?;
    let v = odata::to_value(&ApprovalRenderer::new(&s, c.0.user_id).approval(&r).await?);
    odata::entity(&ctx, SET, v, &o.select)
}

pub async fn list_stages(
    State(s): State<AppState>,
    ctx: Ctx,
    OData(o): OData,
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    check_expand(&o.expand, &[], "approvalStage")?;
    if o.filter.is_some() || o.search.is_some() {
        return Err(ApiError::bad_request("$filter and $search are not supported on approval stages"));
    }
    let r = load(&s, &c, &id).await?;
    let mut renderer = ApprovalRenderer::new(&s, c.0.user_id);
    let mut items = Vec::with_capacity(r.stages.len());
    for st in &r.stages {
        items.push(odata::to_value(&renderer.stage(st).await?));
    }
    let count = o.count.then_some(items.len() as i64);
    let page = Page { items, next_skip: None, count };
    odata::collection(&ctx, &format!("{SET}/{}/stages", r.id), page, &o.select, Ok)
}

pub async fn get_stage(
    State(s): State<AppState>,
    ctx: Ctx,
    OData(o): OData,
    c: Caller,
    Path((id, stage)): Path<(String, String)>,
) -> ApiResult<Response> {
    check_expand(&o.expand, &[], "approvalStage")?;
    let r = load(&s, &c, &id).await?;
    let st = find_stage(&r, &stage)?;
    let v = odata::to_value(&ApprovalRenderer::new(&s, c.0.user_id).stage(st).await?);
    odata::entity(&ctx, &format!("{SET}/{}/stages", r.id), v, &o.select)
}

/// `PATCH …/stages/{stageId}`: `reviewResult` is `Approve` or `Deny` (any case). Properties a
/// client echoes from the stage it read are ignored; anything else is refused.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StageDecision {
    review_result: Option<String>,
    justification: Option<String>,
    // Read-only properties a client may send back.
    #[serde(rename = "status")]
    _status: Option<Value>,
    #[serde(rename = "reviewedBy")]
    _reviewed_by: Option<Value>,
    #[serde(rename = "reviewedDateTime")]
    _reviewed_date_time: Option<Value>,
    #[serde(rename = "assignedToMe")]
    _assigned_to_me: Option<Value>,
    #[serde(rename = "displayName")]
    _display_name: Option<Value>,
}

impl StageDecision {
    fn verdict(&self) -> ApiResult<Verdict> {
        let bad = |detail: &str| {
            let mut e = ApiError::bad_request(format!("reviewResult {detail}; send 'Approve' or 'Deny'"));
            e.target = Some("reviewResult".into());
            e
        };
        match self.review_result.as_deref().map(str::trim) {
            None => Err(bad("is required")),
            Some(v) if v.eq_ignore_ascii_case("approve") => Ok(Verdict::Approve),
            Some(v) if v.eq_ignore_ascii_case("deny") => Ok(Verdict::Deny),
            Some(v) => Err(bad(&format!("'{v}' is not a decision"))),
        }
    }
}

/// Answers 204. Refused with 403 for someone who is not an approver of the stage or who asked for the
/// access, with 409 when the stage is closed or not open yet or the request no longer awaits
/// approval, and with 404 for an unknown stage.
pub async fn decide_stage(
    State(s): State<AppState>,
    c: Caller,
    Path((id, stage)): Path<(String, String)>,
    Body(body): Body<StageDecision>,
) -> ApiResult<Response> {
    refuse_unknown_function(&id)?;
    let request = guid(&id, "approval")?;
    let stage = guid(&stage, "approvalStage")?;
    let verdict = body.verdict()?;
    s.app.decide_stage(&c.actor(), request, stage, verdict, body.justification).await?;
    Ok(odata::no_content())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Result<Verdict, String> {
        let d: StageDecision = crate::extract::parse_body(v.to_string().as_bytes()).map_err(|e| e.message)?;
        d.verdict().map_err(|e| e.message)
    }

    #[test]
    fn decisions_are_strict_but_tolerate_echoes() {
        assert_eq!(parse(json!({"reviewResult": "Approve", "justification": "ok"})), Ok(Verdict::Approve));
        assert_eq!(parse(json!({"reviewResult": "DENY"})), Ok(Verdict::Deny));
        let echoed = json!({"id": "x", "reviewResult": "approve", "status": "InProgress", "assignedToMe": true,
            "reviewedBy": null, "reviewedDateTime": null, "displayName": null, "@odata.type": "#microsoft.graph.approvalStage"});
        assert_eq!(parse(echoed), Ok(Verdict::Approve));
        assert!(parse(json!({"reviewResult": "Approved"})).unwrap_err().contains("not a decision"));
        assert!(parse(json!({"justification": "x"})).unwrap_err().contains("required"));
        assert!(parse(json!({"reviewResult": "Approve", "colour": 1})).unwrap_err().contains("colour"));
    }
}
