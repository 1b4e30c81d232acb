//! Admin subcommands talk to a running Gatehouse over its public Graph-compatible HTTP API rather than to the
//! database, so they work against any deployment (local or remote), go through the same authorization and
//! validation as every other client, and never bypass the audit log.

mod catalogs;
mod client;
mod connections;
mod orgs;
mod packages;
mod policies;
mod table;

use std::fmt;

/// Where `gatehouse serve` listens by default.
pub const DEFAULT_URL: &str = "http://127.0.0.1:8080";

pub use catalogs::{run_catalog, CatalogCommand};
pub use connections::{reconcile, run_connection, ConnectionCommand};
pub use orgs::{run_org, OrgCommand};
pub use packages::{run_package, PackageCommand};
pub use policies::{run_policy, PolicyCommand};

// Where the API is and how to authenticate; shared by every admin subcommand. (Plain comments, not doc comments:
// clap would show a flattened struct's doc comment as the `about` of the command it is flattened into.)
//
// The arguments are `global` so they can be given after the leaf subcommand (`gatehouse org list --json`).
// Clap forbids global arguments from being `required`, so the token is checked when the client is built.
#[derive(clap::Args, Clone)]
#[command(next_help_heading = "API options")]
pub struct ApiArgs {
    /// Base URL of the Gatehouse server
    #[arg(long, env = "GATEHOUSE_URL", default_value = DEFAULT_URL, global = true)]
    pub url: String,
    /// Bearer token for the API (required)
    #[arg(long, env = "GATEHOUSE_TOKEN", hide_env_values = true, global = true)]
    pub token: Option<String>,
    /// Print the raw JSON returned by the API instead of tables
    #[arg(long, global = true)]
    pub json: bool,
}

// Hand-written so that `{:?}` of the parsed command line can never leak the token.
impl fmt::Debug for ApiArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiArgs")
            .field("url", &self.url)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("json", &self.json)
            .finish()
    }
}

// All four kinds under one subcommand. main.rs mounts each kind at the top level instead (so `gatehouse org ...`),
// which leaves this and `run` unused in the binary; they stay for callers that want a single `admin` command.
// (A plain comment: clap would show a doc comment here as the `about` of whatever command embeds this enum.)
#[allow(dead_code)]
#[derive(clap::Subcommand, Debug)]
pub enum AdminCommand {
    /// Connected organizations
    #[command(subcommand)]
    Org(OrgCommand),
    /// Catalogs and their resources
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// Access packages
    #[command(subcommand)]
    Package(PackageCommand),
    /// Assignment policies
    #[command(subcommand)]
    Policy(PolicyCommand),
}

#[allow(dead_code)]
pub async fn run(api: &ApiArgs, cmd: AdminCommand) -> anyhow::Result<()> {
    match cmd {
        AdminCommand::Org(cmd) => run_org(api, cmd).await,
        AdminCommand::Catalog(cmd) => run_catalog(api, cmd).await,
        AdminCommand::Package(cmd) => run_package(api, cmd).await,
        AdminCommand::Policy(cmd) => run_policy(api, cmd).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, Parser};

    /// Mirrors how main.rs mounts these commands: one top-level subcommand per kind, with `ApiArgs` flattened in.
    #[derive(Parser, Debug)]
    struct Cli {
        #[command(subcommand)]
        cmd: Top,
    }

    #[derive(clap::Subcommand, Debug)]
    enum Top {
        Org {
            #[command(flatten)]
            api: ApiArgs,
            #[command(subcommand)]
            cmd: OrgCommand,
        },
        Policy {
            #[command(flatten)]
            api: ApiArgs,
            #[command(subcommand)]
            cmd: PolicyCommand,
        },
    }

    /// The other way to mount them: `ApiArgs` once, then `AdminCommand` below it (what `run` dispatches).
    #[derive(Parser, Debug)]
    struct AdminCli {
        #[command(flatten)]
        api: ApiArgs,
        #[command(subcommand)]
        cmd: AdminCommand,
    }

    #[test]
    fn cli_definitions_are_consistent() {
        Cli::command().debug_assert();
        AdminCli::command().debug_assert();
    }

    #[test]
    fn api_args_are_accepted_after_the_leaf_subcommand() {
        let cli = Cli::try_parse_from([
            "gatehouse",
            "org",
            "sponsor-add",
            "org-1",
            "--user",
            "u-1",
            "--external",
            "--json",
            "--url",
            "http://gh.test:9000",
            "--token",
            "secret",
        ])
        .unwrap();
        let Top::Org { api, cmd } = cli.cmd else { panic!("expected org") };
        assert!(api.json);
        assert_eq!(api.url, "http://gh.test:9000");
        assert_eq!(api.token.as_deref(), Some("secret"));
        match cmd {
            OrgCommand::SponsorAdd { id, user, external } => {
                assert_eq!((id.as_str(), user.as_str(), external), ("org-1", "u-1", true));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn policy_add_takes_a_file() {
        let cli = Cli::try_parse_from(["gatehouse", "policy", "add", "--file", "p.json", "--token", "t"]).unwrap();
        let Top::Policy { cmd: PolicyCommand::Add { file }, .. } = cli.cmd else { panic!("expected policy add") };
        assert_eq!(file.to_str(), Some("p.json"));
    }

    #[test]
    fn admin_command_parses_each_kind() {
        for args in [
            &["gatehouse", "catalog", "add", "--name", "C", "--not-external", "--unpublished"][..],
            &["gatehouse", "catalog", "add-group", "cat-1", "--group", "g-1"][..],
            &["gatehouse", "package", "list", "--catalog", "cat-1"][..],
            &["gatehouse", "package", "add-role", "pkg-1", "--role", "r-1", "--json"][..],
        ] {
            let cli = AdminCli::try_parse_from(args).unwrap_or_else(|e| panic!("{args:?}: {e}"));
            assert!(matches!(cli.cmd, AdminCommand::Catalog(_) | AdminCommand::Package(_)), "{args:?}");
            assert_eq!(cli.api.json, args.contains(&"--json"));
        }
    }

    #[test]
    fn debug_output_redacts_the_token() {
        let api = ApiArgs { url: "http://x".into(), token: Some("very-secret".into()), json: false };
        let shown = format!("{api:?}");
        assert!(!shown.contains("very-secret"), "{shown}");
        assert!(shown.contains("<redacted>"));
    }
}
