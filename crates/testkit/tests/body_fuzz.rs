//! Property: any JSON body sent to a create or update endpoint gets a 2xx or a 4xx in the Graph
//! error shape — never a 5xx — on both backends. Bodies mix real property names, real ids and
//! junk, so they reach deep validation paths.

use gatehouse_testkit::{json, spawn, Backend, TestServer, EM};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use reqwest::Method;
use serde_json::Value;

const NAMES: &[&str] = &[
    "displayName",
    "description",
    "identitySources",
    "state",
    "isExternallyVisible",
    "isHidden",
    "catalog",
    "accessPackage",
    "allowedTargetScope",
    "specificAllowedTargets",
    "expiration",
    "requestApprovalSettings",
    "requestorSettings",
    "questions",
    "reviewSettings",
    "stages",
    "primaryApprovers",
    "@odata.type",
    "domainName",
    "issuerUri",
    "userId",
    "groupId",
    "connectedOrganizationId",
    "type",
    "duration",
    "endDateTime",
    "requestType",
    "resource",
    "originId",
    "originSystem",
    "mail",
    "userType",
    "id",
    "role",
    "scope",
    "durationBeforeAutomaticDenial",
    "isApprovalRequiredForAdd",
    "choices",
    "regexPattern",
    "text",
    "sequence",
    "externalUserLifecycleAction",
    "durationUntilExternalUserDeletedAfterBlocked",
    "colour",
];

const STRINGS: &[&str] = &[
    "",
    "x",
    "Fabrikam",
    "fabrikam.example",
    "#microsoft.graph.domainIdentitySource",
    "#microsoft.graph.singleUser",
    "#microsoft.graph.connectedOrganizationMembers",
    "#microsoft.graph.accessPackageTextInputQuestion",
    "#gatehouse.oidcIdentitySource",
    "https://idp.example",
    "specificConnectedOrganizationUsers",
    "allExternalUsers",
    "allMemberUsers",
    "afterDuration",
    "afterDateTime",
    "noExpiration",
    "P90D",
    "P0D",
    "P99999D",
    "14 days, 0:00:00",
    "2000-01-01T00:00:00Z",
    "2099-01-01T00:00:00Z",
    "adminAdd",
    "adminRemove",
    "AadGroup",
    "Guest",
    "Member",
    "(",
    "[a-",
    "published",
    "unpublished",
    "blockSignIn",
    "ID_CATALOG",
    "ID_PACKAGE",
    "ID_ORG",
    "ID_GROUP",
    "ID_USER",
];

fn value(depth: u32) -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        prop::sample::select(STRINGS).prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ];
    if depth == 0 {
        return leaf.boxed();
    }
    prop_oneof![
        3 => leaf,
        1 => prop::collection::vec(value(depth - 1), 0..3).prop_map(Value::Array),
        2 => object(depth - 1),
    ]
    .boxed()
}

fn object(depth: u32) -> BoxedStrategy<Value> {
    prop::collection::vec((prop::sample::select(NAMES), value(depth)), 0..6)
        .prop_map(|pairs| Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()))
        .boxed()
}

struct Ids {
    catalog: String,
    package: String,
    org: String,
    group: String,
    user: String,
    policy: String,
}

fn with_ids(v: Value, ids: &Ids) -> Value {
    match v {
        Value::String(s) => Value::String(match s.as_str() {
            "ID_CATALOG" => ids.catalog.clone(),
            "ID_PACKAGE" => ids.package.clone(),
            "ID_ORG" => ids.org.clone(),
            "ID_GROUP" => ids.group.clone(),
            "ID_USER" => ids.user.clone(),
            _ => s,
        }),
        Value::Array(a) => Value::Array(a.into_iter().map(|x| with_ids(x, ids)).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, x)| (k, with_ids(x, ids))).collect()),
        other => other,
    }
}

async fn setup(s: &TestServer) -> Ids {
    let id = |v: Value| v["id"].as_str().unwrap().to_owned();
    let catalog = id(s.post(&format!("{EM}/catalogs"), json!({"displayName": "C"})).await.expect(201));
    let package = id(s
        .post(&format!("{EM}/accessPackages"), json!({"displayName": "P", "catalog": {"id": catalog}}))
        .await
        .expect(201));
    let org = id(s
        .post(
            &format!("{EM}/connectedOrganizations"),
            json!({"displayName": "O", "identitySources": [{"@odata.type": "#microsoft.graph.domainIdentitySource", "domainName": "o.example"}]}),
        )
        .await
        .expect(201));
    let group = id(s.post("/v1.0/groups", json!({"displayName": "G"})).await.expect(201));
    let user = id(s.post("/v1.0/users", json!({"displayName": "U", "mail": "u@host.example"})).await.expect(201));
    let policy = id(s
        .post(&format!("{EM}/assignmentPolicies"), json!({"displayName": "A", "accessPackage": {"id": package}}))
        .await
        .expect(201));
    Ids { catalog, package, org, group, user, policy }
}

fn run(backend: Backend) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (server, ids) = rt.block_on(async {
        let s = spawn(backend).await;
        let ids = setup(&s).await;
        (s, ids)
    });
    let targets: Vec<(Method, String)> = vec![
        (Method::POST, format!("{EM}/connectedOrganizations")),
        (Method::PATCH, format!("{EM}/connectedOrganizations/{}", ids.org)),
        (Method::POST, format!("{EM}/catalogs")),
        (Method::PATCH, format!("{EM}/catalogs/{}", ids.catalog)),
        (Method::POST, format!("{EM}/accessPackages")),
        (Method::PATCH, format!("{EM}/accessPackages/{}", ids.package)),
        (Method::POST, format!("{EM}/accessPackages/{}/resourceRoleScopes", ids.package)),
        (Method::POST, format!("{EM}/assignmentPolicies")),
        (Method::PUT, format!("{EM}/assignmentPolicies/{}", ids.policy)),
        (Method::POST, format!("{EM}/resourceRequests")),
        (Method::PATCH, format!("{EM}/settings")),
        (Method::POST, "/v1.0/users".into()),
        (Method::PATCH, format!("/v1.0/users/{}", ids.user)),
        (Method::POST, "/v1.0/groups".into()),
        (Method::POST, format!("/v1.0/groups/{}/members/$ref", ids.group)),
        (Method::POST, format!("{EM}/connectedOrganizations/{}/internalSponsors/$ref", ids.org)),
    ];
    let mut runner = TestRunner::new(Config { cases: 300, failure_persistence: None, ..Config::default() });
    let strategy = (0..targets.len(), object(3));
    runner
        .run(&strategy, |(t, body)| {
            let (method, path) = &targets[t];
            let body = with_ids(body, &ids);
            let reply = rt.block_on(server.call(method.clone(), path, &server.admin_token, Some(body.clone())));
            let status = reply.status.as_u16();
            prop_assert!(status < 500, "{method} {path} with {body} gave {status}: {}", reply.body);
            if status >= 400 {
                prop_assert!(reply.body["error"]["message"].is_string(), "no Graph error body: {}", reply.body);
            }
            Ok(())
        })
        .unwrap();
    drop(server);
}

#[test]
fn bodies_never_cause_a_server_error_sqlite() {
    run(Backend::Sqlite);
}

#[test]
fn bodies_never_cause_a_server_error_postgres() {
    run(Backend::Postgres);
}
