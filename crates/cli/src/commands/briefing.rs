//! `concordat briefing`: the daily management pack for the Daily Briefing Meeting, made
//! for a user under the same rules and with the same audit entries as the API, and the
//! morning job that keeps each day's packs.

use super::{As, Global, acting, command_state, describe, source, write_output};
use clap::{Args, Subcommand};
use concordat_domain::briefing::{PackWindow, Scope, parse_date, parse_meeting_time};
use concordat_domain::time::Timestamp;
use concordat_server::briefing::{self, PackFormat};
use indicatif::{ProgressBar, ProgressStyle};
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum BriefingCommand {
    /// The pack for a date and scope, as a user may see it (audited as read).
    Daily(DailyArgs),
    /// Keep the pack for a date for every tasking officer and senior decision-maker,
    /// as the morning job of `serve` does at the meeting's time.
    Keep(KeepArgs),
}

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  concordat briefing daily --as nca.tasking --date 2026-12-02 --scope national\n  concordat briefing daily --as nwrocu.tasking --scope nwrocu --format html --output pack.html"
)]
pub struct DailyArgs {
    #[command(flatten)]
    who: As,
    /// The meeting's date, YYYY-MM-DD (default: the next meeting's).
    #[arg(long)]
    date: Option<String>,
    /// `national` or an organisation code (default: national for the national agency,
    /// the user's organisation otherwise; a ROCU's takes in its region).
    #[arg(long)]
    scope: Option<String>,
    /// The meeting's time in London, HH:MM: the pack's cut-off.
    #[arg(long, default_value = "07:00")]
    at: String,
    /// json, markdown or html.
    #[arg(long, default_value = "markdown")]
    format: String,
    /// Where to write it (standard output when absent). An existing file is replaced.
    #[arg(long, value_name = "FILE")]
    output: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct KeepArgs {
    /// The meeting's date, YYYY-MM-DD (default: today in London).
    #[arg(long)]
    date: Option<String>,
    /// The meeting's time in London, HH:MM: the packs' cut-off.
    #[arg(long, default_value = "07:00")]
    at: String,
}

fn flag<T>(
    name: &str,
    parsed: Result<T, concordat_domain::people::FieldError>,
) -> anyhow::Result<T> {
    parsed.map_err(|e| anyhow::anyhow!("--{name}: {}", e.message))
}

pub async fn run(global: &Global, command: BriefingCommand) -> anyhow::Result<ExitCode> {
    match command {
        BriefingCommand::Daily(args) => daily(global, args).await,
        BriefingCommand::Keep(args) => keep(global, args).await,
    }
}

async fn daily(global: &Global, args: DailyArgs) -> anyhow::Result<ExitCode> {
    let format: PackFormat = flag("format", args.format.parse())?;
    let at = flag("at", parse_meeting_time("at", &args.at))?;
    let date = match &args.date {
        Some(raw) => flag("date", parse_date("date", raw))?,
        None => PackWindow::date_covering(Timestamp::now(), at),
    };
    let (mut app, me) = acting(global, &args.who.username).await?;
    let scope = match &args.scope {
        Some(raw) => flag("scope", Scope::parse(raw, &app.rules.registry))?,
        None => Scope::default_for(&me.user.organisation, &app.rules.registry),
    };
    set_meeting_time(&mut app, at);
    let pack = briefing::read_daily(&app, &me, &source(), date, scope)
        .await
        .map_err(describe)?;
    let (_, bytes) = briefing::render(&pack, format).map_err(describe)?;
    write_output(args.output.as_deref(), &bytes)?;
    eprintln!(
        "{}: daily management pack for {} ({}), {} item(s), made for {}; audited as read",
        pack.banner,
        pack.date,
        pack.scope,
        pack.len(),
        args.who.username
    );
    Ok(ExitCode::SUCCESS)
}

/// Uses `at` as the meeting's time.
fn set_meeting_time(app: &mut concordat_server::AppState, at: chrono::NaiveTime) {
    let mut config = (*app.config).clone();
    config.briefing_at = at;
    app.config = std::sync::Arc::new(config);
}

async fn keep(global: &Global, args: KeepArgs) -> anyhow::Result<ExitCode> {
    let at = flag("at", parse_meeting_time("at", &args.at))?;
    let date = match &args.date {
        Some(raw) => flag("date", parse_date("date", raw))?,
        None => concordat_domain::briefing::london_date(Timestamp::now()),
    };
    let mut app = command_state(global).await?;
    set_meeting_time(&mut app, at);
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("{spinner} keeping packs {pos}/{len} users")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let kept = briefing::keep_for_everyone(&app, date, &source(), |done, of| {
        bar.set_length(of as u64);
        bar.set_position(done as u64);
    })
    .await
    .map_err(describe)?;
    bar.finish_and_clear();
    println!("{kept} pack(s) kept for {date}");
    Ok(ExitCode::SUCCESS)
}
