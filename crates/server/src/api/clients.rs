//! API clients: the OAuth 2.0 token endpoint (client credentials) and the registration of
//! service principals by global administrators.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::header::{AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, PRAGMA, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use gatehouse_app::clients::TokenError;
use gatehouse_domain::principal::TokenScope;
use gatehouse_store::clients::ServicePrincipal;
use serde::Deserialize;

use crate::api::wire::{self, TokenErrorCode};
use crate::client_addr::ClientAddr;
use crate::error::{ApiError, ApiResult};
use crate::extract::{guid, Body, Caller};
use crate::state::AppState;
use crate::throttle::{retry_after, Credential};

/// The form `POST /oauth2/token` reads (RFC 6749 §4.4.2, client authentication as in §2.3.1).
/// Parsed field by field in [`token`], to tell a missing field from a repeated one; this struct
/// describes it for the OpenAPI document.
#[derive(Deserialize, schemars::JsonSchema)]
pub struct TokenForm {
    pub grant_type: TokenGrantType,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    /// Space-separated; at most the client's own scopes.
    pub scope: Option<String>,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenGrantType {
    ClientCredentials,
}

fn token_error(e: TokenError) -> Response {
    let (status, code, description) = match &e {
        TokenError::InvalidRequest(m) => (StatusCode::BAD_REQUEST, TokenErrorCode::InvalidRequest, m.clone()),
        TokenError::InvalidClient => (StatusCode::UNAUTHORIZED, TokenErrorCode::InvalidClient, e.to_string()),
        TokenError::UnsupportedGrantType => {
            (StatusCode::BAD_REQUEST, TokenErrorCode::UnsupportedGrantType, e.to_string())
        }
        TokenError::InvalidScope(m) => (StatusCode::BAD_REQUEST, TokenErrorCode::InvalidScope, m.clone()),
    };
    let body = wire::TokenError { error: code, error_description: Some(description) };
    let mut r = (status, axum::Json(body)).into_response();
    r.headers_mut().insert(CACHE_CONTROL, "no-store".parse().expect("header"));
    if status == StatusCode::UNAUTHORIZED {
        r.headers_mut().insert(WWW_AUTHENTICATE, "Basic realm=\"gatehouse\"".parse().expect("header"));
    }
    r
}

/// `client_secret_basic`: both parts are form-encoded before Base64 (RFC 6749 §2.3.1).
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let unescape =
        |s: &str| url::form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned());
    Some((unescape(id)?, unescape(secret)?))
}

