//! The command line: every command and its arguments.

use clap::{Args, Parser, Subcommand, ValueEnum};

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
    pub command: Command,

    /// More logging on stderr (-v info, -vv debug); RUST_LOG overrides it.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// A plugin directory, searched first (repeatable). Then come
    /// ITERABLEDATA_PLUGIN_PATH, plugin_dirs in ~/.iterabledata/config.toml,
    /// and ~/.iterabledata/plugins.
    #[arg(long = "plugin-dir", value_name = "DIR", global = true)]
    pub plugin_dirs: Vec<std::path::PathBuf>,

    /// Safe mode: use no plugin at all (also ITERABLEDATA_NO_PLUGINS=1).
    #[arg(long, global = true)]
    pub no_plugins: bool,

    /// Observe the run with this hook (repeatable; see `hooks`). Hooks
    /// listed under `hooks` in ~/.iterabledata/config.toml run too.
    #[arg(long = "hook", value_name = "ID", global = true)]
    pub hooks: Vec<String>,

    /// An option for a hook, ID.KEY=VALUE (repeatable), e.g.
    /// --hook-option audit.path=profile.json.
    #[arg(long = "hook-option", value_name = "ID.KEY=VALUE", global = true)]
    pub hook_options: Vec<String>,

    /// Run every plugin out of process, in a sandboxed runner of its own: a
    /// plugin that crashes, hangs or runs out of memory fails the command
    /// with a message, never takes it down (also ITERABLEDATA_ISOLATE=1, or
    /// isolate = true in config.toml; one plugin: [plugins.NAME]
    /// isolation = "process").
    #[arg(long, global = true)]
    pub isolate_plugins: bool,

    /// How long an isolated plugin may take to answer one call before it is
    /// killed, in seconds; 0 for no limit (default 120; also
    /// ITERABLEDATA_PLUGIN_TIMEOUT, or plugin_timeout in config.toml).
    #[arg(long, value_name = "SECS", global = true)]
    pub plugin_timeout: Option<f64>,

    /// No progress bar (it is shown on stderr only when stderr is a terminal).
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
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
    /// List the hooks: what observes a run when enabled with --hook.
    Hooks(ListArgs),
    /// Show everything known about one plugin.
    Info(InfoArgs),
    /// Load one plugin library and report what it provides (non-zero exit
    /// with the reason when it is broken).
    CheckPlugin(CheckArgs),
    /// Install a built plugin into a plugin directory. The library is
    /// examined in a child process and the installed plugin.toml is written
    /// from what it says; a plugin.toml beside it must agree with it.
    Install(InstallArgs),
}

#[derive(Args, Debug)]
pub struct QueryArgs {
    /// The engine id (see `engines`).
    #[arg(long)]
    pub engine: String,

    /// The query, in the engine's language.
    pub query: String,

    /// Input files: the tables `data`, `data2`, `data3`, … in order. Any
    /// format and codec the host reads works, plugins' included.
    #[arg(required_unless_present = "tables")]
    pub inputs: Vec<String>,

    /// An input by name, NAME=PATH (repeatable): the table NAME.
    #[arg(long = "table", value_name = "NAME=PATH")]
    pub tables: Vec<String>,

    /// Write the result here (any format and codec the host writes, from
    /// the name) instead of JSON lines on stdout; it appears only when the
    /// whole query succeeds.
    #[arg(short, long, value_name = "PATH")]
    pub output: Option<String>,

    /// The output format (from --output's name when not given).
    #[arg(long = "out-format")]
    pub out_format: Option<String>,

    /// The input format (detected when not given).
    #[arg(short, long)]
    pub format: Option<String>,

    /// The input codec, or `none` (detected when not given).
    #[arg(long)]
    pub codec: Option<String>,

    /// An option, KEY=VALUE (repeatable), for the readers.
    #[arg(long = "option", value_name = "KEY=VALUE")]
    pub options: Vec<String>,

    /// An option, KEY=VALUE (repeatable), for the engine.
    #[arg(long = "engine-option", value_name = "KEY=VALUE")]
    pub engine_options: Vec<String>,
}

