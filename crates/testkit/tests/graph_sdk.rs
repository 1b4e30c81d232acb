//! Microsoft's Python Graph SDK (`msgraph-sdk` from PyPI, installed by scripts/test.sh) walks
//! the admin path against the real server, on both backends. The script is `peers/graph_sdk_walk.py`.

use std::process::Command;

use gatehouse_testkit::{both_backends, TestServer};

async fn graph_sdk_walks_the_admin_path(s: TestServer) {
    let python = gatehouse_testkit::peers::require_python();
    let script = gatehouse_testkit::peers::script("graph_sdk_walk.py");
    let (base, token) = (s.base_url.clone(), s.admin_token.clone());
    let output = tokio::task::spawn_blocking(move || Command::new(python).arg(script).arg(base).arg(token).output())
        .await
        .expect("join")
        .expect("run python");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the Graph SDK walk failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}");
    assert!(stdout.contains("graph sdk walk: all steps passed"), "{stdout}");
}

both_backends!(graph_sdk_walks_the_admin_path);
