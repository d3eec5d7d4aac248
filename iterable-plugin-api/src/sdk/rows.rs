//! Row readers and writers made from closures over an [`Input`] or an
//! [`Output`], for line-oriented and simple formats.

use std::io::BufRead;

use crate::abi::{BatchBuilder, RowView};
use crate::sdk::error::{Error, Result};
use crate::sdk::io::{Input, Output};
use crate::sdk::traits::{RowReader, RowWriter};

impl Input {
    /// A reader for line-oriented formats: calls `parse(line, row)` for each
    /// line (without `\n` / `\r\n`, UTF-8 BOM removed from the first line).
    /// A line for which `parse` pushes nothing is skipped; errors get the
    /// 1-based line number unless they already have one; a line that is not
    /// UTF-8 is an `ENCODING` error.
    ///
    /// ```
    /// # use iterable_plugin_api::prelude::*;
    /// # fn f(input: Input) -> Box<dyn RowReader> {
    /// input.line_reader(|line, row| {
    ///     for cell in line.split(',') {
    ///         row.push_str(cell);
    ///     }
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn line_reader<F>(self, parse: F) -> Box<dyn RowReader>
    where
        F: FnMut(&str, &mut BatchBuilder<'_>) -> Result<()> + Send + 'static,
    {
        Box::new(LineReader {
            input: self,
            parse,
            buf: Vec::new(),
            line: 0,
        })
    }
}

struct LineReader<F> {
    input: Input,
    parse: F,
    buf: Vec<u8>,
    line: u64,
}

impl<F> RowReader for LineReader<F>
where
    F: FnMut(&str, &mut BatchBuilder<'_>) -> Result<()> + Send,
{
    fn read_row(&mut self, row: &mut BatchBuilder<'_>) -> Result<bool> {
        self.buf.clear();
        if self.input.read_until(b'\n', &mut self.buf)? == 0 {
            return Ok(false);
        }
        self.line += 1;
        let line = self.line;
        let mut bytes = self.buf.as_slice();
        if let Some(rest) = bytes.strip_suffix(b"\n") {
            bytes = rest.strip_suffix(b"\r").unwrap_or(rest);
        }
        if line == 1 {
            bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
        }
        let text = std::str::from_utf8(bytes)
            .map_err(|e| Error::encoding(format!("invalid UTF-8: {e}")).with_line(line))?;
        (self.parse)(text, row).map_err(|e| match e.line {
            Some(_) => e,
            None => e.with_line(line),
        })?;
        Ok(true)
    }
}

impl Output {
    /// A writer from a closure called once per row (state can live in the
    /// closure). The adapter flushes and finishes the output afterwards.
    ///
    /// ```
    /// # use iterable_plugin_api::prelude::*;
    /// # fn f(output: Output) -> Box<dyn RowWriter> {
    /// output.row_writer(|out, row| {
    ///     let cells: Vec<String> = row.iter().map(|(_, v)| v.to_string()).collect();
    ///     Ok(writeln!(out, "{}", cells.join(","))?)
    /// })
    /// # }
    /// ```
    pub fn row_writer<F>(self, write: F) -> Box<dyn RowWriter>
    where
        F: FnMut(&mut Output, RowView<'_>) -> Result<()> + Send + 'static,
    {
        Box::new(FnWriter { out: self, write })
    }
}

struct FnWriter<F> {
    out: Output,
    write: F,
}

impl<F> RowWriter for FnWriter<F>
where
    F: FnMut(&mut Output, RowView<'_>) -> Result<()> + Send,
{
    fn write_row(&mut self, row: RowView<'_>) -> Result<()> {
        (self.write)(&mut self.out, row)
    }
}
