//! One place that knows how to talk to the Gatehouse API, so every admin command gets the same authentication,
//! the same error text for people reading a terminal, and the same paging behaviour.

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use reqwest::{Method, StatusCode, Url};
use serde_json::Value;

use super::ApiArgs;

/// Path segments of the entitlement-management root, as in Microsoft Graph v1.0.
const EM_PATH: [&str; 3] = ["v1.0", "identityGovernance", "entitlementManagement"];

/// A server that keeps handing out new `@odata.nextLink`s must not make the CLI loop forever.
const MAX_PAGES: usize = 10_000;

pub struct ApiClient {
    base: Url,
    http: reqwest::Client,
}

impl ApiClient {
    pub fn new(api: &ApiArgs) -> Result<Self> {
        let base = parse_base(&api.url)?;
        let token = api.token.as_deref().map(str::trim).unwrap_or_default();
        if token.is_empty() {
            bail!("no API token: pass --token or set GATEHOUSE_TOKEN");
        }
        // The token lives only in the client's default headers, marked sensitive so it never shows up in
        // `Debug` output; reqwest also drops it on redirects to another host.
        let mut auth = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| anyhow!("the API token contains characters that cannot be sent in an HTTP header"))?;
        auth.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, auth);
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .user_agent(concat!("gatehouse-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("cannot set up the HTTP client")?;
        Ok(ApiClient { base, http })
    }

    /// The server's base URL as the user gave it, for messages.
    pub fn base_display(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    /// `<base>/<segments...>`, each segment percent-encoded, so ids can never change the path's shape.
    pub fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        url.path_segments_mut().expect("base URL checked in parse_base").pop_if_empty().extend(segments);
        url
    }

    /// A URL below the entitlement-management root.
    pub fn em(&self, segments: &[&str]) -> Url {
        let all: Vec<&str> = EM_PATH.iter().copied().chain(segments.iter().copied()).collect();
        self.url(&all)
    }

    pub async fn get(&self, url: Url) -> Result<Value> {
        self.send(Method::GET, url, None).await
    }

    pub async fn post(&self, url: Url, body: &Value) -> Result<Value> {
        self.send(Method::POST, url, Some(serde_json::to_vec(body)?)).await
    }

    /// POST bytes that are already JSON, untouched (key order and formatting preserved).
    pub async fn post_raw(&self, url: Url, body: Vec<u8>) -> Result<Value> {
        self.send(Method::POST, url, Some(body)).await
    }

    pub async fn patch(&self, url: Url, body: &Value) -> Result<Value> {
        self.send(Method::PATCH, url, Some(serde_json::to_vec(body)?)).await
    }

    pub async fn delete(&self, url: Url) -> Result<()> {
        self.send(Method::DELETE, url, None).await.map(drop)
    }

    /// GET a collection and follow `@odata.nextLink` until the last page.
    pub async fn list_all(&self, url: Url) -> Result<Vec<Value>> {
        let mut items = Vec::new();
        let mut next = Some(url);
        let mut pages = 0;
        while let Some(url) = next.take() {
            pages += 1;
            if pages > MAX_PAGES {
                bail!("gave up after {MAX_PAGES} pages from {}", url.path());
            }
            let mut page = self.get(url.clone()).await?;
            match page.get_mut("value").map(Value::take) {
                Some(Value::Array(values)) => items.extend(values),
                _ => bail!("expected a collection from {}, got something else", url.path()),
            }
            if let Some(link) = page.get("@odata.nextLink").and_then(Value::as_str) {
                let link = self.next_page(&url, link)?;
                if link == url {
                    bail!("the server's @odata.nextLink points back at the same page ({})", url.path());
                }
                next = Some(link);
            }
        }
        Ok(items)
    }

    /// Resolve a nextLink against the current page. A link to another origin (e.g. the server's configured
    /// public URL while the admin talks to it on localhost) is re-pointed at the URL the user gave, so the bearer
    /// token only ever goes where the user sent it and paging still works behind proxies.
    fn next_page(&self, current: &Url, link: &str) -> Result<Url> {
        let next =
            current.join(link).with_context(|| format!("the server sent an invalid @odata.nextLink {link:?}"))?;
        if next.origin() == self.base.origin() {
            return Ok(next);
        }
        let mut rebased = self.base.clone();
        rebased.set_path(next.path());
        rebased.set_query(next.query());
        Ok(rebased)
    }

    async fn send(&self, method: Method, url: Url, body: Option<Vec<u8>>) -> Result<Value> {
        let mut request = self.http.request(method, url);
        if let Some(body) = body {
            request = request.header(CONTENT_TYPE, "application/json").body(body);
        }
        let response = request.send().await.map_err(|e| self.transport_error(&e))?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| self.transport_error(&e))?;
        if !status.is_success() {
            return Err(ApiError::from_response(status, &bytes).into());
        }
        parse_body(&bytes)
    }

    fn transport_error(&self, err: &reqwest::Error) -> anyhow::Error {
        // reqwest's own message is just "error sending request for url (...)"; the useful part
        // ("Connection refused", "operation timed out", a TLS problem) is at the bottom of the chain.
        anyhow!("cannot reach Gatehouse at {}: {}", self.base_display(), root_cause(err))
    }
}