/// `POST /oauth2/token`: `grant_type=client_credentials`, the client authenticated by HTTP Basic
/// or by `client_id` and `client_secret` in the form (not both), an optional `scope`.
pub async fn token(
    State(s): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if let Err(wait) = s.throttle.check(client, Credential::ClientSecret) {
        // RFC 6749 has no code for this; temporarily_unavailable is its nearest (§4.1.2.1).
        let mut r = (
            StatusCode::TOO_MANY_REQUESTS,
            axum::Json(wire::TokenError {
                error: TokenErrorCode::TemporarilyUnavailable,
                error_description: Some(
                    "too many failed client authentications from your address; wait and try again".into(),
                ),
            }),
        )
            .into_response();
        r.headers_mut().insert(RETRY_AFTER, retry_after(wait).parse().expect("digits"));
        r.headers_mut().insert(CACHE_CONTROL, "no-store".parse().expect("header"));
        return r;
    }
    // Every answer of this endpoint is in RFC 6749's shape, an oversize body's too.
    let body = match body {
        Ok(b) => b,
        Err(e) => {
            let mut r = token_error(TokenError::InvalidRequest(if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                "the request body is too large".into()
            } else {
                "could not read the request body".into()
            }));
            *r.status_mut() = e.status();
            return r;
        }
    };
    let form = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form {
        return token_error(TokenError::InvalidRequest("send the request as application/x-www-form-urlencoded".into()));
    }
    let mut fields = std::collections::HashMap::new();
    for (k, v) in url::form_urlencoded::parse(&body) {
        // A repeated parameter is ambiguous (RFC 6749 §3.2).
        if fields.insert(k.into_owned(), v.into_owned()).is_some() {
            return token_error(TokenError::InvalidRequest("a parameter appears twice".into()));
        }
    }
    match fields.get("grant_type").map(String::as_str) {
        Some("client_credentials") => {}
        Some(_) => return token_error(TokenError::UnsupportedGrantType),
        None => return token_error(TokenError::InvalidRequest("grant_type is required".into())),
    }
    let in_form = match (fields.get("client_id"), fields.get("client_secret")) {
        (Some(id), Some(secret)) => Some((id.clone(), secret.clone())),
        _ => None,
    };
    let (client_id, secret) = match (basic_credentials(&headers), in_form) {
        (Some(c), None) | (None, Some(c)) => c,
        (Some(_), Some(_)) => {
            return token_error(TokenError::InvalidRequest("authenticate the client one way, not two".into()))
        }
        (None, None) => return token_error(TokenError::InvalidClient),
    };
    match s.app.issue_client_token(&client_id, &secret, fields.get("scope").map(String::as_str)).await {
        Ok(t) => {
            let body = wire::TokenResponse {
                access_token: t.access_token,
                token_type: "Bearer".into(),
                expires_in: t.expires_in,
                scope: t.scope,
            };
            let mut r = (StatusCode::OK, axum::Json(body)).into_response();
            r.headers_mut().insert(CACHE_CONTROL, "no-store".parse().expect("header"));
            r.headers_mut().insert(PRAGMA, "no-cache".parse().expect("header"));
            r
        }
        Err(e) => {
            if matches!(e, TokenError::InvalidClient) {
                s.throttle.failed(client, Credential::ClientSecret);
            }
            token_error(e)
        }
    }
}

fn render(sp: &ServicePrincipal, secret_text: Option<String>) -> wire::ServicePrincipal {
    wire::ServicePrincipal {
        id: sp.id,
        app_id: sp.client_id.clone(),
        display_name: sp.display_name.clone(),
        scopes: sp.scopes.split_whitespace().map(str::to_owned).collect(),
        account_enabled: sp.enabled,
        created_date_time: sp.created_date_time,
        secret_text,
    }
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewClient {
    display_name: String,
    #[serde(default)]
    scopes: Vec<String>,
}

/// `POST /gatehouse/servicePrincipals`: the secret is in this answer and nowhere else, ever.
pub async fn create(State(s): State<AppState>, c: Caller, Body(input): Body<NewClient>) -> ApiResult<Response> {
    let scopes = input
        .scopes
        .iter()
        .map(|x| {
            TokenScope::parse(x).ok_or_else(|| {
                ApiError::bad_request(format!("unknown scope '{x}'; expected {}", TokenScope::expected()))
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    let (sp, secret) = s.app.create_client(&c.actor(), &input.display_name, &scopes).await?;
    let mut r = (StatusCode::CREATED, axum::Json(render(&sp, Some(secret)))).into_response();
    r.headers_mut().insert(CACHE_CONTROL, "no-store".parse().expect("header"));
    Ok(r)
}

pub async fn list(State(s): State<AppState>, _c: Caller) -> ApiResult<Response> {
    let value = s.app.list_clients().await?.iter().map(|sp| render(sp, None)).collect();
    Ok(axum::Json(wire::Values { value }).into_response())
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClientPatch {
    account_enabled: bool,
}

/// `PATCH /gatehouse/servicePrincipals/{id}` with `accountEnabled`.
pub async fn update(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    Body(patch): Body<ClientPatch>,
) -> ApiResult<Response> {
    let id = guid(&id, "servicePrincipal")?;
    s.app.set_client_enabled(&c.actor(), id, patch.account_enabled).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
