//! Who is connecting: the socket's peer, or — only when that peer is one of the configured
//! `trusted_proxies` — the address the proxy says it forwarded for. Anyone can write an
//! `X-Forwarded-For` header; believing it from an untrusted peer would let a client pick its
//! own rate-limit bucket.

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::http::request::Parts;
use axum::http::HeaderMap;
use ipnet::IpNet;

/// The client's address: the peer, or for a trusted proxy the nearest untrusted address of
/// `X-Forwarded-For` (read from the right, as each proxy appends the one it saw).
pub fn resolve(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[IpNet]) -> Option<IpAddr> {
    let peer = peer?;
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map_while(|part| part.trim().parse::<IpAddr>().ok())
        .collect();
    // Nearest first: the first untrusted one is the client; a chain of proxies only, the farthest.
    forwarded.iter().rev().find(|ip| !is_trusted(ip)).or(forwarded.first()).copied().or(Some(peer))
}

/// The peer address the accept loop recorded on the request.
pub fn peer(parts_extensions: &axum::http::Extensions) -> Option<IpAddr> {
    parts_extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(a)| a.ip())
}

/// The client of a request, with the server's trusted proxies.
pub fn of(parts: &Parts, trusted: &[IpNet]) -> Option<IpAddr> {
    resolve(peer(&parts.extensions), &parts.headers, trusted)
}

/// The client's address as an extractor (`None` only for requests that did not come through
/// the accept loop, such as a router called directly).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub Option<IpAddr>);

impl axum::extract::FromRequestParts<crate::state::AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, s: &crate::state::AppState) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(of(parts, &s.config.trusted_proxies)))
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_for_counts_only_behind_a_trusted_proxy() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()];
        // A client writing its own header is still itself.
        assert_eq!(resolve(Some(ip("203.0.113.7")), &headers(&["1.2.3.4"]), &trusted), Some(ip("203.0.113.7")));
        // Behind the proxy: the nearest address it did not add itself.
        let h = headers(&["198.51.100.1, 203.0.113.9", "10.1.2.3"]);
        assert_eq!(resolve(Some(ip("10.0.0.5")), &h, &trusted), Some(ip("203.0.113.9")));
        // A proxy that forwards nothing, or garbage: the proxy itself.
        assert_eq!(resolve(Some(ip("::1")), &headers(&[]), &trusted), Some(ip("::1")));
        assert_eq!(resolve(Some(ip("::1")), &headers(&["not an address"]), &trusted), Some(ip("::1")));
        // Without trusted proxies the header is never read.
        assert_eq!(resolve(Some(ip("10.0.0.5")), &h, &[]), Some(ip("10.0.0.5")));
        assert_eq!(resolve(None, &h, &trusted), None);
    }
}
