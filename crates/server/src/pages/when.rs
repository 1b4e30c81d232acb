//! Dates as people read them on the pages (always UTC, said so), time left, and the date
//! fields of forms.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};

/// "2 Dec 2026".
pub fn date(t: &DateTime<Utc>) -> String {
    t.format("%-d %b %Y").to_string()
}

/// "2 Dec 2026, 14:05 UTC".
pub fn datetime(t: &DateTime<Utc>) -> String {
    t.format("%-d %b %Y, %H:%M UTC").to_string()
}

/// "2026-12-02", for `<input type=date>`.
pub fn input_date(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
}

/// How long until `until`, roughly: "13 days", "5 hours", "40 minutes", "less than a minute".
pub fn left(now: DateTime<Utc>, until: DateTime<Utc>) -> String {
    let d = until - now;
    let plural = |n: i64, unit: &str| if n == 1 { format!("1 {unit}") } else { format!("{n} {unit}s") };
    if d < Duration::minutes(1) {
        "less than a minute".into()
    } else if d < Duration::hours(1) {
        plural(d.num_minutes(), "minute")
    } else if d < Duration::days(2) {
        plural(d.num_hours(), "hour")
    } else {
        plural(d.num_days(), "day")
    }
}

/// A form's start date: that day's beginning (UTC).
pub fn start_of(day: &str) -> Option<DateTime<Utc>> {
    let d = NaiveDate::parse_from_str(day.trim(), "%Y-%m-%d").ok()?;
    Some(d.and_time(NaiveTime::MIN).and_utc())
}

/// A form's end date: access lasts through that day (UTC).
pub fn end_of(day: &str) -> Option<DateTime<Utc>> {
    Some(start_of(day)? + Duration::days(1) - Duration::seconds(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_plainly() {
        let t = DateTime::parse_from_rfc3339("2026-12-02T14:05:09Z").unwrap().to_utc();
        assert_eq!(date(&t), "2 Dec 2026");
        assert_eq!(datetime(&t), "2 Dec 2026, 14:05 UTC");
        assert_eq!(input_date(&t), "2026-12-02");
        assert_eq!(left(t, t + Duration::days(13) + Duration::hours(3)), "13 days");
        assert_eq!(left(t, t + Duration::hours(30)), "30 hours");
        assert_eq!(left(t, t + Duration::minutes(1)), "1 minute");
        assert_eq!(left(t, t + Duration::seconds(5)), "less than a minute");
        assert_eq!(left(t, t - Duration::days(1)), "less than a minute");
    }

    #[test]
    fn form_dates_cover_whole_days() {
        assert_eq!(start_of("2027-01-31").unwrap().to_rfc3339(), "2027-01-31T00:00:00+00:00");
        assert_eq!(end_of("2027-01-31").unwrap().to_rfc3339(), "2027-01-31T23:59:59+00:00");
        for bad in ["", "31/01/2027", "2027-02-30", "tomorrow"] {
            assert!(start_of(bad).is_none(), "{bad}");
        }
    }
}
