//! New access package (`/admin/accessPackages/new`), with the seeds' tabs: Basics → Resource
//! roles → Requests → Requestor information → Lifecycle → Review + create. The form carries
//! everything ([`super::wizard`]); [`super::package_draft`] reads it and builds the API's
//! bodies; Create hands them to `App::create_package_from_plan`, one transaction. A step that
//! is wrong is shown with its messages next to their fields and nothing is written.

use std::collections::HashMap;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use gatehouse_app::package_plan::PackagePlan;
use gatehouse_app::{AppError, ListQuery};
use gatehouse_domain::authorization::{can, Action, Scope};
use gatehouse_domain::catalog::Catalog;
use gatehouse_domain::enums::CatalogState;
use gatehouse_store::query::Where;
use serde::Deserialize;
use uuid::Uuid;

use super::package_draft::{Draft, QuestionDraft, Stage, MAX_QUESTIONS, MAX_STAGES, SCOPES, STAGE_APPROVERS};
use super::wizard::{self, Errors, Tab};
use super::{chrome, AdminChrome};
use crate::pages::forms::FormData;
use crate::pages::{render, see_other, sentence, PageResult, Viewer, INVALID};
use crate::state::AppState;

const TABS: &[(&str, &str)] = &[
    ("basics", "Basics"),
    ("roles", "Resource roles"),
    ("requests", "Requests"),
    ("questions", "Requestor information"),
    ("lifecycle", "Lifecycle"),
    ("review", "Review + create"),
];

/// A policy added to a package, or edited: the package wizard's Requests, Requestor
/// information and Lifecycle tabs on their own.
const POLICY_TABS: &[(&str, &str)] = &[
    ("requests", "Requests"),
    ("questions", "Requestor information"),
    ("lifecycle", "Lifecycle"),
    ("review", "Review + save"),
];

/// What the wizard builds: a whole package, or one policy of an existing package.
#[derive(Clone, Copy)]
pub enum Mode {
    Package,
    NewPolicy { package: Uuid },
    EditPolicy { package: Uuid, policy: Uuid },
}

impl Mode {
    fn tabs(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Mode::Package => TABS,
            _ => POLICY_TABS,
        }
    }

    fn action(self) -> String {
        match self {
            Mode::Package => "/admin/accessPackages/new".into(),
            Mode::NewPolicy { package } => format!("/admin/accessPackages/{package}/policies/new"),
            Mode::EditPolicy { package, policy } => format!("/admin/accessPackages/{package}/policies/{policy}/edit"),
        }
    }

    fn words(self) -> (&'static str, &'static str) {
        match self {
            Mode::Package => ("New access package", "Create"),
            Mode::NewPolicy { .. } => ("New policy", "Add policy"),
            Mode::EditPolicy { .. } => ("Edit policy", "Save"),
        }
    }
}

/// The tab that shows a field.
fn tab_of(field: &str) -> &'static str {
    let head = field.split('.').next().unwrap_or(field);
    match head {
        "name" | "description" | "catalog" => "basics",
        "roles" | "role" | "newrole" => "roles",
        "q" | "questions" => "questions",
        "expiry" | "expiry_days" | "expiry_hours" | "expiry_date" | "review" | "review_every_months" => "lifecycle",
        _ => "requests",
    }
}

#[derive(Deserialize, schemars::JsonSchema)]
pub struct NewParams {
    /// The catalog to create the package in (the catalog page's New access package).
    catalog: Option<String>,
}

pub struct Choice {
    pub value: String,
    pub label: String,
    pub chosen: bool,
}

/// A resource of the catalog with the roles it offers.
pub struct ResourceChoice {
    pub id: String,
    pub name: String,
    pub roles: Vec<Choice>,
}

