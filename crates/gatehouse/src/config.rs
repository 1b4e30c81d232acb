//! Configuration: safe defaults, then a TOML file, then `GATEHOUSE_*` environment variables.

use std::path::{Path, PathBuf};

use anyhow::Context;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

/// Every setting, with its default. Documented in the README's configuration reference.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address to listen on.
    pub listen: String,
    /// Where the embedded SQLite database lives.
    pub data_dir: PathBuf,
    /// `postgres://user:pass@host/db` to run on PostgreSQL; unset means SQLite in `data_dir`.
    pub database_url: Option<String>,
    /// Largest pool of database connections.
    pub database_max_connections: u32,
    /// Externally visible base URL used in links (My Access links, @odata.nextLink).
    pub public_url: Option<String>,
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    /// `text` or `json`.
    pub log_format: String,
    /// A tracing filter such as `info` or `gatehouse=debug,info`.
    pub log_level: String,
    /// SMTP server for notifications; unset means mail goes to the log.
    pub smtp_host: Option<String>,
    pub smtp_port: u16,
    pub smtp_username: Option<String>,
    pub smtp_password: Option<String>,
    /// Sender address of notifications.
    pub smtp_from: String,
    /// `starttls` (default), `tls` (implicit, port 465) or `none` (local relay only).
    pub smtp_tls: String,
    /// Seconds before a job whose worker died is taken over by another.
    pub job_lease_seconds: i64,
    /// The host organization's OpenID Connect provider (issuer URL), where members sign in.
    /// Register Gatehouse there with the redirect URI `<public_url>/signin/callback`.
    pub host_oidc_issuer: Option<String>,
    pub host_oidc_client_id: Option<String>,
    pub host_oidc_client_secret: Option<String>,
    /// Seconds a connection has to send its request head.
    pub header_read_timeout_seconds: u64,
    /// Seconds a request body has to arrive.
    pub body_read_timeout_seconds: u64,
    /// Seconds a connection may stay open with no request in flight.
    pub idle_timeout_seconds: u64,
    /// Seconds a request may take, head to response (then 408).
    pub request_timeout_seconds: u64,
    /// Open connections at most; unset means the file limit less a reserve for the database
    /// and files (a tenth of it, at least 256).
    pub max_connections: Option<usize>,
    /// Proxies (addresses or CIDR ranges, comma-separated) whose `X-Forwarded-For` names the
    /// client; empty means the socket's peer is the client.
    pub trusted_proxies: String,
    /// Failed credentials (bearer tokens, client secrets, sign-in links) one client address may
    /// send per window before it gets 429.
    pub auth_failure_limit: u32,
    pub auth_failure_window_seconds: u64,
    /// The key that seals connections' credentials at rest (base64 of 32 bytes). Unset: read
    /// from `secret_key_file`, which is created (mode 0600) at first start.
    pub secret_key: Option<String>,
    /// Where the secret key is kept when `secret_key` is unset; default `<data_dir>/secret.key`.
    /// Replicas sharing a PostgreSQL database must share the key.
    pub secret_key_file: Option<PathBuf>,
    /// Minutes between scheduled reconciliations of each SCIM and LDAP connection (0: never).
    pub reconcile_interval_minutes: i64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./gatehouse-data"),
            database_url: None,
            database_max_connections: 10,
            public_url: None,
            max_body_bytes: 1024 * 1024,
            log_format: "text".into(),
            log_level: "info".into(),
            smtp_host: None,
            smtp_port: 587,
            smtp_username: None,
            smtp_password: None,
            smtp_from: "gatehouse@localhost".into(),
            smtp_tls: "starttls".into(),
            job_lease_seconds: gatehouse_workers::DEFAULT_LEASE_SECONDS,
            host_oidc_issuer: None,
            host_oidc_client_id: None,
            host_oidc_client_secret: None,
            header_read_timeout_seconds: 10,
            body_read_timeout_seconds: 30,
            idle_timeout_seconds: 30,
            request_timeout_seconds: 60,
            max_connections: None,
            trusted_proxies: String::new(),
            auth_failure_limit: 20,
            auth_failure_window_seconds: 60,
            secret_key: None,
            secret_key_file: None,
            reconcile_interval_minutes: 60,
        }
    }
}

const KEYS: &[&str] = &[
    "listen",
    "data_dir",
    "database_url",
    "database_max_connections",
    "public_url",
    "max_body_bytes",
    "log_format",
    "log_level",
    "smtp_host",
    "smtp_port",
    "smtp_username",
    "smtp_password",
    "smtp_from",
    "smtp_tls",
    "job_lease_seconds",
    "host_oidc_issuer",
    "host_oidc_client_id",
    "host_oidc_client_secret",
    "header_read_timeout_seconds",
    "body_read_timeout_seconds",
    "idle_timeout_seconds",
    "request_timeout_seconds",
    "max_connections",
    "trusted_proxies",
    "auth_failure_limit",
    "auth_failure_window_seconds",
    "secret_key",
    "secret_key_file",
    "reconcile_interval_minutes",
];

