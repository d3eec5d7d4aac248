//! JSON lines (`jsonl`, `ndjson`) and JSON arrays (`json`).
//!
//! Both keep native JSON types and nesting. A JSON array is streamed element
//! by element: only one element is in memory at a time, however large the
//! file.

use std::fmt;
use std::io::{BufRead, BufReader};
use std::sync::Arc;

use serde::de::{DeserializeSeed, MapAccess, Visitor};

use crate::error::{Error, ErrorKind, Position, Result};
use crate::io::{BoxRead, BoxSink};
use crate::options::{OptionSpec, OptionType, Options};
use crate::provider::{BoxReader, BoxWriter, Format, FormatInfo, RecordReader, RecordWriter};
use crate::record::{FieldNames, Record};
use crate::value::Value;

/// The largest single record accepted (64 MiB): a JSON line, an array
/// element, or a CSV row; past it the reader stops with an error instead of
/// growing without bound.
pub const MAX_ELEMENT_BYTES: usize = 64 << 20;

// ---------------------------------------------------------------------------
// Parsing one object into a record, reusing the previous record's names.

/// Parses one JSON object into `record`. When its keys are the same as
/// `names` (the previous record's), the shared name list is reused, so a
/// file of uniform objects allocates its keys once.
fn parse_object(
    bytes: &[u8],
    names: &mut FieldNames,
    record: &mut Record,
) -> std::result::Result<(), serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let mut values = record.take_values();
    values.clear();
    let seed = ObjectSeed {
        expected: names,
        values: &mut values,
        new_names: None,
    };
    let new_names = seed.deserialize(&mut de)?;
    de.end()?;
    if let Some(n) = new_names {
        *names = Arc::new(n);
    }
    record.set_parts(Arc::clone(names), values);
    Ok(())
}

struct ObjectSeed<'a> {
    expected: &'a FieldNames,
    values: &'a mut Vec<Value>,
    new_names: Option<Vec<String>>,
}

impl<'de> DeserializeSeed<'de> for ObjectSeed<'_> {
    type Value = Option<Vec<String>>;

    fn deserialize<D: serde::Deserializer<'de>>(
        self,
        d: D,
    ) -> std::result::Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ObjectSeed<'_> {
    type Value = Option<Vec<String>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(
        mut self,
        mut map: A,
    ) -> std::result::Result<Self::Value, A::Error> {
        let mut i = 0;
        while let Some(key) = map.next_key_seed(KeySeed {
            expected: if self.new_names.is_none() {
                self.expected.get(i).map(String::as_str)
            } else {
                None
            },
        })? {
            match key {
                Key::Same => {}
                Key::New(k) => {
                    let names = self.new_names.get_or_insert_with(|| {
                        self.expected[..i.min(self.expected.len())].to_vec()
                    });
                    names.push(k);
                }
            }
            self.values.push(map.next_value::<Value>()?);
            i += 1;
        }
        if self.new_names.is_none() && i != self.expected.len() {
            // Fewer keys than the previous record: a new, shorter list.
            self.new_names = Some(self.expected[..i].to_vec());
        }
        Ok(self.new_names)
    }
}

enum Key {
    Same,
    New(String),
}

struct KeySeed<'a> {
    expected: Option<&'a str>,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Key;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> std::result::Result<Key, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Key;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E>(self, v: &str) -> std::result::Result<Key, E> {
        Ok(if self.expected == Some(v) {
            Key::Same
        } else {
            Key::New(v.to_owned())
        })
    }
}

fn json_error(e: serde_json::Error, line: u64, what: &str) -> Error {
    let kind = match e.classify() {
        serde_json::error::Category::Io => ErrorKind::Io,
        serde_json::error::Category::Eof => ErrorKind::Parse,
        _ if e.to_string().contains("unicode") || e.to_string().contains("UTF-8") => {
            ErrorKind::Encoding
        }
        _ => ErrorKind::Parse,
    };
    let msg = e.to_string();
    // serde_json appends "at line L column C" relative to the piece parsed.
    let msg = msg.split(" at line ").next().unwrap_or(&msg).to_owned();
    Error::new(kind, format!("{what}: {msg} (column {})", e.column()))
        .with_position(Position::line(line))
}

// ---------------------------------------------------------------------------
// JSON lines

/// JSON lines: one JSON object per line.
pub struct JsonLinesFormat {
    info: FormatInfo,
}

impl JsonLinesFormat {
    /// The `jsonl` format (extensions `.jsonl`, `.ndjson`).
    pub fn jsonl() -> Self {
        Self::with_id("jsonl", &["jsonl", "ndjson"])
    }

