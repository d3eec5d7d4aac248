//! Apache Parquet as an IterableData format plugin (read and write,
//! `.parquet`, recognised by its `PAR1` magic too), on the `parquet` crate
//! with arrow-rs.
//!
//! # Reading
//!
//! * The input is copied to an anonymous temporary file (a Parquet file's
//!   footer is at its end, and the host hands a stream), then read row group
//!   by row group: memory holds one row group's columns, not the file.
//! * Every type keeps its meaning: integers of every width and floats as
//!   numbers (a `uint64` above `i64::MAX` as an exact decimal), strings,
//!   binary, bools, dates, times and timestamps with their unit and time
//!   zone, decimals with their precision and scale, lists, structs (maps
//!   with their fields in order), maps (with text keys as maps, others as
//!   a list of `{key, value}`), nulls. Dictionary-encoded columns read as
//!   their values.
//! * Errors name the row group: `row group 3 of 8: …`.
//!
//! # Writing
//!
//! * The schema is `--out-option schema=…` (see [`schema`] for the text),
//!   or inferred from the first batch of records: integers become `int64`,
//!   floats `float64`, text `string`, bytes `binary`, typed values their
//!   own type, lists `list<…>`, maps `struct<…>` over the keys seen. A
//!   column of only nulls in the first batch is `string`.
//! * With a schema, text is parsed into the column's type (so a CSV
//!   converts straight to typed columns); a value that does not fit is a
//!   `SCHEMA` error naming the field and the record.
//! * `compression=zstd|snappy|gzip|none` (zstd by default) and
//!   `row_group_size=N` rows (122,880 by default).

use iterable_plugin_api::prelude::*;

mod arrays;
mod read;
pub mod schema;
mod write;

/// The default number of rows per row group (DuckDB's, too).
pub const DEFAULT_ROW_GROUP_SIZE: usize = 122_880;

/// The Parquet format (see the [crate docs](crate)).
#[derive(Clone, Copy, Debug, Default)]
pub struct Parquet;

impl Format for Parquet {
    fn info(&self) -> FormatSpec {
        FormatSpec::new("parquet")
            .description("Apache Parquet: columnar, typed, compressed (read row group by row group; write with zstd, snappy or gzip)")
            .extensions(["parquet", "parq"])
            .magic(b"PAR1")
            .option_choices(
                "compression",
                "the codec of written column chunks",
                &["zstd", "snappy", "gzip", "none"],
                "zstd",
            )
            .option_default(
                "row_group_size",
                "rows per row group when writing",
                "122880",
            )
            .option(
                "schema",
                "the schema to write, as `name: type, …` (bool, int8…int64, uint8…uint64, float32, float64, string, binary, date, time[unit], timestamp[unit, tz], decimal(p, s), list<t>, struct<…>, map<k, v>); inferred from the first batch when absent",
            )
            .read_write()
            .reads_paths()
    }

    fn reader(&self, input: Input, _options: &Options) -> Result<Box<dyn RowReader>> {
        Ok(Box::new(read::ParquetReader::open(input)?))
    }

    fn path_reader(
        &self,
        path: &std::path::Path,
        _options: &Options,
    ) -> Option<Result<Box<dyn RowReader>>> {
        Some(read::ParquetReader::open_path(path).map(|r| Box::new(r) as Box<dyn RowReader>))
    }

    fn path_schema(&self, path: &std::path::Path, _options: &Options) -> Option<Result<String>> {
        Some(read::schema_of(path))
    }

    fn writer(&self, output: Output, options: &Options) -> Result<Box<dyn RowWriter>> {
        let compression = write::compression(options.get_or("compression", "zstd"))?;
        let row_group_size = match options.get_parse::<usize>("row_group_size")? {
            Some(0) => {
                return Err(Error::invalid_option(
                    "row_group_size",
                    "must be at least 1 row",
                ));
            }
            Some(n) => n,
            None => DEFAULT_ROW_GROUP_SIZE,
        };
        let schema = match options.get("schema") {
            Some(text) => {
                Some(schema::parse(text).map_err(|e| Error::invalid_option("schema", e))?)
            }
            None => None,
        };
        Ok(Box::new(write::ParquetWriter::new(
            output,
            schema,
            compression,
            row_group_size,
        )))
    }
}

export_plugin! {
    name: "parquet",
    version: env!("CARGO_PKG_VERSION"),
    description: "Apache Parquet format: read and write .parquet files with every column's type",
    author: "IterableData for Rust contributors",
    license: "MIT OR Apache-2.0",
    homepage: "https://example.invalid/iterabledata-rs",
    formats: [Parquet],
}
