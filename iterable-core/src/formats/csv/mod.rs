//! Delimited text: `csv`, `tsv` and `psv`, on top of the `csv` crate.
//!
//! Values are read as strings; there is no type guessing. The writer takes
//! its header from the first record.

use std::io::Write;

use crate::error::{Error, ErrorKind, Result};
use crate::formats::text::decode_input;
use crate::io::{BoxRead, BoxSink};
use crate::options::{OptionSpec, OptionType, Options};
use crate::provider::{BoxReader, BoxWriter, Format, FormatInfo};

mod parser;
mod writer;

use parser::CsvReader;
pub use parser::{MAX_FIELDS, TextRow, TextRows};
use writer::CsvWriter;

/// A delimited-text format (`csv`, `tsv` or `psv`).
pub struct DelimitedFormat {
    info: FormatInfo,
    delimiter: u8,
}

impl DelimitedFormat {
    /// Comma-separated values.
    pub fn csv() -> Self {
        Self::new("csv", "Comma-separated values (RFC 4180)", &["csv"], b',')
    }

    /// Tab-separated values.
    pub fn tsv() -> Self {
        Self::new("tsv", "Tab-separated values", &["tsv", "tab"], b'\t')
    }

    /// Pipe-separated values.
    pub fn psv() -> Self {
        Self::new("psv", "Pipe-separated values", &["psv"], b'|')
    }

    fn new(id: &str, description: &str, extensions: &[&str], delimiter: u8) -> Self {
        let shown = match delimiter {
            b'\t' => "\\t".to_owned(),
            d => (d as char).to_string(),
        };
        let options = vec![
            OptionSpec::new("delimiter", OptionType::Char, "field separator (one character, or \\t)")
                .default_value(&shown),
            OptionSpec::new("quote", OptionType::Char, "quote character").default_value("\""),
            OptionSpec::new(
                "header",
                OptionType::Bool,
                "the first row holds field names; when off, fields are named 1, 2, 3...",
            )
            .default_value("true"),
            OptionSpec::new(
                "encoding",
                OptionType::Text,
                "text encoding: utf-8 (a BOM is skipped), utf-8-sig (write a BOM), or a label such as latin1, windows-1251, utf-16le",
            )
            .default_value("utf-8"),
            OptionSpec::new(
                "flexible",
                OptionType::Bool,
                "reading: allow rows with more or fewer fields than the header",
            )
            .default_value("false"),
            OptionSpec::new(
                "strict",
                OptionType::Bool,
                "writing: a record whose fields differ from the header is an error; when off, fields are matched by name (missing ones empty, extra ones dropped)",
            )
            .default_value("true"),
            OptionSpec::new(
                "line_terminator",
                OptionType::Choice(vec!["lf".into(), "crlf".into()]),
                "writing: line ending",
            )
            .default_value("lf"),
        ];
        DelimitedFormat {
            info: FormatInfo {
                id: id.into(),
                description: description.into(),
                extensions: extensions.iter().map(|s| s.to_string()).collect(),
                magic: vec![],
                can_read: true,
                can_write: true,
                options,
                reads_paths: false,
            },
            delimiter,
        }
    }

