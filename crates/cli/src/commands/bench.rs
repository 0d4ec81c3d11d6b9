//! `concordat bench`: how fast the deconfliction engine and the event index are, and
//! how accurate the matching is.

use super::linkage::{Bar, Mapping, read_people};
use anyhow::Context;
use clap::{Args, Subcommand};
use concordat_matching::events::{Activity, EventIndex, LatLon};
use concordat_matching::{
    AddressValue, Engine, EngineConfig, Name, Person, Record, Sex, dedupe, link,
};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Register N people, then time online checks against them; prints ingest rate,
    /// check latency, memory per record and rebuild time.
    #[command(after_help = "Example:\n  concordat bench deconfliction --records 1000000 --json")]
    Deconfliction(DeconflictionArgs),
    /// Run the FEBRL and synthetic data sets against their truth: precision, recall,
    /// F1 and time.
    #[command(
        after_help = "Example:\n  concordat bench accuracy --data ../shared/data --sets febrl3,febrl4"
    )]
    Accuracy(AccuracyArgs),
    /// Fill the store named by --database-url with N generated registrations (if it
    /// holds fewer), then time the server's start-up rebuild of the matching index from
    /// it. Use a scratch store: `--database-url sqlite:///tmp/bench.db`.
    #[command(
        after_help = "Example:\n  concordat bench rebuild --records 1000000 --database-url sqlite:///tmp/bench.db --json"
    )]
    Rebuild(RebuildArgs),
    /// Plan N generated activities (a year of them across the UK, most in cities) into
    /// the spatial-temporal index, then time clash checks against it as the server
    /// makes them: index search, geodesic distance and the clash rule.
    #[command(after_help = "Example:\n  concordat bench events --records 1000000 --json")]
    Events(EventsArgs),
    /// Fill the store named by --database-url with a year of generated planned activity
    /// across the UK (to N activities, half before today and half after, if it holds
    /// fewer), then time the national daily pack for a national 24/7 watch officer, who
    /// sees all of it. Use a scratch store: `--database-url sqlite:///tmp/briefing.db`.
    #[command(
        after_help = "Example:\n  concordat bench briefing --records 100000 --database-url sqlite:///tmp/briefing.db --json"
    )]
    Briefing(BriefingArgs),
}

#[derive(Debug, Args)]
pub struct BriefingArgs {
    /// How many planned activities the store should hold.
    #[arg(long, default_value_t = 100_000)]
    records: usize,
    /// How many packs to time.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Print one JSON object instead of lines of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct EventsArgs {
    /// How many planned activities to index.
    #[arg(long, default_value_t = 1_000_000)]
    records: usize,
    /// How many checks to time.
    #[arg(long, default_value_t = 10_000)]
    checks: usize,
    /// Print one JSON object instead of lines of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct RebuildArgs {
    /// How many registrations the store should hold.
    #[arg(long, default_value_t = 1_000_000)]
    records: usize,
    /// Print one JSON object instead of lines of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct DeconflictionArgs {
    /// How many people to register (generated, or the first N of --input).
    #[arg(long, default_value_t = 1_000_000)]
    records: usize,
    /// A people file to register instead of generated people (columns as for dedupe).
    #[arg(long, value_name = "FILE.csv")]
    input: Option<PathBuf>,
    /// Column mapping for --input, as for dedupe.
    #[arg(long, value_delimiter = ',')]
    columns: Vec<String>,
    /// How many checks to time.
    #[arg(long, default_value_t = 10_000)]
    checks: usize,
    /// Print one JSON object instead of lines of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct AccuracyArgs {
    /// The shared data folder (with febrl/ and synthetic/).
    #[arg(long, default_value = "../shared/data")]
    data: PathBuf,
    /// Which sets: febrl3, febrl4, synthetic-100k, synthetic-1m.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "febrl3,febrl4,synthetic-100k,synthetic-1m"
    )]
    sets: Vec<String>,
    /// Count pairs at or above this probability.
    #[arg(long, default_value_t = 0.5)]
    threshold: f64,
    /// Print one JSON object per set.
    #[arg(long)]
    json: bool,
}

pub async fn run(global: &super::Global, command: BenchCommand) -> anyhow::Result<ExitCode> {
    match command {
        BenchCommand::Deconfliction(args) => deconfliction(args),
        BenchCommand::Accuracy(args) => accuracy(args),
        BenchCommand::Rebuild(args) => rebuild(global, args).await,
        BenchCommand::Events(args) => events(args),
        BenchCommand::Briefing(args) => briefing(global, args).await,
    }
}