impl Config {
    /// Load from `file` (or `./gatehouse.toml` when present) and the environment.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Config> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(f) => {
                anyhow::ensure!(f.exists(), "config file {} does not exist", f.display());
                figment = figment.merge(Toml::file(f));
            }
            None if Path::new("gatehouse.toml").exists() => figment = figment.merge(Toml::file("gatehouse.toml")),
            None => {}
        }
        // Only the settings above: GATEHOUSE_URL / GATEHOUSE_TOKEN belong to the admin commands.
        figment = figment.merge(Env::prefixed("GATEHOUSE_").only(KEYS));
        let config: Config = figment.extract().context("invalid configuration")?;
        anyhow::ensure!(matches!(config.log_format.as_str(), "text" | "json"), "log_format must be text or json");
        anyhow::ensure!(
            (1..=86_400).contains(&config.job_lease_seconds),
            "job_lease_seconds must be between 1 and 86400"
        );
        for (name, value) in [
            ("header_read_timeout_seconds", config.header_read_timeout_seconds),
            ("body_read_timeout_seconds", config.body_read_timeout_seconds),
            ("idle_timeout_seconds", config.idle_timeout_seconds),
            ("request_timeout_seconds", config.request_timeout_seconds),
        ] {
            anyhow::ensure!((1..=3600).contains(&value), "{name} must be between 1 and 3600");
        }
        anyhow::ensure!(config.max_connections != Some(0), "max_connections must be at least 1");
        anyhow::ensure!(config.auth_failure_limit >= 1, "auth_failure_limit must be at least 1");
        anyhow::ensure!(
            (1..=86_400).contains(&config.auth_failure_window_seconds),
            "auth_failure_window_seconds must be between 1 and 86400"
        );
        anyhow::ensure!(
            (0..=525_600).contains(&config.reconcile_interval_minutes),
            "reconcile_interval_minutes must be between 0 (never) and 525600 (a year)"
        );
        config.trusted_proxies()?;
        Ok(config)
    }

    /// How often connections are reconciled on schedule.
    pub fn reconcile_every(&self) -> Option<chrono::Duration> {
        (self.reconcile_interval_minutes > 0).then(|| chrono::Duration::minutes(self.reconcile_interval_minutes))
    }

    /// The sealer of connections' credentials: the configured key, or the key file's (made now,
    /// readable by this user only, when it does not exist yet).
    pub fn sealer(&self) -> anyhow::Result<gatehouse_app::secrets::Sealer> {
        use gatehouse_app::secrets::Sealer;
        if let Some(key) = &self.secret_key {
            return Sealer::from_base64(key).context("secret_key");
        }
        let path = self.secret_key_file.clone().unwrap_or_else(|| self.data_dir.join("secret.key"));
        match std::fs::read_to_string(&path) {
            Ok(text) => Sealer::from_base64(&text).with_context(|| format!("secret key file {}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
                }
                let key = Sealer::generate_key();
                write_private(&path, &key)
                    .with_context(|| format!("cannot create the secret key file {}", path.display()))?;
                tracing::info!(path = %path.display(), "created the secret key that seals connection credentials; back it up with the database");
                Sealer::from_base64(&key).context("the generated key")
            }
            Err(e) => Err(e).with_context(|| format!("cannot read the secret key file {}", path.display())),
        }
    }

    /// The database URL: PostgreSQL when configured, else SQLite under the data directory.
    pub fn database_url(&self) -> anyhow::Result<String> {
        if let Some(url) = &self.database_url {
            return Ok(url.clone());
        }
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("cannot create data directory {}", self.data_dir.display()))?;
        Ok(format!("sqlite://{}", self.data_dir.join("gatehouse.db").display()))
    }

    /// The mailer: SMTP when a host is configured, else the log.
    pub fn mailer(&self) -> anyhow::Result<std::sync::Arc<dyn gatehouse_workers::Mailer>> {
        let Some(host) = &self.smtp_host else {
            return Ok(std::sync::Arc::new(gatehouse_workers::LogMailer));
        };
        let settings = gatehouse_workers::SmtpSettings {
            host: host.clone(),
            port: self.smtp_port,
            username: self.smtp_username.clone(),
            password: self.smtp_password.clone(),
            from: self.smtp_from.clone(),
            tls: self.smtp_tls.parse().map_err(anyhow::Error::msg)?,
        };
        Ok(std::sync::Arc::new(gatehouse_workers::SmtpMailer::new(&settings).map_err(anyhow::Error::msg)?))
    }

    /// `trusted_proxies` parsed: each an address or a CIDR range.
    pub fn trusted_proxies(&self) -> anyhow::Result<Vec<ipnet::IpNet>> {
        self.trusted_proxies
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| {
                p.parse::<ipnet::IpNet>()
                    .or_else(|_| p.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| anyhow::anyhow!("trusted_proxies: '{p}' is neither an IP address nor a CIDR range"))
            })
            .collect()
    }

    /// The HTTP edge's settings, with the connection cap checked against the process's
    /// file limit (`file_limit`, after raising it): each connection is a descriptor, and the
    /// database, logs and mail need some too.
    pub fn server_config(&self, file_limit: u64) -> anyhow::Result<gatehouse_server::ServerConfig> {
        let reserve = (file_limit / 10).max(256);
        let room = usize::try_from(file_limit.saturating_sub(reserve)).unwrap_or(usize::MAX).max(16);
        let max_connections = match self.max_connections {
            Some(n) => {
                anyhow::ensure!(
                    n <= room,
                    "max_connections ({n}) must leave {reserve} of the process's {file_limit} file descriptors free; \
                     at most {room}, or raise the file limit (ulimit -n)"
                );
                n
            }
            None => room,
        };
        let secs = std::time::Duration::from_secs;
        Ok(gatehouse_server::ServerConfig {
            public_url: self.public_url.clone(),
            max_body_bytes: self.max_body_bytes,
            host_oidc: self.host_oidc()?,
            connections: gatehouse_server::connections::ConnectionLimits {
                header_read_timeout: secs(self.header_read_timeout_seconds),
                idle_timeout: secs(self.idle_timeout_seconds),
                max_connections,
            },
            body_read_timeout: secs(self.body_read_timeout_seconds),
            request_timeout: secs(self.request_timeout_seconds),
            trusted_proxies: self.trusted_proxies()?,
            throttle: gatehouse_server::throttle::ThrottleLimits {
                limit: self.auth_failure_limit,
                window: secs(self.auth_failure_window_seconds),
            },
        })
    }

    /// The host provider, when all three settings are given; an error when only some are.
    pub fn host_oidc(&self) -> anyhow::Result<Option<gatehouse_server::sign_in::oidc::ProviderConfig>> {
        match (&self.host_oidc_issuer, &self.host_oidc_client_id, &self.host_oidc_client_secret) {
            (None, None, None) => Ok(None),
            (Some(issuer), Some(client_id), Some(client_secret)) => {
                Ok(Some(gatehouse_server::sign_in::oidc::ProviderConfig {
                    issuer: issuer.clone(),
                    client_id: client_id.clone(),
                    client_secret: client_secret.clone(),
                }))
            }
            _ => anyhow::bail!(
                "host_oidc_issuer, host_oidc_client_id and host_oidc_client_secret go together: set all three or none"
            ),
        }
    }

    pub fn public_url(&self) -> String {
        self.public_url.clone().unwrap_or_else(|| format!("http://{}", self.listen))
    }
}

