//! `query`: an engine over input files.

use std::io::Write;

use iterable_core::{
    Error, ErrorKind, OpenOptions, Reader, Record, RecordReader, Registry, RunInfo, extensions,
};

use crate::args::QueryArgs;
use crate::output::{CliResult, stdout, write_json_line};

use super::{Session, open_input, parse_options};

/// Runs `query`.
pub fn run(s: &Session<'_>, a: &QueryArgs) -> CliResult {
    let registry = s.registry;
    let engine = registry.engine(&a.engine)?;
    let mut options = parse_options(&a.engine_options)?;
    let mut inputs: Vec<(String, Input)> = Vec::new();
    for (name, path) in tables(a)? {
        if inputs.iter().any(|(n, _)| *n == name) {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!("two inputs are both the table '{name}'; name them with --table NAME=PATH"),
            )
            .into());
        }
        let input = match offer_path(registry, engine.info().reads_paths, &path, a) {
            // The engine reads the file itself; the host opens it only if
            // the engine reads the stream after all.
            Some(offer) => {
                for (key, value) in offer {
                    options.set(format!("{key}.{name}"), value);
                }
                Input::Offered(Box::new(OnFirstRead::new(registry.clone(), path)))
            }
            None => Input::Opened(Box::new(open_input(
                registry,
                &path,
                a.format.as_ref(),
                a.codec.as_ref(),
                &a.options,
                None,
                None,
            )?)),
        };
        inputs.push((name, input));
    }
    let run = s.start_bare(&RunInfo {
        command: "query".into(),
        source: inputs
            .iter()
            .map(|(_, i)| i.name())
            .collect::<Vec<_>>()
            .join(","),
        target: a.output.clone(),
        format: engine.info().id.clone(),
    })?;
    let inputs = inputs
        .into_iter()
        .map(|(n, i)| {
            let reader: iterable_core::BoxReader = match i {
                Input::Opened(r) => {
                    run.count_input(r.progress());
                    r
                }
                Input::Offered(r) => r,
            };
            (n, reader)
        })
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

/// An input of the query.
enum Input {
    /// Opened by the host, its records streamed to the engine.
    Opened(Box<Reader>),
    /// A file whose path the engine was offered.
    Offered(Box<OnFirstRead>),
}

impl Input {
    fn name(&self) -> &str {
        match self {
            Input::Opened(r) => r.name().unwrap_or("-"),
            Input::Offered(r) => &r.path,
        }
    }
}

/// A file the host opens on the engine's first read. An engine that reads
/// it by its path releases the stream unread, and the file's format (a
/// plugin, for Parquet) is never loaded here.
struct OnFirstRead {
    registry: Registry,
    path: String,
    reader: Option<Reader>,
}

impl OnFirstRead {
    fn new(registry: Registry, path: String) -> Self {
        OnFirstRead {
            registry,
            path,
            reader: None,
        }
    }
}

impl RecordReader for OnFirstRead {
    fn read_record(&mut self, record: &mut Record) -> iterable_core::Result<bool> {
        let reader = match &mut self.reader {
            Some(r) => r,
            None => self
                .reader
                .insert(self.registry.open(&self.path, &OpenOptions::new())?),
        };
        reader.read_record(record)
    }
}

/// Whether to offer the engine the file itself, and the engine options
/// that say so (`path`, `format` and `compression`, each suffixed with the
/// table's name): when the engine reads files itself (DataFusion, which
/// then pushes projections and filters down) and the input is a plain
/// `.csv`, `.csv.gz` or `.parquet` file, named so, read with no format,
/// codec or option given.
fn offer_path(
    registry: &Registry,
    reads_paths: bool,
    input: &str,
    a: &QueryArgs,
) -> Option<[(&'static str, String); 3]> {
    let path = std::path::Path::new(input);
    if !reads_paths
        || input == "-"
        || a.format.is_some()
        || a.codec.is_some()
        || !a.options.is_empty()
        || !path.is_file()
    {
        return None;
    }
    let mut exts = extensions(input);
    let codec = exts
        .last()
        .and_then(|e| registry.codec_for_extension(e))
        .map(|c| c.info().id.clone());
    if codec.is_some() {
        exts.pop();
    }
    let format = registry
        .format_for_extension(exts.last()?)?
        .info()
        .id
        .clone();
    let compression = match (format.as_str(), codec.as_deref()) {
        ("csv" | "parquet", None) => "none",
        ("csv", Some("gzip")) => "gzip",
        _ => return None,
    };
    let abs = std::path::absolute(path).ok()?;
    Some([
        ("path", abs.to_string_lossy().into_owned()),
        ("format", format),
        ("compression", compression.to_owned()),
    ])
}
