//! Delimited text: `csv`, `tsv` and `psv`, on top of the `csv` crate.
//!
//! Values are read as strings; there is no type guessing. The writer takes
//! its header from the first record.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::sync::Arc;

use crate::error::{Error, ErrorKind, Position, Result};
use crate::io::{BoxRead, BoxSink};
use crate::options::{OptionSpec, OptionType, Options};
use crate::provider::{BoxReader, BoxWriter, Format, FormatInfo, RecordReader, RecordWriter};
use crate::record::{FieldNames, Record};
use crate::value::Value;

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
            },
            delimiter,
        }
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
        let delimiter = self.byte_option(options, "delimiter", self.delimiter)?;
        let quote = self.byte_option(options, "quote", b'"')?;
        let header = options.bool_or("header", true)?;
        let flexible = options.bool_or("flexible", false)?;
        let input = decode_input(input, options.get("encoding"))?;
        let tracker = QuoteTracker::new(input, quote, delimiter);
        let rdr = ::csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .quote(quote)
            .has_headers(false)
            .flexible(true)
            .buffer_capacity(256 * 1024)
            .from_reader(tracker);
        Ok(Box::new(CsvReader {
            rdr,
            header,
            flexible,
            names: None,
            raw: ::csv::ByteRecord::new(),
            quote: quote as char,
            start: None,
        }))
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

/// Turns the input into UTF-8 without a BOM.
pub(crate) fn decode_input(input: BoxRead, encoding: Option<&str>) -> Result<BoxRead> {
    let label = encoding.unwrap_or("utf-8").trim().to_ascii_lowercase();
    if matches!(label.as_str(), "utf-8" | "utf8" | "utf-8-sig" | "utf-8-bom") {
        let (head, rest) = crate::io::peek(input, 3)?;
        let mut rest = rest;
        if head == b"\xEF\xBB\xBF" {
            let mut bom = [0u8; 3];
            rest.read_exact(&mut bom)?;
        }
        return Ok(rest);
    }
    let enc = encoding_rs::Encoding::for_label(label.as_bytes()).ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidOption,
            format!("invalid value {label:?} for option 'encoding': expected utf-8 or an encoding label such as latin1, windows-1251, utf-16le"),
        )
    })?;
    let decoder = encoding_rs_io::DecodeReaderBytesBuilder::new()
        .encoding(Some(enc))
        .build(input);
    Ok(Box::new(decoder))
}

/// Watches the raw bytes on their way to the CSV parser. It remembers
/// whether the input ended inside a quoted field, which the `csv` crate
/// silently accepts, and where each record starts (line and byte): the
/// `csv` crate reports a record's position from before the line end of the
/// previous record (the `\n` of a `\r\n`) and before skipped blank lines, so
/// its line numbers are off after CRLF line ends and blank lines. It follows
/// the parser's rules: a quote opens a quoted field only at the start of a
/// field, a doubled quote inside one is an escaped quote, `\r`, `\n` and
/// `\r\n` end a record, and blank lines are skipped.
struct QuoteTracker {
    inner: BoxRead,
    quote: u8,
    delimiter: u8,
    state: QState,
    eof: bool,
    /// The 1-based line of the next byte to scan.
    line: u64,
    /// How many bytes were scanned.
    offset: u64,
    /// Where the records scanned but not yet taken by the parser start.
    starts: VecDeque<Position>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum QState {
    /// Between records: line ends here are blank lines.
    RecordStart,
    FieldStart,
    Unquoted,
    Quoted,
    QuoteInQuoted,
}

impl QuoteTracker {
    fn new(inner: BoxRead, quote: u8, delimiter: u8) -> Self {
        QuoteTracker {
            inner,
            quote,
            delimiter,
            state: QState::RecordStart,
            eof: false,
            line: 1,
            offset: 0,
            starts: VecDeque::new(),
        }
    }

    fn unterminated(&self) -> bool {
        self.eof && self.state == QState::Quoted
    }

    /// The start of the next record the parser returns.
    fn next_start(&mut self) -> Option<Position> {
        self.starts.pop_front()
    }

    /// The state after byte `b` at the start of a field or after a closing
    /// quote.
    fn after_boundary(&mut self, b: u8) -> QState {
        if b == self.quote {
            QState::Quoted
        } else if b == self.delimiter {
            QState::FieldStart
        } else if b == b'\n' || b == b'\r' {
            self.line += u64::from(b == b'\n');
            QState::RecordStart
        } else {
            QState::Unquoted
        }
    }

