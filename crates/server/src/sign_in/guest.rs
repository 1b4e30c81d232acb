//! Guests' way in: the sign-in page with its email field, home-realm discovery
//! (`POST /signin/email`, or a package link's `GET /signin?domain_hint=…`), and one-time
//! passcodes (`POST /signin/passcode`).
//!
//! These forms are posted before anyone is signed in, so the session's CSRF token cannot
//! protect them. Each carries instead the value of a pre-sign-in cookie (`SameSite=Lax`,
//! `HttpOnly`) set when the page was shown: another site can neither read it nor set it, so
//! it cannot make a browser ask for codes or type one in (login CSRF).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use gatehouse_app::guest_sign_in::GuestSignInError;
use gatehouse_domain::home_realm::HomeRealm;
use gatehouse_domain::passcode::{PasscodePolicy, PasscodeRefusal};
use serde::Deserialize;

use super::cookie::{self, safe_return_to};
use super::handlers::{client_info, message, page};
use crate::client_addr::ClientAddr;
use crate::error::ApiError;
use crate::state::AppState;

/// The pre-sign-in cookie whose value the anonymous forms must echo.
const FORM_COOKIE: &str = "gatehouse_presignin";
/// Binds a passcode challenge to the browser that asked for it.
const PASSCODE_COOKIE: &str = "gatehouse_passcode";
const FORM_COOKIE_SECONDS: i64 = 3600;

#[derive(Template)]
#[template(path = "signin.html")]
struct SignInPage<'a> {
    csrf: &'a str,
    return_to: &'a str,
    email: &'a str,
    error: Option<&'a str>,
    host: bool,
}

#[derive(Template)]
#[template(path = "passcode.html")]
struct PasscodePage<'a> {
    csrf: &'a str,
    email: Option<&'a str>,
    minutes: i64,
    error: Option<&'a str>,
}

fn policy() -> PasscodePolicy {
    PasscodePolicy::default()
}

/// The form token of this browser, and whether it is new (then it must be set).
fn form_token(headers: &HeaderMap) -> (String, bool) {
    match cookie::read(headers, FORM_COOKIE).filter(|t| t.len() >= 32 && t.len() <= 64) {
        Some(t) => (t, false),
        None => (gatehouse_app::auth::random_secret(), true),
    }
}

fn with_form_cookie(s: &AppState, mut r: Response, token: &str, new: bool) -> Response {
    if new {
        r.headers_mut().append(SET_COOKIE, cookie::set(s, FORM_COOKIE, Some(token), FORM_COOKIE_SECONDS));
    }
    r
}

fn sign_in_form(
    s: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    email: &str,
    return_to: &str,
    error: Option<&str>,
) -> Response {
    let (token, new) = form_token(headers);
    let view = SignInPage { csrf: &token, return_to, email, error, host: s.config.host_oidc.is_some() };
    with_form_cookie(s, page(status, &view), &token, new)
}

/// The echoed form token matches this browser's cookie.
fn form_token_ok(headers: &HeaderMap, sent: &str) -> bool {
    cookie::read(headers, FORM_COOKIE).is_some_and(|c| !sent.is_empty() && cookie::same_secret(&c, sent))
}

fn expired_form() -> Response {
    message(
        StatusCode::FORBIDDEN,
        "Please start again",
        "This sign-in form has expired or was not sent by this site.",
        Some(("/signin", "Back to sign-in")),
    )
}

#[derive(Deserialize, schemars::JsonSchema)]
pub struct SignInQuery {
    domain_hint: Option<String>,
    return_to: Option<String>,
}

/// `GET /signin`: the email field (and the host's provider for members). With a package
/// link's `domain_hint`, an organization with its own provider goes straight there.
pub async fn sign_in_page(State(s): State<AppState>, headers: HeaderMap, Query(q): Query<SignInQuery>) -> Response {
    let return_to = safe_return_to(q.return_to.as_deref());
    if let Some(hint) = q.domain_hint.as_deref().filter(|h| !h.is_empty()) {
        match s.app.discover_home_realm(hint).await {
            Ok(HomeRealm::PartnerOidc { organization, issuer }) => {
                return super::provider::partner(&s, &headers, organization, &issuer, Some(&return_to)).await
            }
            Ok(HomeRealm::Refused(why)) => return refused_realm(&why.to_string()),
            // Passcode realms need the whole address; a bad hint is just ignored.
            Ok(HomeRealm::Passcode { .. }) | Err(_) => {}
        }
    }
    sign_in_form(&s, &headers, StatusCode::OK, "", &return_to, None)
}