    /// The same format under the id `ndjson`.
    pub fn ndjson() -> Self {
        Self::with_id("ndjson", &["ndjson"])
    }

    fn with_id(id: &str, ext: &[&str]) -> Self {
        JsonLinesFormat {
            info: FormatInfo {
                id: id.into(),
                description: "JSON lines: one JSON object per line, native types and nesting"
                    .into(),
                extensions: ext.iter().map(|s| s.to_string()).collect(),
                magic: vec![],
                can_read: true,
                can_write: true,
                options: vec![],
            },
        }
    }
}

impl Format for JsonLinesFormat {
    fn info(&self) -> &FormatInfo {
        &self.info
    }

    fn reader(&self, input: BoxRead, _options: &Options) -> Result<BoxReader> {
        let input = crate::formats::csv::decode_input(input, None)?;
        Ok(Box::new(JsonLinesReader {
            input: BufReader::with_capacity(256 * 1024, input),
            line: Vec::new(),
            line_no: 0,
            names: Arc::new(Vec::new()),
        }))
    }

    fn writer(&self, output: BoxSink, _options: &Options) -> Result<BoxWriter> {
        Ok(Box::new(JsonWriter::new(output, None, false)?))
    }

    fn sniff(&self, head: &[u8]) -> Option<(u32, Options)> {
        let text = String::from_utf8_lossy(head);
        let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
        let first = lines.next()?;
        if !first.starts_with('{') {
            return None;
        }
        // A complete first line that parses as an object is a strong sign.
        match serde_json::from_str::<serde_json::Value>(first) {
            Ok(serde_json::Value::Object(_)) => Some((90, Options::new())),
            _ => None,
        }
    }
}

struct JsonLinesReader {
    input: BufReader<BoxRead>,
    line: Vec<u8>,
    line_no: u64,
    names: FieldNames,
}

impl RecordReader for JsonLinesReader {
    fn read_record(&mut self, record: &mut Record) -> Result<bool> {
        loop {
            self.line.clear();
            let n = read_line_bounded(&mut self.input, &mut self.line, self.line_no + 1)?;
            if n == 0 {
                return Ok(false);
            }
            self.line_no += 1;
            if self.line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            return match parse_object(&self.line, &mut self.names, record) {
                Ok(()) => Ok(true),
                Err(e) => Err(json_error(e, self.line_no, "invalid JSON line")),
            };
        }
    }
}

