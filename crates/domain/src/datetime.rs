//! Date-time handling: Graph sends RFC 3339 with any offset; the Python SDK may send naive
//! values, which mean UTC. Everything is stored and emitted in UTC.

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer};

pub fn parse(s: &str) -> Result<DateTime<Utc>, String> {
    let s = s.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Ok(dt.with_timezone(&Utc));
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(s, fmt) {
            return Ok(naive.and_utc());
        }
    }
    Err(format!("'{s}' is not a valid date-time; use ISO 8601 such as 2026-03-02T10:00:00Z"))
}

/// The fixed-width UTC form used in storage, so that text order is time order.
pub fn to_storage(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// The wire form.
pub fn to_wire(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

pub fn deserialize_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    match Option::<String>::deserialize(d)? {
        None => Ok(None),
        Some(s) => parse(&s).map(Some).map_err(serde::de::Error::custom),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_offsets_and_naive() {
        let a = parse("2026-03-02T10:00:00+01:00").unwrap();
        let b = parse("2026-03-02T09:00:00").unwrap();
        let c = parse("2026-03-02T09:00:00.000Z").unwrap();
        assert_eq!(a, b);
        assert_eq!(b, c);
        assert!(parse("yesterday").is_err());
        assert_eq!(to_storage(&a), "2026-03-02T09:00:00.000000Z");
        assert_eq!(to_wire(&a), "2026-03-02T09:00:00Z");
    }
}
