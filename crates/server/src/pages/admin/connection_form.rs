//! Registering and editing a connection (`/admin/connections/new`, `…/{id}/edit`): first the
//! kind (SCIM application, LDAP directory, webhook target), then its settings in one form whose
//! fields are named as the API's properties (`scim.baseUrl`), so a refusal lands next to its
//! field. Credentials are password fields that are never filled in: left empty on an edit, the
//! stored one is kept.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use gatehouse_app::AppError;
use gatehouse_domain::connection::{ConnectionKind, ConnectionPatch, ConnectionSettings, NewConnection, ReconcileMode};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::wizard::Errors;
use super::{chrome, AdminChrome};
use crate::pages::forms::FormData;
use crate::pages::{path_id, render, see_other, sentence, PageResult, Viewer, INVALID};
use crate::state::AppState;

#[derive(Deserialize, schemars::JsonSchema)]
pub struct NewParams {
    /// `scim`, `ldap` or `webhook`: which form to show.
    kind: Option<String>,
}

/// What the form holds: every field by its name (credentials never).
#[derive(Default)]
pub struct Fields(Vec<(String, String)>);

impl Fields {
    pub fn get(&self, name: &str) -> &str {
        self.0.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
    }
    fn set(&mut self, name: &str, value: impl Into<String>) {
        self.0.push((name.to_owned(), value.into()));
    }
    pub fn checked(&self, name: &str) -> bool {
        self.get(name) == "yes"
    }
}

const CREDENTIALS: [&str; 4] = ["scim.bearerToken", "scim.clientSecret", "ldap.bindPassword", "webhook.signingSecret"];

#[derive(Template)]
#[template(path = "admin/connection_form.html")]
struct FormPage {
    chrome: AdminChrome,
    /// `scim`, `ldap` or `webhook`; empty on the kind chooser.
    kind: &'static str,
    /// Editing this connection (its id), or registering a new one.
    editing: Option<String>,
    f: Fields,
    errors: Errors,
    /// Beside credential fields: an edit keeps what is left empty.
    keep_note: &'static str,
    secret_note: &'static str,
}

impl FormPage {
    /// The form for `kind` (empty: the kind chooser), registering or editing, with `f` filled in.
    fn new(chrome: AdminChrome, kind: &'static str, editing: Option<String>, f: Fields) -> Self {
        let (keep_note, secret_note) = if editing.is_some() {
            ("(leave empty to keep the stored one)", "(leave empty to keep the stored one)")
        } else {
            ("", "(whsec_…; leave empty and Gatehouse makes one and shows it once)")
        };
        FormPage { chrome, kind, editing, f, errors: Errors::default(), keep_note, secret_note }
    }
}

/// What the form says besides the kind's settings, as the API's body.
fn common(f: &FormData) -> Value {
    json!({
        "displayName": f.get("name").unwrap_or(""),
        "description": f.get("description"),
        "reconcileMode": if f.get("mode") == Some("enforce") { "enforce" } else { "report" },
    })
}

fn kind_of(raw: Option<&str>) -> Option<ConnectionKind> {
    raw.and_then(ConnectionKind::parse)
}

/// `GET /admin/connections/new[?kind=…]`.
pub async fn new_form(State(s): State<AppState>, v: Viewer, Query(p): Query<NewParams>) -> PageResult {
    let kind = kind_of(p.kind.as_deref());
    let mut f = Fields::default();
    f.set("mode", "report");
    f.set("scim.auth", "bearer");
    f.set("ldap.personNamingAttribute", "uid");
    let page = FormPage::new(chrome(&s, &v, "connections").await?, kind.map_or("", ConnectionKind::as_str), None, f);
    render(StatusCode::OK, &page)
}

/// The kind's settings object from the form, with credentials only where typed.
fn settings(kind: ConnectionKind, f: &FormData) -> Value {
    let text = |name: &str| f.get(name).map(|v| json!(v));
    let mut m = Map::new();
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            m.insert(k.to_owned(), v);
        }
    };
    match kind {
        ConnectionKind::Scim => {
            put("baseUrl", text("scim.baseUrl"));
            if f.get("scim.auth") == Some("client") {
                put("tokenUrl", text("scim.tokenUrl"));
                put("clientId", text("scim.clientId"));
                put("clientSecret", text("scim.clientSecret"));
                put("scope", text("scim.scope"));
            } else {
                put("bearerToken", text("scim.bearerToken"));
            }
        }
        ConnectionKind::Ldap => {
            put("url", text("ldap.url"));
            put("startTls", Some(json!(f.get("ldap.startTls") == Some("yes"))));
            put("caFile", Some(text("ldap.caFile").unwrap_or(Value::Null)));
            put("bindDn", text("ldap.bindDn"));
            put("bindPassword", text("ldap.bindPassword"));
            put("peopleBaseDn", text("ldap.peopleBaseDn"));
            put("groupsBaseDn", text("ldap.groupsBaseDn"));
            put("personNamingAttribute", text("ldap.personNamingAttribute"));
        }
        ConnectionKind::Webhook => {
            put("grantUrl", text("webhook.grantUrl"));
            put("revokeUrl", text("webhook.revokeUrl"));
            let roles: Vec<&str> =
                f.get("webhook.roles").unwrap_or("").lines().map(str::trim).filter(|l| !l.is_empty()).collect();
            put("roles", Some(json!(roles)));
            put("signingSecret", text("webhook.signingSecret"));
        }
    }
    Value::Object(m)
}

