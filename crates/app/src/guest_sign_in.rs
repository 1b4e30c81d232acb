//! Guests' sign-in: home-realm discovery (which identity source an address belongs to) and
//! email one-time passcodes. The rules are pure (`domain::home_realm`, `domain::passcode`);
//! this loads what they need, keeps the challenges, queues the mail and starts the session.

use gatehouse_domain::connected_organization::normalize_domain;
use gatehouse_domain::directory::{normalize_email, ObjectIdentity};
use gatehouse_domain::enums::{AllowedTargetScope, ExternalUserState, UserType};
use gatehouse_domain::evaluation::{admitting_policies, Purpose, Subject, SubjectKind};
use gatehouse_domain::home_realm::{self, HomeRealm, RealmRefusal};
use gatehouse_domain::passcode::{Attempt, PasscodeChallenge, PasscodePolicy, PasscodeRefusal};
use gatehouse_domain::session::AuthMethod;
use gatehouse_store::passcodes::{self, StoredChallenge};
use gatehouse_store::{catalogs, connected_organizations as orgs, directory, policies, Conn};
use rand::RngCore;
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::audit::created;
use crate::auth::{hash_token, random_secret};
use crate::delivery::{Mail, NewGuest};
use crate::sessions::{ClientInfo, SignedIn};
use crate::{Actor, App, AppError, Result};

/// Issuer recorded on guests' `emailAddress` identities (one-time passcode sign-in).
pub const PASSCODE_ISSUER: &str = "mail";
/// How long challenges are kept for the send limits (longer than any window).
const KEEP_CHALLENGES_HOURS: i64 = 24;

