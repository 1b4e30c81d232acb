//! A scripted browser for page tests without Chromium: keeps one session cookie, never
//! follows redirects (tests look at them), sends forms, and reads the session's CSRF token
//! from the page like a browser would submit it.

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;
use reqwest::{Method, StatusCode};
use uuid::Uuid;

use crate::TestServer;

pub struct Web<'a> {
    s: &'a TestServer,
    client: reqwest::Client,
    /// `gatehouse_session=…`, once signed in.
    cookie: Option<String>,
    pub accept_language: Option<String>,
}

/// A page as received.
#[derive(Debug)]
pub struct Page {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub html: String,
}

impl Page {
    pub fn location(&self) -> Option<&str> {
        self.headers.get(LOCATION).and_then(|v| v.to_str().ok())
    }

    /// The first `csrf` hidden field's value.
    pub fn csrf(&self) -> String {
        let doc = value_after(&self.html, "name=\"csrf\" value=\"");
        doc.unwrap_or_default()
    }
}

/// The value after `marker` up to the next quote (enough for the hidden fields the pages write).
fn value_after(html: &str, marker: &str) -> Option<String> {
    let start = html.find(marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_owned())
}

impl<'a> Web<'a> {
    pub fn new(s: &'a TestServer) -> Self {
        Web {
            s,
            client: reqwest::Client::builder().redirect(Policy::none()).build().unwrap(),
            cookie: None,
            accept_language: None,
        }
    }

    /// Signed in as `user` through a one-time link (the way any sign-in ends: a session cookie).
    pub async fn signed_in(s: &'a TestServer, user: Uuid) -> Web<'a> {
        let mut web = Web::new(s);
        let code = s.app.create_bootstrap_link(user).await.expect("sign-in link");
        let r = web.get(&format!("/signin/link?code={code}")).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.html);
        let set = r.headers[SET_COOKIE].to_str().unwrap().to_owned();
        web.cookie = Some(set.split(';').next().unwrap().to_owned());
        web
    }

    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let mut req = self.client.request(method, self.s.url(path));
        if let Some(c) = &self.cookie {
            req = req.header(COOKIE, c.clone());
        }
        if let Some(l) = &self.accept_language {
            req = req.header("accept-language", l.clone());
        }
        req
    }

    async fn send(req: reqwest::RequestBuilder) -> Page {
        let r = req.send().await.expect("the test server answers");
        let status = r.status();
        let headers = r.headers().clone();
        Page { status, headers, html: r.text().await.unwrap_or_default() }
    }

    pub async fn get(&self, path: &str) -> Page {
        Self::send(self.request(Method::GET, path)).await
    }

    /// GET as htmx would (`HX-Request: true`).
    pub async fn get_htmx(&self, path: &str) -> Page {
        Self::send(self.request(Method::GET, path).header("hx-request", "true")).await
    }

    /// POST a form (pairs in order; repeat a name for several values).
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        Self::send(self.form(path, fields)).await
    }

    pub async fn post_htmx(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        Self::send(self.form(path, fields).header("hx-request", "true")).await
    }

    fn form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::RequestBuilder {
        let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
        self.request(Method::POST, path).header("content-type", "application/x-www-form-urlencoded").body(body)
    }
}
