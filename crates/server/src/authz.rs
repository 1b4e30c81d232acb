//! The one place that decides whether a call may proceed: it looks up the matched route's
//! permission in the route table, authenticates the bearer token, and asks the principal.
//! Deny by default: a route missing from the table needs an authenticated caller at least.

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use gatehouse_domain::principal::Permission;

use crate::error::ApiError;
use crate::state::AppState;

fn unauthenticated(message: &str) -> Response {
    let mut r = ApiError::unauthenticated(message).into_response();
    r.headers_mut().insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"gatehouse\""));
    r
}

pub async fn middleware(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let path = req.extensions().get::<MatchedPath>().map(|m| m.as_str().to_owned()).unwrap_or_default();
    let permission = state.routes.permission(req.method(), &path).unwrap_or(Permission::Authenticated);
    if permission == Permission::Anonymous {
        return next.run(req).await;
    }
    let token = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        // The scheme name is case-insensitive (RFC 9110 §11.1).
        .and_then(|v| v.split_once(' ').filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer")))
        .map(|(_, token)| token.trim())
        .map(str::to_owned);
    let Some(token) = token else {
        return unauthenticated("this request needs a bearer token (Authorization: Bearer <token>)");
    };
    let principal = match state.app.authenticate(&token).await {
        Ok(p) => p,
        Err(gatehouse_app::AppError::Unauthenticated(m)) => return unauthenticated(&m),
        Err(e) => return ApiError::from(e).into_response(),
    };
    if let Err(denied) = principal.may(permission) {
        tracing::info!(user = %principal.user_id, route = %path, "forbidden: {}", denied.0);
        return ApiError::forbidden(denied.0).into_response();
    }
    req.extensions_mut().insert(principal);
    next.run(req).await
}
