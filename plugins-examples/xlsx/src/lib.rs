//! Spreadsheets as an IterableData format plugin: reads `.xlsx`, `.xlsm`,
//! `.xls` and `.ods` (through calamine), writes `.xlsx` (through
//! rust_xlsxwriter).
//!
//! # Reading
//!
//! * `sheet=NAME` or `sheet=INDEX` (from 1) picks the sheet; the first by
//!   default. An unknown sheet is an error that lists the sheets.
//! * The first row holds the keys. An empty header cell is `column_N` (N
//!   counting from 1), and a repeated name gets `_2`, `_3`, … appended.
//! * Numbers arrive as numbers (a whole float as an integer), text as text,
//!   booleans as booleans, dates as dates (a whole day) or timestamps
//!   (with a time of day), errors such as `#DIV/0!` as their text. Empty
//!   cells are absent, and a row with no value at all is skipped.
//!
//! # Writing
//!
//! * One worksheet, named by `sheet=NAME` (`Sheet1` by default), with the
//!   keys in the first row, in the order they first appear.
//! * Numbers, booleans and text as such; dates, times and timestamps as
//!   Excel dates with a display format; decimals as numbers (Excel has no
//!   exact decimals); lists and maps as JSON text. Nulls are blank cells.
//! * A worksheet holds at most 1,048,575 records (plus the header row).

use iterable_plugin_api::prelude::*;

mod read;
mod write;

/// The spreadsheet format (see the [crate docs](crate)).
#[derive(Clone, Copy, Debug, Default)]
pub struct Xlsx;

impl Format for Xlsx {
    fn info(&self) -> FormatSpec {
        FormatSpec::new("xlsx")
            .description("Spreadsheets: read .xlsx, .xls and .ods sheets (header row as keys), write .xlsx")
            .extensions(["xlsx", "xlsm", "xls", "ods"])
            .option(
                "sheet",
                "the sheet to read, by name or by number from 1 (the first by default); the sheet to write (Sheet1 by default)",
            )
            .read_write()
    }

    fn reader(&self, mut input: Input, options: &Options) -> Result<Box<dyn RowReader>> {
        // A workbook is a zip archive (or an OLE file) read at random: it is
        // held in memory, as calamine holds the sheet it reads.
        let mut bytes = Vec::new();
        input.read_to_end(&mut bytes)?;
        let shared: std::sync::Arc<[u8]> = bytes.into();
        read::open(std::io::Cursor::new(shared), options.get("sheet"))
    }

    fn writer(&self, output: Output, options: &Options) -> Result<Box<dyn RowWriter>> {
        Ok(Box::new(write::XlsxWriter::new(
            output,
            options.get("sheet").unwrap_or("Sheet1"),
        )?))
    }
}

export_plugin! {
    name: "xlsx",
    version: env!("CARGO_PKG_VERSION"),
    description: "Spreadsheets: read .xlsx, .xls and .ods, write .xlsx",
    author: "IterableData for Rust contributors",
    license: "MIT OR Apache-2.0",
    homepage: "https://example.invalid/iterabledata-rs",
    formats: [Xlsx],
}
