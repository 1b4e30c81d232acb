//! `/assignmentRequests` (submit, read, cancel, reprocess, delete, the caller's requests) and
//! the My Access reads on `/accessPackages`: what the caller may request, and under which
//! policies.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gatehouse_app::Page;
use gatehouse_domain::enums::ExpirationPatternType;
use gatehouse_domain::odata::QueryOptions;
use gatehouse_domain::policy::ExpirationPattern;
use gatehouse_domain::question::Question;
use gatehouse_domain::request::AssignmentRequest;
use gatehouse_domain::request_input::NewAssignmentRequest;
use gatehouse_store::query::Where;
use gatehouse_store::requests as scopes;
use serde_json::Value;
use uuid::Uuid;

use gatehouse_app::Actor;

use crate::api::assignments::{found, refuse_unknown_function, render_subject};
use crate::api::packages::render_package;
use crate::api::wire;
use crate::error::{ApiError, ApiResult};
use crate::extract::{guid, Body, Caller, OData};
use crate::odata::{self, check_expand, expands, list_query, Ctx};
use crate::state::AppState;

const SET: &str = "identityGovernance/entitlementManagement/assignmentRequests";
const PACKAGES: &str = "identityGovernance/entitlementManagement/accessPackages";
const NAVS: &[&str] = &["accessPackage", "assignment", "requestor"];

/// Renders requests the caller may see, with their package and policy whatever the caller's
/// catalog roles (a requestor sees the package they asked for). Remembers each policy's questions (answers are typed after them).
pub struct RequestRenderer<'a> {
    s: &'a AppState,
    ctx: &'a Ctx,
    questions: HashMap<Uuid, Vec<Question>>,
}

impl<'a> RequestRenderer<'a> {
    pub fn new(s: &'a AppState, ctx: &'a Ctx) -> Self {
        RequestRenderer { s, ctx, questions: HashMap::new() }
    }

    async fn questions(&mut self, policy: Uuid) -> ApiResult<&[Question]> {
        if !self.questions.contains_key(&policy) {
            // A deleted policy leaves its answers untyped rather than failing the read.
            let qs =
                found(self.s.app.get_policy(&Actor::system(), policy).await)?.map(|p| p.questions).unwrap_or_default();
            self.questions.insert(policy, qs);
        }
        Ok(&self.questions[&policy])
    }

    /// The Graph `accessPackageAssignmentRequest` shape, with `failureReason` (Gatehouse) when
    /// delivery failed, and the expanded navigations.
    pub async fn render(&mut self, r: &AssignmentRequest, o: &QueryOptions) -> ApiResult<Value> {
        let expiration = &r.schedule.expiration;
        let answers: Vec<Value> = {
            let qs = self.questions(r.policy_id).await?;
            r.answers.iter().map(|a| a.to_graph(qs)).collect()
        };
        let mut v = odata::to_value(&wire::AssignmentRequestOut {
            id: r.id,
            request_type: r.request_type,
            state: r.state,
            status: r.status().to_owned(),
            justification: r.justification.clone(),
            created_date_time: r.created_date_time,
            completed_date_time: r.completed_date_time,
            schedule: wire::Schedule {
                start_date_time: r.schedule.start_date_time,
                expiration: ExpirationPattern {
                    kind: Some(expiration.kind.unwrap_or(ExpirationPatternType::NotSpecified)),
                    ..expiration.clone()
                },
                recurrence: None,
            },
            answers,
            custom_extension_callout_instances: r.callouts.iter().map(odata::to_value).collect(),
            failure_reason: r.failure.clone(),
        });
        let s = self.s;
        if expands(&o.expand, "accessPackage").is_some() {
            v["accessPackage"] = found(s.app.get_package(&Actor::system(), r.access_package_id).await)?
                .map_or(Value::Null, |p| render_package(self.ctx, &p));
        }
        if expands(&o.expand, "assignment").is_some() {
            let a = match r.assignment_id {
                Some(id) => s.app.assignment(id).await?,
                None => None,
            };
            v["assignment"] = a.map_or(Value::Null, |a| odata::to_value(&wire::AssignmentOut::of(&a)));
        }
        if expands(&o.expand, "requestor").is_some() {
            // Graph's `requestor` is the subject the request is for: the target.
            v["requestor"] = render_subject(s, r.target_id, r.target_email.as_deref()).await?;
        }
        Ok(v)
    }

    pub async fn render_page(&mut self, page: Page<AssignmentRequest>, o: &QueryOptions) -> ApiResult<Page<Value>> {
        let mut items = Vec::with_capacity(page.items.len());
        for r in &page.items {
            items.push(self.render(r, o).await?);
        }
        Ok(Page { items, next_skip: page.next_skip, count: page.count })
    }
}

