//! The `concordat` command as an operator uses it, on both engines.

use concordat_domain::audit::{Actor, AuditEntry};
use concordat_domain::people::{
    Clearance, DgAuthority, DisplayName, NewPassword, Role, Roles, UserId, Username,
};
use concordat_domain::registry::{OrgCode, ReferenceData};
use concordat_domain::tasking::{
    CaseText, Geography, Request, RequestEvent, RequestId, RequestKind, RequestState, RequestTitle,
    Sophistication, Urgency, route,
};
use concordat_domain::threat::{ThreatArea, ThreatAreas};
use concordat_domain::time::Timestamp;
use concordat_server::accounts::{self, AccountRequest};
use concordat_store::{DatabaseUrl, Store};
use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn concordat(url: &DatabaseUrl, args: &[&str]) -> Run {
    let output: Output = Command::new(env!("CARGO_BIN_EXE_concordat"))
        .args(args)
        .env("CONCORDAT_DATABASE_URL", url_text(url))
        .env("NO_COLOR", "1")
        .output()
        .expect("the command runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn url_text(url: &DatabaseUrl) -> String {
    match url {
        DatabaseUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
        DatabaseUrl::Postgres(url) => url.clone(),
    }
}

/// `concordat user add` for a person named X with SC clearance, plus `extra` flags.
fn add_user(
    url: &DatabaseUrl,
    username: &str,
    organisation: &str,
    roles: &str,
    extra: &[&str],
) -> Run {
    let args = [
        &[
            "user",
            "add",
            "--username",
            username,
            "--name",
            "X",
            "--organisation",
            organisation,
        ][..],
        &["--roles", roles, "--clearance", "sc"],
        extra,
    ]
    .concat();
    concordat(url, &args)
}

fn ok(run: Run) -> String {
    assert_eq!(
        run.code, 0,
        "stdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    run.stdout
}

fn fails(run: Run, message: &str) {
    assert_ne!(run.code, 0, "expected a failure: {}", run.stdout);
    assert!(
        run.stderr.contains(message),
        "{message:?} not in: {}",
        run.stderr
    );
}

/// `concordat init` sets up the store once, and the registry is there to read.
async fn init_creates_the_first_administrator_once(_: &Store, url: &DatabaseUrl) {
    let out = ok(concordat(url, &["init"]));
    assert!(out.contains("username:  admin"), "{out}");
    assert!(out.contains("one-time"), "{out}");
    let again = ok(concordat(url, &["init"]));
    assert!(again.contains("already set up (1 users)"), "{again}");
    let orgs = ok(concordat(url, &["org", "list", "--kind", "rocu"]));
    assert!(
        orgs.contains("10 organisation(s)") && orgs.contains("titan"),
        "{orgs}"
    );
    let north_west = ok(concordat(
        url,
        &[
            "org",
            "list",
            "--region",
            "north-west",
            "--kind",
            "territorial-police",
        ],
    ));
    assert!(north_west.contains("6 organisation(s)"), "{north_west}");
    fails(
        concordat(url, &["org", "list", "--kind", "pirates"]),
        "--kind",
    );
}

async fn users_are_added_listed_and_disabled(_: &Store, url: &DatabaseUrl) {
    ok(concordat(url, &["init"]));
    let add = [
        "user",
        "add",
        "--username",
        "j.smith",
        "--name",
        "DS Jane Smith",
        "--organisation",
        "mps",
        "--roles",
        "tasking-officer,viewer",
    ];
    let out = ok(concordat(url, &[&add[..], &["--clearance", "sc"]].concat()));
    assert!(out.contains("One-time password: "), "{out}");
    fails(
        concordat(url, &[&add[..], &["--clearance", "cosmic"]].concat()),
        "--clearance",
    );
    fails(
        concordat(url, &[&add[..], &["--clearance", "sc"]].concat()),
        "username: is already taken",
    );
    fails(
        add_user(url, "x.y", "atlantis", "viewer", &[]),
        "organisation",
    );
    fails(
        add_user(
            url,
            "x.y",
            "mps",
            "senior-decision-maker",
            &["--dg-authority"],
        ),
        "dg_authority",
    );
    let list = ok(concordat(url, &["user", "list", "--organisation", "mps"]));
    assert!(
        list.contains("j.smith") && list.contains("1 account(s)"),
        "{list}"
    );
    ok(concordat(url, &["user", "disable", "j.smith"]));
    let list = ok(concordat(url, &["user", "list"]));
    assert!(
        list.lines()
            .any(|l| l.starts_with("j.smith") && l.contains("disabled")),
        "{list}"
    );
    fails(
        concordat(url, &["user", "disable", "nobody.here"]),
        "there is no user",
    );
}

async fn tokens_are_issued_and_revoked(store: &Store, url: &DatabaseUrl) {
    ok(concordat(url, &["init"]));
    let out = ok(concordat(
        url,
        &[
            "token",
            "create",
            "--username",
            "admin",
            "--name",
            "scripts",
            "--expires-in",
            "30d",
        ],
    ));
    let secret = out
        .lines()
        .find(|l| l.starts_with("cct_"))
        .expect("a secret")
        .trim()
        .to_owned();
    let hash = concordat_server::auth::hash_secret(&secret);
    let (token, _) = store
        .api_token(&hash)
        .await
        .expect("read")
        .expect("stored by hash");
    assert!(token.expires_at.is_some());
    let list = ok(concordat(url, &["token", "list", "--username", "admin"]));
    assert!(
        list.contains("active") && list.contains("scripts"),
        "{list}"
    );
    ok(concordat(url, &["token", "revoke", &token.id.to_string()]));
    let list = ok(concordat(url, &["token", "list", "--username", "admin"]));
    assert!(list.contains("revoked"), "{list}");
    fails(
        concordat(
            url,
            &[
                "token",
                "create",
                "--username",
                "admin",
                "--name",
                "x",
                "--expires-in",
                "soon",
            ],
        ),
        "--expires-in",
    );
}

async fn audit_verify_reports_the_first_broken_entry(store: &Store, url: &DatabaseUrl) {
    ok(concordat(url, &["init"]));
    ok(concordat(
        url,
        &[
            "user",
            "add",
            "--username",
            "a.b",
            "--name",
            "A B",
            "--organisation",
            "kent",
            "--roles",
            "viewer",
            "--clearance",
            "bpss",
        ],
    ));
    let out = ok(concordat(url, &["audit", "verify"]));
    assert!(out.contains("The audit log is intact: 3 entries"), "{out}");
    // The head printed is an anchor to publish; the log must keep what it names.
    let anchor = out
        .split("head ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .map(|a| a.trim_end_matches('.').to_owned())
        .expect("a head");
    ok(concordat(url, &["audit", "verify", "--anchor", &anchor]));
    let bad = concordat(url, &["audit", "verify", "--anchor", "3:nothex"]);
    assert_ne!(bad.code, 0);
    assert!(bad.stderr.contains("--anchor"), "{}", bad.stderr);
    // Cutting the newest entry off the end leaves a sound chain; only the anchor shows it.
    store.cut_audit_log_for_test(2).await.expect("cut");
    ok(concordat(url, &["audit", "verify"]));
    let cut = concordat(url, &["audit", "verify", "--anchor", &anchor]);
    assert_eq!(cut.code, 1);
    assert!(cut.stdout.contains("cut off the end"), "{}", cut.stdout);
    store
        .tamper_audit_entry_for_test(2, "mallory")
        .await
        .expect("tamper");
    let broken = concordat(url, &["audit", "verify"]);
    assert_eq!(broken.code, 1);
    assert!(
        broken.stdout.contains("BROKEN at entry 2"),
        "{}",
        broken.stdout
    );
}

fn first_word(out: &str) -> String {
    out.split_whitespace()
        .next()
        .expect("an identifier")
        .to_owned()
}

fn fixture(name: &str) -> String {
    format!(
        "{}/../domain/policy/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

const NDM: &[&str] = &[
    "--information",
    "Firearms recovered in two force areas.",
    "--threat-and-risk",
    "High harm; handovers imminent.",
    "--powers-and-policy",
    "Within the Commitment.",
    "--options",
    "Regional lead with national surveillance.",
    "--action-and-review",
    "Review at the regional tasking meeting.",
];

/// A request is raised, recommended and decided from the command line, acting as
/// users under the API's rules; then the decisions are replayed against a stricter
/// policy, which reports what would change, and a broken policy names its line.
async fn requests_are_decided_from_the_command_line_and_replayed(store: &Store, url: &DatabaseUrl) {
    ok(concordat(url, &["init"]));
    person(
        store,
        "titan.tasking",
        "titan",
        &[Role::TaskingOfficer, Role::Analyst],
        DgAuthority::None,
    )
    .await;
    person(
        store,
        "nca.tasking",
        "nca",
        &[Role::TaskingOfficer],
        DgAuthority::None,
    )
    .await;
    person(
        store,
        "mps.viewer",
        "mps",
        &[Role::Viewer],
        DgAuthority::None,
    )
    .await;
    let subject = first_word(&ok(concordat(
        url,
        &[
            "subject",
            "add",
            "--as",
            "titan.tasking",
            "--kind",
            "organised-crime-group",
            "--name",
            "Northern firearms network",
            "--designation",
            "high-priority",
            "--basis",
            "Converted weapons recovered",
        ],
    )));
    let raise = |title: &str, kind: &str, areas: &str| {
        let mut args = vec![
            "request",
            "raise",
            "--as",
            "titan.tasking",
            "--to",
            "nca",
            "--title",
            title,
            "--kind",
            kind,
            "--threat-areas",
            "firearms",
            "--areas",
            areas,
            "--urgency",
            "urgent",
            "--case",
            "Handovers expected within days",
            "--subjects",
            &subject,
            "--submit",
        ];
        if kind == "capability" {
            args.extend(["--capability", "specialist-surveillance"]);
        }
        first_word(&ok(concordat(url, &args)))
    };
    let first = raise(
        "Surveillance on the network",
        "capability",
        "cumbria,lancashire",
    );
    let recommended = ok(concordat(
        url,
        &["request", "recommend", &first, "--as", "nca.tasking"],
    ));
    assert!(
        recommended.contains(": support — best-placed lead titan"),
        "{recommended}"
    );
    assert!(
        recommended.contains("[pass] priority-subjects (¶5)"),
        "{recommended}"
    );
    // Another organisation's viewer cannot see it.
    fails(
        concordat(url, &["request", "show", &first, "--as", "mps.viewer"]),
        "There is nothing here",
    );
    let decide = |id: &str, lead: &str, support: &str, extra: &[&str]| {
        let args = [
            &[
                "request",
                "decide",
                id,
                "--as",
                "nca.tasking",
                "--outcome",
                "accepted",
                "--lead",
                lead,
                "--support",
                support,
            ][..],
            NDM,
            extra,
        ]
        .concat();
        concordat(url, &args)
    };
    // The requester cannot decide its own request.
    fails(
        concordat(
            url,
            &[
                &[
                    "request",
                    "decide",
                    &first,
                    "--as",
                    "titan.tasking",
                    "--outcome",
                    "accepted",
                    "--lead",
                    "titan",
                ][..],
                NDM,
            ]
            .concat(),
        ),
        "only nca's tasking officers",
    );
    let decided = ok(decide(
        &first,
        "titan",
        "nca",
        &["--create-operation", "Operation Moss"],
    ));
    assert!(
        decided.contains("accepted (support for the national agency"),
        "{decided}"
    );
    let operation = decided
        .lines()
        .find_map(|l| l.strip_prefix("Operation "))
        .expect("an operation")
        .to_owned();
    // The activity spreads to the South East: two regions, beyond partners (¶5).
    let second = raise("The network reaches Kent", "take-lead", "cumbria,kent");
    fails(
        decide(&second, "titan", "nca", &["--join-operation", &operation]),
        "departure_reason",
    );
    ok(decide(
        &second,
        "nca",
        "titan",
        &["--join-operation", &operation],
    ));
    let shown = ok(concordat(
        url,
        &["operation", "show", &operation, "--as", "titan.tasking"],
    ));
    assert!(
        shown.contains("roles as of") && shown.contains("lead nca; support titan"),
        "{shown}"
    );

    let broken = concordat(url, &["policy", "check", &fixture("broken-remit.toml")]);
    fails(broken, "line 26, column 8");
    let checked = ok(concordat(
        url,
        &["policy", "check", &fixture("revenue-first-stricter.toml")],
    ));
    assert!(checked.contains("2026.2-test"), "{checked}");
    let replay = ok(concordat(
        url,
        &[
            "policy",
            "replay",
            "--policy",
            &fixture("revenue-first-stricter.toml"),
        ],
    ));
    assert!(
        replay.contains("Replayed 2 decided requests against policy 2026.2-test: 1 would change"),
        "{replay}"
    );
    assert!(
        replay.contains("test beyond-partner-capability: passed -> failed"),
        "{replay}"
    );
    fails(concordat(url, &["policy", "replay"]), "--policy");
    // Who saw the first request: the receiver's officer read its recommendation.
    let seen = ok(concordat(
        url,
        &["audit", "who-saw", &format!("request:{first}")],
    ));
    assert!(seen.contains("read by: nca.tasking"), "{seen}");
    assert!(seen.contains("(recommendation)"), "{seen}");
    fails(concordat(url, &["audit", "who-saw", "nonsense"]), "KIND:ID");

    // An export holds what the user may see, and names them in the audit log.
    let dir = tempfile::tempdir().expect("temporary directory");
    let file = dir.path().join("requests.csv");
    let file_arg = file.to_str().expect("UTF-8 path");
    let exported = concordat(
        url,
        &[
            "export",
            "requests",
            "--as",
            "nca.tasking",
            "--format",
            "csv",
            "--output",
            file_arg,
        ],
    );
    assert_eq!(exported.code, 0, "{}", exported.stderr);
    assert!(
        exported.stderr.contains("OFFICIAL: "),
        "{}",
        exported.stderr
    );
    let csv = std::fs::read_to_string(&file).expect("the export");
    assert!(csv.starts_with("banner,"), "{csv}");
    assert!(csv.contains(&first), "{csv}");
    let seen = ok(concordat(
        url,
        &["audit", "who-saw", &format!("request:{first}")],
    ));
    assert!(seen.contains("(export)"), "{seen}");
    fails(
        concordat(url, &["export", "users", "--as", "nca.tasking"]),
        "KIND",
    );
    fails(
        concordat(
            url,
            &[
                "export",
                "requests",
                "--as",
                "nca.tasking",
                "--format",
                "pdf",
            ],
        ),
        "--format",
    );

    // The daily pack for the agency, as Markdown in a file; then the morning job by hand.
    let pack_file = dir.path().join("pack.md");
    let briefed = concordat(
        url,
        &[
            "briefing",
            "daily",
            "--as",
            "nca.tasking",
            "--scope",
            "national",
            "--output",
            pack_file.to_str().expect("UTF-8 path"),
        ],
    );
    assert_eq!(briefed.code, 0, "{}", briefed.stderr);
    assert!(
        briefed.stderr.contains("daily management pack for"),
        "{}",
        briefed.stderr
    );
    let markdown = std::fs::read_to_string(&pack_file).expect("the pack");
    assert!(
        markdown.contains("# Daily management pack: ")
            && markdown.contains("## Significant operational plans for the next 72 hours"),
        "{markdown}"
    );
    fails(
        concordat(
            url,
            &[
                "briefing",
                "daily",
                "--as",
                "nca.tasking",
                "--scope",
                "atlantis",
            ],
        ),
        "--scope",
    );
    fails(
        concordat(
            url,
            &[
                "briefing",
                "daily",
                "--as",
                "nca.tasking",
                "--date",
                "2026-13-01",
            ],
        ),
        "--date",
    );
    let kept = ok(concordat(
        url,
        &["briefing", "keep", "--date", "2026-12-02"],
    ));
    assert!(kept.contains("pack(s) kept for 2026-12-02"), "{kept}");
    assert!(!kept.starts_with("0 "), "{kept}");
    let again = ok(concordat(
        url,
        &["briefing", "keep", "--date", "2026-12-02"],
    ));
    assert!(again.starts_with("0 pack(s)"), "one a day: {again}");
}

/// Someone the command line can act as (`--as`): an account with no password to change.
async fn person(
    store: &Store,
    username: &str,
    org: &str,
    roles: &[Role],
    dg: DgAuthority,
) -> UserId {
    let request = AccountRequest {
        username: Username::parse(username).expect("valid"),
        display_name: DisplayName::parse(username).expect("valid"),
        organisation: OrgCode::parse(org).expect("valid"),
        roles: Roles::new(roles.iter().copied()).expect("valid"),
        clearance: Clearance::Sc,
        dg_authority: dg,
    };
    let password = NewPassword::parse("cli story password 1234").expect("valid");
    accounts::create_user_with_password(store, Actor::System, "", request, &password, false)
        .await
        .expect("a user")
        .id
}

/// A request from the agency that Kent declined, as the requests API would leave it.
async fn declined_by_kent(store: &Store, by: UserId) -> RequestId {
    let registry = ReferenceData::builtin().expect("registry");
    let code = |c: &str| OrgCode::parse(c).expect("code");
    let (nca, kent) = (
        registry.organisation(&code("nca")).expect("nca"),
        registry.organisation(&code("kent")).expect("kent"),
    );
    let now = Timestamp::now();
    let request = Request {
        id: RequestId::new(),
        title: RequestTitle::parse("Surveillance").expect("valid"),
        kind: RequestKind::Assistance,
        requester: nca.code.clone(),
        receiver: kent.code.clone(),
        route: route(&registry, nca, kent, None).expect("routed"),
        threat_areas: ThreatAreas::new([ThreatArea::Firearms]).expect("valid"),
        subjects: vec![],
        geography: Geography {
            areas: Default::default(),
            international: false,
        },
        sophistication: Sophistication::High,
        urgency: Urgency::Urgent,
        case: CaseText::parse("Armed robberies.").expect("valid"),
        state: RequestState::Draft,
        raised_by: by,
        raised_at: now,
        submitted_at: None,
        respond_by: None,
        overdue: false,
    };
    let mut tx = store.write().await.expect("begin");
    tx.insert_request(&request).await.expect("insert");
    let deadline = now.plus(chrono::Duration::hours(24));
    for (from, event, submitted) in [
        (
            RequestState::Draft,
            RequestEvent::Submit,
            Some((now, deadline)),
        ),
        (RequestState::Submitted, RequestEvent::Decline, None),
    ] {
        tx.move_request(request.id, from, event, Some(by), None, submitted)
            .await
            .expect("moved");
    }
    tx.commit(AuditEntry::new(Actor::System, "request.raise"))
        .await
        .expect("commit");
    request.id
}

/// `concordat direction` acts as a user under the server's rules: a refused draft names
/// each condition with its paragraph and fails; an allowed one is issued and acknowledged.
async fn directions_are_refused_with_their_paragraph_or_drafted_and_issued(
    store: &Store,
    url: &DatabaseUrl,
) {
    ok(concordat(url, &["init"]));
    let director = person(
        store,
        "nca.director",
        "nca",
        &[Role::SeniorDecisionMaker],
        DgAuthority::Delegated,
    )
    .await;
    person(
        store,
        "kent.tasking",
        "kent",
        &[Role::TaskingOfficer],
        DgAuthority::None,
    )
    .await;
    let request = declined_by_kent(store, director).await.to_string();
    let draft = |who: &'static str, recipient: &'static str, request: Option<&str>| {
        let mut args = vec![
            "direction",
            "draft",
            "--as",
            who,
            "--recipient",
            recipient,
            "--instructions",
            "Provide a surveillance team.",
        ];
        if let Some(request) = request {
            args.extend(["--request", request]);
        }
        concordat(url, &args)
    };
    let refused = draft("nca.director", "police-scotland", None);
    assert_ne!(refused.code, 0, "{}", refused.stdout);
    for expected in ["recipient (¶9)", "voluntary-route (¶9)", "Police Scotland"] {
        assert!(
            refused.stderr.contains(expected),
            "{expected:?} not in: {}",
            refused.stderr
        );
    }
    fails(draft("kent.tasking", "kent", Some(&request)), "(¶9)");
    let out = ok(draft("nca.director", "kent", Some(&request)));
    let id = out
        .lines()
        .find_map(|l| l.strip_prefix("Direction "))
        .expect("the direction's id")
        .trim()
        .to_owned();
    assert!(out.contains("drafted"), "{out}");
    let issued = ok(concordat(
        url,
        &["direction", "issue", &id, "--as", "nca.director"],
    ));
    assert!(issued.contains("state:        issued"), "{issued}");
    ok(concordat(
        url,
        &["direction", "acknowledge", &id, "--as", "kent.tasking"],
    ));
    let list = ok(concordat(
        url,
        &["direction", "list", "--as", "kent.tasking"],
    ));
    assert!(
        list.contains(&id) && list.contains("acknowledged") && list.contains("1 direction(s)"),
        "{list}"
    );
    let shown = ok(concordat(
        url,
        &["direction", "show", &id, "--as", "nca.director"],
    ));
    assert!(
        shown.contains("acknowledge") && shown.contains("History:"),
        "{shown}"
    );
    fails(
        concordat(
            url,
            &[
                "direction",
                "protocol",
                "--in-force",
                "--as",
                "kent.tasking",
            ],
        ),
        "(¶9)",
    );
    let protocol = ok(concordat(
        url,
        &["direction", "protocol", "--as", "kent.tasking"],
    ));
    assert!(protocol.contains("is not in force"), "{protocol}");
}

/// `concordat org sso` sets, shows and removes an organisation's identity provider:
/// the secret comes from a file and is never printed; http:// needs --allow-http.
async fn org_sso_set_show_remove(store: &Store, url: &DatabaseUrl) {
    ok(concordat(url, &["init"]));
    let dir = tempfile::tempdir().expect("dir");
    let secret_file = dir.path().join("secret");
    std::fs::write(&secret_file, "cli-idp-secret\n").expect("write");
    let secret_path = secret_file.to_str().expect("utf-8");
    let set = |issuer: &'static str, extra: &'static [&'static str]| {
        let mut args = vec![
            "org",
            "sso",
            "set",
            "mps",
            "--issuer",
            issuer,
            "--client-id",
            "concordat",
            "--client-secret-file",
            secret_path,
            "--role-claim",
            "groups",
            "--map",
            "ccu-officers=tasking-officer",
            "--map",
            "ccu-admins=administrator",
        ];
        args.extend_from_slice(extra);
        concordat(url, &args)
    };
    fails(set("http://idp.local", &[]), "--issuer");
    let out = ok(set(
        "https://idp.mps.example/realms/staff",
        &["--provision"],
    ));
    assert!(
        out.contains("mps now signs people in with https://idp.mps.example/realms/staff"),
        "{out}"
    );
    let mps = OrgCode::parse("mps").expect("valid");
    let stored = store
        .identity_provider(&mps)
        .await
        .expect("reads")
        .expect("set");
    assert_eq!(stored.provider.client_secret.expose(), "cli-idp-secret");
    assert_eq!(stored.provider.provisioning.as_str(), "just-in-time");
    let shown = ok(concordat(url, &["org", "sso", "show", "mps"]));
    assert!(shown.contains("ccu-admins -> administrator"), "{shown}");
    assert!(!shown.contains("cli-idp-secret"), "{shown}");
    fails(
        concordat(
            url,
            &[
                "org",
                "sso",
                "set",
                "mps",
                "--issuer",
                "https://x",
                "--client-id",
                "c",
                "--role-claim",
                "r",
                "--map",
                "nope",
            ],
        ),
        "--map",
    );
    let removed = ok(concordat(url, &["org", "sso", "remove", "mps"]));
    assert!(
        removed.contains("no longer uses single sign-on"),
        "{removed}"
    );
    assert!(
        store
            .identity_provider(&mps)
            .await
            .expect("reads")
            .is_none()
    );
    let actions: Vec<String> = store
        .audit_entries(&concordat_store::AuditFilter {
            limit: 20,
            ..Default::default()
        })
        .await
        .expect("audit")
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(
        actions
            .iter()
            .any(|a| a == "organisation.identity-provider-set")
    );
    assert!(
        actions
            .iter()
            .any(|a| a == "organisation.identity-provider-remove")
    );
}

/// `concordat org sign-in-policy` sets whether an organisation requires a security
/// code, and `concordat user reset-totp` clears one; both are audited.
async fn sign_in_policy_and_totp_reset(store: &Store, url: &DatabaseUrl) {
    use concordat_domain::totp::{SECRET_BYTES, TotpSecret, TotpStep};
    ok(concordat(url, &["init"]));
    ok(add_user(url, "j.smith", "mps", "viewer", &[]));
    let mps = OrgCode::parse("mps").expect("valid");
    let out = ok(concordat(
        url,
        &["org", "sign-in-policy", "mps", "--require-totp", "true"],
    ));
    assert!(out.contains("mps now requires a security code"), "{out}");
    assert!(store.sign_in_policy(&mps).await.expect("read").require_totp);
    fails(
        concordat(
            url,
            &[
                "org",
                "sign-in-policy",
                "atlantis",
                "--require-totp",
                "true",
            ],
        ),
        "there is no organisation `atlantis`",
    );
    fails(
        concordat(
            url,
            &["org", "sign-in-policy", "mps", "--require-totp", "maybe"],
        ),
        "--require-totp",
    );
    ok(concordat(
        url,
        &["org", "sign-in-policy", "mps", "--require-totp", "false"],
    ));
    assert!(!store.sign_in_policy(&mps).await.expect("read").require_totp);

    let name = Username::parse("j.smith").expect("valid");
    let id = store
        .user_by_username(&name)
        .await
        .expect("read")
        .expect("exists")
        .user
        .id;
    let mut tx = store.write().await.expect("begin");
    tx.start_totp(id, &TotpSecret::from_random([3; SECRET_BYTES]))
        .await
        .expect("start");
    let now = Timestamp::now();
    tx.confirm_totp(id, TotpStep::at(now), now)
        .await
        .expect("confirm");
    tx.commit(AuditEntry::new(Actor::System, "test.totp"))
        .await
        .expect("commit");
    let list = ok(concordat(url, &["user", "list", "--organisation", "mps"]));
    assert!(
        list.lines()
            .any(|l| l.starts_with("j.smith") && l.contains(" on ")),
        "{list}"
    );
    let out = ok(concordat(url, &["user", "reset-totp", "j.smith"]));
    assert!(
        out.contains("Reset two-factor sign-in for j.smith"),
        "{out}"
    );
    let user = store
        .user_by_username(&name)
        .await
        .expect("read")
        .expect("exists");
    assert!(user.totp.is_none() && !user.user.totp_enabled);
    fails(
        concordat(url, &["user", "reset-totp", "nobody.here"]),
        "there is no user",
    );
    let actions: Vec<String> = store
        .audit_entries(&concordat_store::AuditFilter {
            limit: 20,
            ..Default::default()
        })
        .await
        .expect("audit")
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "organisation.sign-in-policy")
            .count(),
        2,
        "{actions:?}"
    );
    assert!(
        actions.iter().any(|a| a == "user.totp-reset"),
        "{actions:?}"
    );
}

/// `concordat org webhook` makes a webhook (printing its secret once), lists it
/// without the secret, and removes it; bad input names its flag; each change audited.
async fn webhooks_are_added_listed_and_removed(store: &Store, url: &DatabaseUrl) {
    ok(concordat(url, &["init"]));
    let out = ok(concordat(
        url,
        &[
            "org",
            "webhook",
            "add",
            "mps",
            "--url",
            "https://alerts.mps.example/concordat",
            "--kinds",
            "request-received,deconfliction-hit",
        ],
    ));
    let secret = out
        .lines()
        .find(|l| l.starts_with("whsec_"))
        .expect("the secret is printed")
        .to_owned();
    let id = out
        .split_whitespace()
        .nth(1)
        .expect("the webhook's id")
        .to_owned();
    let list = ok(concordat(url, &["org", "webhook", "list", "mps"]));
    assert!(list.contains(&id) && list.contains("active"), "{list}");
    assert!(
        list.contains("https://alerts.mps.example/concordat"),
        "{list}"
    );
    assert!(!list.contains(&secret), "{list}");
    fails(
        concordat(
            url,
            &[
                "org",
                "webhook",
                "add",
                "mps",
                "--url",
                "ftp://x.example/",
                "--kinds",
                "request-received",
            ],
        ),
        "--url: must be http or https",
    );
    fails(
        concordat(
            url,
            &[
                "org",
                "webhook",
                "add",
                "mps",
                "--url",
                "https://x.example/",
                "--kinds",
                "gossip",
            ],
        ),
        "--kinds",
    );
    fails(
        concordat(
            url,
            &[
                "org",
                "webhook",
                "add",
                "atlantis",
                "--url",
                "https://x.example/",
                "--kinds",
                "request-received",
            ],
        ),
        "there is no organisation `atlantis`",
    );
    fails(
        concordat(url, &["org", "webhook", "remove", "kent", &id]),
        "kent has no webhook",
    );
    let out = ok(concordat(url, &["org", "webhook", "remove", "mps", &id]));
    assert!(out.contains("removed"), "{out}");
    let list = ok(concordat(url, &["org", "webhook", "list", "mps"]));
    assert!(list.contains("removed"), "{list}");
    let actions: Vec<String> = store
        .audit_entries(&concordat_store::AuditFilter {
            record_kind: Some("webhook".to_owned()),
            limit: 20,
            ..Default::default()
        })
        .await
        .expect("audit")
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(actions.len(), 2, "{actions:?}");
    assert!(actions.iter().any(|a| a == "webhook.create"));
    assert!(actions.iter().any(|a| a == "webhook.remove"));
}

macro_rules! on_both_engines {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                let t = concordat_store::testing::TestStore::sqlite().await;
                super::$name(&t.store, &t.url).await;
                t.cleanup().await;
            }

            #[tokio::test]
            async fn postgres() {
                let Some(t) = concordat_store::testing::TestStore::postgres().await else { return };
                super::$name(&t.store, &t.url).await;
                t.cleanup().await;
            }
        }
    )*};
}

