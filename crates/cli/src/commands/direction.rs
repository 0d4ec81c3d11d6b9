//! `concordat direction`: directed tasking (¶9, ¶11) from the command line, acting as a
//! user (`--as`) under the same rules as the API.

use super::{Global, acting, describe, source};
use clap::{Args, Subcommand};
use concordat_domain::direction::{
    BorderProtocol, ComplianceOutcome, ConsentAnswer, Direction, DirectionId, DirectionNote,
};
use concordat_domain::time::Timestamp;
use concordat_server::directions::{self, DirectionDraft};
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum DirectionCommand {
    /// List the directions the user may see.
    #[command(after_help = "Example:\n  concordat direction list --as nca.director")]
    List {
        #[command(flatten)]
        who: AsUser,
    },
    /// Show a direction and its history.
    #[command(after_help = "Example:\n  concordat direction show 0192f3c4-... --as nca.director")]
    Show {
        /// The direction's identifier.
        id: DirectionId,
        #[command(flatten)]
        who: AsUser,
    },
    /// Draft a direction, checked against ¶9 and ¶11; a refusal lists every condition not met.
    #[command(
        after_help = "Example:\n  concordat direction draft --as nca.director --recipient kent --request 0192f3c4-... --instructions \"Provide a surveillance team\""
    )]
    Draft {
        /// The code of the organisation to direct.
        #[arg(long)]
        recipient: String,
        /// The voluntary request to the recipient that came before.
        #[arg(long)]
        request: Option<String>,
        /// What the chief officer is directed to do.
        #[arg(long)]
        instructions: String,
        /// When it must be acted on by (RFC 3339).
        #[arg(long, value_name = "RFC3339")]
        needed_by: Option<String>,
        #[command(flatten)]
        who: AsUser,
    },
    /// Record that the Secretary of State for Transport has been asked to consent (BTP only).
    #[command(
        after_help = "Example:\n  concordat direction request-consent 0192f3c4-... --as nca.director"
    )]
    RequestConsent {
        /// The direction's identifier.
        id: DirectionId,
        #[command(flatten)]
        who: AsUser,
    },
    /// Record the Secretary of State for Transport's answer.
    #[command(
        after_help = "Example:\n  concordat direction record-consent 0192f3c4-... --given --note \"Letter of 3 March\" --as nca.director"
    )]
    RecordConsent {
        /// The direction's identifier.
        id: DirectionId,
        /// Consent was given.
        #[arg(long, conflicts_with = "refused", required_unless_present = "refused")]
        given: bool,
        /// Consent was refused.
        #[arg(long)]
        refused: bool,
        /// What the answer rests on.
        #[arg(long)]
        note: Option<String>,
        #[command(flatten)]
        who: AsUser,
    },
    /// Issue a direction, checked again as things stand now.
    #[command(after_help = "Example:\n  concordat direction issue 0192f3c4-... --as nca.director")]
    Issue {
        /// The direction's identifier.
        id: DirectionId,
        #[command(flatten)]
        who: AsUser,
    },
    /// Acknowledge a direction, for the recipient organisation.
    #[command(
        after_help = "Example:\n  concordat direction acknowledge 0192f3c4-... --as kent.tasking"
    )]
    Acknowledge {
        /// The direction's identifier.
        id: DirectionId,
        #[command(flatten)]
        who: AsUser,
    },
    /// Record whether the recipient complied.
    #[command(
        after_help = "Example:\n  concordat direction comply 0192f3c4-... --complied --note \"Team deployed\" --as nca.director"
    )]
    Comply {
        /// The direction's identifier.
        id: DirectionId,
        /// The recipient complied.
        #[arg(
            long,
            conflicts_with = "not_complied",
            required_unless_present = "not_complied"
        )]
        complied: bool,
        /// The recipient did not comply.
        #[arg(long)]
        not_complied: bool,
        /// What was done, or why not.
        #[arg(long)]
        note: Option<String>,
        #[command(flatten)]
        who: AsUser,
    },
    /// Show the border protocol (¶11), or record it as in force or not.
    #[command(
        after_help = "Examples:\n  concordat direction protocol --as nca.director\n  concordat direction protocol --in-force --note \"Signed 1 April\" --as nca.director"
    )]
    Protocol {
        /// Record the protocol as in force.
        #[arg(long, conflicts_with = "not_in_force")]
        in_force: bool,
        /// Record the protocol as not in force.
        #[arg(long)]
        not_in_force: bool,
        /// What the record rests on.
        #[arg(long)]
        note: Option<String>,
        #[command(flatten)]
        who: AsUser,
    },
}

/// The user the command acts as.
#[derive(Debug, Args)]
pub struct AsUser {
    /// The username to act as; the server's rules for that user apply.
    #[arg(long = "as", value_name = "USERNAME")]
    username: String,
}

fn note(raw: Option<&str>) -> anyhow::Result<Option<DirectionNote>> {
    raw.map(DirectionNote::parse)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--note: {}", e.message))
}

fn print(direction: &Direction) {
    println!("Direction {}", direction.id);
    println!("  state:        {}", direction.state);
    println!(
        "  recipient:    {} ({})",
        direction.recipient, direction.recipient_kind
    );
    if let Some(request) = direction.request {
        println!("  request:      {request}");
    }
    if let Some(needed_by) = direction.needed_by {
        println!("  needed by:    {needed_by}");
    }
    if direction.recipient_kind
        == concordat_domain::direction::DirectionRecipient::BritishTransportPolice
    {
        println!("  consent:      {}", direction.transport_consent);
    }
    println!("  instructions: {}", direction.instructions);
    if let Some(note) = &direction.compliance_note {
        println!("  outcome note: {note}");
    }
}

