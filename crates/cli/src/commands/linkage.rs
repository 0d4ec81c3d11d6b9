//! `concordat dedupe` and `concordat link`: batch record linkage of people in CSV
//! files, with the deconfliction engine's index and model.

use anyhow::Context;
use clap::Args;
use concordat_matching::{
    AddressValue, EngineConfig, Match, Name, Pair, Person, Progress, Record, Sex, Stage,
    normalise::Date,
};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// The columns a people file may have, by canonical name.
pub const CANONICAL: &[&str] = &[
    "id",
    "given_name",
    "surname",
    "full_name",
    "date_of_birth",
    "sex",
    "address",
    "street_number",
    "address_1",
    "address_2",
    "town",
    "county",
    "postcode",
    "phone",
    "email",
    "national_id",
    "document",
];

/// Options shared by `dedupe` and `link`.
#[derive(Debug, Args, Clone)]
pub struct LinkageOptions {
    /// Where to write the pairs (CSV: left_id,right_id,probability); `-` for standard output.
    #[arg(long, value_name = "PAIRS.csv")]
    pub output: PathBuf,
    /// Write pairs whose match probability is at least this (0 to 1).
    #[arg(long, default_value_t = 0.5)]
    pub threshold: f64,
    /// Add each pair's weight and per-field explanation (field=level:weight ...).
    #[arg(long)]
    pub explain: bool,
    /// Map or join columns: canonical=source[+source...], comma-separated, e.g.
    /// `town=suburb,county=state,national_id=soc_sec_id`.
    #[arg(long, value_name = "MAPPING", value_delimiter = ',')]
    pub columns: Vec<String>,
    /// Fail (exit 1) if any row is bad, instead of reporting it and going on.
    #[arg(long)]
    pub strict: bool,
}

/// `concordat dedupe`.
#[derive(Debug, Args)]
#[command(
    after_help = "Columns (by canonical name; others are ignored, any may be missing):\n  id, given_name, surname (or full_name), date_of_birth (ISO, dd/mm/yyyy or yyyymmdd), sex,\n  address (or street_number, address_1, address_2), town, county, postcode, phone, email,\n  national_id, document. Files may be gzip-compressed.\n\nExample:\n  concordat dedupe --input people.csv.gz --output pairs.csv --columns id=rec_id,address_1=street"
)]
pub struct DedupeArgs {
    /// The people file (CSV with a header row; .gz read as gzip).
    #[arg(long, value_name = "FILE.csv")]
    pub input: PathBuf,
    #[command(flatten)]
    pub options: LinkageOptions,
}

/// `concordat link`.
#[derive(Debug, Args)]
#[command(
    after_help = "Columns as for `concordat dedupe`; the same mapping applies to both files.\n\nExample:\n  concordat link --left a.csv --right b.csv --output pairs.csv \\\n    --columns town=suburb,county=state,national_id=soc_sec_id"
)]
pub struct LinkArgs {
    /// The first people file.
    #[arg(long, value_name = "A.csv")]
    pub left: PathBuf,
    /// The second people file.
    #[arg(long, value_name = "B.csv")]
    pub right: PathBuf,
    #[command(flatten)]
    pub options: LinkageOptions,
}

/// Runs `concordat dedupe`.
pub fn dedupe(args: DedupeArgs) -> anyhow::Result<ExitCode> {
    let opts = &args.options;
    let mapping = Mapping::parse(&opts.columns)?;
    let input = read_people(&args.input, &mapping)?;
    let problems = input.report(&args.input);
    if input.records.is_empty() {
        anyhow::bail!("{}: no record could be read", args.input.display());
    }
    let config = config(opts.threshold)?;
    let bar = Bar::new();
    let pairs = concordat_matching::dedupe(&input.records, &config, &|p| bar.update(p));
    bar.finish();
    write_pairs(
        &opts.output,
        &input.records,
        &input.records,
        &pairs,
        opts.explain,
    )?;
    eprintln!(
        "{} records, {} pairs at or above {}",
        input.records.len(),
        pairs.len(),
        opts.threshold
    );
    Ok(exit(problems, opts.strict))
}

