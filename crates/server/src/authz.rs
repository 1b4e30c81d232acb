//! The one place that decides whether a call may proceed: it looks up the matched route's
//! permission in the route table, authenticates the caller (a bearer token, or a session
//! cookie with its CSRF token on state-changing calls), and asks the principal.
//! Deny by default: a route missing from the table needs an authenticated caller at least.

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use gatehouse_domain::principal::{Permission, Principal};
use gatehouse_domain::session::Session;

use crate::error::ApiError;
use crate::sign_in::cookie::{self, CSRF_HEADER, SESSION_COOKIE};
use crate::state::AppState;
use crate::throttle::{retry_after, Credential};

fn unauthenticated(message: &str) -> Response {
    let mut r = ApiError::unauthenticated(message).into_response();
    r.headers_mut().insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"gatehouse\""));
    r
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        // The scheme name is case-insensitive (RFC 9110 §11.1).
        .and_then(|v| v.split_once(' ').filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer")))
        .map(|(_, token)| token.trim().to_owned())
}

fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// A cookie-authenticated call that changes state must prove it comes from our own pages:
/// the `X-CSRF-Token` header, or the `csrf` field of a form. Returns the request, rebuilt when
/// its body had to be read.
async fn check_csrf(state: &AppState, req: Request, session: &Session) -> Result<Request, ApiError> {
    let refuse = |m: &str| ApiError::forbidden(m);
    if let Some(sent) = req.headers().get(CSRF_HEADER) {
        return match sent.to_str() {
            Ok(sent) if cookie::same_secret(sent, &session.csrf_token) => Ok(req),
            _ => Err(refuse("the CSRF token does not match this session")),
        };
    }
    let form = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form {
        return Err(refuse("a signed-in browser must send the X-CSRF-Token header with this call"));
    }
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, state.config.max_body_bytes)
        .await
        .map_err(|_| ApiError::bad_request("could not read the form"))?;
    let sent = url::form_urlencoded::parse(&bytes).find(|(k, _)| k == "csrf").map(|(_, v)| v.into_owned());
    match sent {
        Some(sent) if cookie::same_secret(&sent, &session.csrf_token) => {
            Ok(Request::from_parts(parts, Body::from(bytes)))
        }
        Some(_) => Err(refuse("the CSRF token does not match this session")),
        None => Err(refuse("the form is missing its CSRF token; reload the page and try again")),
    }
}

/// How a refusal reaches the caller: Graph JSON for the API, a page (or the way to sign-in)
/// for the pages.
#[derive(Clone, Copy)]
enum Answer {
    Api,
    Page,
}

impl Answer {
    fn unauthenticated(self, req: &Request, message: &str) -> Response {
        match self {
            Answer::Api => unauthenticated(message),
            Answer::Page => {
                let here = req.uri().path_and_query().map_or_else(|| req.uri().path().to_owned(), |pq| pq.to_string());
                crate::pages::sign_in_redirect(&here)
            }
        }
    }

    fn refused(self, status: StatusCode, title: &'static str, message: &str) -> Response {
        match self {
            Answer::Api if status == StatusCode::FORBIDDEN => ApiError::forbidden(message).into_response(),
            Answer::Api => ApiError::new(status, "invalidRequest", message).into_response(),
            Answer::Page => {
                crate::pages::PageError::Message { status, title, message: crate::pages::sentence(message) }
                    .into_response()
            }
        }
    }
}

/// 429 with `Retry-After`, as JSON or as a page.
fn too_many(answer: Answer, wait: std::time::Duration) -> Response {
    let message = "too many failed sign-in attempts from your address; wait and try again";
    let mut r = match answer {
        Answer::Api => ApiError::new(StatusCode::TOO_MANY_REQUESTS, "tooManyRequests", message).into_response(),
        Answer::Page => answer.refused(StatusCode::TOO_MANY_REQUESTS, "Too many attempts", message),
    };
    r.headers_mut().insert(RETRY_AFTER, HeaderValue::from_str(&retry_after(wait)).expect("digits"));
    r
}

pub async fn middleware(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let path = req.extensions().get::<MatchedPath>().map(|m| m.as_str().to_owned()).unwrap_or_default();
    let (permission, page) = state.routes.lookup(req.method(), &path).unwrap_or((Permission::Authenticated, false));
    let answer = if page { Answer::Page } else { Answer::Api };
    let token = bearer(req.headers());
    let session_secret = cookie::read(req.headers(), SESSION_COOKIE);
    if permission == Permission::Anonymous {
        // Open pages still greet a signed-in person; a bad cookie there is simply ignored.
        if let (None, Some(secret)) = (&token, &session_secret) {
            if let Ok((principal, session)) = state.app.session_principal(secret).await {
                req.extensions_mut().insert(principal);
                req.extensions_mut().insert(session);
            }
        }
        return next.run(req).await;
    }
    let client = crate::client_addr::resolve(
        crate::client_addr::peer(req.extensions()),
        req.headers(),
        &state.config.trusted_proxies,
    );
    if token.is_some() {
        if let Err(wait) = state.throttle.check(client, Credential::BearerToken) {
            return too_many(answer, wait);
        }
    }
    let authenticated = match (token.as_deref(), session_secret) {
        (Some(token), _) => {
            let found = state.app.authenticate(token).await.map(|p| (p, None));
            if matches!(found, Err(gatehouse_app::AppError::Unauthenticated(_))) {
                state.throttle.failed(client, Credential::BearerToken);
            }
            found
        }
        (None, Some(secret)) => state.app.session_principal(&secret).await.map(|(p, s)| (p, Some(s))),
        (None, None) => {
            return answer.unauthenticated(&req, "sign in, or send a bearer token (Authorization: Bearer <token>)");
        }
    };
    let (principal, session): (Principal, Option<Session>) = match authenticated {
        Ok(found) => found,
        Err(gatehouse_app::AppError::Unauthenticated(m)) => return answer.unauthenticated(&req, &m),
        Err(e) => return ApiError::from(e).into_response(),
    };
    if let Some(session) = &session {
        if changes_state(req.method()) {
            req = match check_csrf(&state, req, session).await {
                Ok(req) => req,
                Err(refusal) => {
                    tracing::info!(user = %principal.user_id, route = %path, "refused: CSRF check failed");
                    return answer.refused(refusal.status, "This form has expired", &refusal.message);
                }
            };
        }
    }
    if let Err(denied) = principal.may(permission) {
        tracing::info!(user = %principal.user_id, route = %path, "forbidden: {}", denied.0);
        return answer.refused(StatusCode::FORBIDDEN, "Not allowed", &denied.0);
    }
    req.extensions_mut().insert(principal);
    if let Some(session) = session {
        req.extensions_mut().insert(session);
    }
    next.run(req).await
}