/// Reads one line, refusing lines longer than [`MAX_ELEMENT_BYTES`].
fn read_line_bounded(input: &mut impl BufRead, out: &mut Vec<u8>, line_no: u64) -> Result<usize> {
    let mut total = 0;
    loop {
        let buf = input.fill_buf()?;
        if buf.is_empty() {
            return Ok(total);
        }
        let (take, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        out.extend_from_slice(&buf[..take]);
        input.consume(take);
        total += take;
        if total > MAX_ELEMENT_BYTES {
            return Err(Error::parse(
                format!("record longer than {} MiB", MAX_ELEMENT_BYTES >> 20),
                Position::line(line_no),
            ));
        }
        if done {
            return Ok(total);
        }
    }
}

// ---------------------------------------------------------------------------
// JSON arrays

/// A JSON document whose records are the objects of a top-level array (or of
/// the array under a top-level key, with the `key` option).
pub struct JsonFormat {
    info: FormatInfo,
}

impl JsonFormat {
    /// The `json` format.
    pub fn new() -> Self {
        JsonFormat {
            info: FormatInfo {
                id: "json".into(),
                description:
                    "A JSON array of objects, streamed; or the array under a top-level key".into(),
                extensions: vec!["json".into()],
                magic: vec![],
                can_read: true,
                can_write: true,
                options: vec![
                    OptionSpec::new(
                        "key",
                        OptionType::Text,
                        "read (and write) the array under this top-level key of an object",
                    ),
                    OptionSpec::new("pretty", OptionType::Bool, "writing: indent the output")
                        .default_value("false"),
                ],
            },
        }
    }
}

impl Default for JsonFormat {
    fn default() -> Self {
        Self::new()
    }
}

impl Format for JsonFormat {
    fn info(&self) -> &FormatInfo {
        &self.info
    }

    fn reader(&self, input: BoxRead, options: &Options) -> Result<BoxReader> {
        let input = crate::formats::csv::decode_input(input, None)?;
        Ok(Box::new(JsonArrayReader {
            scan: Scanner {
                input: BufReader::with_capacity(256 * 1024, input),
                line: 1,
            },
            key: options.get("key").map(str::to_owned),
            state: ArrayState::Start,
            element: Vec::new(),
            names: Arc::new(Vec::new()),
            index: 0,
        }))
    }

    fn writer(&self, output: BoxSink, options: &Options) -> Result<BoxWriter> {
        Ok(Box::new(JsonWriter::new(
            output,
            Some(options.get("key").map(str::to_owned)),
            options.bool_or("pretty", false)?,
        )?))
    }

    fn sniff(&self, head: &[u8]) -> Option<(u32, Options)> {
        let first = head.iter().find(|b| !b.is_ascii_whitespace())?;
        (*first == b'[').then(|| (80, Options::new()))
    }
}

/// A byte scanner over buffered input that counts lines.
struct Scanner {
    input: BufReader<BoxRead>,
    line: u64,
}

impl Scanner {
    fn peek(&mut self) -> Result<Option<u8>> {
        Ok(self.input.fill_buf()?.first().copied())
    }

    fn bump(&mut self) -> Result<Option<u8>> {
        let b = self.peek()?;
        if let Some(b) = b {
            if b == b'\n' {
                self.line += 1;
            }
            self.input.consume(1);
        }
        Ok(b)
    }

    fn skip_ws(&mut self) -> Result<Option<u8>> {
        loop {
            match self.peek()? {
                Some(b) if b.is_ascii_whitespace() => {
                    self.bump()?;
                }
                other => return Ok(other),
            }
        }
    }

    fn expect(&mut self, want: u8, what: &str) -> Result<()> {
        match self.skip_ws()? {
            Some(b) if b == want => {
                self.bump()?;
                Ok(())
            }
            Some(b) => Err(self.err(format!("expected {what}, found '{}'", b as char))),
            None => Err(self.err(format!("expected {what}, found the end of the input"))),
        }
    }

    fn err(&self, msg: String) -> Error {
        Error::parse(msg, Position::line(self.line))
    }

    /// Copies one complete JSON value into `out` (or skips it when `out` is
    /// `None`), tracking nesting without recursion, so depth costs no stack.
    fn take_value(&mut self, mut out: Option<&mut Vec<u8>>) -> Result<()> {
        let mut depth: u64 = 0;
        let mut in_str = false;
        let mut escaped = false;
        let mut started = false;
        loop {
            let buf = self.input.fill_buf()?;
            if buf.is_empty() {
                return Err(self.err("unexpected end of the input inside a value".into()));
            }
            let mut used = 0;
            let mut done = false;
            for &b in buf {
                if !started && b.is_ascii_whitespace() {
                    used += 1;
                    if b == b'\n' {
                        self.line += 1;
                    }
                    continue;
                }
                if !in_str && depth == 0 && started && matches!(b, b',' | b']' | b'}') {
                    done = true;
                    break;
                }
                if !in_str && depth == 0 && started && b.is_ascii_whitespace() {
                    done = true;
                    break;
                }
                started = true;
                used += 1;
                if b == b'\n' {
                    self.line += 1;
                }
                if in_str {
                    if escaped {
                        escaped = false;
                    } else if b == b'\\' {
                        escaped = true;
                    } else if b == b'"' {
                        in_str = false;
                        if depth == 0 {
                            done = true;
                        }
                    }
                } else {
                    match b {
                        b'"' => in_str = true,
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth = depth.saturating_sub(1);
                            if depth == 0 {
                                done = true;
                            }
                        }
                        _ => {}
                    }
                }
                if done {
                    break;
                }
            }
            if let Some(o) = out.as_deref_mut() {
                o.extend_from_slice(&buf[..used]);
                if o.len() > MAX_ELEMENT_BYTES {
                    return Err(self.err(format!(
                        "array element is larger than {} MiB",
                        MAX_ELEMENT_BYTES >> 20
                    )));
                }
            }
            self.input.consume(used);
            if done {
                return Ok(());
            }
        }
    }
}

enum ArrayState {
    Start,
    InArray { first: bool },
    Done,
}

struct JsonArrayReader {
    scan: Scanner,
    key: Option<String>,
    state: ArrayState,
    element: Vec<u8>,
    names: FieldNames,
    index: u64,
}

