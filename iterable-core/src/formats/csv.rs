//! Delimited text: `csv`, `tsv` and `psv`, on top of the `csv` crate.
//!
//! Values are read as strings; there is no type guessing. The writer takes
//! its header from the first record.

use std::io::{self, Read, Write};
use std::sync::Arc;

use crate::error::{Error, ErrorKind, Position, Result};
use crate::formats::json::MAX_ELEMENT_BYTES;
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
        let delimiter = self.byte_option(options, "delimiter", self.delimiter)?;
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

/// The size of the reader's input buffer.
const READ_BUFFER: usize = 256 * 1024;

/// The most fields a row may have; past it the reader stops with an error.
pub const MAX_FIELDS: usize = 1 << 20;

/// The parser's state between two bytes: the states of `csv_core`'s
/// machine that remain without comments and escape characters.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// Between rows: line ends here are blank lines, skipped.
    RowStart,
    /// At the start of a field.
    FieldStart,
    /// Inside a field that did not start with a quote.
    Unquoted,
    /// Inside a quoted field.
    Quoted,
    /// Just after a quote inside a quoted field: the field's end, or the
    /// first of a doubled quote.
    QuoteInQuoted,
}

/// How a pass over the buffered bytes ended.
enum Step {
    /// The buffer is used up in the middle of a row.
    More(State),
    /// A row ended.
    Row,
    /// The row's bytes passed [`MAX_ELEMENT_BYTES`].
    TooLong,
    /// The row has more than [`MAX_FIELDS`] fields.
    TooWide,
}

/// Reads delimited text, RFC 4180 as the `csv` crate reads it (quotes open
/// a field only at its start, a doubled quote inside quotes is a quote,
/// `\r`, `\n` and `\r\n` end a row, blank lines are skipped, bytes after a
/// closing quote are kept), with its own parser, which copies runs of plain
/// bytes instead of stepping a state machine byte by byte. Around it, this
/// reader:
/// * knows where each row starts (line and byte) without scanning for it:
///   lines are counted once per buffer, or up to a row's start only when
///   an error needs it;
/// * knows when the input ends inside a quoted field (the `csv` crate
///   accepts that silently): it is an error;
/// * checks UTF-8 once per row, not once per field.
struct CsvReader {
    input: BoxRead,
    buf: Vec<u8>,
    pos: usize,
    len: usize,
    eof: bool,
    done: bool,
    delimiter: u8,
    quote_byte: u8,
    /// The unescaped bytes of the current row's fields, and where each ends.
    fields: Vec<u8>,
    ends: Vec<usize>,
    /// Fields in the current row, and the length of their bytes.
    width: usize,
    used: usize,
    /// The line of the next byte to parse (1-based), and the byte offset
    /// of `buf[0]` in the input. Lines are counted as the parser meets line
    /// feeds: ends of rows, blank lines, and those inside quoted fields.
    line: u64,
    buf_byte: u64,
    /// Where the current row starts (line, byte), once its first byte is seen.
    start: Option<(u64, u64)>,
    header: bool,
    flexible: bool,
    names: Option<FieldNames>,
    quote: char,
    /// Whether a NUL byte was read (then rows are searched for one).
    nul_seen: bool,
}

impl CsvReader {
    fn new(input: BoxRead, delimiter: u8, quote: u8, header: bool, flexible: bool) -> Self {
        CsvReader {
            input,
            buf: vec![0; READ_BUFFER],
            pos: 0,
            len: 0,
            eof: false,
            done: false,
            delimiter,
            quote_byte: quote,
            fields: Vec::with_capacity(4096),
            ends: Vec::with_capacity(64),
            width: 0,
            used: 0,
            line: 1,
            buf_byte: 0,
            start: None,
            header,
            flexible,
            names: None,
            quote: quote as char,
            nul_seen: false,
        }
    }

