//! The pages' stylesheet and scripts, compiled into the binary (no front-end build, nothing
//! from another origin). Each is served with a strong ETag and revalidated (`no-cache`), and
//! pages name scripts with their SHA-384 (`integrity`), so a changed file is never run.
//! htmx is vendored at a pinned version (`assets/htmx.min.js`, 2.0.11, licence beside it).

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use sha2::{Digest, Sha256, Sha384};

pub struct Asset {
    pub name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
    etag: String,
    /// `sha384-…`, for `<script integrity>`.
    pub integrity: String,
    /// A short content hash, so a new version gets a new URL.
    version: String,
}

fn asset(name: &'static str, content_type: &'static str, body: &'static [u8]) -> Asset {
    let sha = hex::encode(Sha256::digest(body));
    Asset {
        name,
        content_type,
        body,
        etag: format!("\"{sha}\""),
        integrity: format!("sha384-{}", base64::engine::general_purpose::STANDARD.encode(Sha384::digest(body))),
        version: sha[..12].to_owned(),
    }
}

static ASSETS: LazyLock<Vec<Asset>> = LazyLock::new(|| {
    vec![
        asset("gatehouse.css", "text/css; charset=utf-8", include_bytes!("../../assets/gatehouse.css")),
        asset("htmx.min.js", "text/javascript; charset=utf-8", include_bytes!("../../assets/htmx.min.js")),
        asset("gatehouse.js", "text/javascript; charset=utf-8", include_bytes!("../../assets/gatehouse.js")),
    ]
});

fn find(name: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.name == name)
}

/// The versioned URL of an asset.
pub fn url(name: &str) -> String {
    match find(name) {
        Some(a) => format!("/assets/{}?v={}", a.name, a.version),
        None => format!("/assets/{name}"),
    }
}

/// The scripts every signed-in page loads, with their integrity.
pub fn scripts() -> Vec<(String, &'static str)> {
    ["htmx.min.js", "gatehouse.js"].iter().filter_map(|n| find(n).map(|a| (url(n), a.integrity.as_str()))).collect()
}

/// `GET /assets/{file}`.
pub async fn serve(Path(file): Path<String>, headers: HeaderMap) -> Response {
    let Some(a) = find(&file) else {
        return (StatusCode::NOT_FOUND, [(CONTENT_TYPE, "text/plain; charset=utf-8")], "no such asset\n")
            .into_response();
    };
    let cache = [(CACHE_CONTROL, "public, no-cache"), (ETAG, a.etag.as_str())];
    if headers
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == a.etag))
    {
        return (StatusCode::NOT_MODIFIED, cache).into_response();
    }
    (StatusCode::OK, cache, [(CONTENT_TYPE, a.content_type)], a.body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_carry_their_hash_and_a_versioned_url() {
        let scripts = scripts();
        assert_eq!(scripts.len(), 2);
        for (src, integrity) in scripts {
            assert!(src.starts_with("/assets/") && src.contains("?v="), "{src}");
            assert!(integrity.starts_with("sha384-") && integrity.len() > 60, "{integrity}");
        }
    }
}
