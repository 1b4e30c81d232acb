//! Add a connected organization (`/admin/connectedOrganizations/new`) and edit one
//! (`/admin/connectedOrganizations/{id}/edit`, the same tabs), with the seeds' tabs:
//! Basics → Directory + domain → Sponsors → Review + create (see [`super::wizard`] for how the
//! tabs carry what was entered). Each domain is looked up as it is added, the way the API's
//! `lookupDomain` does, so the administrator sees before saving whether the partner's users
//! will sign in at their own OpenID provider or with one-time passcodes. The sponsor pickers
//! offer only members (internal) and only guests (external) — seed 003 asks for the latter —
//! and Create writes the organization and its sponsors in one transaction.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use gatehouse_app::{AppError, ListQuery};
use gatehouse_domain::connected_organization::{
    normalize_domain, ConnectedOrganizationPatch, IdentitySource, NewConnectedOrganization, SponsorKind,
};
use gatehouse_domain::directory::User;
use gatehouse_domain::enums::UserType;
use gatehouse_domain::odata::{parse_filter, Expr};
use serde_json::json;
use uuid::Uuid;

use super::wizard::{self, Errors, Tab};
use super::{chrome, AdminChrome};
use crate::pages::forms::FormData;
use crate::pages::{path_id, render, see_other, sentence, PageError, PageResult, Viewer, INVALID};
use crate::state::AppState;

const TABS: &[(&str, &str)] =
    &[("basics", "Basics"), ("domains", "Directory + domain"), ("sponsors", "Sponsors"), ("review", "Review + create")];

/// At most this many domains, as the API allows identity sources.
const MAX_DOMAINS: usize = 50;
const MAX_SPONSORS: usize = 50;
/// How many people a picker's search offers.
const PICKER_SIZE: u32 = 20;

/// A domain of the organization, as the lookup found it.
#[derive(Default)]
pub struct DomainRow {
    pub domain: String,
    /// The partner's OpenID provider; empty when its users get passcodes.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
}

/// A person a picker shows: chosen, or offered by the search.
pub struct Person {
    pub id: String,
    pub name: String,
    pub mail: String,
}

impl Person {
    fn of(u: &User) -> Person {
        Person { id: u.id.to_string(), name: u.display_name.clone(), mail: u.mail.clone().unwrap_or_default() }
    }
}

/// One sponsor picker: the people chosen, the search and what it offers.
#[derive(Default)]
pub struct Picker {
    pub chosen: Vec<Person>,
    pub query: String,
    pub offered: Vec<Person>,
    /// A guest added by address (external picker only).
    pub email: String,
}

/// Everything the form carries.
#[derive(Default)]
struct Draft {
    name: String,
    description: String,
    state: String,
    domains: Vec<DomainRow>,
    new_domain: String,
    new_issuer: String,
    internal: Vec<Uuid>,
    external: Vec<Uuid>,
}

impl Draft {
    fn read(f: &FormData) -> Draft {
        let text = |k: &str| f.raw(k).unwrap_or("").trim().to_owned();
        let domains = wizard::rows(f, "domain", MAX_DOMAINS)
            .into_iter()
            .map(|i| DomainRow {
                domain: text(&format!("domain.{i}")),
                issuer: text(&format!("issuer.{i}")),
                client_id: text(&format!("client_id.{i}")),
                client_secret: f.raw(&format!("client_secret.{i}")).unwrap_or("").to_owned(),
            })
            .filter(|d| !d.domain.is_empty())
            .collect();
        let ids = |k: &str| {
            let mut out: Vec<Uuid> = Vec::new();
            for id in f.all(k).iter().filter_map(|v| v.parse().ok()) {
                if !out.contains(&id) && out.len() < MAX_SPONSORS {
                    out.push(id);
                }
            }
            out
        };
        Draft {
            name: text("name"),
            description: text("description"),
            state: if f.get("state") == Some("proposed") { "proposed".into() } else { "configured".into() },
            domains,
            new_domain: text("new_domain"),
            new_issuer: text("new_issuer"),
            internal: ids("internal"),
            external: ids("external"),
        }
    }

