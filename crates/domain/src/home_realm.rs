//! Home-realm discovery: from the domain of the address a person typed, how they sign in.
//! Pure: the caller looks up the settings, the connected organization answering for the
//! domain, and whether some enabled policy admits all external users.
//!
//! A person is recognised as belonging to a connected organization only through that
//! organization's identity source (DESIGN.md §4): an OIDC-backed organization's domain never
//! gets a passcode, and a SAML-backed one is refused until SAML sign-in exists.

use uuid::Uuid;

use crate::connected_organization::{ConnectedOrganization, IdentitySource};
use crate::enums::ConnectedOrganizationState;
use crate::settings::Settings;

/// How a person from a domain signs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HomeRealm {
    /// At the organization's own OpenID Connect provider.
    PartnerOidc { organization: Uuid, issuer: String },
    /// With a one-time passcode mailed to the address; the guest belongs to `organization`
    /// (its domain source) or, for an unknown domain, to none.
    Passcode { organization: Option<Uuid> },
    /// Nobody from this domain can sign in; the reason is for the person.
    Refused(RealmRefusal),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RealmRefusal {
    /// The domain allow or deny list keeps the domain out.
    #[error("{0}")]
    DomainNotAllowed(String),
    /// No connected organization answers for the domain and no policy admits everyone from outside.
    #[error("{domain} is not a connected organization of this site, so its users cannot sign in here; ask your contact at the host organization to connect it")]
    NotConnected { domain: String },
    /// The organization signs in through an identity source Gatehouse cannot use yet.
    #[error("{organization} signs in through an identity provider this site does not support yet")]
    Unsupported { organization: String },
    /// The organization's OpenID Connect provider has no client registration for Gatehouse.
    #[error("{organization}'s sign-in is not set up yet; ask your contact at the host organization")]
    NotSetUp { organization: String },
}

