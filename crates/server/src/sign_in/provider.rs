//! Sign-in through an OpenID Connect provider: `/signin/host` sends the browser to the host's
//! provider (members), home-realm discovery to a partner's own provider (its guests), and
//! `/signin/callback` takes it back. The pending sign-in (state, nonce, PKCE
//! verifier) is kept server-side and bound to the browser by a short-lived cookie, so a code
//! injected into someone else's browser (login CSRF) or a replayed `state` finds nothing.

use axum::extract::{Query, State};
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Duration;
use gatehouse_store::sessions::SignInFlow;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::cookie::{self, safe_return_to};
use super::handlers::{client_info, message};
use super::oidc::ProviderConfig;
use crate::client_addr::ClientAddr;
use crate::error::ApiError;
use crate::state::AppState;

/// Binds a pending sign-in to the browser that started it.
const FLOW_COOKIE: &str = "gatehouse_signin";
/// How long a person may take at their provider.
const FLOW_MINUTES: i64 = 10;

fn sha256(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// Where providers send the browser back; it must be registered with each provider.
pub fn callback_url(state: &AppState, headers: &HeaderMap) -> String {
    let base = match &state.config.public_url {
        Some(u) => u.trim_end_matches('/').to_owned(),
        None => {
            let host = headers
                .get(axum::http::header::HOST)
                .and_then(|h| h.to_str().ok())
                .filter(|h| h.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b)))
                .unwrap_or("localhost");
            format!("http://{host}")
        }
    };
    format!("{base}/signin/callback")
}

fn unavailable(e: impl std::fmt::Display) -> Response {
    tracing::warn!(error = %e, "sign-in at the identity provider failed");
    message(
        StatusCode::BAD_GATEWAY,
        "Sign-in is unavailable",
        "Your organization's sign-in service could not be reached. Try again in a moment.",
        Some(("/signin", "Back to sign-in")),
    )
}

#[derive(Deserialize, schemars::JsonSchema)]
pub struct StartQuery {
    return_to: Option<String>,
}

/// Send the browser to `provider`, remembering the sign-in.
async fn start(
    s: &AppState,
    headers: &HeaderMap,
    provider: &ProviderConfig,
    organization: Option<uuid::Uuid>,
    return_to: Option<&str>,
) -> Response {
    let redirect = callback_url(s, headers);
    let started = match s.relying_party.start(provider, &redirect).await {
        Ok(st) => st,
        Err(e) => return unavailable(e),
    };
    let browser = gatehouse_app::auth::random_secret();
    let now = s.app.clock.now();
    let flow = SignInFlow {
        state_hash: sha256(&started.state),
        browser_hash: sha256(&browser),
        issuer: provider.issuer.clone(),
        organization_id: organization,
        nonce: started.nonce,
        pkce_verifier: started.pkce_verifier,
        return_to: Some(safe_return_to(return_to)),
        created_date_time: now,
        expires_date_time: now + Duration::minutes(FLOW_MINUTES),
    };
    if let Err(e) = s.app.remember_sign_in(&flow).await {
        return ApiError::from(e).into_response();
    }
    let mut r = (StatusCode::SEE_OTHER, [(LOCATION, started.url)]).into_response();
    r.headers_mut().append(SET_COOKIE, cookie::set(s, FLOW_COOKIE, Some(&browser), FLOW_MINUTES * 60));
    r
}

/// `/signin/host`: members sign in at the host's provider.
pub async fn host(State(s): State<AppState>, headers: HeaderMap, Query(q): Query<StartQuery>) -> Response {
    let Some(provider) = s.config.host_oidc.clone() else {
        return message(
            StatusCode::NOT_FOUND,
            "No organization sign-in here",
            "This installation has no identity provider for members configured.",
            Some(("/signin", "Back to sign-in")),
        );
    };
    start(&s, &headers, &provider, None, q.return_to.as_deref()).await
}

