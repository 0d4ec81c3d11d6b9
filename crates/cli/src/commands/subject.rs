//! `concordat subject`: record subjects and list those your organisation may see.

use super::{As, Global, MarkingArgs, acting, describe, source};
use clap::Subcommand;
use concordat_domain::subject::{DesignationBasis, SubjectName};
use concordat_server::tasking::{self, NewSubjectInput};
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum SubjectCommand {
    /// Record a subject for your organisation (Priority and High Priority need an analyst).
    #[command(
        after_help = "Example:\n  concordat subject add --as wmp.analyst --kind organised-crime-group \\\n    --name \"Eastside CViT group\" --designation high-priority --basis \"Three armed robberies\""
    )]
    Add {
        #[command(flatten)]
        who: As,
        /// organised-crime-group, individual or vulnerability.
        #[arg(long)]
        kind: String,
        /// What it is called.
        #[arg(long)]
        name: String,
        /// high-priority, priority or standard.
        #[arg(long, default_value = "standard")]
        designation: String,
        /// The basis for the designation.
        #[arg(long)]
        basis: String,
        #[command(flatten)]
        marking: MarkingArgs,
    },
    /// List the subjects your organisation may see.
    List {
        #[command(flatten)]
        who: As,
    },
}

pub async fn run(global: &Global, command: SubjectCommand) -> anyhow::Result<ExitCode> {
    match command {
        SubjectCommand::Add {
            who,
            kind,
            name,
            designation,
            basis,
            marking,
        } => {
            let (app, me) = acting(global, &who.username).await?;
            let input = NewSubjectInput {
                kind: kind.parse().map_err(|e| anyhow::anyhow!("--{e}"))?,
                name: SubjectName::parse(&name).map_err(|e| anyhow::anyhow!("--{e}"))?,
                designation: designation.parse().map_err(|e| anyhow::anyhow!("--{e}"))?,
                basis: DesignationBasis::parse(&basis).map_err(|e| anyhow::anyhow!("--{e}"))?,
                marking: marking.marking()?,
            };
            let subject = tasking::create_subject(&app, &me, &source(), input)
                .await
                .map_err(describe)?;
            println!("{}  {subject}", subject.id);
        }
        SubjectCommand::List { who } => {
            let (app, me) = acting(global, &who.username).await?;
            for subject in tasking::subjects(&app, &me).await.map_err(describe)? {
                println!("{}  {subject}", subject.id);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