    /// Reads more input once everything buffered was parsed.
    fn refill(&mut self) -> Result<()> {
        let first = self.buf_byte == 0 && self.len == 0;
        self.buf_byte += self.len as u64;
        self.pos = 0;
        self.len = 0;
        loop {
            match self.input.read(&mut self.buf) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(());
                }
                Ok(n) => {
                    self.len = n;
                    // One search per buffer, rather than one per row.
                    self.nul_seen |= self.buf[..n].contains(&0);
                    // Like csv_core: a byte-order mark at the very start of
                    // the first read is skipped.
                    if first && self.buf[..n].starts_with(b"\xEF\xBB\xBF") {
                        self.pos = 3;
                    }
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.done = true;
                    return Err(Error::from_io(e));
                }
            }
        }
    }

    /// Parses the buffered bytes from `self.pos`, in state `st`, until a
    /// row ends or the buffer is used up.
    fn parse(&mut self, mut st: State) -> Step {
        let CsvReader {
            buf,
            len,
            pos,
            fields,
            ends,
            start,
            line,
            buf_byte,
            delimiter: d,
            quote_byte: q,
            ..
        } = self;
        let (d, q) = (*d, *q);
        let buf = &buf[..*len];
        let mut i = *pos;
        let step = loop {
            if i >= buf.len() {
                break Step::More(st);
            }
            match st {
                State::RowStart => {
                    if buf[i] == b'\r' || buf[i] == b'\n' {
                        *line += u64::from(buf[i] == b'\n');
                        i += 1;
                        continue;
                    }
                    *start = Some((*line, *buf_byte + i as u64));
                    st = State::FieldStart;
                }
                State::FieldStart => {
                    let b = buf[i];
                    if b == q {
                        i += 1;
                        st = State::Quoted;
                    } else if b == d || b == b'\r' || b == b'\n' {
                        i += 1;
                        match end_field(b, d, line, fields, ends) {
                            Ok(next) => st = next,
                            Err(step) => break step,
                        }
                    } else {
                        st = State::Unquoted;
                    }
                }
                State::Unquoted => {
                    let rest = &buf[i..];
                    let run = find_stop(rest, d);
                    if fields.len() + run > MAX_ELEMENT_BYTES {
                        break Step::TooLong;
                    }
                    fields.extend_from_slice(&rest[..run]);
                    i += run;
                    if let Some(&b) = buf.get(i) {
                        i += 1;
                        match end_field(b, d, line, fields, ends) {
                            Ok(next) => st = next,
                            Err(step) => break step,
                        }
                    }
                }
                State::Quoted => {
                    let rest = &buf[i..];
                    let run = rest.iter().position(|&c| c == q).unwrap_or(rest.len());
                    if fields.len() + run > MAX_ELEMENT_BYTES {
                        break Step::TooLong;
                    }
                    *line += count_lines(&rest[..run]);
                    fields.extend_from_slice(&rest[..run]);
                    i += run;
                    if i < buf.len() {
                        i += 1;
                        st = State::QuoteInQuoted;
                    }
                }
                State::QuoteInQuoted => {
                    let b = buf[i];
                    if b == q {
                        if fields.len() >= MAX_ELEMENT_BYTES {
                            break Step::TooLong;
                        }
                        fields.push(q);
                        i += 1;
                        st = State::Quoted;
                    } else if b == d || b == b'\r' || b == b'\n' {
                        i += 1;
                        match end_field(b, d, line, fields, ends) {
                            Ok(next) => st = next,
                            Err(step) => break step,
                        }
                    } else {
                        // Bytes after a closing quote belong to the field.
                        st = State::Unquoted;
                    }
                }
            }
        };
        *pos = i;
        step
    }

    /// Reads the next raw row into `fields`/`ends`; `false` at the end.
    fn next_raw(&mut self) -> Result<bool> {
        if self.done {
            return Ok(false);
        }
        self.start = None;
        self.fields.clear();
        self.ends.clear();
        let mut st = State::RowStart;
        loop {
            if self.pos == self.len {
                if !self.eof {
                    self.refill()?;
                }
                if self.pos == self.len {
                    // The end of the input ends the row in progress.
                    self.done = true;
                    if st == State::RowStart {
                        return Ok(false);
                    }
                    if self.ends.len() >= MAX_FIELDS {
                        return Err(self.too_wide());
                    }
                    self.ends.push(self.fields.len());
                    self.width = self.ends.len();
                    self.used = self.fields.len();
                    if st == State::Quoted {
                        return Err(Error::parse(
                            format!("unterminated quoted field (no closing {})", self.quote),
                            self.position(),
                        ));
                    }
                    return Ok(true);
                }
            }
            match self.parse(st) {
                Step::More(s) => st = s,
                Step::Row => {
                    self.width = self.ends.len();
                    self.used = self.fields.len();
                    return Ok(true);
                }
                Step::TooLong => {
                    self.done = true;
                    let mib = MAX_ELEMENT_BYTES >> 20;
                    return Err(Error::parse(
                        format!("record longer than {mib} MiB"),
                        self.position(),
                    ));
                }
                Step::TooWide => return Err(self.too_wide()),
            }
        }
    }

    fn too_wide(&mut self) -> Error {
        self.done = true;
        Error::parse(
            format!("row has more than {MAX_FIELDS} fields"),
            self.position(),
        )
    }

    /// Where the current row starts (or, before its first byte, where the
    /// parser is).
    fn position(&self) -> Position {
        let (line, byte) = self
            .start
            .unwrap_or((self.line, self.buf_byte + self.pos as u64));
        Position {
            line: Some(line),
            record: None,
            byte: Some(byte),
        }
    }

    /// The current row's bytes as text, checked once for the whole row.
    fn row_text(&self) -> Result<&str> {
        let bytes = &self.fields[..self.used];
        if self.nul_seen && bytes.contains(&0) {
            return Err(self.nul_error());
        }
        simdutf8::basic::from_utf8(bytes).map_err(|_| self.utf8_error())
    }

    /// The error for a row with a NUL byte, naming the first such field.
    fn nul_error(&self) -> Error {
        let mut start = 0;
        let mut field = 1;
        for (i, &end) in self.ends[..self.width].iter().enumerate() {
            if self.fields[start..end].contains(&0) {
                field = i + 1;
                break;
            }
            start = end;
        }
        Error::new(
            ErrorKind::Encoding,
            format!("NUL byte in field {field} (not text, or UTF-16: set the 'encoding' option)"),
        )
        .with_position(self.position())
    }

    /// Field `i` of the current row, within the row's text.
    fn field<'t>(&self, text: &'t str, i: usize) -> Result<&'t str> {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        // A field that splits a character is not valid UTF-8 on its own.
        text.get(start..self.ends[i])
            .ok_or_else(|| self.utf8_error())
    }

    /// The error for a row that is not valid UTF-8, naming the first bad field.
    fn utf8_error(&self) -> Error {
        let mut start = 0;
        for (i, &end) in self.ends[..self.width].iter().enumerate() {
            if let Err(e) = std::str::from_utf8(&self.fields[start..end]) {
                return Error::new(
                    ErrorKind::Encoding,
                    format!(
                        "invalid UTF-8 in field {} at byte {} of the field (set the 'encoding' option if the file is not UTF-8)",
                        i + 1,
                        e.valid_up_to()
                    ),
                )
                .with_position(self.position());
            }
            start = end;
        }
        Error::new(ErrorKind::Encoding, "invalid UTF-8").with_position(self.position())
    }

    fn init_names(&mut self) -> Result<bool> {
        if !self.header {
            // Peek at the first row for the width; it is also the first record.
            if !self.next_raw()? {
                return Ok(false);
            }
            self.names = Some(Arc::new((1..=self.width).map(|i| i.to_string()).collect()));
            return Ok(true);
        }
        if !self.next_raw()? {
            self.names = Some(Arc::new(Vec::new()));
            return Ok(false);
        }
        let text = self.row_text()?;
        let mut names = Vec::with_capacity(self.width);
        for i in 0..self.width {
            names.push(self.field(text, i)?.to_owned());
        }
        self.names = Some(Arc::new(names));
        Ok(false)
    }
}