on_both_engines!(
    init_creates_the_first_administrator_once,
    users_are_added_listed_and_disabled,
    sign_in_policy_and_totp_reset,
    org_sso_set_show_remove,
    tokens_are_issued_and_revoked,
    audit_verify_reports_the_first_broken_entry,
    requests_are_decided_from_the_command_line_and_replayed,
    directions_are_refused_with_their_paragraph_or_drafted_and_issued,
    webhooks_are_added_listed_and_removed,
);

#[test]
fn a_bad_database_url_is_a_clear_error() {
    let run = concordat(
        &DatabaseUrl::Postgres("ftp://nowhere".into()),
        &["org", "list"],
    );
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("database URL"), "{}", run.stderr);
}

/// The README's first command: `concordat demo` answers health checks within seconds and
/// the printed credentials sign in.
#[tokio::test]
async fn the_demo_serves_and_its_printed_credentials_sign_in() {
    let dir = tempfile::tempdir().expect("folder");
    let mut child = Command::new(env!("CARGO_BIN_EXE_concordat"))
        .args([
            "demo",
            "--port",
            "0",
            "--metrics-listen",
            "off",
            "--data-dir",
        ])
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("demo starts");
    let stdout = child.stdout.take().expect("stdout");
    let lines: Vec<String> = tokio::task::spawn_blocking(move || {
        let mut lines = vec![];
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("a line");
            let done = line.starts_with("Press Ctrl-C");
            lines.push(line);
            if done {
                break;
            }
        }
        lines
    })
    .await
    .expect("read");
    let url = lines
        .iter()
        .find_map(|l| l.strip_prefix("Concordat demo is running: "))
        .expect("the URL is printed")
        .trim()
        .trim_end_matches('/')
        .to_owned();
    let (username, password) = lines
        .iter()
        .find_map(|l| {
            let mut words = l.split_whitespace();
            (words.next() == Some("mps.tasking"))
                .then(|| ("mps.tasking", words.next().expect("password").to_owned()))
        })
        .expect("credentials are printed");
    // reqwest is built with TLS that needs its crypto provider chosen (see the server).
    concordat_server::install_tls_provider();
    let client = reqwest::Client::new();
    let health = client
        .get(format!("{url}/healthz"))
        .send()
        .await
        .expect("answers");
    assert_eq!(health.status(), 200);
    let signed_in = client
        .post(format!("{url}/api/v1/session"))
        .json(&serde_json::json!({ "username": username, "password": password }))
        .send()
        .await
        .expect("answers");
    assert_eq!(signed_in.status(), 201);
    // The demo's planned activity: HMRC's controlled delivery clashes with TITAN's
    // surveillance on the A6, and HMRC's officer sees it.
    let hmrc_password = lines
        .iter()
        .find_map(|l| {
            let mut words = l.split_whitespace();
            (words.next() == Some("hmrc.officer")).then(|| words.next().map(str::to_owned))
        })
        .flatten()
        .expect("hmrc.officer's credentials are printed");
    let hmrc = client
        .post(format!("{url}/api/v1/session"))
        .json(&serde_json::json!({ "username": "hmrc.officer", "password": hmrc_password }))
        .send()
        .await
        .expect("answers");
    assert_eq!(hmrc.status(), 201);
    let cookie = hmrc
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .expect("a session cookie")
        .to_owned();
    let clashes: serde_json::Value = client
        .get(format!("{url}/api/v1/clashes"))
        .header("cookie", cookie)
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("JSON");
    assert_eq!(clashes[0]["other"]["kind"], "surveillance", "{clashes}");
    // SIGTERM shuts it down cleanly.
    let pid = child.id().to_string();
    Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .expect("join")
        .expect("exits");
    assert!(status.success(), "{status:?}");
    assert!(dir.path().join("demo-credentials.txt").exists());
}

