//! `Edm.Duration` values. Graph sends ISO 8601 (`P14D`, `PT8H`); the Python SDK writes a
//! `timedelta` as `str(td)` (`"14 days, 0:00:00"`), so both are accepted. Years and months are
//! refused: their length depends on the calendar, and a policy must mean one fixed span.
//! Hand-written because the ISO subset is tiny and the Python form is not covered by any crate.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A non-negative span of time, to the second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration {
    seconds: i64,
}

const MAX_SECONDS: i64 = 100 * 366 * 86_400;

impl Duration {
    pub const ZERO: Duration = Duration { seconds: 0 };

    pub fn from_seconds(seconds: i64) -> Self {
        Duration { seconds }
    }

    pub fn from_days(days: i64) -> Self {
        Duration { seconds: days * 86_400 }
    }

    pub fn seconds(self) -> i64 {
        self.seconds
    }

    pub fn is_zero(self) -> bool {
        self.seconds == 0
    }

    pub fn to_chrono(self) -> chrono::Duration {
        chrono::Duration::seconds(self.seconds)
    }

    pub fn parse(input: &str) -> Result<Self, String> {
        let s = input.trim();
        let parsed = if s.starts_with('P') || s.starts_with('p') { parse_iso(&s[1..]) } else { parse_python(s) };
        match parsed {
            Some(seconds) if (0..=MAX_SECONDS).contains(&seconds) => Ok(Duration { seconds }),
            Some(_) => Err(format!("duration '{input}' is out of range")),
            None => Err(format!("'{input}' is not a valid duration; use ISO 8601 such as P14D, PT8H or P1DT12H")),
        }
    }
}

fn parse_iso(rest: &str) -> Option<i64> {
    let (date, time) = match rest.find(['T', 't']) {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    if date.is_empty() && time.is_none_or(str::is_empty) {
        return None;
    }
    let mut total = 0i64;
    total = total.checked_add(parse_units(date, &[('W', 7 * 86_400), ('D', 86_400)], false)?)?;
    if let Some(time) = time {
        if time.is_empty() {
            return None;
        }
        total = total.checked_add(parse_units(time, &[('H', 3600), ('M', 60), ('S', 1)], true)?)?;
    }
    Some(total)
}

/// Parses `<number><unit>` runs in the given unit order; fractions only for seconds.
fn parse_units(s: &str, units: &[(char, i64)], allow_fraction: bool) -> Option<i64> {
    let mut total = 0i64;
    let mut number = String::new();
    let mut next_unit = 0usize;
    for c in s.chars() {
        if c.is_ascii_digit() || (c == '.' && allow_fraction) {
            number.push(c);
            continue;
        }
        let c = c.to_ascii_uppercase();
        let pos = units[next_unit..].iter().position(|(u, _)| *u == c)? + next_unit;
        if number.is_empty() {
            return None;
        }
        let value = if number.contains('.') {
            if c != 'S' {
                return None;
            }
            number.parse::<f64>().ok()?.floor() as i64
        } else {
            number.parse::<i64>().ok()?
        };
        total = total.checked_add(value.checked_mul(units[pos].1)?)?;
        number.clear();
        next_unit = pos + 1;
    }
    number.is_empty().then_some(total)
}

/// `"14 days, 0:00:00"`, `"1 day, 2:30:00"`, `"8:00:00"`, `"0:00:30.5"`.
fn parse_python(s: &str) -> Option<i64> {
    let (days, clock) = match s.split_once(',') {
        Some((d, c)) => {
            let d = d.trim();
            let n = d.strip_suffix("days").or_else(|| d.strip_suffix("day"))?;
            (n.trim().parse::<i64>().ok()?, c.trim())
        }
        None => (0, s),
    };
    let mut parts = clock.split(':');
    let h: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let sec: f64 = parts.next()?.parse().ok()?;
    if parts.next().is_some() || !(0..60).contains(&m) || !(0.0..60.0).contains(&sec) || h < 0 {
        return None;
    }
    Some(days.checked_mul(86_400)? + h * 3600 + m * 60 + sec.floor() as i64)
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = self.seconds;
        let days = s / 86_400;
        s %= 86_400;
        let (h, m, sec) = (s / 3600, (s % 3600) / 60, s % 60);
        f.write_str("P")?;
        if days > 0 {
            write!(f, "{days}D")?;
        }
        if s > 0 || days == 0 {
            f.write_str("T")?;
            if h > 0 {
                write!(f, "{h}H")?;
            }
            if m > 0 {
                write!(f, "{m}M")?;
            }
            if sec > 0 || s == 0 {
                write!(f, "{sec}S")?;
            }
        }
        Ok(())
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl schemars::JsonSchema for Duration {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "duration".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "string", "format": "duration", "pattern": "^-?P", "example": "P14D"})
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Duration::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn iso_forms() {
        assert_eq!(Duration::parse("P14D").unwrap(), Duration::from_days(14));
        assert_eq!(Duration::parse("PT0S").unwrap(), Duration::ZERO);
        assert_eq!(Duration::parse("PT8H").unwrap().seconds(), 8 * 3600);
        assert_eq!(Duration::parse("P1DT12H30M").unwrap().seconds(), 86_400 + 12 * 3600 + 1800);
        assert_eq!(Duration::parse("P2W").unwrap(), Duration::from_days(14));
        assert_eq!(Duration::parse("PT1.5S").unwrap().seconds(), 1);
    }

    #[test]
    fn python_timedelta_forms() {
        assert_eq!(Duration::parse("14 days, 0:00:00").unwrap(), Duration::from_days(14));
        assert_eq!(Duration::parse("1 day, 2:00:00").unwrap().seconds(), 86_400 + 7200);
        assert_eq!(Duration::parse("8:00:00").unwrap().seconds(), 8 * 3600);
    }

    #[test]
    fn refusals() {
        for bad in ["", "P", "PT", "P1Y", "P1M", "14", "P-1D", "PD", "PT1H2D", "P1DT", "x days, 1:00:00", "1:99:00"] {
            assert!(Duration::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn canonical_output() {
        assert_eq!(Duration::from_days(90).to_string(), "P90D");
        assert_eq!(Duration::ZERO.to_string(), "PT0S");
        assert_eq!(Duration::from_seconds(86_400 + 3600 + 61).to_string(), "P1DT1H1M1S");
    }

    proptest! {
        #[test]
        fn display_round_trips(secs in 0i64..MAX_SECONDS) {
            let d = Duration::from_seconds(secs);
            prop_assert_eq!(Duration::parse(&d.to_string()).unwrap(), d);
        }

        #[test]
        fn never_panics(s in ".{0,40}") {
            let _ = Duration::parse(&s);
        }
    }
}