#[derive(Deserialize, schemars::JsonSchema)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `/signin/callback`: the provider sends the browser back with a code.
pub async fn callback(
    State(s): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> Response {
    let refused = |why: &str| {
        tracing::info!(reason = why, "sign-in callback refused");
        message(StatusCode::UNAUTHORIZED, "Sign-in did not complete", why, Some(("/signin", "Start again")))
    };
    if let Some(error) = q.error {
        // The provider's own error code only (its description is free text from outside).
        let error: String = error.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').take(64).collect();
        return refused(&format!("Your organization's sign-in answered: {error}."));
    }
    let (Some(code), Some(state)) = (q.code, q.state) else {
        return refused("The sign-in answer is incomplete.");
    };
    let flow = match s.app.take_sign_in(&sha256(&state)).await {
        Ok(Some(f)) => f,
        Ok(None) => return refused("This sign-in is unknown or was already used."),
        Err(e) => return ApiError::from(e).into_response(),
    };
    let browser = cookie::read(&headers, FLOW_COOKIE).map(|b| sha256(&b));
    if !browser.is_some_and(|b| cookie::same_secret(&b, &flow.browser_hash)) {
        return refused("This sign-in was started in another browser.");
    }
    let now = s.app.clock.now();
    if flow.expires_date_time <= now {
        return refused("This sign-in took too long.");
    }
    let provider = match flow.organization_id {
        None => match s.config.host_oidc.clone() {
            Some(p) if p.issuer == flow.issuer => p,
            _ => return refused("The identity provider of this sign-in is no longer configured."),
        },
        // The flow remembers which organization's provider it went to: the answer is checked
        // against that provider's registration only.
        Some(org) => match s.app.partner_client(org, &flow.issuer).await {
            Ok(Some(c)) => ProviderConfig { issuer: c.issuer, client_id: c.client_id, client_secret: c.client_secret },
            Ok(None) => return refused("The identity provider of this sign-in is no longer configured."),
            Err(e) => return ApiError::from(e).into_response(),
        },
    };
    let redirect = callback_url(&s, &headers);
    let person = match s.relying_party.finish(&provider, &redirect, &code, &flow.pkce_verifier, &flow.nonce, now).await
    {
        Ok(p) => p,
        Err(super::oidc::OidcError::Discovery { issuer, reason }) => return unavailable(format!("{issuer}: {reason}")),
        Err(e) => return refused(&e.to_string()),
    };
    let signed = match flow.organization_id {
        None => s.app.sign_in_member(&person, client_info(&headers, client)).await,
        Some(org) => s.app.sign_in_partner(org, &person, client_info(&headers, client)).await,
    };
    let signed = match signed {
        Ok(signed) => signed,
        Err(gatehouse_app::AppError::Unauthenticated(m))
        | Err(gatehouse_app::AppError::Conflict(m))
        | Err(gatehouse_app::AppError::Forbidden(m)) => return refused(&m),
        Err(e) => return ApiError::from(e).into_response(),
    };
    let mut r = cookie::signed_in(&s, &signed, flow.return_to.as_deref().unwrap_or("/"));
    r.headers_mut().append(SET_COOKIE, cookie::set(&s, FLOW_COOKIE, None, 0));
    r
}

/// Partners whose organization has its own provider sign in there (after home-realm discovery).
pub async fn partner(
    s: &AppState,
    headers: &HeaderMap,
    organization: uuid::Uuid,
    issuer: &str,
    return_to: Option<&str>,
) -> Response {
    match s.app.partner_client(organization, issuer).await {
        Ok(Some(c)) => {
            let provider = ProviderConfig { issuer: c.issuer, client_id: c.client_id, client_secret: c.client_secret };
            start(s, headers, &provider, Some(organization), return_to).await
        }
        Ok(None) => message(
            StatusCode::FORBIDDEN,
            "Your organization's sign-in is not set up yet",
            "Ask your contact at the host organization to finish connecting your organization.",
            Some(("/signin", "Back to sign-in")),
        ),
        Err(e) => ApiError::from(e).into_response(),
    }
}
