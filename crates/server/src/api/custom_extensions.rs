//! `catalogs/{id}/customWorkflowExtensions` (Graph's customCalloutExtension subtypes, update
//! by PUT as in Graph) and `assignmentRequests/{id}/resume`, the endpoint's answer.

use axum::extract::{Path, State};
use axum::http::header::CACHE_CONTROL;
use axum::http::StatusCode;
use axum::response::Response;
use gatehouse_domain::custom_extension::CustomExtensionInput;
use gatehouse_domain::request_hold::ResumeBody;
use serde_json::Value;

use crate::error::ApiResult;
use crate::extract::{guid, Body, Caller, TypedBody};
use crate::odata::{self, Ctx};
use crate::state::AppState;

fn set(catalog: &str) -> String {
    format!("identityGovernance/entitlementManagement/catalogs('{catalog}')/customWorkflowExtensions")
}

pub async fn list(State(s): State<AppState>, ctx: Ctx, c: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    let catalog = guid(&id, "catalog")?;
    let all = s.app.list_custom_extensions(&c.actor(), catalog).await?;
    let page = gatehouse_app::Page { items: all.iter().map(|e| e.to_graph()).collect(), next_skip: None, count: None };
    odata::collection(&ctx, &set(&id), page, &[], Ok)
}

/// `POST`: a signing secret Gatehouse made is in this answer, and only here.
pub async fn create(
    State(s): State<AppState>,
    ctx: Ctx,
    c: Caller,
    Path(id): Path<String>,
    TypedBody(input): TypedBody<CustomExtensionInput>,
) -> ApiResult<Response> {
    let catalog = guid(&id, "catalog")?;
    let (e, generated) = s.app.create_custom_extension(&c.actor(), catalog, input).await?;
    let mut v = e.to_graph();
    if let Some(secret) = generated {
        v["authenticationConfiguration"]["signingSecret"] = Value::String(secret);
    }
    let mut r = odata::created(&ctx, &set(&id), v, &format!("/v1.0/{}/{}", set(&id), e.id));
    r.headers_mut().insert(CACHE_CONTROL, "no-store".parse().expect("header"));
    Ok(r)
}

pub async fn get(
    State(s): State<AppState>,
    ctx: Ctx,
    c: Caller,
    Path((id, xid)): Path<(String, String)>,
) -> ApiResult<Response> {
    let e =
        s.app.get_custom_extension(&c.actor(), guid(&id, "catalog")?, guid(&xid, "customWorkflowExtension")?).await?;
    odata::entity(&ctx, &set(&id), e.to_graph(), &[])
}

pub async fn replace(
    State(s): State<AppState>,
    ctx: Ctx,
    c: Caller,
    Path((id, xid)): Path<(String, String)>,
    TypedBody(input): TypedBody<CustomExtensionInput>,
) -> ApiResult<Response> {
    let e = s
        .app
        .replace_custom_extension(&c.actor(), guid(&id, "catalog")?, guid(&xid, "customWorkflowExtension")?, input)
        .await?;
    Ok(odata::entity_with_status(&ctx, &set(&id), e.to_graph(), StatusCode::OK))
}

pub async fn delete(
    State(s): State<AppState>,
    c: Caller,
    Path((id, xid)): Path<(String, String)>,
) -> ApiResult<Response> {
    s.app.delete_custom_extension(&c.actor(), guid(&id, "catalog")?, guid(&xid, "customWorkflowExtension")?).await?;
    Ok(odata::no_content())
}

/// `POST assignmentRequests/{id}/resume`: the extension's answer (204).
pub async fn resume(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    Body(body): Body<ResumeBody>,
) -> ApiResult<Response> {
    s.app.resume_request(&c.actor(), guid(&id, "assignmentRequest")?, body).await?;
    Ok(odata::no_content())
}
