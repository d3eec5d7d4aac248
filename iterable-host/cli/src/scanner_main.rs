//! `iterable-plugin-scanner LIBRARY`: loads one plugin library and prints
//! what it provides as one JSON line. The host runs it in a child process,
//! so that a library that crashes while loading cannot take the host down.
//!
//! `iterable-plugin-scanner --serve SPEC`: runs one isolated plugin and
//! serves its calls (see `iterable_host::isolate`).

fn main() {
    let mut args = std::env::args_os().skip(1);
    let first = args.next();
    if first
        .as_ref()
        .is_some_and(|a| a == iterable_host::isolate::SERVE_ARG)
    {
        // Runner mode: serve one isolated plugin's calls.
        let spec = args.next().unwrap_or_default();
        std::process::exit(iterable_host::isolate::serve(&spec.to_string_lossy()));
    }
    let mut args = first.into_iter().chain(args);
    let (Some(lib), None) = (args.next(), args.next()) else {
        eprintln!("usage: iterable-plugin-scanner LIBRARY");
        std::process::exit(2);
    };
    std::process::exit(iterable_host::scan::scanner_main(std::path::Path::new(
        &lib,
    )));
}