    fn scan(&mut self, buf: &[u8]) {
        let (q, d) = (self.quote, self.delimiter);
        let mut i = 0;
        while i < buf.len() {
            match self.state {
                QState::Quoted => {
                    let (end, closed) = match memchr(q, &buf[i..]) {
                        Some(j) => (i + j, true),
                        None => (buf.len(), false),
                    };
                    self.line += buf[i..end].iter().filter(|&&b| b == b'\n').count() as u64;
                    if closed {
                        self.state = QState::QuoteInQuoted;
                    }
                    i = end + usize::from(closed);
                }
                QState::RecordStart => {
                    let b = buf[i];
                    if b == b'\n' {
                        self.line += 1;
                    } else if b != b'\r' {
                        self.starts.push_back(Position {
                            line: Some(self.line),
                            record: None,
                            byte: Some(self.offset + i as u64),
                        });
                        self.state = self.after_boundary(b);
                    }
                    i += 1;
                }
                QState::FieldStart | QState::QuoteInQuoted => {
                    self.state = self.after_boundary(buf[i]);
                    i += 1;
                }
                QState::Unquoted => {
                    // Only a separator or a line end can start a new field.
                    match buf[i..]
                        .iter()
                        .position(|&b| b == d || b == b'\n' || b == b'\r')
                    {
                        Some(j) => {
                            self.state = self.after_boundary(buf[i + j]);
                            i += j + 1;
                        }
                        None => i = buf.len(),
                    }
                }
            }
        }
        self.offset += buf.len() as u64;
    }
}

fn memchr(needle: u8, hay: &[u8]) -> Option<usize> {
    hay.iter().position(|&b| b == needle)
}

impl Read for QuoteTracker {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 {
            self.eof = true;
        } else {
            self.scan(&buf[..n]);
        }
        Ok(n)
    }
}

struct CsvReader {
    rdr: ::csv::Reader<QuoteTracker>,
    header: bool,
    flexible: bool,
    names: Option<FieldNames>,
    raw: ::csv::ByteRecord,
    quote: char,
    /// Where the last raw row starts, as the tracker saw it.
    start: Option<Position>,
}

impl CsvReader {
    /// Reads the next raw row; `false` at the end.
    fn next_raw(&mut self) -> Result<bool> {
        let more = self
            .rdr
            .read_byte_record(&mut self.raw)
            .map_err(csv_error)?;
        self.start = if more {
            self.rdr.get_mut().next_start()
        } else {
            None
        };
        if more && self.rdr.get_ref().unterminated() {
            return Err(Error::parse(
                format!("unterminated quoted field (no closing {})", self.quote),
                self.position(),
            ));
        }
        Ok(more)
    }

    fn position(&self) -> Position {
        if let Some(p) = self.start {
            return p;
        }
        match self.raw.position() {
            Some(p) => Position {
                line: Some(p.line()),
                record: None,
                byte: Some(p.byte()),
            },
            None => Position::default(),
        }
    }

    fn field_str(&self, i: usize) -> Result<&str> {
        let bytes = &self.raw[i];
        std::str::from_utf8(bytes).map_err(|e| {
            let p = self.position();
            Error::new(
                ErrorKind::Encoding,
                format!(
                    "invalid UTF-8 in field {} at byte {} of the field (set the 'encoding' option if the file is not UTF-8)",
                    i + 1,
                    e.valid_up_to()
                ),
            )
            .with_position(p)
        })
    }

    fn init_names(&mut self) -> Result<bool> {
        if !self.header {
            // Peek at the first row for the width; it is also the first record.
            if !self.next_raw()? {
                return Ok(false);
            }
            self.names = Some(Arc::new(
                (1..=self.raw.len()).map(|i| i.to_string()).collect(),
            ));
            return Ok(true);
        }
        if !self.next_raw()? {
            self.names = Some(Arc::new(Vec::new()));
            return Ok(false);
        }
        let mut names = Vec::with_capacity(self.raw.len());
        for i in 0..self.raw.len() {
            names.push(self.field_str(i)?.to_owned());
        }
        self.names = Some(Arc::new(names));
        Ok(false)
    }
}