fn parse_base(url: &str) -> Result<Url> {
    // An empty GATEHOUSE_URL (e.g. `GATEHOUSE_URL=` in an env file) reaches us as "": treat it as unset.
    let url = if url.trim().is_empty() { super::DEFAULT_URL } else { url };
    let parsed = Url::parse(url.trim()).with_context(|| format!("invalid --url {url:?}"))?;
    // "localhost:8080" parses as a URL with scheme "localhost"; catch that here with a clear message.
    if !matches!(parsed.scheme(), "http" | "https") || parsed.cannot_be_a_base() || parsed.host().is_none() {
        bail!("--url must be an http:// or https:// URL, got {url:?}");
    }
    let mut base = parsed;
    base.set_query(None);
    base.set_fragment(None);
    Ok(base)
}

fn root_cause(err: &(dyn StdError + 'static)) -> String {
    let mut cause = err;
    while let Some(source) = cause.source() {
        cause = source;
    }
    cause.to_string()
}

/// 204 and other empty bodies become `null`.
pub fn parse_body(bytes: &[u8]) -> Result<Value> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    serde_json::from_slice(bytes).context("the server sent a response that is not JSON")
}

/// An OData string literal: single-quoted, with embedded quotes doubled.
pub fn odata_string(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A non-2xx answer from the API, worded for a person at a terminal.
#[derive(Debug, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub code: Option<String>,
    pub message: String,
}

impl ApiError {
    /// Reads the Graph error envelope `{"error":{"code","message",...}}`; anything else (a proxy's HTML page,
    /// an empty 401) still yields a one-line message.
    pub fn from_response(status: StatusCode, body: &[u8]) -> Self {
        let envelope = serde_json::from_slice::<Value>(body).ok();
        let error = envelope.as_ref().and_then(|v| v.get("error"));
        let field = |name: &str| {
            error.and_then(|e| e.get(name)).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty())
        };
        let code = field("code").map(str::to_owned);
        let message = match field("message") {
            Some(message) => message.to_owned(),
            None if error.is_some() => status.canonical_reason().unwrap_or("request failed").to_owned(),
            None => first_line(&String::from_utf8_lossy(body))
                .unwrap_or_else(|| status.canonical_reason().unwrap_or("request failed").to_owned()),
        };
        ApiError { status: status.as_u16(), code, message }
    }
}

fn first_line(text: &str) -> Option<String> {
    const MAX: usize = 200;
    let line = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    Some(if line.chars().count() > MAX {
        format!("{}…", line.chars().take(MAX).collect::<String>())
    } else {
        line.into()
    })
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.code {
            Some(code) => write!(f, "{} ({code}, HTTP {})", self.message, self.status),
            None => write!(f, "{} (HTTP {})", self.message, self.status),
        }
    }
}

