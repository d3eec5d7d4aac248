//! The CSV reader: a single-pass parser following csv-core's rules, and
//! [`TextRows`], rows lent as text.

use std::io::{self, Read};
use std::sync::Arc;

use crate::error::{Error, ErrorKind, Position, Result};
use crate::formats::text::MAX_ELEMENT_BYTES;
use crate::io::BoxRead;
use crate::provider::RecordReader;
use crate::record::{FieldNames, Record};

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
pub(super) struct CsvReader {
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
    pub(super) fn new(
        input: BoxRead,
        delimiter: u8,
        quote: u8,
        header: bool,
        flexible: bool,
    ) -> Self {
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
pub(super) fn count_lines(bytes: &[u8]) -> u64 {
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
pub(super) fn find_stop(rest: &[u8], d: u8) -> usize {
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
    pub(super) reader: CsvReader,
    /// The names of rows whose width differs from the header's (with
    /// `flexible` on), kept while the width stays the same.
    pub(super) odd_names: Option<FieldNames>,
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
