//! Microsoft's Python Graph SDK (`msgraph-sdk` from PyPI, installed by scripts/test.sh) walks
//! the admin path against the real server, on both backends. The script is `graph_sdk/walk.py`.

use std::path::PathBuf;
use std::process::Command;

use gatehouse_testkit::{both_backends, TestServer};

fn python() -> PathBuf {
    match std::env::var_os("GATEHOUSE_TEST_PYTHON") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/graph-sdk-venv/bin/python"),
    }
}

async fn graph_sdk_walks_the_admin_path(s: TestServer) {
    let python = python();
    assert!(
        python.exists(),
        "{} is missing: run scripts/test.sh, which installs msgraph-sdk from PyPI into target/graph-sdk-venv \
         (or set GATEHOUSE_TEST_PYTHON to a Python with msgraph-sdk installed)",
        python.display()
    );
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/graph_sdk/walk.py");
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
