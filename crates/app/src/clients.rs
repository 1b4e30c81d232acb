//! API clients: service principals get access tokens from the OAuth 2.0 client-credentials
//! grant (RFC 6749 §4.4) and call the API with them. A token works only while its client is
//! enabled and only for scopes the client still holds, so disabling a client or narrowing its
//! scopes takes effect at once, not when its tokens expire.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use gatehouse_domain::enums::UserType;
use gatehouse_domain::principal::{DirectoryRole, Principal, TokenScope};
use gatehouse_store::clients::{self, ServicePrincipal};
use serde_json::json;
use uuid::Uuid;

use crate::audit::{created, updated};
use crate::auth::{hash_token, random_secret, same_secret};
use crate::client_token::{self, Claims, SigningKey};
use crate::{Actor, App, AppError, Result};

/// Client secrets carry a recognisable prefix so secret scanners can find leaked ones.
pub const SECRET_PREFIX: &str = "ghs_";

/// The OAuth 2.0 error codes of the token endpoint (RFC 6749 §5.2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("invalid_request: {0}")]
    InvalidRequest(String),
    #[error("invalid_client: the client id or secret is wrong, or the client is disabled")]
    InvalidClient,
    #[error("unsupported_grant_type: only client_credentials is supported")]
    UnsupportedGrantType,
    #[error("invalid_scope: {0}")]
    InvalidScope(String),
}

/// An access token just issued.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub access_token: String,
    pub expires_in: i64,
    pub scope: String,
}

fn scopes_of(s: &str) -> Vec<TokenScope> {
    s.split_whitespace().filter_map(TokenScope::parse).collect()
}

/// Whether holding `held` lets a client use `scope`: ReadWrite includes Read.
fn covers(held: &[TokenScope], scope: TokenScope) -> bool {
    held.contains(&scope) || (scope == TokenScope::Read && held.contains(&TokenScope::ReadWrite))
}

fn summary(sp: &ServicePrincipal) -> serde_json::Value {
    json!({"id": sp.id, "clientId": sp.client_id, "displayName": sp.display_name, "scopes": sp.scopes, "enabled": sp.enabled})
}

