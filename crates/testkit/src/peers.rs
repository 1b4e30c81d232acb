//! Real peers the tests talk to, started per test: an SMTP server (aiosmtpd, Python) and OpenID
//! Connect providers (panva's `oidc-provider`, Node). `scripts/test.sh` installs their packages
//! into `target/test-peers` (Python) and `target/test-peers/node` (npm).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::{StatusCode, Url};
use serde_json::json;

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

    /// Where received messages land (one JSON file each: from, to, data), for peers that read mail.
    pub fn dir(&self) -> &Path {
        self.dir.path()
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

/// The Node that runs the Node peers: `GATEHOUSE_TEST_NODE`, else `node` on the PATH.
pub fn node() -> PathBuf {
    std::env::var_os("GATEHOUSE_TEST_NODE").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("node"))
}

/// Where `scripts/test.sh` installs the Node peers' packages (`npm ci` from
/// `crates/testkit/peers/package-lock.json`), unless `GATEHOUSE_TEST_NODE_MODULES` says otherwise.
pub fn node_modules() -> PathBuf {
    match std::env::var_os("GATEHOUSE_TEST_NODE_MODULES") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/test-peers/node/node_modules"),
    }
}

const NODE_PEERS_HINT: &str = "run scripts/test.sh, which installs Node.js and npm if missing (oidc-provider needs \
     Node 20.12+) and the Node test peers (oidc-provider, pinned in crates/testkit/peers/package.json) with `npm ci` \
     into target/test-peers/node (or set GATEHOUSE_TEST_NODE / GATEHOUSE_TEST_NODE_MODULES)";

/// Checks that Node runs and that the installed `oidc-provider` is the pinned one, so a missing or
/// stale install fails here with what to do rather than as a crash inside the peer.
fn require_oidc_provider() -> (PathBuf, PathBuf) {
    let node = node();
    match Command::new(&node).arg("--version").stdin(Stdio::null()).output() {
        Ok(out) if out.status.success() => {}
        Ok(out) => panic!("{} --version failed ({}): {NODE_PEERS_HINT}", node.display(), out.status),
        Err(e) => panic!("Node.js ({}) is missing ({e}): {NODE_PEERS_HINT}", node.display()),
    }
    let modules = node_modules();
    let read = |path: &Path| -> serde_json::Value {
        let raw = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("{} is missing ({e}): {NODE_PEERS_HINT}", path.display()));
        serde_json::from_str(&raw).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    let pinned = read(&script("package.json"))["dependencies"]["oidc-provider"].clone();
    let installed = read(&modules.join("oidc-provider/package.json"))["version"].clone();
    assert_eq!(installed, pinned, "the installed oidc-provider is not the pinned one: {NODE_PEERS_HINT}");
    (node, modules)
}

/// How a relying party authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OidcClientAuth {
    ClientSecretBasic,
    ClientSecretPost,
}

/// A relying party registered at an [`OidcPeer`]: confidential, authorization code with PKCE (S256).
#[derive(Debug, Clone)]
pub struct OidcClient {
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uris: Vec<String>,
    pub auth: OidcClientAuth,
}

impl OidcClient {
    pub fn new(client_id: &str, client_secret: &str, redirect_uri: &str) -> OidcClient {
        OidcClient {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            redirect_uris: vec![redirect_uri.into()],
            auth: OidcClientAuth::ClientSecretBasic,
        }
    }

    pub fn auth(mut self, auth: OidcClientAuth) -> OidcClient {
        self.auth = auth;
        self
    }
}

/// A user who can sign in at an [`OidcPeer`]; `sub` is also what the login form takes.
#[derive(Debug, Clone)]
pub struct OidcAccount {
    pub sub: String,
    pub email: String,
    pub email_verified: bool,
    pub name: String,
    pub given_name: String,
    pub family_name: String,
}

impl OidcAccount {
    /// A user with a verified email; `name` is "given family".
    pub fn new(sub: &str, given_name: &str, family_name: &str, email: &str) -> OidcAccount {
        OidcAccount {
            sub: sub.into(),
            email: email.into(),
            email_verified: true,
            name: format!("{given_name} {family_name}"),
            given_name: given_name.into(),
            family_name: family_name.into(),
        }
    }
}

