//! Shared state of the HTTP edge.

use std::sync::Arc;

use gatehouse_app::App;

use crate::metrics::Metrics;
use crate::routes::RouteIndex;

#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The externally visible base URL (`https://gatehouse.example.com`), used in links.
    /// When unset, links are built from the request's Host header.
    pub public_url: Option<String>,
    /// Largest accepted request body.
    pub max_body_bytes: usize,
    /// The host organization's OpenID Connect provider, where members sign in.
    pub host_oidc: Option<crate::sign_in::oidc::ProviderConfig>,
    /// Timeouts and the cap on open connections.
    pub connections: crate::connections::ConnectionLimits,
    /// Longest a request body may take to arrive.
    pub body_read_timeout: std::time::Duration,
    /// Longest a request may take from its head to its response (answered 408).
    pub request_timeout: std::time::Duration,
    /// Proxies whose `X-Forwarded-For` names the client; anyone else's is ignored.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// How many failed credentials an address may send before it is throttled.
    pub throttle: crate::throttle::ThrottleLimits,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            public_url: None,
            max_body_bytes: 1024 * 1024,
            host_oidc: None,
            connections: Default::default(),
            body_read_timeout: std::time::Duration::from_secs(30),
            request_timeout: std::time::Duration::from_secs(60),
            trusted_proxies: Vec::new(),
            throttle: Default::default(),
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub app: App,
    pub config: Arc<ServerConfig>,
    pub metrics: Arc<Metrics>,
    pub routes: Arc<RouteIndex>,
    pub openapi: Arc<String>,
    pub relying_party: Arc<crate::sign_in::oidc::RelyingParty>,
    pub throttle: Arc<crate::throttle::Throttle>,
}
