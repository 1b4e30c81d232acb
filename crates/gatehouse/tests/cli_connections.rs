//! `gatehouse connection …`, `catalog add-resource` and `gatehouse reconcile` as the real
//! binary against a real server and a real SCIM application.

use std::process::{Output, Stdio};

use gatehouse_testkit::targets::ScimPeer;
use gatehouse_testkit::{json, spawn, Backend, TestServer, EM};
use serde_json::Value;
use tokio::io::AsyncWriteExt;

async fn gatehouse(s: &TestServer, args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"));
    cmd.args(args)
        .env("GATEHOUSE_URL", &s.base_url)
        .env("GATEHOUSE_TOKEN", &s.admin_token)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("run gatehouse");
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).await.unwrap();
    }
    drop(input);
    child.wait_with_output().await.unwrap()
}

#[track_caller]
fn ok(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "gatehouse failed: {}\n{stdout}", String::from_utf8_lossy(&out.stderr));
    stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_and_reconciliation_from_the_command_line() {
    let mut s = spawn(Backend::Sqlite).await;
    s.start_workers(std::sync::Arc::new(gatehouse_workers::LogMailer));
    let scim = ScimPeer::start();
    let group = scim.create_group("Engineering wiki").await;
    let catalog = s.post(&format!("{EM}/catalogs"), json!({"displayName": "Partner extranet"})).await.expect(201);
    let catalog = catalog["id"].as_str().unwrap().to_owned();

    // The token comes from standard input, never the command line.
    let out = gatehouse(
        &s,
        &["connection", "add-scim", "--name", "Wiki", "--base-url", &scim.base_url(), "--bearer-token", "-", "--json"],
        Some(&format!("{}\n", scim.token)),
    )
    .await;
    let c: Value = serde_json::from_str(&ok(&out)).unwrap();
    assert_eq!(c["status"], "healthy", "{c}");
    let connection = c["id"].as_str().unwrap().to_owned();

    let listed = ok(&gatehouse(&s, &["connection", "list"], None).await);
    assert!(listed.contains("Wiki") && listed.contains("healthy"), "{listed}");
    let groups = ok(&gatehouse(&s, &["connection", "groups", &connection, "--search", "engineering"], None).await);
    assert!(groups.contains(&group), "{groups}");
    ok(&gatehouse(&s, &["catalog", "add-resource", &catalog, "--connection", &connection, "--group", &group], None)
        .await);
    let shown = ok(&gatehouse(&s, &["connection", "show", &connection], None).await);
    assert!(shown.contains("Engineering wiki") && !shown.contains(&scim.token), "{shown}");

    // Nothing governed yet: a clean run. Then a package grants the group and someone is
    // added out of band.
    let resources = s.get(&format!("{EM}/catalogs/{catalog}/resources?$expand=roles,scopes")).await.expect(200);
    let resource = &resources["value"][0];
    let package = s
        .post(&format!("{EM}/accessPackages"), json!({"displayName": "Wiki", "catalog": {"id": catalog}}))
        .await
        .expect(201);
    s.post(
        &format!("{EM}/accessPackages/{}/resourceRoleScopes", package["id"].as_str().unwrap()),
        json!({"role": {"id": resource["roles"][0]["id"], "originSystem": "ScimGroup", "originId": resource["roles"][0]["originId"], "resource": {"id": resource["id"]}},
               "scope": {"id": resource["scopes"][0]["id"], "originId": resource["scopes"][0]["originId"], "originSystem": "ScimGroup"}}),
    )
    .await
    .expect(201);
    let mallory = scim.create_user("mallory@fabrikam.example").await;
    scim.add_member(&group, &mallory).await;

    let report = ok(&gatehouse(&s, &["reconcile", "--connection", &connection], None).await);
    assert!(report.contains("succeeded (report only)") && report.contains("unexplained 1"), "{report}");
    assert!(report.contains("mallory@fabrikam.example") && report.contains("reported"), "{report}");
    assert_eq!(scim.members(&group).await, vec![mallory.clone()], "a report changes nothing");

    ok(&gatehouse(&s, &["connection", "set-mode", &connection, "enforce"], None).await);
    let fixed = ok(&gatehouse(&s, &["reconcile", "--fix"], None).await);
    assert!(fixed.contains("removed 1"), "{fixed}");
    assert!(scim.members(&group).await.is_empty());

    // A connection with resources cannot go; a wrong mode is refused before any call.
    let refused = gatehouse(&s, &["connection", "delete", &connection], None).await;
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("still has resources"), "{refused:?}");
    let refused = gatehouse(&s, &["connection", "set-mode", &connection, "always"], None).await;
    assert!(String::from_utf8_lossy(&refused.stderr).contains("report or enforce"));
}
