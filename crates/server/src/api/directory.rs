//! The minimal directory a Graph client needs: `/users`, `/groups` (+ members),
//! `/directoryObjects/{id}` and `/me`.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use gatehouse_app::directory::DirectoryObject;
use gatehouse_domain::directory::{Group, GroupPatch, NewGroup, NewUser, User, UserPatch};
use gatehouse_store::query::Where;
use serde_json::{json, Value};

use crate::error::ApiResult;
use crate::extract::{guid, reference, Body, Caller, OData};
use crate::odata::{self, check_expand, expands, list_query, Ctx};
use crate::state::AppState;

pub fn render_user(_ctx: &Ctx, u: &User) -> Value {
    let mut v = odata::to_value(u);
    v["@odata.type"] = json!("#microsoft.graph.user");
    v
}

pub fn render_group(g: &Group) -> Value {
    let mut v = odata::to_value(g);
    v["@odata.type"] = json!("#microsoft.graph.group");
    v
}

pub async fn list_users(State(s): State<AppState>, ctx: Ctx, OData(o): OData, c: Caller) -> ApiResult<Response> {
    check_expand(&o.expand, &[], "user")?;
    let page = s.app.list_users_visible(&c.actor(), list_query(&o)?).await?;
    odata::collection(&ctx, "users", page, &o.select, |u| Ok(render_user(&ctx, &u)))
}

pub async fn create_user(
    State(s): State<AppState>,
    ctx: Ctx,
    c: Caller,
    Body(input): Body<NewUser>,
) -> ApiResult<Response> {
    let u = s.app.create_user(&c.actor(), input).await?;
    Ok(odata::created(&ctx, "users", render_user(&ctx, &u), &format!("/v1.0/users/{}", u.id)))
}

pub async fn get_user(
    State(s): State<AppState>,
    ctx: Ctx,
    OData(o): OData,
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    check_expand(&o.expand, &[], "user")?;
    let u = s.app.get_user_visible(&c.actor(), guid(&id, "user")?).await?;
    odata::entity(&ctx, "users", render_user(&ctx, &u), &o.select)
}

pub async fn update_user(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    Body(p): Body<UserPatch>,
) -> ApiResult<Response> {
    s.app.update_user(&c.actor(), guid(&id, "user")?, p).await?;
    Ok(odata::no_content())
}

pub async fn delete_user(State(s): State<AppState>, c: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    s.app.delete_user(&c.actor(), guid(&id, "user")?).await?;
    Ok(odata::no_content())
}

pub async fn me(State(s): State<AppState>, ctx: Ctx, OData(o): OData, c: Caller) -> ApiResult<Response> {
    check_expand(&o.expand, &[], "user")?;
    let u = s.app.get_user(c.0.user_id).await?;
    odata::entity(&ctx, "users", render_user(&ctx, &u), &o.select)
}

async fn render_group_expanded(
    s: &AppState,
    ctx: &Ctx,
    g: Group,
    o: &gatehouse_domain::odata::QueryOptions,
) -> ApiResult<Value> {
    let id = g.id;
    let mut v = render_group(&g);
    if expands(&o.expand, "members").is_some() {
        let page =
            s.app.list_users(gatehouse_store::directory::members_scope(id), gatehouse_app::ListQuery::EXPANDED).await?;
        v["members"] = Value::Array(page.items.iter().map(|u| render_user(ctx, u)).collect());
    }
    Ok(v)
}

pub async fn list_groups(State(s): State<AppState>, ctx: Ctx, OData(o): OData, _c: Caller) -> ApiResult<Response> {
    check_expand(&o.expand, &["members"], "group")?;
    let page = s.app.list_groups(Where::new(), list_query(&o)?).await?;
    let page = odata::render_all(page, |g| render_group_expanded(&s, &ctx, g, &o)).await?;
    odata::collection(&ctx, "groups", page, &o.select, Ok)
}

pub async fn create_group(
    State(s): State<AppState>,
    ctx: Ctx,
    c: Caller,
    Body(input): Body<NewGroup>,
) -> ApiResult<Response> {
    let g = s.app.create_group(&c.actor(), input).await?;
    Ok(odata::created(&ctx, "groups", render_group(&g), &format!("/v1.0/groups/{}", g.id)))
}

pub async fn get_group(
    State(s): State<AppState>,
    ctx: Ctx,
    OData(o): OData,
    _c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    check_expand(&o.expand, &["members"], "group")?;
    let g = s.app.get_group(guid(&id, "group")?).await?;
    let v = render_group_expanded(&s, &ctx, g, &o).await?;
    odata::entity(&ctx, "groups", v, &o.select)
}

pub async fn update_group(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    Body(p): Body<GroupPatch>,
) -> ApiResult<Response> {
    s.app.update_group(&c.actor(), guid(&id, "group")?, p).await?;
    Ok(odata::no_content())
}

pub async fn delete_group(State(s): State<AppState>, c: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    s.app.delete_group(&c.actor(), guid(&id, "group")?).await?;
    Ok(odata::no_content())
}

pub async fn list_members(
    State(s): State<AppState>,
    ctx: Ctx,
    OData(o): OData,
    _c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    check_expand(&o.expand, &[], "user")?;
    let gid = guid(&id, "group")?;
    s.app.get_group(gid).await?;
    let page = s.app.list_users(gatehouse_store::directory::members_scope(gid), list_query(&o)?).await?;
    odata::collection(&ctx, "directoryObjects", page, &o.select, |u| Ok(render_user(&ctx, &u)))
}

pub async fn add_member(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let user = reference(&body, &["users", "directoryObjects"])?;
    s.app.add_group_member(&c.actor(), guid(&id, "group")?, user).await?;
    Ok(odata::no_content())
}

pub async fn remove_member(
    State(s): State<AppState>,
    c: Caller,
    Path((id, member)): Path<(String, String)>,
) -> ApiResult<Response> {
    s.app.remove_group_member(&c.actor(), guid(&id, "group")?, guid(&member, "user")?).await?;
    Ok(odata::no_content())
}

pub async fn get_directory_object(
    State(s): State<AppState>,
    ctx: Ctx,
    OData(o): OData,
    _c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let v = match s.app.get_directory_object(guid(&id, "directoryObject")?).await? {
        DirectoryObject::User(u) => render_user(&ctx, &u),
        DirectoryObject::Group(g) => render_group(&g),
    };
    odata::entity(&ctx, "directoryObjects", v, &o.select)
}

/// `GET /users/{id}/manager`.
pub async fn get_manager(
    State(s): State<AppState>,
    ctx: Ctx,
    OData(o): OData,
    _c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let user = s.app.get_user(guid(&id, "user")?).await?;
    let manager =
        user.manager_id.ok_or_else(|| crate::error::ApiError::not_found(format!("user '{id}' has no manager")))?;
    let m = s.app.get_user(manager).await?;
    odata::entity(&ctx, "directoryObjects", render_user(&ctx, &m), &o.select)
}

/// `PUT /users/{id}/manager/$ref`.
pub async fn set_manager(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let manager = reference(&body, &["users", "directoryObjects"])?;
    s.app.set_manager(&c.actor(), guid(&id, "user")?, Some(manager)).await?;
    Ok(odata::no_content())
}

/// `DELETE /users/{id}/manager/$ref`.
pub async fn remove_manager(State(s): State<AppState>, c: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    s.app.set_manager(&c.actor(), guid(&id, "user")?, None).await?;
    Ok(odata::no_content())
}
