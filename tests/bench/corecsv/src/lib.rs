//! A benchmark plugin: the core's own CSV reader served through the plugin
//! boundary under the id `csvp` (extension `.csvp`).
//!
//! Reading `rows.csvp` with it and `rows.csv` with the built-in `csv` runs
//! the same parser; the difference is what the boundary costs: the bytes
//! reach the plugin through the host's byte source, and the rows come back
//! in flat batches that the host turns into records. The plugin takes the
//! parser's rows as text ([`DelimitedFormat::text_rows`]) and hands each one
//! over whole ([`BatchBuilder::push_text_row`]), as a plugin author with a
//! parser of their own would.
//! `scripts/bench.sh` compares the two.

use std::sync::Arc;

use iterable_core::formats::{DelimitedFormat, TextRows};
use iterable_core::{ErrorKind, FieldNames, Format as _};
use iterable_plugin_api::prelude::*;

/// The format `csvp`: CSV read by `iterable_core::formats::DelimitedFormat::csv()`.
pub struct CoreCsv;

/// The reader options of the core's CSV format, declared under the same
/// names, descriptions and defaults.
const READ_OPTIONS: &[&str] = &["delimiter", "quote", "header", "encoding", "flexible"];

impl Format for CoreCsv {
    fn info(&self) -> FormatSpec {
        let mut spec = FormatSpec::new("csvp")
            .description("CSV read by the core's reader, through the plugin boundary (benchmark)")
            .extensions(["csvp"]);
        for o in &DelimitedFormat::csv().info().options {
            if READ_OPTIONS.contains(&o.name.as_str()) {
                spec = match &o.default {
                    Some(d) => spec.option_default(&o.name, &o.description, d),
                    None => spec.option(&o.name, &o.description),
                };
            }
        }
        spec
    }

    fn reader(&self, input: Input, options: &Options) -> Result<Box<dyn RowReader>> {
        let mut core = iterable_core::Options::new();
        for (k, v) in options.iter() {
            core.set(k, v);
        }
        let rows = DelimitedFormat::csv()
            .text_rows(Box::new(input), &core)
            .map_err(plugin_error)?;
        Ok(Box::new(Rows { rows, fields: None }))
    }
}

/// Turns the core's error into the plugin API's, keeping kind and line.
fn plugin_error(e: iterable_core::Error) -> Error {
    let kind = match e.kind() {
        ErrorKind::Io => RErrorKind::IO,
        ErrorKind::Parse => RErrorKind::PARSE,
        ErrorKind::Encoding => RErrorKind::ENCODING,
        ErrorKind::Compression => RErrorKind::COMPRESSION,
        ErrorKind::InvalidOption | ErrorKind::UnknownOption => RErrorKind::INVALID_OPTION,
        ErrorKind::Schema => RErrorKind::SCHEMA,
        _ => RErrorKind::OTHER,
    };
    let err = Error::new(kind, e.message());
    match e.position().line {
        Some(line) => err.with_line(line),
        None => err,
    }
}

/// Rows of the core's CSV parser, each handed to the host's batch whole
/// (one copy of the row's text, not one call per field).
struct Rows {
    rows: TextRows,
    /// The field names the batch was last given (the parser shares them
    /// between rows, so a pointer comparison tells a change).
    fields: Option<FieldNames>,
}

impl Rows {
    /// Reads the next row into `batch`; `false` at the end of the input.
    fn push_next(&mut self, batch: &mut BatchBuilder<'_>) -> Result<bool> {
        let Some(row) = self.rows.next_row().map_err(plugin_error)? else {
            return Ok(false);
        };
        let names = row.names();
        let same = batch.field_count() == names.len()
            && self.fields.as_ref().is_some_and(|f| Arc::ptr_eq(f, names));
        if !same {
            batch.set_fields(names);
            self.fields = Some(Arc::clone(names));
        }
        batch.push_text_row(row.text(), row.ends());
        Ok(true)
    }
}

impl RowReader for Rows {
    fn read_row(&mut self, row: &mut BatchBuilder<'_>) -> Result<bool> {
        self.push_next(row)
    }

    fn read_batch(&mut self, batch: &mut BatchBuilder<'_>, max_rows: usize) -> Result<bool> {
        // The batch arrives empty, field names included.
        self.fields = None;
        while batch.row_count() < max_rows && !batch.is_full() {
            if !self.push_next(batch)? {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

export_plugin! {
    name: "corecsv",
    version: env!("CARGO_PKG_VERSION"),
    description: "Benchmark plugin: the core's CSV reader under the id csvp",
    author: "IterableData for Rust contributors",
    license: "MIT OR Apache-2.0",
    formats: [CoreCsv],
}

#[cfg(test)]
mod tests {
    use super::*;
    use iterable_plugin_api::{ByteSourceBox, CellRef, RBatch, ROptions};

    #[test]
    fn rows_cross_in_batches_as_the_core_reads_them() {
        let module = get_library();
        let formats = (module.formats())().unwrap();
        assert_eq!(formats[0].info().id.as_str(), "csvp");
        let input = ByteSourceBox::from_reader(&b"a,b\n1,\"x, y\"\n2,Z\xc3\xbcrich\n"[..]);
        let mut reader = formats[0].open_reader(input, ROptions::new()).unwrap();
        let mut batch = RBatch::new();
        assert!(reader.read_batch(&mut batch, 1).unwrap());
        assert_eq!(batch.rows, 1);
        assert!(reader.read_batch(&mut batch, 1024).unwrap());
        let view = batch.validated().unwrap();
        assert_eq!(view.field_names().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(view.row(0).unwrap().get(1), CellRef::Str("Zürich"));
        assert!(!reader.read_batch(&mut batch, 1024).unwrap());
    }

    #[test]
    fn errors_keep_their_kind_and_line() {
        let module = get_library();
        let formats = (module.formats())().unwrap();
        let input = ByteSourceBox::from_reader(&b"a,b\n1,2\n3,\"open\n"[..]);
        let mut reader = formats[0].open_reader(input, ROptions::new()).unwrap();
        let mut batch = RBatch::new();
        // The good row comes first, then the error.
        assert!(reader.read_batch(&mut batch, 1024).unwrap());
        assert_eq!(batch.rows, 1);
        let err = reader.read_batch(&mut batch, 1024).unwrap_err();
        assert_eq!(err.kind, RErrorKind::PARSE);
        assert_eq!(err.line.into_option(), Some(3));
        assert!(
            err.message.as_str().contains("unterminated quoted field"),
            "{err:?}"
        );
    }
}