impl App {
    /// Register a client. Returns the secret, shown once and stored only hashed.
    pub async fn create_client(
        &self,
        actor: &Actor,
        display_name: &str,
        scopes: &[TokenScope],
    ) -> Result<(ServicePrincipal, String)> {
        let name = display_name.trim();
        if name.is_empty() || name.len() > 256 {
            return Err(AppError::Validation(gatehouse_domain::ValidationError::new(
                "displayName",
                "a client needs a name of 1 to 256 characters",
            )));
        }
        let scopes = if scopes.is_empty() { vec![TokenScope::Read] } else { scopes.to_vec() };
        let sp = ServicePrincipal {
            id: crate::new_id(),
            client_id: crate::new_id().to_string(),
            display_name: name.to_owned(),
            scopes: scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" "),
            enabled: true,
            created_date_time: self.now(),
        };
        let secret = format!("{SECRET_PREFIX}{}", random_secret());
        let mut tx = self.store.begin().await?;
        clients::insert(&mut tx, &sp, &hash_token(&secret)).await?;
        self.audit(&mut tx, actor, created("servicePrincipal.create", "servicePrincipal", sp.id, &summary(&sp)))
            .await?;
        tx.commit().await?;
        Ok((sp, secret))
    }

    pub async fn list_clients(&self) -> Result<Vec<ServicePrincipal>> {
        let mut conn = self.store.conn().await?;
        Ok(clients::list(&mut conn).await?)
    }

    /// Enable or disable a client; a disabled client's tokens stop working at once.
    pub async fn set_client_enabled(&self, actor: &Actor, id: Uuid, enabled: bool) -> Result<()> {
        let mut tx = self.store.begin().await?;
        let Some(before) = clients::get(&mut tx, id).await? else { return crate::not_found("service principal", id) };
        clients::set_enabled(&mut tx, id, enabled).await?;
        let after = ServicePrincipal { enabled, ..before.clone() };
        let activity = if enabled { "servicePrincipal.enable" } else { "servicePrincipal.disable" };
        self.audit(&mut tx, actor, updated(activity, "servicePrincipal", id, &summary(&before), &summary(&after)))
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The client-credentials grant. `scope` may name scopes the client holds, or be absent
    /// or `.default` (as Entra clients send) for all of them.
    pub async fn issue_client_token(
        &self,
        client_id: &str,
        secret: &str,
        scope: Option<&str>,
    ) -> std::result::Result<IssuedToken, TokenError> {
        let found = async {
            let mut conn = self.store.conn().await?;
            Ok::<_, AppError>(clients::find_by_client_id(&mut conn, client_id).await?)
        }
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "client lookup failed");
            TokenError::InvalidRequest("the token service is unavailable; try again".into())
        })?;
        // Compare against something even when the client does not exist, so the answer's timing
        // does not tell which client ids exist.
        let presented = hash_token(secret);
        let stored = found.as_ref().map_or_else(|| "0".repeat(presented.len()), |(_, hash)| hash.clone());
        let matches = same_secret(&presented, &stored);
        let Some((sp, _)) = found.filter(|(sp, _)| matches && sp.enabled) else {
            return Err(TokenError::InvalidClient);
        };
        let held = scopes_of(&sp.scopes);
        let granted: Vec<TokenScope> = match scope.map(str::trim).filter(|s| !s.is_empty()) {
            None => held.clone(),
            Some(s) if s.split_whitespace().all(|x| x.ends_with(".default")) => held.clone(),
            Some(s) => {
                let mut wanted = Vec::new();
                for name in s.split_whitespace() {
                    let parsed = TokenScope::parse(name).ok_or_else(|| {
                        TokenError::InvalidScope(format!("unknown scope '{name}'; expected {}", TokenScope::expected()))
                    })?;
                    if !covers(&held, parsed) {
                        return Err(TokenError::InvalidScope(format!("this client does not hold {parsed}")));
                    }
                    wanted.push(parsed);
                }
                wanted
            }
        };
        let scope = granted.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ");
        let key = self.signing_key().await.map_err(|e| {
            tracing::error!(error = %e, "no signing key");
            TokenError::InvalidRequest("the token service is unavailable; try again".into())
        })?;
        let claims = Claims::new(sp.id, &sp.client_id, &scope, self.now());
        Ok(IssuedToken {
            access_token: client_token::mint(&key, &claims),
            expires_in: client_token::LIFETIME_MINUTES * 60,
            scope,
        })
    }

    /// The principal behind a client's access token.
    pub(crate) async fn authenticate_client(&self, token: &str) -> Result<Principal> {
        let refuse = || AppError::Unauthenticated("the access token is invalid, expired or revoked".into());
        let key = self.signing_key().await?;
        let claims = client_token::check(&key, token, self.now()).map_err(|why| {
            tracing::info!(reason = %why, "client token refused");
            refuse()
        })?;
        let mut conn = self.store.conn().await?;
        let sp = clients::get(&mut conn, claims.sub).await?.filter(|sp| sp.enabled).ok_or_else(refuse)?;
        let held = scopes_of(&sp.scopes);
        Ok(Principal {
            user_id: sp.id,
            display_name: sp.display_name,
            // An application acts for the organization, as a member would.
            user_type: UserType::Member,
            // Entitlement-management application permissions, as Graph grants them to apps.
            directory_roles: vec![DirectoryRole::IdentityGovernanceAdministrator],
            catalog_roles: vec![],
            scopes: scopes_of(&claims.scp).into_iter().filter(|s| covers(&held, *s)).collect(),
        })
    }

    /// The key client tokens are signed with, made on first use and kept in the database so
    /// every replica signs and checks with the same one.
    pub(crate) async fn signing_key(&self) -> Result<SigningKey> {
        self.signing_key
            .get_or_try_init(|| async {
                let stored = {
                    let mut conn = self.store.conn().await?;
                    clients::signing_key(&mut conn).await?
                };
                let (kid, private, public) = match stored {
                    Some(k) => k,
                    None => {
                        let fresh = SigningKey::generate(crate::new_id().to_string());
                        let mut tx = self.store.begin().await?;
                        clients::insert_signing_key_if_none(
                            &mut tx,
                            &fresh.kid,
                            &B64.encode(&fresh.pkcs8),
                            &B64.encode(&fresh.public),
                            self.now(),
                        )
                        .await?;
                        let stored = clients::signing_key(&mut tx).await?;
                        tx.commit().await?;
                        stored.ok_or_else(|| AppError::Conflict("the signing key could not be stored".into()))?
                    }
                };
                let decode = |s: &str| {
                    B64.decode(s)
                        .map_err(|_| AppError::Store(gatehouse_store::StoreError::Corrupt("signing key".into())))
                };
                Ok(SigningKey { kid, pkcs8: decode(&private)?, public: decode(&public)? })
            })
            .await
            .cloned()
    }
}