#[derive(Template)]
#[template(path = "admin/package_new.html")]
struct WizardPage {
    chrome: AdminChrome,
    /// The last tab's button.
    finish: &'static str,
    heading: &'static str,
    action: String,
    /// A whole package (Basics and Resource roles shown), not one policy.
    for_package: bool,
    tabs: Vec<Tab>,
    current: &'static str,
    next: Option<Tab>,
    back: Option<Tab>,
    errors: Errors,
    d: Draft,
    catalogs: Vec<Choice>,
    catalog_name: String,
    resources: Vec<ResourceChoice>,
    /// Groups outside the catalog (when the viewer may add them), with the role picked.
    outside: Vec<ResourceChoice>,
    may_add_groups: bool,
    scopes: Vec<Choice>,
    organizations: Vec<Choice>,
    groups: Vec<Choice>,
    stage_approvers: &'static [(&'static str, &'static str)],
    max_stages: usize,
    max_questions: usize,
}

impl WizardPage {
    fn err(&self, field: &str) -> bool {
        self.errors.get(field).is_some()
    }

    fn approves(&self, stage: &Stage, kind: &str) -> bool {
        stage.approvers.iter().any(|a| a == kind)
    }

    fn picked_roles(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for r in self.resources.iter().chain(&self.outside) {
            for c in r.roles.iter().filter(|c| c.chosen && !c.value.is_empty()) {
                out.push(format!("{} ({})", r.name, c.label));
            }
        }
        out
    }

    fn who(&self) -> &'static str {
        SCOPES.iter().find(|(k, _, _)| *k == self.d.scope).map_or("", |(_, l, _)| l)
    }

    fn expiry_text(&self) -> String {
        match self.d.expiry.as_str() {
            "days" => format!("After {} days", self.d.expiry_days),
            "hours" => format!("After {} hours", self.d.expiry_hours),
            "date" => format!("On {}", self.d.expiry_date),
            _ => "Never".into(),
        }
    }
}

/// `GET /admin/accessPackages/new?catalog=`.
pub async fn form(State(s): State<AppState>, v: Viewer, Query(p): Query<NewParams>) -> PageResult {
    let d = Draft::fresh(p.catalog.and_then(|c| c.parse().ok()));
    page(&s, &v, Mode::Package, StatusCode::OK, d, "basics", Errors::default()).await
}

/// `POST /admin/accessPackages/new`: a tab, an action within one, or Create.
pub async fn submit(State(s): State<AppState>, v: Viewer, body: Bytes) -> PageResult {
    submit_in(&s, &v, Mode::Package, &body).await
}

/// A tab, an action within one, or the last button, in any mode.
pub(super) async fn submit_in(s: &AppState, v: &Viewer, mode: Mode, body: &[u8]) -> PageResult {
    let (s, v) = (s.clone(), v.clone());
    let tabs = mode.tabs();
    let f = FormData::parse(body);
    let mut d = Draft::read(&f);
    let (mut current, go) = wizard::asked(&f, tabs);
    let mut errors = Errors::default();
    match go {
        "add_stage" if d.stages.len() < MAX_STAGES => {
            current = "requests";
            d.stages.push(Stage { days: "14".into(), ..Stage::default() });
        }
        "remove_stage" => {
            current = "requests";
            if d.stages.len() > 1 {
                d.stages.pop();
            }
        }
        "add_question" if d.questions.len() < MAX_QUESTIONS => {
            current = "questions";
            d.questions.push(QuestionDraft { kind: "text".into(), required: true, ..QuestionDraft::default() });
        }
        g if g.starts_with("remove_question.") => {
            current = "questions";
            if let Some(i) = g["remove_question.".len()..].parse::<usize>().ok().filter(|i| *i < d.questions.len()) {
                d.questions.remove(i);
            }
        }
        "search_groups" => current = "roles",
        "add_stage" => current = "requests",
        "add_question" => current = "questions",
        _ => {
            let upto =
                if go == "create" { tabs.len() } else { tabs.iter().position(|(k, _)| *k == current).unwrap_or(0) };
            let (all, plan) = check(&s, &v, mode, &d).await?;
            if let Some(first) = tabs[..upto].iter().map(|(k, _)| *k).find(|t| all.any_on(t)) {
                current = first;
                errors = all.on(first);
            } else if let Some(plan) = plan.filter(|_| go == "create") {
                match save(&s, &v, mode, plan).await {
                    Ok(to) => return see_other(&to),
                    Err(e) => {
                        let mut field = refused(e, &mut errors)?;
                        if field == "name" && !matches!(mode, Mode::Package) {
                            // Without Basics, a name refused is the policy's.
                            errors = Errors::default();
                            errors.add("policy_name", "Name the policy (at most 256 characters).");
                            field = "policy_name";
                        }
                        current = tab_of(field);
                    }
                }
            }
        }
    }
    let status = if errors.is_empty() { StatusCode::OK } else { INVALID };
    page(&s, &v, mode, status, d, current, errors).await
}

