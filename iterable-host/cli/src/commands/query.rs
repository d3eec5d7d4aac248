//! `query`: an engine over input files.

use std::io::Write;

use iterable_core::{Error, ErrorKind, Record, Registry};

use crate::args::QueryArgs;
use crate::output::{CliResult, stdout, write_json_line};

use super::{open_input, parse_options};

/// Runs `query`.
pub fn run(registry: &Registry, a: &QueryArgs) -> CliResult {
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
