//! Argument parsing and the commands.

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use iterable_core::{
    Error, ErrorKind, OpenOptions, Options, Reader, Record, Registry, ValidationMode, Validator,
};
use iterable_host::Host;

const AFTER_HELP: &str = "\
Formats and codecs are detected from the file name (data.csv.gz, my.data.jsonl.zst), \
then from magic bytes and content; --format and --codec override detection. \
Use - for stdin or stdout.

Examples:
  iterable-host cat data.csv.gz --limit 5
  iterable-host convert rows.csv.gz rows.jsonl.zst
  iterable-host convert in.txt out.csv --in-format csv --in-option delimiter=';'
  iterable-host validate people.csv --rule email=common.email --rule inn=ru.org.inn --mode invalid";

/// Read, convert and validate data files; list what the host can do.
#[derive(Parser, Debug)]
#[command(name = "iterable-host", version, about, after_help = AFTER_HELP)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,

    /// More logging on stderr (-v info, -vv debug); RUST_LOG overrides it.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// A plugin directory, searched first (repeatable). Then come
    /// ITERABLEDATA_PLUGIN_PATH, plugin_dirs in ~/.iterabledata/config.toml,
    /// and ~/.iterabledata/plugins.
    #[arg(long = "plugin-dir", value_name = "DIR", global = true)]
    plugin_dirs: Vec<std::path::PathBuf>,

    /// Safe mode: use no plugin at all (also ITERABLEDATA_NO_PLUGINS=1).
    #[arg(long, global = true)]
    no_plugins: bool,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Print records as JSON lines.
    Cat(CatArgs),
    /// Print the number of records.
    Count(InputArgs),
    /// Convert between formats and codecs. The output appears only when the
    /// conversion succeeds: it is written to a temporary file and renamed.
    Convert(ConvertArgs),
    /// Check fields against validation rules; print a summary or the records.
    Validate(ValidateArgs),
    /// List the formats.
    Formats(ListArgs),
    /// List the compression codecs.
    Codecs(ListArgs),
    /// List the validation rules.
    Rules(ListArgs),
    /// List the database drivers.
    Drivers(ListArgs),
    /// List the processing engines.
    Engines(ListArgs),
    /// Run a query with an engine over input files; records as JSON lines.
    Query(QueryArgs),
    /// List the plugins found, with their status; loads none of them.
    ListPlugins(ListArgs),
    /// Show everything known about one plugin.
    Info(InfoArgs),
    /// Load one plugin library and report what it provides (non-zero exit
    /// with the reason when it is broken).
    CheckPlugin(CheckArgs),
    /// Install a built plugin (a directory with plugin.toml and its library)
    /// into a plugin directory.
    Install(InstallArgs),
    /// Scanner mode: load one library and print what it provides as JSON
    /// (the host runs this in a child process).
    #[command(name = "__scan", hide = true)]
    Scan {
        /// The library.
        library: std::path::PathBuf,
    },
}

#[derive(Args, Debug)]
struct QueryArgs {
    /// The engine id (see `engines`).
    #[arg(long)]
    engine: String,

    /// The query, in the engine's language.
    query: String,

    /// Input files. A single input is the table `data`; several are named by
    /// their file stems (rows.csv.gz is `rows`).
    #[arg(required = true)]
    inputs: Vec<String>,

    /// The input format (detected when not given).
    #[arg(short, long)]
    format: Option<String>,

    /// The input codec, or `none` (detected when not given).
    #[arg(long)]
    codec: Option<String>,

    /// An option, KEY=VALUE (repeatable), for the readers.
    #[arg(long = "option", value_name = "KEY=VALUE")]
    options: Vec<String>,

    /// An option, KEY=VALUE (repeatable), for the engine.
    #[arg(long = "engine-option", value_name = "KEY=VALUE")]
    engine_options: Vec<String>,
}

#[derive(Args, Debug)]
struct InfoArgs {
    /// The plugin's name (see `list-plugins`).
    name: String,

    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
struct CheckArgs {
    /// A plugin library, a plugin directory, or its plugin.toml.
    path: std::path::PathBuf,

    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
struct InstallArgs {
    /// A plugin directory holding plugin.toml and the library it names.
    path: std::path::PathBuf,

    /// Where to install: defaults to the first --plugin-dir, else
    /// ~/.iterabledata/plugins.
    #[arg(long, value_name = "DIR")]
    dir: Option<std::path::PathBuf>,

    /// The built library, when it is not next to plugin.toml (for example
    /// target/release/libiterable_plugin_ltsv.so).
    #[arg(long, value_name = "FILE")]
    library: Option<std::path::PathBuf>,

