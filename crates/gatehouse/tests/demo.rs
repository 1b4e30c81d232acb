//! `gatehouse demo` as a new user runs it: it serves, its team site (a webhook target inside
//! the demo) answers Gatehouse's signed check, and approving Sam's waiting request sends a
//! signed grant there that the demo prints.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_shows_a_delivery_leaving_gatehouse() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(["demo", "--data-dir"])
        .arg(&data)
        .env("GATEHOUSE_LISTEN", format!("127.0.0.1:{port}"))
        .env("GATEHOUSE_LOG_LEVEL", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run gatehouse demo");
    let (tx, rx) = mpsc::channel::<String>();
    let out = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let wait_for = |needle: &str| -> Vec<String> {
        let mut seen = Vec::new();
        loop {
            match rx.recv_timeout(Duration::from_secs(60)) {
                Ok(line) => {
                    let hit = line.contains(needle);
                    seen.push(line);
                    if hit {
                        return seen;
                    }
                }
                Err(_) => panic!("the demo never printed {needle:?}; it printed:\n{}", seen.join("\n")),
            }
        }
    };
    let banner = wait_for("Press Ctrl-C to stop.");
    assert!(
        banner.iter().any(|l| l.contains("[Tango team site] Gatehouse checked the connection (signature verified)")),
        "{banner:?}"
    );
    let token =
        banner.iter().find(|l| l.contains("Ana Silva's token")).unwrap().split_whitespace().last().unwrap().to_owned();
    let request = banner
        .iter()
        .filter(|l| l.contains("/stages/"))
        .find_map(|l| l.split("accessPackageAssignmentApprovals/").nth(1))
        .and_then(|rest| rest.split('/').next())
        .unwrap()
        .to_owned();

    let em = format!("http://127.0.0.1:{port}/v1.0/identityGovernance/entitlementManagement");
    let http = reqwest::Client::new();
    // The banner is printed as the server starts listening: wait until it answers.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !http.get(format!("http://127.0.0.1:{port}/readyz")).send().await.is_ok_and(|r| r.status().is_success()) {
        assert!(std::time::Instant::now() < deadline, "the demo never became ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let stages: serde_json::Value = http
        .get(format!("{em}/accessPackageAssignmentApprovals/{request}/stages"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let stage = stages["value"][0]["id"].as_str().unwrap();
    let decided = http
        .patch(format!("{em}/accessPackageAssignmentApprovals/{request}/stages/{stage}"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"reviewResult": "Approve", "justification": "Known Fabrikam engineer"}))
        .send()
        .await
        .unwrap();
    assert_eq!(decided.status().as_u16(), 204);
    let after = wait_for("[Tango team site] grant: role Member for Sam Rivera");
    assert!(after.last().unwrap().contains("signature verified"), "{after:?}");
    let _ = child.kill();
    let _ = child.wait();
}
