//! `convert`: from one format, codec or database to another; the output
//! appears only when the whole conversion succeeds.

use iterable_core::{Error, ErrorKind, OpenOptions, Record};

use crate::args::ConvertArgs;
use crate::output::CliResult;

use super::{Session, open_input, parse_options};

/// Runs `convert`.
pub fn run(s: &Session<'_>, a: &ConvertArgs) -> CliResult {
    let registry = s.registry;
    let out_is_uri = iterable_core::uri_scheme(&a.output).is_some();
    let in_table = a
        .in_table
        .as_ref()
        .or(if out_is_uri { None } else { a.table.as_ref() });
    let reader = open_input(
        registry,
        &a.input,
        a.in_format.as_ref(),
        a.in_codec.as_ref(),
        &a.in_options,
        in_table,
        a.query.as_ref(),
    )?;
    let mut opts = OpenOptions {
        format: a.format.clone(),
        codec: a.codec.clone(),
        options: parse_options(&a.options)?,
        table: if out_is_uri { a.table.clone() } else { None },
        query: None,
    };
    keep_schema(registry, &reader, &a.output, &mut opts);
    let mut writer = if a.output == "-" {
        if opts.format.is_none() {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                "writing to stdout (-) needs --format",
            )
            .into());
        }
        registry.create_stdout(&opts)?
    } else {
        registry.create(&a.output, &opts)?
    };
    let (mut reader, run) = s.start("convert", reader, Some(&a.output))?;
    let mut progress = s.progress(&reader);
    // On any error the writer is dropped unfinished, so no output appears.
    let result = (|| {
        let mut rec = Record::new();
        while reader.read_record(&mut rec)? {
            writer.write(&rec)?;
            progress.record();
        }
        Ok(())
    })();
    progress.finish();
    // Hooks hear how the run ended before the output is committed: a hook
    // that fails as it closes (or dies, isolated) fails the command, and
    // then no output appears either. (A commit that fails afterwards, a
    // full disk at the last flush, is the command's error all the same.)
    s.finish(run, result)?;
    let n = writer.finish()?;
    tracing::info!(records = n, input = %a.input, output = %a.output, "converted");
    Ok(())
}

/// Between two files of the same typed format (Parquet to Parquet, say),
/// the input's schema becomes the writer's `schema` option unless one is
/// given, so every column keeps its type (an `int8` stays an `int8`).
fn keep_schema(
    registry: &iterable_core::Registry,
    reader: &iterable_core::Reader,
    output: &str,
    opts: &mut OpenOptions,
) {
    if output == "-" || opts.options.contains("schema") {
        return;
    }
    let Ok(format) = registry.output_format(output, opts) else {
        return;
    };
    let info = format.info();
    if info.id != reader.format() || !info.options.iter().any(|o| o.name == "schema") {
        return;
    }
    if let Some(schema) = reader.schema() {
        tracing::debug!(%schema, "the output keeps the input's schema");
        opts.options.set("schema", schema);
    }
}