    /// Replace an installed plugin of the same name.
    #[arg(long)]
    force: bool,
}

#[derive(Args, Debug)]
struct InputArgs {
    /// The input: a file, - for stdin, or a database URI (scheme://...).
    input: String,

    /// The input format (detected when not given).
    #[arg(short, long)]
    format: Option<String>,

    /// The input codec, or `none` (detected when not given).
    #[arg(long)]
    codec: Option<String>,

    /// A reader option, KEY=VALUE (repeatable); see `formats --json` for each format's options.
    #[arg(long = "option", value_name = "KEY=VALUE")]
    options: Vec<String>,

    /// For a database URI: the table to read.
    #[arg(long)]
    table: Option<String>,

    /// For a database URI: the query to read.
    #[arg(long)]
    query: Option<String>,
}

#[derive(Args, Debug)]
struct CatArgs {
    #[command(flatten)]
    input: InputArgs,

    /// Stop after N records.
    #[arg(short = 'n', long, value_name = "N")]
    limit: Option<u64>,
}

#[derive(Args, Debug)]
struct ConvertArgs {
    /// The input: a file, - for stdin, or a database URI.
    input: String,

    /// The output: a file, - for stdout (needs --format), or a database URI (needs --table).
    output: String,

    /// The output format (from OUTPUT's name when not given).
    #[arg(short, long, visible_alias = "out-format")]
    format: Option<String>,

    /// The output codec, or `none` (from OUTPUT's name when not given).
    #[arg(long, visible_alias = "out-codec")]
    codec: Option<String>,

    /// A writer or output-codec option, KEY=VALUE (repeatable), e.g. level=9.
    #[arg(
        long = "option",
        visible_alias = "out-option",
        value_name = "KEY=VALUE"
    )]
    options: Vec<String>,

    /// The input format (detected when not given).
    #[arg(long)]
    in_format: Option<String>,

    /// The input codec, or `none` (detected when not given).
    #[arg(long)]
    in_codec: Option<String>,

    /// A reader option, KEY=VALUE (repeatable).
    #[arg(long = "in-option", value_name = "KEY=VALUE")]
    in_options: Vec<String>,

    /// The table: of the output when it is a database URI, else of the input.
    #[arg(long)]
    table: Option<String>,

    /// The input table, when both sides are database URIs.
    #[arg(long)]
    in_table: Option<String>,

    /// For a database input: the query to read.
    #[arg(long)]
    query: Option<String>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// A JSON summary: totals and failures per check.
    Stats,
    /// Invalid records with their errors, as JSON lines.
    Invalid,
    /// Valid records only, as JSON lines (a filter).
    Valid,
    /// Every record with its errors, as JSON lines.
    All,
}

#[derive(Args, Debug)]
struct ValidateArgs {
    #[command(flatten)]
    input: InputArgs,

    /// A check, FIELD=RULE (repeatable); see `rules` for the rule names.
    #[arg(long = "rule", value_name = "FIELD=RULE", required = true)]
    rules: Vec<String>,

    /// What to print.
    #[arg(long, value_enum, default_value = "stats")]
    mode: Mode,

    /// Exit with status 3 when any record is invalid.
    #[arg(long)]
    fail_on_invalid: bool,
}

#[derive(Args, Debug)]
struct ListArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// Why a command stopped.
pub enum Failure {
    /// An error to print on one line.
    Error(Error),
    /// The reader of our stdout went away: stop quietly.
    BrokenPipe,
    /// Exit with this status, having printed what there was to print.
    Exit(u8),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Error(e)
    }
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::BrokenPipe {
            Failure::BrokenPipe
        } else {
            Failure::Error(Error::from_io(e))
        }
    }
}

pub(crate) type CliResult<T = ()> = Result<T, Failure>;

/// Parses the command line; on `--help`, `--version` or a usage error,
/// returns the exit code after clap has printed what it prints.
pub fn parse() -> Result<Cli, ExitCode> {
    Cli::try_parse().map_err(|e| {
        let _ = e.print();
        ExitCode::from(if e.use_stderr() { 2 } else { 0 })
    })
}

