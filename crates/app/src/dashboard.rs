//! The admin dashboard: what needs attention now (pending approvals, failing deliveries),
//! active guests per connected organization, and per day over the last days: requests,
//! approvals, denials (from the audit log) and active guests (guests holding at least one
//! assignment that day, from the assignments' spans). Tenant-wide: for administrators.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use gatehouse_store::dashboard;
use uuid::Uuid;

use crate::{App, Result};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Day {
    pub date: NaiveDate,
    pub requests: i64,
    pub approvals: i64,
    pub denials: i64,
    pub active_guests: i64,
}

#[derive(Debug, Clone)]
pub struct Dashboard {
    pub pending_approvals: i64,
    pub failing_deliveries: i64,
    /// (organization name, enabled guests), most first; "No organization" for the rest.
    pub guests_by_organization: Vec<(String, i64)>,
    pub days: Vec<Day>,
}

const SUBMIT: &str = "assignmentRequest.submit";
const APPROVED: &str = "assignmentRequest.approved";
const DENIED: &str = "assignmentRequest.denied";

/// The series for the `days` days ending today, from per-day activity counts and guests'
/// assignment spans. Pure: the caller passes `now`.
pub fn daily(
    now: DateTime<Utc>,
    days: i64,
    activity: &[(String, String, i64)],
    spans: &[dashboard::GuestSpan],
) -> Vec<Day> {
    let today = now.date_naive();
    let counts: HashMap<(&str, &str), i64> = activity.iter().map(|(d, a, n)| ((d.as_str(), a.as_str()), *n)).collect();
    (0..days)
        .rev()
        .map(|back| {
            let date = today - Duration::days(back);
            let key = date.format("%Y-%m-%d").to_string();
            let start = date.and_hms_opt(0, 0, 0).expect("midnight").and_utc();
            let end = start + Duration::days(1);
            let guests: HashSet<Uuid> = spans
                .iter()
                .filter(|(_, from, until)| *from < end && until.is_none_or(|u| u >= start))
                .map(|(g, _, _)| *g)
                .collect();
            let n = |a: &str| counts.get(&(key.as_str(), a)).copied().unwrap_or(0);
            Day {
                date,
                requests: n(SUBMIT),
                approvals: n(APPROVED),
                denials: n(DENIED),
                active_guests: guests.len() as i64,
            }
        })
        .collect()
}

impl App {
    pub async fn dashboard(&self, days: i64) -> Result<Dashboard> {
        let now = self.now();
        let since = (now - Duration::days(days - 1)).date_naive().and_hms_opt(0, 0, 0).expect("midnight").and_utc();
        let mut conn = self.store.conn().await?;
        let activity = dashboard::activity_per_day(&mut conn, &[SUBMIT, APPROVED, DENIED], since).await?;
        let spans = dashboard::guest_assignment_spans(&mut conn, since).await?;
        let states =
            dashboard::requests_in_states(&mut conn, &["pendingApproval", "partiallyDelivered", "deliveryFailed"])
                .await?;
        let by_org = dashboard::active_guests_by_organization(&mut conn).await?;
        drop(conn);
        let state = |s: &str| states.iter().filter(|(k, _)| k == s).map(|(_, n)| n).sum::<i64>();
        let mut guests_by_organization = Vec::new();
        for (org, n) in by_org {
            let name = match org {
                Some(o) => self.get_connected_organization(o).await.map_or_else(|_| o.to_string(), |o| o.display_name),
                None => "No organization".into(),
            };
            guests_by_organization.push((name, n));
        }
        guests_by_organization.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Ok(Dashboard {
            pending_approvals: state("pendingApproval"),
            failing_deliveries: state("partiallyDelivered") + state("deliveryFailed"),
            guests_by_organization,
            days: daily(now, days, &activity, &spans),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    #[test]
    fn days_count_activity_and_the_guests_holding_access_that_day() {
        let now = at("2026-12-03T10:00:00Z");
        let activity = vec![
            ("2026-12-02".to_owned(), SUBMIT.to_owned(), 3),
            ("2026-12-02".to_owned(), APPROVED.to_owned(), 2),
            ("2026-12-03".to_owned(), DENIED.to_owned(), 1),
        ];
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let spans = vec![
            (a, at("2026-11-30T12:00:00Z"), Some(at("2026-12-02T08:00:00Z"))),
            // Two assignments of one guest count once.
            (b, at("2026-12-02T09:00:00Z"), None),
            (b, at("2026-12-02T10:00:00Z"), None),
        ];
        let d = daily(now, 4, &activity, &spans);
        assert_eq!(
            d.iter().map(|d| d.date.to_string()).collect::<Vec<_>>(),
            ["2026-11-30", "2026-12-01", "2026-12-02", "2026-12-03"]
        );
        assert_eq!(d.iter().map(|d| d.active_guests).collect::<Vec<_>>(), [1, 1, 2, 1]);
        assert_eq!((d[2].requests, d[2].approvals, d[2].denials), (3, 2, 0));
        assert_eq!(d[3].denials, 1);
    }
}