/// Fills a store with registrations and times the index rebuild the server does at
/// start-up: reading every live registration page by page, parsing its record,
/// inserting it, and re-estimating the model.
async fn rebuild(global: &super::Global, args: RebuildArgs) -> anyhow::Result<ExitCode> {
    use concordat_domain::deconfliction::{ContactDetail, ContactName, Disclosure, PointOfContact};
    use concordat_domain::registry::OrgCode;
    use concordat_domain::time::Timestamp;
    let store = super::open_store(global).await?;
    super::init::load_reference_data(&store).await?;
    let now = Timestamp::now();
    let held = usize::try_from(store.count_live_registrations(now).await?).unwrap_or(0);
    if held < args.records {
        let owner = bench_user(&store).await?;
        let people = synthetic_people(args.records - held, 0xD15C);
        let bar = Bar::new();
        let total = people.len() as u64;
        let contact = PointOfContact {
            name: ContactName::parse("Benchmark")?,
            detail: ContactDetail::parse("none")?,
        };
        let orgs: Vec<OrgCode> = ["kent", "essex", "mps", "west-midlands", "hmrc"]
            .into_iter()
            .map(OrgCode::parse)
            .collect::<Result<_, _>>()?;
        let started = Instant::now();
        for (chunk_no, chunk) in people.chunks(10_000).enumerate() {
            let mut tx = store.write().await?;
            for (i, person) in chunk.iter().enumerate() {
                tx.insert_registration(&concordat_store::NewRegistration {
                    organisation: orgs[(chunk_no * 10_000 + i) % orgs.len()].clone(),
                    kind: "person".to_owned(),
                    record: serde_json::to_string(person)?,
                    operation: None,
                    operation_reference: None,
                    point_of_contact: contact.clone(),
                    disclosure: Disclosure::Open,
                    registered_by: owner,
                    expires_at: now.plus(chrono::Duration::days(730)),
                })
                .await?;
            }
            tx.commit(concordat_domain::audit::AuditEntry::new(
                super::actor("bench rebuild"),
                "bench.fill",
            ))
            .await?;
            bar.step("filling", ((chunk_no * 10_000) + chunk.len()) as u64, total);
        }
        bar.finish();
        eprintln!(
            "filled {} registrations in {:.1} s",
            people.len(),
            started.elapsed().as_secs_f64()
        );
    }
    let index = concordat_server::deconfliction::Deconfliction::new(EngineConfig::default());
    let bar = Bar::new();
    let started = Instant::now();
    let count = index
        .rebuild(&store, |done, total| bar.step("rebuilding", done, total))
        .await
        .map_err(super::describe)?;
    let rebuild_s = started.elapsed().as_secs_f64();
    bar.finish();
    store.close().await;
    let out = serde_json::json!({
        "engine": store.engine().to_string(),
        "records": count,
        "rebuild_s": round3(rebuild_s),
    });
    if args.json {
        println!("{out}");
    } else {
        println!("rebuilt the index of {count} registrations from the store in {rebuild_s:.2} s");
    }
    Ok(ExitCode::SUCCESS)
}

/// The user the benchmark's registrations are made by.
async fn bench_user(
    store: &concordat_store::Store,
) -> anyhow::Result<concordat_domain::people::UserId> {
    bench_person(
        store,
        "bench.registrar",
        &[concordat_domain::people::Role::CaseOfficer],
    )
    .await
}

/// The benchmark person `username` of the national agency with `roles`, made if missing.
async fn bench_person(
    store: &concordat_store::Store,
    username: &str,
    roles: &[concordat_domain::people::Role],
) -> anyhow::Result<concordat_domain::people::UserId> {
    use concordat_domain::people::{Clearance, DgAuthority, DisplayName, Roles, Username};
    let name = Username::parse(username)?;
    if let Some(found) = store.user_by_username(&name).await? {
        return Ok(found.user.id);
    }
    let mut tx = store.write().await?;
    let user = tx
        .insert_user(&concordat_store::NewUser {
            username: name,
            display_name: DisplayName::parse(username)?,
            organisation: concordat_domain::registry::OrgCode::parse("nca")?,
            roles: Roles::new(roles.iter().copied())?,
            clearance: Clearance::Sc,
            dg_authority: DgAuthority::None,
            password_hash: "!disabled".to_owned(),
            must_change_password: false,
        })
        .await?;
    tx.commit(concordat_domain::audit::AuditEntry::new(
        super::actor("bench rebuild"),
        "user.create",
    ))
    .await?;
    Ok(user.id)
}