/// `in_reach_of`: restrict to the catalogs this caller may read (the administrative list);
/// `None` for the caller's own lists, whose scope already limits them.
async fn list_scoped(
    s: &AppState,
    ctx: &Ctx,
    o: &QueryOptions,
    scope: Where,
    in_reach_of: Option<&Actor>,
) -> ApiResult<Response> {
    check_expand(&o.expand, NAVS, "accessPackageAssignmentRequest")?;
    let page = match in_reach_of {
        Some(a) => s.app.list_requests_in_reach(a, scope, list_query(o)?).await?,
        None => s.app.list_requests(scope, list_query(o)?).await?,
    };
    let page = RequestRenderer::new(s, ctx).render_page(page, o).await?;
    odata::collection(ctx, SET, page, &o.select, Ok)
}

pub async fn list(State(s): State<AppState>, ctx: Ctx, OData(o): OData, c: Caller) -> ApiResult<Response> {
    list_scoped(&s, &ctx, &o, Where::new(), Some(&c.actor())).await
}

/// `filterByCurrentUser(on='target')`: requests for the caller.
pub async fn list_targeting_me(State(s): State<AppState>, ctx: Ctx, OData(o): OData, c: Caller) -> ApiResult<Response> {
    list_scoped(&s, &ctx, &o, scopes::targeting(c.0.user_id), None).await
}

/// `filterByCurrentUser(on='createdBy')`: requests the caller made.
pub async fn list_created_by_me(
    State(s): State<AppState>,
    ctx: Ctx,
    OData(o): OData,
    c: Caller,
) -> ApiResult<Response> {
    list_scoped(&s, &ctx, &o, scopes::created_by(c.0.user_id), None).await
}

/// `filterByCurrentUser(on='approver')`: requests awaiting the caller's decision.
pub async fn list_awaiting_me(State(s): State<AppState>, ctx: Ctx, OData(o): OData, c: Caller) -> ApiResult<Response> {
    list_scoped(&s, &ctx, &o, scopes::awaiting(c.0.user_id), None).await
}

/// 201 with the request as it stands after submission (already `pendingApproval` or
/// `delivering`: evaluation and the first transition happen in the same transaction).
pub async fn create(
    State(s): State<AppState>,
    ctx: Ctx,
    c: Caller,
    Body(input): Body<NewAssignmentRequest>,
) -> ApiResult<Response> {
    let r = s.app.create_assignment_request(&c.actor(), input).await?;
    let v = RequestRenderer::new(&s, &ctx).render(&r, &QueryOptions::default()).await?;
    Ok(odata::created(&ctx, SET, v, &format!("/v1.0/{SET}/{}", r.id)))
}

pub async fn get(
    State(s): State<AppState>,
    ctx: Ctx,
    OData(o): OData,
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    refuse_unknown_function(&id)?;
    check_expand(&o.expand, NAVS, "accessPackageAssignmentRequest")?;
    let r = s.app.get_request(&c.actor(), guid(&id, "assignmentRequest")?).await?;
    let v = RequestRenderer::new(&s, &ctx).render(&r, &o).await?;
    odata::entity(&ctx, SET, v, &o.select)
}

pub async fn cancel(State(s): State<AppState>, c: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    s.app.cancel_request(&c.actor(), guid(&id, "assignmentRequest")?).await?;
    Ok(odata::no_content())
}

/// 204: a closed request's record is gone (its assignment and audit records stay).
pub async fn delete(State(s): State<AppState>, c: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    s.app.delete_request(&c.actor(), guid(&id, "assignmentRequest")?).await?;
    Ok(odata::no_content())
}

/// 202: delivery starts again; the workers finish it.
pub async fn reprocess(State(s): State<AppState>, c: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    s.app.reprocess_request(&c.actor(), guid(&id, "assignmentRequest")?).await?;
    Ok(StatusCode::ACCEPTED.into_response())
}

/// `accessPackages/filterByCurrentUser(on='allowedRequestor')`: the packages the caller may
/// request. Hidden packages are never listed (they are reached by their direct link).
pub async fn requestable_packages(
    State(s): State<AppState>,
    ctx: Ctx,
    OData(o): OData,
    c: Caller,
) -> ApiResult<Response> {
    check_expand(&o.expand, &[], "accessPackage")?;
    if o.filter.is_some() || !o.orderby.is_empty() {
        return Err(ApiError::bad_request(
            "$filter and $orderby are not supported on filterByCurrentUser; use $search",
        ));
    }
    let packages = s.app.requestable_packages(&c.actor(), o.search.as_deref()).await?;
    let count = o.count.then_some(packages.len() as i64);
    let page = Page { items: packages, next_skip: None, count };
    odata::collection(&ctx, PACKAGES, page, &o.select, |p| Ok(render_package(&ctx, &p)))
}

/// `POST accessPackages/{id}/getApplicablePolicyRequirements`: one entry per policy under which
/// the caller may request the package (hidden or not); an empty `value` when none admits them.
pub async fn applicable_policy_requirements(
    State(s): State<AppState>,
    ctx: Ctx,
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let (_, policies) = s.app.applicable_policies(&c.actor(), guid(&id, "accessPackage")?).await?;
    let page = Page { items: policies, next_skip: None, count: None };
    let set = "Collection(microsoft.graph.accessPackageAssignmentRequestRequirements)";
    odata::collection(&ctx, set, page, &[], |p| Ok(odata::to_value(&wire::PolicyRequirements::of(&p))))
}
