//! The OData envelope: `@odata.context`, `value`, absolute `@odata.nextLink`, `@odata.count`,
//! `$select`, and translating query options into a store list query.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use gatehouse_app::{ListQuery, Page};
use gatehouse_domain::odata::{ExpandItem, QueryOptions};
use serde_json::{Map, Value};

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub const DEFAULT_PAGE: u32 = 100;

/// Where the request was sent, for absolute links.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub base: String,
    pub path: String,
    pub query: String,
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let base = match &state.config.public_url {
            Some(u) => u.trim_end_matches('/').to_owned(),
            None => {
                let host = parts
                    .headers
                    .get(header::HOST)
                    .and_then(|h| h.to_str().ok())
                    .filter(|h| h.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b)))
                    .unwrap_or("localhost");
                format!("http://{host}")
            }
        };
        Ok(Ctx { base, path: parts.uri.path().to_owned(), query: parts.uri.query().unwrap_or("").to_owned() })
    }
}

impl Ctx {
    pub fn context(&self, set: &str) -> String {
        format!("{}/v1.0/$metadata#{set}", self.base)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn next_link(&self, skip: u64) -> String {
        let kept: Vec<&str> = self
            .query
            .split('&')
            .filter(|p| !p.is_empty())
            .filter(|p| {
                let name = p.split('=').next().unwrap_or("").to_ascii_lowercase();
                !matches!(name.as_str(), "$skiptoken" | "%24skiptoken" | "skiptoken")
            })
            .collect();
        let mut q = kept.join("&");
        if !q.is_empty() {
            q.push('&');
        }
        format!("{}{}?{q}$skiptoken={}", self.base, self.path, encode_skiptoken(skip))
    }
}

pub fn encode_skiptoken(skip: u64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("o:{skip}"))
}

fn decode_skiptoken(token: &str) -> ApiResult<u64> {
    let bad = || ApiError::bad_request("$skiptoken is not valid; use the @odata.nextLink as given");
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token).map_err(|_| bad())?;
    let s = String::from_utf8(raw).map_err(|_| bad())?;
    s.strip_prefix("o:").and_then(|n| n.parse().ok()).filter(|n| *n <= MAX_SKIP).ok_or_else(bad)
}

/// The largest offset: the databases take a signed 64-bit OFFSET.
const MAX_SKIP: u64 = i64::MAX as u64;

/// Build the store query from the options. `$expand` and `$select` are applied by the caller.
pub fn list_query(o: &QueryOptions) -> ApiResult<ListQuery<'_>> {
    let mut skip = u64::from(o.skip.unwrap_or(0));
    if let Some(t) = &o.skiptoken {
        skip = skip
            .checked_add(decode_skiptoken(t)?)
            .filter(|n| *n <= MAX_SKIP)
            .ok_or_else(|| ApiError::bad_request("$skip and $skiptoken together are out of range"))?;
    }
    Ok(ListQuery {
        filter: o.filter.as_ref(),
        orderby: &o.orderby,
        search: o.search.as_deref(),
        top: o.top.unwrap_or(DEFAULT_PAGE).min(gatehouse_domain::odata::MAX_TOP),
        skip,
        count: o.count,
    })
}

/// Keep only the selected properties (plus `id` and annotations). Unknown names are a 400.
pub fn select(value: &mut Value, names: &[String]) -> ApiResult<()> {
    if names.is_empty() {
        return Ok(());
    }
    let Value::Object(map) = value else { return Ok(()) };
    for n in names {
        if !map.keys().any(|k| k.eq_ignore_ascii_case(n)) {
            return Err(ApiError::bad_request(format!("$select: '{n}' is not a property of this entity")));
        }
    }
    map.retain(|k, _| k == "id" || k.starts_with('@') || names.iter().any(|n| n.eq_ignore_ascii_case(k)));
    Ok(())
}

/// Refuse navigations a set cannot expand, naming those it can.
pub fn check_expand(items: &[ExpandItem], allowed: &[&str], entity: &str) -> ApiResult<()> {
    for item in items {
        let path = item.path.join("/");
        if !item.select.is_empty() {
            return Err(ApiError::bad_request(format!("$expand: $select inside {path}(...) is not supported")));
        }
        if !allowed.iter().any(|a| a.eq_ignore_ascii_case(&path)) {
            let list = if allowed.is_empty() { "none".to_owned() } else { allowed.join(", ") };
            return Err(ApiError::bad_request(format!(
                "$expand: cannot expand '{path}' on {entity}; supported: {list}"
            )));
        }
    }
    Ok(())
}