#[derive(Args, Debug)]
pub struct InfoArgs {
    /// The plugin's name (see `list-plugins`).
    pub name: String,

    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// A plugin library, a plugin directory, or its plugin.toml.
    pub path: std::path::PathBuf,

    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct InstallArgs {
    /// A built library, a plugin directory (with or without plugin.toml),
    /// or a plugin.toml.
    #[arg(required_unless_present = "adbc", conflicts_with = "adbc")]
    pub path: Option<std::path::PathBuf>,

    /// Install an ADBC driver library as it is (for example the
    /// libadbc_driver_postgresql.so of the PyPI package
    /// adbc-driver-postgresql): a manifest is written for it, and
    /// `cat SCHEME://...` then goes through it. Needs --scheme.
    #[arg(long, value_name = "LIB", requires = "scheme")]
    pub adbc: Option<std::path::PathBuf>,

    /// With --adbc: a URI scheme the driver serves (repeatable), such as
    /// postgresql.
    #[arg(long, value_name = "SCHEME", requires = "adbc")]
    pub scheme: Vec<String>,

    /// With --adbc: the plugin's name (default: adbc-DRIVER, from the file
    /// name, such as adbc-postgresql).
    #[arg(long, requires = "adbc")]
    pub name: Option<String>,

    /// With --adbc: the driver's init function, when the library's name does
    /// not imply it.
    #[arg(long, value_name = "SYMBOL", requires = "adbc")]
    pub entrypoint: Option<String>,

    /// With --adbc: what the driver is given as its URI: `as-is`, or `path`
    /// (only the path of SCHEME:///abs/path.db, for a file database; the
    /// default for SQLite and DuckDB drivers).
    #[arg(long, value_name = "STYLE", value_parser = ["as-is", "path"], requires = "adbc")]
    pub uri: Option<String>,

    /// Where to install: defaults to the first --plugin-dir, else
    /// ~/.iterabledata/plugins.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<std::path::PathBuf>,

    /// The built library, when it is not next to plugin.toml (for example
    /// target/release/libiterable_plugin_ltsv.so).
    #[arg(long, value_name = "FILE")]
    pub library: Option<std::path::PathBuf>,

    /// Replace an installed plugin of the same name.
    #[arg(long)]
    pub force: bool,
}

#[derive(Args, Debug)]
pub struct InputArgs {
    /// The input: a file, - for stdin, or a database URI (scheme://...).
    pub input: String,

    /// The input format (detected when not given).
    #[arg(short, long)]
    pub format: Option<String>,

    /// The input codec, or `none` (detected when not given).
    #[arg(long)]
    pub codec: Option<String>,

    /// A reader option, KEY=VALUE (repeatable); see `formats --json` for each format's options.
    #[arg(long = "option", value_name = "KEY=VALUE")]
    pub options: Vec<String>,

    /// For a database URI: the table to read.
    #[arg(long)]
    pub table: Option<String>,

    /// For a database URI: the query to read.
    #[arg(long)]
    pub query: Option<String>,
}

#[derive(Args, Debug)]
pub struct CatArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// Stop after N records.
    #[arg(short = 'n', long, value_name = "N")]
    pub limit: Option<u64>,
}

#[derive(Args, Debug)]
pub struct ConvertArgs {
    /// The input: a file, - for stdin, or a database URI.
    pub input: String,

    /// The output: a file, - for stdout (needs --format), or a database URI (needs --table).
    pub output: String,

    /// The output format (from OUTPUT's name when not given).
    #[arg(short, long, visible_alias = "out-format")]
    pub format: Option<String>,

    /// The output codec, or `none` (from OUTPUT's name when not given).
    #[arg(long, visible_alias = "out-codec")]
    pub codec: Option<String>,

    /// A writer or output-codec option, KEY=VALUE (repeatable), e.g. level=9.
    #[arg(
        long = "option",
        visible_alias = "out-option",
        value_name = "KEY=VALUE"
    )]
    pub options: Vec<String>,

    /// The input format (detected when not given).
    #[arg(long)]
    pub in_format: Option<String>,

    /// The input codec, or `none` (detected when not given).
    #[arg(long)]
    pub in_codec: Option<String>,

    /// A reader option, KEY=VALUE (repeatable).
    #[arg(long = "in-option", value_name = "KEY=VALUE")]
    pub in_options: Vec<String>,

    /// The table: of the output when it is a database URI, else of the input.
    #[arg(long)]
    pub table: Option<String>,

    /// The input table, when both sides are database URIs.
    #[arg(long)]
    pub in_table: Option<String>,

    /// For a database input: the query to read.
    #[arg(long)]
    pub query: Option<String>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
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
pub struct ValidateArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// A check, FIELD=RULE (repeatable); see `rules` for the rule names.
    #[arg(long = "rule", value_name = "FIELD=RULE", required = true)]
    pub rules: Vec<String>,

    /// What to print.
    #[arg(long, value_enum, default_value = "stats")]
    pub mode: Mode,

    /// Exit with status 3 when any record is invalid.
    #[arg(long)]
    pub fail_on_invalid: bool,
}

#[derive(Args, Debug)]
pub struct ListArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Parses the command line; on `--help`, `--version` or a usage error,
/// returns the exit code after clap has printed what it prints.
pub fn parse() -> Result<Cli, std::process::ExitCode> {
    Cli::try_parse().map_err(|e| {
        let _ = e.print();
        std::process::ExitCode::from(if e.use_stderr() { 2 } else { 0 })
    })
}
