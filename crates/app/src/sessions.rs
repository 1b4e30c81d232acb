//! Sign-in sessions: started once a person proved who they are (OIDC, passcode, bootstrap
//! link), resolved on every request from the cookie's secret, ended by sign-out, by an
//! administrator, by timeouts, or at once when the account is blocked or deleted.

use chrono::Duration;
use gatehouse_domain::principal::{Principal, TokenScope};
use gatehouse_domain::session::{AuthMethod, Session, SessionEnd};
use gatehouse_store::sessions;
use serde_json::json;
use uuid::Uuid;

use crate::audit::{created, updated};
use crate::auth::{hash_token, principal_of, random_secret};
use crate::{Actor, App, AppError, Result};

/// How long the first administrator's sign-in link works.
pub const BOOTSTRAP_LINK_MINUTES: i64 = 15;

/// A session just started: the secret goes into the cookie and is never stored.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub secret: String,
    pub session: Session,
}

/// Where the browser is, for the session list (never used to decide anything).
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// What the audit log keeps of a session: never its secret or CSRF token.
fn summary(s: &Session) -> serde_json::Value {
    json!({
        "id": s.id, "userId": s.user_id, "authMethod": s.auth_method, "identityIssuer": s.identity_issuer,
        "expiresDateTime": s.expires_date_time, "endedDateTime": s.ended_date_time, "clientIp": s.client_ip,
    })
}

impl App {
    /// Start a session for a person who just proved who they are.
    pub async fn start_session(
        &self,
        user_id: Uuid,
        method: AuthMethod,
        issuer: Option<String>,
        client: ClientInfo,
    ) -> Result<SignedIn> {
        let secret = random_secret();
        let mut session =
            Session::start(crate::new_id(), user_id, method, issuer, random_secret(), self.now(), self.session_policy);
        session.client_ip = client.ip.map(|ip| ip.chars().take(64).collect());
        session.user_agent = client.user_agent.map(|ua| ua.chars().take(256).collect());
        let mut tx = self.store.begin().await?;
        sessions::insert(&mut tx, &session, &hash_token(&secret)).await?;
        let actor = Actor::system();
        self.audit(&mut tx, &actor, created("session.start", "user", user_id, &summary(&session))).await?;
        tx.commit().await?;
        Ok(SignedIn { secret, session })
    }

    /// The principal behind a session cookie, or why there is none.
    pub async fn session_principal(&self, secret: &str) -> Result<(Principal, Session)> {
        let refuse = |why: &str| AppError::Unauthenticated(format!("the session {why}; sign in again"));
        if secret.is_empty() || secret.len() > 200 {
            return Err(refuse("is invalid"));
        }
        let now = self.now();
        let mut conn = self.store.conn().await?;
        let session =
            sessions::find_by_secret_hash(&mut conn, &hash_token(secret)).await?.ok_or_else(|| refuse("is invalid"))?;
        session.check(now, self.session_policy).map_err(|end| {
            refuse(match end {
                SessionEnd::SignedOut => "has ended",
                SessionEnd::Idle => "timed out after inactivity",
                SessionEnd::Expired => "reached its maximum age",
            })
        })?;
        let principal = principal_of(&mut conn, session.user_id, vec![TokenScope::ReadWrite]).await?;
        drop(conn);
        if session.needs_touch(now) {
            let mut tx = self.store.begin().await?;
            sessions::touch(&mut tx, session.id, now).await?;
            tx.commit().await?;
        }
        Ok((principal, session))
    }

    /// Sign out, or an administrator revoking a session. Ending an ended session is a no-op.
    pub async fn end_session(&self, actor: &Actor, id: Uuid) -> Result<()> {
        let mut tx = self.store.begin().await?;
        let Some(before) = sessions::get(&mut tx, id).await? else { return crate::not_found("session", id) };
        if sessions::end(&mut tx, id, self.now()).await? {
            let after = sessions::get(&mut tx, id).await?.unwrap_or_else(|| before.clone());
            self.audit(
                &mut tx,
                actor,
                updated("session.end", "user", before.user_id, &summary(&before), &summary(&after)),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn get_session(&self, id: Uuid) -> Result<Session> {
        let mut conn = self.store.conn().await?;
        match sessions::get(&mut conn, id).await? {
            Some(s) => Ok(s),
            None => crate::not_found("session", id),
        }
    }

    /// A user's sessions, newest first.
    pub async fn list_sessions(&self, user: Uuid) -> Result<Vec<Session>> {
        let mut conn = self.store.conn().await?;
        Ok(sessions::list_for_user(&mut conn, user, 100).await?)
    }

    /// Keep a sign-in that went to an identity provider until the browser comes back; sign-ins
    /// that never came back are cleared on the way.
    pub async fn remember_sign_in(&self, flow: &sessions::SignInFlow) -> Result<()> {
        let mut tx = self.store.begin().await?;
        sessions::delete_expired_flows(&mut tx, self.now()).await?;
        sessions::insert_flow(&mut tx, flow).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Take a pending sign-in by the hash of its `state`: single use.
    pub async fn take_sign_in(&self, state_hash: &str) -> Result<Option<sessions::SignInFlow>> {
        let mut tx = self.store.begin().await?;
        let flow = sessions::take_flow(&mut tx, state_hash).await?;
        tx.commit().await?;
        Ok(flow)
    }

    /// A one-time sign-in link secret for a user (the first administrator of a fresh install):
    /// valid for [`BOOTSTRAP_LINK_MINUTES`], single use. The secret is stored only hashed.
    pub async fn create_bootstrap_link(&self, user: Uuid) -> Result<String> {
        let secret = random_secret();
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let expires = now + Duration::minutes(BOOTSTRAP_LINK_MINUTES);
        sessions::insert_bootstrap_link(&mut tx, &hash_token(&secret), user, now, expires).await?;
        let info = json!({"userId": user, "expiresDateTime": expires});
        self.audit(&mut tx, &Actor::system(), created("bootstrapLink.create", "user", user, &info)).await?;
        tx.commit().await?;
        Ok(secret)
    }

    /// Use a bootstrap link: a session for its user, or a refusal that says nothing more.
    pub async fn redeem_bootstrap_link(&self, secret: &str, client: ClientInfo) -> Result<SignedIn> {
        let refuse = || AppError::Unauthenticated("this sign-in link is invalid, used or expired".into());
        if secret.is_empty() || secret.len() > 200 {
            return Err(refuse());
        }
        let user = {
            let mut tx = self.store.begin().await?;
            let user = sessions::redeem_bootstrap_link(&mut tx, &hash_token(secret), self.now()).await?;
            tx.commit().await?;
            user.ok_or_else(refuse)?
        };
        self.start_session(user, AuthMethod::BootstrapLink, None, client).await
    }
}
