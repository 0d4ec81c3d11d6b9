//! `concordat export KIND --as USER`: the records of one kind a user may see, as JSON or
//! CSV, under the same rules and with the same audit entries as the API's exports.

use super::{As, Global, acting, describe, source, write_output};
use clap::Args;
use concordat_domain::handling::RecordKind;
use concordat_server::export::{self, ExportFormat};
use std::process::ExitCode;

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  concordat export intelligence --as wmp.analyst --format csv --output intelligence.csv\n  concordat export requests --as nca.tasking > requests.json"
)]
pub struct ExportArgs {
    /// What to export: subject, request, operation, direction, registration or intelligence.
    kind: String,
    #[command(flatten)]
    who: As,
    /// json or csv.
    #[arg(long, default_value = "json")]
    format: String,
    /// Where to write it (standard output when absent). An existing file is replaced.
    #[arg(long, value_name = "FILE")]
    output: Option<std::path::PathBuf>,
}

pub async fn run(global: &Global, args: ExportArgs) -> anyhow::Result<ExitCode> {
    let kind: RecordKind = args
        .kind
        .trim_end_matches('s')
        .parse()
        .map_err(|_| anyhow::anyhow!("KIND: `{}` is not one of: subject, request, operation, direction, registration, intelligence", args.kind))?;
    let format: ExportFormat =
        args.format
            .parse()
            .map_err(|e: concordat_domain::people::FieldError| {
                anyhow::anyhow!("--format: {}", e.message)
            })?;
    let (app, me) = acting(global, &args.who.username).await?;
    let made = export::export(&app, &me, &source(), kind, format)
        .await
        .map_err(describe)?;
    let bytes = match format {
        ExportFormat::Json => serde_json::to_vec_pretty(&made)?,
        ExportFormat::Csv => made.to_csv().map_err(describe)?,
    };
    write_output(args.output.as_deref(), &bytes)?;
    eprintln!(
        "{}: {} {} record(s) exported for {}; the export is audited",
        made.banner,
        made.count,
        kind.as_str(),
        args.who.username
    );
    Ok(ExitCode::SUCCESS)
}
