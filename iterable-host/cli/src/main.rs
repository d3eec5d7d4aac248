//! The `iterable-host` command: read, convert and validate data files, and
//! manage IterableData plugins.

mod args;
mod commands;
mod output;
mod progress;

use std::process::ExitCode;

fn main() -> ExitCode {
    // `iterable-host __scan LIBRARY` and `iterable-host __scan --serve
    // SPEC`: this program as its own scanner, or as an isolated plugin's
    // runner (before anything else, so that it starts fast).
    let mut args = std::env::args_os().skip(1);
    if args.next().is_some_and(|a| a == commands::SCAN_COMMAND) {
        let code = iterable_host::run_as_child(args).unwrap_or_else(|| {
            eprintln!("usage: iterable-host __scan LIBRARY | iterable-host __scan --serve SPEC");
            2
        });
        std::process::exit(code);
    }
    // One line on stderr for any internal error, never a backtrace dump.
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!("iterable-host: internal error (please report it): {msg}{at}");
    }));
    let cli = match args::parse() {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    init_tracing(cli.verbose);
    if cli.verbose > 0 {
        // Plugins that log on their own (the datafusion engine says how it
        // reads each input) read the verbosity from the environment.
        // SAFETY: no other thread runs yet.
        unsafe { std::env::set_var("ITERABLEDATA_VERBOSE", cli.verbose.to_string()) };
    }
    match std::panic::catch_unwind(|| commands::run(cli)) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(output::Failure::BrokenPipe)) => ExitCode::SUCCESS,
        Ok(Err(output::Failure::Exit(code))) => ExitCode::from(code),
        Ok(Err(output::Failure::Error(e))) => {
            eprintln!("iterable-host: error: {e}");
            ExitCode::from(1)
        }
        Err(_) => ExitCode::from(101),
    }
}

/// Logs go to stderr; `RUST_LOG` wins over `-v`.
fn init_tracing(verbose: u8) {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    let default = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .without_time()
        .try_init();
}