    /// The body `POST connectedOrganizations` would get.
    fn body(&self) -> serde_json::Value {
        let sources: Vec<serde_json::Value> = self
            .domains
            .iter()
            .map(|d| {
                if d.issuer.is_empty() {
                    json!({"@odata.type": "#microsoft.graph.domainIdentitySource", "domainName": d.domain, "displayName": d.domain})
                } else {
                    let mut s = json!({"@odata.type": "#gatehouse.oidcIdentitySource", "domainName": d.domain,
                        "displayName": d.domain, "issuerUri": d.issuer});
                    if !d.client_id.is_empty() {
                        s["clientId"] = json!(d.client_id);
                    }
                    if !d.client_secret.is_empty() {
                        s["clientSecret"] = json!(d.client_secret);
                    }
                    s
                }
            })
            .collect();
        let mut body = json!({"displayName": self.name, "identitySources": sources, "state": self.state});
        if !self.description.is_empty() {
            body["description"] = json!(self.description);
        }
        body
    }
}

/// Adding an organization, or editing one (the same tabs; Save instead of Create).
#[derive(Clone, Copy)]
pub enum Mode {
    New,
    Edit(Uuid),
}

impl Mode {
    fn action(self) -> String {
        match self {
            Mode::New => "/admin/connectedOrganizations/new".into(),
            Mode::Edit(id) => format!("/admin/connectedOrganizations/{id}/edit"),
        }
    }
}

#[derive(Template)]
#[template(path = "admin/organization_new.html")]
struct WizardPage {
    chrome: AdminChrome,
    action: String,
    heading: &'static str,
    finish: &'static str,
    tabs: Vec<Tab>,
    current: &'static str,
    next: Option<Tab>,
    back: Option<Tab>,
    errors: Errors,
    name: String,
    description: String,
    state: String,
    /// Another organization already has this name (a warning, not a refusal).
    name_taken: Option<String>,
    domains: Vec<DomainRow>,
    new_domain: String,
    new_issuer: String,
    internal: Picker,
    external: Picker,
}

impl WizardPage {
    fn sign_in(&self, d: &DomainRow) -> &'static str {
        if d.issuer.is_empty() {
            "One-time passcode"
        } else {
            "OpenID Connect"
        }
    }
}

fn type_filter(kind: UserType) -> Expr {
    let text = match kind {
        UserType::Member => "userType eq 'Member'",
        UserType::Guest => "userType eq 'Guest'",
    };
    parse_filter(text).expect("a constant filter parses")
}

/// `GET /admin/connectedOrganizations/new`: the first tab, empty.
pub async fn form(State(s): State<AppState>, v: Viewer) -> PageResult {
    let draft = Draft { state: "configured".into(), ..Draft::default() };
    page(&s, &v, Mode::New, StatusCode::OK, draft, "basics", Errors::default(), Default::default()).await
}

/// `POST /admin/connectedOrganizations/new`: a tab, an action within one, or Create.
pub async fn submit(State(s): State<AppState>, v: Viewer, body: Bytes) -> PageResult {
    submit_in(&s, &v, Mode::New, &body).await
}

