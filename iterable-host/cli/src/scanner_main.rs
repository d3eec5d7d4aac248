//! `iterable-plugin-scanner LIBRARY`: loads one plugin library and prints
//! what it provides as one JSON line. The host runs it in a child process,
//! so that a library that crashes while loading cannot take the host down.

fn main() {
    let mut args = std::env::args_os().skip(1);
    let (Some(lib), None) = (args.next(), args.next()) else {
        eprintln!("usage: iterable-plugin-scanner LIBRARY");
        std::process::exit(2);
    };
    std::process::exit(iterable_host::scan::scanner_main(std::path::Path::new(
        &lib,
    )));
}