/// Runs `concordat link`.
pub fn link(args: LinkArgs) -> anyhow::Result<ExitCode> {
    let opts = &args.options;
    let mapping = Mapping::parse(&opts.columns)?;
    let left = read_people(&args.left, &mapping)?;
    let right = read_people(&args.right, &mapping)?;
    let problems = left.report(&args.left) + right.report(&args.right);
    for (file, input) in [(&args.left, &left), (&args.right, &right)] {
        if input.records.is_empty() {
            anyhow::bail!("{}: no record could be read", file.display());
        }
    }
    let config = config(opts.threshold)?;
    let bar = Bar::new();
    let pairs =
        concordat_matching::link(&left.records, &right.records, &config, &|p| bar.update(p));
    bar.finish();
    write_pairs(
        &opts.output,
        &left.records,
        &right.records,
        &pairs,
        opts.explain,
    )?;
    eprintln!(
        "{} + {} records, {} pairs at or above {}",
        left.records.len(),
        right.records.len(),
        pairs.len(),
        opts.threshold
    );
    Ok(exit(problems, opts.strict))
}

fn config(threshold: f64) -> anyhow::Result<EngineConfig> {
    if !(0.0..=1.0).contains(&threshold) {
        anyhow::bail!("--threshold: {threshold} is not a probability between 0 and 1");
    }
    Ok(EngineConfig {
        threshold,
        ..EngineConfig::default()
    })
}

fn exit(problems: usize, strict: bool) -> ExitCode {
    if strict && problems > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Which source columns give each canonical column (joined with a space).
#[derive(Debug, Clone, Default)]
pub struct Mapping {
    sources: HashMap<String, Vec<String>>,
}

impl Mapping {
    /// Parses `canonical=source[+source...]` items.
    pub fn parse(items: &[String]) -> anyhow::Result<Mapping> {
        let mut sources = HashMap::new();
        for item in items.iter().filter(|i| !i.trim().is_empty()) {
            let Some((canonical, source)) = item.split_once('=') else {
                anyhow::bail!("--columns: {item:?} is not canonical=source[+source...]");
            };
            let canonical = canonical.trim();
            if !CANONICAL.contains(&canonical) {
                anyhow::bail!(
                    "--columns: {canonical:?} is not a canonical column (one of {})",
                    CANONICAL.join(", ")
                );
            }
            let parts: Vec<String> = source
                .split('+')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect();
            if parts.is_empty() {
                anyhow::bail!("--columns: {item:?} names no source column");
            }
            sources.insert(canonical.to_owned(), parts);
        }
        Ok(Mapping { sources })
    }

    fn resolve(&self, header: &csv::StringRecord) -> anyhow::Result<Vec<(String, Vec<usize>)>> {
        let position = |name: &str| header.iter().position(|h| h.trim() == name);
        let mut out = Vec::new();
        for &canonical in CANONICAL {
            match self.sources.get(canonical) {
                Some(sources) => {
                    let mut idx = Vec::new();
                    for s in sources {
                        idx.push(position(s).with_context(|| {
                            format!("--columns: the file has no column {s:?} (for {canonical})")
                        })?);
                    }
                    out.push((canonical.to_owned(), idx));
                }
                None => {
                    if let Some(i) = position(canonical) {
                        out.push((canonical.to_owned(), vec![i]));
                    }
                }
            }
        }
        Ok(out)
    }
}

/// A row that could not be read, or a value read as missing.
#[derive(Debug, Clone)]
pub struct Problem {
    /// Line in the file (1 is the header).
    pub line: u64,
    /// What was wrong.
    pub message: String,
    /// Whether the row was dropped (otherwise only a value was).
    pub dropped: bool,
}

/// People read from a file: `(id, record)` in file order, and what went wrong.
#[derive(Debug, Default)]
pub struct Input {
    /// The records, each with its id (the `id` column, or the line number).
    pub records: Vec<(String, Record)>,
    /// Bad rows (dropped) and bad values (read as missing), with their lines.
    pub problems: Vec<Problem>,
}

impl Input {
    /// Prints problems on standard error (the first 20, then a count); returns how many.
    pub fn report(&self, file: &Path) -> usize {
        for p in self.problems.iter().take(20) {
            eprintln!(
                "{}: line {}: {}{}",
                file.display(),
                p.line,
                p.message,
                if p.dropped { "; row skipped" } else { "" }
            );
        }
        if self.problems.len() > 20 {
            eprintln!(
                "{}: {} more problems not shown",
                file.display(),
                self.problems.len() - 20
            );
        }
        self.problems.len()
    }
}

/// Opens a file, through gzip when it is compressed.
pub fn open(path: &Path) -> anyhow::Result<Box<dyn Read>> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    Ok(decompress(file)?)
}

