//! The subcommands and what they share: the global options, opening the store, and
//! the audit identity of the command line.

mod audit;
mod bench;
mod briefing;
mod demo;
mod direction;
mod export;
#[cfg(test)]
mod fuzz;
mod init;
mod linkage;
mod operation;
mod org;
mod policy;
mod request;
mod serve;
mod subject;
mod token;
mod user;

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use concordat_domain::audit::Actor;
use concordat_store::{DatabaseUrl, Store};
use std::process::ExitCode;

/// Concordat: multi-agency tasking, coordination and deconfliction.
#[derive(Debug, Parser)]
#[command(
    name = "concordat",
    version,
    after_help = "Examples:\n  concordat demo                      # a demo server on http://localhost:8080\n  concordat init --database-url postgres://concordat@db/concordat\n  concordat serve --listen 0.0.0.0:8080\n  concordat user add --username j.smith --name \"DS Jane Smith\" --organisation mps --roles tasking-officer --clearance sc"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    command: Command,
}

/// Options every subcommand takes.
#[derive(Debug, Args)]
pub struct Global {
    /// The store: postgres://..., sqlite://PATH or a file path.
    #[arg(
        long,
        global = true,
        env = "CONCORDAT_DATABASE_URL",
        default_value = "sqlite://data/concordat.db"
    )]
    database_url: String,
    /// The Commitment-test policy file (the built-in policy when absent).
    #[arg(long, global = true, env = "CONCORDAT_POLICY", value_name = "FILE")]
    policy: Option<std::path::PathBuf>,
    /// How log lines are written.
    #[arg(long, global = true, env = "CONCORDAT_LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty)]
    log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object a line.
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create or migrate a store, load the reference data, and create the first administrator.
    Init(init::InitArgs),
    /// Run the server.
    Serve(serve::ServeArgs),
    /// Set up a demo store with fictional people (if absent) and run the server on it.
    Demo(demo::DemoArgs),
    /// Manage user accounts.
    #[command(subcommand)]
    User(user::UserCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(token::TokenCommand),
    /// Read the partner registry; set an organisation's sign-in policy and webhooks.
    #[command(subcommand)]
    Org(org::OrgCommand),
    /// Check the audit log.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Raise, assess and decide requests for tasking and assistance.
    #[command(subcommand)]
    Request(request::RequestCommand),
    /// Read operations and their roles over time.
    #[command(subcommand)]
    Operation(operation::OperationCommand),
    /// Record and list subjects: groups, individuals, vulnerabilities.
    #[command(subcommand)]
    Subject(subject::SubjectCommand),
    /// Check a Commitment-test policy file, or replay past decisions against one.
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
    /// Directed tasking (¶9, ¶11): draft, issue and follow directions, acting as a user.
    #[command(subcommand)]
    Direction(direction::DirectionCommand),
    /// The daily management pack for the Daily Briefing Meeting, and the morning job.
    #[command(subcommand)]
    Briefing(briefing::BriefingCommand),
    /// Export the records of one kind that a user may see, as JSON or CSV (audited).
    Export(export::ExportArgs),
    /// Find the records in one people file (CSV) that are the same person.
    Dedupe(linkage::DedupeArgs),
    /// Find the records of one people file (CSV) that are the same person as one in another.
    Link(linkage::LinkArgs),
    /// Measure the deconfliction engine: speed and memory, or accuracy on known data.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

/// Sets up logging to standard error; `RUST_LOG` chooses what is shown.
pub fn init_logging(global: &Global) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match global.log_format {
        LogFormat::Pretty => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// Runs the chosen subcommand.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Init(args) => init::run(&cli.global, args).await,
        Command::Serve(args) => serve::run(&cli.global, args).await,
        Command::Demo(args) => demo::run(&cli.global, args).await,
        Command::User(cmd) => user::run(&cli.global, cmd).await,
        Command::Token(cmd) => token::run(&cli.global, cmd).await,
        Command::Org(cmd) => org::run(&cli.global, cmd).await,
        Command::Audit(cmd) => audit::run(&cli.global, cmd).await,
        Command::Request(cmd) => request::run(&cli.global, cmd).await,
        Command::Operation(cmd) => operation::run(&cli.global, cmd).await,
        Command::Subject(cmd) => subject::run(&cli.global, cmd).await,
        Command::Policy(cmd) => policy::run(&cli.global, cmd).await,
        Command::Direction(cmd) => direction::run(&cli.global, cmd).await,
        Command::Export(args) => export::run(&cli.global, args).await,
        Command::Briefing(command) => briefing::run(&cli.global, command).await,
        Command::Dedupe(args) => linkage::dedupe(args),
        Command::Link(args) => linkage::link(args),
        Command::Bench(cmd) => bench::run(&cli.global, cmd).await,
    }
}

