//! Times the first use of a plugin, in a fresh process.
//!
//! `first_use PLUGIN_DIR FILE`: builds a host whose only plugin directory is
//! `PLUGIN_DIR` (manifests are read, nothing is loaded), then times the
//! first `open(FILE)` and the first record: for a plugin format that is
//! the library's dlopen, the layout check, the reader's creation and the
//! first batch. Prints one line of JSON with microseconds:
//! `{"build_us": .., "first_record_us": .., "format": ".."}`.
//! Run it once per sample: only the first use in a process is measured.
//!
//! `first_use PLUGIN_DIR FILE --isolated SCANNER`: the same with every
//! plugin out of process: the first use then starts the plugin's runner
//! (`SCANNER --serve`), which loads the library in its sandbox.

use std::time::Instant;

use iterable_core::{OpenOptions, Record};
use iterable_host::Host;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args_os().skip(1);
    let (Some(dir), Some(file)) = (args.next(), args.next()) else {
        return Err("usage: first_use PLUGIN_DIR FILE [--isolated SCANNER]".into());
    };
    let isolated = match (args.next(), args.next()) {
        (Some(flag), Some(scanner)) if flag == "--isolated" => Some(scanner),
        (None, None) => None,
        _ => return Err("usage: first_use PLUGIN_DIR FILE [--isolated SCANNER]".into()),
    };
    let t0 = Instant::now();
    let builder = Host::builder()
        .plugin_dir(dir)
        .default_dirs(false)
        .environment(false)
        .no_config()
        .cache_file(None);
    let builder = match isolated {
        Some(scanner) => builder
            .scanner(iterable_host::Scanner::program(scanner))
            .isolate_plugins(true),
        // SAFETY: the benchmark's own plugin; what is measured is the
        // in-process first use (the scanner's cost is measured apart).
        None => builder.scanner(unsafe { iterable_host::Scanner::in_process() }),
    };
    let host = builder.build()?;
    let built = t0.elapsed();
    let t1 = Instant::now();
    let mut reader = host.open(&file, &OpenOptions::new())?;
    let mut record = Record::new();
    let got = reader.read_record(&mut record)?;
    let first = t1.elapsed();
    if !got {
        return Err("the file holds no record".into());
    }
    println!(
        "{{\"build_us\": {:.1}, \"first_record_us\": {:.1}, \"format\": \"{}\"}}",
        built.as_secs_f64() * 1e6,
        first.as_secs_f64() * 1e6,
        reader.format()
    );
    Ok(())
}