impl JsonArrayReader {
    /// Moves to just inside the array of records.
    fn open(&mut self) -> Result<()> {
        let Some(key) = self.key.clone() else {
            return match self.scan.skip_ws()? {
                Some(b'[') => self.scan.expect(b'[', "'['"),
                Some(b'{') => Err(self.scan.err(
                    "the top-level value is an object, not an array; use --option key=NAME to read the array under a key"
                        .into(),
                )),
                None => Err(self.scan.err("the input is empty; expected a JSON array".into())),
                Some(b) => Err(self.scan.err(format!("expected a JSON array, found '{}'", b as char))),
            };
        };
        self.scan
            .expect(b'{', "'{' (the 'key' option needs a top-level object)")?;
        loop {
            match self.scan.skip_ws()? {
                Some(b'"') => {}
                Some(b'}') | None => {
                    return Err(self
                        .scan
                        .err(format!("key {key:?} not found in the top-level object")));
                }
                Some(b) => {
                    return Err(self
                        .scan
                        .err(format!("expected a key, found '{}'", b as char)));
                }
            }
            let mut raw = Vec::new();
            self.scan.take_value(Some(&mut raw))?;
            let name: String = serde_json::from_slice(&raw)
                .map_err(|e| json_error(e, self.scan.line, "invalid key"))?;
            self.scan.expect(b':', "':'")?;
            if name == key {
                return match self.scan.skip_ws()? {
                    Some(b'[') => self.scan.expect(b'[', "'['"),
                    _ => Err(self
                        .scan
                        .err(format!("the value under key {key:?} is not an array"))),
                };
            }
            self.scan.take_value(None)?;
            match self.scan.skip_ws()? {
                Some(b',') => {
                    self.scan.bump()?;
                }
                _ => {
                    return Err(self
                        .scan
                        .err(format!("key {key:?} not found in the top-level object")));
                }
            }
        }
    }
}

impl RecordReader for JsonArrayReader {
    fn read_record(&mut self, record: &mut Record) -> Result<bool> {
        loop {
            match self.state {
                ArrayState::Start => {
                    self.open()?;
                    self.state = ArrayState::InArray { first: true };
                }
                ArrayState::Done => return Ok(false),
                ArrayState::InArray { first } => {
                    match self.scan.skip_ws()? {
                        Some(b']') => {
                            self.scan.bump()?;
                            self.state = ArrayState::Done;
                            if self.key.is_none() {
                                // Nothing but white space may follow the array.
                                if let Some(b) = self.scan.skip_ws()? {
                                    return Err(self.scan.err(format!(
                                        "unexpected '{}' after the end of the array",
                                        b as char
                                    )));
                                }
                            }
                            return Ok(false);
                        }
                        Some(b',') if !first => {
                            self.scan.bump()?;
                        }
                        None => {
                            return Err(self.scan.err(
                                "unexpected end of the input: the array is not closed".into(),
                            ));
                        }
                        Some(b) if !first => {
                            return Err(self
                                .scan
                                .err(format!("expected ',' or ']', found '{}'", b as char)));
                        }
                        Some(_) => {}
                    }
                    let line = self.scan.line;
                    self.element.clear();
                    self.scan.take_value(Some(&mut self.element))?;
                    self.index += 1;
                    self.state = ArrayState::InArray { first: false };
                    return match parse_object(&self.element, &mut self.names, record) {
                        Ok(()) => Ok(true),
                        Err(e) => {
                            let at = line + e.line().saturating_sub(1) as u64;
                            Err(json_error(e, at, "invalid array element")
                                .with_position(Position::record(self.index)))
                        }
                    };
                }
            }
        }
    }
}

/// How many bytes the JSON writer gathers before handing them to the sink.
const WRITE_CHUNK: usize = crate::io::CHUNK;

/// Writes JSON lines, or a JSON array (optionally under a key).
///
/// Records are rendered into a buffer of its own, which is handed to the
/// sink whole (with a thread behind the sink, without a copy). Keys are
/// escaped once per list of field names, and strings are escaped by a loop
/// that copies runs of plain bytes; the output is byte for byte what
/// `serde_json` writes.
struct JsonWriter {
    out: Option<BoxSink>,
    buf: Vec<u8>,
    /// `None` for JSON lines; `Some(key)` for an array, under `key` if set.
    array: Option<Option<String>>,
    pretty: bool,
    count: u64,
    /// The names the keys below were rendered for.
    keys_for: Option<FieldNames>,
    /// `{"name":` for the first field and `,"name":` for the others,
    /// concatenated, and where each ends.
    keys: Vec<u8>,
    key_ends: Vec<usize>,
}

