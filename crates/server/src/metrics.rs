//! Prometheus metrics: request counts and latencies by route template. A registry per server
//! (not the global one) so several in-process test servers do not collide.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus::{Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder};

use crate::state::AppState;

pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    connections_open: IntGauge,
    /// Failed credentials and throttled answers, by kind (`throttle::Credential`).
    pub auth_failures: IntCounterVec,
    pub auth_throttled: IntCounterVec,
    connections_closed: IntCounterVec,
    /// The accept loop's connections, once serving (a router alone has none).
    pub connections: std::sync::OnceLock<std::sync::Arc<crate::connections::Registry>>,
}

impl Default for Metrics {
    fn default() -> Self {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new("gatehouse_http_requests_total", "HTTP requests by route, method and status"),
            &["method", "route", "status"],
        )
        .expect("valid metric");
        let latency = HistogramVec::new(
            HistogramOpts::new("gatehouse_http_request_duration_seconds", "HTTP request latency by route and method"),
            &["method", "route"],
        )
        .expect("valid metric");
        let connections_open =
            IntGauge::new("gatehouse_http_connections_open", "Open HTTP connections").expect("valid metric");
        let connections_closed = IntCounterVec::new(
            Opts::new(
                "gatehouse_http_connections_closed_total",
                "Connections the server closed: evicted (to make room at max_connections) or timed_out (request head too slow, or idle)",
            ),
            &["reason"],
        )
        .expect("valid metric");
        let auth_failures = IntCounterVec::new(
            Opts::new("gatehouse_auth_failures_total", "Failed credentials: bearer_token, client_secret, sign_in_link"),
            &["credential"],
        )
        .expect("valid metric");
        let auth_throttled = IntCounterVec::new(
            Opts::new(
                "gatehouse_auth_throttled_total",
                "Requests answered 429 after too many failed credentials from their address",
            ),
            &["credential"],
        )
        .expect("valid metric");
        registry.register(Box::new(auth_failures.clone())).expect("register once");
        registry.register(Box::new(auth_throttled.clone())).expect("register once");
        registry.register(Box::new(requests.clone())).expect("register once");
        registry.register(Box::new(latency.clone())).expect("register once");
        registry.register(Box::new(connections_open.clone())).expect("register once");
        registry.register(Box::new(connections_closed.clone())).expect("register once");
        Metrics {
            registry,
            requests,
            latency,
            connections_open,
            auth_failures,
            auth_throttled,
            connections_closed,
            connections: Default::default(),
        }
    }
}

impl Metrics {
    pub fn render(&self) -> String {
        if let Some(c) = self.connections.get() {
            self.connections_open.set(i64::try_from(c.open()).unwrap_or(i64::MAX));
            // Counters only go up: bring them to the registry's totals.
            for (reason, total) in [("evicted", c.evicted()), ("timed_out", c.timed_out())] {
                let counter = self.connections_closed.with_label_values(&[reason]);
                counter.inc_by(total.saturating_sub(counter.get()));
            }
        }
        let mut buf = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut buf).expect("text encoding cannot fail");
        String::from_utf8(buf).unwrap_or_default()
    }
}

pub async fn middleware(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route =
        req.extensions().get::<MatchedPath>().map(|m| m.as_str().to_owned()).unwrap_or_else(|| "unmatched".into());
    let method = req.method().as_str().to_owned();
    let start = Instant::now();
    let response = next.run(req).await;
    state.metrics.latency.with_label_values(&[&method, &route]).observe(start.elapsed().as_secs_f64());
    state.metrics.requests.with_label_values(&[&method, &route, response.status().as_str()]).inc();
    response
}