fn refused_realm(why: &str) -> Response {
    message(StatusCode::FORBIDDEN, "You cannot sign in here", why, Some(("/signin", "Use another address")))
}

#[derive(Deserialize, schemars::JsonSchema)]
pub struct EmailForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    csrf: String,
    return_to: Option<String>,
}

/// `POST /signin/email`: the domain of the address decides how the person signs in.
pub async fn email(
    State(s): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    Form(f): Form<EmailForm>,
) -> Response {
    if !form_token_ok(&headers, &f.csrf) {
        return expired_form();
    }
    let return_to = safe_return_to(f.return_to.as_deref());
    let bad_address = |why: &str| sign_in_form(&s, &headers, StatusCode::BAD_REQUEST, &f.email, &return_to, Some(why));
    let Ok(address) = gatehouse_domain::directory::normalize_email(&f.email) else {
        return bad_address("That is not an email address.");
    };
    let domain = gatehouse_domain::directory::email_domain(&address).unwrap_or_default().to_owned();
    let realm = match s.app.discover_home_realm(&domain).await {
        Ok(r) => r,
        Err(gatehouse_app::AppError::Validation(_)) => return bad_address("That is not an email address."),
        Err(e) => return ApiError::from(e).into_response(),
    };
    match realm {
        HomeRealm::PartnerOidc { organization, issuer } => {
            super::provider::partner(&s, &headers, organization, &issuer, Some(&return_to)).await
        }
        HomeRealm::Refused(why) => refused_realm(&why.to_string()),
        HomeRealm::Passcode { .. } => {
            match s.app.send_passcode(&address, Some(return_to), client.map(|ip| ip.to_string()), &policy()).await {
                Ok(sent) => {
                    let view = PasscodePage {
                        csrf: &f.csrf,
                        email: Some(&sent.email),
                        minutes: policy().validity.num_minutes(),
                        error: None,
                    };
                    let mut r = page(StatusCode::OK, &view);
                    let age = policy().validity.num_seconds();
                    r.headers_mut()
                        .append(SET_COOKIE, cookie::set(&s, PASSCODE_COOKIE, Some(&sent.browser_secret), age));
                    r
                }
                Err(e) => guest_refusal(e),
            }
        }
    }
}

/// A refusal on the way to a passcode, as a page.
fn guest_refusal(e: GuestSignInError) -> Response {
    let status = match &e {
        GuestSignInError::Passcode(PasscodeRefusal::TooManyForAddress | PasscodeRefusal::TooManyFromClient) => {
            StatusCode::TOO_MANY_REQUESTS
        }
        GuestSignInError::Passcode(_) | GuestSignInError::NoChallenge => StatusCode::UNAUTHORIZED,
        GuestSignInError::Realm(_) | GuestSignInError::NotByPasscode | GuestSignInError::Account(_) => {
            StatusCode::FORBIDDEN
        }
        GuestSignInError::App(gatehouse_app::AppError::Validation(_)) => StatusCode::BAD_REQUEST,
        GuestSignInError::App(_) => {
            let GuestSignInError::App(e) = e else { unreachable!() };
            return ApiError::from(e).into_response();
        }
    };
    tracing::info!(reason = %e, "guest sign-in refused");
    message(status, "You are not signed in", &e.to_string(), Some(("/signin", "Start again")))
}

#[derive(Deserialize, schemars::JsonSchema)]
pub struct PasscodeForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    csrf: String,
}

/// `POST /signin/passcode`: the code from the mail, typed in the browser that asked for it.
pub async fn passcode(
    State(s): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    Form(f): Form<PasscodeForm>,
) -> Response {
    if !form_token_ok(&headers, &f.csrf) {
        return expired_form();
    }
    let secret = cookie::read(&headers, PASSCODE_COOKIE).unwrap_or_default();
    match s.app.redeem_passcode(&secret, &f.code, client_info(&headers, client), &policy()).await {
        Ok((signed, return_to)) => {
            let mut r = cookie::signed_in(&s, &signed, &safe_return_to(return_to.as_deref()));
            r.headers_mut().append(SET_COOKIE, cookie::set(&s, PASSCODE_COOKIE, None, 0));
            r
        }
        Err(GuestSignInError::Passcode(wrong @ PasscodeRefusal::Wrong { .. })) => {
            let error = wrong.to_string();
            let view = PasscodePage {
                csrf: &f.csrf,
                email: None,
                minutes: policy().validity.num_minutes(),
                error: Some(&error),
            };
            page(StatusCode::UNAUTHORIZED, &view)
        }
        Err(e) => guest_refusal(e),
    }
}
