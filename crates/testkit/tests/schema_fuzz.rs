//! schemathesis (PyPI, installed by scripts/test.sh) generates requests from `/openapi.json`
//! and checks every answer against it: no 5xx, every status documented, every body and content
//! type as documented. It runs with an administrator's token and with a guest's, on both
//! backends, with a fixed seed and a bounded number of cases per operation. A guest never gets
//! a 2xx from a route its token may not use.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use gatehouse_domain::principal::TokenScope;
use gatehouse_testkit::{both_backends, TestServer};
use serde_json::{json, Value};

/// Cases per operation and the seed: enough to get past validation on every kind of body,
/// few enough that a run stays around a minute.
const EXAMPLES: &str = "10";
const SEED: &str = "20261203";

const CHECKS: &str = "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance";

fn schemathesis() -> std::path::PathBuf {
    let python = gatehouse_testkit::peers::require_python();
    let bin = python.with_file_name("schemathesis");
    assert!(
        bin.exists(),
        "{} is missing: run scripts/test.sh, which installs schemathesis from PyPI into target/test-peers",
        bin.display()
    );
    bin
}

/// One schemathesis run; the summary of its report (see peers/schemathesis_summary.py).
async fn run(s: &TestServer, token: &str, who: &str, dir: &Path) -> Value {
    let report = dir.join(format!("{who}.ndjson"));
    let mut cmd = Command::new(schemathesis());
    cmd.arg("run")
        .arg(s.url("/openapi.json"))
        .args(["-H", &format!("Authorization: Bearer {token}")])
        .args(["--checks", CHECKS, "-n", EXAMPLES, "--seed", SEED, "--no-color", "--report", "ndjson"])
        .arg("--report-ndjson-path")
        .arg(&report)
        .current_dir(dir);
    let output = tokio::task::spawn_blocking(move || cmd.output()).await.expect("join").expect("run schemathesis");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let python = gatehouse_testkit::peers::require_python();
    let script = gatehouse_testkit::peers::script("schemathesis_summary.py");
    let summary = Command::new(python).arg(script).arg(&report).output().expect("summarise the report");
    assert!(summary.status.success(), "summary failed: {}", String::from_utf8_lossy(&summary.stderr));
    let summary: Value = serde_json::from_slice(&summary.stdout).expect("summary JSON");
    let tail: String =
        stdout.lines().rev().take(40).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n");
    assert!(
        output.status.success() && summary["failures"].as_array().is_some_and(Vec::is_empty),
        "schemathesis ({who}) found failures: {}\n--- output\n{stdout}",
        summary["failures"]
    );
    println!(
        "schemathesis as {who}: {} operations, {} cases, statuses {}\n{tail}",
        summary["operations"], summary["cases"], summary["statuses"]
    );
    summary
}

/// The permission of each operation, from the document itself.
async fn permissions(s: &TestServer) -> BTreeMap<String, String> {
    let doc: Value = s.http.get(s.url("/openapi.json")).send().await.unwrap().json().await.unwrap();
    let mut map = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let perm = op["x-gatehouse-permission"].as_str().unwrap_or("").to_owned();
            map.insert(format!("{} {path}", method.to_ascii_uppercase()), perm);
        }
    }
    map
}

fn count(summary: &Value, status: &str) -> u64 {
    summary["statuses"][status].as_u64().unwrap_or(0)
}

async fn schemathesis_finds_nothing(s: TestServer) {
    let dir = tempfile::tempdir().expect("temp dir");
    let guest = s
        .post("/v1.0/users", json!({"displayName": "Gus Guest", "mail": "gus@partner.example", "userType": "Guest"}))
        .await
        .expect(201);
    let guest_token = s.token_for(guest["id"].as_str().unwrap().parse().unwrap(), TokenScope::ReadWrite).await;
    let audit_before = s.audit_count().await;

    let guest_run = run(&s, &guest_token, "guest", dir.path()).await;
    // What a guest may use at all: its own requests, sessions and My Access. Anything else is
    // refused, whatever the body.
    let allowed = ["Anonymous", "Authenticated", "AuthenticatedWrite"];
    let perms = permissions(&s).await;
    for (op, statuses) in guest_run["by_operation"].as_object().unwrap() {
        let perm = perms.get(op).map(String::as_str).unwrap_or("");
        if allowed.contains(&perm) {
            continue;
        }
        let ok: u64 = statuses
            .as_object()
            .unwrap()
            .iter()
            .filter(|(code, _)| code.starts_with('2'))
            .map(|(_, n)| n.as_u64().unwrap())
            .sum();
        assert_eq!(ok, 0, "a guest got a 2xx from {op} ({perm}): {statuses}");
    }
    assert!(count(&guest_run, "403") > 0, "{}", guest_run["statuses"]);
    // Nothing a guest sent changed the tenant: only its own sign-in records could be audited.
    let guest_writes = s.audit_count().await - audit_before;
    assert!(guest_writes < 50, "a guest's fuzzing wrote {guest_writes} audit records");

    let admin_run = run(&s, &s.admin_token, "admin", dir.path()).await;
    // The schemas are real enough that generated bodies get past validation.
    assert!(count(&admin_run, "201") >= 20, "too few creations: {}", admin_run["statuses"]);
    assert!(count(&admin_run, "200") > 0 && count(&admin_run, "204") > 0, "{}", admin_run["statuses"]);
    assert!(admin_run["operations"].as_u64().unwrap() >= 120, "{}", admin_run["operations"]);
}

both_backends!(schemathesis_finds_nothing);
