//! `/assignmentPolicies`. Update is a PUT of the whole policy (200 with the entity), as in Graph.

use axum::extract::{Path, State};
use axum::response::Response;
use gatehouse_domain::odata::ExpandItem;
use gatehouse_domain::policy::{AssignmentPolicy, PolicyInput};
use gatehouse_store::query::Where;
use serde_json::Value;

use gatehouse_app::Actor;

use crate::api::packages::render_package;
use crate::api::wire;
use crate::error::ApiResult;
use crate::extract::{guid, Body, Caller, OData};
use crate::odata::{self, check_expand, expands, list_query, Ctx};
use crate::state::AppState;

const SET: &str = "identityGovernance/entitlementManagement/assignmentPolicies";
const NAVS: &[&str] = &["accessPackage", "catalog", "questions", "customExtensionStageSettings"];

/// A policy; questions are a navigation, emitted when expanded.
pub fn render_policy(p: &AssignmentPolicy, expand: &[ExpandItem]) -> Value {
    let mut v = odata::to_value(p);
    if expands(expand, "questions").is_some() {
        v["questions"] = odata::to_value(&p.questions);
    }
    v
}

async fn render(s: &AppState, a: &Actor, ctx: &Ctx, p: AssignmentPolicy, expand: &[ExpandItem]) -> ApiResult<Value> {
    let mut v = render_policy(&p, expand);
    if expands(expand, "accessPackage").is_some() {
        v["accessPackage"] = render_package(ctx, &s.app.get_package(a, p.access_package_id).await?);
    }
    if expands(expand, "catalog").is_some() {
        v["catalog"] = odata::to_value(&s.app.get_catalog(a, p.catalog_id).await?);
    }
    if let Some(e) = expands(expand, "customExtensionStageSettings") {
        check_expand(&e.expand, &["customExtension"], "customExtensionStageSetting")?;
        let full = expands(&e.expand, "customExtension").is_some();
        let mut settings = Vec::new();
        for st in &p.custom_extension_stage_settings {
            let ext = s.app.get_custom_extension(a, p.catalog_id, st.custom_extension_id).await.ok();
            let custom_extension = match (&ext, full) {
                (Some(x), true) => x.to_graph(),
                (Some(x), false) => serde_json::json!({"@odata.type": x.kind.odata_type(), "id": x.id}),
                (None, _) => serde_json::json!({"id": st.custom_extension_id}),
            };
            settings.push(
                serde_json::json!({"id": st.id, "stage": st.stage.as_str(), "customExtension": custom_extension}),
            );
        }
        v["customExtensionStageSettings"] = Value::Array(settings);
    }
    Ok(v)
}

pub async fn list(State(s): State<AppState>, ctx: Ctx, OData(o): OData, c: Caller) -> ApiResult<Response> {
    check_expand(&o.expand, NAVS, "accessPackageAssignmentPolicy")?;
    let a = c.actor();
    let page = s.app.list_policies(&a, Where::new(), list_query(&o)?).await?;
    let page = odata::render_all(page, |p| render(&s, &a, &ctx, p, &o.expand)).await?;
    odata::collection(&ctx, SET, page, &o.select, Ok)
}

fn with_package_ref(p: &AssignmentPolicy) -> Value {
    odata::to_value(&wire::PolicyWithRefs {
        policy: p,
        access_package: wire::Ref { id: p.access_package_id },
        questions: &p.questions,
    })
}

pub async fn create(
    State(s): State<AppState>,
    ctx: Ctx,
    c: Caller,
    Body(input): Body<PolicyInput>,
) -> ApiResult<Response> {
    let p = s.app.create_policy(&c.actor(), input).await?;
    let v = with_package_ref(&p);
    Ok(odata::created(&ctx, SET, v, &format!("/v1.0/{SET}/{}", p.id)))
}

pub async fn get(
    State(s): State<AppState>,
    ctx: Ctx,
    OData(o): OData,
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    check_expand(&o.expand, NAVS, "accessPackageAssignmentPolicy")?;
    let a = c.actor();
    let p = s.app.get_policy(&a, guid(&id, "assignmentPolicy")?).await?;
    let v = render(&s, &a, &ctx, p, &o.expand).await?;
    odata::entity(&ctx, SET, v, &o.select)
}

pub async fn replace(
    State(s): State<AppState>,
    ctx: Ctx,
    c: Caller,
    Path(id): Path<String>,
    Body(input): Body<PolicyInput>,
) -> ApiResult<Response> {
    let p = s.app.replace_policy(&c.actor(), guid(&id, "assignmentPolicy")?, input).await?;
    let v = with_package_ref(&p);
    odata::entity(&ctx, SET, v, &[])
}

pub async fn delete(State(s): State<AppState>, c: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    s.app.delete_policy(&c.actor(), guid(&id, "assignmentPolicy")?).await?;
    Ok(odata::no_content())
}
