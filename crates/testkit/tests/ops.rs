//! Operational surface: health and readiness, Prometheus metrics, the OpenAPI document matching
//! the route table exactly, JSON content types, request ids, and Graph-shaped 404/405.

use std::collections::BTreeSet;

use gatehouse_testkit::{both_backends, encode, json, Reply, TestServer, EM};
use reqwest::header::CONTENT_TYPE;
use reqwest::Method;
use serde_json::Value;

async fn text(s: &TestServer, path: &str) -> (u16, String) {
    let resp = s.http.get(s.url(path)).send().await.expect("request reaches the test server");
    (resp.status().as_u16(), resp.text().await.expect("text body"))
}

#[track_caller]
fn json_typed(r: &Reply) {
    let ct = r.headers.get(CONTENT_TYPE).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    assert!(ct.contains("application/json"), "status {} has Content-Type '{ct}'", r.status);
}

async fn health_and_readiness(s: TestServer) {
    let (status, body) = text(&s, "/healthz").await;
    assert_eq!((status, body.trim()), (200, "ok"));
    let (status, body) = text(&s, "/readyz").await;
    assert_eq!((status, body.trim()), (200, "ready"));
}

async fn metrics_count_requests_by_route(s: TestServer) {
    let catalogs = format!("{EM}/catalogs");
    s.get(&catalogs).await.expect(200);
    s.get(&catalogs).await.expect(200);
    let (status, body) = text(&s, "/metrics").await;
    assert_eq!(status, 200);
    let line = body
        .lines()
        .find(|l| {
            l.starts_with("gatehouse_http_requests_total{")
                && l.contains(&format!("route=\"{catalogs}\""))
                && l.contains("method=\"GET\"")
                && l.contains("status=\"200\"")
        })
        .unwrap_or_else(|| panic!("no request counter for the catalogs route in:\n{body}"));
    let n: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(n >= 2.0, "{line}");
    // Templates, not concrete ids: one series per route however many ids are asked for.
    let missing = uuid::Uuid::new_v4();
    s.get(&format!("{catalogs}/{missing}")).await.expect(404);
    let (_, body) = text(&s, "/metrics").await;
    assert!(body.contains(&format!("route=\"{catalogs}/{{id}}\"")), "{body}");
    assert!(!body.contains(&missing.to_string()), "metrics must not carry ids");
    assert!(body.contains("gatehouse_http_request_duration_seconds"), "{body}");
}

async fn openapi_documents_exactly_the_routes(s: TestServer) {
    let (status, raw) = text(&s, "/openapi.json").await;
    assert_eq!(status, 200);
    let doc: Value = serde_json::from_str(&raw).expect("the OpenAPI document is JSON");
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{}", doc["openapi"]);
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().unwrap() {
            assert!(op["operationId"].is_string(), "{method} {path} has an operationId");
            assert!(op["x-gatehouse-permission"].is_string(), "{method} {path} names its permission");
            documented.insert((method.to_ascii_uppercase(), path.clone()));
        }
    }
    let routes: BTreeSet<(String, String)> =
        gatehouse_server::routes::specs().iter().map(|r| (r.method.as_str().to_owned(), r.path.to_owned())).collect();
    assert!(routes.len() > 50, "the route table is the whole API: {}", routes.len());
    let undocumented: Vec<_> = routes.difference(&documented).collect();
    let phantom: Vec<_> = documented.difference(&routes).collect();
    assert!(undocumented.is_empty() && phantom.is_empty(), "undocumented: {undocumented:?}; not routes: {phantom:?}");
}