/// Why a guest could not sign in.
#[derive(Debug, thiserror::Error)]
pub enum GuestSignInError {
    #[error(transparent)]
    Realm(#[from] RealmRefusal),
    #[error(transparent)]
    Passcode(#[from] PasscodeRefusal),
    /// This address signs in another way (its organization's own provider).
    #[error("this address signs in through its organization's own sign-in, not with a passcode")]
    NotByPasscode,
    #[error("no code was requested in this browser, or it was replaced; ask for a new one")]
    NoChallenge,
    /// The directory account exists but cannot be used.
    #[error("{0}")]
    Account(String),
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<gatehouse_store::StoreError> for GuestSignInError {
    fn from(e: gatehouse_store::StoreError) -> Self {
        GuestSignInError::App(e.into())
    }
}

/// A code was sent: the browser keeps `browser_secret` in a cookie to type the code in.
#[derive(Debug, Clone)]
pub struct PasscodeSent {
    pub browser_secret: String,
    pub email: String,
}

/// The salted hash a code is stored as (the challenge id is the salt).
fn code_hash(challenge: Uuid, code: &str) -> String {
    hex::encode(Sha256::digest(format!("{challenge}:{code}").as_bytes()))
}

/// Compare hashes without leaking where they differ through timing.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether some enabled policy (published catalog visible to outsiders, self-requests on)
/// admits everyone from outside.
async fn all_external_admitted(conn: &mut Conn) -> Result<bool> {
    let outsider = Subject {
        user_id: None,
        kind: SubjectKind::External { domain: String::new(), organization: None },
        groups: vec![],
    };
    for policy in policies::with_scope(conn, AllowedTargetScope::AllExternalUsers).await? {
        if let Some(catalog) = catalogs::get(conn, policy.catalog_id).await? {
            if !admitting_policies(&outsider, &catalog, std::slice::from_ref(&policy), Purpose::SelfAdd).is_empty() {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

impl App {
    /// How people from `domain` sign in. The domain comes from a typed address or a link's
    /// `domain_hint`; an invalid one is a validation error.
    pub async fn discover_home_realm(&self, domain: &str) -> Result<HomeRealm> {
        let domain = normalize_domain(domain)?;
        let mut conn = self.store.conn().await?;
        self.home_realm_on(&mut conn, &domain).await
    }

    async fn home_realm_on(&self, conn: &mut Conn, domain: &str) -> Result<HomeRealm> {
        let settings = gatehouse_store::settings::get(conn).await?;
        let org = match orgs::domain_owner(conn, domain, None).await? {
            Some((id, _)) => orgs::get(conn, id).await?,
            None => None,
        };
        let admitted = all_external_admitted(conn).await?;
        Ok(home_realm::discover(domain, &settings, org.as_ref(), admitted))
    }

    /// Mail a one-time passcode to `email`, if its realm is passcodes and the send limits
    /// allow. `client_ip` is the connecting address (the per-client limit).
    pub async fn send_passcode(
        &self,
        email: &str,
        return_to: Option<String>,
        client_ip: Option<String>,
        policy: &PasscodePolicy,
    ) -> std::result::Result<PasscodeSent, GuestSignInError> {
        let email = normalize_email(email).map_err(AppError::from)?;
        let domain = gatehouse_domain::directory::email_domain(&email).unwrap_or_default().to_owned();
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let organization = match self.home_realm_on(&mut tx, &domain).await? {
            HomeRealm::Passcode { organization } => organization,
            HomeRealm::PartnerOidc { .. } => return Err(GuestSignInError::NotByPasscode),
            HomeRealm::Refused(r) => return Err(r.into()),
        };
        // A blocked guest gets no mail: the code could not sign them in anyway.
        if let [id] = directory::find_by_address(&mut tx, &email, UserType::Guest).await?.as_slice() {
            if let Some(u) = directory::get_user(&mut tx, *id).await? {
                if !u.account_enabled {
                    return Err(GuestSignInError::Account("this account is blocked; ask your sponsor".into()));
                }
            }
        }
        let (to_address, from_client) =
            passcodes::sent_since(&mut tx, &email, client_ip.as_deref(), policy.window_start(now)).await?;
        policy.may_send(to_address, from_client)?;
        let mut wipe = passcodes::delete_before(&mut tx, now - chrono::Duration::hours(KEEP_CHALLENGES_HOURS)).await?;
        wipe.extend(passcodes::close_open_for(&mut tx, &email, now).await?);
        passcodes::wipe_mail_jobs(&mut tx, &wipe).await?;

        let id = crate::new_id();
        let code = policy.code_from(rand::rng().next_u64());
        let challenge =
            PasscodeChallenge::new(id, email.clone(), code_hash(id, &code), organization, client_ip, now, policy);
        let minutes = policy.validity.num_minutes();
        let mail = Mail {
            to: vec![],
            to_addresses: vec![email.clone()],
            subject: "Your Gatehouse sign-in code".into(),
            body: format!(
                "Your sign-in code is {code}. It works once, for {minutes} minutes.\n\
                 If you did not try to sign in, ignore this message."
            ),
        };
        let job = self.enqueue_passcode_mail(&mut tx, mail).await?;
        let browser_secret = random_secret();
        let stored = StoredChallenge { challenge, return_to, mail_job_id: Some(job) };
        passcodes::insert(&mut tx, &stored, &hash_token(&browser_secret)).await?;
        // The audit log says a code was sent, never which.
        let info = json!({"email": email, "expiresDateTime": stored.challenge.expires_date_time,
            "connectedOrganizationId": organization});
        self.audit(&mut tx, &Actor::system(), created("passcode.send", "passcodeChallenge", id, &info)).await?;
        tx.commit().await?;
        self.work.notify_one();
        Ok(PasscodeSent { browser_secret, email })
    }

    /// Try a code typed in the browser holding `browser_secret`. On success: the guest for the
    /// address (created on first sign-in) and a session.
    pub async fn redeem_passcode(
        &self,
        browser_secret: &str,
        code: &str,
        client: ClientInfo,
        policy: &PasscodePolicy,
    ) -> std::result::Result<(SignedIn, Option<String>), GuestSignInError> {
        if browser_secret.is_empty() || browser_secret.len() > 200 {
            return Err(GuestSignInError::NoChallenge);
        }
        let now = self.now();
        let postgres = self.store.backend() == gatehouse_store::Backend::Postgres;
        let mut tx = self.store.begin().await?;
        let Some(mut stored) = passcodes::for_browser(&mut tx, &hash_token(browser_secret), postgres).await? else {
            return Err(GuestSignInError::NoChallenge);
        };
        let typed = policy.normalize_input(code);
        let matches =
            typed.is_some_and(|c| same_secret(&code_hash(stored.challenge.id, &c), &stored.challenge.code_hash));
        let attempt = stored.challenge.attempt(matches, now, policy);
        passcodes::save_attempt(&mut tx, &stored.challenge).await?;
        if stored.challenge.closed_date_time.is_some() {
            passcodes::wipe_mail_jobs(&mut tx, &stored.mail_job_id.into_iter().collect::<Vec<_>>()).await?;
        }
        if let Attempt::Refused(refusal) = attempt {
            // The count of wrong tries must stick even though sign-in fails.
            tx.commit().await?;
            return Err(refusal.into());
        }
        let email = stored.challenge.email.clone();
        let user = match self.passcode_user(&mut tx, &email).await {
            Ok(user) => user,
            Err(e @ (GuestSignInError::Realm(_) | GuestSignInError::NotByPasscode | GuestSignInError::Account(_))) => {
                // Refused after all: the code stays spent.
                tx.commit().await?;
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        tx.commit().await?;
        let signed = self.start_session(user, AuthMethod::EmailPasscode, None, client).await?;
        Ok((signed, stored.return_to.take()))
    }

    /// Settings or organizations may have changed since the code was sent: decide the realm
    /// again, then find or create the guest.
    async fn passcode_user(
        &self,
        tx: &mut gatehouse_store::WriteTx,
        email: &str,
    ) -> std::result::Result<Uuid, GuestSignInError> {
        let domain = gatehouse_domain::directory::email_domain(email).unwrap_or_default().to_owned();
        let organization = match self.home_realm_on(tx, &domain).await? {
            HomeRealm::Passcode { organization } => organization,
            HomeRealm::PartnerOidc { .. } => return Err(GuestSignInError::NotByPasscode),
            HomeRealm::Refused(r) => return Err(r.into()),
        };
        self.passcode_guest(tx, email, organization).await
    }

    /// The guest an address that proved itself by passcode signs in as: the guest with that
    /// address, or a new one. A guest who signs in through an identity provider (federated
    /// identity) is never reached by a passcode.
    async fn passcode_guest(
        &self,
        tx: &mut gatehouse_store::WriteTx,
        email: &str,
        organization: Option<Uuid>,
    ) -> std::result::Result<Uuid, GuestSignInError> {
        let identity = ObjectIdentity {
            odata_type: None,
            sign_in_type: "emailAddress".into(),
            issuer: PASSCODE_ISSUER.into(),
            issuer_assigned_id: email.to_owned(),
        };
        if let Some(id) = directory::find_by_identity(tx, PASSCODE_ISSUER, email).await? {
            return self.usable(tx, id).await;
        }
        match directory::find_by_address(tx, email, UserType::Guest).await?.as_slice() {
            [] => {
                let guest = NewGuest {
                    identities: vec![identity],
                    state: ExternalUserState::Accepted,
                    ..NewGuest::invited(email.to_owned())
                };
                let user = self.create_guest(tx, &Actor::system(), guest, organization, None).await?;
                Ok(user.id)
            }
            [id] => {
                let mut user = directory::get_user(tx, *id).await?.ok_or(GuestSignInError::NoChallenge)?;
                directory::load_identities(tx, &mut user).await?;
                if user.identities.iter().any(|i| i.sign_in_type == "federated") {
                    return Err(GuestSignInError::NotByPasscode);
                }
                self.usable(tx, *id).await?;
                // A guest created when their request was approved signs in for the first time.
                directory::add_identity(tx, *id, &identity).await?;
                let info = json!({"signInType": "emailAddress", "issuer": PASSCODE_ISSUER, "userId": id});
                self.audit(tx, &Actor::system(), created("user.linkIdentity", "user", *id, &info)).await?;
                Ok(*id)
            }
            _ => Err(GuestSignInError::Account(
                "several guests use this address; an administrator must resolve it".into(),
            )),
        }
    }

    async fn usable(&self, conn: &mut Conn, id: Uuid) -> std::result::Result<Uuid, GuestSignInError> {
        match directory::get_user(conn, id).await? {
            Some(u) if u.account_enabled => Ok(id),
            Some(_) => Err(GuestSignInError::Account("this account is blocked; ask your sponsor".into())),
            None => Err(GuestSignInError::NoChallenge),
        }
    }
}