    /// Opens `input` for reading rows as text, without building records:
    /// [`TextRows::next_row`] lends each row's fields as slices of one
    /// string. It is the reader behind [`Format::reader`] (same options,
    /// same errors, same rows), minus the copy of every field into a
    /// [`Record`]; use it to hand rows on in bulk (for example into a
    /// plugin's batch) or to look at a few fields of many rows.
    ///
    /// ```
    /// use iterable_core::formats::DelimitedFormat;
    /// use iterable_core::Options;
    ///
    /// let input = Box::new(&b"id,city\n1,\"Washington, D.C.\"\n2,Z\xc3\xbcrich\n"[..]);
    /// let mut rows = DelimitedFormat::csv().text_rows(input, &Options::new())?;
    /// let row = rows.next_row()?.expect("a row");
    /// assert_eq!(row.names().as_slice(), ["id", "city"]);
    /// assert_eq!(row.get(1), Some("Washington, D.C."));
    /// assert_eq!(row.text(), "1Washington, D.C.");
    /// assert_eq!(row.ends(), [1, 17]);
    /// let row = rows.next_row()?.expect("a row");
    /// assert_eq!(row.iter().collect::<Vec<_>>(), ["2", "Zürich"]);
    /// assert!(rows.next_row()?.is_none());
    /// # Ok::<(), iterable_core::Error>(())
    /// ```
    pub fn text_rows(&self, input: BoxRead, options: &Options) -> Result<TextRows> {
        let mut input = input;
        let mut delimiter = self.byte_option(options, "delimiter", self.delimiter)?;
        // A `.csv` that is plainly tab-separated (its header has tabs and no
        // comma) is read with a tab, unless a delimiter is given.
        if self.delimiter == b',' && !options.contains("delimiter") {
            let (head, replay) = crate::io::peek(input, HEADER_PEEK)?;
            input = replay;
            let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
            if line.contains(&b'\t') && !line.contains(&b',') {
                tracing::debug!("the header has tabs and no comma: reading with a tab");
                delimiter = b'\t';
            }
        }
        let quote = self.byte_option(options, "quote", b'"')?;
        let header = options.bool_or("header", true)?;
        let flexible = options.bool_or("flexible", false)?;
        let input = decode_input(input, options.get("encoding"))?;
        Ok(TextRows {
            reader: CsvReader::new(input, delimiter, quote, header, flexible),
            odd_names: None,
        })
    }

    fn byte_option(&self, options: &Options, key: &str, default: u8) -> Result<u8> {
        let c = options.char_or(key, default as char)?;
        u8::try_from(c as u32)
            .ok()
            .filter(u8::is_ascii)
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidOption,
                    format!(
                        "invalid value {c:?} for option '{key}': expected a single ASCII character"
                    ),
                )
            })
    }
}

impl Format for DelimitedFormat {
    fn info(&self) -> &FormatInfo {
        &self.info
    }

    fn reader(&self, input: BoxRead, options: &Options) -> Result<BoxReader> {
        Ok(Box::new(self.text_rows(input, options)?))
    }

    fn writer(&self, output: BoxSink, options: &Options) -> Result<BoxWriter> {
        let delimiter = self.byte_option(options, "delimiter", self.delimiter)?;
        let quote = self.byte_option(options, "quote", b'"')?;
        let header = options.bool_or("header", true)?;
        let strict = options.bool_or("strict", true)?;
        let terminator = match options.get("line_terminator").unwrap_or("lf") {
            t if t.eq_ignore_ascii_case("crlf") => ::csv::Terminator::CRLF,
            _ => ::csv::Terminator::Any(b'\n'),
        };
        let mut output = output;
        match options
            .get("encoding")
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("utf-8" | "utf8") => {}
            Some("utf-8-sig" | "utf-8-bom") => output.write_all(b"\xEF\xBB\xBF")?,
            Some(other) => {
                return Err(Error::new(
                    ErrorKind::InvalidOption,
                    format!(
                        "invalid value {other:?} for option 'encoding' when writing: expected utf-8 or utf-8-sig"
                    ),
                ));
            }
        }
        let wtr = ::csv::WriterBuilder::new()
            .delimiter(delimiter)
            .quote(quote)
            .terminator(terminator)
            .has_headers(false)
            .flexible(true)
            .buffer_capacity(256 * 1024)
            .from_writer(output);
        Ok(Box::new(CsvWriter {
            wtr: Some(wtr),
            header,
            strict,
            names: None,
            cell: String::new(),
            count: 0,
        }))
    }

    fn sniff(&self, head: &[u8]) -> Option<(u32, Options)> {
        sniff_delimiter(head, self.delimiter).map(|score| (score, Options::new()))
    }
}

/// How much of a CSV is looked at to tell a tab-separated header.
const HEADER_PEEK: usize = 64 * 1024;

