//! `gatehouse bench`: how fast the request pipeline and the expiry sweep are on each backend,
//! measured against a baseline of the same rows written by plain SQL. It prints a table; it
//! asserts nothing about speed, but it does check that what it measured actually happened
//! (every request delivered, every expiring assignment expired and its membership revoked) and
//! fails loudly when not.
//!
//! Per backend, on a fresh database: (a) self-service requests with no approval, submitted over
//! HTTP and timed until delivered; (b) the same with one approval stage, approved over HTTP;
//! (c) the rows those requests write, written by plain SQL over the same pool, in as few
//! transactions as the API allows (one per call that must be durable before it answers);
//! (d) the expiry sweep over a large assignment table.

mod baseline;
mod connectors;
mod expiry;
mod fixture;
mod my_access;
mod pipeline;
mod report;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use gatehouse_app::{App, SystemClock};
use gatehouse_store::Store;

use report::{BackendReport, Row};

const DEFAULT_POSTGRES_URL: &str = "postgres://gatehouse:gatehouse@127.0.0.1:5432/postgres";

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BackendChoice {
    Sqlite,
    Postgres,
    Both,
}

/// Options of `gatehouse bench`.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// Which database backend(s) to measure.
    #[arg(long, value_enum, default_value = "both")]
    backend: BackendChoice,
    /// Requests per pipeline scenario [default: 2000; 300 with --quick].
    #[arg(long)]
    requests: Option<usize>,
    /// Concurrent HTTP clients (and baseline writers).
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Assignments in the table the expiry sweep runs over [default: 1000000; 20000 with --quick].
    #[arg(long)]
    assignments: Option<usize>,
    /// How many of them have expired [default: 100000; 2000 with --quick].
    #[arg(long)]
    expiring: Option<usize>,
    /// A PostgreSQL server where this role may CREATE DATABASE; the bench makes a fresh
    /// database there and drops it at the end.
    #[arg(long, env = "GATEHOUSE_TEST_POSTGRES_URL", default_value = DEFAULT_POSTGRES_URL)]
    postgres_url: String,
    /// Access packages in the catalog of the My Access scenario [default: 10000; 1000 with --quick].
    #[arg(long)]
    packages: Option<usize>,
    /// How many of them admit its guest [default: 100; 20 with --quick].
    #[arg(long)]
    admitting: Option<usize>,
    /// Small sizes, for a smoke run (explicit sizes still win).
    #[arg(long)]
    quick: bool,
    /// Database connections [default: what `gatehouse serve` uses].
    #[arg(long)]
    pool: Option<u32>,
    /// Grants per connector scenario [default: 500; 50 with --quick].
    #[arg(long)]
    grants: Option<usize>,
    /// Requests timed one by one for the SCIM latency [default: 100; 20 with --quick].
    #[arg(long)]
    latency_samples: Option<usize>,
    /// Targets to provision into; each one given adds its rows.
    #[command(flatten)]
    targets: connectors::Targets,
}

/// The sizes of one run, after defaults and --quick.
#[derive(Debug, Clone, Copy)]
pub struct Params {
    pub requests: usize,
    pub concurrency: usize,
    pub assignments: usize,
    pub expiring: usize,
    pub packages: usize,
    pub admitting: usize,
    /// The connection pool, as `gatehouse serve` configures it by default.
    pub pool: u32,
    pub grants: usize,
    pub latency_samples: usize,
}

impl BenchArgs {
    fn params(&self) -> anyhow::Result<Params> {
        let pick = |explicit: Option<usize>, quick: usize, full: usize| {
            explicit.unwrap_or(if self.quick { quick } else { full })
        };
        let p = Params {
            requests: pick(self.requests, 300, 2000),
            concurrency: self.concurrency,
            assignments: pick(self.assignments, 20_000, 1_000_000),
            expiring: pick(self.expiring, 2000, 100_000),
            packages: pick(self.packages, 1000, 10_000),
            admitting: pick(self.admitting, 20, 100),
            pool: self.pool.unwrap_or(crate::config::Config::default().database_max_connections),
            grants: pick(self.grants, 50, 500),
            latency_samples: pick(self.latency_samples, 20, 100),
        };
        anyhow::ensure!(p.grants > 0 && p.latency_samples > 0, "--grants and --latency-samples must be at least 1");
        anyhow::ensure!(p.requests > 0, "--requests must be at least 1");
        anyhow::ensure!(p.concurrency > 0, "--concurrency must be at least 1");
        anyhow::ensure!(p.pool > 0, "--pool must be at least 1");
        anyhow::ensure!(p.expiring > 0, "--expiring must be at least 1");
        anyhow::ensure!(p.expiring <= p.assignments, "--expiring cannot exceed --assignments");
        anyhow::ensure!(
            p.admitting >= 1 && p.admitting + 2 <= p.packages,
            "--admitting must be 1 to --packages minus 2"
        );
        Ok(p)
    }
}

