//! Turning a person an identity provider vouched for into a directory user and a session.
//! The provider protocol (OpenID Connect) lives at the HTTP edge; this decides who they are
//! here: linked by issuer + subject, never by email alone across organizations.

use gatehouse_domain::directory::{NewUser, ObjectIdentity, User};
use gatehouse_domain::enums::UserType;
use gatehouse_domain::session::AuthMethod;
use gatehouse_store::directory;
use uuid::Uuid;

use crate::audit::{created, updated};
use crate::sessions::{ClientInfo, SignedIn};
use crate::{Actor, App, AppError, Result};

/// What an identity provider asserted about the person, after its token was verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedPerson {
    pub issuer: String,
    pub subject: String,
    /// Only set when the provider says the address is verified.
    pub email: Option<String>,
    pub display_name: Option<String>,
    pub given_name: Option<String>,
    pub surname: Option<String>,
}

impl VerifiedPerson {
    fn identity(&self) -> ObjectIdentity {
        ObjectIdentity {
            odata_type: None,
            sign_in_type: "federated".into(),
            issuer: self.issuer.clone(),
            issuer_assigned_id: self.subject.clone(),
        }
    }
}

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

async fn require(conn: &mut gatehouse_store::Conn, id: Uuid) -> Result<User> {
    let mut user = directory::get_user(conn, id).await?.ok_or_else(|| AppError::NotFound(format!("user '{id}'")))?;
    directory::load_identities(conn, &mut user).await?;
    Ok(user)
}