/// Create `path` with `text`, readable and writable by this user only; never overwrite.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_file_is_made_once_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config { data_dir: dir.path().join("data"), ..Config::default() };
        let sealed = config.sealer().unwrap().seal(b"pw", "row");
        let path = dir.path().join("data/secret.key");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        // The second start reads the same key back.
        assert_eq!(config.sealer().unwrap().open(&sealed, "row").unwrap(), b"pw");
        std::fs::write(&path, "short").unwrap();
        assert!(config.sealer().is_err());
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API returns its own large error type
    fn defaults_are_safe_and_environment_overrides() {
        figment::Jail::expect_with(|jail| {
            let c = Config::load(None).unwrap();
            assert_eq!(c.listen, "127.0.0.1:8080");
            assert!(c.database_url.is_none());
            jail.create_file("g.toml", "listen = \"127.0.0.1:9999\"\nlog_level = \"debug\"")?;
            jail.set_env("GATEHOUSE_LOG_LEVEL", "warn");
            jail.set_env("GATEHOUSE_TOKEN", "not-a-setting");
            let c = Config::load(Some(Path::new("g.toml"))).unwrap();
            assert_eq!(c.listen, "127.0.0.1:9999");
            assert_eq!(c.log_level, "warn");
            jail.create_file("bad.toml", "lisen = \"x\"")?;
            assert!(Config::load(Some(Path::new("bad.toml"))).is_err());
            Ok(())
        });
    }
}
