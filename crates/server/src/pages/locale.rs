//! The browser's preferred languages, from `Accept-Language` (RFC 9110 §12.5.4): tags ordered
//! by their `q` weight, ties in the order sent, `q=0` left out. Choosing among a question's
//! localized texts is the domain's (`question::localized`).

use axum::http::header::ACCEPT_LANGUAGE;
use axum::http::HeaderMap;

/// At most this many tags are read: a header is not a place to do work in.
const MAX_TAGS: usize = 16;

pub fn preferred(headers: &HeaderMap) -> Vec<String> {
    let raw = headers.get(ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("");
    parse(raw)
}

pub fn parse(raw: &str) -> Vec<String> {
    let mut tags: Vec<(u16, usize, String)> = raw
        .split(',')
        .take(MAX_TAGS)
        .enumerate()
        .filter_map(|(i, part)| {
            let mut pieces = part.split(';');
            let tag = pieces.next()?.trim();
            let valid = !tag.is_empty()
                && tag.len() <= 35
                && tag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'*');
            if !valid {
                return None;
            }
            let mut weight = 1000u16;
            for p in pieces {
                if let Some(q) = p.trim().strip_prefix("q=") {
                    weight = q
                        .trim()
                        .parse::<f32>()
                        .ok()
                        .filter(|q| (0.0..=1.0).contains(q))
                        .map_or(0, |q| (q * 1000.0) as u16);
                }
            }
            (weight > 0).then(|| (weight, i, tag.to_owned()))
        })
        .collect();
    tags.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    tags.into_iter().map(|(_, _, t)| t).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_ordered_by_weight_then_as_sent() {
        assert_eq!(parse("de-CH, fr;q=0.5, en;q=0.9, *;q=0.1"), ["de-CH", "en", "fr", "*"]);
        assert_eq!(parse("fr-CA,fr;q=0.9"), ["fr-CA", "fr"]);
        assert_eq!(parse("en, es"), ["en", "es"], "ties keep their order");
    }

    #[test]
    fn junk_and_refusals_are_left_out() {
        assert_eq!(parse("de;q=0, en"), ["en"], "q=0 means not acceptable");
        assert_eq!(parse("<script>, en;q=abc, fr"), ["fr"], "a bad weight counts as refused");
        assert!(parse("").is_empty());
        let many = vec!["en"; 100].join(",");
        assert_eq!(parse(&many).len(), MAX_TAGS);
    }
}