/// Scores how consistently `delim` splits the first records of `head`,
/// parsing them as CSV so quoted fields (with newlines) count right.
fn sniff_delimiter(head: &[u8], delim: u8) -> Option<u32> {
    if head.contains(&0) {
        return None;
    }
    let mut rdr = ::csv::ReaderBuilder::new()
        .delimiter(delim)
        .has_headers(false)
        .flexible(true)
        .from_reader(head);
    let mut widths = Vec::new();
    let mut rec = ::csv::ByteRecord::new();
    while widths.len() < 50 {
        match rdr.read_byte_record(&mut rec) {
            Ok(true) => widths.push(rec.len()),
            Ok(false) => break,
            Err(_) => return None,
        }
    }
    // The head may end in the middle of a record.
    if widths.len() > 1 && !head.ends_with(b"\n") {
        widths.pop();
    }
    let first = *widths.first()?;
    if first < 2 || widths.iter().any(|&w| w != first) {
        return None;
    }
    Some(10 + first.min(50) as u32)
}

#[cfg(test)]
mod tests {
    use super::parser::{count_lines, find_stop};
    use super::*;
    use crate::record::Record;
    use std::io::{self, Read};

    /// Hands out its bytes `step` at a time, so that rows span refills.
    struct Trickle {
        data: Vec<u8>,
        at: usize,
        step: usize,
    }

    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.step.min(buf.len()).min(self.data.len() - self.at);
            buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    /// What a read gave: the rows, and the error's kind, line and byte.
    type Outcome = (
        Vec<Vec<String>>,
        Option<(ErrorKind, Option<u64>, Option<u64>)>,
    );

    /// Reads `data` with every step size from 1 to 7 and whole; returns the
    /// rows read and the error, the same for every step or it panics.
    fn read(data: &[u8]) -> Outcome {
        read_in_steps(data, &[1, 2, 3, 4, 5, 6, 7, usize::MAX], &Options::new())
    }

    /// Reads `data` with `opts`, handed out `step` bytes at a time for each
    /// of `steps`; the outcome must be the same for every step.
    fn read_in_steps(data: &[u8], steps: &[usize], opts: &Options) -> Outcome {
        let mut outcome = None;
        for &step in steps {
            let input = Trickle {
                data: data.to_vec(),
                at: 0,
                step,
            };
            let mut rdr = DelimitedFormat::csv()
                .reader(Box::new(input), opts)
                .unwrap();
            let mut rows = Vec::new();
            let mut rec = Record::new();
            let err = loop {
                match rdr.read_record(&mut rec) {
                    Ok(true) => rows.push(
                        rec.values()
                            .iter()
                            .map(|v| v.as_str().unwrap_or("").to_owned())
                            .collect::<Vec<_>>(),
                    ),
                    Ok(false) => break None,
                    Err(e) => break Some((e.kind(), e.position().line, e.position().byte)),
                }
            };
            let this = (rows, err);
            match &outcome {
                None => outcome = Some(this),
                Some(first) => assert_eq!(first, &this, "step {step}"),
            }
        }
        outcome.unwrap()
    }

    #[test]
    fn rows_spanning_refills_read_the_same() {
        let (rows, err) = read(b"a,b\r\n\r\n\"x\r\ny\",\"q\"\"\"\r\n\n2,\xc3\xa9\r\n");
        assert_eq!(err, None);
        assert_eq!(rows, [vec!["x\r\ny", "q\""], vec!["2", "é"]]);
    }

    #[test]
    fn unterminated_quote_is_found_whatever_the_refills() {
        // The row with the open quote starts on line 5, at byte 16.
        let (rows, err) = read(b"a,b\n\"x\ny\",1\n2,3\n4,\"oops\n5,6\n7,8\n");
        assert_eq!(rows.len(), 2);
        assert_eq!(err, Some((ErrorKind::Parse, Some(5), Some(16))));
        // A closed quote at the very end is fine, and so is a stray quote
        // inside an unquoted field.
        let (rows, err) = read(b"a,b\n1,\"two\"");
        assert_eq!((rows, err), (vec![vec!["1".into(), "two".into()]], None));
        let (rows, err) = read(b"a,b\n1,t\"wo\n");
        assert_eq!((rows, err), (vec![vec!["1".into(), "t\"wo".into()]], None));
        // In the header.
        let (_, err) = read(b"a,\"b\n1,2\n");
        assert_eq!(err, Some((ErrorKind::Parse, Some(1), Some(0))));
    }

