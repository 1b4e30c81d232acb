//! Policy evaluation: may this subject request (or update, or remove) this access package, and
//! under which of its assignment policies?
//!
//! Pure functions over the catalog, the package's policies and a description of the subject that
//! the caller assembles from the directory and sign-in (user id, groups, connected organization).
//! Hidden packages are not this module's concern: the caller leaves them out of listings, and a
//! direct link still evaluates like any other package.

use uuid::Uuid;

use crate::catalog::Catalog;
use crate::connected_organization::normalize_domain;
use crate::enums::{AllowedTargetScope, CatalogState, ConnectedOrganizationState};
use crate::policy::{AssignmentPolicy, RequestorSettings};
use crate::subject_set::SubjectSet;

/// The connected organization a subject was recognised as belonging to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectOrganization {
    pub id: Uuid,
    pub state: ConnectedOrganizationState,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubjectKind {
    /// A member of the host's directory.
    Member,
    /// A guest already in the directory, linked to its connected organization (if any).
    Guest { organization: Option<SubjectOrganization> },
    /// Someone outside the directory with a verified email domain; `organization` is the
    /// connected organization whose identity source they authenticated through, if any.
    External { domain: String, organization: Option<SubjectOrganization> },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// Directory user id; `None` for an External subject.
    pub user_id: Option<Uuid>,
    pub kind: SubjectKind,
    /// Ids of directory groups the subject is a member of (for groupMembers targets).
    pub groups: Vec<Uuid>,
}

impl Subject {
    /// Whether the subject is a user of the host's directory (member or guest).
    pub fn is_in_directory(&self) -> bool {
        matches!(self.kind, SubjectKind::Member | SubjectKind::Guest { .. })
    }

    /// Whether the subject comes from outside the host organization (guest or external).
    pub fn is_from_outside(&self) -> bool {
        matches!(self.kind, SubjectKind::Guest { .. } | SubjectKind::External { .. })
    }

    /// The connected organization the subject belongs to, if any (never for a member).
    pub fn organization(&self) -> Option<&SubjectOrganization> {
        match &self.kind {
            SubjectKind::Member => None,
            SubjectKind::Guest { organization } | SubjectKind::External { organization, .. } => organization.as_ref(),
        }
    }
}

/// What the subject wants to do, which decides which requestor setting must be on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    SelfAdd,
    SelfUpdate,
    SelfRemove,
}

impl Purpose {
    /// Whether the policy's requestor settings let targets do this for themselves.
    pub fn enabled_by(self, settings: &RequestorSettings) -> bool {
        match self {
            Purpose::SelfAdd => settings.enable_targets_to_self_add_access,
            Purpose::SelfUpdate => settings.enable_targets_to_self_update_access,
            Purpose::SelfRemove => settings.enable_targets_to_self_remove_access,
        }
    }

    fn phrase(self) -> &'static str {
        match self {
            Purpose::SelfAdd => "request this access package for yourself",
            Purpose::SelfUpdate => "extend or change your assignment of this access package",
            Purpose::SelfRemove => "remove your own assignment of this access package",
        }
    }
}

/// Why nobody may request: each maps to a clear 4xx message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The catalog is not published: none of its packages can be requested by anyone.
    #[error("catalog '{catalog}' is not enabled, so its access packages cannot be requested")]
    CatalogDisabled { catalog: String },
    /// The catalog is not externally visible and the subject is a guest or external user.
    #[error("the access packages in catalog '{catalog}' are available only to members of the organization")]
    NotExternallyVisible { catalog: String },
    /// The named policy is not one of the package's policies.
    #[error("assignment policy {policy} is not a policy of this access package")]
    PolicyNotFound { policy: Uuid },
    /// The named policy exists but its allowed targets do not include the subject.
    #[error("assignment policy '{name}' does not apply to you; request the access package under a policy that does")]
    PolicyNotApplicable { policy: Uuid, name: String },
    /// A policy's targets include the subject, but it does not let targets act for themselves.
    #[error("the access package's policy does not let you {}; ask an administrator", purpose.phrase())]
    SelfRequestDisabled { purpose: Purpose },
    /// No policy of the package admits the subject at all, and none lets anyone ask.
    #[error("you cannot request this access package: none of its policies applies to you")]
    NoAdmittingPolicy,
    /// Policies name specific connected organizations, and the subject's is not among them.
    #[error(
        "you cannot request this access package: none of its policies applies to you; it is offered to \
         specific partner organizations, and yours is not one of them"
    )]
    OrganizationNotIncluded,
    /// Policies admit connected organizations, and the subject belongs to none (or to one
    /// that is only proposed).
    #[error(
        "you cannot request this access package: none of its policies applies to you; it is offered to \
         connected organizations, and yours is not connected to the host organization"
    )]
    OrganizationNotConnected,
    /// A guest or external person, and the policies admit only users of the host's directory.
    #[error(
        "you cannot request this access package: none of its policies applies to you; it is offered to \
         users of the host organization only"
    )]
    HostUsersOnly,
    /// A member, and the policies admit only people from outside.
    #[error(
        "you cannot request this access package: none of its policies applies to you; it is offered to \
         users from partner organizations"
    )]
    PartnersOnly,
}