/// The document validates against the OpenAPI 3.0 schema (openapi-spec-validator, PyPI) and
/// describes real shapes, statuses and content types.
async fn openapi_is_a_valid_contract(s: TestServer) {
    let (_, raw) = text(&s, "/openapi.json").await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, &raw).unwrap();
    let python = gatehouse_testkit::peers::require_python();
    let out = std::process::Command::new(python)
        .args(["-m", "openapi_spec_validator"])
        .arg(&file)
        .output()
        .expect("run openapi-spec-validator (installed by scripts/test.sh)");
    assert!(
        out.status.success(),
        "the OpenAPI document does not validate:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_str(&raw).unwrap();
    let op = |method: &str, path: &str| doc["paths"][path][method].clone();
    let schemas = &doc["components"]["schemas"];

    // A body as the server reads it: required name, length limits, enums, no unknown properties.
    let create = op("post", &format!("{EM}/catalogs"));
    let body = &create["requestBody"]["content"]["application/json"]["schema"];
    assert_eq!(body["additionalProperties"], false, "{body}");
    assert!(body["required"].as_array().unwrap().contains(&json!("displayName")), "{body}");
    assert_eq!(body["properties"]["displayName"]["maxLength"], 256, "{body}");
    assert!(body["properties"]["state"]["enum"].as_array().unwrap().contains(&json!("published")), "{body}");
    // The answer: the entity in the OData envelope, with GUID and date-time formats.
    let created = &create["responses"]["201"]["content"]["application/json"]["schema"]["allOf"];
    assert_eq!(created[0]["$ref"], "#/components/schemas/accessPackageCatalog", "{created}");
    assert!(created[1]["properties"]["@odata.context"].is_object());
    assert_eq!(schemas["accessPackageCatalog"]["properties"]["id"]["format"], "uuid");
    assert_eq!(schemas["accessPackageCatalog"]["properties"]["createdDateTime"]["format"], "date-time");
    // A collection: value, nextLink, count.
    let list =
        &op("get", &format!("{EM}/assignmentRequests"))["responses"]["200"]["content"]["application/json"]["schema"];
    assert_eq!(list["properties"]["value"]["items"]["$ref"], "#/components/schemas/accessPackageAssignmentRequest");
    assert!(list["properties"]["@odata.nextLink"].is_object());
    // Polymorphic values are told apart by @odata.type.
    let subject_set = schemas["subjectSet"]["oneOf"].as_array().expect("subjectSet is a oneOf");
    assert!(subject_set.iter().any(|v| v["properties"]["@odata.type"]["enum"][0] == "#microsoft.graph.singleUser"));
    assert_eq!(
        schemas["accessPackageAssignmentPolicy"]["properties"]["expiration"]["$ref"],
        "#/components/schemas/expirationPattern"
    );
    // The error shape, and the statuses the issue found missing.
    assert!(schemas["ODataError"]["properties"]["error"]["properties"]["code"].is_object());
    for status in ["400", "401", "403", "404", "409", "413", "415", "429"] {
        assert!(create["responses"][status].is_object(), "createCatalog lacks {status}");
    }
    let cancel = op("post", &format!("{EM}/assignmentRequests/{{id}}/cancel"));
    assert!(cancel["requestBody"].is_null(), "cancel takes no body: {cancel}");
    let token = op("post", "/oauth2/token");
    assert_eq!(
        token["responses"]["400"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/oauth2Error"
    );
    assert!(token["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]["properties"]["grant_type"]
        .is_object());
    for (path, method) in [("/signin/passcode", "post"), ("/signin/link", "get"), ("/signin/callback", "get")] {
        assert!(op(method, path)["responses"]["401"].is_object(), "{method} {path} lacks 401");
    }
    assert!(op("get", "/signin/host")["responses"]["404"].is_object());
    for (path, media) in [
        ("/", "text/html"),
        ("/signin", "text/html"),
        ("/healthz", "text/plain"),
        ("/readyz", "text/plain"),
        ("/metrics", "text/plain"),
    ] {
        let ok = &op("get", path)["responses"]["200"]["content"];
        assert!(ok[media].is_object(), "GET {path} answers {media}: {ok}");
    }
    assert!(op("get", "/readyz")["responses"]["503"].is_object());
}

async fn api_responses_are_json(s: TestServer) {
    let catalogs = format!("{EM}/catalogs");
    let ok = s.get(&catalogs).await;
    json_typed(&ok);
    ok.expect(200);
    let created = s.post(&catalogs, json!({"displayName": "Typed"})).await;
    json_typed(&created);
    assert!(created.headers.get("location").is_some(), "201 carries a Location");
    created.expect(201);
    let bad = s.get(&format!("{catalogs}?$filter={}", encode("displayName eq"))).await;
    json_typed(&bad);
    bad.expect_error(400, "$filter");
    let missing = s.get(&format!("{catalogs}/{}", uuid::Uuid::new_v4())).await;
    json_typed(&missing);
    missing.expect_error(404, "was not found");
    let unauthenticated = s.raw(Method::GET, &catalogs, None, None).await;
    json_typed(&unauthenticated);
    unauthenticated.expect_error(401, "");
}

async fn request_ids(s: TestServer) {
    let catalogs = format!("{EM}/catalogs");
    let plain = s.get(&catalogs).await;
    let rid = plain.headers.get("request-id").expect("request-id header").to_str().unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&rid).is_ok(), "{rid}");
    assert!(plain.headers.get("client-request-id").is_none());
    let again = s.get(&catalogs).await;
    assert_ne!(again.headers.get("request-id").unwrap().to_str().unwrap(), rid, "one id per request");

    let client = "5b0e3c9a-7d21-4c8f-b6e4-2a9f1d3c4e02";
    let req = s.http.get(s.url(&catalogs)).bearer_auth(&s.admin_token).header("client-request-id", client);
    let echoed = s.send(req).await;
    assert_eq!(echoed.headers.get("client-request-id").unwrap(), client);
    assert!(echoed.headers.get("request-id").is_some());

    // Errors carry both ids in the body as well.
    let url = s.url(&format!("{catalogs}/{}", uuid::Uuid::new_v4()));
    let req = s.http.get(url).bearer_auth(&s.admin_token).header("client-request-id", client);
    let error = s.send(req).await;
    let header_id = error.headers.get("request-id").unwrap().to_str().unwrap().to_owned();
    let body = error.expect_error(404, "");
    assert_eq!(body["error"]["innerError"]["request-id"], header_id.as_str());
    assert_eq!(body["error"]["innerError"]["client-request-id"], client);
}

