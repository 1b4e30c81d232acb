//! An LDAP client (OpenLDAP and Active Directory alike) on `ldap3`: bind, find and create a
//! person's entry, add and remove `member` values, read and search groups.
//!
//! Result codes that mean "already so" are success: adding a member that is there (20,
//! attributeOrValueExists) and removing one that is not (16, noSuchAttribute). A `groupOfNames`
//! cannot lose its last member (65, objectClassViolation): the removal then puts the group's own
//! DN in as a placeholder member in the same modify, which grants nothing to anyone, and a later
//! addition takes the placeholder out again.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use gatehouse_domain::connection::{LdapSettings, Secret, Secrets};
use gatehouse_domain::provisioning::Person;
use ldap3::{
    dn_escape, ldap_escape, Ldap, LdapConnAsync, LdapConnSettings, LdapError, LdapResult, Mod, Scope, SearchEntry,
};

use crate::error::{TargetError, TargetErrorKind};

const ALREADY_EXISTS: u32 = 68;
const VALUE_EXISTS: u32 = 20;
const NO_SUCH_ATTRIBUTE: u32 = 16;
const NO_SUCH_OBJECT: u32 = 32;
const OBJECT_CLASS_VIOLATION: u32 = 65;
const INVALID_CREDENTIALS: u32 = 49;
/// What marks the entries Gatehouse makes, besides its own record of them.
pub const MADE_BY: &str = "Guest account managed by Gatehouse";

/// Group object classes: OpenLDAP's groupOfNames and groupOfUniqueNames, Active Directory's group.
const GROUP_FILTER: &str = "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)(objectClass=group))";

pub struct LdapClient {
    settings: LdapSettings,
    password: Secret,
}

/// A group as the directory has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LdapGroup {
    pub dn: String,
    pub name: String,
    pub description: Option<String>,
    /// Member DNs, without the placeholder.
    pub members: Vec<String>,
}

/// A bound connection to the directory; close it when done. A clone is another handle on the
/// same connection, for operations in parallel.
#[derive(Clone)]
pub struct LdapSession {
    ldap: Ldap,
    settings: LdapSettings,
}

impl LdapClient {
    pub fn new(settings: &LdapSettings, secrets: &Secrets) -> Result<Self, TargetError> {
        let password = secrets.bind_password.clone().ok_or_else(|| {
            TargetError::new(TargetErrorKind::Unauthorized, "the LDAP connection has no bind password")
        })?;
        Ok(LdapClient { settings: settings.clone(), password })
    }

    fn what(&self) -> String {
        format!("the LDAP directory at {}", self.settings.url)
    }

    /// Connect (StartTLS or ldaps as configured, verifying the certificate) and bind.
    pub async fn session(&self) -> Result<LdapSession, TargetError> {
        let what = self.what();
        let mut conn_settings =
            LdapConnSettings::new().set_conn_timeout(Duration::from_secs(5)).set_starttls(self.settings.start_tls);
        if let Some(ca) = &self.settings.ca_file {
            conn_settings = conn_settings.set_config(tls_config(ca)?);
        }
        let (conn, mut ldap) = LdapConnAsync::with_settings(conn_settings, &self.settings.url)
            .await
            .map_err(|e| TargetError::unreachable(format!("{what} cannot be reached: {e}")))?;
        ldap3::drive!(conn);
        ldap.with_timeout(Duration::from_secs(20));
        let bound =
            ldap.simple_bind(&self.settings.bind_dn, self.password.expose()).await.map_err(|e| io_error(&what, e))?;
        if bound.rc == INVALID_CREDENTIALS {
            return Err(TargetError::new(
                TargetErrorKind::Unauthorized,
                format!(
                    "{what} refused the bind DN '{}' and its password (invalid credentials)",
                    self.settings.bind_dn
                ),
            ));
        }
        if bound.rc != 0 {
            return Err(TargetError::new(
                TargetErrorKind::Unauthorized,
                format!("{what} refused the bind: {}", describe(&bound)),
            ));
        }
        Ok(LdapSession { ldap, settings: self.settings.clone() })
    }
}

