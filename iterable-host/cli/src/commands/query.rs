//! `query`: an engine over input files.

use std::io::Write;

use iterable_core::{Error, ErrorKind, OpenOptions, Options, Reader, Record, RunInfo};

use crate::args::QueryArgs;
use crate::output::{CliResult, stdout, write_json_line};

use super::{Session, open_input, parse_options};

/// Runs `query`.
pub fn run(s: &Session<'_>, a: &QueryArgs) -> CliResult {
    let registry = s.registry;
    let engine = registry.engine(&a.engine)?;
    let mut options = parse_options(&a.engine_options)?;
    let mut inputs: Vec<(String, Reader)> = Vec::new();
    for (name, input) in tables(a)? {
        if inputs.iter().any(|(n, _)| *n == name) {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!("two inputs are both the table '{name}'; name them with --table NAME=PATH"),
            )
            .into());
        }
        let reader = open_input(
            registry,
            &input,
            a.format.as_ref(),
            a.codec.as_ref(),
            &a.options,
            None,
            None,
        )?;
        if engine.info().reads_paths {
            offer_path(&name, &input, &reader, a, &mut options);
        }
        inputs.push((name, reader));
    }
    let run = s.start_bare(&RunInfo {
        command: "query".into(),
        source: inputs
            .iter()
            .map(|(_, r)| r.name().unwrap_or("-"))
            .collect::<Vec<_>>()
            .join(","),
        target: a.output.clone(),
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
    let mut writer = match &a.output {
        None => None,
        Some(path) => {
            let opts = OpenOptions {
                format: a.out_format.clone(),
                ..OpenOptions::new()
            };
            match registry.create(path, &opts) {
                Ok(w) => Some(w),
                Err(e) => return s.finish(run, Err(e.into())),
            }
        }
    };
    let mut progress = s.progress(&results);
    let mut results = results;
    let result = (|| {
        let mut out = stdout();
        let mut rec = Record::new();
        while results.read_record(&mut rec)? {
            match writer.as_mut() {
                Some(w) => w.write(&rec)?,
                None => write_json_line(&mut out, &rec)?,
            }
            progress.record();
        }
        out.flush()?;
        Ok(())
    })();
    progress.finish();
    // As in `convert`: hooks close before the output is committed.
    s.finish(run, result)?;
    if let Some(w) = writer {
        w.finish()?;
    }
    Ok(())
}

/// The inputs by table name: `data`, `data2`, … for the positional ones,
/// then those given with `--table NAME=PATH`.
fn tables(a: &QueryArgs) -> Result<Vec<(String, String)>, Error> {
    let mut out: Vec<(String, String)> = a
        .inputs
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let name = if i == 0 {
                "data".to_owned()
            } else {
                format!("data{}", i + 1)
            };
            (name, p.clone())
        })
        .collect();
    for t in &a.tables {
        let (name, path) = t
            .split_once('=')
            .filter(|(n, p)| !p.is_empty() && is_table_name(n))
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidInput,
                    format!(
                        "--table {t:?}: expected NAME=PATH, NAME made of letters, digits and _ (not starting with a digit)"
                    ),
                )
            })?;
        out.push((name.to_owned(), path.to_owned()));
    }
    Ok(out)
}

fn is_table_name(n: &str) -> bool {
    n.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Offers the engine the file itself when it is a plain CSV (maybe
/// gzipped) or Parquet file read with no option: engine options
/// `path.NAME`, `format.NAME` and `compression.NAME`. An engine that reads
/// files itself (DataFusion) then pushes projections and filters down; any
/// other engine ignores them and reads the stream.
fn offer_path(name: &str, input: &str, reader: &Reader, a: &QueryArgs, options: &mut Options) {
    let path = std::path::Path::new(input);
    if input == "-" || !a.options.is_empty() || !path.is_file() {
        return;
    }
    let compression = match reader.codec() {
        None => "none",
        Some("gzip") if reader.format() == "csv" => "gzip",
        Some(_) => return,
    };
    if !matches!(reader.format(), "csv" | "parquet") {
        return;
    }
    let Ok(abs) = std::path::absolute(path) else {
        return;
    };
    options.set(format!("path.{name}"), abs.to_string_lossy().into_owned());
    options.set(format!("format.{name}"), reader.format().to_owned());
    options.set(format!("compression.{name}"), compression.to_owned());
}
