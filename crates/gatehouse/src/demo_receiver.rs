//! The demo's webhook target: a "team site" on a loopback port that checks each call's
//! Standard Webhooks signature and prints what it was asked to do, so a new user sees a
//! delivery leave Gatehouse.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use gatehouse_connectors::webhook;
use gatehouse_domain::connection::Secret;
use serde_json::Value;

/// Start it; returns its base URL.
pub async fn start(secret: &str) -> anyhow::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let key = Arc::new(webhook::key_of(&Secret::new(secret)).map_err(|e| anyhow::anyhow!(e.message))?);
    let app = Router::new().route("/{action}", post(receive)).with_state(key);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(base)
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

async fn receive(
    State(key): State<Arc<Vec<u8>>>,
    Path(action): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let (id, ts) = (header(&headers, "webhook-id"), header(&headers, "webhook-timestamp"));
    let expected = ts.parse().map(|t| webhook::sign(&key, id, t, &body)).unwrap_or_default();
    if !header(&headers, "webhook-signature").split(' ').any(|s| s == expected) {
        println!("[Tango team site] refused a call to /{action}: its signature does not verify");
        return StatusCode::UNAUTHORIZED;
    }
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    match v["type"].as_str() {
        Some("gatehouse.ping") => println!("[Tango team site] Gatehouse checked the connection (signature verified)"),
        Some(kind) => println!(
            "[Tango team site] {kind}: role {} for {} <{}> (request {}, message {id}; signature verified)",
            v["role"]["displayName"].as_str().unwrap_or("?"),
            v["person"]["displayName"].as_str().unwrap_or("?"),
            v["person"]["mail"].as_str().unwrap_or("?"),
            v["requestId"].as_str().unwrap_or("?"),
        ),
        None => println!("[Tango team site] a call to /{action} it does not understand"),
    }
    StatusCode::NO_CONTENT
}
