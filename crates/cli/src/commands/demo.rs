//! `concordat demo`: a store in a data folder with fictional people in real partner
//! organisations, served on localhost.

use super::init::load_reference_data;
use super::serve::{ServeOptions, serve_on};
use super::{actor, describe, source};
use anyhow::Context;
use clap::Args;
use concordat_domain::people::{
    Clearance, DgAuthority, DisplayName, NewPassword, Role, Roles, Username,
};
use concordat_domain::registry::OrgCode;
use concordat_server::accounts::{self, AccountRequest};
use concordat_server::auth::one_time_password;
use concordat_store::{DatabaseUrl, Store};
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Set up a demo store (if absent) and run the server on it.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  concordat demo\n  concordat demo --port 8081 --data-dir /tmp/concordat-demo"
)]
pub struct DemoArgs {
    /// The folder for the demo store and its credentials file.
    #[arg(long, default_value = "data/demo")]
    data_dir: PathBuf,
    /// The port to serve on (on localhost).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// The address to serve on.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    address: IpAddr,
    /// Send cookies with the Secure flag even over plain HTTP.
    #[arg(long)]
    secure_cookies: bool,
    #[command(flatten)]
    options: ServeOptions,
}

/// A fictional person in a real organisation.
struct DemoPerson(
    &'static str,
    &'static str,
    &'static str,
    &'static [Role],
    Clearance,
    DgAuthority,
);

/// The demo's people: username, name, organisation, roles, clearance, DG authority.
const PEOPLE: &[DemoPerson] = &[
    DemoPerson(
        "admin",
        "Alex Morgan (platform administrator)",
        "nca",
        &[Role::Administrator],
        Clearance::Sc,
        DgAuthority::None,
    ),
    DemoPerson(
        "nca.tasking",
        "Priya Shah",
        "nca",
        &[Role::TaskingOfficer],
        Clearance::Sc,
        DgAuthority::None,
    ),
    DemoPerson(
        "nca.director",
        "Director Helen Okafor",
        "nca",
        &[Role::SeniorDecisionMaker],
        Clearance::Dv,
        DgAuthority::Delegated,
    ),
    DemoPerson(
        "nca.analyst",
        "Tom Reilly",
        "nca-nih",
        &[Role::Analyst],
        Clearance::Sc,
        DgAuthority::None,
    ),
    DemoPerson(
        "nca.chair",
        "Deputy Director Sam Whitfield",
        "nca",
        &[Role::GroupChair, Role::SeniorDecisionMaker],
        Clearance::Dv,
        DgAuthority::None,
    ),
    DemoPerson(
        "mps.tasking",
        "DI Grace Adeyemi",
        "mps",
        &[Role::TaskingOfficer],
        Clearance::Sc,
        DgAuthority::None,
    ),
    DemoPerson(
        "mps.case",
        "DC Owen Price",
        "mps",
        &[Role::CaseOfficer],
        Clearance::Sc,
        DgAuthority::None,
    ),
    DemoPerson(
        "gmp.case",
        "DS Leah Barker",
        "greater-manchester",
        &[Role::CaseOfficer],
        Clearance::Sc,
        DgAuthority::None,
    ),
    DemoPerson(
        "titan.analyst",
        "Rob Kenyon",
        "titan",
        &[Role::Analyst, Role::TaskingOfficer],
        Clearance::Sc,
        DgAuthority::None,
    ),
    DemoPerson(
        "hmrc.officer",
        "Nadia Karim",
        "hmrc",
        &[Role::CaseOfficer],
        Clearance::Sc,
        DgAuthority::None,
    ),
    DemoPerson(
        "mps.admin",
        "Chris Lowe (MPS administrator)",
        "mps",
        &[Role::Administrator],
        Clearance::Ctc,
        DgAuthority::None,
    ),
    DemoPerson(
        "viewer",
        "Jo Evans",
        "west-yorkshire",
        &[Role::Viewer],
        Clearance::Bpss,
        DgAuthority::None,
    ),
];

const CREDENTIALS_FILE: &str = "demo-credentials.txt";

pub async fn run(global: &super::Global, args: DemoArgs) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("cannot create {}", args.data_dir.display()))?;
    let url = DatabaseUrl::Sqlite(args.data_dir.join("concordat.db"));
    let store = Store::open(&url)
        .await
        .with_context(|| format!("cannot open {url}"))?;
    load_reference_data(&store).await?;
    let credentials = args.data_dir.join(CREDENTIALS_FILE);
    if store.count_users().await? == 0 {
        seed(&store, &credentials).await?;
        seed_tasking(global, &store).await?;
        seed_events(global, &store).await?;
    }
    let addr = SocketAddr::new(args.address, args.port);
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| {
        format!(
            "cannot listen on {addr} (is another server using port {}?)",
            args.port
        )
    })?;
    let host = if args.address.is_loopback() {
        "localhost".to_owned()
    } else {
        args.address.to_string()
    };
    let shown = std::fs::read_to_string(&credentials)
        .unwrap_or_else(|_| "  (credentials file missing)\n".to_owned());
    println!(
        "\nConcordat demo is running: http://{host}:{}/",
        listener.local_addr()?.port()
    );
    println!(
        "Sign in with any of these fictional users (from {}):\n{shown}",
        credentials.display()
    );
    println!("Press Ctrl-C to stop.");
    serve_on(global, store, listener, &args.options, args.secure_cookies).await?;
    Ok(ExitCode::SUCCESS)
}