/// What was typed, to show again (credentials left out).
fn typed(f: &FormData) -> Fields {
    let mut out = Fields::default();
    for (k, v) in f.pairs() {
        if k != "csrf" && !CREDENTIALS.contains(&k) {
            out.set(k, v.trim());
        }
    }
    out
}

/// A service refusal, placed next to the field it names (`displayName` is the form's `name`).
fn place(errors: &mut Errors, target: Option<&str>, message: &str) {
    let field = match target {
        Some("displayName") => "name",
        Some(t) if t.contains('.') || t == "description" => t,
        _ => "form",
    };
    errors.add(field, sentence(message));
}

fn refused(errors: &mut Errors, e: AppError) -> Result<(), AppError> {
    match e {
        AppError::Validation(v) => place(errors, v.target.as_deref(), &v.message),
        AppError::Conflict(m) => place(errors, None, &m),
        other => return Err(other),
    }
    Ok(())
}

/// `POST /admin/connections/new`: register; a generated webhook secret is shown once, on the
/// connection's page.
pub async fn create(State(s): State<AppState>, v: Viewer, body: Bytes) -> PageResult {
    let f = FormData::parse(&body);
    let kind = kind_of(f.get("kind"));
    let mut page =
        FormPage::new(chrome(&s, &v, "connections").await?, kind.map_or("", ConnectionKind::as_str), None, typed(&f));
    let Some(kind) = kind else {
        page.errors.add("form", "Choose what kind of system to connect.");
        return render(INVALID, &page);
    };
    let mut body = common(&f);
    body["kind"] = json!(kind.as_str());
    body[kind.as_str()] = settings(kind, &f);
    let input: NewConnection = match serde_json::from_value(body) {
        Ok(i) => i,
        Err(e) => {
            page.errors.add("form", sentence(&e.to_string()));
            return render(INVALID, &page);
        }
    };
    match s.app.create_connection(&v.actor(), input).await {
        Ok((c, Some(secret))) => {
            let notice = format!("Registered. The signing secret, shown this once — give it to the receiver: {secret}");
            super::connections::show_page(&s, &v, c.id, notice).await
        }
        Ok((c, None)) => see_other(&format!("/admin/connections/{}", c.id)),
        Err(e) => {
            refused(&mut page.errors, e)?;
            render(INVALID, &page)
        }
    }
}

/// The stored connection as form fields.
fn filled(c: &gatehouse_domain::connection::Connection) -> Fields {
    let mut f = Fields::default();
    f.set("name", c.display_name.clone());
    f.set("description", c.description.clone().unwrap_or_default());
    f.set("mode", if c.reconcile_mode == ReconcileMode::Enforce { "enforce" } else { "report" });
    match &c.settings {
        ConnectionSettings::Scim(s) => {
            f.set("scim.baseUrl", s.base_url.clone());
            f.set("scim.auth", if s.token_url.is_some() { "client" } else { "bearer" });
            f.set("scim.tokenUrl", s.token_url.clone().unwrap_or_default());
            f.set("scim.clientId", s.client_id.clone().unwrap_or_default());
            f.set("scim.scope", s.scope.clone().unwrap_or_default());
        }
        ConnectionSettings::Ldap(s) => {
            f.set("ldap.url", s.url.clone());
            f.set("ldap.startTls", if s.start_tls { "yes" } else { "" });
            f.set("ldap.caFile", s.ca_file.clone().unwrap_or_default());
            f.set("ldap.bindDn", s.bind_dn.clone());
            f.set("ldap.peopleBaseDn", s.people_base_dn.clone());
            f.set("ldap.groupsBaseDn", s.groups_base_dn.clone());
            f.set("ldap.personNamingAttribute", s.person_naming_attribute.clone());
        }
        ConnectionSettings::Webhook(s) => {
            f.set("webhook.grantUrl", s.grant_url.clone());
            f.set("webhook.revokeUrl", s.revoke_url.clone());
            f.set("webhook.roles", s.roles.join("\n"));
        }
    }
    f
}

/// `GET /admin/connections/{id}/edit`.
pub async fn edit_form(State(s): State<AppState>, v: Viewer, Path(id): Path<String>) -> PageResult {
    let id = path_id(&id, "connection")?;
    let d = s.app.get_connection(&v.actor(), id).await?;
    let page = FormPage::new(
        chrome(&s, &v, "connections").await?,
        d.connection.kind().as_str(),
        Some(id.to_string()),
        filled(&d.connection),
    );
    render(StatusCode::OK, &page)
}

/// `POST /admin/connections/{id}/edit`: credentials left empty are kept.
pub async fn edit(State(s): State<AppState>, v: Viewer, Path(id): Path<String>, body: Bytes) -> PageResult {
    let id = path_id(&id, "connection")?;
    let d = s.app.get_connection(&v.actor(), id).await?;
    let kind = d.connection.kind();
    let f = FormData::parse(&body);
    let mut page = FormPage::new(chrome(&s, &v, "connections").await?, kind.as_str(), Some(id.to_string()), typed(&f));
    let mut body = common(&f);
    body[kind.as_str()] = settings(kind, &f);
    let patch: ConnectionPatch = match serde_json::from_value(body) {
        Ok(p) => p,
        Err(e) => {
            page.errors.add("form", sentence(&e.to_string()));
            return render(INVALID, &page);
        }
    };
    match s.app.update_connection(&v.actor(), id, patch).await {
        Ok(_) => see_other(&format!("/admin/connections/{id}")),
        Err(e) => {
            refused(&mut page.errors, e)?;
            render(INVALID, &page)
        }
    }
}