impl JsonWriter {
    fn new(output: BoxSink, array: Option<Option<String>>, pretty: bool) -> Result<Self> {
        Ok(JsonWriter {
            out: Some(output),
            buf: Vec::with_capacity(WRITE_CHUNK + 4096),
            array,
            pretty,
            count: 0,
            keys_for: None,
            keys: Vec::new(),
            key_ends: Vec::new(),
        })
    }

    fn open_array(&mut self) {
        if let Some(key) = &self.array {
            if let Some(k) = key {
                self.buf.push(b'{');
                write_json_str(&mut self.buf, k);
                self.buf.push(b':');
            }
            self.buf.push(b'[');
        }
    }

    /// Hands the buffered bytes to the sink.
    fn flush_buf(&mut self) -> Result<()> {
        let out = self
            .out
            .as_mut()
            .ok_or_else(|| Error::new(ErrorKind::Other, "JSON writer already finished"))?;
        out.write_chunk(&mut self.buf)?;
        Ok(())
    }

    /// Renders the keys of `names` unless they are the ones rendered last.
    fn prepare_keys(&mut self, names: &FieldNames) {
        if self
            .keys_for
            .as_ref()
            .is_some_and(|k| Arc::ptr_eq(k, names) || k == names)
        {
            return;
        }
        self.keys.clear();
        self.key_ends.clear();
        for (i, n) in names.iter().enumerate() {
            self.keys.push(if i == 0 { b'{' } else { b',' });
            write_json_str(&mut self.keys, n);
            self.keys.push(b':');
            self.key_ends.push(self.keys.len());
        }
        self.keys_for = Some(Arc::clone(names));
    }

    fn render(&mut self, record: &Record) -> Result<()> {
        if self.pretty {
            return serde_json::to_writer_pretty(&mut self.buf, record)
                .map_err(|e| Error::new(ErrorKind::InvalidInput, e.to_string()));
        }
        self.prepare_keys(record.field_names());
        let buf = &mut self.buf;
        if record.is_empty() {
            buf.push(b'{');
        }
        let mut start = 0;
        for (i, v) in record.values().iter().enumerate() {
            // `{"name":` for the first field, `,"name":` for the others.
            let end = self.key_ends[i];
            buf.extend_from_slice(&self.keys[start..end]);
            start = end;
            match v {
                Value::String(s) => write_json_str(buf, s),
                Value::Null => buf.extend_from_slice(b"null"),
                Value::Bool(true) => buf.extend_from_slice(b"true"),
                Value::Bool(false) => buf.extend_from_slice(b"false"),
                other => serde_json::to_writer(&mut *buf, other)
                    .map_err(|e| Error::new(ErrorKind::InvalidInput, e.to_string()))?,
            }
        }
        buf.push(b'}');
        Ok(())
    }
}

/// Whether no byte of `bytes` needs escaping in a JSON string (a control
/// character, `"` or `\\`): eight bytes at a time with the classic tests for
/// a zero byte and a byte below a bound, the last word overlapping the one
/// before, so short strings take one or two tests and no byte loop.
#[inline]
fn all_plain(bytes: &[u8]) -> bool {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    // Nonzero when some byte of `w` is below 0x20, `"` or `\\`. Both tests
    // are exact about whether such a byte exists.
    let special = |w: u64| {
        let zero = |x: u64| x.wrapping_sub(LO) & !x & HI;
        (w.wrapping_sub(LO * 0x20) & !w & HI) | zero(w ^ (LO * 0x22)) | zero(w ^ (LO * 0x5c))
    };
    let word = |b: &[u8]| u64::from_le_bytes(b.try_into().expect("eight bytes"));
    let n = bytes.len();
    if n >= 8 {
        let mut words = bytes.chunks_exact(8);
        let mut acc = 0;
        for w in &mut words {
            acc |= special(word(w));
        }
        acc |= special(word(&bytes[n - 8..]));
        return acc == 0;
    }
    // Fewer than eight bytes: two overlapping halves, or byte by byte.
    if n >= 4 {
        let half = |b: &[u8]| u64::from(u32::from_le_bytes(b.try_into().expect("four bytes")));
        let w = half(&bytes[..4]) | half(&bytes[n - 4..]) << 32;
        return special(w) == 0;
    }
    bytes.iter().all(|&b| plain(b))
}

/// Whether byte `b` goes into a JSON string as it is (not a control
/// character, `"` or `\\`).
fn plain(b: u8) -> bool {
    b >= 0x20 && b != b'"' && b != b'\\'
}

