//! Signed webhook calls, following Standard Webhooks (standardwebhooks.com): headers
//! `webhook-id` (the same on every retry of one message, so receivers can drop duplicates),
//! `webhook-timestamp` (Unix seconds) and `webhook-signature` = `v1,` + base64 of
//! HMAC-SHA256 over `id.timestamp.body`, keyed with the bytes of the `whsec_…` secret.
//! The HMAC is `ring`'s; the format is a dozen lines, so no crate is needed for it.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use gatehouse_domain::connection::Secret;
use ring::hmac;
use serde_json::Value;

use crate::error::{TargetError, TargetErrorKind};
use crate::http::{excerpt, send_error, status_kind};

/// The key of a `whsec_…` secret.
pub fn key_of(secret: &Secret) -> Result<Vec<u8>, TargetError> {
    let b64 = secret.expose().strip_prefix("whsec_").unwrap_or(secret.expose());
    STANDARD.decode(b64).map_err(|_| {
        TargetError::new(TargetErrorKind::Unauthorized, "the webhook signing secret is not whsec_ followed by base64")
    })
}

/// The `webhook-signature` value for one message.
pub fn sign(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(id.as_bytes());
    ctx.update(b".");
    ctx.update(timestamp.to_string().as_bytes());
    ctx.update(b".");
    ctx.update(body);
    format!("v1,{}", STANDARD.encode(ctx.sign().as_ref()))
}

/// A new signing secret: 32 random bytes in the `whsec_` form.
pub fn generate_secret() -> String {
    use ring::rand::SecureRandom;
    let mut key = [0u8; 32];
    ring::rand::SystemRandom::new().fill(&mut key).expect("the system's random source works");
    format!("whsec_{}", STANDARD.encode(key))
}

/// POST a signed JSON message. 2xx is done; another answer is an error classified for retry
/// (5xx, 408, 429 and timeouts may pass; other 4xx are refusals, with the receiver's reason).
pub async fn post(
    http: &reqwest::Client,
    url: &str,
    secret: &Secret,
    id: &str,
    timestamp: i64,
    body: &Value,
    timeout: Option<std::time::Duration>,
) -> Result<(), TargetError> {
    let key = key_of(secret)?;
    let bytes = serde_json::to_vec(body).expect("JSON serializes");
    let what = format!("the webhook at {url}");
    let mut req = http.post(url);
    if let Some(t) = timeout {
        req = req.timeout(t);
    }
    let resp = req
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("webhook-id", id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", sign(&key, id, timestamp, &bytes))
        .body(bytes)
        .send()
        .await
        .map_err(|e| send_error(&what, &e))?;
    let status = resp.status();
    if status.is_success() {
        return Ok(());
    }
    let location = resp.headers().get(reqwest::header::LOCATION).and_then(|l| l.to_str().ok()).map(str::to_owned);
    let text = resp.text().await.unwrap_or_default();
    let reason = reason(&text);
    let kind = match status_kind(status) {
        // A receiver's 401/403 is its refusal of this call; Standard Webhooks receivers answer
        // a bad signature that way, and waiting will not change the signature.
        TargetErrorKind::Unauthorized => TargetErrorKind::Permanent,
        k => k,
    };
    let message = if status.is_redirection() {
        let to = location.unwrap_or_else(|| "elsewhere".into());
        format!("{what} redirected ({}) to {}; configure the URL it points to", status.as_u16(), excerpt(&to, 200))
    } else {
        format!("{what} answered {}: {reason}", status.as_u16())
    };
    Err(TargetError::new(kind, message))
}

/// The receiver's reason: a JSON body's `error`/`message`/`reason`/`detail`, or the text.
fn reason(text: &str) -> String {
    if let Ok(v) = serde_json::from_str::<Value>(text) {
        for key in ["reason", "message", "error", "detail"] {
            match v.get(key) {
                Some(Value::String(s)) => return excerpt(s, 500),
                Some(Value::Object(o)) => {
                    if let Some(Value::String(s)) = o.get("message") {
                        return excerpt(s, 500);
                    }
                }
                _ => {}
            }
        }
    }
    if text.trim().is_empty() {
        "no reason given".to_owned()
    } else {
        excerpt(text, 500)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Standard Webhooks reference libraries' test vector.
    #[test]
    fn signs_like_the_reference_libraries() {
        let key = key_of(&Secret::new("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD")).unwrap();
        let sig = sign(
            &key,
            "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
            1649367553,
            br#"{"email":"test@example.com","username":"test_user"}"#,
        );
        assert_eq!(sig, "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=");
    }

    #[test]
    fn generated_secrets_are_valid_standard_webhooks_secrets() {
        let s = generate_secret();
        gatehouse_domain::connection::validate_signing_secret(&s).unwrap();
        assert_eq!(key_of(&Secret::new(s)).unwrap().len(), 32);
    }

    #[test]
    fn reasons_come_from_json_or_text() {
        assert_eq!(reason(r#"{"reason":"no such site"}"#), "no such site");
        assert_eq!(reason(r#"{"error":{"code":"x","message":"quota"}}"#), "quota");
        assert_eq!(reason("plain\ntext"), "plain text");
        assert_eq!(reason(""), "no reason given");
    }
}