/// Times ingest, checks and rebuild.
///
/// Memory per record is the engine's own accounting of its heap (`Engine::heap_bytes`:
/// every container counted by capacity, not length) divided by the records
/// registered; a counting global allocator would need `unsafe`, which the workspace
/// forbids. `rebuild_s` is the time to build a new engine from records already in
/// memory (a `Vec`) and retrain it, as the service does at start-up; reading the
/// records from the store is not included.
fn deconfliction(args: DeconflictionArgs) -> anyhow::Result<ExitCode> {
    let records: Vec<Record> = match &args.input {
        Some(path) => {
            let mapping = Mapping::parse(&args.columns)?;
            let input = read_people(path, &mapping)?;
            input
                .records
                .into_iter()
                .take(args.records)
                .map(|r| r.1)
                .collect()
        }
        None => synthetic_people(args.records, 0xC0DE),
    };
    let n = records.len();
    anyhow::ensure!(n > 0, "no records to register");
    let config = EngineConfig::default();

    let started = Instant::now();
    let mut engine = Engine::new(config.clone());
    for (i, r) in records.iter().enumerate() {
        engine.insert(i as u64, r);
    }
    let ingest_s = started.elapsed().as_secs_f64();
    let started = Instant::now();
    engine.retrain();
    let retrain_s = started.elapsed().as_secs_f64();
    let heap = engine.heap_bytes();

    // Queries: half are registered people with a typing slip, half are new people.
    let fresh = synthetic_people(args.checks.div_ceil(2), 0xFEED);
    let mut rng = Rng(0xBEEF);
    let mut queries: Vec<Record> = Vec::with_capacity(args.checks);
    for i in 0..args.checks {
        if i % 2 == 0 {
            let r = &records[rng.below(n)];
            queries.push(slip(r, &mut rng));
        } else {
            queries.push(fresh[i / 2].clone());
        }
    }
    let mut times: Vec<f64> = Vec::with_capacity(queries.len());
    let mut hits = 0usize;
    for q in &queries {
        let t = Instant::now();
        let found = engine.check(q, &|_| false);
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        hits += found.len();
    }
    times.sort_by(f64::total_cmp);
    let pct = |p: f64| times[((times.len() as f64 - 1.0) * p).round() as usize];
    let (p50, p99, max) = (pct(0.5), pct(0.99), pct(1.0));
    drop(engine);

    let started = Instant::now();
    let mut rebuilt = Engine::new(config);
    for (i, r) in records.iter().enumerate() {
        rebuilt.insert(i as u64, r);
    }
    rebuilt.retrain();
    let rebuild_s = started.elapsed().as_secs_f64();
    drop(rebuilt);

    let out = serde_json::json!({
        "records": n,
        "ingest_per_s": (n as f64 / ingest_s).round(),
        "retrain_s": round3(retrain_s),
        "checks": times.len(),
        "check_p50_ms": round3(p50),
        "check_p99_ms": round3(p99),
        "check_max_ms": round3(max),
        "hits_per_check": round3(hits as f64 / times.len().max(1) as f64),
        "bytes_per_record": (heap as f64 / n as f64).round(),
        "rebuild_s": round3(rebuild_s),
    });
    if args.json {
        println!("{out}");
    } else if let Some(map) = out.as_object() {
        for (k, v) in map {
            println!("{k:>16}: {v}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A year of generated planned activity across the UK: two in three in 40 city centres
/// (spread over a few kilometres), the rest anywhere between Land's End and Caithness;
/// windows of one to eight hours starting at any time of the year; positions accurate
/// to between 0 and 200 m. Fixed seed, so runs compare.
/// The year the events benchmark plans into: 2027-01-01T00:00:00Z.
const YEAR_START: i64 = 1_798_761_600_000_000;

fn generated_activity(n: usize, start: i64, rng: &mut Rng) -> Vec<(u64, Activity, String)> {
    const YEAR_US: u64 = 365 * 24 * 3_600_000_000;
    const HOUR_US: u64 = 3_600_000_000;
    let cities: Vec<(f64, f64)> = (0..40)
        .map(|_| (50.4 + rng.unit() * 5.5, -4.5 + rng.unit() * 5.0))
        .collect();
    let orgs = [
        "mps",
        "west-midlands",
        "greater-manchester",
        "kent",
        "nca",
        "hmrc",
    ];
    (0..n)
        .map(|i| {
            let (lat, lon) = if rng.below(3) < 2 {
                let (clat, clon) = cities[rng.below(cities.len())];
                (
                    clat + (rng.unit() - 0.5) * 0.06,
                    clon + (rng.unit() - 0.5) * 0.1,
                )
            } else {
                (50.0 + rng.unit() * 8.5, -5.7 + rng.unit() * 7.4)
            };
            let starts = start + (rng.next() % YEAR_US) as i64;
            let ends = starts + (HOUR_US + rng.next() % (7 * HOUR_US)) as i64;
            let activity = Activity {
                at: LatLon { lat, lon },
                reach_m: (rng.below(201)) as f64,
                starts,
                ends,
            };
            (i as u64, activity, orgs[rng.below(orgs.len())].to_owned())
        })
        .collect()
}

/// Times clash checks against a year of planned activity held in the index.
fn events(args: EventsArgs) -> anyhow::Result<ExitCode> {
    use concordat_domain::events::ClashRules;
    let n = args.records;
    anyhow::ensure!(n > 0, "--records: give at least 1");
    let rules = ClashRules::default();
    let bar = Bar::new();
    let mut rng = Rng(0xE7E7);
    let activities = generated_activity(n, YEAR_START, &mut rng);
    let mut index = EventIndex::new();
    let mut orgs: Vec<String> = Vec::with_capacity(n);
    for (i, (id, activity, org)) in activities.iter().enumerate() {
        index.insert(*id, *activity);
        orgs.push(org.clone());
        if i % 10_000 == 0 {
            bar.step("indexing", i as u64, n as u64);
        }
    }
    let ingest_s = bar.finish();
    let started = Instant::now();
    let bulk = EventIndex::bulk(activities.iter().map(|(id, a, _)| (*id, *a)));
    let bulk_s = started.elapsed().as_secs_f64();
    drop(bulk);

    // Each check: a new activity planned where and when another is (a clash likely),
    // or anywhere at any time (usually none).
    let margin = rules.margin().as_micros() as i64;
    let fresh = generated_activity(args.checks, YEAR_START, &mut Rng(0xFACE));
    let mut times = Vec::with_capacity(args.checks);
    let mut clashes = 0usize;
    for (i, (_, new, org)) in fresh.iter().enumerate() {
        let query = if i % 2 == 0 {
            let (_, near, _) = &activities[rng.below(n)];
            Activity {
                at: LatLon {
                    lat: near.at.lat + 0.001,
                    lon: near.at.lon,
                },
                ..*near
            }
        } else {
            *new
        };
        let t = Instant::now();
        let found = index.within(
            query.at,
            f64::from(rules.distance_m) + query.reach_m,
            query.starts - margin,
            query.ends + margin,
            |id| orgs[id as usize] == *org,
        );
        clashes += found.len();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    let pct = |p: f64| times[((times.len() as f64 - 1.0) * p).round() as usize];
    let out = serde_json::json!({
        "records": n,
        "ingest_per_s": (n as f64 / ingest_s.max(f64::EPSILON)).round(),
        "bulk_load_s": round3(bulk_s),
        "checks": times.len(),
        "check_p50_ms": round3(pct(0.5)),
        "check_p99_ms": round3(pct(0.99)),
        "check_max_ms": round3(pct(1.0)),
        "clashes_per_check": round3(clashes as f64 / times.len().max(1) as f64),
        "distance_m": rules.distance_m,
        "margin_minutes": rules.margin_minutes,
    });
    if args.json {
        println!("{out}");
    } else if let Some(map) = out.as_object() {
        for (k, v) in map {
            println!("{k:>18}: {v}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Runs each data set against its truth.
fn accuracy(args: AccuracyArgs) -> anyhow::Result<ExitCode> {
    let config = EngineConfig {
        threshold: args.threshold,
        ..EngineConfig::default()
    };
    for set in &args.sets {
        let result = match set.as_str() {
            "febrl3" => febrl3(&args.data, &config)?,
            "febrl4" => febrl4(&args.data, &config)?,
            "synthetic-100k" => {
                synthetic(&args.data.join("synthetic/persons_100k.csv.gz"), &config)?
            }
            "synthetic-1m" => synthetic(&args.data.join("synthetic/persons_1m.csv.gz"), &config)?,
            other => anyhow::bail!(
                "--sets: unknown set {other:?} (febrl3, febrl4, synthetic-100k, synthetic-1m)"
            ),
        };
        let out = serde_json::json!({
            "set": set,
            "records": result.records,
            "true_pairs": result.truth,
            "found_pairs": result.found,
            "true_positives": result.true_positives,
            "precision": round4(result.precision()),
            "recall": round4(result.recall()),
            "f1": round4(result.f1()),
            "seconds": round3(result.seconds),
        });
        if args.json {
            println!("{out}");
        } else {
            println!(
                "{set:>15}: precision {:.4}  recall {:.4}  F1 {:.4}  ({} found, {} true, {} records, {:.1} s)",
                result.precision(),
                result.recall(),
                result.f1(),
                result.found,
                result.truth,
                result.records,
                result.seconds
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

struct Score {
    records: usize,
    truth: usize,
    found: usize,
    true_positives: usize,
    seconds: f64,
}

impl Score {
    fn precision(&self) -> f64 {
        self.true_positives as f64 / self.found.max(1) as f64
    }
    fn recall(&self) -> f64 {
        self.true_positives as f64 / self.truth.max(1) as f64
    }
    fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
}

fn febrl_mapping() -> anyhow::Result<Mapping> {
    Mapping::parse(&[
        "town=suburb".to_owned(),
        "county=state".to_owned(),
        "national_id=soc_sec_id".to_owned(),
    ])
}

fn unordered(a: &str, b: &str) -> (String, String) {
    if a <= b {
        (a.to_owned(), b.to_owned())
    } else {
        (b.to_owned(), a.to_owned())
    }
}

fn read_truth(path: &Path, ordered: bool) -> anyhow::Result<HashSet<(String, String)>> {
    read_truth_from(super::linkage::open(path)?)
        .map(|pairs| {
            pairs
                .into_iter()
                .map(|(a, b)| if ordered { (a, b) } else { unordered(&a, &b) })
                .collect()
        })
        .with_context(|| path.display().to_string())
}

/// The pairs of a truth file (a header, then two ids a row), in file order.
pub(super) fn read_truth_from(source: impl std::io::Read) -> anyhow::Result<Vec<(String, String)>> {
    let mut reader = csv::Reader::from_reader(source);
    let mut out = Vec::new();
    for row in reader.records() {
        let row = row.map_err(row_error)?;
        let (a, b) = (row.get(0).unwrap_or(""), row.get(1).unwrap_or(""));
        out.push((a.to_owned(), b.to_owned()));
    }
    Ok(out)
}

/// The rows of each cluster of a synthetic file (`rec_id` and `cluster_id` columns).
pub(super) fn read_clusters(
    source: impl std::io::Read,
) -> anyhow::Result<HashMap<String, Vec<String>>> {
    let mut reader = csv::Reader::from_reader(source);
    let headers = reader.headers().map_err(row_error)?.clone();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let (Some(id_col), Some(cluster_col)) = (col("rec_id"), col("cluster_id")) else {
        anyhow::bail!("needs rec_id and cluster_id columns");
    };
    let mut clusters: HashMap<String, Vec<String>> = HashMap::new();
    for row in reader.records() {
        let row = row.map_err(row_error)?;
        if let (Some(id), Some(c)) = (row.get(id_col), row.get(cluster_col)) {
            clusters
                .entry(c.to_owned())
                .or_default()
                .push(id.to_owned());
        }
    }
    Ok(clusters)
}

/// A CSV error as "line N: what is wrong".
fn row_error(e: csv::Error) -> anyhow::Error {
    match e.position() {
        Some(p) => anyhow::anyhow!(
            "line {}: {}",
            p.line(),
            super::linkage::describe_csv_error(&e)
        ),
        None => anyhow::Error::new(e),
    }
}

fn febrl3(data: &Path, config: &EngineConfig) -> anyhow::Result<Score> {
    let input = read_people(&data.join("febrl/febrl3.csv"), &febrl_mapping()?)?;
    let truth = read_truth(&data.join("febrl/febrl3_truth.csv"), false)?;
    let bar = Bar::new();
    let pairs = dedupe(&input.records, config, &|p| bar.update(p));
    let seconds = bar.finish();
    let r = &input.records;
    let found: HashSet<_> = pairs
        .iter()
        .map(|(i, j, _)| unordered(&r[*i].0, &r[*j].0))
        .collect();
    Ok(score(r.len(), &truth, &found, seconds))
}

fn febrl4(data: &Path, config: &EngineConfig) -> anyhow::Result<Score> {
    let mapping = febrl_mapping()?;
    let left = read_people(&data.join("febrl/febrl4a.csv"), &mapping)?;
    let right = read_people(&data.join("febrl/febrl4b.csv"), &mapping)?;
    let truth = read_truth(&data.join("febrl/febrl4_truth.csv"), true)?;
    let bar = Bar::new();
    let pairs = link(&left.records, &right.records, config, &|p| bar.update(p));
    let seconds = bar.finish();
    let found: HashSet<_> = pairs
        .iter()
        .map(|(i, j, _)| (left.records[*i].0.clone(), right.records[*j].0.clone()))
        .collect();
    Ok(score(
        left.records.len() + right.records.len(),
        &truth,
        &found,
        seconds,
    ))
}

fn synthetic(path: &Path, config: &EngineConfig) -> anyhow::Result<Score> {
    let started = Instant::now();
    let mapping = Mapping::parse(&["id=rec_id".to_owned(), "address_1=street".to_owned()])?;
    let input = read_people(path, &mapping)?;
    // Truth: rows sharing a cluster_id.
    let clusters =
        read_clusters(super::linkage::open(path)?).with_context(|| path.display().to_string())?;
    let mut truth = HashSet::new();
    for ids in clusters.values() {
        for (x, a) in ids.iter().enumerate() {
            for b in &ids[x + 1..] {
                truth.insert(unordered(a, b));
            }
        }
    }
    let bar = Bar::new();
    let pairs = dedupe(&input.records, config, &|p| bar.update(p));
    bar.finish();
    let seconds = started.elapsed().as_secs_f64();
    let r = &input.records;
    let found: HashSet<_> = pairs
        .iter()
        .map(|(i, j, _)| unordered(&r[*i].0, &r[*j].0))
        .collect();
    Ok(score(r.len(), &truth, &found, seconds))
}

fn score(
    records: usize,
    truth: &HashSet<(String, String)>,
    found: &HashSet<(String, String)>,
    seconds: f64,
) -> Score {
    Score {
        records,
        truth: truth.len(),
        found: found.len(),
        true_positives: found.intersection(truth).count(),
        seconds,
    }
}

/// A small deterministic generator (SplitMix64), so the same people every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// A number in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next()) * n as u128) >> 64) as usize
    }
    /// An index skewed towards the front of a list (common names are common).
    fn skewed(&mut self, n: usize) -> usize {
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        ((n as f64).powf(u) - 1.0) as usize % n.max(1)
    }
    fn pick<'a>(&mut self, list: &[&'a str]) -> &'a str {
        list[self.skewed(list.len())]
    }
}

const GIVEN_F: &[&str] = &[
    "Sarah",
    "Emma",
    "Laura",
    "Lisa",
    "Claire",
    "Rebecca",
    "Amy",
    "Jessica",
    "Hannah",
    "Charlotte",
    "Sophie",
    "Emily",
    "Olivia",
    "Lucy",
    "Katie",
    "Rachel",
    "Helen",
    "Nicola",
    "Karen",
    "Susan",
    "Margaret",
    "Elizabeth",
    "Mary",
    "Patricia",
    "Julie",
    "Joanne",
    "Victoria",
    "Amelia",
    "Isla",
    "Ava",
    "Mia",
    "Grace",
    "Zoe",
    "Chloe",
    "Megan",
    "Ellie",
    "Jade",
    "Fatima",
    "Aisha",
    "Priya",
    "Agnieszka",
    "Siobhan",
    "Eilidh",
    "Niamh",
    "Ffion",
    "Bethan",
    "Yasmin",
    "Leah",
    "Gemma",
    "Kelly",
];
const GIVEN_M: &[&str] = &[
    "David",
    "Paul",
    "John",
    "James",
    "Michael",
    "Mark",
    "Andrew",
    "Richard",
    "Daniel",
    "Thomas",
    "Christopher",
    "Matthew",
    "Robert",
    "Stephen",
    "Peter",
    "William",
    "Jack",
    "Oliver",
    "Harry",
    "George",
    "Noah",
    "Leo",
    "Charlie",
    "Jacob",
    "Alfie",
    "Ryan",
    "Liam",
    "Connor",
    "Callum",
    "Mohammed",
    "Muhammad",
    "Ali",
    "Arjun",
    "Tomasz",
    "Piotr",
    "Sean",
    "Ciaran",
    "Ewan",
    "Rhys",
    "Gareth",
    "Dylan",
    "Kieran",
    "Lewis",
    "Jamie",
    "Scott",
    "Craig",
    "Gary",
    "Kevin",
    "Ian",
    "Alan",
];
const SURNAMES: &[&str] = &[
    "Smith",
    "Jones",
    "Williams",
    "Brown",
    "Taylor",
    "Davies",
    "Wilson",
    "Evans",
    "Thomas",
    "Johnson",
    "Roberts",
    "Walker",
    "Wright",
    "Robinson",
    "Thompson",
    "White",
    "Hughes",
    "Edwards",
    "Green",
    "Hall",
    "Wood",
    "Harris",
    "Lewis",
    "Martin",
    "Jackson",
    "Clarke",
    "Clark",
    "Turner",
    "Hill",
    "Scott",
    "Cooper",
    "Morris",
    "Ward",
    "Moore",
    "King",
    "Watson",
    "Baker",
    "Harrison",
    "Morgan",
    "Patel",
    "Young",
    "Allen",
    "Mitchell",
    "James",
    "Anderson",
    "Phillips",
    "Lee",
    "Bell",
    "Parker",
    "Davis",
    "Khan",
    "Ahmed",
    "Ali",
    "Hussain",
    "Begum",
    "Singh",
    "Kaur",
    "Murphy",
    "Kelly",
    "Campbell",
    "Stewart",
    "Macdonald",
    "McLean",
    "Reid",
    "Murray",
    "Kowalski",
    "Nowak",
    "O'Brien",
    "O'Neill",
    "Byrne",
    "Doyle",
    "Chen",
    "Wang",
    "Nguyen",
    "Okafor",
    "Mensah",
    "Owusu",
];
const SYLLABLES: &[&str] = &[
    "ash", "brook", "cal", "dun", "el", "fair", "gold", "har", "ing", "kel", "lan", "mar", "nor",
    "ock", "pen", "ran", "stan", "thorn", "wick", "wood", "ley", "ton", "field", "by", "worth",
    "ham", "ford", "well", "more", "shaw",
];
const STREETS: &[&str] = &[
    "High Street",
    "Station Road",
    "Church Lane",
    "Main Street",
    "Park Road",
    "Victoria Road",
    "Green Lane",
    "Manor Road",
    "Church Street",
    "Park Avenue",
    "Queens Road",
    "New Road",
    "Grange Road",
    "Kings Road",
    "Mill Lane",
    "School Lane",
    "The Avenue",
    "London Road",
    "York Road",
    "Windsor Road",
    "Orchard Close",
    "Springfield Road",
    "Albert Street",
];
const TOWNS: &[&str] = &[
    "London",
    "Birmingham",
    "Manchester",
    "Leeds",
    "Glasgow",
    "Sheffield",
    "Bradford",
    "Liverpool",
    "Edinburgh",
    "Bristol",
    "Cardiff",
    "Leicester",
    "Coventry",
    "Belfast",
    "Nottingham",
    "Hull",
    "Newcastle",
    "Stoke",
    "Southampton",
    "Derby",
    "Portsmouth",
    "Plymouth",
    "Wolverhampton",
];

/// Deterministic UK-style people: realistic name frequencies (a skewed pick from
/// common names, and a long tail of made-up surnames), dates of birth 1930–2015,
/// addresses with valid-looking postcodes, mobile numbers.
pub fn synthetic_people(n: usize, seed: u64) -> Vec<Record> {
    let mut rng = Rng(seed);
    let letters = b"ABCDEFGHJKLMNOPRSTUWYZ";
    (0..n)
        .map(|_| {
            let female = rng.below(2) == 0;
            let given = if female {
                rng.pick(GIVEN_F)
            } else {
                rng.pick(GIVEN_M)
            };
            let surname = if rng.below(3) == 0 {
                rng.pick(SURNAMES).to_owned()
            } else {
                let mut s = String::new();
                for _ in 0..2 + rng.below(2) {
                    s.push_str(SYLLABLES[rng.below(SYLLABLES.len())]);
                }
                let mut c = s.chars();
                c.next()
                    .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                    .unwrap_or_default()
            };
            let dob = format!(
                "{:04}-{:02}-{:02}",
                1930 + rng.below(86),
                1 + rng.below(12),
                1 + rng.below(28)
            );
            let l = |rng: &mut Rng| char::from(letters[rng.below(letters.len())]);
            let postcode = format!(
                "{}{}{} {}{}{}",
                l(&mut rng),
                l(&mut rng),
                1 + rng.below(29),
                rng.below(10),
                l(&mut rng),
                l(&mut rng)
            );
            Record::Person(Person {
                names: vec![Name::new(given, surname)],
                date_of_birth: Some(dob),
                sex: Some(if female { Sex::Female } else { Sex::Male }),
                addresses: vec![AddressValue {
                    number: (1 + rng.below(200)).to_string(),
                    lines: vec![rng.pick(STREETS).to_owned()],
                    town: rng.pick(TOWNS).to_owned(),
                    county: String::new(),
                    postcode,
                }],
                phones: if rng.below(4) == 0 {
                    vec![]
                } else {
                    vec![format!(
                        "07{:03} {:06}",
                        rng.below(1000),
                        rng.below(1_000_000)
                    )]
                },
                emails: vec![],
                documents: vec![],
                national_ids: vec![],
            })
        })
        .collect()
}

/// The same person with one typing slip in the surname and the phone written in
/// international form.
fn slip(record: &Record, rng: &mut Rng) -> Record {
    let mut r = record.clone();
    if let Record::Person(p) = &mut r {
        if let Some(Name::Parts { surname, .. }) = p.names.first_mut()
            && surname.len() > 2
        {
            let i = 1 + rng.below(surname.len() - 2);
            if surname.is_char_boundary(i) && surname.is_char_boundary(i + 1) {
                surname.replace_range(i..i + 1, "x");
            }
        }
        for phone in &mut p.phones {
            *phone = format!("+44 {}", phone.trim_start_matches('0'));
        }
    }
    r
}

/// Times the national daily pack over a store holding a year of planned activity.
async fn briefing(global: &super::Global, args: BriefingArgs) -> anyhow::Result<ExitCode> {
    use concordat_domain::briefing::{PackWindow, Scope, london_date};
    use concordat_domain::deconfliction::{ContactDetail, ContactName, PointOfContact};
    use concordat_domain::events::{ActivityKind, ActivityTitle, Place, Position, TimeWindow};
    use concordat_domain::people::Role;
    use concordat_domain::registry::OrgCode;
    use concordat_domain::time::Timestamp;
    anyhow::ensure!(args.runs > 0, "--runs: give at least 1");
    let store = super::open_store(global).await?;
    super::init::load_reference_data(&store).await?;
    let held = usize::try_from(store.last_activity_change().await?).unwrap_or(0);
    if held < args.records {
        let planner = bench_user(&store).await?;
        let now = Timestamp::now();
        let mut rng = Rng(0xB81E);
        let start = now.plus(chrono::Duration::days(-182)).as_micros();
        let activities = generated_activity(args.records - held, start, &mut rng);
        let kinds = ActivityKind::ALL;
        let contact = PointOfContact {
            name: ContactName::parse("Benchmark")?,
            detail: ContactDetail::parse("none")?,
        };
        let title = ActivityTitle::parse("Generated activity")?;
        let bar = Bar::new();
        let total = activities.len() as u64;
        let started = Instant::now();
        for (chunk_no, chunk) in activities.chunks(10_000).enumerate() {
            let mut tx = store.write().await?;
            for (i, (_, a, org)) in chunk.iter().enumerate() {
                let at = |micros| {
                    Timestamp::from_micros(micros).context("a generated time is out of range")
                };
                tx.insert_activity(&concordat_store::NewActivity {
                    organisation: OrgCode::parse(org)?,
                    operation: None,
                    kind: kinds[(chunk_no * 10_000 + i) % kinds.len()],
                    title: title.clone(),
                    place: Place {
                        position: Position::new(a.at.lat, a.at.lon)?,
                        accuracy_m: a.reach_m as u32,
                        address: None,
                        postcode: None,
                    },
                    window: TimeWindow::new(at(a.starts)?, at(a.ends)?)?,
                    point_of_contact: contact.clone(),
                    covert: i % 5 == 0,
                    late_notice: false,
                    entered_by: planner,
                })
                .await?;
            }
            tx.commit(concordat_domain::audit::AuditEntry::new(
                super::actor("bench briefing"),
                "bench.fill",
            ))
            .await?;
            bar.step("filling", ((chunk_no * 10_000) + chunk.len()) as u64, total);
        }
        bar.finish();
        eprintln!(
            "filled {} planned activities in {:.1} s",
            activities.len(),
            started.elapsed().as_secs_f64()
        );
    }
    bench_person(
        &store,
        "bench.watch",
        &[Role::ControlRoom, Role::TaskingOfficer],
    )
    .await?;
    let state = concordat_server::AppState::new(
        store,
        concordat_server::ServerConfig::default(),
        super::rules(global)?,
    );
    let watch = concordat_server::auth::acting_as(&state, "bench.watch")
        .await
        .map_err(super::describe)?;
    let date = london_date(Timestamp::now());
    let window = PackWindow::for_date(date, state.config.briefing_at);
    let stored = state
        .store
        .activities_between(window.since, window.until)
        .await?
        .len();
    let bar = Bar::new();
    let mut times = Vec::with_capacity(args.runs);
    let mut items = 0;
    for run in 0..args.runs {
        let started = Instant::now();
        let pack = concordat_server::briefing::daily(&state, &watch, date, Scope::National)
            .await
            .map_err(super::describe)?;
        times.push(started.elapsed().as_secs_f64() * 1e3);
        items = pack.len();
        bar.step("packs", run as u64 + 1, args.runs as u64);
    }
    bar.finish();
    times.sort_by(f64::total_cmp);
    let held = state.store.last_activity_change().await?;
    state.store.close().await;
    let out = serde_json::json!({
        "engine": state.store.engine().to_string(),
        "records": held,
        "activities_in_window": stored,
        "items": items,
        "runs": args.runs,
        "pack_p50_ms": round3(times[times.len() / 2]),
        "pack_max_ms": round3(times[times.len() - 1]),
    });
    if args.json {
        println!("{out}");
    } else {
        println!(
            "national daily pack over {held} planned activities ({stored} in its 96 hours, {items} items): p50 {:.1} ms, max {:.1} ms",
            times[times.len() / 2],
            times[times.len() - 1]
        );
    }
    Ok(ExitCode::SUCCESS)
}
