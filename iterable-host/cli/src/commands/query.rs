//! `query`: an engine over input files.

use std::io::Write;

use iterable_core::{Error, ErrorKind, Reader, Record, RunInfo};

use crate::args::QueryArgs;
use crate::output::{CliResult, stdout, write_json_line};

use super::{Session, open_input, parse_options};

/// Runs `query`.
pub fn run(s: &Session<'_>, a: &QueryArgs) -> CliResult {
    let registry = s.registry;
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
        if inputs.iter().any(|(n, _): &(String, Reader)| *n == name) {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!("two inputs would both be the table '{name}'; rename one of the files"),
            )
            .into());
        }
        inputs.push((name, reader));
    }
    let options = parse_options(&a.engine_options)?;
    let run = s.start_bare(&RunInfo {
        command: "query".into(),
        source: a.inputs.join(","),
        target: None,
        format: engine.info().id.clone(),
    })?;
    for (_, reader) in &inputs {
        run.count_input(reader.progress());
    }
    let inputs = inputs
        .into_iter()
        .map(|(n, r)| (n, Box::new(r) as iterable_core::BoxReader))
        .collect();
    let results = match engine.execute(&a.query, inputs, &options) {
        Ok(r) => Reader::new(r, engine.info().id.clone(), None).observed_by(&run),
        Err(e) => return s.finish(run, Err(e.into())),
    };
    let mut progress = s.progress(&results);
    let mut results = results;
    let result = (|| {
        let mut out = stdout();
        let mut rec = Record::new();
        while results.read_record(&mut rec)? {
            write_json_line(&mut out, &rec)?;
            progress.record();
        }
        out.flush()?;
        Ok(())
    })();
    progress.finish();
    s.finish(run, result)
}

/// The table name of an input: its file name up to the first dot.
fn table_name(input: &str) -> String {
    let base = std::path::Path::new(input)
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_else(|| input.to_owned());
    base.split('.').next().unwrap_or(&base).to_owned()
}