/// What an [`OidcPeer`] knows: its clients and accounts, and whether consent is a page the user
/// approves (`consent_form`) or granted without one, as a first-party IdP does.
#[derive(Debug, Clone, Default)]
pub struct OidcConfig {
    pub clients: Vec<OidcClient>,
    pub accounts: Vec<OidcAccount>,
    pub consent_form: bool,
    /// A fixed port (to bring a provider "back" at the same issuer); any free port if `None`.
    pub port: Option<u16>,
}

impl OidcConfig {
    pub fn new() -> OidcConfig {
        OidcConfig::default()
    }

    pub fn client(mut self, client: OidcClient) -> OidcConfig {
        self.clients.push(client);
        self
    }

    pub fn account(mut self, account: OidcAccount) -> OidcConfig {
        self.accounts.push(account);
        self
    }

    pub fn consent_form(mut self, yes: bool) -> OidcConfig {
        self.consent_form = yes;
        self
    }

    fn to_json(&self) -> serde_json::Value {
        json!({
            "port": self.port.unwrap_or(0),
            "consent_form": self.consent_form,
            "clients": self.clients.iter().map(|c| json!({
                "client_id": c.client_id,
                "client_secret": c.client_secret,
                "redirect_uris": c.redirect_uris,
                "token_endpoint_auth_method": match c.auth {
                    OidcClientAuth::ClientSecretBasic => "client_secret_basic",
                    OidcClientAuth::ClientSecretPost => "client_secret_post",
                },
            })).collect::<Vec<_>>(),
            "accounts": self.accounts.iter().map(|a| json!({
                "sub": a.sub,
                "email": a.email,
                "email_verified": a.email_verified,
                "name": a.name,
                "given_name": a.given_name,
                "family_name": a.family_name,
            })).collect::<Vec<_>>(),
        })
    }
}

/// How long a peer may take to start, and one step of a sign-in to answer: generous for a loaded
/// machine, short enough that a hung peer fails the test with a message instead of hanging it.
const PEER_START_TIMEOUT: Duration = Duration::from_secs(30);
const SIGN_IN_STEP_TIMEOUT: Duration = Duration::from_secs(15);
/// Sign-in is a handful of redirects and forms; more than this is a loop.
const SIGN_IN_MAX_STEPS: usize = 20;

/// A real OpenID Connect provider (`oidc-provider` on Node, `peers/oidc_provider.mjs`) on its own
/// loopback port, so its issuer is `http://127.0.0.1:PORT`: two peers are two distinct issuers
/// with their own signing keys. The process is killed on drop.
pub struct OidcPeer {
    issuer: String,
    config: OidcConfig,
    child: Child,
}

impl OidcPeer {
    /// Starts the provider and returns once it has printed `READY` and its discovery document
    /// answers. Panics, saying what to install, if Node or the package is missing.
    pub async fn start(config: OidcConfig) -> OidcPeer {
        let (node, modules) = require_oidc_provider();
        let mut child = Command::new(node)
            .arg(script("oidc_provider.mjs"))
            .arg(config.to_json().to_string())
            .env("GATEHOUSE_TEST_NODE_MODULES", &modules)
            // The peer exits when stdin closes, so it dies with the test process even if drop never runs.
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("start the OIDC peer: {e}"));

