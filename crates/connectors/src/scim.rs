//! A SCIM 2.0 client (RFC 7643/7644): find, create and (de)activate users, read and search
//! groups, add and remove members. Written on reqwest rather than a SCIM crate: the maintained
//! ones are servers or model types, and Gatehouse needs a dozen calls with its own error
//! classification.

use std::time::{Duration, Instant};

use gatehouse_domain::connection::{ScimSettings, Secret, Secrets};
use gatehouse_domain::provisioning::Person;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::{TargetError, TargetErrorKind};
use crate::http::{excerpt, send_error, status_kind};

const SCIM_JSON: &str = "application/scim+json";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// Page size when listing; servers may answer fewer.
const PAGE: usize = 200;

enum Auth {
    Bearer(Secret),
    /// OAuth 2.0 client credentials; the token is kept until shortly before it expires.
    Client {
        token_url: String,
        client_id: String,
        client_secret: Secret,
        scope: Option<String>,
        token: tokio::sync::Mutex<Option<(Secret, Instant)>>,
    },
}

/// A SCIM service provider, as one connection reaches it.
pub struct ScimClient {
    http: reqwest::Client,
    base: String,
    auth: Auth,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScimUser {
    pub id: String,
    #[serde(default)]
    pub user_name: String,
    pub external_id: Option<String>,
    pub active: Option<bool>,
    pub display_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Member {
    pub value: String,
    pub display: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScimGroup {
    pub id: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub members: Vec<Member>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListResponse<T> {
    #[serde(default)]
    total_results: usize,
    #[serde(rename = "Resources", default = "Vec::new")]
    resources: Vec<T>,
}

/// What creating a user came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created {
    Created(ScimUser),
    /// 409: someone with that userName exists already (look them up and link).
    Exists,
}

/// A SCIM filter's string literal: quotes and backslashes escaped (RFC 7644 §3.4.2.2 uses JSON
/// string rules).
pub fn filter_string(value: &str) -> String {
    serde_json::to_string(value).expect("a string serializes")
}

fn path_segment(id: &str) -> String {
    utf8_percent_encode(id, NON_ALPHANUMERIC).to_string()
}

impl ScimClient {
    pub fn new(http: reqwest::Client, settings: &ScimSettings, secrets: &Secrets) -> Result<Self, TargetError> {
        let auth = match (&secrets.bearer_token, &settings.token_url, &settings.client_id, &secrets.client_secret) {
            (Some(token), _, _, _) => Auth::Bearer(token.clone()),
            (None, Some(url), Some(id), Some(secret)) => Auth::Client {
                token_url: url.clone(),
                client_id: id.clone(),
                client_secret: secret.clone(),
                scope: settings.scope.clone(),
                token: tokio::sync::Mutex::new(None),
            },
            _ => {
                return Err(TargetError::new(
                    TargetErrorKind::Unauthorized,
                    "the SCIM connection has no credentials: set a bearer token or client credentials",
                ))
            }
        };
        Ok(ScimClient { http, base: settings.base_url.trim_end_matches('/').to_owned(), auth })
    }

    fn what(&self) -> String {
        format!("the SCIM server at {}", self.base)
    }

    async fn bearer(&self) -> Result<Secret, TargetError> {
        match &self.auth {
            Auth::Bearer(t) => Ok(t.clone()),
            Auth::Client { token_url, client_id, client_secret, scope, token } => {
                let mut held = token.lock().await;
                if let Some((t, until)) = held.as_ref() {
                    if Instant::now() < *until {
                        return Ok(t.clone());
                    }
                }
                let (t, lifetime) = self.fetch_token(token_url, client_id, client_secret, scope.as_deref()).await?;
                // Renew a minute early (or at half-life for short tokens).
                let margin = (lifetime / 2).min(Duration::from_secs(60));
                *held = Some((t.clone(), Instant::now() + lifetime - margin));
                Ok(t)
            }
        }
    }

    async fn fetch_token(
        &self,
        token_url: &str,
        client_id: &str,
        secret: &Secret,
        scope: Option<&str>,
    ) -> Result<(Secret, Duration), TargetError> {
        let what = format!("the token endpoint {token_url}");
        let mut form = vec![("grant_type", "client_credentials")];
        if let Some(s) = scope {
            form.push(("scope", s));
        }
        let resp = self
            .http
            .post(token_url)
            .basic_auth(client_id, Some(secret.expose()))
            .form(&form)
            .send()
            .await
            .map_err(|e| send_error(&what, &e))?;
        let status = resp.status();
        let text = resp.text().await.map_err(|e| send_error(&what, &e))?;
        if !status.is_success() {
            let kind = match status.as_u16() {
                400 | 401 | 403 => TargetErrorKind::Unauthorized,
                _ => status_kind(status),
            };
            return Err(TargetError::new(
                kind,
                format!("{what} refused the client credentials ({status}): {}", excerpt(&text, 300)),
            ));
        }
        #[derive(Deserialize)]
        struct Token {
            access_token: String,
            expires_in: Option<u64>,
        }
        let t: Token = serde_json::from_str(&text).map_err(|_| {
            TargetError::permanent(format!(
                "{what} answered something that is not an OAuth token: {}",
                excerpt(&text, 200)
            ))
        })?;
        Ok((Secret::new(t.access_token), Duration::from_secs(t.expires_in.unwrap_or(300).clamp(10, 86_400))))
    }

    /// Send a request; the answer's status and text.
    async fn send(
        &self,
        method: &Method,
        path_and_query: &str,
        body: Option<Value>,
    ) -> Result<(StatusCode, String), TargetError> {
        let what = self.what();
        let token = self.bearer().await?;
        let mut req = self
            .http
            .request(method.clone(), format!("{}{path_and_query}", self.base))
            .bearer_auth(token.expose())
            .header(reqwest::header::ACCEPT, format!("{SCIM_JSON}, application/json"));
        if let Some(b) = body {
            req = req.header(reqwest::header::CONTENT_TYPE, SCIM_JSON).body(b.to_string());
        }
        let resp = req.send().await.map_err(|e| send_error(&what, &e))?;
        let status = resp.status();
        let text = resp.text().await.map_err(|e| send_error(&what, &e))?;
        Ok((status, text))
    }

    /// Send a request and read the answer; `None` for 404 when `missing_ok`, and for an empty
    /// success (PATCH and DELETE may answer 204).
    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<Value>,
        missing_ok: bool,
    ) -> Result<Option<T>, TargetError> {
        let (status, text) = self.send(&method, path_and_query, body).await?;
        self.read(&method, status, &text, missing_ok)
    }

    fn read<T: DeserializeOwned>(
        &self,
        method: &Method,
        status: StatusCode,
        text: &str,
        missing_ok: bool,
    ) -> Result<Option<T>, TargetError> {
        let what = self.what();
        if status == StatusCode::NOT_FOUND && missing_ok {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(error_answer(&what, method, status, text));
        }
        if status == StatusCode::NO_CONTENT || text.trim().is_empty() {
            return Ok(None);
        }
        serde_json::from_str(text).map(Some).map_err(|_| {
            TargetError::permanent(format!(
                "{what} answered {method} with something that is not SCIM JSON: {}",
                excerpt(text, 200)
            ))
        })
    }

    /// Can we reach it with these credentials? Returns how many users it reports.
    pub async fn check(&self) -> Result<usize, TargetError> {
        let list: ListResponse<Value> = self
            .call(Method::GET, "/Users?startIndex=1&count=1", None, false)
            .await?
            .ok_or_else(|| TargetError::permanent(format!("{} answered /Users with nothing", self.what())))?;
        Ok(list.total_results)
    }

    /// The user whose `attribute` equals `value` (`userName` or `externalId`).
    pub async fn find_user(&self, attribute: &str, value: &str) -> Result<Option<ScimUser>, TargetError> {
        let filter = format!("{attribute} eq {}", filter_string(value));
        let q = format!("/Users?filter={}", utf8_percent_encode(&filter, NON_ALPHANUMERIC));
        let list: Option<ListResponse<ScimUser>> = self.call(Method::GET, &q, None, false).await?;
        Ok(list.and_then(|l| l.resources.into_iter().next()))
    }

    pub async fn get_user(&self, id: &str) -> Result<Option<ScimUser>, TargetError> {
        self.call(Method::GET, &format!("/Users/{}", path_segment(id)), None, true).await
    }

    /// Create the person's account, active, with `externalId` = their Gatehouse id.
    pub async fn create_user(&self, person: &Person) -> Result<Created, TargetError> {
        let mut name = serde_json::Map::new();
        if let Some(g) = &person.given_name {
            name.insert("givenName".into(), json!(g));
        }
        if let Some(f) = &person.surname {
            name.insert("familyName".into(), json!(f));
        }
        name.insert("formatted".into(), json!(person.display_name));
        let mut body = json!({
            "schemas": [USER_SCHEMA],
            "userName": person.user_name,
            "externalId": person.id.to_string(),
            "displayName": person.display_name,
            "name": name,
            "active": true,
        });
        if let Some(m) = &person.mail {
            body["emails"] = json!([{"value": m, "type": "work", "primary": true}]);
        }
        let (status, text) = self.send(&Method::POST, "/Users", Some(body)).await?;
        if status == StatusCode::CONFLICT {
            return Ok(Created::Exists);
        }
        match self.read::<ScimUser>(&Method::POST, status, &text, false)? {
            Some(u) => Ok(Created::Created(u)),
            None => Err(TargetError::permanent(format!("{} created a user but did not say which", self.what()))),
        }
    }

    /// Activate or deactivate a user; `false` when there is no such user.
    pub async fn set_active(&self, id: &str, active: bool) -> Result<bool, TargetError> {
        let body = json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "active", "value": active}]});
        let method = Method::PATCH;
        let (status, text) = self.send(&method, &format!("/Users/{}", path_segment(id)), Some(body)).await?;
        if status == StatusCode::NOT_FOUND {
            return Ok(false);
        }
        self.read::<Value>(&method, status, &text, false)?;
        Ok(true)
    }

    pub async fn delete_user(&self, id: &str) -> Result<(), TargetError> {
        self.call::<Value>(Method::DELETE, &format!("/Users/{}", path_segment(id)), None, true).await?;
        Ok(())
    }

    /// The group with its members; `None` if it does not exist.
    pub async fn get_group(&self, id: &str) -> Result<Option<ScimGroup>, TargetError> {
        self.call(Method::GET, &format!("/Groups/{}", path_segment(id)), None, true).await
    }

    /// Groups whose name contains `text` (all when empty), without their members.
    pub async fn search_groups(&self, text: &str, max: usize) -> Result<Vec<ScimGroup>, TargetError> {
        let mut q = format!("/Groups?attributes=displayName&startIndex=1&count={}", max.clamp(1, PAGE));
        if !text.trim().is_empty() {
            let filter = format!("displayName co {}", filter_string(text.trim()));
            q.push_str(&format!("&filter={}", utf8_percent_encode(&filter, NON_ALPHANUMERIC)));
        }
        let list: Option<ListResponse<ScimGroup>> = self.call(Method::GET, &q, None, false).await?;
        Ok(list.map(|l| l.resources).unwrap_or_default())
    }

    /// Every user with `active` true (the holders of the application's User role).
    pub async fn active_users(&self) -> Result<Vec<ScimUser>, TargetError> {
        let mut out: Vec<ScimUser> = Vec::new();
        let filter = utf8_percent_encode("active eq true", NON_ALPHANUMERIC).to_string();
        loop {
            let q = format!("/Users?filter={filter}&startIndex={}&count={PAGE}", out.len() + 1);
            let list: ListResponse<ScimUser> = self
                .call(Method::GET, &q, None, false)
                .await?
                .unwrap_or(ListResponse { total_results: 0, resources: vec![] });
            let n = list.resources.len();
            out.extend(list.resources);
            if n == 0 || out.len() >= list.total_results || out.len() >= 100_000 {
                return Ok(out);
            }
        }
    }

    pub async fn add_member(&self, group: &str, user: &str) -> Result<(), TargetError> {
        let body = json!({"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "members", "value": [{"value": user}]}]});
        self.patch_group(group, body).await
    }

    /// Remove with a filter path: RFC 7644's form, which every server takes (some refuse a
    /// `value` list on remove).
    pub async fn remove_member(&self, group: &str, user: &str) -> Result<(), TargetError> {
        let path = format!("members[value eq {}]", filter_string(user));
        let body = json!({"schemas": [PATCH_OP], "Operations": [{"op": "remove", "path": path}]});
        self.patch_group(group, body).await
    }

    async fn patch_group(&self, group: &str, body: Value) -> Result<(), TargetError> {
        let method = Method::PATCH;
        let (status, text) = self.send(&method, &format!("/Groups/{}", path_segment(group)), Some(body)).await?;
        if status == StatusCode::NOT_FOUND {
            return Err(TargetError::permanent(format!("the SCIM group '{group}' does not exist at {}", self.base)));
        }
        self.read::<Value>(&method, status, &text, false)?;
        Ok(())
    }
}

/// The error for a non-success answer, with the SCIM error's detail when there is one.
fn error_answer(what: &str, method: &Method, status: StatusCode, text: &str) -> TargetError {
    let detail = serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|v| v.get("detail").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| excerpt(text, 300));
    let kind = status_kind(status);
    let message = match kind {
        TargetErrorKind::Unauthorized => {
            format!("{what} refused the connection's credentials ({}): {detail}", status.as_u16())
        }
        _ => format!("{what} refused {method} ({}): {detail}", status.as_u16()),
    };
    TargetError::new(kind, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in token endpoint and SCIM server in one (this module's unit test only): the
    /// client sends its client credentials by HTTP Basic, uses the token as a bearer, and
    /// fetches it once while it lasts.
    #[tokio::test]
    async fn client_credentials_fetch_a_token_once_and_use_it() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;

        use axum::http::HeaderMap;
        use axum::routing::{get, post};

        let issued = Arc::new(AtomicUsize::new(0));
        let counter = issued.clone();
        let app = axum::Router::new()
            .route(
                "/token",
                post(move |headers: HeaderMap, body: String| {
                    let counter = counter.clone();
                    async move {
                        // "gatehouse:s3cret" in Basic.
                        let ok = headers.get("authorization").and_then(|v| v.to_str().ok())
                            == Some("Basic Z2F0ZWhvdXNlOnMzY3JldA==");
                        assert!(
                            body.contains("grant_type=client_credentials") && body.contains("scope=scim"),
                            "{body}"
                        );
                        if !ok {
                            return (axum::http::StatusCode::UNAUTHORIZED, r#"{"error":"invalid_client"}"#.to_owned());
                        }
                        counter.fetch_add(1, Ordering::SeqCst);
                        (
                            axum::http::StatusCode::OK,
                            r#"{"access_token":"tok-1","token_type":"Bearer","expires_in":3600}"#.to_owned(),
                        )
                    }
                }),
            )
            .route(
                "/scim/Users",
                get(|headers: HeaderMap| async move {
                    match headers.get("authorization").and_then(|v| v.to_str().ok()) {
                        Some("Bearer tok-1") => (axum::http::StatusCode::OK, r#"{"totalResults": 7, "Resources": []}"#),
                        _ => (axum::http::StatusCode::UNAUTHORIZED, r#"{"detail": "no"}"#),
                    }
                }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let settings = ScimSettings {
            base_url: format!("{base}/scim"),
            token_url: Some(format!("{base}/token")),
            client_id: Some("gatehouse".into()),
            scope: Some("scim".into()),
        };
        let secrets = Secrets { client_secret: Some(Secret::new("s3cret")), ..Secrets::default() };
        let client = ScimClient::new(crate::http_client(), &settings, &secrets).unwrap();
        assert_eq!(client.check().await.unwrap(), 7);
        assert_eq!(client.check().await.unwrap(), 7);
        assert_eq!(issued.load(Ordering::SeqCst), 1, "the token is kept while it lasts");
        let wrong = Secrets { client_secret: Some(Secret::new("nope")), ..Secrets::default() };
        let e = ScimClient::new(crate::http_client(), &settings, &wrong).unwrap().check().await.unwrap_err();
        assert_eq!(e.kind, TargetErrorKind::Unauthorized, "{}", e.message);
        assert!(e.message.contains("refused the client credentials"), "{}", e.message);
    }

    #[test]
    fn filter_strings_escape_quotes_and_backslashes() {
        assert_eq!(filter_string(r#"pat"o\x"#), r#""pat\"o\\x""#);
        assert_eq!(filter_string("plain"), r#""plain""#);
    }

    #[test]
    fn ids_are_one_path_segment() {
        assert_eq!(path_segment("a/../b"), "a%2F%2E%2E%2Fb");
    }

    #[test]
    fn errors_carry_the_scim_detail_and_their_kind() {
        let e = error_answer(
            "the SCIM server at x",
            &Method::POST,
            StatusCode::CONFLICT,
            r#"{"status":"409","scimType":"uniqueness","detail":"already in use"}"#,
        );
        assert_eq!(e.kind, TargetErrorKind::Permanent);
        assert!(e.message.contains("(409): already in use"), "{}", e.message);
        let e = error_answer("x", &Method::GET, StatusCode::UNAUTHORIZED, "nope");
        assert_eq!(e.kind, TargetErrorKind::Unauthorized);
        assert_eq!(error_answer("x", &Method::GET, StatusCode::BAD_GATEWAY, "").kind, TargetErrorKind::Transient);
        let e = error_answer("x", &Method::GET, StatusCode::BAD_REQUEST, "<html>\n<b>broken</b>\n</html>");
        assert!(e.message.ends_with("<html> <b>broken</b> </html>"), "{}", e.message);
    }
}
