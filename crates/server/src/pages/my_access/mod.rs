//! My Access: the requestor's and the approver's portal. One module per section of its
//! navigation: access packages (the list and the package link), request history, my access,
//! approvals. Every action goes through the same `App` service as the Graph API call that does
//! the same thing, so rules, authorization and audit records are the API's.

pub mod access;
pub mod approvals;
pub mod packages;
pub mod requests;

use gatehouse_domain::enums::ExpirationPatternType;
use gatehouse_domain::policy::AssignmentPolicy;

use super::{Chrome, PageError, Viewer};
use crate::state::AppState;

/// The chrome of a My Access page, with the host's name from the settings.
pub async fn chrome(s: &AppState, v: &Viewer, section: &'static str) -> Result<Chrome, PageError> {
    let settings = s.app.get_settings().await?;
    Ok(v.chrome(section, settings.organization_display_name.as_deref()))
}

/// How long access under the policy lasts, in words.
pub fn lifetime(p: &AssignmentPolicy) -> String {
    let e = &p.expiration;
    match e.kind {
        Some(ExpirationPatternType::AfterDuration) => match e.duration {
            Some(d) => format!("Access lasts {}.", duration_words(d)),
            None => "Access ends after a set time.".into(),
        },
        Some(ExpirationPatternType::AfterDateTime) => match e.end_date_time {
            Some(t) => format!("Access ends on {}.", super::when::date(&t)),
            None => "Access ends on a set date.".into(),
        },
        _ => "Access does not expire.".into(),
    }
}

/// A policy duration in words: "90 days", "12 hours", "30 minutes".
fn duration_words(d: gatehouse_domain::duration::Duration) -> String {
    let secs = d.seconds();
    let plural = |n: i64, unit: &str| if n == 1 { format!("1 {unit}") } else { format!("{n} {unit}s") };
    if secs % 86_400 == 0 {
        plural(secs / 86_400, "day")
    } else if secs % 3600 == 0 {
        plural(secs / 3600, "hour")
    } else {
        plural((secs / 60).max(1), "minute")
    }
}

#[cfg(test)]
mod tests {
    use gatehouse_domain::duration::Duration;

    use super::duration_words;

    #[test]
    fn durations_read_as_words() {
        assert_eq!(duration_words(Duration::from_days(90)), "90 days");
        assert_eq!(duration_words(Duration::from_days(1)), "1 day");
        assert_eq!(duration_words(Duration::from_seconds(12 * 3600)), "12 hours");
        assert_eq!(duration_words(Duration::from_seconds(90 * 60)), "90 minutes");
    }
}