/// Write what the wizard built; returns where to go next.
async fn save(s: &AppState, v: &Viewer, mode: Mode, mut plan: PackagePlan) -> Result<String, AppError> {
    let actor = v.actor();
    match mode {
        Mode::Package => {
            Ok(format!("/admin/accessPackages/{}", s.app.create_package_from_plan(&actor, plan).await?.id))
        }
        Mode::NewPolicy { package } => {
            let mut input = plan.policy.take().expect("a policy is planned");
            input.access_package = Some(gatehouse_domain::input::EntityRef { id: package });
            s.app.create_policy(&actor, input).await?;
            Ok(format!("/admin/accessPackages/{package}#policies"))
        }
        Mode::EditPolicy { package, policy } => {
            s.app.replace_policy(&actor, policy, plan.policy.take().expect("a policy is planned")).await?;
            Ok(format!("/admin/accessPackages/{package}#policies"))
        }
    }
}

/// Errors of every tab, so the wizard can stop at the first wrong one.
struct Checked(Errors);

impl Checked {
    fn any_on(&self, tab: &str) -> bool {
        self.0.all().any(|(f, _)| tab_of(f) == tab)
    }

    fn on(&self, tab: &str) -> Errors {
        let mut out = Errors::default();
        for (f, m) in self.0.all().filter(|(f, _)| tab_of(f) == tab) {
            out.add(f, m);
        }
        out
    }
}

