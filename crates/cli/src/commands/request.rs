//! `concordat request`: raise, route, assess and decide requests for tasking and
//! assistance, as a user (`--as`), under the same rules as the API.

use super::{As, Global, acting, describe, source};
use clap::{Args, Subcommand, ValueEnum};
use concordat_domain::decision::{
    DepartureReason, NdmRationale, NdmText, Outcome, Recommendation, Roles, parse_orgs,
};
use concordat_domain::operation::CodeName;
use concordat_domain::registry::OrgCode;
use concordat_domain::subject::SubjectId;
use concordat_domain::tasking::{
    CaseText, Geography, Request, RequestEvent, RequestKind, RequestState, RequestTitle,
    Sophistication, Urgency,
};
use concordat_domain::threat::{Strand, ThreatAreas};
use concordat_server::error::AppError;
use concordat_server::tasking::{self, DecisionInput, NewRequestInput, OperationChoice};
use concordat_store::RequestBox;
use std::process::ExitCode;
use std::str::FromStr;

#[derive(Debug, Subcommand)]
pub enum RequestCommand {
    /// List the requests your organisation sent or received.
    #[command(after_help = "Example:\n  concordat request list --as nca.tasking --box received")]
    List {
        #[command(flatten)]
        who: As,
        /// Which requests.
        #[arg(long = "box", value_enum, default_value_t = Which::All)]
        which: Which,
        /// Only those in this state (draft, submitted, under-assessment, accepted,
        /// declined-with-referral, withdrawn, expired).
        #[arg(long)]
        state: Option<String>,
    },
    /// Show a request with its history and decisions.
    Show {
        #[command(flatten)]
        who: As,
        /// The request's identifier.
        id: String,
    },
    /// Raise a request as a draft of your organisation (add --submit to send it).
    #[command(
        after_help = "Example:\n  concordat request raise --as wmp.tasking --to nca --title \"Armed surveillance\" \\\n    --kind capability --capability specialist-surveillance \\\n    --threat-areas organised-acquisitive-crime --areas west-midlands \\\n    --urgency routine --case \"Three armed robberies since May\" --submit"
    )]
    Raise(Box<RaiseArgs>),
    /// Send a draft to its receiver.
    Submit {
        #[command(flatten)]
        who: As,
        /// The request's identifier.
        id: String,
    },
    /// Start assessing a request your organisation received.
    Assess {
        #[command(flatten)]
        who: As,
        /// The request's identifier.
        id: String,
    },
    /// Withdraw a request your organisation raised.
    Withdraw {
        #[command(flatten)]
        who: As,
        /// The request's identifier.
        id: String,
        /// Why.
        #[arg(long)]
        note: Option<String>,
    },
    /// Show what the policy recommends, test by test.
    Recommend {
        #[command(flatten)]
        who: As,
        /// The request's identifier.
        id: String,
    },
    /// Record your organisation's decision on a request it received.
    #[command(
        after_help = "Example:\n  concordat request decide ID --as nca.tasking --outcome accepted --lead west-midlands --support nca \\\n    --create-operation \"Operation Nightjar\" --strands pursue \\\n    --information ... --threat-and-risk ... --powers-and-policy ... --options ... --action-and-review ..."
    )]
    Decide(Box<DecideArgs>),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Which {
    /// Raised by your organisation.
    Sent,
    /// To your organisation or through it.
    Received,
    /// Both.
    All,
}