/// Runs the parsed command.
pub fn run(cli: Cli) -> CliResult {
    if let Command::Install(a) = &cli.command {
        return plugins::install(&cli.plugin_dirs, a);
    }
    if let Command::Scan { library } = &cli.command {
        std::process::exit(iterable_host::scan::scanner_main(library));
    }
    // This binary is its own scanner: libraries are examined by a child
    // `iterable-host __scan LIBRARY`, so a crashing plugin cannot kill us.
    let scanner = match std::env::current_exe() {
        Ok(path) => iterable_host::Scanner::Program {
            path,
            args: vec!["__scan".into()],
        },
        Err(_) => iterable_host::Scanner::find(),
    };
    if let Command::CheckPlugin(a) = &cli.command {
        return plugins::check(a, &scanner);
    }
    let mut builder = Host::builder().no_plugins(cli.no_plugins).scanner(scanner);
    for d in &cli.plugin_dirs {
        builder = builder.plugin_dir(d);
    }
    let host = builder.build()?;
    let registry = host.registry();
    match cli.command {
        Command::Query(a) => query(registry, &a),
        Command::ListPlugins(a) => plugins::list(&host, a.json),
        Command::Info(a) => plugins::info(&host, &a.name, a.json),
        Command::CheckPlugin(_) | Command::Install(_) | Command::Scan { .. } => {
            unreachable!("handled above")
        }
        Command::Cat(a) => cat(registry, &a),
        Command::Count(a) => count(registry, &a),
        Command::Convert(a) => convert(registry, &a),
        Command::Validate(a) => validate(registry, &a),
        Command::Formats(a) => list::formats(registry, a.json),
        Command::Codecs(a) => list::codecs(registry, a.json),
        Command::Rules(a) => list::rules(registry, a.json),
        Command::Drivers(a) => list::drivers(registry, a.json),
        Command::Engines(a) => list::engines(registry, a.json),
    }
}

fn parse_options(pairs: &[String]) -> Result<Options, Error> {
    let mut o = Options::new();
    for p in pairs {
        let (k, v) = Options::parse_pair(p)?;
        o.set(k, v);
    }
    Ok(o)
}

fn open_input(
    registry: &Registry,
    input: &str,
    format: Option<&String>,
    codec: Option<&String>,
    options: &[String],
    table: Option<&String>,
    query: Option<&String>,
) -> Result<Reader, Error> {
    let opts = OpenOptions {
        format: format.cloned(),
        codec: codec.cloned(),
        options: parse_options(options)?,
        table: table.cloned(),
        query: query.cloned(),
    };
    if input == "-" {
        let stdin: iterable_core::io::BoxRead = Box::new(io::stdin());
        return registry
            .open_stream(stdin, None, &opts)
            .map(|r| r.with_name("<stdin>".into()))
            .map_err(|e| e.with_path("<stdin>"));
    }
    registry.open(input, &opts)
}

fn open_args(registry: &Registry, a: &InputArgs) -> Result<Reader, Error> {
    open_input(
        registry,
        &a.input,
        a.format.as_ref(),
        a.codec.as_ref(),
        &a.options,
        a.table.as_ref(),
        a.query.as_ref(),
    )
}

pub(crate) fn stdout() -> BufWriter<io::StdoutLock<'static>> {
    BufWriter::with_capacity(256 * 1024, io::stdout().lock())
}

pub(crate) fn write_json_line(out: &mut impl Write, value: &impl serde::Serialize) -> CliResult {
    serde_json::to_writer(&mut *out, value).map_err(|e| match e.io_error_kind() {
        Some(kind) => Failure::from(io::Error::from(kind)),
        None => Failure::Error(Error::new(ErrorKind::Other, e.to_string())),
    })?;
    out.write_all(b"\n")?;
    Ok(())
}

fn cat(registry: &Registry, a: &CatArgs) -> CliResult {
    let mut reader = open_args(registry, &a.input)?;
    let mut out = stdout();
    let mut rec = Record::new();
    let mut n = 0;
    while a.limit.is_none_or(|l| n < l) && reader.read_record(&mut rec)? {
        write_json_line(&mut out, &rec)?;
        n += 1;
    }
    out.flush()?;
    Ok(())
}

fn count(registry: &Registry, a: &InputArgs) -> CliResult {
    let mut reader = open_args(registry, a)?;
    let mut rec = Record::new();
    let mut n: u64 = 0;
    while reader.read_record(&mut rec)? {
        n += 1;
    }
    let mut out = stdout();
    writeln!(out, "{n}")?;
    out.flush()?;
    Ok(())
}

