//! Server-rendered pages (askama templates, htmx as an improvement only): My Access, and the
//! admin portal as it grows. Handlers read the caller from [`Viewer`], call one `App` service,
//! and render; they never see SQL. Every form is a real `<form method=post>` carrying the
//! session's CSRF token, so the pages work without JavaScript; with htmx, the handlers that
//! support it answer a fragment when `HX-Request` is set (responses say `Vary: HX-Request`).

pub mod admin;
pub mod assets;
pub mod forms;
pub mod headers;
pub mod locale;
pub mod my_access;
pub mod when;
pub mod wording;

use askama::Template;
use axum::extract::FromRequestParts;
use axum::http::header::{LOCATION, VARY};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use gatehouse_app::{Actor, AppError};
use gatehouse_domain::principal::Principal;
use gatehouse_domain::session::Session;

use crate::request_id::RequestIds;

/// Who is looking at a page, and how they asked for it.
#[derive(Clone)]
pub struct Viewer {
    pub principal: Principal,
    /// The session's CSRF token; empty for a bearer-token caller (who needs none).
    pub csrf: String,
    pub request_id: Option<String>,
    /// The request came from htmx: answer the fragment, not the page.
    pub htmx: bool,
    /// The browser's preferred languages, best first.
    pub languages: Vec<String>,
    /// Path and query of this request, to come back to after sign-in.
    pub here: String,
}

impl Viewer {
    pub fn actor(&self) -> Actor {
        Actor::user(self.principal.clone(), self.request_id.clone())
    }

    /// The page chrome for `section` of the navigation.
    pub fn chrome(&self, section: &'static str, host: Option<&str>) -> Chrome {
        Chrome {
            user_name: self.principal.display_name.clone(),
            csrf: self.csrf.clone(),
            host: host.unwrap_or("Gatehouse").to_owned(),
            section,
            css: assets::url("gatehouse.css"),
            scripts: assets::scripts(),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Viewer {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, PageError> {
        let here = parts.uri.path_and_query().map_or_else(|| parts.uri.path().to_owned(), |pq| pq.as_str().to_owned());
        // The authorization layer put the principal in place; without it, sign in first.
        let principal = parts.extensions.get::<Principal>().cloned().ok_or_else(|| PageError::SignIn(here.clone()))?;
        let csrf = parts.extensions.get::<Session>().map(|s| s.csrf_token.clone()).unwrap_or_default();
        let htmx = parts.headers.get("hx-request").is_some_and(|v| v == "true");
        let languages = locale::preferred(&parts.headers);
        let request_id = parts.extensions.get::<RequestIds>().map(|r| r.request_id.clone());
        Ok(Viewer { principal, csrf, request_id, htmx, languages, here })
    }
}

/// What every signed-in page shows around its content.
pub struct Chrome {
    pub user_name: String,
    pub csrf: String,
    /// The host organization's name.
    pub host: String,
    /// The current navigation section, for `aria-current`.
    pub section: &'static str,
    pub css: String,
    /// (src, integrity) of each script, in load order.
    pub scripts: Vec<(String, &'static str)>,
}

/// A page that cannot be shown: sign in first, or a message page with its status.
#[derive(Debug)]
pub enum PageError {
    /// Not signed in: to sign-in, and back to this path afterwards.
    SignIn(String),
    Message {
        status: StatusCode,
        title: &'static str,
        message: String,
    },
}

impl PageError {
    pub fn not_found(message: impl Into<String>) -> Self {
        PageError::Message { status: StatusCode::NOT_FOUND, title: "Not found", message: message.into() }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        PageError::Message { status: StatusCode::BAD_REQUEST, title: "That did not work", message: message.into() }
    }
}

impl From<AppError> for PageError {
    fn from(e: AppError) -> Self {
        let (status, title) = match &e {
            AppError::Validation(_) | AppError::BadQuery(_) => (StatusCode::BAD_REQUEST, "That did not work"),
            AppError::NotFound(_) => (StatusCode::NOT_FOUND, "Not found"),
            AppError::Conflict(_) => (StatusCode::CONFLICT, "That cannot be done now"),
            AppError::Forbidden(_) => (StatusCode::FORBIDDEN, "Not allowed"),
            AppError::Unauthenticated(_) => return PageError::SignIn("/myaccess".into()),
            AppError::Store(inner) => {
                tracing::error!(error = %inner, "storage failure");
                let id = crate::request_id::current().request_id;
                return PageError::Message {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    title: "Something went wrong",
                    message: format!(
                        "Gatehouse could not complete this. Try again; if it keeps failing, report request id {id}."
                    ),
                };
            }
        };
        PageError::Message { status, title, message: sentence(&e.to_string()) }
    }
}

/// Service messages start in lower case (they are also API errors): a page shows sentences.
pub fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    let mut out: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    };
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::SignIn(here) => sign_in_redirect(&here),
            PageError::Message { status, title, message } => {
                crate::sign_in::handlers::message(status, title, &message, Some(("/myaccess", "Back to My Access")))
            }
        }
    }
}