        // The first stdout line is READY; the rest is passed on to stderr, where the test's output
        // shows it. A thread, because the pipe read blocks.
        let stdout = child.stdout.take().expect("stdout");
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let _ = ready_tx.send(lines.next().and_then(Result::ok));
            for line in lines.map_while(Result::ok) {
                eprintln!("oidc peer: {line}");
            }
        });
        let mut peer = OidcPeer { issuer: String::new(), config, child };
        let line = match tokio::time::timeout(PEER_START_TIMEOUT, ready_rx).await {
            Ok(Ok(Some(line))) => line,
            Ok(_) => {
                // Its stdout closed, so it is exiting; the kill keeps the wait bounded if it is not.
                let _ = peer.child.kill();
                let status = peer.child.wait().expect("wait for the OIDC peer");
                panic!("the OIDC peer exited ({status}) before it was ready; its stderr is above ({NODE_PEERS_HINT})");
            }
            Err(_) => panic!("the OIDC peer printed nothing within {PEER_START_TIMEOUT:?}; its stderr is above"),
        };
        peer.issuer = match line.strip_prefix("READY ") {
            Some(issuer) => issuer.trim().to_owned(),
            None => panic!("the OIDC peer said '{line}' instead of 'READY <issuer>'"),
        };
        peer.wait_for_discovery().await;
        peer
    }

    /// Listening is not the same as serving: wait until discovery answers with this issuer.
    async fn wait_for_discovery(&self) {
        let url = format!("{}/.well-known/openid-configuration", self.issuer);
        let http = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().expect("http client");
        let deadline = Instant::now() + PEER_START_TIMEOUT;
        let mut last = String::new();
        while Instant::now() < deadline {
            match http.get(&url).send().await {
                Ok(r) if r.status() == StatusCode::OK => match r.json::<serde_json::Value>().await {
                    Ok(doc) if doc["issuer"] == self.issuer.as_str() => return,
                    Ok(doc) => last = format!("issuer {} in the discovery document", doc["issuer"]),
                    Err(e) => last = e.to_string(),
                },
                Ok(r) => last = format!("HTTP {}", r.status()),
                Err(e) => last = e.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{url} did not answer within {PEER_START_TIMEOUT:?} (last: {last})");
    }

    /// `http://127.0.0.1:PORT`, exactly as the provider puts it in `iss`.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn config(&self) -> &OidcConfig {
        &self.config
    }

    /// A client that behaves as a browser for [`OidcPeer::sign_in`]: it keeps cookies and does not
    /// follow redirects (the sign-in follows them itself, to stop at the relying party's).
    pub fn browser() -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(SIGN_IN_STEP_TIMEOUT)
            .build()
            .expect("browser client")
    }

    /// Signs `account` (its `sub`) in as a user would, without a browser: requests
    /// `authorization_url`, follows the provider's redirects, posts the login form, approves the
    /// consent page if one is shown, and returns the provider's redirect to the relying party's
    /// `redirect_uri` (with `code`, `state` and `iss`, or with `error`) without requesting it.
    /// `browser` must keep cookies (the provider's session lives in them, so a second sign-in
    /// in the same browser skips the login form) and must not follow redirects: see
    /// [`OidcPeer::browser`]. Errs with what the provider answered if it refuses along the way
    /// (an unknown account, a bad request it will not redirect back).
    pub async fn sign_in(
        &self,
        browser: &reqwest::Client,
        authorization_url: &str,
        account: &str,
    ) -> Result<Url, String> {
        let mut url =
            Url::parse(authorization_url).map_err(|e| format!("authorization URL '{authorization_url}': {e}"))?;
        if !authorization_url.starts_with(&format!("{}/", self.issuer)) {
            return Err(format!("{authorization_url} is not at this provider ({})", self.issuer));
        }
        let redirect_uri = url
            .query_pairs()
            .find(|(k, _)| k == "redirect_uri")
            .map(|(_, v)| v.into_owned())
            .ok_or_else(|| format!("{authorization_url} has no redirect_uri"))?;
        let redirect_uri = Url::parse(&redirect_uri).map_err(|e| format!("redirect_uri '{redirect_uri}': {e}"))?;
        // The provider adds its response to the redirect_uri's query (or fragment).
        let endpoint = |u: &Url| {
            (u.scheme().to_owned(), u.host_str().map(str::to_owned), u.port_or_known_default(), u.path().to_owned())
        };
        let mut form: Option<Vec<(&str, &str)>> = None;
        for _ in 0..SIGN_IN_MAX_STEPS {
            let request = match form.take() {
                Some(fields) => browser.post(url.clone()).form(&fields),
                None => browser.get(url.clone()),
            };
            let response = tokio::time::timeout(SIGN_IN_STEP_TIMEOUT, request.send())
                .await
                .map_err(|_| format!("{url} did not answer within {SIGN_IN_STEP_TIMEOUT:?}"))?
                .map_err(|e| format!("{url}: {e}"))?;
            // A client that follows redirects would already have requested the relying party.
            assert_eq!(
                response.url(),
                &url,
                "the browser client followed a redirect itself; build it with OidcPeer::browser() \
                 (redirect::Policy::none())"
            );
            let status = response.status();
            if status.is_redirection() {
                let location = response
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .ok_or_else(|| format!("{status} from {url} without a Location"))?;
                let next = url.join(location).map_err(|e| format!("Location '{location}' from {url}: {e}"))?;
                if endpoint(&next) == endpoint(&redirect_uri) {
                    return Ok(next);
                }
                url = next;
                continue;
            }
            let body = response.text().await.map_err(|e| format!("{url}: {e}"))?;
            if status != StatusCode::OK {
                return Err(format!("{status} from {url}: {body}"));
            }
            let action = form_action(&body).ok_or_else(|| format!("{url} shows no form to post: {body}"))?;
            let fields = if body.contains("name=\"login\"") { vec![("login", account)] } else { Vec::new() };
            url = url.join(&action).map_err(|e| format!("form action '{action}' on {url}: {e}"))?;
            form = Some(fields);
        }
        Err(format!("no redirect to {redirect_uri} after {SIGN_IN_MAX_STEPS} steps (last: {url})"))
    }
}

