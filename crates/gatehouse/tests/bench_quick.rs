//! `gatehouse bench` keeps working: a tiny run of the real binary on SQLite prints the four
//! scenario rows with positive numbers and passes its own checks.

use std::process::Command;

/// The numeric columns of a table row: n, seconds, per second, baseline/s, ratio, p50/p99, check.
fn columns(line: &str) -> Vec<&str> {
    let words: Vec<&str> = line.split_whitespace().collect();
    words[words.len() - 7..].to_vec()
}

fn positive(row: &str, value: &str) {
    let v: f64 = value.parse().unwrap_or_else(|_| panic!("'{value}' is not a number in: {row}"));
    assert!(v > 0.0, "not positive ({v}) in: {row}");
}

#[test]
fn a_quick_bench_prints_four_checked_rows() {
    let out = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(["bench", "--quick", "--backend", "sqlite", "--requests", "50", "--assignments", "2000"])
        .args(["--expiring", "200", "--concurrency", "8", "--packages", "300", "--admitting", "10"])
        .output()
        .expect("run gatehouse bench");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "bench failed\nstdout:\n{stdout}\nstderr:\n{stderr}");
    for (scenario, n, with_baseline) in [
        ("auto-approve (HTTP", "50", true),
        ("one-stage approval", "50", true),
        ("expiry sweep (200 of 2000)", "200", false),
        ("My Access home (10 of 300)", "200", true),
    ] {
        let row = stdout
            .lines()
            .find(|l| l.starts_with("sqlite") && l.contains(scenario))
            .unwrap_or_else(|| panic!("no '{scenario}' row in:\n{stdout}"));
        let c = columns(row);
        assert_eq!(c[0], n, "{row}");
        positive(row, c[1]);
        positive(row, c[2]);
        if with_baseline {
            positive(row, c[3]);
            positive(row, c[4]);
        }
        assert_eq!(c[6], "ok", "{row}");
        if scenario.starts_with("My Access") {
            let (p50, p99) = c[5].split_once('/').unwrap_or_else(|| panic!("no p50/p99 in: {row}"));
            positive(row, p50);
            positive(row, p99);
        }
    }
    assert!(!stdout.contains("CHECK FAILED"), "{stdout}");
}