/// Reads `source` through gzip when it starts with gzip's magic number.
pub fn decompress<'r>(mut source: impl Read + 'r) -> std::io::Result<Box<dyn Read + 'r>> {
    let mut magic = [0u8; 2];
    let mut n = 0;
    // A short read is not the end of the input; read until two bytes or the end.
    while n < 2 {
        match source.read(&mut magic[n..])? {
            0 => break,
            got => n += got,
        }
    }
    let head = std::io::Cursor::new(magic[..n].to_vec());
    let reader = head.chain(source);
    Ok(if n == 2 && magic == [0x1f, 0x8b] {
        Box::new(flate2::read::MultiGzDecoder::new(reader))
    } else {
        Box::new(reader)
    })
}

/// Reads a people file. Bad rows are listed in `problems` with their line, not
/// silently dropped; an unreadable date or sex is read as missing and listed too.
pub fn read_people(path: &Path, mapping: &Mapping) -> anyhow::Result<Input> {
    read_people_from(open(path)?, &path.display().to_string(), mapping)
}

/// Reads people from `source` (plain or gzip CSV), naming it `label` in errors.
pub fn read_people_from(
    source: impl Read,
    label: &str,
    mapping: &Mapping,
) -> anyhow::Result<Input> {
    let mut reader =
        csv::ReaderBuilder::new()
            .flexible(false)
            .from_reader(std::io::BufReader::with_capacity(
                1 << 20,
                decompress(source)?,
            ));
    let header = reader
        .headers()
        .with_context(|| format!("{label}: cannot read the header row"))?
        .clone();
    let columns = mapping.resolve(&header)?;
    let col = |name: &str| {
        columns
            .iter()
            .find(|(c, _)| c == name)
            .map(|(_, i)| i.clone())
    };
    let get = |row: &csv::StringRecord, idx: &Option<Vec<usize>>| -> String {
        match idx {
            None => String::new(),
            Some(idx) => idx
                .iter()
                .filter_map(|&i| row.get(i))
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" "),
        }
    };
    let c: HashMap<&str, Option<Vec<usize>>> = CANONICAL.iter().map(|&n| (n, col(n))).collect();
    let mut input = Input::default();
    let mut row = csv::StringRecord::new();
    loop {
        let line = reader.position().line();
        match reader.read_record(&mut row) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(line, csv::Position::line);
                if let csv::ErrorKind::Io(_) = e.kind() {
                    return Err(
                        anyhow::Error::new(e).context(format!("{label}: cannot read line {line}"))
                    );
                }
                input.problems.push(Problem {
                    line,
                    message: describe_csv_error(&e),
                    dropped: true,
                });
                continue;
            }
        }
        let line = row.position().map_or(line, csv::Position::line);
        let field = |name: &str| get(&row, &c[name]);
        let mut problem = |message: String| {
            input.problems.push(Problem {
                line,
                message,
                dropped: false,
            })
        };
        let id = match field("id") {
            id if id.is_empty() && c["id"].is_some() => {
                input.problems.push(Problem {
                    line,
                    message: "the id is empty".to_owned(),
                    dropped: true,
                });
                continue;
            }
            id if id.is_empty() => line.to_string(),
            id => id,
        };
        let dob = field("date_of_birth");
        let date_of_birth = if dob.is_empty() {
            None
        } else if Date::parse(&dob).is_some() {
            Some(dob)
        } else {
            problem(format!(
                "date_of_birth {dob:?} is not a date (ISO, dd/mm/yyyy or yyyymmdd); read as missing"
            ));
            None
        };
        let sex_text = field("sex");
        let sex = Sex::parse(&sex_text);
        if sex.is_none() && !sex_text.is_empty() {
            problem(format!(
                "sex {sex_text:?} is not F, M or X; read as missing"
            ));
        }
        let mut names = Vec::new();
        let (given, surname) = (field("given_name"), field("surname"));
        if !given.is_empty() || !surname.is_empty() {
            names.push(Name::new(given, surname));
        }
        let full = field("full_name");
        if !full.is_empty() {
            names.push(Name::Full(full));
        }
        let mut lines = Vec::new();
        for l in ["address", "address_1", "address_2"] {
            let v = field(l);
            if !v.is_empty() {
                lines.push(v);
            }
        }
        let address = AddressValue {
            number: field("street_number"),
            lines,
            town: field("town"),
            county: field("county"),
            postcode: field("postcode"),
        };
        let nonempty = |v: String| if v.is_empty() { vec![] } else { vec![v] };
        let person = Person {
            names,
            date_of_birth,
            sex,
            addresses: if address == AddressValue::default() {
                vec![]
            } else {
                vec![address]
            },
            phones: nonempty(field("phone")),
            emails: nonempty(field("email")),
            documents: nonempty(field("document")),
            national_ids: nonempty(field("national_id")),
        };
        if person.names.is_empty()
            && person.date_of_birth.is_none()
            && person.addresses.is_empty()
            && person.phones.is_empty()
            && person.emails.is_empty()
            && person.documents.is_empty()
            && person.national_ids.is_empty()
        {
            input.problems.push(Problem {
                line,
                message: "nothing to match on (no name, date of birth, address or identifier)"
                    .to_owned(),
                dropped: true,
            });
            continue;
        }
        input.records.push((id, Record::Person(person)));
    }
    Ok(input)
}

