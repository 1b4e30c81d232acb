//! The admin portal (`/admin`): what the seeds' administrators click, page by page, over the
//! same `App` services as the Graph API, so each person sees and changes exactly what their
//! roles allow there. One module per section of its navigation; the chrome lists only the
//! sections the viewer may open.

pub mod audit;
pub mod catalog;
pub mod catalog_resources;
pub mod catalogs;
pub mod chart;
pub mod connection_form;
pub mod connections;
pub mod dashboard;
pub mod organization_new;
pub mod organizations;
pub mod package;
pub mod package_draft;
pub mod package_new;
pub mod packages;
pub mod policy_form;
pub mod reports;
pub mod settings;
pub mod wizard;

use gatehouse_app::ListQuery;
use gatehouse_domain::principal::Permission;

use super::{Chrome, PageError, Viewer};
use crate::state::AppState;

/// A list call that only counts (the counts the lists show beside each row).
pub const COUNT_ONLY: ListQuery<'static> = ListQuery { top: 0, count: true, ..ListQuery::EXPANDED };

/// One entry of the admin navigation.
pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

/// The sections, with the permission each needs (the route's, so a link never leads to a
/// refusal).
const SECTIONS: &[(&str, &str, &str, Permission)] = &[
    ("dashboard", "/admin", "Dashboard", Permission::TenantRead),
    ("organizations", "/admin/connectedOrganizations", "Connected organizations", Permission::EntitlementRead),
    ("catalogs", "/admin/catalogs", "Catalogs", Permission::EntitlementRead),
    ("packages", "/admin/accessPackages", "Access packages", Permission::EntitlementRead),
    ("connections", "/admin/connections", "Connections", Permission::EntitlementRead),
    ("reports", "/admin/reports", "Reports", Permission::EntitlementRead),
    ("settings", "/admin/settings", "Settings", Permission::EntitlementWrite),
    ("audit", "/admin/audit", "Audit log", Permission::TenantRead),
];

/// The chrome of an admin page: the host's name, and the sections this viewer may open.
pub async fn chrome(s: &AppState, v: &Viewer, section: &'static str) -> Result<AdminChrome, PageError> {
    let settings = s.app.get_settings().await?;
    let nav = SECTIONS
        .iter()
        .filter(|(_, _, _, perm)| v.principal.may(*perm).is_ok())
        .map(|(key, href, label, _)| NavItem { href, label, current: *key == section })
        .collect();
    Ok(AdminChrome { base: v.chrome(section, settings.organization_display_name.as_deref()), nav })
}

pub struct AdminChrome {
    pub base: Chrome,
    pub nav: Vec<NavItem>,
}