#[derive(Debug, Args)]
pub struct RaiseArgs {
    #[command(flatten)]
    who: As,
    #[command(flatten)]
    marking: super::MarkingArgs,
    /// The organisation asked.
    #[arg(long)]
    to: String,
    /// One line that says what it is about.
    #[arg(long)]
    title: String,
    /// assistance, capability, take-lead or coordinate.
    #[arg(long)]
    kind: String,
    /// The catalogue capability, for --kind capability.
    #[arg(long)]
    capability: Option<String>,
    /// Threat areas, comma-separated.
    #[arg(long)]
    threat_areas: String,
    /// Organisations whose areas the activity touches, comma-separated.
    #[arg(long, default_value = "")]
    areas: String,
    /// The activity reaches abroad.
    #[arg(long)]
    international: bool,
    /// standard or high.
    #[arg(long, default_value = "standard")]
    sophistication: String,
    /// immediate, urgent or routine.
    #[arg(long)]
    urgency: String,
    /// The case: what is happening, what is asked, and why.
    #[arg(long)]
    case: String,
    /// Subject identifiers, comma-separated.
    #[arg(long, default_value = "")]
    subjects: String,
    /// The JBIU that is the gateway, for capability at the border (¶22).
    #[arg(long)]
    border_gateway: Option<String>,
    /// Submit it at once.
    #[arg(long)]
    submit: bool,
}

#[derive(Debug, Args)]
pub struct DecideArgs {
    #[command(flatten)]
    who: As,
    /// The request's identifier.
    id: String,
    /// accepted or declined.
    #[arg(long)]
    outcome: String,
    /// The lead agency, for an acceptance.
    #[arg(long)]
    lead: Option<String>,
    /// Supporting organisations, comma-separated.
    #[arg(long, default_value = "")]
    support: String,
    /// Coordinating organisations, comma-separated.
    #[arg(long, default_value = "")]
    coordinate: String,
    /// Who is better placed, for a decline.
    #[arg(long)]
    referral: Option<String>,
    /// NDM: information and intelligence.
    #[arg(long)]
    information: String,
    /// NDM: threat and risk assessment, and the working strategy.
    #[arg(long)]
    threat_and_risk: String,
    /// NDM: powers and policy.
    #[arg(long)]
    powers_and_policy: String,
    /// NDM: options and contingencies.
    #[arg(long)]
    options: String,
    /// NDM: action and review.
    #[arg(long)]
    action_and_review: String,
    /// Why the decision departs from the recommendation, when it does.
    #[arg(long)]
    departure_reason: Option<String>,
    /// Open a new operation with this code name.
    #[arg(long, conflicts_with = "join_operation")]
    create_operation: Option<String>,
    /// The new operation's 4P strands, comma-separated.
    #[arg(long, default_value = "pursue")]
    strands: String,
    /// Join this operation instead.
    #[arg(long)]
    join_operation: Option<String>,
    /// The decision in force this one supersedes.
    #[arg(long)]
    supersedes: Option<String>,
}

fn field<T: FromStr>(flag: &str, raw: &str) -> anyhow::Result<T>
where
    T::Err: std::fmt::Display,
{
    raw.trim()
        .parse()
        .map_err(|e| anyhow::anyhow!("--{flag}: {e}"))
}

fn text<T>(
    flag: &str,
    raw: &str,
    parse: fn(&str) -> Result<T, concordat_domain::people::FieldError>,
) -> anyhow::Result<T> {
    parse(raw).map_err(|e| anyhow::anyhow!("--{flag}: {}", e.message))
}

fn list<T: FromStr>(flag: &str, raw: &str) -> anyhow::Result<Vec<T>>
where
    T::Err: std::fmt::Display,
{
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| field(flag, s))
        .collect()
}

fn print_request(request: &Request) {
    println!("{}  {}", request.id, request.title);
    let route = match request.route.gateway() {
        Some(gateway) => format!("through {gateway} ({})", request.route.authority()),
        None => format!("direct ({})", request.route.authority()),
    };
    println!(
        "  {} -> {} {route}; {}; {}; state {}{}",
        request.requester,
        request.receiver,
        request.kind.as_str(),
        request.urgency.as_str(),
        request.state.as_str(),
        if request.overdue { " (OVERDUE)" } else { "" }
    );
    if let Some(by) = request.respond_by {
        println!("  respond by {by}");
    }
}