pub fn expands<'a>(items: &'a [ExpandItem], name: &str) -> Option<&'a ExpandItem> {
    items.iter().find(|i| i.path.len() == 1 && i.path[0].eq_ignore_ascii_case(name))
}

fn with_context(context: String, value: Value) -> Value {
    let mut map = Map::new();
    map.insert("@odata.context".into(), Value::String(context));
    if let Value::Object(fields) = value {
        map.extend(fields);
    }
    Value::Object(map)
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut r = (status, body.to_string()).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; odata.metadata=minimal"));
    r
}

/// A single entity, 200.
pub fn entity(ctx: &Ctx, set: &str, mut value: Value, names: &[String]) -> ApiResult<Response> {
    select(&mut value, names)?;
    Ok(json_response(StatusCode::OK, &with_context(ctx.context(&format!("{set}/$entity")), value)))
}

/// A created entity, 201 with `Location`.
pub fn created(ctx: &Ctx, set: &str, value: Value, location: &str) -> Response {
    let mut r = json_response(StatusCode::CREATED, &with_context(ctx.context(&format!("{set}/$entity")), value));
    if let Ok(v) = HeaderValue::from_str(&ctx.url(location)) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

/// An entity returned with a status other than 200/201 (202 for connected organization PATCH).
pub fn entity_with_status(ctx: &Ctx, set: &str, value: Value, status: StatusCode) -> Response {
    json_response(status, &with_context(ctx.context(&format!("{set}/$entity")), value))
}

/// A collection page.
pub fn collection<T>(
    ctx: &Ctx,
    set: &str,
    page: Page<T>,
    names: &[String],
    mut render: impl FnMut(T) -> ApiResult<Value>,
) -> ApiResult<Response> {
    let mut items = Vec::with_capacity(page.items.len());
    for item in page.items {
        let mut v = render(item)?;
        select(&mut v, names)?;
        items.push(v);
    }
    let mut body = Map::new();
    body.insert("@odata.context".into(), Value::String(ctx.context(set)));
    if let Some(n) = page.count {
        body.insert("@odata.count".into(), Value::from(n));
    }
    body.insert("value".into(), Value::Array(items));
    if let Some(skip) = page.next_skip {
        body.insert("@odata.nextLink".into(), Value::String(ctx.next_link(skip)));
    }
    Ok(json_response(StatusCode::OK, &Value::Object(body)))
}

/// Render every item of a page, awaiting whatever lookups `$expand` needs.
pub async fn render_all<T, F, Fut>(page: Page<T>, mut render: F) -> ApiResult<Page<Value>>
where
    F: FnMut(T) -> Fut,
    Fut: std::future::Future<Output = ApiResult<Value>>,
{
    let mut items = Vec::with_capacity(page.items.len());
    for item in page.items {
        items.push(render(item).await?);
    }
    Ok(Page { items, next_skip: page.next_skip, count: page.count })
}

pub fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

pub fn to_value<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).expect("entities serialize")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skiptokens_round_trip_and_refuse_garbage() {
        assert_eq!(decode_skiptoken(&encode_skiptoken(300)).unwrap(), 300);
        assert!(decode_skiptoken("nope!").is_err());
        assert!(decode_skiptoken(&base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("x:1")).is_err());
        let huge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("o:{}", u64::MAX));
        assert!(decode_skiptoken(&huge).is_err(), "offsets past i64::MAX would fail in the database");
    }

    #[test]
    fn skip_plus_skiptoken_cannot_overflow() {
        let mut o = QueryOptions { skip: Some(u32::MAX), ..Default::default() };
        o.skiptoken = Some(encode_skiptoken(MAX_SKIP));
        assert!(list_query(&o).is_err());
        o.skiptoken = Some(encode_skiptoken(10));
        assert_eq!(list_query(&o).unwrap().skip, u64::from(u32::MAX) + 10);
    }

    #[test]
    fn next_link_is_absolute_and_replaces_the_token() {
        let ctx = Ctx { base: "http://h:1".into(), path: "/v1.0/x".into(), query: "%24top=2&$skiptoken=abc".into() };
        let link = ctx.next_link(4);
        assert!(link.starts_with("http://h:1/v1.0/x?%24top=2&$skiptoken="), "{link}");
        assert!(!link.contains("abc"));
    }

    #[test]
    fn select_keeps_id_and_refuses_unknown() {
        let mut v = serde_json::json!({"id": "1", "displayName": "a", "description": "b"});
        select(&mut v, &["displayName".into()]).unwrap();
        assert_eq!(v, serde_json::json!({"id": "1", "displayName": "a"}));
        assert!(select(&mut v, &["colour".into()]).is_err());
    }
}