pub async fn run(global: &Global, command: DirectionCommand) -> anyhow::Result<ExitCode> {
    let source = source();
    match command {
        DirectionCommand::List { who } => {
            let (state, who) = acting(global, &who.username).await?;
            let list = directions::list(&state, &who).await.map_err(describe)?;
            for d in &list {
                println!(
                    "{}  {:<18} {:<24} drafted {}",
                    d.id, d.state, d.recipient, d.drafted_at
                );
            }
            println!("{} direction(s)", list.len());
            state.store.close().await;
        }
        DirectionCommand::Show { id, who } => {
            let (state, who) = acting(global, &who.username).await?;
            let view = directions::show(&state, &who, id).await.map_err(describe)?;
            print(&view.direction);
            println!("History:");
            for step in &view.history {
                let note = step.note.as_deref().unwrap_or("");
                println!(
                    "  {}  {:<16} -> {:<18} {}",
                    step.at, step.event, step.state, note
                );
            }
            state.store.close().await;
        }
        DirectionCommand::Draft {
            recipient,
            request,
            instructions,
            needed_by,
            who,
        } => {
            let needed_by = needed_by
                .as_deref()
                .map(|t| {
                    chrono::DateTime::parse_from_rfc3339(t)
                        .map(|t| Timestamp::from(t.with_timezone(&chrono::Utc)))
                        .map_err(|e| anyhow::anyhow!("--needed-by: not an RFC 3339 date-time: {e}"))
                })
                .transpose()?;
            let draft =
                DirectionDraft::parse(&recipient, request.as_deref(), &instructions, needed_by)
                    .map_err(describe)?;
            let (state, who) = acting(global, &who.username).await?;
            let direction = directions::draft(&state, &who, &source, draft)
                .await
                .map_err(describe)?;
            println!("Drafted:");
            print(&direction);
            state.store.close().await;
        }
        DirectionCommand::RequestConsent { id, who } => {
            let (state, who) = acting(global, &who.username).await?;
            let d = directions::request_consent(&state, &who, &source, id)
                .await
                .map_err(describe)?;
            print(&d);
            state.store.close().await;
        }
        DirectionCommand::RecordConsent {
            id,
            given,
            refused: _,
            note: raw,
            who,
        } => {
            let answer = if given {
                ConsentAnswer::Given
            } else {
                ConsentAnswer::Refused
            };
            let note = note(raw.as_deref())?;
            let (state, who) = acting(global, &who.username).await?;
            let d = directions::record_consent(&state, &who, &source, id, answer, note)
                .await
                .map_err(describe)?;
            print(&d);
            state.store.close().await;
        }
        DirectionCommand::Issue { id, who } => {
            let (state, who) = acting(global, &who.username).await?;
            let d = directions::issue(&state, &who, &source, id)
                .await
                .map_err(describe)?;
            println!("Issued:");
            print(&d);
            state.store.close().await;
        }
        DirectionCommand::Acknowledge { id, who } => {
            let (state, who) = acting(global, &who.username).await?;
            let d = directions::acknowledge(&state, &who, &source, id)
                .await
                .map_err(describe)?;
            print(&d);
            state.store.close().await;
        }
        DirectionCommand::Comply {
            id,
            complied,
            not_complied: _,
            note: raw,
            who,
        } => {
            let outcome = if complied {
                ComplianceOutcome::Complied
            } else {
                ComplianceOutcome::NotComplied
            };
            let note = note(raw.as_deref())?;
            let (state, who) = acting(global, &who.username).await?;
            let d = directions::record_compliance(&state, &who, &source, id, outcome, note)
                .await
                .map_err(describe)?;
            print(&d);
            state.store.close().await;
        }
        DirectionCommand::Protocol {
            in_force,
            not_in_force,
            note: raw,
            who,
        } => {
            let note = note(raw.as_deref())?;
            let wanted = match (in_force, not_in_force) {
                (true, _) => Some(BorderProtocol::InForce),
                (_, true) => Some(BorderProtocol::NotInForce),
                _ => None,
            };
            if wanted.is_none() && note.is_some() {
                anyhow::bail!("--note: goes with --in-force or --not-in-force");
            }
            let (state, who) = acting(global, &who.username).await?;
            if let Some(protocol) = wanted {
                let record = directions::set_border_protocol(&state, &who, &source, protocol, note)
                    .await
                    .map_err(describe)?;
                println!(
                    "Recorded the border protocol as {} ({}).",
                    record.state, record.id
                );
            } else {
                let view = directions::border_protocol(&state, &who)
                    .await
                    .map_err(describe)?;
                println!(
                    "The border protocol (¶11) is {}.",
                    view.state.as_str().replace('-', " ")
                );
                for r in &view.records {
                    let note = r.note.as_ref().map(DirectionNote::as_str).unwrap_or("");
                    println!("  {}  {:<13} {}", r.recorded_at, r.state, note);
                }
            }
            state.store.close().await;
        }
    }
    Ok(ExitCode::SUCCESS)
}