/// `GET /admin/connectedOrganizations/{id}/edit`: the tabs, filled from the organization.
pub async fn edit_form(State(s): State<AppState>, v: Viewer, Path(id): Path<String>) -> PageResult {
    let id = path_id(&id, "connected organization")?;
    let o = s.app.get_connected_organization(id).await?;
    let mut domains = Vec::new();
    for src in &o.identity_sources {
        match src {
            IdentitySource::Domain { domain_name, .. } => {
                domains.push(DomainRow { domain: domain_name.clone(), ..DomainRow::default() })
            }
            IdentitySource::Oidc { domain_name, issuer_uri, client_id, .. } => domains.push(DomainRow {
                domain: domain_name.clone(),
                issuer: issuer_uri.clone(),
                client_id: client_id.clone().unwrap_or_default(),
                // Write-only: left empty, the stored secret is kept.
                client_secret: String::new(),
            }),
            // Saving would drop them: those organizations are edited through the API.
            _ => {
                return Err(PageError::Message {
                    status: StatusCode::CONFLICT,
                    title: "Edit this organization through the API",
                    message: format!(
                        "{} has directories the portal does not edit ({}); change it with PATCH connectedOrganizations/{id}.",
                        o.display_name,
                        super::organizations::sign_in_kind(src)
                    ),
                })
            }
        }
    }
    let app = &s.app;
    let ids = |kind| async move {
        app.list_sponsors(id, kind, ListQuery::EXPANDED).await.map(|p| p.items.iter().map(|u| u.id).collect::<Vec<_>>())
    };
    let draft = Draft {
        name: o.display_name.clone(),
        description: o.description.clone().unwrap_or_default(),
        state: o.state.to_string(),
        domains,
        internal: ids(SponsorKind::Internal).await?,
        external: ids(SponsorKind::External).await?,
        ..Draft::default()
    };
    page(&s, &v, Mode::Edit(id), StatusCode::OK, draft, "basics", Errors::default(), Default::default()).await
}

/// `POST /admin/connectedOrganizations/{id}/edit`.
pub async fn edit(State(s): State<AppState>, v: Viewer, Path(id): Path<String>, body: Bytes) -> PageResult {
    let id = path_id(&id, "connected organization")?;
    s.app.get_connected_organization(id).await?;
    submit_in(&s, &v, Mode::Edit(id), &body).await
}

async fn submit_in(s: &AppState, v: &Viewer, mode: Mode, body: &[u8]) -> PageResult {
    let (s, v) = (s.clone(), v.clone());
    let f = FormData::parse(body);
    let mut d = Draft::read(&f);
    let (mut current, go) = wizard::asked(&f, TABS);
    let mut errors = Errors::default();
    let queries = Queries {
        internal: f.get("internal_q").unwrap_or("").chars().take(200).collect(),
        external: f.get("external_q").unwrap_or("").chars().take(200).collect(),
        email: f.get("external_email").unwrap_or("").to_owned(),
    };
    match go {
        "add_domain" => {
            current = "domains";
            add_domain(&s, &mut d, &mut errors).await?;
        }
        "search_internal" | "search_external" => current = "sponsors",
        "add_external_email" => {
            current = "sponsors";
            add_by_mail(&s, &mut d, &queries.email, &mut errors).await?;
        }
        g if g.starts_with("remove_domain.") => {
            current = "domains";
            if let Some(i) = g["remove_domain.".len()..].parse::<usize>().ok().filter(|i| *i < d.domains.len()) {
                d.domains.remove(i);
            }
        }
        _ => {
            // Moving on checks every tab before the one asked for; Create checks them all.
            let upto =
                if go == "create" { TABS.len() } else { TABS.iter().position(|(k, _)| *k == current).unwrap_or(0) };
            for (tab, _) in &TABS[..upto] {
                check(&s, &d, tab, &mut errors).await?;
                if !errors.is_empty() {
                    current = tab;
                    break;
                }
            }
            if go == "create" && errors.is_empty() {
                match save(&s, &v, mode, &d).await {
                    Ok(id) => return see_other(&format!("/admin/connectedOrganizations/{id}")),
                    Err(e) => current = refused(e, &mut errors)?,
                }
            }
        }
    }
    let status = if errors.is_empty() { StatusCode::OK } else { INVALID };
    page(&s, &v, mode, status, d, current, errors, queries).await
}

#[derive(Default)]
struct Queries {
    internal: String,
    external: String,
    email: String,
}