/// Every rule the wizard can tell before writing, and the plan Create would write.
async fn check(s: &AppState, v: &Viewer, mode: Mode, d: &Draft) -> Result<(Checked, Option<PackagePlan>), AppError> {
    let mut errors = Errors::default();
    if d.name.is_empty() {
        errors.add("name", "Enter the access package's name.");
    }
    let catalog = match d.catalog {
        None => {
            errors.add("catalog", "Choose the catalog the package belongs to.");
            None
        }
        Some(id) => match s.app.get_catalog(&v.actor(), id).await {
            Ok(c) if can(&v.principal, Action::ManagePackages, Scope::Catalog(id)).is_ok() => Some(c),
            Ok(_) | Err(AppError::Forbidden(_)) | Err(AppError::NotFound(_)) => {
                errors.add("catalog", "Choose a catalog you may create packages in.");
                None
            }
            Err(e) => return Err(e),
        },
    };
    if !d.new_roles.is_empty()
        && d.catalog.is_some_and(|c| can(&v.principal, Action::ManageCatalog, Scope::Catalog(c)).is_err())
    {
        errors.add("roles", "Only the catalog's owners can add groups to it; ask one, or pick from its resources.");
    }
    if d.policy_name.is_empty() {
        errors.add("policy_name", "Name the policy, for example Initial policy.");
    }
    match d.scope.as_str() {
        "specificConnectedOrganizationUsers" if d.target_orgs.is_empty() => {
            errors.add("target_org", "Choose at least one connected organization.")
        }
        "specificDirectoryUsers" if d.target_groups.is_empty() && d.target_emails.is_empty() => {
            errors.add("target_emails", "Choose at least one group or enter the people's addresses.")
        }
        _ => {}
    }
    if d.external() {
        if let Some(c) = &catalog {
            if let Err(e) = c.open_to_external_users() {
                errors.add("who", sentence(&e.message));
            }
        }
    }
    if d.approval {
        for (i, st) in d.stages.iter().enumerate() {
            if st.approvers.is_empty() && st.users.is_empty() && st.group.is_empty() {
                errors.add(format!("stage.approvers.{i}"), "Choose who approves at this stage.");
            }
        }
    }
    // Addresses typed into the form: each must be someone in the directory.
    let mut people: HashMap<String, Uuid> = HashMap::new();
    for (_, address) in d.typed_addresses() {
        if let Some(u) = s.app.find_user_by_mail(&address).await? {
            people.insert(address, u.id);
        }
    }
    let policy = d.policy_body(&|a| people.get(a).copied(), &mut errors);
    // The bodies the API would parse; a shape the form cannot produce is a message, not a 400.
    let package = serde_json::from_value(d.package_body()).map_err(|e| errors.add("name", sentence(&e.to_string())));
    // An edited policy keeps what the form does not show.
    let policy = match mode {
        Mode::EditPolicy { policy: id, .. } => {
            super::package_draft::over(&s.app.get_policy(&v.actor(), id).await?, policy)
        }
        _ => policy,
    };
    let policy = serde_json::from_value(policy).map_err(|e| errors.add("who", sentence(&e.to_string())));
    let plan = match (package, policy) {
        (Ok(package), Ok(policy)) => Some(PackagePlan {
            package,
            add_groups: d.new_roles.iter().map(|(g, _)| *g).collect(),
            roles: d.role_origins(),
            policy: Some(policy),
        }),
        _ => None,
    };
    Ok((Checked(errors), plan))
}

/// Place a service's refusal next to its field; returns the field.
fn refused(e: AppError, errors: &mut Errors) -> Result<&'static str, AppError> {
    let (field, message) = match e {
        AppError::Validation(v) => {
            let target = v.target.clone().unwrap_or_default();
            let field = match target.split(['.', '[']).next().unwrap_or("") {
                "displayName" => "name",
                "description" => "description",
                "catalog" => "catalog",
                "role" | "scope" | "resource" => "roles",
                "questions" => "questions",
                "expiration" => "expiry",
                "reviewSettings" => "review",
                "requestApprovalSettings" => "approval",
                _ => "who",
            };
            (field, v.message)
        }
        AppError::Conflict(m) => ("roles", m),
        other => return Err(other),
    };
    errors.add(field, sentence(&message));
    Ok(field)
}

/// The catalogs the viewer may create packages in.
async fn catalogs(s: &AppState, v: &Viewer) -> Result<Vec<Catalog>, AppError> {
    let all = s.app.list_catalogs(&v.actor(), ListQuery::EXPANDED).await?.items;
    Ok(all.into_iter().filter(|c| can(&v.principal, Action::ManagePackages, Scope::Catalog(c.id)).is_ok()).collect())
}

async fn resource_choices(s: &AppState, v: &Viewer, d: &Draft, catalog: Uuid) -> Result<Vec<ResourceChoice>, AppError> {
    let mut out = Vec::new();
    for r in s.app.list_resources(&v.actor(), catalog, ListQuery::EXPANDED).await?.items {
        let chosen = d.roles.iter().find(|(id, _)| *id == r.id).map(|(_, o)| o.as_str()).unwrap_or("");
        let (roles, _) = s.app.resource_roles_and_scopes(r.id).await?;
        let mut choices = vec![Choice { value: String::new(), label: "Not granted".into(), chosen: chosen.is_empty() }];
        choices.extend(roles.into_iter().map(|role| Choice {
            chosen: role.origin_id == chosen,
            value: role.origin_id,
            label: role.display_name,
        }));
        out.push(ResourceChoice { id: r.id.to_string(), name: r.display_name, roles: choices });
    }
    out.sort_by_key(|r| r.name.to_lowercase());
    Ok(out)
}