/// Progress goes to stderr, so stdout is only the table.
pub(crate) fn progress(msg: impl std::fmt::Display) {
    eprintln!("bench: {msg}");
}

/// A fresh database that is removed again at the end.
enum Fresh {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

async fn fresh_database(backend: BackendChoice, postgres_url: &str, pool: u32) -> anyhow::Result<(Store, Fresh)> {
    match backend {
        BackendChoice::Sqlite => {
            let dir = tempfile::tempdir().context("cannot make a temporary directory")?;
            let url = format!("sqlite://{}", dir.path().join("bench.db").display());
            let store = Store::connect(&url, pool).await?;
            Ok((store, Fresh::Sqlite(dir)))
        }
        _ => {
            let admin = Store::connect(postgres_url, 1).await.with_context(|| {
                format!(
                    "PostgreSQL is not reachable at {}; pass --postgres-url (or GATEHOUSE_TEST_POSTGRES_URL) \
                     naming a server where this role may CREATE DATABASE, or --backend sqlite",
                    gatehouse_store::redact(postgres_url)
                )
            })?;
            let name = format!("gatehouse_bench_{}", uuid::Uuid::new_v4().simple());
            {
                let mut conn = admin.conn().await?;
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut *conn)
                    .await
                    .context("cannot create the bench database")?;
            }
            admin.close().await;
            let i = postgres_url.rfind('/').context("the PostgreSQL URL must name a database")?;
            let url = format!("{}/{name}", &postgres_url[..i]);
            let fresh = Fresh::Postgres { admin_url: postgres_url.to_owned(), name };
            match Store::connect(&url, pool).await {
                Ok(store) => Ok((store, fresh)),
                Err(e) => {
                    fresh.remove().await;
                    Err(e.into())
                }
            }
        }
    }
}

impl Fresh {
    async fn remove(self) {
        match self {
            Fresh::Sqlite(dir) => drop(dir),
            Fresh::Postgres { admin_url, name } => {
                if let Ok(admin) = Store::connect(&admin_url, 1).await {
                    if let Ok(mut c) = admin.conn().await {
                        let dropped =
                            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut *c).await;
                        if let Err(e) = dropped {
                            progress(format!("could not drop database {name}: {e}"));
                        }
                    }
                    admin.close().await;
                }
            }
        }
    }
}

/// `SELECT COUNT(*) …` with text parameters.
pub(crate) async fn count(store: &Store, sql: &str, params: &[&str]) -> anyhow::Result<i64> {
    let mut conn = store.conn().await?;
    let mut q = sqlx::query(sql);
    for p in params {
        q = q.bind(p.to_string());
    }
    let row = q.fetch_one(&mut *conn).await.with_context(|| format!("query failed: {sql}"))?;
    Ok(sqlx::Row::try_get::<i64, _>(&row, 0)?)
}

pub(crate) fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    // Errors only: nothing per request, but a failing worker pass still shows.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error")),
        )
        .with_writer(std::io::stderr)
        .try_init();
    let params = args.params()?;
    let backends: &[BackendChoice] = match args.backend {
        BackendChoice::Both => &[BackendChoice::Sqlite, BackendChoice::Postgres],
        BackendChoice::Sqlite => &[BackendChoice::Sqlite],
        BackendChoice::Postgres => &[BackendChoice::Postgres],
    };
    let started = Instant::now();
    let mut reports = Vec::new();
    let mut fatal = None;
    for &backend in backends {
        match run_backend(backend, &args.postgres_url, params, &args.targets).await {
            Ok(r) => {
                // Each backend's rows as soon as they exist, in case a long run is cut short.
                let partial = report::render(std::slice::from_ref(&r), params, started.elapsed());
                progress(format!("{} done:\n{partial}", r.backend));
                reports.push(r);
            }
            Err(e) => {
                fatal = Some(e.context(format!("the {} bench could not run", name(backend))));
                break;
            }
        }
    }
    print!("{}", report::render(&reports, params, started.elapsed()));
    if let Some(e) = fatal {
        return Err(e);
    }
    let failed: usize = reports.iter().map(|r| r.failures().len()).sum();
    anyhow::ensure!(failed == 0, "{failed} check(s) failed; the numbers above measure broken behaviour");
    Ok(())
}