/// The typed domain: valid, not another organization's, looked up, then listed.
async fn add_domain(s: &AppState, d: &mut Draft, errors: &mut Errors) -> Result<(), AppError> {
    let domain = match normalize_domain(&d.new_domain) {
        Ok(domain) => domain,
        Err(e) if d.new_domain.is_empty() => {
            let _ = e;
            errors.add("new_domain", "Enter the partner's domain, for example fabrikam.example.");
            return Ok(());
        }
        Err(e) => {
            errors.add("new_domain", sentence(&e.message));
            return Ok(());
        }
    };
    if d.domains.iter().any(|x| x.domain == domain) {
        errors.add("new_domain", format!("{domain} is already in the list."));
        return Ok(());
    }
    if let Some(owner) = s.app.domain_owner(&domain).await? {
        errors.add("new_domain", format!("{domain} already belongs to the connected organization {owner}."));
        return Ok(());
    }
    if d.domains.len() >= MAX_DOMAINS {
        errors.add("new_domain", format!("An organization has at most {MAX_DOMAINS} domains."));
        return Ok(());
    }
    let issuer = Some(d.new_issuer.as_str()).filter(|i| !i.is_empty());
    match crate::api::connected_organizations::look_up(s, &domain, issuer).await {
        Ok(found) => {
            let issuer = match found.identity_source {
                gatehouse_domain::connected_organization::IdentitySource::Oidc { issuer_uri, .. } => issuer_uri,
                _ => String::new(),
            };
            d.domains.push(DomainRow { domain, issuer, ..DomainRow::default() });
            d.new_domain.clear();
            d.new_issuer.clear();
        }
        Err(e) => errors.add("new_issuer", sentence(&e.message)),
    }
    Ok(())
}

/// The external picker's "add by address": the guest with that mail.
async fn add_by_mail(s: &AppState, d: &mut Draft, mail: &str, errors: &mut Errors) -> Result<(), AppError> {
    if mail.is_empty() {
        errors.add("external", "Enter the guest's email address.");
        return Ok(());
    }
    match s.app.find_user_by_mail(mail).await? {
        None => errors.add("external", format!("Nobody in the directory has the address {mail}.")),
        Some(u) => {
            match gatehouse_app::connected_organizations::check_sponsor_kind(SponsorKind::External, &u, "external") {
                Err(AppError::Validation(e)) => errors.add("external", sentence(&e.message)),
                Err(e) => return Err(e),
                Ok(()) if !d.external.contains(&u.id) => d.external.push(u.id),
                Ok(()) => {}
            }
        }
    }
    Ok(())
}

