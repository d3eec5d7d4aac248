//! What the fuzz targets share: read a whole input through the registry and
//! check the properties every reader must keep.
//!
//! Errors are fine; what must never happen is a panic, an error message of
//! more than one line, or data that reads but does not survive a round trip
//! through JSON lines.

use std::io::Cursor;
use std::sync::OnceLock;

use iterable_core::io::WriteSink;
use iterable_core::{OpenOptions, Record, Registry};
use iterable_plugin_api::sdk::streams::MemorySink;

/// The built-in registry, built once per process.
pub fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(Registry::with_builtins)
}

/// Asserts that an error displays on one line (the CLI prints it as is).
pub fn assert_one_line(e: &impl std::fmt::Display) {
    let msg = e.to_string();
    assert!(
        !msg.contains('\n') && !msg.contains('\r'),
        "multi-line error: {msg:?}"
    );
}

/// Reads every record of `data` opened with `opts`, then checks that the
/// records read survive a round trip through JSON lines unchanged.
pub fn read_all(data: &[u8], opts: &OpenOptions) {
    let records = match read_records(data.to_vec(), opts) {
        Ok(r) => r,
        Err(()) => return,
    };
    round_trip(&records);
}

/// Reads records until the end or the first error (checked to be one line).
fn read_records(data: Vec<u8>, opts: &OpenOptions) -> Result<Vec<Record>, ()> {
    let mut reader = match registry().open_stream(Box::new(Cursor::new(data)), None, opts) {
        Ok(r) => r,
        Err(e) => {
            assert_one_line(&e);
            return Err(());
        }
    };
    let mut records = Vec::new();
    let mut rec = Record::new();
    loop {
        match reader.read_record(&mut rec) {
            Ok(true) => records.push(rec.clone()),
            Ok(false) => return Ok(records),
            Err(e) => {
                assert_one_line(&e);
                // A reader that failed stays failed and does not panic.
                assert!(matches!(reader.read_record(&mut rec), Ok(false)));
                return Err(());
            }
        }
    }
}

/// Writes `records` as JSON lines, reads them back, and asserts equality.
fn round_trip(records: &[Record]) {
    let out = MemorySink::new();
    let jsonl = OpenOptions::new().format("jsonl");
    let mut writer = registry()
        .create_stream(Box::new(WriteSink(out.clone())), None, &jsonl)
        .expect("a JSON lines writer");
    for r in records {
        writer.write(r).expect("every record read can be written");
    }
    writer.finish().expect("finish the JSON lines writer");
    let bytes = out.contents();
    let back = read_records(bytes, &jsonl).expect("JSON lines written read back");
    assert_eq!(back, records, "records changed in a JSON lines round trip");
}