impl Refusal {
    /// Whether the subject could never ask under any policy of the package as it stands
    /// (rather than having named a wrong policy): the "not available to you" page.
    pub fn is_not_admitted(&self) -> bool {
        !matches!(self, Refusal::PolicyNotFound { .. } | Refusal::PolicyNotApplicable { .. })
    }
}

/// Why no policy admits `subject`: the most telling reason among the policies that admit
/// anyone by self-request.
fn not_admitted(subject: &Subject, policies: &[AssignmentPolicy]) -> Refusal {
    use AllowedTargetScope as S;
    let offered: Vec<AllowedTargetScope> = policies
        .iter()
        .filter(|p| specificity(p.allowed_target_scope).is_some())
        .map(|p| p.allowed_target_scope)
        .collect();
    let any = |scopes: &[AllowedTargetScope]| offered.iter().any(|s| scopes.contains(s));
    if offered.is_empty() {
        return Refusal::NoAdmittingPolicy;
    }
    if subject.is_from_outside() {
        let connected = subject.organization().is_some_and(|o| o.state == ConnectedOrganizationState::Configured);
        if any(&[S::SpecificConnectedOrganizationUsers]) && subject.organization().is_some() {
            Refusal::OrganizationNotIncluded
        } else if any(&[S::SpecificConnectedOrganizationUsers, S::AllConfiguredConnectedOrganizationUsers])
            && !connected
        {
            Refusal::OrganizationNotConnected
        } else if any(&[S::SpecificConnectedOrganizationUsers]) {
            Refusal::OrganizationNotIncluded
        } else {
            Refusal::HostUsersOnly
        }
    } else if any(&[
        S::SpecificConnectedOrganizationUsers,
        S::AllConfiguredConnectedOrganizationUsers,
        S::AllExternalUsers,
    ]) {
        Refusal::PartnersOnly
    } else {
        Refusal::NoAdmittingPolicy
    }
}

/// Rank of a scope when several policies admit a subject: lower is more specific and wins
/// (Graph's troubleshooting guide). `None` for scopes that admit nobody by self-request.
pub fn specificity(scope: AllowedTargetScope) -> Option<u8> {
    use AllowedTargetScope as S;
    match scope {
        S::SpecificDirectoryUsers | S::SpecificConnectedOrganizationUsers => Some(1),
        S::AllMemberUsers => Some(2),
        S::AllDirectoryUsers => Some(3),
        S::AllConfiguredConnectedOrganizationUsers | S::AllExternalUsers => Some(4),
        S::NotSpecified
        | S::SpecificDirectoryServicePrincipals
        | S::AllDirectoryServicePrincipals
        | S::AllDirectoryAgentIdentities
        | S::UnknownFutureValue => None,
    }
}

/// Why the catalog itself keeps this subject out, if it does.
fn catalog_refusal(subject: &Subject, catalog: &Catalog) -> Option<Refusal> {
    if catalog.state != CatalogState::Published {
        return Some(Refusal::CatalogDisabled { catalog: catalog.display_name.clone() });
    }
    if !catalog.is_externally_visible && subject.is_from_outside() {
        return Some(Refusal::NotExternallyVisible { catalog: catalog.display_name.clone() });
    }
    None
}

/// Does this policy's target scope admit the subject (ignoring requestor settings)?
///
/// - `notSpecified`, service-principal and agent scopes and `unknownFutureValue` admit nobody.
/// - `specificDirectoryUsers`: a directory user (member or guest) named by a `singleUser` target
///   or in a group named by a `groupMembers` target. `attributeRuleMembers` targets admit nobody
///   until membership rules are evaluated (they need the user's attributes, which the subject
///   does not carry). An external subject never matches these directory targets.
/// - `specificConnectedOrganizationUsers`: a guest or external user whose organization is named
///   by a `connectedOrganizationMembers` target, in whatever state (a `proposed` organization
///   the admin named explicitly counts).
/// - `allMemberUsers`: members. `allDirectoryUsers`: members and guests.
/// - `allConfiguredConnectedOrganizationUsers`: a guest or external user whose organization is
///   `configured` (not `proposed`).
/// - `allExternalUsers`: any guest or external user, with or without an organization.
pub fn policy_admits(policy: &AssignmentPolicy, subject: &Subject) -> bool {
    use AllowedTargetScope as S;
    match policy.allowed_target_scope {
        S::SpecificDirectoryUsers => {
            subject.is_in_directory()
                && policy.specific_allowed_targets.iter().any(|target| match target {
                    SubjectSet::SingleUser { user_id, .. } => subject.user_id == Some(*user_id),
                    SubjectSet::GroupMembers { group_id, .. } => subject.groups.contains(group_id),
                    _ => false,
                })
        }
        S::SpecificConnectedOrganizationUsers => subject.organization().is_some_and(|org| {
            policy.specific_allowed_targets.iter().any(|target| {
                matches!(target, SubjectSet::ConnectedOrganizationMembers { connected_organization_id, .. }
                    if *connected_organization_id == org.id)
            })
        }),
        S::AllMemberUsers => subject.kind == SubjectKind::Member,
        S::AllDirectoryUsers => subject.is_in_directory(),
        S::AllConfiguredConnectedOrganizationUsers => {
            subject.organization().is_some_and(|org| org.state == ConnectedOrganizationState::Configured)
        }
        S::AllExternalUsers => subject.is_from_outside(),
        S::NotSpecified
        | S::SpecificDirectoryServicePrincipals
        | S::AllDirectoryServicePrincipals
        | S::AllDirectoryAgentIdentities
        | S::UnknownFutureValue => false,
    }
}