/// Decide the realm of `domain` (already normalised).
///
/// - Deny list, or absence from a non-empty allow list: refused before anything else.
/// - An organization's OIDC source for the domain: its provider (configured or proposed:
///   the provider, not the state, says who its users are), if Gatehouse is registered there.
/// - An organization's domain source: a passcode, when the organization is `configured`. A
///   `proposed` organization does not count as configured: its users are admitted only as
///   unknown external users are (below), though they join it.
/// - SAML / WS-Federation: refused (never a passcode: that would make someone a member of the
///   organization without its identity provider).
/// - No organization: a passcode only when `all_external_admitted` (some enabled policy admits
///   all external users); otherwise not connected.
pub fn discover(
    domain: &str,
    settings: &Settings,
    organization: Option<&ConnectedOrganization>,
    all_external_admitted: bool,
) -> HomeRealm {
    if let Some(why) = settings.refuses_domain(domain) {
        return HomeRealm::Refused(RealmRefusal::DomainNotAllowed(why));
    }
    let not_connected = || HomeRealm::Refused(RealmRefusal::NotConnected { domain: domain.to_owned() });
    let Some(org) = organization else {
        return if all_external_admitted { HomeRealm::Passcode { organization: None } } else { not_connected() };
    };
    let source = org.identity_sources.iter().find(|s| s.domain_name() == Some(domain));
    match source {
        Some(IdentitySource::Oidc { issuer_uri, client_id, .. }) => {
            if client_id.is_none() {
                return HomeRealm::Refused(RealmRefusal::NotSetUp { organization: org.display_name.clone() });
            }
            HomeRealm::PartnerOidc { organization: org.id, issuer: issuer_uri.clone() }
        }
        Some(IdentitySource::Domain { .. }) => match org.state {
            ConnectedOrganizationState::Configured => HomeRealm::Passcode { organization: Some(org.id) },
            _ if all_external_admitted => HomeRealm::Passcode { organization: Some(org.id) },
            _ => not_connected(),
        },
        _ => HomeRealm::Refused(RealmRefusal::Unsupported { organization: org.display_name.clone() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};

    fn org(state: ConnectedOrganizationState, source: IdentitySource) -> ConnectedOrganization {
        let now = DateTime::<Utc>::from_timestamp(1_790_000_000, 0).unwrap();
        ConnectedOrganization {
            id: Uuid::from_u128(7),
            display_name: "Fabrikam".into(),
            description: None,
            identity_sources: vec![source],
            state,
            created_date_time: now,
            modified_date_time: now,
        }
    }

    fn domain_source() -> IdentitySource {
        IdentitySource::Domain { domain_name: "fabrikam.example".into(), display_name: None }
    }

    fn oidc_source(client_id: Option<&str>) -> IdentitySource {
        IdentitySource::Oidc {
            domain_name: "fabrikam.example".into(),
            display_name: None,
            issuer_uri: "https://idp.fabrikam.example".into(),
            client_id: client_id.map(str::to_owned),
            client_secret: None,
        }
    }

    const D: &str = "fabrikam.example";

    #[test]
    fn unknown_domains_need_an_all_external_users_policy() {
        let s = Settings::default();
        assert_eq!(discover(D, &s, None, true), HomeRealm::Passcode { organization: None });
        assert!(matches!(discover(D, &s, None, false), HomeRealm::Refused(RealmRefusal::NotConnected { .. })));
    }

    #[test]
    fn domain_sources_get_passcodes_oidc_sources_their_provider() {
        let s = Settings::default();
        let configured = org(ConnectedOrganizationState::Configured, domain_source());
        assert_eq!(
            discover(D, &s, Some(&configured), false),
            HomeRealm::Passcode { organization: Some(configured.id) }
        );
        let oidc = org(ConnectedOrganizationState::Configured, oidc_source(Some("gatehouse")));
        assert_eq!(
            discover(D, &s, Some(&oidc), true),
            HomeRealm::PartnerOidc { organization: oidc.id, issuer: "https://idp.fabrikam.example".into() },
            "an OIDC-backed organization's domain never gets a passcode"
        );
        let unregistered = org(ConnectedOrganizationState::Configured, oidc_source(None));
        assert!(matches!(
            discover(D, &s, Some(&unregistered), true),
            HomeRealm::Refused(RealmRefusal::NotSetUp { .. })
        ));
        let saml = org(
            ConnectedOrganizationState::Configured,
            IdentitySource::ExternalDomainFederation {
                domain_name: D.into(),
                display_name: None,
                issuer_uri: "https://sts.fabrikam.example".into(),
            },
        );
        assert!(matches!(discover(D, &s, Some(&saml), true), HomeRealm::Refused(RealmRefusal::Unsupported { .. })));
    }

    #[test]
    fn proposed_organizations_are_not_configured() {
        let s = Settings::default();
        let proposed = org(ConnectedOrganizationState::Proposed, domain_source());
        assert!(matches!(
            discover(D, &s, Some(&proposed), false),
            HomeRealm::Refused(RealmRefusal::NotConnected { .. })
        ));
        assert_eq!(discover(D, &s, Some(&proposed), true), HomeRealm::Passcode { organization: Some(proposed.id) });
    }

    #[test]
    fn allow_and_deny_lists_come_first() {
        let configured = org(ConnectedOrganizationState::Configured, domain_source());
        let deny = Settings { external_domain_deny_list: vec![D.into()], ..Settings::default() };
        assert!(matches!(
            discover(D, &deny, Some(&configured), true),
            HomeRealm::Refused(RealmRefusal::DomainNotAllowed(_))
        ));
        let allow = Settings { external_domain_allow_list: vec!["contoso.example".into()], ..Settings::default() };
        assert!(matches!(discover(D, &allow, None, true), HomeRealm::Refused(RealmRefusal::DomainNotAllowed(_))));
        assert!(matches!(discover("contoso.example", &allow, None, true), HomeRealm::Passcode { .. }));
    }
}
