//! The HTTP edge of Gatehouse: the Graph-compatible JSON API, the web pages (My Access),
//! sign-in, health, metrics and OpenAPI. Handlers in [`api`] and [`pages`] parse, call one
//! application service, and render; [`routes`] is the single table of routes and permissions;
//! [`authz`] enforces it.

pub mod api;
pub mod authz;
pub mod client_addr;
pub mod connections;
pub mod error;
pub mod extract;
pub mod metrics;
pub mod odata;
pub mod openapi;
pub mod pages;
pub mod request_id;
pub mod routes;
pub mod sign_in;
pub mod state;
pub mod throttle;

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use axum::Router;
use gatehouse_app::App;
use tower::Layer;
use tower_http::trace::TraceLayer;

pub use state::{AppState, ServerConfig};

use crate::error::ApiError;

async fn not_found(uri: Uri) -> impl IntoResponse {
    ApiError::not_found(format!("no resource at '{}'", uri.path()))
}

async fn method_not_allowed() -> impl IntoResponse {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "notAllowed", "this method is not allowed on this resource")
}

/// axum's own rejections (a path segment that is not UTF-8, a body over the limit on a route
/// that reads raw bytes) are plain text: give them the Graph error shape like every other error.
async fn graph_error_shape(response: Response) -> Response {
    // Pages answer their own errors as pages; only the framework's plain-text ones are rewritten.
    let shaped = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json") || v.starts_with("text/html"));
    let status = response.status();
    if !status.is_client_error() || shaped {
        return response;
    }
    let bytes = axum::body::to_bytes(response.into_body(), 4096).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes).trim().to_owned();
    let message = if text.is_empty() { status.canonical_reason().unwrap_or("bad request").to_owned() } else { text };
    let code = if status == StatusCode::PAYLOAD_TOO_LARGE { "requestTooLarge" } else { "invalidRequest" };
    // axum answers a form or query it cannot deserialize with 422; to a client that is a
    // malformed request like any other (422 is the pages' "fix the fields" answer).
    let status = if status == StatusCode::UNPROCESSABLE_ENTITY { StatusCode::BAD_REQUEST } else { status };
    ApiError::new(status, code, message).into_response()
}

/// The application router, without path normalisation.
pub fn router(app: App, config: ServerConfig) -> Router {
    router_with(app, config, None)
}

/// The router, reporting `connections` (the accept loop's) in `/metrics`.
fn router_with(app: App, config: ServerConfig, connections: Option<Arc<connections::Registry>>) -> Router {
    let table = routes::table();
    let specs: Vec<_> = table.iter().map(|r| r.spec.clone()).collect();
    let metrics = {
        let m = metrics::Metrics::default();
        if let Some(c) = connections {
            let _ = m.connections.set(c);
        }
        Arc::new(m)
    };
    let throttle = Arc::new(throttle::Throttle::new(
        config.throttle,
        metrics.auth_failures.clone(),
        metrics.auth_throttled.clone(),
    ));
    let state = AppState {
        app,
        config: Arc::new(config.clone()),
        metrics,
        throttle,
        routes: Arc::new(routes::RouteIndex::new(specs.clone())),
        openapi: Arc::new(openapi::document(&specs)),
        relying_party: Arc::new(sign_in::oidc::RelyingParty::default()),
    };
    let mut by_path: BTreeMap<&'static str, MethodRouter<AppState>> = BTreeMap::new();
    for r in table {
        let merged = match by_path.remove(r.spec.path) {
            Some(existing) => existing.merge(r.handler),
            None => r.handler,
        };
        by_path.insert(r.spec.path, merged.fallback(method_not_allowed));
    }
    let mut router = Router::new();
    for (path, handler) in by_path {
        router = router.route(path, handler);
    }
    router
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), authz::middleware))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), metrics::middleware))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(config.body_read_timeout))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, config.request_timeout))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(panic_response))
        .layer(axum::middleware::map_response(graph_error_shape))
        .layer(axum::middleware::from_fn(pages::headers::middleware))
        .layer(axum::middleware::from_fn(request_id::middleware))
        // Spans name the path only: query strings carry one-time codes (sign-in links, OIDC
        // callbacks) that must never reach a log.
        .layer(TraceLayer::new_for_http().make_span_with(
            |req: &Request| tracing::info_span!("http", method = %req.method(), path = %req.uri().path()),
        ))
        .with_state(state)
}

/// A panic is a bug: log it, and answer with a Graph 500 carrying the request id instead of
/// dropping the connection.
fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(panic = detail, "handler panicked");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "generalException",
        "an internal error occurred; report the request-id",
    )
    .into_response()
}

/// Graph clients send `%24` for `$` in paths and, behind some base URLs, doubled slashes.
fn normalize(mut req: Request) -> Request {
    let uri = req.uri();
    let path = uri.path();
    if path.contains("//") || path.contains('%') {
        let mut p =
            path.replace("%24", "$").replace("%27", "'").replace("%28", "(").replace("%29", ")").replace("%3D", "=");
        while p.contains("//") {
            p = p.replace("//", "/");
        }
        let pq = match uri.query() {
            Some(q) => format!("{p}?{q}"),
            None => p,
        };
        if let Ok(pq) = pq.parse::<axum::http::uri::PathAndQuery>() {
            let mut parts = uri.clone().into_parts();
            parts.path_and_query = Some(pq);
            if let Ok(new) = Uri::from_parts(parts) {
                *req.uri_mut() = new;
            }
        }
    }
    req
}

/// Serve until `shutdown` resolves, then finish in-flight requests.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: App,
    config: ServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = config.connections;
    let registry = connections::Registry::new(limits.max_connections);
    let service = tower::util::MapRequestLayer::new(normalize).layer(router_with(app, config, Some(registry.clone())));
    connections::serve(listener, service, limits, registry, shutdown).await
}