/// Appends `s` as a JSON string, escaped exactly as `serde_json` does:
/// quotes and backslashes, the short escapes (`\b \f \n \r \t`), and
/// `\u00XX` for the other control characters.
fn write_json_str(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    // Most strings need no escape, and most are short: words say so.
    if all_plain(bytes) {
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    let mut run = 0;
    let mut i = 0;
    while i < bytes.len() {
        // Sixteen bytes at a time while none needs escaping.
        if let Some(chunk) = bytes.get(i..i + 16) {
            if chunk.iter().fold(true, |ok, &b| ok & plain(b)) {
                i += 16;
                continue;
            }
        }
        let b = bytes[i];
        if plain(b) {
            i += 1;
            continue;
        }
        out.extend_from_slice(&bytes[run..i]);
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0xf)]);
            }
        }
        i += 1;
        run = i;
    }
    out.extend_from_slice(&bytes[run..]);
    out.push(b'"');
}

impl RecordWriter for JsonWriter {
    fn write_record(&mut self, record: &Record) -> Result<()> {
        if self.out.is_none() {
            return Err(Error::new(ErrorKind::Other, "JSON writer already finished"));
        }
        if self.count == 0 {
            self.open_array();
        }
        self.count += 1;
        if self.array.is_some() {
            let sep: &[u8] = if self.count == 1 { b"\n" } else { b",\n" };
            self.buf.extend_from_slice(sep);
        }
        self.render(record)?;
        if self.array.is_none() {
            self.buf.push(b'\n');
        }
        if self.buf.len() >= WRITE_CHUNK {
            self.flush_buf()?;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<()> {
        if self.array.is_some() {
            if self.count == 0 {
                self.open_array();
                self.buf.push(b']');
            } else {
                self.buf.extend_from_slice(b"\n]");
            }
            if matches!(self.array, Some(Some(_))) {
                self.buf.push(b'}');
            }
            self.buf.push(b'\n');
        }
        if !self.buf.is_empty() {
            self.flush_buf()?;
        }
        let sink = self
            .out
            .take()
            .ok_or_else(|| Error::new(ErrorKind::Other, "JSON writer already finished"))?;
        sink.finish()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let mut all: String = (0u8..128).map(char::from).collect();
        all.push_str("é日本\u{1F600}\u{7f}");
        // Every position of a special byte relative to the 16-byte blocks.
        let mut cases = vec![all.clone(), String::new(), "plain".into()];
        for i in 0..40 {
            cases.push(format!("{}\"{}\\\n", "x".repeat(i), "é".repeat(i % 5)));
        }
        for s in cases {
            let mut ours = Vec::new();
            write_json_str(&mut ours, &s);
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                serde_json::to_string(&s).unwrap()
            );
        }
    }

    #[test]
    fn all_plain_finds_every_byte_to_escape_at_every_place() {
        // Bytes next to the bounds of the word tests, and UTF-8 bytes.
        let probes = [
            0x00, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x5b, 0x5c, 0x5d, 0x7f, 0x80, 0xa2, 0xff,
        ];
        for len in 0..=24 {
            for fill in [b'a', 0xc3] {
                let mut bytes = vec![fill; len];
                assert!(all_plain(&bytes), "{bytes:?}");
                for at in 0..len {
                    for &p in &probes {
                        bytes[at] = p;
                        assert_eq!(all_plain(&bytes), plain(p), "{p:#x} at {at} of {len}");
                        bytes[at] = fill;
                    }
                }
            }
        }
    }

    #[test]
    fn records_are_written_as_serde_json_writes_them() {
        use crate::io::WriteSink;
        let recs = [
            Record::from_pairs([
                ("a", Value::from("x\"y")),
                ("b\n", Value::Int(-3)),
                ("c", Value::Float(2.5)),
                ("d", Value::Null),
                ("e", Value::Bool(false)),
            ]),
            Record::from_pairs([(
                "m",
                Value::Map(vec![("k".into(), Value::List(vec![Value::Bool(true)]))]),
            )]),
            Record::new(),
        ];
        let mut expected = String::new();
        for r in &recs {
            expected.push_str(&serde_json::to_string(r).unwrap());
            expected.push('\n');
        }
        let out = crate::io::MemorySink::default();
        let mut w = JsonLinesFormat::jsonl()
            .writer(Box::new(WriteSink(out.clone())), &Options::new())
            .unwrap();
        for r in &recs {
            w.write_record(r).unwrap();
        }
        w.finish().unwrap();
        assert_eq!(String::from_utf8(out.contents()).unwrap(), expected);
    }
}
