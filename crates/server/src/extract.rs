//! Strict request extractors: JSON bodies, OData query options, ids and the caller.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::http::StatusCode;
use gatehouse_app::Actor;
use gatehouse_domain::odata::QueryOptions;
use gatehouse_domain::principal::Principal;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::request_id::RequestIds;

/// A JSON body deserialized strictly; echoed read-only properties are dropped first.
pub struct Body<T>(pub T);

/// As [`Body`], for polymorphic entities whose top-level `@odata.type` is part of the input.
pub struct TypedBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for TypedBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = json_bytes(req, state).await?;
        parse_with(&bytes, gatehouse_domain::input::strip_echo_keeping_type).map(TypedBody)
    }
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = json_bytes(req, state).await?;
        parse_body(&bytes).map(Body)
    }
}

/// The body's bytes, when it says it is JSON.
async fn json_bytes<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    let json_type = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case("application/json"));
    let bytes = Bytes::from_request(req, state).await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "requestTooLarge", "the request body is too large")
        } else {
            ApiError::bad_request(format!("could not read the request body: {e}"))
        }
    })?;
    if json_type != Some(true) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupportedMediaType",
            "the request body must be JSON with Content-Type: application/json",
        ));
    }
    Ok(bytes)
}

pub fn parse_body<T: DeserializeOwned>(bytes: &[u8]) -> ApiResult<T> {
    parse_with(bytes, gatehouse_domain::input::strip_echo)
}

fn parse_with<T: DeserializeOwned>(bytes: &[u8], strip: fn(&mut serde_json::Value)) -> ApiResult<T> {
    let mut value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| ApiError::bad_request(format!("malformed JSON: {e}")))?;
    if !value.is_object() {
        return Err(ApiError::bad_request("the request body must be a JSON object"));
    }
    if has_nul(&value) {
        // PostgreSQL cannot store NUL in text; refuse it on every backend alike.
        return Err(ApiError::bad_request("strings in the request body must not contain NUL characters"));
    }
    strip(&mut value);
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let mut err = if path == "." {
            ApiError::bad_request(inner.to_string())
        } else {
            ApiError::bad_request(format!("{path}: {inner}"))
        };
        if path != "." {
            err.target = Some(path);
        }
        err
    })
}

fn has_nul(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::String(s) => s.contains('\0'),
        serde_json::Value::Array(a) => a.iter().any(has_nul),
        serde_json::Value::Object(o) => o.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

/// Parsed OData query options.
pub struct OData(pub QueryOptions);

impl<S: Send + Sync> FromRequestParts<S> for OData {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        Ok(OData(QueryOptions::parse(parts.uri.query().unwrap_or(""))?))
    }
}

/// The authenticated caller, put in place by the authorization middleware.
pub struct Caller(pub Principal, pub Option<String>);

impl Caller {
    pub fn actor(&self) -> Actor {
        Actor::user(self.0.clone(), self.1.clone())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let principal = parts
            .extensions
            .get::<Principal>()
            .cloned()
            .ok_or_else(|| ApiError::unauthenticated("sign in or send a bearer token"))?;
        let rid = parts.extensions.get::<RequestIds>().map(|r| r.request_id.clone());
        Ok(Caller(principal, rid))
    }
}

/// Parse a key from the path; a malformed GUID is a 400, as in Graph.
pub fn guid(raw: &str, what: &str) -> ApiResult<Uuid> {
    let raw = raw.trim_start_matches("('").trim_end_matches("')");
    Uuid::parse_str(raw).map_err(|_| ApiError::bad_request(format!("'{raw}' is not a valid {what} id")))
}

/// The body of a `…/$ref` write.
#[derive(serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferenceBody {
    /// The referenced object's URL, ending in its collection and id.
    #[serde(rename = "@odata.id")]
    pub odata_id: String,
}

/// `{"@odata.id": "https://any-host/v1.0/users/{id}"}`: the id of the referenced object, whose
/// URL must end in one of `collections` (e.g. `users`, `directoryObjects`) followed by the id.
pub fn reference(bytes: &[u8], collections: &[&str]) -> ApiResult<Uuid> {
    let r: ReferenceBody = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_request(format!("a reference body is {{\"@odata.id\": \"<url>\"}}: {e}")))?;
    let path = r.odata_id.split(['?', '#']).next().unwrap_or("");
    let mut segments = path.trim_end_matches('/').rsplit('/');
    let id = segments.next().unwrap_or("");
    let collection = segments.next().unwrap_or("");
    if !collections.iter().any(|c| c.eq_ignore_ascii_case(collection)) {
        return Err(ApiError::bad_request(format!("@odata.id must end in /{}/{{id}}", collections.join("/{id} or /"))));
    }
    guid(id, "object")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_accept_any_host() {
        let id = Uuid::new_v4();
        for url in [
            format!("https://graph.microsoft.com/v1.0/users/{id}"),
            format!("http://127.0.0.1:8080/v1.0/directoryObjects/{id}"),
        ] {
            let body = serde_json::to_vec(&serde_json::json!({"@odata.id": url})).unwrap();
            assert_eq!(reference(&body, &["users", "directoryObjects"]).unwrap(), id);
        }
        let body =
            serde_json::to_vec(&serde_json::json!({"@odata.id": format!("https://x/v1.0/groups/{id}")})).unwrap();
        assert!(reference(&body, &["users", "directoryObjects"]).is_err());
        assert!(reference(b"{\"id\": 1}", &["users"]).is_err());
    }

    #[test]
    fn bodies_are_strict_but_tolerate_echoed_read_only_fields() {
        #[derive(serde::Deserialize, Debug)]
        #[serde(deny_unknown_fields, rename_all = "camelCase")]
        struct T {
            #[allow(dead_code)]
            display_name: String,
        }
        assert!(parse_body::<T>(br#"{"displayName":"x","id":"1","@odata.context":"c"}"#).is_ok());
        let e = parse_body::<T>(br#"{"displayName":"x","isHiden":true}"#).unwrap_err();
        assert!(e.message.contains("isHiden"), "{}", e.message);
        assert!(parse_body::<T>(b"{not json").unwrap_err().message.contains("malformed JSON"));
        assert!(parse_body::<T>(b"[1]").unwrap_err().message.contains("JSON object"));
        assert!(parse_body::<T>(br#"{"displayName":"a\u0000b"}"#).unwrap_err().message.contains("NUL"));
    }
}
