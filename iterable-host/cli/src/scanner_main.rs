//! `iterable-plugin-scanner LIBRARY`: loads one plugin library and prints
//! what it provides as one JSON line. The host runs it in a child process,
//! so that a library that crashes while loading cannot take the host down.
//!
//! `iterable-plugin-scanner --serve SPEC`: runs one isolated plugin and
//! serves its calls (see `iterable_host::isolate`).

fn main() {
    let code = iterable_host::run_as_child(std::env::args_os().skip(1)).unwrap_or_else(|| {
        eprintln!("usage: iterable-plugin-scanner LIBRARY | iterable-plugin-scanner --serve SPEC");
        2
    });
    std::process::exit(code);
}