/// Runs the binary without a store (the linkage commands need none).
fn concordat_plain(args: &[&str]) -> Run {
    let output: Output = Command::new(env!("CARGO_BIN_EXE_concordat"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("the command runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The event benchmark prints the figures the issue names, as one JSON object.
#[test]
fn bench_events_prints_its_figures_as_json() {
    let out = concordat_plain(&[
        "bench",
        "events",
        "--records",
        "2000",
        "--checks",
        "200",
        "--json",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let figures: serde_json::Value =
        serde_json::from_str(out.stdout.trim()).expect("one JSON object");
    assert_eq!(figures["records"], 2000);
    assert_eq!(figures["checks"], 200);
    for key in [
        "check_p50_ms",
        "check_p99_ms",
        "ingest_per_s",
        "clashes_per_check",
    ] {
        assert!(figures[key].is_number(), "{key} missing: {figures}");
    }
    let none = concordat_plain(&["bench", "events", "--records", "0"]);
    assert_ne!(none.code, 0);
    assert!(none.stderr.contains("--records"), "{}", none.stderr);
}

/// An analyst deduplicates a people file with a broken row, then links two files
/// whose columns have other names.
#[test]
fn dedupe_reports_bad_rows_by_line_and_link_maps_columns() {
    let dir = tempfile::tempdir().expect("temp dir");
    let people = dir.path().join("people.csv");
    std::fs::write(
        &people,
        "id,given_name,surname,date_of_birth,sex,postcode,phone\n\
         1,William,Thompson,1984-06-12,M,M1 1AE,07700 900123\n\
         2,Bill,Thompsen,12/06/1984,M,m11ae,+44 7700 900123\n\
         3,Mary,Jones,19700101,F,LS1 4AP,\n\
         4,broken,row\n\
         5,Ann,Lee,31/02/1990,F,B33 8TH,\n",
    )
    .expect("written");
    let pairs = dir.path().join("pairs.csv");
    let out = concordat_plain(&[
        "dedupe",
        "--input",
        people.to_str().expect("utf-8 path"),
        "--output",
        pairs.to_str().expect("utf-8 path"),
        "--explain",
    ]);
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    assert!(out.stderr.contains("line 5"), "{}", out.stderr);
    assert!(
        out.stderr.contains("3 fields where the header has 7"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("line 6") && out.stderr.contains("31/02/1990"),
        "{}",
        out.stderr
    );
    let written = std::fs::read_to_string(&pairs).expect("pairs written");
    let mut lines = written.lines();
    assert_eq!(
        lines.next(),
        Some("left_id,right_id,probability,weight,explanation")
    );
    let pair = lines.next().expect("one pair");
    assert!(pair.starts_with("1,2,"), "{written}");
    assert!(pair.contains("given-name=nickname"), "{pair}");
    assert_eq!(lines.next(), None, "{written}");

    // --strict fails on the same file.
    let strict = concordat_plain(&[
        "dedupe",
        "--input",
        people.to_str().expect("utf-8 path"),
        "--output",
        "-",
        "--strict",
    ]);
    assert_ne!(strict.code, 0);

    let left = dir.path().join("a.csv");
    let right = dir.path().join("b.csv");
    std::fs::write(
        &left,
        "rec,first,last,dob,suburb,state,ssn\n\
         a1,mitchell,green,19560409,cleveland,sa,1804974\n\
         a2,harley,mccarthy,19080419,marsden,nsw,6089216\n",
    )
    .expect("written");
    std::fs::write(
        &right,
        "rec,first,last,dob,suburb,state,ssn\n\
         b1,harley,maccarthy,19080419,marsden,nsw,6089216\n\
         b2,zoe,green,20010101,perth,wa,9999999\n",
    )
    .expect("written");
    let out = concordat_plain(&[
        "link",
        "--left",
        left.to_str().expect("utf-8 path"),
        "--right",
        right.to_str().expect("utf-8 path"),
        "--output",
        "-",
        "--columns",
        "id=rec,given_name=first,surname=last,date_of_birth=dob,town=suburb,county=state,national_id=ssn",
    ]);
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    let mut lines = out.stdout.lines();
    assert_eq!(lines.next(), Some("left_id,right_id,probability"));
    let pair = lines.next().expect("one link");
    assert!(pair.starts_with("a2,b1,"), "{}", out.stdout);
    assert_eq!(lines.next(), None, "{}", out.stdout);

    // A mapping to a column the file does not have is an error that names it.
    let bad = concordat_plain(&[
        "link",
        "--left",
        left.to_str().expect("utf-8 path"),
        "--right",
        right.to_str().expect("utf-8 path"),
        "--output",
        "-",
        "--columns",
        "town=nowhere",
    ]);
    assert_ne!(bad.code, 0);
    assert!(bad.stderr.contains("nowhere"), "{}", bad.stderr);
}