/// Prints a recommendation, test by test.
pub fn print_recommendation(rec: &Recommendation) {
    println!(
        "Recommendation (policy {}): {} — best-placed lead {}",
        rec.policy_version,
        rec.role.as_str(),
        rec.lead
    );
    println!("  {}", rec.lead_reason);
    if let Some(referral) = &rec.referral {
        println!("  refer to {referral}");
    }
    for test in &rec.tests {
        println!(
            "  [{}] {} ({})",
            if test.passed { "pass" } else { "fail" },
            test.test.as_str(),
            test.paragraph
        );
        for fact in &test.facts {
            println!("         {fact}");
        }
    }
}

fn rationale(args: &DecideArgs) -> anyhow::Result<NdmRationale> {
    Ok(NdmRationale {
        information: text("information", &args.information, NdmText::parse)?,
        threat_and_risk: text("threat-and-risk", &args.threat_and_risk, NdmText::parse)?,
        powers_and_policy: text("powers-and-policy", &args.powers_and_policy, NdmText::parse)?,
        options_and_contingencies: text("options", &args.options, NdmText::parse)?,
        action_and_review: text("action-and-review", &args.action_and_review, NdmText::parse)?,
    })
}

fn fail(error: AppError) -> anyhow::Error {
    describe(error)
}

