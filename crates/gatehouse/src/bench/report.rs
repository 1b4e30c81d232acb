//! The printed table: one row per backend and scenario, then per backend its setup times and
//! where the time went, and every failed check, loudly.

use std::fmt::Write;
use std::time::Duration;

use super::{secs, Params};

pub struct Row {
    pub scenario: String,
    pub n: usize,
    pub seconds: f64,
    /// The plain-SQL baseline's requests per second, where there is one.
    pub baseline: Option<f64>,
    /// p50 and p99 of each operation, for the latency scenarios.
    pub latency: Option<(Duration, Duration)>,
    pub failures: Vec<String>,
}

impl Row {
    pub fn new(scenario: &str, n: usize, total: Duration) -> Row {
        Row {
            scenario: scenario.to_owned(),
            n,
            seconds: secs(total),
            baseline: None,
            latency: None,
            failures: Vec::new(),
        }
    }

    fn per_second(&self) -> Option<f64> {
        (self.seconds > 0.0 && self.n > 0).then(|| self.n as f64 / self.seconds)
    }
}

pub struct BackendReport {
    pub backend: &'static str,
    pub rows: Vec<Row>,
    setup: Vec<(String, f64)>,
    pub notes: Vec<String>,
}

impl BackendReport {
    pub fn new(backend: &'static str) -> Self {
        BackendReport { backend, rows: Vec::new(), setup: Vec::new(), notes: Vec::new() }
    }

    pub fn setup(&mut self, what: &str, took: Duration) {
        self.setup.push((what.to_owned(), secs(took)));
    }

    pub fn failures(&self) -> Vec<String> {
        self.rows
            .iter()
            .flat_map(|r| r.failures.iter().map(move |f| format!("{} {}: {f}", self.backend, r.scenario)))
            .collect()
    }
}

fn num(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| format!("{v:.1}"))
}

pub fn render(reports: &[BackendReport], p: Params, elapsed: Duration) -> String {
    let width = reports.iter().flat_map(|r| &r.rows).map(|r| r.scenario.chars().count()).max().unwrap_or(8).max(8);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<9} {:<width$}  {:>8}  {:>9}  {:>11}  {:>11}  {:>6}  {:>15}  check",
        "backend", "scenario", "n", "seconds", "per second", "baseline/s", "ratio", "p50/p99 ms"
    );
    for report in reports {
        for row in &report.rows {
            let per_second = row.per_second();
            let ratio = match (per_second, row.baseline) {
                (Some(real), Some(base)) if base > 0.0 => format!("{:.2}", real / base),
                _ => "-".to_owned(),
            };
            let check = if row.failures.is_empty() { "ok" } else { "FAILED" };
            let latency = row.latency.map_or_else(
                || "-".to_owned(),
                |(p50, p99)| format!("{:.1}/{:.1}", p50.as_secs_f64() * 1000.0, p99.as_secs_f64() * 1000.0),
            );
            let _ = writeln!(
                out,
                "{:<9} {:<width$}  {:>8}  {:>9.2}  {:>11}  {:>11}  {:>6}  {latency:>15}  {check}",
                report.backend,
                row.scenario,
                row.n,
                row.seconds,
                num(per_second),
                num(row.baseline),
                ratio
            );
        }
    }
    let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
    for report in reports {
        let setup: Vec<String> = report.setup.iter().map(|(what, s)| format!("{what} {s:.2} s")).collect();
        let _ = writeln!(
            out,
            "\n{}: setup {}; nproc {nproc}; pool {} connections; {} concurrent clients",
            report.backend,
            setup.join(", "),
            p.pool,
            p.concurrency
        );
        for note in &report.notes {
            let _ = writeln!(out, "  {note}");
        }
    }
    let _ = writeln!(out, "\ntotal run {:.1} s", secs(elapsed));
    let failures: Vec<String> = reports.iter().flat_map(BackendReport::failures).collect();
    for f in &failures {
        let _ = writeln!(out, "!!! CHECK FAILED: {f}");
    }
    out
}