async fn unknown_paths_and_methods(s: TestServer) {
    let missing = s.get("/v1.0/identityGovernance/entitlementManagement/nothingHere").await;
    json_typed(&missing);
    let body = missing.expect_error(404, "nothingHere");
    assert_eq!(body["error"]["code"], "itemNotFound");
    s.raw(Method::GET, "/no/such/path", None, None).await.expect_error(404, "/no/such/path");

    let before = s.audit_count().await;
    let catalogs = format!("{EM}/catalogs");
    let wrong = s.put(&catalogs, json!({"displayName": "Put"})).await;
    json_typed(&wrong);
    let body = wrong.expect_error(405, "not allowed");
    assert_eq!(body["error"]["code"], "notAllowed");
    s.delete(&catalogs).await.expect_error(405, "not allowed");
    s.call(
        Method::PATCH,
        &format!("{EM}/assignmentPolicies/{}", uuid::Uuid::new_v4()),
        &s.admin_token,
        Some(json!({})),
    )
    .await
    .expect_error(405, "not allowed");
    assert_eq!(s.audit_count().await, before);
    assert!(s.get(&catalogs).await.expect(200)["value"].as_array().unwrap().is_empty());
}

both_backends!(
    health_and_readiness,
    metrics_count_requests_by_route,
    openapi_documents_exactly_the_routes,
    openapi_is_a_valid_contract,
    api_responses_are_json,
    request_ids,
    unknown_paths_and_methods,
);
