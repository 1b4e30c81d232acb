//! Abuse is throttled and seen: failed bearer tokens, client secrets and one-time sign-in links
//! are limited per client address (429 with Retry-After past the limit, even for a correct
//! credential from that address), a correct credential from another address is unaffected,
//! `X-Forwarded-For` counts only from a trusted proxy, the failures are counted in `/metrics`
//! and logged without the secret.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use gatehouse_server::throttle::ThrottleLimits;
use gatehouse_server::ServerConfig;
use gatehouse_testkit::{each_backend, json, spawn_with, Backend, TestServer};
use reqwest::StatusCode;

const LIMIT: u32 = 5;

/// Everything the server logs, kept in memory to look for secrets.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);

impl Write for Log {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture_logs() -> Log {
    let log = Log::default();
    let writer = log.clone();
    // One test per process (nextest): the global subscriber is this test's.
    let _ = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .try_init();
    log
}

impl Log {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// A server behind a "proxy" at 127.0.0.1 (the tests), so `X-Forwarded-For` picks the
/// address a call comes from.
async fn server(backend: Backend, trusted: bool) -> TestServer {
    spawn_with(backend, |_| async move {
        let config = ServerConfig {
            trusted_proxies: if trusted { vec!["127.0.0.1/32".parse().unwrap()] } else { vec![] },
            throttle: ThrottleLimits { limit: LIMIT, window: Duration::from_secs(60) },
            ..ServerConfig::default()
        };
        (config, ())
    })
    .await
    .0
}

async fn me(s: &TestServer, token: &str, from: &str) -> reqwest::Response {
    s.http.get(s.url("/v1.0/me")).bearer_auth(token).header("x-forwarded-for", from).send().await.unwrap()
}

async fn metric(s: &TestServer, name: &str) -> f64 {
    let text = s.http.get(s.url("/metrics")).send().await.unwrap().text().await.unwrap();
    text.lines().find_map(|l| l.strip_prefix(name).and_then(|v| v.trim().parse().ok())).unwrap_or(0.0)
}

async fn bad_bearer_tokens(backend: Backend) {
    let log = capture_logs();
    let s = server(backend, true).await;
    let guess = "ghp_guessed-token-that-must-never-be-logged-0001";
    for i in 0..LIMIT {
        assert_eq!(me(&s, guess, "203.0.113.7").await.status(), StatusCode::UNAUTHORIZED, "guess {i}");
    }
    let refused = me(&s, guess, "203.0.113.7").await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = refused.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "tooManyRequests", "{body}");
    // Even the right token from that address waits; from another address it works at once.
    assert_eq!(me(&s, &s.admin_token, "203.0.113.7").await.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(me(&s, &s.admin_token, "198.51.100.20").await.status(), StatusCode::OK);
    assert_eq!(metric(&s, "gatehouse_auth_failures_total{credential=\"bearer_token\"}").await, f64::from(LIMIT));
    assert!(metric(&s, "gatehouse_auth_throttled_total{credential=\"bearer_token\"}").await >= 2.0);
    let text = log.text();
    assert!(text.contains("throttling a client after failed credentials") && text.contains("203.0.113.7"), "{text}");
    assert!(!text.contains(guess) && !text.contains(&s.admin_token), "a secret reached the log");
}

/// Without a trusted proxy, writing `X-Forwarded-For` does not buy a fresh bucket.
async fn forwarded_for_is_ignored_from_untrusted_peers(backend: Backend) {
    let s = server(backend, false).await;
    for i in 0..LIMIT {
        let from = format!("203.0.113.{i}");
        assert_eq!(me(&s, "ghp_nope", &from).await.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(me(&s, "ghp_nope", "192.0.2.200").await.status(), StatusCode::TOO_MANY_REQUESTS);
}

async fn bad_client_secrets(backend: Backend) {
    let log = capture_logs();
    let s = server(backend, true).await;
    let created = s
        .post(
            "/gatehouse/servicePrincipals",
            json!({"displayName": "HR sync", "scopes": ["EntitlementManagement.Read.All"]}),
        )
        .await
        .expect(201);
    let (id, secret) =
        (created["appId"].as_str().unwrap().to_owned(), created["secretText"].as_str().unwrap().to_owned());
    let token = |secret: String, from: &'static str| {
        let s = &s;
        let id = id.clone();
        async move {
            let form =
                [("grant_type", "client_credentials"), ("client_id", id.as_str()), ("client_secret", secret.as_str())];
            s.http.post(s.url("/oauth2/token")).form(&form).header("x-forwarded-for", from).send().await.unwrap()
        }
    };
    let guess = "ghs_a-guessed-secret-never-logged".to_owned();
    for _ in 0..LIMIT {
        assert_eq!(token(guess.clone(), "203.0.113.8").await.status(), StatusCode::UNAUTHORIZED);
    }
    let refused = token(secret.clone(), "203.0.113.8").await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers().contains_key("retry-after"));
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["error"], "temporarily_unavailable", "RFC 6749's shape: {body}");
    assert_eq!(token(secret.clone(), "198.51.100.21").await.status(), StatusCode::OK);
    assert_eq!(metric(&s, "gatehouse_auth_failures_total{credential=\"client_secret\"}").await, f64::from(LIMIT));
    let text = log.text();
    assert!(!text.contains(&guess) && !text.contains(&secret), "a secret reached the log");
}

async fn bad_sign_in_links(backend: Backend) {
    let s = server(backend, true).await;
    let get = |code: String, from: &'static str| {
        let s = &s;
        async move {
            let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
            client
                .get(s.url(&format!("/signin/link?code={code}")))
                .header("x-forwarded-for", from)
                .send()
                .await
                .unwrap()
        }
    };
    for i in 0..LIMIT {
        assert_eq!(get(format!("made-up-{i}"), "203.0.113.9").await.status(), StatusCode::UNAUTHORIZED);
    }
    let refused = get("made-up-again".into(), "203.0.113.9").await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers().contains_key("retry-after"));
    assert!(refused.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let me: serde_json::Value = s.get("/v1.0/me").await.expect(200);
    let code = s.app.create_bootstrap_link(me["id"].as_str().unwrap().parse().unwrap()).await.unwrap();
    assert_eq!(get(code, "198.51.100.22").await.status(), StatusCode::SEE_OTHER, "a good link from elsewhere works");
    assert_eq!(metric(&s, "gatehouse_auth_failures_total{credential=\"sign_in_link\"}").await, f64::from(LIMIT));
}

each_backend!(bad_bearer_tokens, forwarded_for_is_ignored_from_untrusted_peers, bad_client_secrets, bad_sign_in_links);
