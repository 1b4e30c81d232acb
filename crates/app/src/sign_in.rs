//! Turning a person an identity provider vouched for into a directory user and a session.
//! The provider protocol (OpenID Connect) lives at the HTTP edge; this decides who they are
//! here: linked by issuer + subject, never by email alone across organizations.

use gatehouse_domain::connected_organization::IdentitySource;
use gatehouse_domain::directory::{normalize_email, NewUser, User};
use gatehouse_domain::enums::{ExternalUserState, UserType};
use gatehouse_domain::session::AuthMethod;
use gatehouse_store::{connected_organizations as orgs, directory};
use uuid::Uuid;

use crate::audit::{created, updated};
use crate::delivery::NewGuest;
use crate::sessions::{ClientInfo, SignedIn};
use crate::{Actor, App, AppError, Result};

pub use gatehouse_domain::directory::VerifiedPerson;

impl App {
    /// A member signed in at the host's provider: the user linked to that subject; on first
    /// sign-in, the member with that verified address (linked now), or a new member.
    pub async fn sign_in_member(&self, person: &VerifiedPerson, client: ClientInfo) -> Result<SignedIn> {
        let actor = Actor::system();
        let mut tx = self.store.begin().await?;
        let user = match directory::find_by_identity(&mut tx, &person.issuer, &person.subject).await? {
            Some(id) => id,
            None => {
                let address = person.email.as_deref().ok_or_else(|| {
                    AppError::Unauthenticated(
                        "the identity provider did not return a verified email address for this account".into(),
                    )
                })?;
                let existing = directory::find_by_address(&mut tx, address, UserType::Member).await?;
                match existing.as_slice() {
                    [id] => {
                        let before = require(&mut tx, *id).await?;
                        directory::add_identity(&mut tx, *id, &person.identity()).await?;
                        let after = require(&mut tx, *id).await?;
                        self.audit(&mut tx, &actor, updated("user.linkIdentity", "user", *id, &before, &after)).await?;
                        *id
                    }
                    [] => {
                        let input = NewUser {
                            display_name: person.display_name.clone().or_else(|| Some(address.to_owned())),
                            given_name: person.given_name.clone(),
                            surname: person.surname.clone(),
                            mail: Some(address.to_owned()),
                            mail_nickname: None,
                            user_principal_name: Some(address.to_owned()),
                            user_type: Some(UserType::Member),
                            account_enabled: Some(true),
                            external_user_state: None,
                            connected_organization_id: None,
                            identities: vec![person.identity()],
                            _password_profile: None,
                        };
                        let user = User::create(input, crate::new_id(), self.now())?;
                        directory::insert_user(&mut tx, &user).await?;
                        self.audit(&mut tx, &actor, created("user.create", "user", user.id, &user)).await?;
                        user.id
                    }
                    _ => {
                        return Err(AppError::Conflict(format!(
                            "several members use the address {address}; an administrator must link this account"
                        )))
                    }
                }
            }
        };
        tx.commit().await?;
        self.start_session(user, AuthMethod::HostOidc, Some(person.issuer.clone()), client).await
    }
}

/// Gatehouse's registration at a connected organization's OpenID Connect provider.
#[derive(Clone, PartialEq, Eq)]
pub struct PartnerClient {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
}

impl App {
    /// The registration to use at `issuer` for `org`, if the organization has such a source
    /// with a client id and secret.
    pub async fn partner_client(&self, org: Uuid, issuer: &str) -> Result<Option<PartnerClient>> {
        let mut conn = self.store.conn().await?;
        let Some(o) = orgs::get(&mut conn, org).await? else { return Ok(None) };
        for source in &o.identity_sources {
            if let IdentitySource::Oidc { domain_name, issuer_uri, client_id: Some(client_id), .. } = source {
                if issuer_uri == issuer {
                    let secret = orgs::oidc_client_secret(&mut conn, org, domain_name).await?;
                    return Ok(secret.map(|secret| PartnerClient {
                        issuer: issuer_uri.clone(),
                        client_id: client_id.clone(),
                        client_secret: secret.expose().to_owned(),
                    }));
                }
            }
        }
        Ok(None)
    }

    /// A partner's user signed in at their organization's own provider: the guest linked to
    /// that issuer + subject, or on first sign-in a new guest of the organization. Never
    /// matched by address: only this provider makes someone this organization's guest.
    pub async fn sign_in_partner(&self, org: Uuid, person: &VerifiedPerson, client: ClientInfo) -> Result<SignedIn> {
        let refuse = |why: &str| AppError::Unauthenticated(why.to_owned());
        let mut tx = self.store.begin().await?;
        let o = orgs::get(&mut tx, org).await?.ok_or_else(|| refuse("this organization is no longer connected"))?;
        let domain = o
            .identity_sources
            .iter()
            .find_map(|s| match s {
                IdentitySource::Oidc { domain_name, issuer_uri, .. } if *issuer_uri == person.issuer => {
                    Some(domain_name.clone())
                }
                _ => None,
            })
            .ok_or_else(|| refuse("this identity provider no longer signs in for the organization"))?;
        // Settings may have changed while the person was at their provider.
        let settings = gatehouse_store::settings::get(&mut tx).await?;
        if let Some(why) = settings.refuses_domain(&domain) {
            return Err(AppError::Forbidden(why));
        }
        let user =
            match directory::find_by_identity(&mut tx, &person.issuer, &person.subject).await? {
                Some(id) => {
                    let u = require(&mut tx, id).await?;
                    if u.user_type != UserType::Guest || u.connected_organization_id != Some(org) {
                        return Err(AppError::Conflict(
                            "this account is linked to another user of the directory; an administrator must resolve it"
                                .into(),
                        ));
                    }
                    if !u.account_enabled {
                        return Err(refuse("this account is blocked; ask your sponsor"));
                    }
                    id
                }
                None => {
                    let email =
                        person.email.as_deref().map(normalize_email).transpose().ok().flatten().ok_or_else(|| {
                            refuse("your organization's sign-in did not return a verified email address")
                        })?;
                    let guest = NewGuest {
                        display_name: person.display_name.clone(),
                        given_name: person.given_name.clone(),
                        surname: person.surname.clone(),
                        identities: vec![person.identity()],
                        state: ExternalUserState::Accepted,
                        // The address may already be another guest's (invited, or signed in another
                        // way): this guest's name says whose provider vouched for them.
                        user_principal_name: Some(federated_upn(&email, &person.issuer, &person.subject)),
                        ..NewGuest::invited(email)
                    };
                    self.create_guest(&mut tx, &Actor::system(), guest, Some(org), None).await?.id
                }
            };
        tx.commit().await?;
        self.start_session(user, AuthMethod::PartnerOidc, Some(person.issuer.clone()), client).await
    }
}

/// `local_domain_<8 hex of issuer+subject>#EXT#`: unique per identity, readable per address.
fn federated_upn(email: &str, issuer: &str, subject: &str) -> String {
    use sha2::Digest;
    let hash = hex::encode(sha2::Sha256::digest(format!("{issuer}\n{subject}").as_bytes()));
    format!("{}_{}#EXT#", email.replace('@', "_"), &hash[..8])
}

async fn require(conn: &mut gatehouse_store::Conn, id: Uuid) -> Result<User> {
    let mut user = directory::get_user(conn, id).await?.ok_or_else(|| AppError::NotFound(format!("user '{id}'")))?;
    directory::load_identities(conn, &mut user).await?;
    Ok(user)
}
