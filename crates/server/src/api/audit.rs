//! `/v1.0/gatehouse/auditRecords`: the audit log, read-only. A Gatehouse path (Graph's audit
//! logs have another shape); described in the OpenAPI document.

use axum::extract::State;
use axum::response::Response;
use gatehouse_store::query::Where;

use crate::error::ApiResult;
use crate::extract::{Caller, OData};
use crate::odata::{self, check_expand, list_query, Ctx};
use crate::state::AppState;

pub async fn list(State(s): State<AppState>, ctx: Ctx, OData(o): OData, _c: Caller) -> ApiResult<Response> {
    check_expand(&o.expand, &[], "auditRecord")?;
    let page = s.app.list_audit(Where::new(), list_query(&o)?).await?;
    odata::collection(&ctx, "gatehouse/auditRecords", page, &o.select, |r| Ok(odata::to_value(&r)))
}