fn convert(registry: &Registry, a: &ConvertArgs) -> CliResult {
    let out_is_uri = iterable_core::uri_scheme(&a.output).is_some();
    let in_table = a
        .in_table
        .as_ref()
        .or(if out_is_uri { None } else { a.table.as_ref() });
    let mut reader = open_input(
        registry,
        &a.input,
        a.in_format.as_ref(),
        a.in_codec.as_ref(),
        &a.in_options,
        in_table,
        a.query.as_ref(),
    )?;
    let opts = OpenOptions {
        format: a.format.clone(),
        codec: a.codec.clone(),
        options: parse_options(&a.options)?,
        table: if out_is_uri { a.table.clone() } else { None },
        query: None,
    };
    let mut writer = if a.output == "-" {
        if opts.format.is_none() {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                "writing to stdout (-) needs --format",
            )
            .into());
        }
        registry.create_stdout(&opts)?
    } else {
        registry.create(&a.output, &opts)?
    };
    // On any error the writer is dropped unfinished, so no output appears.
    let n = writer.copy_from(&mut reader)?;
    writer.finish()?;
    tracing::info!(records = n, input = %a.input, output = %a.output, "converted");
    Ok(())
}

fn validate(registry: &Registry, a: &ValidateArgs) -> CliResult {
    let mut pairs = Vec::new();
    for r in &a.rules {
        let (field, rule) = r.split_once('=').ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidInput,
                format!("--rule {r:?} is not of the form FIELD=RULE"),
            )
        })?;
        pairs.push((field.trim(), rule.trim()));
    }
    let validator = Validator::from_pairs(registry, pairs)?;
    let reader = open_args(registry, &a.input)?;
    let mut out = stdout();
    let invalid = if a.mode == Mode::Stats {
        let stats = validator.stats(reader)?;
        serde_json::to_writer_pretty(&mut out, &stats)
            .map_err(|e| Error::new(ErrorKind::Other, e.to_string()))?;
        out.write_all(b"\n")?;
        stats.invalid
    } else {
        let mode = match a.mode {
            Mode::Valid => ValidationMode::Valid,
            Mode::Invalid => ValidationMode::Invalid,
            _ => ValidationMode::All,
        };
        let mut v = validator.validate(reader, mode);
        for report in v.by_ref() {
            let report = report?;
            if a.mode == Mode::Valid {
                write_json_line(&mut out, &report.record)?;
            } else {
                write_json_line(&mut out, &report)?;
            }
        }
        v.stats().invalid
    };
    out.flush()?;
    if a.fail_on_invalid && invalid > 0 {
        return Err(Failure::Exit(3));
    }
    Ok(())
}

fn query(registry: &Registry, a: &QueryArgs) -> CliResult {
    let engine = registry.engine(&a.engine)?;
    let mut inputs = Vec::new();
    for input in &a.inputs {
        let reader = open_input(
            registry,
            input,
            a.format.as_ref(),
            a.codec.as_ref(),
            &a.options,
            None,
            None,
        )?;
        let name = if a.inputs.len() == 1 {
            "data".to_owned()
        } else {
            table_name(input)
        };
        if inputs.iter().any(|(n, _): &(String, _)| *n == name) {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!("two inputs would both be the table '{name}'; rename one of the files"),
            )
            .into());
        }
        inputs.push((name, Box::new(reader) as iterable_core::BoxReader));
    }
    let options = parse_options(&a.engine_options)?;
    let mut results = engine.execute(&a.query, inputs, &options)?;
    let mut out = stdout();
    let mut rec = Record::new();
    while results.read_record(&mut rec)? {
        write_json_line(&mut out, &rec)?;
    }
    out.flush()?;
    Ok(())
}

/// The table name of an input: its file name up to the first dot.
fn table_name(input: &str) -> String {
    let base = std::path::Path::new(input)
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_else(|| input.to_owned());
    base.split('.').next().unwrap_or(&base).to_owned()
}

mod plugins;

mod list {
    //! The listing commands: one generic listing, and what each kind adds.

    use super::*;
    use iterable_core::Entry;
    use serde_json::{Map, Value as Json, json};

