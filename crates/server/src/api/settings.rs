//! `/settings`: the entitlement-management singleton.

use axum::extract::State;
use axum::response::Response;
use gatehouse_domain::settings::SettingsPatch;
use serde_json::json;

use crate::error::ApiResult;
use crate::extract::{Body, Caller, OData};
use crate::odata::{self, Ctx};
use crate::state::AppState;

const SET: &str = "identityGovernance/entitlementManagement/settings";

pub async fn get(State(s): State<AppState>, ctx: Ctx, OData(o): OData, _c: Caller) -> ApiResult<Response> {
    odata::check_expand(&o.expand, &[], "entitlementManagementSettings")?;
    let settings = s.app.get_settings().await?;
    let mut v = odata::to_value(&settings);
    v["id"] = json!("singleton");
    odata::entity(&ctx, SET, v, &o.select)
}

pub async fn update(State(s): State<AppState>, c: Caller, Body(p): Body<SettingsPatch>) -> ApiResult<Response> {
    s.app.update_settings(&c.actor(), p).await?;
    Ok(odata::no_content())
}
