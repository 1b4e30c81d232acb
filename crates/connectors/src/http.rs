//! The HTTP client every HTTP connector shares, and how its failures are classified.

use std::time::Duration;

use crate::error::{TargetError, TargetErrorKind};

/// A client for calls to targets: short connect timeout, bounded calls, and no redirects (a
/// redirect would carry a credential or a person's data somewhere nobody configured; it is
/// reported instead, with where it pointed).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(20))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("Gatehouse/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("the HTTP client builds with rustls")
}

/// Classify a failed send (no HTTP answer).
pub(crate) fn send_error(what: &str, e: &reqwest::Error) -> TargetError {
    // reqwest's Display of a connect error is terse ("error sending request"); the bottom of its
    // source chain says why (refused, DNS, TLS).
    let mut why = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        why = s.to_string();
        source = s.source();
    }
    let why = strip_url(&why);
    if e.is_connect() {
        TargetError::new(TargetErrorKind::Unreachable, format!("{what} cannot be reached: {why}"))
    } else if e.is_timeout() {
        TargetError::new(TargetErrorKind::Transient, format!("{what} did not answer in time"))
    } else {
        TargetError::new(TargetErrorKind::Transient, format!("{what} failed: {why}"))
    }
}

/// reqwest puts the URL in its messages; ours name the target already, and a URL could carry
/// something private in its query.
fn strip_url(s: &str) -> String {
    match (s.find(" for url ("), s.find(')')) {
        (Some(i), Some(j)) if j > i => format!("{}{}", &s[..i], &s[j + 1..]),
        _ => s.to_owned(),
    }
}

/// Classify an HTTP status that is not a success.
pub(crate) fn status_kind(status: reqwest::StatusCode) -> TargetErrorKind {
    match status.as_u16() {
        401 | 403 => TargetErrorKind::Unauthorized,
        408 | 425 | 429 => TargetErrorKind::Transient,
        500..=599 => TargetErrorKind::Transient,
        _ => TargetErrorKind::Permanent,
    }
}

/// At most `max` characters of a body, on one line, for messages.
pub(crate) fn excerpt(body: &str, max: usize) -> String {
    let one_line: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > max {
        format!("{}…", one_line.chars().take(max).collect::<String>())
    } else {
        one_line
    }
}