/// One tab's rules (the service checks them again when creating).
async fn check(s: &AppState, d: &Draft, tab: &str, errors: &mut Errors) -> Result<(), AppError> {
    match tab {
        "basics" => {
            if d.name.is_empty() {
                errors.add("name", "Enter the organization's name.");
            } else if d.name.chars().count() > 256 {
                errors.add("name", "The name can be at most 256 characters.");
            }
            if d.description.chars().count() > 1024 {
                errors.add("description", "The description can be at most 1024 characters.");
            }
        }
        "domains" if d.domains.is_empty() => {
            errors.add("new_domain", "Add at least one domain: the partner's users are recognised by it.");
        }
        "sponsors" => {
            for (ids, kind, field) in
                [(&d.internal, SponsorKind::Internal, "internal"), (&d.external, SponsorKind::External, "external")]
            {
                for id in ids {
                    match s.app.get_user(*id).await {
                        Ok(u) => {
                            if let Err(AppError::Validation(e)) =
                                gatehouse_app::connected_organizations::check_sponsor_kind(kind, &u, field)
                            {
                                errors.add(field, sentence(&e.message));
                            }
                        }
                        Err(AppError::NotFound(_)) => errors.add(field, "One of the people chosen no longer exists."),
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        _ => {}
    }
    Ok(())
}

async fn save(s: &AppState, v: &Viewer, mode: Mode, d: &Draft) -> Result<Uuid, AppError> {
    let bad = |e: serde_json::Error| AppError::from(gatehouse_domain::ValidationError::general(e.to_string()));
    match mode {
        Mode::New => {
            let input: NewConnectedOrganization = serde_json::from_value(d.body()).map_err(bad)?;
            let org =
                s.app.create_connected_organization_with_sponsors(&v.actor(), input, &d.internal, &d.external).await?;
            Ok(org.id)
        }
        Mode::Edit(id) => {
            let mut body = d.body();
            // A patch leaves out what stays; an emptied description is cleared.
            body["description"] = if d.description.is_empty() { serde_json::Value::Null } else { json!(d.description) };
            let patch: ConnectedOrganizationPatch = serde_json::from_value(body).map_err(bad)?;
            s.app.update_connected_organization_with_sponsors(&v.actor(), id, patch, &d.internal, &d.external).await?;
            Ok(id)
        }
    }
}

/// Place a service's refusal next to its field; the tab that holds it is shown.
fn refused(e: AppError, errors: &mut Errors) -> Result<&'static str, AppError> {
    let (field, message) = match e {
        AppError::Validation(v) => {
            let field = match v.target.as_deref().unwrap_or("") {
                "displayName" => "name",
                "description" => "description",
                "internalSponsors" => "internal",
                "externalSponsors" => "external",
                "state" => "state",
                _ => "new_domain",
            };
            (field, v.message)
        }
        AppError::Conflict(m) => ("new_domain", m),
        other => return Err(other),
    };
    errors.add(field, sentence(&message));
    Ok(match field {
        "name" | "description" | "state" => "basics",
        "internal" | "external" => "sponsors",
        _ => "domains",
    })
}

async fn picker(s: &AppState, v: &Viewer, chosen: &[Uuid], kind: UserType, query: &str) -> Result<Picker, AppError> {
    let mut p = Picker { query: query.to_owned(), ..Picker::default() };
    for id in chosen {
        if let Ok(u) = s.app.get_user(*id).await {
            p.chosen.push(Person::of(&u));
        }
    }
    let filter = type_filter(kind);
    let search = Some(query).filter(|q| !q.is_empty());
    let q = ListQuery { filter: Some(&filter), search, top: PICKER_SIZE, ..ListQuery::EXPANDED };
    let found = s.app.list_users_visible(&v.actor(), q).await?;
    p.offered = found.items.iter().filter(|u| !chosen.contains(&u.id)).map(Person::of).collect();
    Ok(p)
}

#[allow(clippy::too_many_arguments)]
async fn page(
    s: &AppState,
    v: &Viewer,
    mode: Mode,
    status: StatusCode,
    d: Draft,
    current: &'static str,
    errors: Errors,
    q: Queries,
) -> PageResult {
    let name_taken = if d.name.is_empty() {
        None
    } else {
        let lower = d.name.to_lowercase();
        let mut uses = super::organizations::names_in_use(s).await?.get(&lower).copied().unwrap_or(0);
        if let Mode::Edit(id) = mode {
            // The organization's own stored name is not "another organization".
            if s.app.get_connected_organization(id).await?.display_name.to_lowercase() == lower {
                uses = uses.saturating_sub(1);
            }
        }
        (uses > 0).then(|| d.name.clone())
    };
    let internal = picker(s, v, &d.internal, UserType::Member, &q.internal).await?;
    let mut external = picker(s, v, &d.external, UserType::Guest, &q.external).await?;
    external.email = q.email;
    let (next, back) = wizard::neighbours(TABS, current);
    let (heading, finish) = match mode {
        Mode::New => ("Add connected organization", "Create"),
        Mode::Edit(_) => ("Edit connected organization", "Save"),
    };
    let page = WizardPage {
        chrome: chrome(s, v, "organizations").await?,
        action: mode.action(),
        heading,
        finish,
        tabs: wizard::tabs(TABS, current),
        current,
        next,
        back,
        errors,
        name: d.name,
        description: d.description,
        state: d.state,
        name_taken,
        domains: d.domains,
        new_domain: d.new_domain,
        new_issuer: d.new_issuer,
        internal,
        external,
    };
    render(status, &page)
}