    fn hex(bytes: &[u8]) -> String {
        bytes
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// What one provider adds to the common columns: its description, its
    /// own JSON fields, and its own table cells.
    struct Row {
        description: String,
        json: Vec<(&'static str, Json)>,
        cells: Vec<String>,
    }

    /// Lists every entry of a kind, shadowed ones included: as JSON objects
    /// (`id_key`, source, status, shadowed_by, description, then the kind's
    /// own fields), or as a table (ID, SOURCE, STATUS, the kind's `columns`,
    /// DESCRIPTION).
    fn listing<T: ?Sized>(
        entries: &[Entry<T>],
        as_json: bool,
        id_key: &str,
        columns: &[&str],
        row: impl Fn(&T) -> Row,
    ) -> CliResult {
        let rows: Vec<(&Entry<T>, Row)> = entries.iter().map(|e| (e, row(&e.provider))).collect();
        if as_json {
            let items: Vec<Json> = rows
                .into_iter()
                .map(|(e, r)| {
                    let mut m = Map::new();
                    m.insert(id_key.into(), json!(e.id));
                    m.insert("source".into(), json!(e.source.to_string()));
                    m.insert(
                        "status".into(),
                        json!(if e.shadowed_by.is_some() {
                            "shadowed"
                        } else {
                            "active"
                        }),
                    );
                    m.insert(
                        "shadowed_by".into(),
                        json!(e.shadowed_by.as_ref().map(|s| s.to_string())),
                    );
                    m.insert("description".into(), json!(r.description));
                    m.extend(r.json.into_iter().map(|(k, v)| (k.to_owned(), v)));
                    Json::Object(m)
                })
                .collect();
            let mut out = stdout();
            serde_json::to_writer_pretty(&mut out, &items)
                .map_err(|e| Error::new(ErrorKind::Other, e.to_string()))?;
            out.write_all(b"\n")?;
            out.flush()?;
            return Ok(());
        }
        let first = id_key.to_ascii_uppercase();
        let mut header = vec![first.as_str(), "SOURCE", "STATUS"];
        header.extend(columns);
        header.push("DESCRIPTION");
        let cells: Vec<Vec<String>> = rows
            .into_iter()
            .map(|(e, r)| {
                let status = match &e.shadowed_by {
                    Some(by) => format!("shadowed by {by}"),
                    None => "active".into(),
                };
                let mut c = vec![e.id.clone(), e.source.to_string(), status];
                c.extend(r.cells);
                c.push(r.description);
                c
            })
            .collect();
        let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
        for r in &cells {
            for (i, c) in r.iter().enumerate() {
                widths[i] = widths[i].max(c.chars().count());
            }
        }
        let mut out = stdout();
        for r in std::iter::once(header.iter().map(|h| h.to_string()).collect()).chain(cells) {
            let line: Vec<String> = r
                .iter()
                .enumerate()
                .map(|(i, c)| format!("{c:<w$}", w = widths[i]))
                .collect();
            writeln!(out, "{}", line.join("  ").trim_end())?;
        }
        out.flush()?;
        Ok(())
    }

    pub fn formats(registry: &Registry, as_json: bool) -> CliResult {
        listing(
            registry.format_entries(),
            as_json,
            "id",
            &["MODE", "EXTENSIONS"],
            |p| {
                let i = p.info();
                let mode = match (i.can_read, i.can_write) {
                    (true, true) => "rw",
                    (true, false) => "r",
                    (false, true) => "w",
                    _ => "-",
                };
                Row {
                description: i.description.clone(),
                json: vec![
                    ("extensions", json!(i.extensions)),
                    ("magic", json!(i.magic.iter().map(|m| hex(m)).collect::<Vec<_>>())),
                    ("read", json!(i.can_read)),
                    ("write", json!(i.can_write)),
                    (
                        "options",
                        json!(i
                            .options
                            .iter()
                            .map(|o| json!({"name": o.name, "description": o.description, "default": o.default}))
                            .collect::<Vec<_>>()),
                    ),
                ],
                cells: vec![mode.into(), i.extensions.join(",")],
            }
            },
        )
    }

    pub fn codecs(registry: &Registry, as_json: bool) -> CliResult {
        listing(
            registry.codec_entries(),
            as_json,
            "id",
            &["EXTENSIONS", "MAGIC"],
            |p| {
                let i = p.info();
                let magic: Vec<String> = i.magic.iter().map(|m| hex(m)).collect();
                Row {
                description: i.description.clone(),
                json: vec![
                    ("extensions", json!(i.extensions)),
                    ("magic", json!(magic)),
                    (
                        "levels",
                        json!(i.levels.map(|(min, max, default)| json!({"min": min, "max": max, "default": default}))),
                    ),
                ],
                cells: vec![i.extensions.join(","), magic.join(" | ")],
            }
            },
        )
    }

    pub fn drivers(registry: &Registry, as_json: bool) -> CliResult {
        listing(
            registry.driver_entries(),
            as_json,
            "id",
            &["SCHEMES"],
            |p| {
                let i = p.info();
                Row {
                    description: i.description.clone(),
                    json: vec![("schemes", json!(i.schemes))],
                    cells: vec![i.schemes.join(",")],
                }
            },
        )
    }

    pub fn rules(registry: &Registry, as_json: bool) -> CliResult {
        listing(registry.rule_entries(), as_json, "name", &[], |p| Row {
            description: p.info().description.clone(),
            json: vec![],
            cells: vec![],
        })
    }

    pub fn engines(registry: &Registry, as_json: bool) -> CliResult {
        listing(registry.engine_entries(), as_json, "id", &[], |p| Row {
            description: p.info().description.clone(),
            json: vec![],
            cells: vec![],
        })
    }
}
