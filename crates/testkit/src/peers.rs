//! Real peers the tests talk to, started per test: an SMTP server (aiosmtpd, Python).
//! `scripts/test.sh` installs their packages into `target/test-peers`.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// The Python with the test peers' packages (msgraph-sdk, aiosmtpd).
pub fn python() -> PathBuf {
    match std::env::var_os("GATEHOUSE_TEST_PYTHON") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/test-peers/bin/python"),
    }
}

/// A peer script shipped in `crates/testkit/peers`.
pub fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("peers").join(name)
}

pub fn require_python() -> PathBuf {
    let python = python();
    assert!(
        python.exists(),
        "{} is missing: run scripts/test.sh, which installs the test peers (msgraph-sdk, aiosmtpd) from PyPI \
         into target/test-peers (or set GATEHOUSE_TEST_PYTHON to a Python that has them)",
        python.display()
    );
    python
}

/// A real SMTP server on a free loopback port; messages land as JSON files.
pub struct SmtpSink {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Child,
}

/// One received message.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    pub to: Vec<String>,
    pub subject: String,
    pub data: String,
}

impl SmtpSink {
    pub fn start() -> SmtpSink {
        Self::start_on(None)
    }

    /// Start on a given port (to bring a server "back" after an outage).
    pub fn start_on(port: Option<u16>) -> SmtpSink {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut cmd = Command::new(require_python());
        cmd.arg(script("smtp_sink.py")).arg(dir.path());
        if let Some(p) = port {
            cmd.arg(p.to_string());
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the SMTP sink");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("SMTP sink port");
        let port = line.trim().parse().unwrap_or_else(|_| panic!("the SMTP sink did not start: '{line}'"));
        SmtpSink { port, dir, child }
    }

    pub fn settings(&self) -> gatehouse_workers::SmtpSettings {
        Self::settings_for_port(self.port)
    }

    /// Plain SMTP to a loopback port, as the test server speaks it.
    pub fn settings_for_port(port: u16) -> gatehouse_workers::SmtpSettings {
        gatehouse_workers::SmtpSettings {
            host: "127.0.0.1".into(),
            port,
            username: None,
            password: None,
            from: "gatehouse@contoso.example".into(),
            tls: gatehouse_workers::SmtpTls::None,
        }
    }

    pub fn messages(&self) -> Vec<ReceivedMail> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(self.dir.path()).expect("read sink dir").flatten() {
            if entry.path().extension().is_some_and(|e| e == "json") {
                let raw = std::fs::read_to_string(entry.path()).expect("read message");
                let v: serde_json::Value = serde_json::from_str(&raw).expect("message JSON");
                let data = v["data"].as_str().unwrap_or_default().to_owned();
                let subject = data.lines().find_map(|l| l.strip_prefix("Subject: ")).unwrap_or_default().to_owned();
                let to = v["to"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect())
                    .unwrap_or_default();
                out.push(ReceivedMail { to, subject, data });
            }
        }
        out
    }

    /// Messages to `address` whose subject contains `needle`.
    pub fn count(&self, address: &str, needle: &str) -> usize {
        self.messages().iter().filter(|m| m.to.iter().any(|t| t == address) && m.subject.contains(needle)).count()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
