//! Request ids: generated per request, echoed as `request-id` (and `client-request-id` when the
//! client sent one), available to error bodies and audit records through a task-local.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

#[derive(Debug, Clone, Default)]
pub struct RequestIds {
    pub request_id: String,
    pub client_request_id: Option<String>,
}

tokio::task_local! {
    static CURRENT: RequestIds;
}

/// The ids of the request being handled (empty outside a request).
pub fn current() -> RequestIds {
    CURRENT.try_with(Clone::clone).unwrap_or_default()
}

pub async fn middleware(mut req: Request, next: Next) -> Response {
    let client_request_id = req
        .headers()
        .get("client-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned);
    let ids = RequestIds { request_id: uuid::Uuid::new_v4().to_string(), client_request_id };
    req.extensions_mut().insert(ids.clone());
    let mut response = CURRENT.scope(ids.clone(), next.run(req)).await;
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&ids.request_id) {
        headers.insert("request-id", v);
    }
    if let Some(c) = ids.client_request_id.and_then(|c| HeaderValue::from_str(&c).ok()) {
        headers.insert("client-request-id", c);
    }
    response
}
