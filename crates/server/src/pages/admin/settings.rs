//! Settings (`/admin/settings`), administrators only: the host's name, the external-user
//! lifecycle (block sign-in when a guest's last assignment ends; remove them N days later; or
//! nothing), the domain allow and deny lists, and the privacy statement partners accept. The
//! form is `PATCH settings`' body, so the rules are the API's.

use askama::Template;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use gatehouse_app::AppError;
use gatehouse_domain::enums::ExternalUserLifecycleAction;
use gatehouse_domain::settings::{Settings, SettingsPatch};
use serde_json::json;

use super::wizard::Errors;
use super::{chrome, AdminChrome};
use crate::pages::forms::FormData;
use crate::pages::{render, see_other, sentence, PageResult, Viewer, INVALID};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "admin/settings.html")]
struct SettingsPage {
    chrome: AdminChrome,
    errors: Errors,
    saved: bool,
    host: String,
    lifecycle: String,
    delete_after_days: String,
    allow: String,
    deny: String,
    statement_url: String,
    contact_email: String,
}

impl SettingsPage {
    fn of(chrome: AdminChrome, s: &Settings, saved: bool) -> Self {
        SettingsPage {
            chrome,
            errors: Errors::default(),
            saved,
            host: s.organization_display_name.clone().unwrap_or_default(),
            lifecycle: s.external_user_lifecycle_action.to_string(),
            delete_after_days: (s.duration_until_external_user_deleted_after_blocked.seconds() / 86_400).to_string(),
            allow: s.external_domain_allow_list.join("\n"),
            deny: s.external_domain_deny_list.join("\n"),
            statement_url: s.privacy_profile.statement_url.clone().unwrap_or_default(),
            contact_email: s.privacy_profile.contact_email.clone().unwrap_or_default(),
        }
    }
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
pub struct SavedParam {
    /// Set after a save, to say so.
    saved: Option<String>,
}

/// `GET /admin/settings`.
pub async fn show(
    State(s): State<AppState>,
    v: Viewer,
    axum::extract::Query(q): axum::extract::Query<SavedParam>,
) -> PageResult {
    let settings = s.app.get_settings().await?;
    render(StatusCode::OK, &SettingsPage::of(chrome(&s, &v, "settings").await?, &settings, q.saved.is_some()))
}

fn lines(raw: &str) -> Vec<&str> {
    raw.split(|c: char| c == ',' || c.is_whitespace()).filter(|d| !d.is_empty()).collect()
}

/// `POST /admin/settings`.
pub async fn save(State(s): State<AppState>, v: Viewer, body: Bytes) -> PageResult {
    let f = FormData::parse(&body);
    let settings = s.app.get_settings().await?;
    let mut page = SettingsPage::of(chrome(&s, &v, "settings").await?, &settings, false);
    let raw = |k: &str| f.raw(k).unwrap_or("").trim().to_owned();
    page.host = raw("host");
    page.lifecycle = match f.get("lifecycle") {
        Some("none") => ExternalUserLifecycleAction::None,
        Some("blockSignIn") => ExternalUserLifecycleAction::BlockSignIn,
        _ => ExternalUserLifecycleAction::BlockSignInAndDelete,
    }
    .to_string();
    page.delete_after_days = raw("delete_after_days");
    page.allow = raw("allow");
    page.deny = raw("deny");
    page.statement_url = raw("statement_url");
    page.contact_email = raw("contact_email");
    let days = page.delete_after_days.parse::<i64>().ok().filter(|d| (0..=3660).contains(d));
    if days.is_none() {
        page.errors.add("delete_after_days", "Enter a whole number of days from 0 to 3660.");
    }
    if !lines(&page.allow).is_empty() && !lines(&page.deny).is_empty() {
        page.errors.add(
            "deny",
            "Use an allow list or a deny list, not both: with an allow list, every other domain is refused already.",
        );
    }
    if !page.errors.is_empty() {
        return render(INVALID, &page);
    }
    let patch = json!({
        "organizationDisplayName": page.host,
        "externalUserLifecycleAction": page.lifecycle,
        "durationUntilExternalUserDeletedAfterBlocked": format!("P{}D", days.unwrap_or(30)),
        "externalDomainAllowList": lines(&page.allow),
        "externalDomainDenyList": lines(&page.deny),
        "privacyProfile": {"statementUrl": page.statement_url, "contactEmail": page.contact_email},
    });
    let patch: Result<SettingsPatch, _> = serde_json::from_value(patch);
    let result = match patch {
        Ok(patch) => s.app.update_settings(&v.actor(), patch).await,
        Err(e) => Err(gatehouse_domain::ValidationError::general(e.to_string()).into()),
    };
    match result {
        Ok(_) => see_other("/admin/settings?saved=1"),
        Err(AppError::Validation(e)) => {
            let field = match e.target.as_deref().unwrap_or("") {
                "externalDomainAllowList" => "allow",
                "externalDomainDenyList" => "deny",
                "privacyProfile.statementUrl" => "statement_url",
                "privacyProfile.contactEmail" => "contact_email",
                "durationUntilExternalUserDeletedAfterBlocked" => "delete_after_days",
                _ => "host",
            };
            page.errors.add(field, sentence(&e.message));
            render(INVALID, &page)
        }
        Err(e) => Err(e.into()),
    }
}