/// Ends the current field at the stop byte `b` (the delimiter `d`, or a
/// line end): the next field starts (`Ok`), or the row ends or is too wide
/// (`Err`, the step to return).
#[inline(always)]
fn end_field(
    b: u8,
    d: u8,
    line: &mut u64,
    fields: &[u8],
    ends: &mut Vec<usize>,
) -> std::result::Result<State, Step> {
    *line += u64::from(b == b'\n');
    if ends.len() >= MAX_FIELDS {
        return Err(Step::TooWide);
    }
    ends.push(fields.len());
    if b == d {
        Ok(State::FieldStart)
    } else {
        Err(Step::Row)
    }
}

/// The number of line feeds in `bytes`, counted in byte-wide lanes that
/// the compiler turns into vector compares and adds.
fn count_lines(bytes: &[u8]) -> u64 {
    const LANES: usize = 32;
    let mut n = 0u64;
    // A lane counts at most 255 before it is added up.
    for block in bytes.chunks(255 * LANES) {
        let mut acc = [0u8; LANES];
        let mut rows = block.chunks_exact(LANES);
        for row in &mut rows {
            let row: &[u8; LANES] = row.try_into().expect("chunks of LANES bytes");
            for k in 0..LANES {
                acc[k] += u8::from(row[k] == b'\n');
            }
        }
        n += acc.iter().map(|&a| u64::from(a)).sum::<u64>();
        n += rows.remainder().iter().filter(|&&b| b == b'\n').count() as u64;
    }
    n
}

