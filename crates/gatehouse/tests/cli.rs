//! The `gatehouse` admin commands, run as the real binary against a real server.

use std::process::Output;

use gatehouse_testkit::{spawn, Backend, TestServer};
use serde_json::Value;

async fn gatehouse(s: &TestServer, args: &[&str]) -> Output {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"));
    cmd.args(args).env("GATEHOUSE_URL", &s.base_url).env("GATEHOUSE_TOKEN", &s.admin_token);
    cmd.output().await.expect("run gatehouse")
}

#[track_caller]
fn ok(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "gatehouse failed: {}\n{stdout}", String::from_utf8_lossy(&out.stderr));
    stdout
}

fn json(out: &Output) -> Value {
    serde_json::from_str(&ok(out)).expect("--json prints JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_commands_drive_the_api() {
    let s = spawn(Backend::Sqlite).await;
    let org =
        json(&gatehouse(&s, &["org", "add", "--name", "Fabrikam", "--domain", "fabrikam.example", "--json"]).await);
    let org_id = org["id"].as_str().unwrap().to_owned();
    let table = ok(&gatehouse(&s, &["org", "list"]).await);
    assert!(table.contains("Fabrikam") && table.contains("fabrikam.example"), "{table}");

    // A refused command prints one readable line and fails.
    let dup = gatehouse(&s, &["org", "add", "--name", "Copy", "--domain", "fabrikam.example"]).await;
    assert!(!dup.status.success());
    let stderr = String::from_utf8_lossy(&dup.stderr);
    assert!(stderr.starts_with("error: ") && stderr.contains("already belongs") && stderr.contains("409"), "{stderr}");

    let catalog = json(&gatehouse(&s, &["catalog", "add", "--name", "Partner extranet", "--json"]).await);
    let catalog_id = catalog["id"].as_str().unwrap().to_owned();
    let group = s.post("/v1.0/groups", gatehouse_testkit::json!({"displayName": "Cross-Org Team"})).await.expect(201);
    ok(&gatehouse(&s, &["catalog", "add-group", &catalog_id, "--group", group["id"].as_str().unwrap()]).await);
    let shown = json(&gatehouse(&s, &["catalog", "show", &catalog_id, "--json"]).await);
    let roles = shown["resources"][0]["roles"].as_array().expect("catalog show lists resources with roles");
    let member = roles.iter().find(|r| r["displayName"] == "Member").unwrap()["id"].as_str().unwrap().to_owned();

    let package = json(
        &gatehouse(&s, &["package", "add", "--catalog", &catalog_id, "--name", "Project Tango", "--hidden", "--json"])
            .await,
    );
    let package_id = package["id"].as_str().unwrap().to_owned();
    ok(&gatehouse(&s, &["package", "add-role", &package_id, "--role", &member]).await);

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.json");
    let policy = serde_json::json!({
        "displayName": "Fabrikam engineers", "accessPackage": {"id": package_id},
        "allowedTargetScope": "specificConnectedOrganizationUsers",
        "specificAllowedTargets": [{"@odata.type": "#microsoft.graph.connectedOrganizationMembers", "connectedOrganizationId": org_id}],
        "expiration": {"type": "afterDuration", "duration": "P90D"}
    });
    std::fs::write(&file, policy.to_string()).unwrap();
    ok(&gatehouse(&s, &["policy", "add", "--file", file.to_str().unwrap()]).await);
    let policies = ok(&gatehouse(&s, &["policy", "list", "--package", &package_id]).await);
    assert!(
        policies.contains("Fabrikam engineers") && policies.contains("specificConnectedOrganizationUsers"),
        "{policies}"
    );

    let show = ok(&gatehouse(&s, &["package", "show", &package_id]).await);
    assert!(show.contains("Member") && show.contains(&format!("/myaccess/packages/{package_id}")), "{show}");

    // Deleting the catalog is refused while it holds the package.
    let refused = gatehouse(&s, &["catalog", "delete", &catalog_id]).await;
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("still holds"));

    // A wrong token is a clear 401, not a crash.
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"));
    let out = cmd
        .args(["org", "list"])
        .env("GATEHOUSE_URL", &s.base_url)
        .env("GATEHOUSE_TOKEN", "ghp_wrong")
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("401"));
}
