//! Sign-in pages and session endpoints that do not depend on an identity provider.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Extension;
use gatehouse_app::sessions::ClientInfo;
use gatehouse_domain::principal::{DirectoryRole, Principal};
use gatehouse_domain::session::{AuthMethod, Session};
use serde::Deserialize;
use uuid::Uuid;

use super::cookie::{self, SESSION_COOKIE};
use crate::client_addr::ClientAddr;
use crate::error::{ApiError, ApiResult};
use crate::extract::Caller;
use crate::state::AppState;
use crate::throttle::{retry_after, Credential};

#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage<'a> {
    pub title: &'a str,
    pub message: &'a str,
    pub error: bool,
    pub link: Option<(&'a str, &'a str)>,
}

#[derive(Template)]
#[template(path = "signed_in.html")]
struct SignedInPage<'a> {
    display_name: &'a str,
    who: String,
    method: &'a str,
    issuer: Option<&'a str>,
    csrf: &'a str,
}

/// Render a page; a template error is a bug, answered like any other 500.
pub fn page(status: StatusCode, t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "generalException", "the page could not be rendered")
                .into_response()
        }
    }
}

pub fn message(status: StatusCode, title: &str, message: &str, link: Option<(&str, &str)>) -> Response {
    page(status, &MessagePage { title, message, error: status.is_client_error(), link })
}

/// What a new session records of its browser: its address (see `client_addr`) and user agent.
pub fn client_info(headers: &HeaderMap, client: Option<std::net::IpAddr>) -> ClientInfo {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    ClientInfo { ip: client.map(|ip| ip.to_string()), user_agent: header("user-agent") }
}

fn method_name(m: AuthMethod) -> &'static str {
    match m {
        AuthMethod::HostOidc => "your organization's account",
        AuthMethod::PartnerOidc => "your organization's own sign-in",
        AuthMethod::EmailPasscode => "a one-time passcode sent by email",
        AuthMethod::BootstrapLink => "the one-time administrator link",
    }
}

/// `/`: who you are signed in as, or where to sign in.
pub async fn home(
    State(s): State<AppState>,
    principal: Option<Extension<Principal>>,
    session: Option<Extension<Session>>,
) -> ApiResult<Response> {
    let (Some(Extension(p)), Some(Extension(session))) = (principal, session) else {
        return Ok((StatusCode::SEE_OTHER, [(LOCATION, "/signin")]).into_response());
    };
    let user = s.app.get_user(p.user_id).await?;
    let who = match user.connected_organization_id {
        Some(org) => {
            let org = s.app.get_connected_organization(org).await?;
            format!("Guest of {}.", org.display_name)
        }
        None if p.directory_roles.contains(&DirectoryRole::GlobalAdministrator) => {
            "Member of the host organization; global administrator.".to_owned()
        }
        // A guest from a domain no organization answers for (admitted under a policy for all
        // external users) belongs to no organization, not to the host.
        None if user.user_type == gatehouse_domain::enums::UserType::Guest => {
            "Guest, not part of any connected organization.".to_owned()
        }
        None => format!("{} of the host organization.", user.user_type),
    };
    Ok(page(
        StatusCode::OK,
        &SignedInPage {
            display_name: &user.display_name,
            who,
            method: method_name(session.auth_method),
            issuer: session.identity_issuer.as_deref(),
            csrf: &session.csrf_token,
        },
    ))
}

#[derive(Deserialize, schemars::JsonSchema)]
pub struct LinkQuery {
    code: Option<String>,
}

/// `/signin/link?code=…`: the first administrator's one-time link.
pub async fn bootstrap_link(
    State(s): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    Query(q): Query<LinkQuery>,
) -> Response {
    if let Err(wait) = s.throttle.check(client, Credential::SignInLink) {
        let mut r = message(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many attempts",
            "Too many sign-in links that do not work came from your address. Wait and try again.",
            None,
        );
        r.headers_mut().insert(axum::http::header::RETRY_AFTER, retry_after(wait).parse().expect("digits"));
        return r;
    }
    let code = q.code.unwrap_or_default();
    match s.app.redeem_bootstrap_link(&code, client_info(&headers, client)).await {
        Ok(signed) => cookie::signed_in(&s, &signed, "/"),
        Err(gatehouse_app::AppError::Unauthenticated(m)) => {
            s.throttle.failed(client, Credential::SignInLink);
            message(StatusCode::UNAUTHORIZED, "This link does not work", &m, Some(("/signin", "Sign in")))
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// `POST /signout`: end this session (the authorization layer checked its CSRF token).
pub async fn sign_out(
    State(s): State<AppState>,
    c: Caller,
    session: Option<Extension<Session>>,
) -> ApiResult<Response> {
    let Some(Extension(session)) = session else {
        return Err(ApiError::bad_request("sign-out ends a browser session; this call used a bearer token"));
    };
    s.app.end_session(&c.actor(), session.id).await?;
    let mut r = (StatusCode::SEE_OTHER, [(LOCATION, "/signin")]).into_response();
    r.headers_mut().append(SET_COOKIE, cookie::set(&s, SESSION_COOKIE, None, 0));
    Ok(r)
}

use crate::api::wire::{SessionOut, Values};

fn render_session(s: &Session, current: Option<Uuid>) -> SessionOut {
    SessionOut {
        id: s.id,
        auth_method: s.auth_method,
        identity_issuer: s.identity_issuer.clone(),
        created_date_time: s.created_date_time,
        last_seen_date_time: s.last_seen_date_time,
        expires_date_time: s.expires_date_time,
        ended_date_time: s.ended_date_time,
        client_ip: s.client_ip.clone(),
        user_agent: s.user_agent.clone(),
        current: Some(s.id) == current,
    }
}

/// `GET /gatehouse/sessions`: the caller's sessions, newest first.
pub async fn list_sessions(
    State(s): State<AppState>,
    c: Caller,
    session: Option<Extension<Session>>,
) -> ApiResult<Response> {
    let current = session.map(|Extension(s)| s.id);
    let list = s.app.list_sessions(c.0.user_id).await?;
    let value = list.iter().map(|x| render_session(x, current)).collect();
    Ok(axum::Json(Values { value }).into_response())
}

/// `DELETE /gatehouse/sessions/{id}`: end one of the caller's sessions (a directory
/// administrator may end anyone's).
pub async fn end_session(State(s): State<AppState>, c: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    let id = crate::extract::guid(&id, "session")?;
    let mine = s.app.get_session(id).await?.user_id == c.0.user_id;
    let admin = c.0.may(gatehouse_domain::principal::Permission::DirectoryWrite).is_ok();
    if !mine && !admin {
        // Someone else's session: as if it did not exist.
        return Err(ApiError::not_found(format!("session '{id}' was not found")));
    }
    s.app.end_session(&c.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