/// The index of the first byte of `rest` that is `d`, `\r` or `\n` (or its
/// length): eight bytes at a time, with the classic test for a zero byte.
#[inline]
fn find_stop(rest: &[u8], d: u8) -> usize {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    // Nonzero when some byte of `x` is zero; its lowest set bit is exact
    // (false positives can only lie above a true zero byte).
    let zero = |x: u64| x.wrapping_sub(LO) & !x & HI;
    let (bd, br, bn) = (LO * u64::from(d), LO * 0x0d, LO * 0x0a);
    let mut words = rest.chunks_exact(8);
    let mut i = 0;
    for w in &mut words {
        let v = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
        let m = zero(v ^ bd) | zero(v ^ br) | zero(v ^ bn);
        if m != 0 {
            return i + (m.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    let tail = words.remainder();
    i + tail
        .iter()
        .position(|&c| c == d || c == b'\r' || c == b'\n')
        .unwrap_or(tail.len())
}

/// Rows of delimited text, each lent as one string and the ends of its
/// fields: see [`DelimitedFormat::text_rows`]. It is also the format's
/// [`RecordReader`].
pub struct TextRows {
    reader: CsvReader,
    /// The names of rows whose width differs from the header's (with
    /// `flexible` on), kept while the width stays the same.
    odd_names: Option<FieldNames>,
}

/// One row read by [`TextRows`]: its field names, and its fields as slices
/// of one string.
#[derive(Clone, Copy, Debug)]
pub struct TextRow<'a> {
    names: &'a FieldNames,
    text: &'a str,
    ends: &'a [usize],
}

impl<'a> TextRow<'a> {
    /// The row's field names: the header's (or `1`, `2`, ... without a
    /// header). With `flexible` on, a shorter row has the first of them and
    /// a longer one has extra names that are the field's position.
    pub fn names(&self) -> &'a FieldNames {
        self.names
    }

    /// The number of fields.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether the row has no fields.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Field `i`, unescaped.
    pub fn get(&self, i: usize) -> Option<&'a str> {
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        self.text.get(start..end)
    }

    /// The fields, unescaped and concatenated: field `i` is
    /// `text()[ends()[i - 1]..ends()[i]]` (from 0 for the first). Every end
    /// is a character boundary.
    pub fn text(&self) -> &'a str {
        self.text
    }

    /// Where each field ends in [`TextRow::text`].
    pub fn ends(&self) -> &'a [usize] {
        self.ends
    }

    /// The fields, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &'a str> + 'a {
        let row = *self;
        // Every end is a character boundary (checked by `next_row`).
        (0..row.len()).map(move |i| row.get(i).unwrap_or_default())
    }
}

impl TextRows {
    /// The next row, or `None` at the end of the input. Errors are those of
    /// the record reader: a parse error (unterminated quote, a row wider or
    /// narrower than the header without `flexible`, too long or too wide)
    /// or an encoding error (invalid UTF-8, a NUL byte), each with the line
    /// and byte where the row starts.
    pub fn next_row(&mut self) -> Result<Option<TextRow<'_>>> {
        let r = &mut self.reader;
        let have_row = if r.names.is_none() {
            r.init_names()? || r.next_raw()?
        } else {
            r.next_raw()?
        };
        if !have_row {
            return Ok(None);
        }
        let header = r.names.as_ref().expect("set by init_names");
        let width = r.width;
        let names = if width == header.len() {
            header
        } else if !r.flexible {
            return Err(Error::parse(
                format!(
                    "row has {width} fields but the header has {}; use --option flexible=true to allow this",
                    header.len()
                ),
                r.position(),
            ));
        } else {
            if self.odd_names.as_ref().is_none_or(|n| n.len() != width) {
                let mut odd: Vec<String> = header.iter().take(width).cloned().collect();
                odd.extend((header.len()..width).map(|i| (i + 1).to_string()));
                self.odd_names = Some(Arc::new(odd));
            }
            self.odd_names.as_ref().expect("set above")
        };
        let text = r.row_text()?;
        let ends = &r.ends[..width];
        // A field that splits a character is not valid UTF-8 on its own.
        if !ends.iter().all(|&e| text.is_char_boundary(e)) {
            return Err(r.utf8_error());
        }
        Ok(Some(TextRow { names, text, ends }))
    }
}

impl RecordReader for TextRows {
    fn read_record(&mut self, record: &mut Record) -> Result<bool> {
        let Some(row) = self.next_row()? else {
            return Ok(false);
        };
        record.reset(row.names);
        for (i, field) in row.iter().enumerate() {
            record.string_slot(i).push_str(field);
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

#[cfg(test)]
mod tests {
    use super::*;

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
