//! `gatehouse bench` against real targets: a tiny run with the local SCIM application, slapd
//! and webhook receiver prints a checked row per connector, with its baseline, and the SCIM
//! latency row with p50/p99.

use std::process::Command;

use gatehouse_testkit::targets::{ScimPeer, Slapd, WebhookPeer, LDAP_ADMIN, LDAP_PASSWORD, LDAP_PEOPLE};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bench_measures_each_connector_against_its_baseline() {
    let scim = ScimPeer::start();
    let slapd = Slapd::start().await;
    let keeper = slapd.add_person("keeper", "keeper@contoso.example").await;
    let group = slapd.add_group("bench", &keeper).await;
    let hook = WebhookPeer::start(SECRET);
    let out = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args([
            "bench",
            "--quick",
            "--backend",
            "sqlite",
            "--requests",
            "10",
            "--assignments",
            "200",
            "--expiring",
            "20",
        ])
        .args([
            "--concurrency",
            "4",
            "--packages",
            "30",
            "--admitting",
            "5",
            "--grants",
            "15",
            "--latency-samples",
            "8",
        ])
        .args(["--scim-url", &scim.base_url(), "--scim-token", &scim.token])
        .args(["--ldap-url", &slapd.url(), "--ldap-bind-dn", LDAP_ADMIN, "--ldap-password", LDAP_PASSWORD])
        .args(["--ldap-people", LDAP_PEOPLE, "--ldap-group", &group])
        .args(["--webhook-url", &hook.url(""), "--webhook-secret", SECRET])
        .output()
        .expect("run gatehouse bench");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "bench failed\nstdout:\n{stdout}\nstderr:\n{stderr}");
    for scenario in ["SCIM grants", "LDAP grants", "webhook grants", "SCIM: approved → grant visible"] {
        let row = stdout
            .lines()
            .find(|l| l.starts_with("sqlite") && l.contains(scenario))
            .unwrap_or_else(|| panic!("no '{scenario}' row in:\n{stdout}"));
        assert!(row.trim_end().ends_with("ok"), "{row}");
    }
    assert!(stdout.contains("goal p99 < 500 ms"), "{stdout}");
    let received = hook.received().await;
    assert!(received.len() >= 30, "15 grants and 15 baseline calls: {}", received.len());
}