/// 303 to the sign-in page, coming back to `here` (a local path) afterwards.
/// A package link's `?domain_hint=` is passed on, so that a partner with its own identity
/// provider goes straight there.
pub fn sign_in_redirect(here: &str) -> Response {
    let back = crate::sign_in::cookie::safe_return_to(Some(here));
    let enc = |v: &str| percent_encoding::utf8_percent_encode(v, QUERY_VALUE).to_string();
    let mut to = format!("/signin?return_to={}", enc(&back));
    let hint = back.split_once('?').and_then(|(_, q)| {
        url::form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "domain_hint").map(|(_, v)| v.into_owned())
    });
    if let Some(hint) = hint.filter(|h| !h.is_empty() && h.len() <= 253) {
        to.push_str(&format!("&domain_hint={}", enc(&hint)));
    }
    (StatusCode::SEE_OTHER, [(LOCATION, to)]).into_response()
}

/// Characters escaped in a query value.
pub const QUERY_VALUE: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~').remove(b'/');

pub type PageResult = Result<Response, PageError>;

/// Render a template; a template error is a bug, answered as a 500 page.
pub fn render(status: StatusCode, t: &impl Template) -> PageResult {
    match t.render() {
        Ok(html) => {
            let mut r = (status, Html(html)).into_response();
            r.headers_mut().insert(VARY, HeaderValue::from_static("HX-Request"));
            Ok(r)
        }
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            Err(PageError::Message {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                title: "Something went wrong",
                message: "This page could not be shown.".into(),
            })
        }
    }
}

/// After a successful form post: 303 to the page that shows the result (post/redirect/get).
pub fn see_other(to: &str) -> PageResult {
    Ok((StatusCode::SEE_OTHER, [(LOCATION, to.to_owned())]).into_response())
}

/// Form errors are shown next to their fields with this status; htmx is configured to swap it.
pub const INVALID: StatusCode = StatusCode::UNPROCESSABLE_ENTITY;

/// A GUID from the path, or the not-found page.
pub fn path_id(raw: &str, what: &str) -> Result<uuid::Uuid, PageError> {
    raw.parse().map_err(|_| PageError::not_found(format!("There is no {what} at this address.")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_in_comes_back_here_and_keeps_the_domain_hint() {
        let r = sign_in_redirect("/myaccess/packages/1?domain_hint=fabrikam.example");
        let to = r.headers()[LOCATION].to_str().unwrap();
        assert_eq!(
            to,
            "/signin?return_to=/myaccess/packages/1%3Fdomain_hint%3Dfabrikam.example&domain_hint=fabrikam.example"
        );
        let r = sign_in_redirect("https://evil.example/");
        assert_eq!(r.headers()[LOCATION], "/signin?return_to=/");
    }

    #[test]
    fn service_messages_become_sentences() {
        assert_eq!(sentence("a request is already open"), "A request is already open.");
        assert_eq!(sentence("Done!"), "Done!");
    }
}
