//! `/gatehouse/connections`: the target systems Gatehouse provisions into (a Gatehouse
//! extension; Graph has no such entity), their groups, checks and reconciliation runs.

use axum::extract::{Path, Query, State};
use axum::http::header::CACHE_CONTROL;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gatehouse_domain::connection::{ConnectionPatch, NewConnection};
use serde::Deserialize;

use crate::api::wire;
use crate::error::ApiResult;
use crate::extract::{guid, Body, Caller, OData};
use crate::odata::{self, list_query, Ctx};
use crate::state::AppState;

const SET: &str = "gatehouse/connections";

pub async fn list(State(s): State<AppState>, ctx: Ctx, OData(o): OData, c: Caller) -> ApiResult<Response> {
    odata::check_expand(&o.expand, &[], "connection")?;
    let page = s.app.list_connections(&c.actor(), list_query(&o)?).await?;
    odata::collection(&ctx, SET, page, &o.select, |c| Ok(odata::to_value(&c)))
}

/// `POST`: the answer carries a generated webhook signing secret, this once.
pub async fn create(
    State(s): State<AppState>,
    ctx: Ctx,
    c: Caller,
    Body(input): Body<NewConnection>,
) -> ApiResult<Response> {
    let (connection, generated) = s.app.create_connection(&c.actor(), input).await?;
    let out = wire::ConnectionCreated { connection: connection.view(), signing_secret: generated };
    let mut r = odata::created(&ctx, SET, odata::to_value(&out), &format!("/v1.0/{SET}/{}", connection.id));
    r.headers_mut().insert(CACHE_CONTROL, "no-store".parse().expect("header"));
    Ok(r)
}

pub async fn get(
    State(s): State<AppState>,
    ctx: Ctx,
    OData(o): OData,
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    odata::check_expand(&o.expand, &[], "connection")?;
    let d = s.app.get_connection(&c.actor(), guid(&id, "connection")?).await?;
    let out = wire::ConnectionDetails {
        connection: d.connection.view(),
        waiting_jobs: d.waiting_jobs,
        oldest_waiting_date_time: d.oldest_waiting,
        resources: d
            .resources
            .into_iter()
            .map(|r| wire::ConnectionResource { catalog_id: r.catalog_id, catalog: r.catalog, resource: r.resource })
            .collect(),
    };
    odata::entity(&ctx, SET, odata::to_value(&out), &o.select)
}

pub async fn update(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    Body(patch): Body<ConnectionPatch>,
) -> ApiResult<Response> {
    s.app.update_connection(&c.actor(), guid(&id, "connection")?, patch).await?;
    Ok(odata::no_content())
}

pub async fn delete(State(s): State<AppState>, c: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    s.app.delete_connection(&c.actor(), guid(&id, "connection")?).await?;
    Ok(odata::no_content())
}

/// `POST …/{id}/test`: reach the target now; the connection with what was found.
pub async fn test(State(s): State<AppState>, ctx: Ctx, c: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    let connection = s.app.test_connection(&c.actor(), guid(&id, "connection")?).await?;
    Ok(odata::entity_with_status(&ctx, SET, odata::to_value(&connection), StatusCode::OK))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupSearch {
    /// Part of the group's name; all groups (the first 50) when left out.
    #[schemars(length(max = 256))]
    pub search: Option<String>,
}

/// `GET …/{id}/groups?search=…`: the target's groups, to add as resources.
pub async fn groups(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    Query(q): Query<GroupSearch>,
) -> ApiResult<Response> {
    let text = crate::pages::forms::clean(q.search.as_deref().unwrap_or_default());
    let value = s.app.search_connection_groups(&c.actor(), guid(&id, "connection")?, &text).await?;
    Ok(axum::Json(wire::Values { value }).into_response())
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ReconcileBody {
    /// Re-apply missing grants, and under `enforce` remove holders nothing explains; otherwise
    /// only report.
    #[serde(default)]
    pub fix: bool,
}

/// `POST …/{id}/reconcile`: queue a run (202 with the run; read it back for its findings).
pub async fn reconcile(
    State(s): State<AppState>,
    ctx: Ctx,
    c: Caller,
    Path(id): Path<String>,
    Body(body): Body<ReconcileBody>,
) -> ApiResult<Response> {
    let run = s.app.start_reconciliation(&c.actor(), guid(&id, "connection")?, body.fix).await?;
    Ok(odata::entity_with_status(&ctx, "gatehouse/reconciliations", odata::to_value(&run), StatusCode::ACCEPTED))
}

pub async fn list_reconciliations(State(s): State<AppState>, c: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    let value = s.app.list_reconciliations(&c.actor(), guid(&id, "connection")?, 50).await?;
    Ok(axum::Json(wire::Values { value }).into_response())
}

/// `GET /gatehouse/reconciliations/{id}`: a run with its findings.
pub async fn get_reconciliation(
    State(s): State<AppState>,
    ctx: Ctx,
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let (run, findings) = s.app.get_reconciliation(&c.actor(), guid(&id, "reconciliation")?).await?;
    let out = wire::ReconciliationWithFindings { reconciliation: run, findings };
    odata::entity(&ctx, "gatehouse/reconciliations", odata::to_value(&out), &[])
}