fn name(backend: BackendChoice) -> &'static str {
    match backend {
        BackendChoice::Sqlite => "sqlite",
        _ => "postgres",
    }
}

async fn run_backend(
    backend: BackendChoice,
    postgres_url: &str,
    p: Params,
    targets: &connectors::Targets,
) -> anyhow::Result<BackendReport> {
    let (store, fresh) = fresh_database(backend, postgres_url, p.pool).await?;
    let result = scenarios(backend, store.clone(), p, targets).await;
    store.close().await;
    fresh.remove().await;
    result
}

async fn scenarios(
    backend: BackendChoice,
    store: Store,
    p: Params,
    targets: &connectors::Targets,
) -> anyhow::Result<BackendReport> {
    let mut report = BackendReport::new(name(backend));
    let t = Instant::now();
    store.migrate().await.context("migrations")?;
    let app =
        App::new(store.clone(), Arc::new(SystemClock)).with_sealer(gatehouse_app::secrets::Sealer::with_random_key());
    app.bootstrap().await?.context("the bench database is not fresh")?;
    report.setup("migrate", t.elapsed());

    let t = Instant::now();
    progress(format!("{}: setting up {} users with tokens and the packages", report.backend, p.requests));
    let fx = fixture::setup(&app, p).await?;
    report.setup(&format!("{} users+tokens, packages via App", p.requests), t.elapsed());

    let server = pipeline::Server::start(&app).await?;
    progress(format!("{}: (a) auto-approve, {} requests, {} clients", report.backend, p.requests, p.concurrency));
    let auto = pipeline::auto_approve(&server, &app, &fx, p).await?;
    progress(format!("{}: (b) one-stage approval", report.backend));
    let approval = pipeline::one_stage(&server, &app, &fx, p).await?;
    server.stop().await;

    progress(format!("{}: (c) baselines", report.backend));
    let base_auto = baseline::run(&store, &fx, fx.baseline_groups[0], auto.audit_rows, false, p).await?;
    let base_approval = baseline::run(&store, &fx, fx.baseline_groups[1], approval.audit_rows, true, p).await?;

    for (label, m, base) in
        [("auto-approve (HTTP → delivered)", &auto, &base_auto), ("one-stage approval", &approval, &base_approval)]
    {
        let mut row = Row::new(label, m.accepted, m.total);
        row.baseline = Some(base.per_second());
        row.failures = m.failures.clone();
        row.failures.extend(base.failures.iter().cloned());
        report.rows.push(row);
        report.notes.push(format!("{label}: {}; baseline: {}", m.phases, base.describe()));
    }

    progress(format!("{}: (d) expiry sweep, {} of {} assignments", report.backend, p.expiring, p.assignments));
    let sweep = expiry::run(&app, p).await?;
    report.setup(&format!("bulk load {} assignments", p.assignments), sweep.load);
    let mut row = Row::new(&format!("expiry sweep ({} of {})", p.expiring, p.assignments), p.expiring, sweep.total);
    row.failures = sweep.failures.clone();
    report.rows.push(row);
    report.notes.push(format!("expiry sweep: {}", sweep.phases));

    progress(format!("{}: (e) My Access home, {} of {} packages", report.backend, p.admitting, p.packages));
    let home = my_access::run(&app, &store, p.packages, p.admitting).await?;
    report.setup(&format!("load {} packages", home.packages), home.load);
    let label = format!("My Access home ({} of {})", home.admitting, home.packages);
    let samples = my_access::SAMPLES;
    let mut row = Row::new(&label, samples, home.total);
    row.baseline = Some(samples as f64 / secs(home.base_total));
    row.latency = Some((home.p50, home.p99));
    row.failures = home.failures.clone();
    report.rows.push(row);
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let goal = if home.p99 < Duration::from_millis(50) { "met" } else { "NOT met" };
    report.notes.push(format!(
        "{label}: a guest's GET /myaccess over loopback, {samples} in a row: p50 {:.2} ms, p99 {:.2} ms (goal p99 < 50 ms: {goal}); \
         floor, the listed packages read by id in one SQL query: p50 {:.3} ms, p99 {:.3} ms",
        ms(home.p50), ms(home.p99), ms(home.base_p50), ms(home.base_p99)
    ));

    if targets.any() {
        let (stop, workers) = connectors::workers(&app);
        let measured = connectors::run(&app, targets, p.grants, p.latency_samples).await;
        let _ = stop.send(true);
        let _ = workers.await;
        let measured = measured?;
        report.rows.extend(measured.rows);
        report.notes.extend(measured.notes);
    }
    Ok(report)
}