/// Groups outside the catalog: those already picked, then the search's.
async fn outside_choices(s: &AppState, v: &Viewer, d: &Draft, catalog: Uuid) -> Result<Vec<ResourceChoice>, AppError> {
    let role_choices = |picked: &str| {
        [("", "Not granted"), ("Member", "Member"), ("Owner", "Owner")]
            .iter()
            .map(|(value, label)| Choice { value: (*value).into(), label: (*label).into(), chosen: *value == picked })
            .collect::<Vec<_>>()
    };
    let mut out = Vec::new();
    for (g, role) in &d.new_roles {
        if let Ok(group) = s.app.get_group(*g).await {
            out.push(ResourceChoice { id: g.to_string(), name: group.display_name, roles: role_choices(role) });
        }
    }
    if !d.group_q.is_empty() {
        for g in super::catalog_resources::groups_not_in(s, v, catalog, &d.group_q).await? {
            if !out.iter().any(|o| o.id == g.id) {
                out.push(ResourceChoice { id: g.id, name: g.name, roles: role_choices("") });
            }
        }
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn page(
    s: &AppState,
    v: &Viewer,
    mode: Mode,
    status: StatusCode,
    d: Draft,
    current: &'static str,
    errors: Errors,
) -> PageResult {
    let catalogs = catalogs(s, v).await?;
    let chosen = d.catalog.and_then(|id| catalogs.iter().find(|c| c.id == id));
    let (resources, outside, may_add_groups) = match chosen {
        Some(c) => {
            let may = can(&v.principal, Action::ManageCatalog, Scope::Catalog(c.id)).is_ok();
            let outside = if may { outside_choices(s, v, &d, c.id).await? } else { vec![] };
            (resource_choices(s, v, &d, c.id).await?, outside, may)
        }
        None => (vec![], vec![], false),
    };
    let orgs = s.app.list_connected_organizations(ListQuery { top: 200, ..ListQuery::EXPANDED }).await?.items;
    let groups = s.app.list_groups(Where::new(), ListQuery { top: 200, ..ListQuery::EXPANDED }).await?.items;
    let external_note = |c: &Catalog| {
        if c.state == CatalogState::Published && c.is_externally_visible {
            ""
        } else {
            " (not enabled for external users)"
        }
    };
    let (next, back) = wizard::neighbours(mode.tabs(), current);
    let (heading, finish) = mode.words();
    let page = WizardPage {
        chrome: chrome(s, v, "packages").await?,
        finish,
        heading,
        action: mode.action(),
        for_package: matches!(mode, Mode::Package),
        tabs: wizard::tabs(mode.tabs(), current),
        current,
        next,
        back,
        errors,
        catalog_name: chosen.map(|c| c.display_name.clone()).unwrap_or_default(),
        catalogs: catalogs
            .iter()
            .map(|c| Choice {
                value: c.id.to_string(),
                label: format!("{}{}", c.display_name, external_note(c)),
                chosen: Some(c.id) == d.catalog,
            })
            .collect(),
        resources,
        outside,
        may_add_groups,
        scopes: SCOPES
            .iter()
            .map(|(k, l, _)| Choice { value: (*k).into(), label: (*l).into(), chosen: *k == d.scope })
            .collect(),
        organizations: orgs
            .iter()
            .map(|o| Choice {
                value: o.id.to_string(),
                label: o.display_name.clone(),
                chosen: d.target_orgs.contains(&o.id),
            })
            .collect(),
        groups: groups
            .iter()
            .map(|g| Choice {
                value: g.id.to_string(),
                label: g.display_name.clone(),
                chosen: d.target_groups.contains(&g.id),
            })
            .collect(),
        stage_approvers: &STAGE_APPROVERS,
        max_stages: MAX_STAGES,
        max_questions: MAX_QUESTIONS,
        d,
    };
    render(status, &page)
}
