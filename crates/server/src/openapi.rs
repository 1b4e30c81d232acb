//! The OpenAPI 3 document, generated from the route table so that it lists exactly the routes
//! that exist with the permission each needs. Built as plain JSON: a derive-based generator
//! (utoipa) would need a second, annotation-based description of the same routes.

use serde_json::{json, Map, Value};

use crate::routes::RouteSpec;

const ODATA_PARAMS: &[(&str, &str)] = &[
    (
        "$filter",
        "OData filter: eq, ne, gt, ge, lt, le, and, or, not, in, startswith, contains, endswith, tolower, any/all",
    ),
    ("$select", "Comma-separated properties to return"),
    ("$expand", "Navigation properties to include, e.g. resourceRoleScopes($expand=role,scope)"),
    ("$orderby", "Properties to sort by, with asc or desc"),
    ("$top", "Page size, 0 to 999 (default 100)"),
    ("$skiptoken", "Opaque paging token; use @odata.nextLink as given"),
    ("$count", "true to include @odata.count"),
    ("$search", "Free-text search where supported (connected organizations: name and domain)"),
];

/// Actions Graph defines without a request body.
const BODILESS: &[&str] = &[
    "cancelAssignmentRequest",
    "reprocessAssignmentRequest",
    "getApplicablePolicyRequirements",
    "reprocessAssignment",
];

fn error_response(description: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ODataError"}}}})
}

/// A web page: HTML, forms posted url-encoded, a signed-out visitor sent to sign-in.
fn page_operation(spec: &RouteSpec, params: Vec<Value>) -> Value {
    let html = |d: &str| json!({"description": d, "content": {"text/html": {"schema": {"type": "string"}}}});
    let mut responses = Map::new();
    match spec.status {
        303 => responses.insert("303".into(), json!({"description": "Done; see the page that shows the result"})),
        _ => responses.insert(spec.status.to_string(), html("The page")),
    };
    if spec.permission != gatehouse_domain::principal::Permission::Anonymous {
        responses.insert(
            "303".into(),
            json!({"description": "Done, or not signed in: to the result, or to /signin and back"}),
        );
        responses.insert("403".into(), html("Not allowed, not available to you, or a form without its CSRF token"));
        responses.insert("404".into(), html("No such object, or not yours"));
        if spec.method == axum::http::Method::POST {
            responses.insert("422".into(), html("The form again, with the errors next to their fields"));
        }
    }
    let mut op = json!({
        "operationId": spec.operation_id, "summary": spec.summary, "tags": [spec.tag],
        "parameters": params, "responses": responses,
        "x-gatehouse-permission": format!("{:?}", spec.permission),
    });
    if spec.method == axum::http::Method::POST {
        op["requestBody"] =
            json!({"required": true, "content": {"application/x-www-form-urlencoded": {"schema": {"type": "object"}}}});
    }
    op
}

fn operation(spec: &RouteSpec) -> Value {
    let mut params: Vec<Value> = spec
        .path
        .split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
        .collect();
    if spec.method == axum::http::Method::GET && spec.operation_id.starts_with("list") {
        params.extend(ODATA_PARAMS.iter().map(|(n, d)| json!({"name": n, "in": "query", "required": false, "description": d, "schema": {"type": "string"}})));
    }
    if spec.page {
        return page_operation(spec, params);
    }
    let mut responses = Map::new();
    let ok = match spec.status {
        204 => json!({"description": "No content"}),
        s => {
            json!({"description": if s == 201 { "Created" } else { "OK" }, "content": {"application/json": {"schema": {"type": "object"}}}})
        }
    };
    responses.insert(spec.status.to_string(), ok);
    let anonymous = spec.permission == gatehouse_domain::principal::Permission::Anonymous;
    if !anonymous {
        responses.insert("400".into(), error_response("Invalid input, id or query option"));
        responses.insert("401".into(), error_response("Missing, invalid or expired bearer token"));
        responses.insert("403".into(), error_response("The caller's role or token scope does not allow this"));
        responses.insert("404".into(), error_response("No such entity"));
        if spec.method != axum::http::Method::GET {
            responses.insert("409".into(), error_response("Conflicts with existing data"));
        }
    }
    let mut op = json!({
        "operationId": spec.operation_id,
        "summary": spec.summary,
        "tags": [spec.tag],
        "parameters": params,
        "responses": responses,
        "x-gatehouse-permission": format!("{:?}", spec.permission),
    });
    if !anonymous {
        op["security"] = json!([{"bearer": []}]);
    }
    if matches!(spec.method, axum::http::Method::POST | axum::http::Method::PATCH | axum::http::Method::PUT)
        && !BODILESS.contains(&spec.operation_id)
    {
        op["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": {"type": "object"}}}});
    }
    op
}

pub fn document(specs: &[RouteSpec]) -> String {
    let mut paths = Map::new();
    for spec in specs {
        let item = paths.entry(spec.path.to_owned()).or_insert_with(|| json!({}));
        item[spec.method.as_str().to_ascii_lowercase()] = operation(spec);
    }
    let doc = json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Gatehouse",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Entitlement management with a Microsoft Graph v1.0 compatible API."
        },
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"ODataError": {"type": "object", "required": ["error"], "properties": {"error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string"}, "message": {"type": "string"}, "target": {"type": "string"},
                    "innerError": {"type": "object", "properties": {
                        "request-id": {"type": "string"}, "client-request-id": {"type": "string"}, "date": {"type": "string"}
                    }}
                }
            }}}}
        }
    });
    serde_json::to_string_pretty(&doc).expect("document serializes")
}