pub async fn run(global: &Global, command: RequestCommand) -> anyhow::Result<ExitCode> {
    let source = source();
    match command {
        RequestCommand::List { who, which, state } => {
            let (app, me) = acting(global, &who.username).await?;
            let which = match which {
                Which::Sent => RequestBox::Sent,
                Which::Received => RequestBox::Received,
                Which::All => RequestBox::All,
            };
            let state = state
                .map(|s| field::<RequestState>("state", &s))
                .transpose()?;
            let found = tasking::requests(&app, &me, which, state)
                .await
                .map_err(fail)?;
            if found.is_empty() {
                println!("No requests.");
            }
            for request in &found {
                print_request(request);
            }
        }
        RequestCommand::Show { who, id } => {
            let (app, me) = acting(global, &who.username).await?;
            let request = tasking::visible_request(&app, &me, field("id", &id)?)
                .await
                .map_err(fail)?;
            concordat_server::reads::record_read(
                &app, &me, &source, "request", request.id, "request",
            )
            .await
            .map_err(fail)?;
            print_request(&request);
            println!("  case: {}", request.case);
            for step in app.store.request_history(request.id).await? {
                println!("  {}  {} -> {}", step.at, step.event, step.state.as_str());
            }
            for record in app.store.decisions(request.id).await? {
                let d = &record.decision;
                println!(
                    "  decision {} {} at {} ({}){}",
                    d.id,
                    d.outcome.as_str(),
                    d.decided_at,
                    d.agency_role.as_str(),
                    if record.superseded {
                        ", superseded"
                    } else {
                        ""
                    }
                );
                if let Some(roles) = &d.roles {
                    println!("    {roles}");
                }
            }
        }
        RequestCommand::Raise(args) => {
            let (app, me) = acting(global, &args.who.username).await?;
            let registry = &app.rules.registry;
            let input = NewRequestInput {
                title: text("title", &args.title, RequestTitle::parse)?,
                kind: RequestKind::parse(&args.kind, args.capability.as_deref(), registry)
                    .map_err(|e| {
                        anyhow::anyhow!("--{}: {}", e.field.replace('.', "-"), e.message)
                    })?,
                receiver: field("to", &args.to)?,
                border_gateway: args
                    .border_gateway
                    .as_deref()
                    .map(|g| field("border-gateway", g))
                    .transpose()?,
                threat_areas: text("threat-areas", &args.threat_areas, ThreatAreas::parse_list)?,
                subjects: list::<SubjectId>("subjects", &args.subjects)?,
                geography: Geography {
                    areas: list::<OrgCode>("areas", &args.areas)?.into_iter().collect(),
                    international: args.international,
                },
                sophistication: field::<Sophistication>("sophistication", &args.sophistication)?,
                urgency: field::<Urgency>("urgency", &args.urgency)?,
                case: text("case", &args.case, CaseText::parse)?,
                marking: args.marking.marking()?,
            };
            let mut request = tasking::raise(&app, &me, &source, input)
                .await
                .map_err(fail)?;
            if args.submit {
                request =
                    tasking::transition(&app, &me, &source, request.id, RequestEvent::Submit, None)
                        .await
                        .map_err(fail)?;
            }
            print_request(&request);
        }
        RequestCommand::Submit { who, id } => {
            move_request(global, &who, &id, RequestEvent::Submit, None, &source).await?;
        }
        RequestCommand::Assess { who, id } => {
            move_request(
                global,
                &who,
                &id,
                RequestEvent::StartAssessment,
                None,
                &source,
            )
            .await?;
        }
        RequestCommand::Withdraw { who, id, note } => {
            move_request(global, &who, &id, RequestEvent::Withdraw, note, &source).await?;
        }
        RequestCommand::Recommend { who, id } => {
            let (app, me) = acting(global, &who.username).await?;
            let id = field("id", &id)?;
            let rec = tasking::recommendation(&app, &me, id).await.map_err(fail)?;
            concordat_server::reads::record_read(
                &app,
                &me,
                &source,
                "request",
                id,
                "recommendation",
            )
            .await
            .map_err(fail)?;
            print_recommendation(&rec);
        }
        RequestCommand::Decide(args) => {
            let (app, me) = acting(global, &args.who.username).await?;
            let outcome = field::<Outcome>("outcome", &args.outcome)?;
            let roles = match &args.lead {
                None => None,
                Some(lead) => Some(Roles {
                    lead: field("lead", lead)?,
                    support: parse_orgs("support", &args.support)
                        .map_err(|e| anyhow::anyhow!("--support: {}", e.message))?,
                    coordinate: parse_orgs("coordinate", &args.coordinate)
                        .map_err(|e| anyhow::anyhow!("--coordinate: {}", e.message))?,
                }),
            };
            let operation = match (&args.create_operation, &args.join_operation) {
                (Some(name), _) => Some(OperationChoice::Create {
                    code_name: text("create-operation", name, CodeName::parse)?,
                    strands: list::<Strand>("strands", &args.strands)?,
                }),
                (None, Some(id)) => Some(OperationChoice::Join {
                    operation: field("join-operation", id)?,
                }),
                (None, None) => None,
            };
            let input = DecisionInput {
                outcome,
                roles,
                referral: args
                    .referral
                    .as_deref()
                    .map(|r| field("referral", r))
                    .transpose()?,
                rationale: rationale(&args)?,
                departure_reason: args
                    .departure_reason
                    .as_deref()
                    .map(|r| text("departure-reason", r, DepartureReason::parse))
                    .transpose()?,
                operation,
                supersedes: args
                    .supersedes
                    .as_deref()
                    .map(|s| field("supersedes", s))
                    .transpose()?,
            };
            let record = tasking::decide(&app, &me, &source, field("id", &args.id)?, input)
                .await
                .map_err(fail)?;
            let d = &record.decision;
            println!(
                "Decision {}: {} ({} for the national agency; recommended {})",
                d.id,
                d.outcome.as_str(),
                d.agency_role.as_str(),
                d.recommendation.role.as_str()
            );
            if let Some(operation) = record.operation {
                println!("Operation {operation}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn move_request(
    global: &Global,
    who: &As,
    id: &str,
    event: RequestEvent,
    note: Option<String>,
    source: &str,
) -> anyhow::Result<()> {
    let (app, me) = acting(global, &who.username).await?;
    let request = tasking::transition(&app, &me, source, field("id", id)?, event, note)
        .await
        .map_err(fail)?;
    print_request(&request);
    Ok(())
}