/// Opens (and migrates) the store named by the global options.
async fn open_store(global: &Global) -> anyhow::Result<Store> {
    let url: DatabaseUrl = global.database_url.parse()?;
    Store::open(&url)
        .await
        .with_context(|| format!("cannot open the store at {url}"))
}

/// Who a command that does what a user does acts as.
#[derive(Debug, Args)]
pub struct As {
    /// The user to act as; the same rules apply as when they use the API.
    #[arg(long = "as", value_name = "USERNAME")]
    pub username: String,
}

/// A record's protective marking, on the command line.
#[derive(Debug, Args)]
pub struct MarkingArgs {
    /// The classification tier: official, secret or top-secret.
    #[arg(long, default_value = "official")]
    pub classification: String,
    /// The SENSITIVE caveat (OFFICIAL-SENSITIVE).
    #[arg(long)]
    pub sensitive: bool,
    /// The UK EYES ONLY national caveat.
    #[arg(long)]
    pub uk_eyes_only: bool,
}

impl MarkingArgs {
    /// The marking, or an error naming the flag.
    pub fn marking(&self) -> anyhow::Result<concordat_domain::handling::Marking> {
        let classification =
            self.classification
                .parse()
                .map_err(|e: concordat_domain::people::FieldError| {
                    anyhow::anyhow!("--classification: {}", e.message)
                })?;
        let caveats = if self.uk_eyes_only {
            vec![concordat_domain::handling::NationalCaveat::UkEyesOnly]
        } else {
            vec![]
        };
        concordat_domain::handling::Marking::new(
            classification,
            self.sensitive,
            vec![],
            caveats,
            None,
        )
        .map_err(|e| {
            anyhow::anyhow!(
                "--{}: {}",
                e.field.trim_start_matches("marking."),
                e.message
            )
        })
    }
}

/// The registry and the policy named by the global options.
fn rules(global: &Global) -> anyhow::Result<concordat_server::rules::Rules> {
    concordat_server::rules::Rules::load(global.policy.as_deref()).map_err(anyhow::Error::msg)
}

/// The server's state over the store, and the user the command acts as (`--as`), for
/// commands that do what a user does over the API, under the same rules.
async fn acting(
    global: &Global,
    username: &str,
) -> anyhow::Result<(
    concordat_server::AppState,
    concordat_server::auth::Principal,
)> {
    let state = command_state(global).await?;
    let who = concordat_server::auth::acting_as(&state, username)
        .await
        .map_err(describe)?;
    Ok((state, who))
}

/// Writes `bytes` to `path`, or to standard output when there is none. A file is
/// written beside its target and renamed, so a reader never sees half a file; an
/// existing file is replaced.
fn write_output(path: Option<&std::path::Path>, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write as _;
    match path {
        Some(path) => {
            let dir = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(std::path::Path::new("."));
            let mut file = tempfile::NamedTempFile::new_in(dir)?;
            file.write_all(bytes)?;
            file.persist(path).map_err(|e| {
                anyhow::anyhow!("--output: cannot write {}: {}", path.display(), e.error)
            })?;
        }
        None => std::io::stdout().write_all(bytes)?,
    }
    Ok(())
}

/// The server's state over the store, as a command uses it: the default configuration
/// and the rules `global` names.
async fn command_state(global: &Global) -> anyhow::Result<concordat_server::AppState> {
    Ok(concordat_server::AppState::new(
        open_store(global).await?,
        concordat_server::ServerConfig::default(),
        rules(global)?,
    ))
}

/// Who the audit log says acted, for a subcommand.
fn actor(command: &str) -> Actor {
    Actor::Command {
        command: command.to_owned(),
    }
}

/// Where the audit log says a command-line action came from.
fn source() -> String {
    let who = std::env::var("USER").unwrap_or_else(|_| "unknown".to_owned());
    format!("command line ({who})")
}

/// Turns a server-side error into a command-line one, naming the field, or each
/// condition of the source document not met with its paragraph.
fn describe(error: concordat_server::error::AppError) -> anyhow::Error {
    let problem = error.problem();
    if !problem.refusals.is_empty() {
        let lines: Vec<String> = problem
            .refusals
            .iter()
            .map(|r| format!("  {} ({}): {}", r.condition, r.paragraph, r.message))
            .collect();
        anyhow::anyhow!("{}\n{}", problem.detail, lines.join("\n"))
    } else if problem.errors.is_empty() {
        anyhow::anyhow!("{}", problem.detail)
    } else {
        let fields: Vec<String> = problem
            .errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect();
        anyhow::anyhow!("{}", fields.join("; "))
    }
}
