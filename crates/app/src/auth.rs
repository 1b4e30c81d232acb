//! Bearer tokens and the principal behind them, plus the first administrator of a fresh install.

use base64::Engine;
use gatehouse_domain::directory::{NewUser, User};
use gatehouse_domain::principal::{DirectoryRole, Principal, TokenScope};
use gatehouse_store::{directory, tokens};
use rand::RngCore;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::audit::created;
use crate::{Actor, App, AppError, Result};

/// Tokens carry a recognisable prefix so secret scanners can find leaked ones.
pub const TOKEN_PREFIX: &str = "ghp_";

pub fn generate_token() -> String {
    format!("{TOKEN_PREFIX}{}", random_secret())
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Metadata of a token that was just created; the secret is returned separately, once.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenInfo {
    pub id: Uuid,
    pub user_id: Uuid,
    pub scopes: Vec<TokenScope>,
    pub description: Option<String>,
}

/// The principal of an enabled directory user, with the scopes of the credential they used.
pub(crate) async fn principal_of(
    conn: &mut gatehouse_store::Conn,
    user_id: Uuid,
    scopes: Vec<TokenScope>,
) -> Result<Principal> {
    let user = directory::get_user(conn, user_id)
        .await?
        .ok_or_else(|| AppError::Unauthenticated("the account no longer exists".into()))?;
    // Blocked guests are disabled too: their tokens and sessions stop at once.
    if !user.account_enabled {
        return Err(AppError::Unauthenticated("the account is disabled".into()));
    }
    Ok(Principal {
        user_id: user.id,
        display_name: user.display_name,
        user_type: user.user_type,
        directory_roles: directory::directory_roles(conn, user.id).await?,
        catalog_roles: directory::catalog_roles(conn, user.id).await?,
        scopes,
    })
}

/// Compare secrets (or their hashes) without leaking through timing where they differ. Written
/// out rather than pulling in a crate for one fold over bytes.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A fresh random secret: 256 bits, URL-safe.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

impl App {
    /// Resolve a bearer token to its principal, or refuse it.
    pub async fn authenticate(&self, bearer: &str) -> Result<Principal> {
        let refuse = || AppError::Unauthenticated("the access token is invalid, expired or revoked".into());
        if bearer.len() > 2000 {
            return Err(refuse());
        }
        // A JWT (three dot-separated parts) is an API client's access token.
        if bearer.split('.').count() == 3 {
            return self.authenticate_client(bearer).await;
        }
        if !bearer.starts_with(TOKEN_PREFIX) || bearer.len() > 200 {
            return Err(refuse());
        }
        let mut conn = self.store.conn().await?;
        let token = tokens::find_by_hash(&mut conn, &hash_token(bearer)).await?.ok_or_else(refuse)?;
        if token.revoked || token.expires_date_time.is_some_and(|e| e <= self.now()) {
            return Err(refuse());
        }
        principal_of(&mut conn, token.user_id, token.scopes).await
    }

    /// Create a token for a directory user. Returns the secret, which is stored only hashed.
    pub async fn create_token(
        &self,
        actor: &Actor,
        user_id: Uuid,
        scopes: Vec<TokenScope>,
        description: Option<String>,
    ) -> Result<(String, TokenInfo)> {
        let mut tx = self.store.begin().await?;
        if directory::get_user(&mut tx, user_id).await?.is_none() {
            return crate::not_found("user", user_id);
        }
        let secret = generate_token();
        let stored = tokens::StoredToken {
            id: crate::new_id(),
            user_id,
            scopes: if scopes.is_empty() { vec![TokenScope::ReadWrite] } else { scopes },
            description,
            created_date_time: self.now(),
            expires_date_time: None,
            revoked: false,
        };
        tokens::insert(&mut tx, &stored, &hash_token(&secret)).await?;
        let info = TokenInfo {
            id: stored.id,
            user_id,
            scopes: stored.scopes.clone(),
            description: stored.description.clone(),
        };
        self.audit(&mut tx, actor, created("token.create", "token", info.id, &info)).await?;
        tx.commit().await?;
        Ok((secret, info))
    }

    /// On a fresh install, create the first global administrator and a token for them.
    /// Returns `None` when an administrator already exists.
    pub async fn bootstrap(&self) -> Result<Option<(User, String)>> {
        let mut tx = self.store.begin().await?;
        if directory::any_administrator(&mut tx).await? {
            return Ok(None);
        }
        let input = NewUser {
            display_name: Some("Gatehouse Administrator".into()),
            given_name: None,
            surname: None,
            mail: None,
            mail_nickname: Some("admin".into()),
            user_principal_name: Some("admin@gatehouse.local".into()),
            user_type: None,
            account_enabled: Some(true),
            external_user_state: None,
            connected_organization_id: None,
            identities: vec![],
            _password_profile: None,
        };
        let user = User::create(input, crate::new_id(), self.now())?;
        directory::insert_user(&mut tx, &user).await?;
        directory::grant_directory_role(&mut tx, user.id, DirectoryRole::GlobalAdministrator).await?;
        let actor = Actor::system();
        self.audit(&mut tx, &actor, created("user.create", "user", user.id, &user)).await?;
        self.audit(
            &mut tx,
            &actor,
            created(
                "directoryRole.assign",
                "user",
                user.id,
                &serde_json::json!({"role": DirectoryRole::GlobalAdministrator}),
            ),
        )
        .await?;
        tx.commit().await?;
        let (secret, _) = self
            .create_token(&actor, user.id, vec![TokenScope::ReadWrite], Some("bootstrap administrator".into()))
            .await?;
        Ok(Some((user, secret)))
    }

    /// Grant a directory role (CLI and tests; the API for role assignments comes with sign-in).
    pub async fn grant_directory_role(&self, actor: &Actor, user_id: Uuid, role: DirectoryRole) -> Result<()> {
        let mut tx = self.store.begin().await?;
        if directory::get_user(&mut tx, user_id).await?.is_none() {
            return crate::not_found("user", user_id);
        }
        directory::grant_directory_role(&mut tx, user_id, role).await?;
        self.audit(
            &mut tx,
            actor,
            created("directoryRole.assign", "user", user_id, &serde_json::json!({"role": role})),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_hashed() {
        let a = generate_token();
        let b = generate_token();
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX) && a.len() > 40);
        assert_eq!(hash_token(&a).len(), 64);
        assert_ne!(hash_token(&a), a);
    }
}