impl RecordReader for CsvReader {
    fn read_record(&mut self, record: &mut Record) -> Result<bool> {
        let have_row = if self.names.is_none() {
            self.init_names()? || self.next_raw()?
        } else {
            self.next_raw()?
        };
        if !have_row {
            return Ok(false);
        }
        let names = Arc::clone(self.names.as_ref().expect("set by init_names"));
        let width = self.raw.len();
        if width != names.len() && !self.flexible {
            // A blank line in the middle of a one-column file is not a mismatch.
            return Err(Error::parse(
                format!(
                    "row has {width} fields but the header has {}; use --option flexible=true to allow this",
                    names.len()
                ),
                self.position(),
            ));
        }
        if width > names.len() {
            let mut extended = (*names).clone();
            for i in names.len()..width {
                extended.push((i + 1).to_string());
            }
            let extended = Arc::new(extended);
            record.reset(&extended);
        } else if width < names.len() {
            let short: FieldNames = Arc::new(names[..width].to_vec());
            record.reset(&short);
        } else {
            record.reset(&names);
        }
        for i in 0..width {
            let s = self.field_str(i)?;
            record.string_slot(i).push_str(s);
        }
        Ok(true)
    }
}

fn csv_error(e: ::csv::Error) -> Error {
    let pos = e.position().map(|p| Position {
        line: Some(p.line()),
        record: None,
        byte: Some(p.byte()),
    });
    let err = match e.into_kind() {
        ::csv::ErrorKind::Io(io) => Error::from_io(io),
        ::csv::ErrorKind::Utf8 { err, .. } => {
            Error::new(ErrorKind::Encoding, format!("invalid UTF-8: {err}"))
        }
        ::csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => Error::new(
            ErrorKind::Parse,
            format!("row has {len} fields but the header has {expected_len}"),
        ),
        other => Error::new(ErrorKind::Parse, format!("{other:?}")),
    };
    match pos {
        Some(p) => err.with_position(p),
        None => err,
    }
}

struct CsvWriter {
    wtr: Option<::csv::Writer<BoxSink>>,
    header: bool,
    strict: bool,
    names: Option<FieldNames>,
    cell: String,
    count: u64,
}

impl CsvWriter {
    fn wtr(&mut self) -> Result<&mut ::csv::Writer<BoxSink>> {
        self.wtr
            .as_mut()
            .ok_or_else(|| Error::new(ErrorKind::Other, "CSV writer already finished"))
    }
}

impl RecordWriter for CsvWriter {
    fn write_record(&mut self, record: &Record) -> Result<()> {
        self.count += 1;
        let names = match &self.names {
            Some(n) => Arc::clone(n),
            None => {
                let n = Arc::clone(record.field_names());
                if self.header {
                    let header: Vec<&str> = n.iter().map(String::as_str).collect();
                    self.wtr()?.write_record(&header).map_err(csv_error)?;
                }
                self.names = Some(Arc::clone(&n));
                n
            }
        };
        let same = Arc::ptr_eq(&names, record.field_names()) || names[..] == record.names()[..];
        let mut cell = std::mem::take(&mut self.cell);
        let result = (|| {
            if same {
                let wtr = self.wtr()?;
                for v in record.values() {
                    write_cell(wtr, v, &mut cell)?;
                }
            } else if self.strict {
                return Err(Error::new(
                    ErrorKind::Schema,
                    format!(
                        "record has fields [{}] but the CSV header is [{}]; use --option strict=false to match fields by name",
                        record.names().join(", "),
                        names.join(", ")
                    ),
                )
                .with_position(Position::record(self.count)));
            } else {
                let wtr = self.wtr()?;
                for n in names.iter() {
                    write_cell(wtr, record.get(n).unwrap_or(&Value::Null), &mut cell)?;
                }
            }
            self.wtr()?.write_record(None::<&[u8]>).map_err(csv_error)
        })();
        self.cell = cell;
        result
    }

    fn finish(mut self: Box<Self>) -> Result<()> {
        let wtr = self
            .wtr
            .take()
            .ok_or_else(|| Error::new(ErrorKind::Other, "CSV writer already finished"))?;
        let sink = wtr
            .into_inner()
            .map_err(|e| Error::from_io(e.into_error()))?;
        sink.finish()?;
        Ok(())
    }
}

fn write_cell(wtr: &mut ::csv::Writer<BoxSink>, v: &Value, buf: &mut String) -> Result<()> {
    match v {
        Value::String(s) => wtr.write_field(s.as_bytes()),
        other => {
            buf.clear();
            other.write_text(buf);
            wtr.write_field(buf.as_bytes())
        }
    }
    .map_err(csv_error)
}