async fn seed(store: &Store, credentials: &Path) -> anyhow::Result<()> {
    let mut lines = String::new();
    for DemoPerson(username, name, org, roles, clearance, dg) in PEOPLE {
        let password: NewPassword = one_time_password();
        let request = AccountRequest {
            username: Username::parse(username)?,
            display_name: DisplayName::parse(name)?,
            organisation: OrgCode::parse(org)?,
            roles: Roles::new(roles.iter().copied())?,
            clearance: *clearance,
            dg_authority: *dg,
        };
        accounts::create_user_with_password(
            store,
            actor("demo"),
            &source(),
            request,
            &password,
            false,
        )
        .await
        .map_err(describe)?;
        let roles: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        lines.push_str(&format!(
            "  {username:<14} {:<24} {org} ({})\n",
            password.expose(),
            roles.join(", ")
        ));
    }
    write_private(credentials, &lines)
}

/// A subject and a request waiting for the national agency's decision, so that the
/// queues have something in them (README: "Raising and deciding a request").
async fn seed_tasking(global: &super::Global, store: &Store) -> anyhow::Result<()> {
    use concordat_domain::subject::{
        DesignationBasis, PriorityDesignation, SubjectKind, SubjectName,
    };
    use concordat_domain::tasking::{
        CaseText, Geography, RequestEvent, RequestKind, RequestTitle, Sophistication, Urgency,
    };
    use concordat_domain::threat::{ThreatArea, ThreatAreas};
    use concordat_server::tasking::{self, NewRequestInput, NewSubjectInput};
    let state = concordat_server::AppState::new(
        store.clone(),
        concordat_server::ServerConfig::default(),
        super::rules(global)?,
    );
    let analyst = concordat_server::auth::acting_as(&state, "titan.analyst")
        .await
        .map_err(describe)?;
    let source = source();
    let group = tasking::create_subject(
        &state,
        &analyst,
        &source,
        NewSubjectInput {
            kind: SubjectKind::OrganisedCrimeGroup,
            name: SubjectName::parse("Northern firearms supply network (fictional)")?,
            designation: PriorityDesignation::HighPriority,
            basis: DesignationBasis::parse(
                "Fictional demo data: converted weapons recovered in three force areas.",
            )?,
            marking: concordat_domain::handling::Marking::new(
                concordat_domain::people::Classification::Official,
                true,
                vec![concordat_domain::handling::Descriptor::Personal],
                vec![],
                None,
            )?,
        },
    )
    .await
    .map_err(describe)?;
    let request = tasking::raise(
        &state,
        &analyst,
        &source,
        NewRequestInput {
            title: RequestTitle::parse("Specialist surveillance on the Northern firearms network")?,
            kind: RequestKind::Capability {
                capability: "specialist-surveillance".to_owned(),
            },
            receiver: OrgCode::parse("nca")?,
            border_gateway: None,
            threat_areas: ThreatAreas::new([ThreatArea::Firearms])?,
            subjects: vec![group.id],
            geography: Geography {
                areas: ["cumbria", "lancashire"]
                    .into_iter()
                    .map(OrgCode::parse)
                    .collect::<Result<_, _>>()?,
                international: false,
            },
            sophistication: Sophistication::Standard,
            urgency: Urgency::Urgent,
            case: CaseText::parse(
                "Fictional demo data. Handovers of converted firearms are expected at a \
                 lay-by on the A6 within days; the region has no armed surveillance team free.",
            )?,
            marking: concordat_domain::handling::Marking::official(),
        },
    )
    .await
    .map_err(describe)?;
    tasking::transition(
        &state,
        &analyst,
        &source,
        request.id,
        RequestEvent::Submit,
        None,
    )
    .await
    .map_err(describe)?;
    Ok(())
}

/// Two organisations' planned activity on the A6 near Lancaster tomorrow morning, 150 m
/// apart: the clash both sides see (README: "Event deconfliction").
async fn seed_events(global: &super::Global, store: &Store) -> anyhow::Result<()> {
    use concordat_domain::deconfliction::{ContactDetail, ContactName, PointOfContact};
    use concordat_domain::events::{ActivityKind, ActivityTitle, Place, Position, TimeWindow};
    use concordat_domain::time::Timestamp;
    use concordat_server::events::{self, PlanInput};
    let state = concordat_server::AppState::new(
        store.clone(),
        concordat_server::ServerConfig::default(),
        super::rules(global)?,
    );
    let tomorrow = |hours: i64| Timestamp::now().plus(chrono::Duration::hours(24 + hours));
    for (who, kind, title, latitude, contact, from, to) in [
        (
            "titan.analyst",
            ActivityKind::Surveillance,
            "Static observation on the A6 lay-by (fictional)",
            54.0466,
            ("DS Priya Shah", "0161 856 0000"),
            0,
            4,
        ),
        (
            "hmrc.officer",
            ActivityKind::ControlledDelivery,
            "Controlled delivery of a parcel (fictional)",
            54.0479,
            ("Officer Nadia Karim", "03000 000 000"),
            2,
            3,
        ),
    ] {
        let officer = concordat_server::auth::acting_as(&state, who)
            .await
            .map_err(describe)?;
        events::plan(
            &state,
            &officer,
            &source(),
            PlanInput {
                kind,
                title: ActivityTitle::parse(title)?,
                place: Place {
                    position: Position::new(latitude, -2.8007)?,
                    accuracy_m: 25,
                    address: None,
                    postcode: None,
                },
                window: TimeWindow::new(tomorrow(from), tomorrow(to))?,
                point_of_contact: PointOfContact {
                    name: ContactName::parse(contact.0)?,
                    detail: ContactDetail::parse(contact.1)?,
                },
                covert: false,
                operation: None,
                on_behalf_of: None,
            },
        )
        .await
        .map_err(describe)?;
    }
    Ok(())
}

/// Writes the demo credentials readable by their owner only.
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    Ok(())
}