pub fn describe_csv_error(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("{len} fields where the header has {expected_len}"),
        csv::ErrorKind::Utf8 { .. } => "not valid UTF-8".to_owned(),
        _ => e.to_string(),
    }
}

fn write_pairs(
    output: &Path,
    left: &[(String, Record)],
    right: &[(String, Record)],
    pairs: &[Pair],
    explain: bool,
) -> anyhow::Result<()> {
    let sink: Box<dyn Write> = if output.as_os_str() == "-" {
        Box::new(std::io::stdout().lock())
    } else {
        Box::new(
            std::fs::File::create(output)
                .with_context(|| format!("cannot create {}", output.display()))?,
        )
    };
    let mut w = csv::Writer::from_writer(std::io::BufWriter::new(sink));
    if explain {
        w.write_record([
            "left_id",
            "right_id",
            "probability",
            "weight",
            "explanation",
        ])?;
    } else {
        w.write_record(["left_id", "right_id", "probability"])?;
    }
    for (i, j, m) in pairs {
        let p = format!("{:.6}", m.probability);
        if explain {
            w.write_record([
                left[*i].0.as_str(),
                right[*j].0.as_str(),
                &p,
                &format!("{:.3}", m.weight),
                &explanation(m),
            ])?;
        } else {
            w.write_record([left[*i].0.as_str(), right[*j].0.as_str(), &p])?;
        }
    }
    w.flush()
        .with_context(|| format!("cannot write {}", output.display()))?;
    Ok(())
}

/// `given-name=exact:+5.20 surname=close:+3.10 ...`
pub fn explanation(m: &Match) -> String {
    m.explanation
        .iter()
        .map(|f| format!("{}={}:{:+.2}", f.field.as_str(), f.level.as_str(), f.weight))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A progress bar on standard error, drawn only on a terminal.
pub struct Bar {
    bar: ProgressBar,
    started: Instant,
}

impl Bar {
    /// A bar (hidden when standard error is not a terminal).
    pub fn new() -> Bar {
        let target = if std::io::stderr().is_terminal() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(Some(0), target).with_style(
            ProgressStyle::with_template("{msg:10} {bar:40} {pos}/{len} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Bar {
            bar,
            started: Instant::now(),
        }
    }

    /// Shows a batch's progress.
    pub fn update(&self, p: Progress) {
        let msg = match p.stage {
            Stage::Indexing => "indexing",
            Stage::Training => "training",
            Stage::Scoring => "scoring",
        };
        self.bar.set_message(msg);
        self.bar.set_length(p.total as u64);
        self.bar.set_position(p.done as u64);
    }

    /// Shows `done` of `total` of some other step, named by `message`.
    pub fn step(&self, message: &'static str, done: u64, total: u64) {
        self.bar.set_message(message);
        self.bar.set_length(total);
        self.bar.set_position(done);
    }

    /// Clears the bar; returns the seconds since it was made.
    pub fn finish(&self) -> f64 {
        self.bar.finish_and_clear();
        self.started.elapsed().as_secs_f64()
    }
}
