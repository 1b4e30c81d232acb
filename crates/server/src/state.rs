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
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig { public_url: None, max_body_bytes: 1024 * 1024, host_oidc: None }
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
}