/// Which policies can concern a subject at all: those whose scope admits people like them
/// without naming anyone, and those naming one of `named` (their user id, groups and
/// connected organization). A store reads only these; [`policy_admits`] still decides. Every
/// policy that admits the subject is in reach (tested below).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyReach {
    pub scopes: Vec<AllowedTargetScope>,
    pub named: Vec<Uuid>,
    /// Guest or external: only externally visible catalogs can admit them.
    pub from_outside: bool,
}

impl Subject {
    pub fn policy_reach(&self) -> PolicyReach {
        use AllowedTargetScope as S;
        let mut scopes = Vec::new();
        let mut named: Vec<Uuid> = self.user_id.into_iter().chain(self.groups.iter().copied()).collect();
        match &self.kind {
            SubjectKind::Member => scopes.extend([S::AllMemberUsers, S::AllDirectoryUsers]),
            SubjectKind::Guest { .. } => scopes.extend([S::AllDirectoryUsers, S::AllExternalUsers]),
            SubjectKind::External { .. } => scopes.push(S::AllExternalUsers),
        }
        if let Some(org) = self.organization() {
            named.push(org.id);
            if org.state == ConnectedOrganizationState::Configured {
                scopes.push(S::AllConfiguredConnectedOrganizationUsers);
            }
        }
        PolicyReach { scopes, named, from_outside: self.is_from_outside() }
    }
}

/// Policies of `package` that admit `subject` for `purpose`, most specific first.
///
/// `policies` are the package's policies in creation order; among equally specific policies
/// that order is kept. Empty when the catalog keeps the subject out (see [`choose_policy`] for
/// the reason).
pub fn admitting_policies<'a>(
    subject: &Subject,
    catalog: &Catalog,
    policies: &'a [AssignmentPolicy],
    purpose: Purpose,
) -> Vec<&'a AssignmentPolicy> {
    if catalog_refusal(subject, catalog).is_some() {
        return Vec::new();
    }
    let mut admitting: Vec<&AssignmentPolicy> =
        policies.iter().filter(|p| policy_admits(p, subject) && purpose.enabled_by(&p.requestor_settings)).collect();
    // Stable: ties keep creation order. Every admitting scope has a rank.
    admitting.sort_by_key(|p| specificity(p.allowed_target_scope).unwrap_or(u8::MAX));
    admitting
}

/// Choose the policy: the named one if given (it must admit the subject), else the most
/// specific admitting policy. Refusal when none.
pub fn choose_policy<'a>(
    subject: &Subject,
    catalog: &Catalog,
    policies: &'a [AssignmentPolicy],
    purpose: Purpose,
    requested: Option<Uuid>,
) -> Result<&'a AssignmentPolicy, Refusal> {
    if let Some(refusal) = catalog_refusal(subject, catalog) {
        return Err(refusal);
    }
    if let Some(id) = requested {
        let policy = policies.iter().find(|p| p.id == id).ok_or(Refusal::PolicyNotFound { policy: id })?;
        if !policy_admits(policy, subject) {
            return Err(Refusal::PolicyNotApplicable { policy: id, name: policy.display_name.clone() });
        }
        if !purpose.enabled_by(&policy.requestor_settings) {
            return Err(Refusal::SelfRequestDisabled { purpose });
        }
        return Ok(policy);
    }
    match admitting_policies(subject, catalog, policies, purpose).first() {
        Some(policy) => Ok(policy),
        None if policies.iter().any(|p| policy_admits(p, subject)) => Err(Refusal::SelfRequestDisabled { purpose }),
        None => Err(not_admitted(subject, policies)),
    }
}

/// `Some(domain)` when approving this subject's request under this policy creates a `proposed`
/// connected organization for the subject's email domain: the subject is external, belongs to
/// no connected organization, and the policy admits all external users. The domain is returned
/// normalised (lower case, no trailing dot); `None` if it is not a valid domain name.
pub fn proposes_organization(policy: &AssignmentPolicy, subject: &Subject) -> Option<String> {
    match &subject.kind {
        SubjectKind::External { domain, organization: None }
            if policy.allowed_target_scope == AllowedTargetScope::AllExternalUsers =>
        {
            normalize_domain(domain).ok()
        }
        _ => None,
    }
}

#[cfg(test)]
#[path = "evaluation_tests.rs"]
mod tests;