/// rustls with the CA of `path` as the only root.
fn tls_config(path: &str) -> Result<Arc<rustls::ClientConfig>, TargetError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    let unreadable = |why: String| TargetError::unreachable(format!("the CA file '{path}' cannot be used: {why}"));
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(path).map_err(|e| unreadable(e.to_string()))? {
        roots.add(cert.map_err(|e| unreadable(e.to_string()))?).map_err(|e| unreadable(e.to_string()))?;
    }
    if roots.is_empty() {
        return Err(unreadable("it holds no certificate".into()));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| unreadable(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

fn io_error(what: &str, e: LdapError) -> TargetError {
    match e {
        LdapError::Timeout { .. } => TargetError::transient(format!("{what} did not answer in time")),
        other => TargetError::unreachable(format!("{what} failed: {other}")),
    }
}

fn describe(r: &LdapResult) -> String {
    let name = match r.rc {
        16 => "noSuchAttribute",
        20 => "attributeOrValueExists",
        21 => "invalidAttributeSyntax",
        32 => "noSuchObject",
        34 => "invalidDNSyntax",
        49 => "invalidCredentials",
        50 => "insufficientAccessRights",
        51 => "busy",
        52 => "unavailable",
        53 => "unwillingToPerform",
        65 => "objectClassViolation",
        68 => "entryAlreadyExists",
        _ => "error",
    };
    if r.text.is_empty() {
        format!("{name} ({})", r.rc)
    } else {
        format!("{name} ({}): {}", r.rc, r.text)
    }
}

/// A result that is not success: busy and unavailable may pass, access refusals are the
/// credentials' fault, the rest are refusals of this change.
fn refusal(what: &str, doing: &str, r: &LdapResult) -> TargetError {
    let kind = match r.rc {
        51 | 52 | 80 => TargetErrorKind::Transient,
        49 | 50 => TargetErrorKind::Unauthorized,
        _ => TargetErrorKind::Permanent,
    };
    TargetError::new(kind, format!("{what} refused to {doing}: {}", describe(r)))
}

impl LdapSession {
    fn what(&self) -> String {
        format!("the LDAP directory at {}", self.settings.url)
    }

    pub async fn close(mut self) {
        let _ = self.ldap.unbind().await;
    }

    /// Search; `None` when `base` does not exist.
    async fn lookup(
        &mut self,
        base: &str,
        scope: Scope,
        filter: &str,
        attrs: Vec<&str>,
    ) -> Result<Option<Vec<SearchEntry>>, TargetError> {
        let what = self.what();
        let result = self.ldap.search(base, scope, filter, attrs).await.map_err(|e| io_error(&what, e))?;
        let (entries, res) = (result.0, result.1);
        if res.rc == NO_SUCH_OBJECT {
            return Ok(None);
        }
        // 4 (sizeLimitExceeded) still returns what it found.
        if res.rc != 0 && res.rc != 4 {
            return Err(refusal(&what, &format!("search {base}"), &res));
        }
        Ok(Some(entries.into_iter().map(SearchEntry::construct).collect()))
    }

    /// Search under a base that must exist (the configured people or groups base).
    async fn search(
        &mut self,
        base: &str,
        scope: Scope,
        filter: &str,
        attrs: Vec<&str>,
    ) -> Result<Vec<SearchEntry>, TargetError> {
        self.lookup(base, scope, filter, attrs)
            .await?
            .ok_or_else(|| TargetError::permanent(format!("{} has no entry '{base}'", self.what())))
    }

    /// Whether an entry exists at `dn`.
    pub async fn exists(&mut self, dn: &str) -> Result<bool, TargetError> {
        Ok(self.lookup(dn, Scope::Base, "(objectClass=*)", vec!["1.1"]).await?.is_some_and(|e| !e.is_empty()))
    }

    /// The DN of the person's entry under the people base: by mail, or by the naming
    /// attribute holding their user name.
    pub async fn find_person(&mut self, person: &Person) -> Result<Option<String>, TargetError> {
        let naming = self.settings.person_naming_attribute.clone();
        let mut alternatives = format!("({naming}={})", ldap_escape(&person.user_name));
        if let Some(m) = &person.mail {
            alternatives.push_str(&format!("(mail={})", ldap_escape(m)));
        }
        let filter = format!("(&(objectClass=person)(|{alternatives}))");
        let base = self.settings.people_base_dn.clone();
        let found = self.search(&base, Scope::Subtree, &filter, vec!["1.1"]).await?;
        Ok(found.into_iter().next().map(|e| e.dn))
    }

    /// The DN an entry Gatehouse makes for the person gets.
    pub fn person_dn(&self, person: &Person) -> String {
        format!(
            "{}={},{}",
            self.settings.person_naming_attribute,
            dn_escape(&person.user_name),
            self.settings.people_base_dn
        )
    }

    /// Make the person's entry (inetOrgPerson). An entry already at that DN counts as made.
    pub async fn create_person(&mut self, person: &Person) -> Result<String, TargetError> {
        let what = self.what();
        let dn = self.person_dn(person);
        let naming = self.settings.person_naming_attribute.clone();
        let sn = person.surname.clone().unwrap_or_else(|| person.display_name.clone());
        let description = format!("{MADE_BY} ({})", person.id);
        let mut attrs: Vec<(String, HashSet<String>)> = vec![
            (
                "objectClass".into(),
                HashSet::from(["top".into(), "person".into(), "organizationalPerson".into(), "inetOrgPerson".into()]),
            ),
            ("cn".into(), HashSet::from([person.display_name.clone()])),
            ("sn".into(), HashSet::from([sn])),
            ("displayName".into(), HashSet::from([person.display_name.clone()])),
            ("description".into(), HashSet::from([description])),
        ];
        if naming != "cn" {
            attrs.push((naming, HashSet::from([person.user_name.clone()])));
        }
        if let Some(m) = &person.mail {
            attrs.push(("mail".into(), HashSet::from([m.clone()])));
        }
        if let Some(g) = &person.given_name {
            attrs.push(("givenName".into(), HashSet::from([g.clone()])));
        }
        let r = self.ldap.add(&dn, attrs).await.map_err(|e| io_error(&what, e))?;
        match r.rc {
            0 | ALREADY_EXISTS => Ok(dn),
            NO_SUCH_OBJECT => Err(TargetError::permanent(format!(
                "{what} has no people base '{}' to create '{dn}' in",
                self.settings.people_base_dn
            ))),
            _ => Err(refusal(&what, &format!("create '{dn}'"), &r)),
        }
    }

    /// Delete an entry; one that is gone already is fine.
    pub async fn delete(&mut self, dn: &str) -> Result<(), TargetError> {
        let what = self.what();
        let r = self.ldap.delete(dn).await.map_err(|e| io_error(&what, e))?;
        match r.rc {
            0 | NO_SUCH_OBJECT => Ok(()),
            _ => Err(refusal(&what, &format!("delete '{dn}'"), &r)),
        }
    }

    async fn modify(&mut self, dn: &str, mods: Vec<Mod<String>>) -> Result<LdapResult, TargetError> {
        let what = self.what();
        self.ldap.modify(dn, mods).await.map_err(|e| io_error(&what, e))
    }

    pub async fn add_member(&mut self, group: &str, member: &str) -> Result<(), TargetError> {
        let what = self.what();
        let r = self.modify(group, vec![Mod::Add("member".into(), HashSet::from([member.to_owned()]))]).await?;
        match r.rc {
            0 => {
                // A group that had lost its last member carries the placeholder; a real member
                // replaces it.
                let r =
                    self.modify(group, vec![Mod::Delete("member".into(), HashSet::from([group.to_owned()]))]).await?;
                match r.rc {
                    0 | NO_SUCH_ATTRIBUTE | OBJECT_CLASS_VIOLATION => Ok(()),
                    _ => Err(refusal(&what, &format!("take the placeholder out of '{group}'"), &r)),
                }
            }
            VALUE_EXISTS => Ok(()),
            NO_SUCH_OBJECT => Err(TargetError::permanent(format!("{what} has no group '{group}'"))),
            _ => Err(refusal(&what, &format!("add '{member}' to '{group}'"), &r)),
        }
    }

    pub async fn remove_member(&mut self, group: &str, member: &str) -> Result<(), TargetError> {
        let what = self.what();
        let gone = || HashSet::from([member.to_owned()]);
        let r = self.modify(group, vec![Mod::Delete("member".into(), gone())]).await?;
        let r = if r.rc == OBJECT_CLASS_VIOLATION {
            // The last member of a groupOfNames: swap in the placeholder in one modify.
            let placeholder = HashSet::from([group.to_owned()]);
            self.modify(group, vec![Mod::Add("member".into(), placeholder), Mod::Delete("member".into(), gone())])
                .await?
        } else {
            r
        };
        match r.rc {
            0 | NO_SUCH_ATTRIBUTE => Ok(()),
            // Gone with the group: nobody holds it any more.
            NO_SUCH_OBJECT => Ok(()),
            _ => Err(refusal(&what, &format!("remove '{member}' from '{group}'"), &r)),
        }
    }

    /// The group at `dn` with its members; `None` if there is no such group.
    pub async fn group(&mut self, dn: &str) -> Result<Option<LdapGroup>, TargetError> {
        let found =
            self.lookup(dn, Scope::Base, GROUP_FILTER, vec!["cn", "description", "member", "uniqueMember"]).await?;
        Ok(found.and_then(|f| f.into_iter().next()).map(to_group))
    }

    /// Groups under the groups base whose name contains `text` (all when empty).
    pub async fn search_groups(&mut self, text: &str, max: usize) -> Result<Vec<LdapGroup>, TargetError> {
        let name = if text.trim().is_empty() { "*".to_owned() } else { format!("*{}*", ldap_escape(text.trim())) };
        let filter = format!("(&{GROUP_FILTER}(cn={name}))");
        let base = self.settings.groups_base_dn.clone();
        let mut found: Vec<LdapGroup> = self
            .search(&base, Scope::Subtree, &filter, vec!["cn", "description"])
            .await?
            .into_iter()
            .map(to_group)
            .collect();
        found.sort_by_key(|g| g.name.to_lowercase());
        found.truncate(max);
        Ok(found)
    }

    /// The mail address of an entry (to recognise people Gatehouse did not create).
    pub async fn mail_of(&mut self, dn: &str) -> Result<Option<String>, TargetError> {
        let found = self.lookup(dn, Scope::Base, "(objectClass=*)", vec!["mail"]).await?;
        Ok(found.and_then(|f| f.into_iter().next()).and_then(|e| e.attrs.get("mail").and_then(|m| m.first().cloned())))
    }
}

fn to_group(e: SearchEntry) -> LdapGroup {
    let first = |k: &str| e.attrs.get(k).and_then(|v| v.first().cloned());
    let mut members: Vec<String> = e.attrs.get("member").cloned().unwrap_or_default();
    members.extend(e.attrs.get("uniqueMember").cloned().unwrap_or_default());
    members.retain(|m| !m.eq_ignore_ascii_case(&e.dn));
    LdapGroup {
        name: first("cn").unwrap_or_else(|| e.dn.clone()),
        description: first("description"),
        members,
        dn: e.dn,
    }
}