impl StdError for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::{Arc, Mutex};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    fn args(url: &str) -> ApiArgs {
        ApiArgs { url: url.into(), token: Some("s3cret".into()), json: false }
    }

    #[test]
    fn graph_error_envelope_is_formatted() {
        let body = json!({"error": {"code": "ResourceNotFound", "message": "Catalog not found.",
            "innerError": {"request-id": "r", "date": "d"}}});
        let err = ApiError::from_response(StatusCode::NOT_FOUND, body.to_string().as_bytes());
        assert_eq!(err.to_string(), "Catalog not found. (ResourceNotFound, HTTP 404)");
    }

    #[test]
    fn non_graph_errors_still_read_well() {
        let empty = ApiError::from_response(StatusCode::UNAUTHORIZED, b"");
        assert_eq!(empty.to_string(), "Unauthorized (HTTP 401)");
        let html = ApiError::from_response(StatusCode::BAD_GATEWAY, b"\n<html>bad gateway</html>\nmore");
        assert_eq!(html.to_string(), "<html>bad gateway</html> (HTTP 502)");
        let code_only = ApiError::from_response(StatusCode::FORBIDDEN, br#"{"error":{"code":"Forbidden"}}"#);
        assert_eq!(code_only.to_string(), "Forbidden (Forbidden, HTTP 403)");
        let long = ApiError::from_response(StatusCode::BAD_REQUEST, "x".repeat(500).as_bytes());
        assert_eq!(long.message.chars().count(), 201);
    }

    #[test]
    fn empty_bodies_are_null() {
        assert_eq!(parse_body(b"").unwrap(), Value::Null);
        assert_eq!(parse_body(b" \n").unwrap(), Value::Null);
        assert_eq!(parse_body(br#"{"id":"a"}"#).unwrap(), json!({"id": "a"}));
        assert!(parse_body(b"<html>").is_err());
    }

    #[test]
    fn odata_strings_are_quoted() {
        assert_eq!(odata_string("abc"), "'abc'");
        assert_eq!(odata_string("o'brien"), "'o''brien'");
    }

    #[test]
    fn urls_encode_ids_and_keep_path_prefixes() {
        let client = ApiClient::new(&args("http://127.0.0.1:8080")).unwrap();
        assert_eq!(client.base_display(), "http://127.0.0.1:8080");
        assert_eq!(
            client.em(&["connectedOrganizations", "a/b?c", "internalSponsors", "$ref"]).as_str(),
            "http://127.0.0.1:8080/v1.0/identityGovernance/entitlementManagement/connectedOrganizations/a%2Fb%3Fc/internalSponsors/$ref"
        );
        let prefixed = ApiClient::new(&args("https://example.test/gatehouse/?x=1")).unwrap();
        assert_eq!(prefixed.url(&["v1.0", "users", "u1"]).as_str(), "https://example.test/gatehouse/v1.0/users/u1");
    }

    #[test]
    fn filters_are_form_encoded() {
        let client = ApiClient::new(&args("http://h")).unwrap();
        let mut url = client.em(&["accessPackages"]);
        url.query_pairs_mut().append_pair("$filter", &format!("catalog/id eq {}", odata_string("c 1")));
        assert_eq!(url.query(), Some("%24filter=catalog%2Fid+eq+%27c+1%27"));
        let decoded: Vec<_> = url.query_pairs().collect();
        assert_eq!(decoded[0].0, "$filter");
        assert_eq!(decoded[0].1, "catalog/id eq 'c 1'");
    }

    #[test]
    fn bad_arguments_are_rejected_before_any_request() {
        let no_token = ApiArgs { token: None, ..args("http://h") };
        assert!(ApiClient::new(&no_token).err().unwrap().to_string().contains("GATEHOUSE_TOKEN"));
        let blank = ApiArgs { token: Some("  ".into()), ..args("http://h") };
        assert!(ApiClient::new(&blank).is_err());
        let newline = ApiArgs { token: Some("a\nb".into()), ..args("http://h") };
        let err = ApiClient::new(&newline).err().unwrap().to_string();
        assert!(!err.contains("a\nb"), "{err}");
        let empty = ApiClient::new(&args(" ")).unwrap();
        assert_eq!(empty.base_display(), super::super::DEFAULT_URL);
        for url in ["localhost:8080", "ftp://h", "not a url"] {
            assert!(ApiClient::new(&args(url)).is_err(), "{url}");
        }
    }

    #[test]
    fn foreign_next_links_are_rebased_onto_the_given_url() {
        let client = ApiClient::new(&args("http://127.0.0.1:8080")).unwrap();
        let current = client.em(&["catalogs"]);
        let same = client.next_page(&current, "http://127.0.0.1:8080/v1.0/x?$skiptoken=2").unwrap();
        assert_eq!(same.as_str(), "http://127.0.0.1:8080/v1.0/x?$skiptoken=2");
        let foreign = client.next_page(&current, "https://public.example/v1.0/x?$skiptoken=3").unwrap();
        assert_eq!(foreign.as_str(), "http://127.0.0.1:8080/v1.0/x?$skiptoken=3");
        let relative = client.next_page(&current, "/v1.0/x?$skiptoken=4").unwrap();
        assert_eq!(relative.as_str(), "http://127.0.0.1:8080/v1.0/x?$skiptoken=4");
    }

    /// Minimal HTTP/1.1 server: one request per connection; `respond(base, request)` gives status and body.
    /// Returns the base URL and every request received (head and body).
    async fn serve(
        respond: impl Fn(&str, &str) -> (u16, String) + Send + 'static,
    ) -> (String, Arc<Mutex<Vec<String>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (server_base, server_seen) = (base.clone(), seen.clone());
        tokio::spawn(async move {
            loop {
                let (mut socket, _) = listener.accept().await.unwrap();
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let head_end = loop {
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break i + 4;
                    }
                    let n = socket.read(&mut chunk).await.unwrap();
                    assert!(n > 0, "connection closed mid-request");
                    buf.extend_from_slice(&chunk[..n]);
                };
                let head = String::from_utf8_lossy(&buf[..head_end]).to_lowercase();
                let length = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .map_or(0, |v| v.trim().parse::<usize>().unwrap());
                while buf.len() < head_end + length {
                    let n = socket.read(&mut chunk).await.unwrap();
                    buf.extend_from_slice(&chunk[..n]);
                }
                let request = String::from_utf8_lossy(&buf).into_owned();
                let (status, body) = respond(&server_base, &request);
                server_seen.lock().unwrap().push(request);
                let response = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                socket.write_all(response.as_bytes()).await.unwrap();
                socket.shutdown().await.ok();
            }
        });
        (base, seen)
    }

    fn request_line(request: &str) -> &str {
        request.lines().next().unwrap()
    }

    #[tokio::test]
    async fn list_all_follows_next_links_with_the_token() {
        let (base, seen) = serve(|base, request| {
            let page = match request_line(request) {
                l if l.contains("skiptoken=3") => json!({"value": [{"id": "e"}]}),
                l if l.contains("skiptoken=2") => json!({"value": [{"id": "c"}, {"id": "d"}],
                    "@odata.nextLink": "https://public.example/v1.0/identityGovernance/entitlementManagement/catalogs?$skiptoken=3"}),
                _ => json!({"value": [{"id": "a"}, {"id": "b"}],
                    "@odata.nextLink": format!("{base}/v1.0/identityGovernance/entitlementManagement/catalogs?$skiptoken=2")}),
            };
            (200, page.to_string())
        })
        .await;
        let client = ApiClient::new(&args(&base)).unwrap();
        let items = client.list_all(client.em(&["catalogs"])).await.unwrap();
        let ids: Vec<_> = items.iter().map(|i| i["id"].as_str().unwrap()).collect();
        assert_eq!(ids, ["a", "b", "c", "d", "e"]);
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 3);
        for request in seen.iter() {
            assert!(request.contains("authorization: Bearer s3cret\r\n"), "{request}");
            assert!(request.starts_with("GET /v1.0/identityGovernance/entitlementManagement/catalogs"), "{request}");
        }
    }

    #[tokio::test]
    async fn list_all_stops_on_a_self_referencing_next_link() {
        let (base, _) =
            serve(|base, _| (200, json!({"value": [], "@odata.nextLink": format!("{base}/v1.0/x")}).to_string())).await;
        let client = ApiClient::new(&args(&base)).unwrap();
        let err = client.list_all(client.url(&["v1.0", "x"])).await.unwrap_err();
        assert!(err.to_string().contains("same page"), "{err}");
    }

    #[tokio::test]
    async fn api_errors_and_raw_posts_round_trip() {
        let (base, seen) = serve(|_, request| match request_line(request) {
            l if l.starts_with("POST") => (201, r#"{"id":"p1"}"#.to_string()),
            l if l.starts_with("DELETE") => (204, String::new()),
            _ => (404, json!({"error": {"code": "NotFound", "message": "No such policy."}}).to_string()),
        })
        .await;
        let client = ApiClient::new(&args(&base)).unwrap();
        let err = client.get(client.em(&["assignmentPolicies", "nope"])).await.unwrap_err();
        assert_eq!(err.to_string(), "No such policy. (NotFound, HTTP 404)");
        assert_eq!(err.downcast_ref::<ApiError>().unwrap().status, 404);

        let raw = b"{\"z\": 1,\n \"a\": 2}".to_vec();
        let created = client.post_raw(client.em(&["assignmentPolicies"]), raw).await.unwrap();
        assert_eq!(created, json!({"id": "p1"}));
        client.delete(client.em(&["assignmentPolicies", "p1"])).await.unwrap();

        let seen = seen.lock().unwrap();
        assert!(seen[1].contains("content-type: application/json\r\n"), "{}", seen[1]);
        assert!(seen[1].ends_with("\r\n\r\n{\"z\": 1,\n \"a\": 2}"), "{}", seen[1]);
    }

    #[tokio::test]
    async fn unreachable_server_is_reported_with_the_url() {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let client = ApiClient::new(&args(&format!("http://127.0.0.1:{port}"))).unwrap();
        let err = client.get(client.em(&["catalogs"])).await.unwrap_err().to_string();
        assert!(err.starts_with(&format!("cannot reach Gatehouse at http://127.0.0.1:{port}: ")), "{err}");
        assert!(!err.contains("s3cret"));
    }
}
