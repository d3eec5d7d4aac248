//! The commands, one file each, and what several of them share.

use std::io;

use iterable_core::{Error, OpenOptions, Options, Reader, Registry};
use iterable_host::Host;

use crate::args::{Cli, Command, InputArgs};
use crate::output::CliResult;

pub use session::Session;

mod cat;
mod check_plugin;
mod convert;
mod count;
mod info;
mod install;
mod list_plugins;
mod plugin_view;
mod providers;
mod query;
mod session;
mod validate;

/// The hidden command with which this program is its own scanner and
/// runner (`main` hands it to `iterable_host::run_as_child`).
pub const SCAN_COMMAND: &str = "__scan";

/// Runs the parsed command.
pub fn run(cli: Cli) -> CliResult {
    // This binary is its own scanner: libraries are examined by a child
    // `iterable-host __scan LIBRARY`, so a crashing plugin cannot kill us.
    let scanner = std::env::current_exe()
        .ok()
        .map(|path| iterable_host::Scanner::program_with_args(path, [SCAN_COMMAND]))
        .or_else(iterable_host::Scanner::find)
        .ok_or_else(|| {
            iterable_core::Error::new(
                iterable_core::ErrorKind::Other,
                "cannot find this program to run it as the plugin scanner",
            )
        })?;
    if let Command::CheckPlugin(a) = &cli.command {
        return check_plugin::run(a, &scanner);
    }
    if let Command::Install(a) = &cli.command {
        return install::run(&cli.plugin_dirs, a, &scanner);
    }
    let mut builder = Host::builder()
        .user_environment()
        .no_plugins(cli.no_plugins)
        .scanner(scanner);
    for d in &cli.plugin_dirs {
        builder = builder.plugin_dir(d);
    }
    if cli.isolate_plugins {
        builder = builder.isolate_plugins(true);
    }
    if let Some(t) = cli.plugin_timeout {
        if !t.is_finite() || t < 0.0 {
            return Err(Error::new(
                iterable_core::ErrorKind::InvalidInput,
                "--plugin-timeout takes a number of seconds, 0 or more",
            )
            .into());
        }
        builder = builder.plugin_timeout(iterable_host::isolate::seconds(t));
    }
    let host = builder.build()?;
    let registry = host.registry();
    let mut hooks = host.configured_hooks().to_vec();
    hooks.extend(cli.hooks.iter().cloned());
    let session = Session::new(registry, hooks, &cli.hook_options, cli.quiet)?;
    match cli.command {
        Command::Query(a) => query::run(&session, &a),
        Command::ListPlugins(a) => list_plugins::run(&host, a.json),
        Command::Info(a) => info::run(&host, &a.name, a.json),
        Command::CheckPlugin(_) | Command::Install(_) => {
            unreachable!("handled above")
        }
        Command::Cat(a) => cat::run(&session, &a),
        Command::Count(a) => count::run(&session, &a),
        Command::Convert(a) => convert::run(&session, &a),
        Command::Validate(a) => validate::run(&session, &a),
        Command::Hooks(a) => providers::hooks(&host, a.json),
        Command::Formats(a) => providers::formats(&host, a.json),
        Command::Codecs(a) => providers::codecs(&host, a.json),
        Command::Rules(a) => providers::rules(&host, a.json),
        Command::Drivers(a) => providers::drivers(&host, a.json),
        Command::Engines(a) => providers::engines(&host, a.json),
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