/// The `action` of the first `<form method="post">` on one of the peer's own pages (which it
/// writes with double quotes and HTML-escapes with numeric references).
fn form_action(html: &str) -> Option<String> {
    let form = &html[html.find("<form method=\"post\"")?..];
    let start = form.find("action=\"")? + "action=\"".len();
    let raw = &form[start..start + form[start..].find('"')?];
    Some(raw.replace("&#38;", "&"))
}

impl Drop for OidcPeer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The Chromium the browser suite drives: `GATEHOUSE_TEST_CHROMIUM`, else Debian's.
pub fn chromium() -> PathBuf {
    std::env::var_os("GATEHOUSE_TEST_CHROMIUM").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

const BROWSER_HINT: &str = "run scripts/test.sh, which installs Debian's chromium and the Node test peers \
     (playwright-core and @axe-core/playwright, pinned in crates/testkit/peers/package.json) into target/test-peers/node \
     (or set GATEHOUSE_TEST_CHROMIUM / GATEHOUSE_TEST_NODE_MODULES)";

/// Run a browser scenario of `peers/browser/` in headless Chromium (playwright-core). The
/// script gets `config` as JSON on its command line, prints one JSON line per finding, and
/// exits non-zero when a check fails; returns its last JSON line. Missing Chromium or
/// packages fail with what to install, never skip.
pub fn run_browser(file: &str, scenario: &str, config: &serde_json::Value) -> serde_json::Value {
    let chromium = chromium();
    assert!(chromium.exists(), "{} is missing: {BROWSER_HINT}", chromium.display());
    let modules = node_modules();
    for package in ["playwright-core", "@axe-core/playwright"] {
        assert!(modules.join(package).join("package.json").exists(), "{package} is not installed: {BROWSER_HINT}");
    }
    let script = script("browser").join(format!("{file}.mjs"));
    let out = Command::new(node())
        .arg(&script)
        .arg(scenario)
        .arg(config.to_string())
        .env("NODE_PATH", &modules)
        .env("GATEHOUSE_TEST_CHROMIUM", &chromium)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .unwrap_or_else(|e| panic!("cannot start Node ({e}): {BROWSER_HINT}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    print!("{stdout}");
    assert!(out.status.success(), "browser scenario '{scenario}' failed ({}); its output is above", out.status);
    stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l).ok())
        .unwrap_or_else(|| panic!("browser scenario '{scenario}' printed no JSON result"))
}