    #[test]
    fn errors_point_at_the_row_start_after_crlf_and_blank_lines() {
        let (rows, err) = read(b"a,b\r\n\r\n1,2\r\n\r\n\r\n3,4,5\r\n");
        assert_eq!(rows.len(), 1);
        assert_eq!(err, Some((ErrorKind::Parse, Some(6), Some(16))));
        // A character split by a field boundary is invalid in both fields.
        let (_, err) = read(b"a,b\n1,ok\n\xc3,\xa9\n");
        assert_eq!(err, Some((ErrorKind::Encoding, Some(3), Some(9))));
    }

    /// The rows `csv_core` (the `csv` crate's parser) reads from `data`.
    fn core_rows(data: &[u8]) -> Vec<Vec<String>> {
        let mut rdr = csv_core::ReaderBuilder::new().build();
        let (mut out, mut ends) = (vec![0u8; data.len() + 1], vec![0usize; data.len() + 2]);
        let mut rows = Vec::new();
        let mut input = data;
        let (mut used, mut width) = (0, 0);
        loop {
            let (res, nin, nout, nend) =
                rdr.read_record(input, &mut out[used..], &mut ends[width..]);
            input = &input[nin..];
            used += nout;
            width += nend;
            match res {
                csv_core::ReadRecordResult::Record => {
                    let mut start = 0;
                    let row = ends[..width]
                        .iter()
                        .map(|&e| {
                            let f = String::from_utf8(out[start..e].to_vec()).unwrap();
                            start = e;
                            f
                        })
                        .collect();
                    rows.push(row);
                    (used, width) = (0, 0);
                }
                csv_core::ReadRecordResult::End => return rows,
                _ => {}
            }
        }
    }

    #[test]
    fn rows_are_those_the_csv_crate_reads() {
        // Random texts over the bytes that matter, read whole and in
        // pieces of every size, against csv_core read whole.
        let alphabet: [&[u8]; 8] = [
            b"a",
            b",",
            b"\"",
            b"\r",
            b"\n",
            "\u{e9}".as_bytes(),
            b" ",
            b"\"\"",
        ];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..3000 {
            let mut data = Vec::new();
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 40) as usize;
            for _ in 0..len {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                data.extend_from_slice(alphabet[(seed % 8) as usize]);
            }
            let want = core_rows(&data);
            let (got, err) = read_raw(&data);
            match err {
                None => assert_eq!(got, want, "{:?}", String::from_utf8_lossy(&data)),
                // Ending inside quotes: csv_core keeps the last row, we refuse it.
                Some((ErrorKind::Parse, ..)) => {
                    assert_eq!(
                        got[..],
                        want[..want.len() - 1],
                        "{:?}",
                        String::from_utf8_lossy(&data)
                    )
                }
                Some(e) => panic!("{e:?} for {:?}", String::from_utf8_lossy(&data)),
            }
        }
    }

    /// Like `read`, with no header and rows of any width.
    fn read_raw(data: &[u8]) -> Outcome {
        let opts = Options::new()
            .with("header", "false")
            .with("flexible", "true");
        read_in_steps(data, &[1, 2, 3, usize::MAX], &opts)
    }

    #[test]
    fn lines_and_stops_are_found_at_every_offset() {
        for len in 0..200 {
            for at in 0..len {
                let mut data = vec![b'x'; len];
                data[at] = b'\n';
                assert_eq!(count_lines(&data), 1);
                assert_eq!(find_stop(&data, b';'), at);
                data[at] = b';';
                assert_eq!(find_stop(&data, b';'), at);
                // A byte just above or below a stop is not one.
                data[at] = b'\x0b';
                assert_eq!(find_stop(&data, b'\t'), len);
            }
        }
        let many = vec![b'\n'; 100_000];
        assert_eq!(count_lines(&many), 100_000);
    }
}
