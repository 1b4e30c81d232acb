//! The `gatehouse` binary: `serve`, `demo`, `migrate`, `token`, and admin subcommands that
//! call the HTTP API. `anyhow` lives here, at the edge; the libraries use typed errors.

mod admin;
mod bench;
mod config;
mod demo;
mod demo_receiver;

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use gatehouse_app::{Actor, App, SystemClock};
use gatehouse_domain::principal::TokenScope;
use gatehouse_store::Store;
use tracing_subscriber::EnvFilter;

use crate::config::Config;

#[derive(Parser)]
#[command(name = "gatehouse", version, about = "Entitlement management for B2B extranets with managed guests")]
struct Cli {
    /// Configuration file (TOML). Defaults to ./gatehouse.toml when present.
    #[arg(long, global = true, env = "GATEHOUSE_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve,
    /// Seed a realistic host, partner, catalog, package and policy in a fresh embedded database, then serve.
    Demo {
        /// Where the demo keeps its database (cleared on each run).
        #[arg(long, default_value = "./gatehouse-demo")]
        data_dir: PathBuf,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// API clients (service principals) for the client-credentials grant at /oauth2/token.
    /// Works on the database directly.
    #[command(subcommand)]
    Client(ClientCommand),
    /// Print a one-time browser sign-in link (valid 15 minutes) for a directory user
    /// (default: the first administrator). Works on the database directly.
    SigninLink {
        #[arg(long)]
        user: Option<uuid::Uuid>,
    },
    /// The audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Connected organizations.
    Org {
        #[command(flatten)]
        api: admin::ApiArgs,
        #[command(subcommand)]
        cmd: admin::OrgCommand,
    },
    /// Catalogs and their resources.
    Catalog {
        #[command(flatten)]
        api: admin::ApiArgs,
        #[command(subcommand)]
        cmd: admin::CatalogCommand,
    },
    /// Access packages.
    Package {
        #[command(flatten)]
        api: admin::ApiArgs,
        #[command(subcommand)]
        cmd: admin::PackageCommand,
    },
    /// Assignment policies.
    Policy {
        #[command(flatten)]
        api: admin::ApiArgs,
        #[command(subcommand)]
        cmd: admin::PolicyCommand,
    },
    /// Connections to the target systems Gatehouse provisions into (SCIM, LDAP, webhooks).
    Connection {
        #[command(flatten)]
        api: admin::ApiArgs,
        #[command(subcommand)]
        cmd: admin::ConnectionCommand,
    },
    /// Compare who holds each governed role in the targets with the assignments that explain
    /// it; with --fix re-apply missing grants and, for connections set to enforce, remove holders
    /// nothing explains. Prints what was found; fails if a run fails.
    Reconcile {
        #[command(flatten)]
        api: admin::ApiArgs,
        /// One connection (default: every SCIM and LDAP connection)
        #[arg(long)]
        connection: Option<String>,
        #[arg(long)]
        fix: bool,
    },
    /// Measure the request pipeline and the expiry sweep on a fresh database and print a table.
    Bench(bench::BenchArgs),
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Recompute the audit log's hash chain; exits 1 at the first changed, missing or inserted record.
    Verify,
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a bearer token for a directory user (default: the first administrator).
    /// Works on the database directly, so it can mint the first tokens of an install.
    Create {
        /// The user the token acts as (personal token).
        #[arg(long)]
        user: Option<uuid::Uuid>,
        /// `read` or `readwrite`.
        #[arg(long, default_value = "readwrite")]
        scope: String,
        #[arg(long)]
        description: Option<String>,
    },
}

#[derive(Subcommand)]
enum ClientCommand {
    /// Register a client; prints its client id and secret (the secret only this once).
    Create {
        #[arg(long)]
        name: String,
        /// `read` or `readwrite`.
        #[arg(long, default_value = "read")]
        scope: String,
    },
    /// List the clients.
    List,
    /// Disable a client: its tokens stop working at once.
    Disable { id: uuid::Uuid },
}

fn parse_scope(scope: &str) -> anyhow::Result<TokenScope> {
    match scope.to_ascii_lowercase().as_str() {
        "read" => Ok(TokenScope::Read),
        "readwrite" => Ok(TokenScope::ReadWrite),
        other => anyhow::bail!("unknown scope '{other}': use read or readwrite"),
    }
}

fn init_tracing(config: &Config) {
    let filter = EnvFilter::try_new(&config.log_level).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if config.log_format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn open(config: &Config) -> anyhow::Result<App> {
    let url = config.database_url()?;
    let store = Store::connect(&url, config.database_max_connections)
        .await
        .with_context(|| format!("cannot open the database at {}", gatehouse_store::redact(&url)))?;
    store.migrate().await.context("database migration failed")?;
    Ok(App::new(store, Arc::new(SystemClock)).with_public_url(&config.public_url()))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down: finishing in-flight requests");
}

/// Raise the soft limit on open files to the hard limit: every connection is a descriptor, and
/// distributions' default soft limit (1024) is far below what a server should hold. Returns
/// the limit now in force.
fn raise_file_limit() -> u64 {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => limit,
        Err(e) => {
            let (soft, _) = rlimit::Resource::NOFILE.get().unwrap_or((1024, 1024));
            tracing::warn!(error = %e, limit = soft, "could not raise the open-file limit");
            soft
        }
    }
}

async fn run_server(app: App, config: &Config) -> anyhow::Result<()> {
    // Only the server opens connections' credentials: the database-only commands never read
    // (or create) the key.
    let app = app.with_sealer(config.sealer()?);
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    tracing::info!(address = %listener.local_addr()?, "gatehouse listening");
    let server_config = config.server_config(raise_file_limit())?;
    tracing::info!(
        max_connections = server_config.connections.max_connections,
        header_read_timeout = ?server_config.connections.header_read_timeout,
        idle_timeout = ?server_config.connections.idle_timeout,
        "connection limits"
    );
    // One signal stops both the HTTP server and the workers.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let workers = gatehouse_workers::Workers::new(app.clone(), config.mailer()?)
        .with_lease(chrono::Duration::seconds(config.job_lease_seconds))
        .with_reconcile_every(config.reconcile_every());
    let mut worker_stop = stopped.clone();
    let worker = tokio::spawn(workers.run(std::time::Duration::from_secs(1), async move {
        let _ = worker_stop.wait_for(|s| *s).await;
    }));
    let mut server_stop = stopped;
    let server = gatehouse_server::serve(listener, app.clone(), server_config, async move {
        let _ = server_stop.wait_for(|s| *s).await;
    });
    tokio::pin!(server);
    tokio::select! {
        r = &mut server => r?,
        _ = shutdown_signal() => {
            let _ = stop.send(true);
            server.await?;
        }
    }
    let _ = stop.send(true);
    let _ = worker.await;
    app.store.close().await;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let command = match cli.command {
        Command::Org { api, cmd } => return admin_exit(admin::run_org(&api, cmd).await),
        Command::Catalog { api, cmd } => return admin_exit(admin::run_catalog(&api, cmd).await),
        Command::Package { api, cmd } => return admin_exit(admin::run_package(&api, cmd).await),
        Command::Policy { api, cmd } => return admin_exit(admin::run_policy(&api, cmd).await),
        Command::Connection { api, cmd } => return admin_exit(admin::run_connection(&api, cmd).await),
        Command::Reconcile { api, connection, fix } => {
            return admin_exit(admin::reconcile(&api, connection, fix).await)
        }
        Command::Bench(args) => return bench::run(args).await,
        other => other,
    };
    let mut config = Config::load(cli.config.as_deref())?;
    init_tracing(&config);
    match command {
        Command::Serve => {
            let app = open(&config).await?;
            if let Some((user, token)) = app.bootstrap().await? {
                // Printed once, on stdout for the operator, never logged.
                println!("First start: created the administrator '{}' ({}).", user.display_name, user.id);
                println!("Administrator token (shown once; keep it secret): {token}");
                let link = app.create_bootstrap_link(user.id).await?;
                println!(
                    "Sign in in a browser (one use, valid {} minutes): {}/signin/link?code={link}",
                    gatehouse_app::sessions::BOOTSTRAP_LINK_MINUTES,
                    config.public_url()
                );
                println!("Another link later: gatehouse signin-link");
            }
            run_server(app, &config).await
        }
        Command::Demo { data_dir } => {
            demo::prepare_dir(&data_dir)?;
            config.data_dir = data_dir;
            config.database_url = None;
            let app = open(&config).await?.with_sealer(config.sealer()?);
            let secret = gatehouse_connectors::webhook::generate_secret();
            let team_site = demo_receiver::start(&secret).await?;
            let seeded = demo::seed(&app, &team_site, &secret).await?;
            println!("{}", demo::banner(&seeded, &config.public_url()));
            run_server(app, &config).await
        }
        Command::Migrate => {
            open(&config).await?;
            println!("database is up to date");
            Ok(())
        }
        Command::Token(TokenCommand::Create { user, scope, description }) => {
            let app = open(&config).await?;
            let scope = parse_scope(&scope)?;
            let user = match user {
                Some(u) => u,
                None => match app.bootstrap().await? {
                    Some((u, _)) => u.id,
                    None => first_administrator(&app).await?,
                },
            };
            let (secret, info) = app.create_token(&Actor::system(), user, vec![scope], description).await?;
            println!("token {} for user {} ({}):", info.id, info.user_id, scope);
            println!("{secret}");
            Ok(())
        }
        Command::Client(ClientCommand::Create { name, scope }) => {
            let app = open(&config).await?;
            let scope = parse_scope(&scope)?;
            let (sp, secret) = app.create_client(&Actor::system(), &name, &[scope]).await?;
            println!("client {} ({}) with scope {}", sp.display_name, sp.id, sp.scopes);
            println!("client_id     {}", sp.client_id);
            println!("client_secret {secret}");
            println!("token endpoint: {}/oauth2/token (grant_type=client_credentials)", config.public_url());
            Ok(())
        }
        Command::Client(ClientCommand::List) => {
            let app = open(&config).await?;
            for sp in app.list_clients().await? {
                let state = if sp.enabled { "enabled" } else { "disabled" };
                println!("{}  {}  {:<8}  {}  {}", sp.id, sp.client_id, state, sp.scopes, sp.display_name);
            }
            Ok(())
        }
        Command::Client(ClientCommand::Disable { id }) => {
            let app = open(&config).await?;
            app.set_client_enabled(&Actor::system(), id, false).await?;
            println!("client {id} disabled");
            Ok(())
        }
        Command::SigninLink { user } => {
            let app = open(&config).await?;
            let user = match user {
                Some(u) => u,
                None => first_administrator(&app).await?,
            };
            let link = app.create_bootstrap_link(user).await?;
            println!(
                "one-time sign-in link for user {user} (valid {} minutes):",
                gatehouse_app::sessions::BOOTSTRAP_LINK_MINUTES
            );
            println!("{}/signin/link?code={link}", config.public_url());
            Ok(())
        }
        Command::Audit(AuditCommand::Verify) => {
            let app = open(&config).await?;
            let mut conn = app.store.conn().await?;
            match gatehouse_store::audit::verify(&mut conn).await? {
                gatehouse_store::audit::Verification::Intact { records } => {
                    println!("audit log intact: {records} records, hash chain verified");
                    Ok(())
                }
                gatehouse_store::audit::Verification::Broken { chain_no, record, reason } => {
                    eprintln!("audit log BROKEN at record {chain_no} ({record}): {reason}");
                    std::process::exit(1);
                }
            }
        }
        Command::Org { .. }
        | Command::Catalog { .. }
        | Command::Package { .. }
        | Command::Policy { .. }
        | Command::Connection { .. }
        | Command::Reconcile { .. }
        | Command::Bench(_) => {
            unreachable!("handled above")
        }
    }
}

/// Admin commands are for people at a terminal: one clear line and a failing exit code.
fn admin_exit(result: anyhow::Result<()>) -> anyhow::Result<()> {
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
    Ok(())
}

async fn first_administrator(app: &App) -> anyhow::Result<uuid::Uuid> {
    let mut conn = app.store.conn().await?;
    let role = gatehouse_domain::principal::DirectoryRole::GlobalAdministrator;
    gatehouse_store::directory::first_with_role(&mut conn, role).await?.context("no administrator found; pass --user")
}
