//! JSON lines (`jsonl`, `ndjson`) and JSON arrays (`json`).
//!
//! Both keep native JSON types and nesting. A JSON array is streamed element
//! by element: only one element is in memory at a time, however large the
//! file.

use std::fmt;
use std::io::{BufRead, BufReader, Write};
use std::sync::Arc;

use serde::de::{DeserializeSeed, MapAccess, Visitor};

use crate::error::{Error, ErrorKind, Position, Result};
use crate::io::{BoxRead, BoxSink};
use crate::options::{OptionSpec, OptionType, Options};
use crate::provider::{BoxReader, BoxWriter, Format, FormatInfo, RecordReader, RecordWriter};
use crate::record::{FieldNames, Record};
use crate::value::Value;

/// The largest single JSON line or array element accepted (256 MiB); past it
/// the reader stops with an error instead of growing without bound.
pub const MAX_ELEMENT_BYTES: usize = 256 << 20;

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
                format!("line is longer than {} MiB", MAX_ELEMENT_BYTES >> 20),
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

/// Writes JSON lines, or a JSON array (optionally under a key).
struct JsonWriter {
    out: Option<std::io::BufWriter<BoxSink>>,
    /// `None` for JSON lines; `Some(key)` for an array, under `key` if set.
    array: Option<Option<String>>,
    pretty: bool,
    count: u64,
}

impl JsonWriter {
    fn new(output: BoxSink, array: Option<Option<String>>, pretty: bool) -> Result<Self> {
        Ok(JsonWriter {
            out: Some(std::io::BufWriter::with_capacity(256 * 1024, output)),
            array,
            pretty,
            count: 0,
        })
    }

    fn out(&mut self) -> Result<&mut std::io::BufWriter<BoxSink>> {
        self.out
            .as_mut()
            .ok_or_else(|| Error::new(ErrorKind::Other, "JSON writer already finished"))
    }

    fn open_array(&mut self) -> Result<()> {
        if let Some(key) = self.array.clone() {
            let out = self.out()?;
            if let Some(k) = key {
                out.write_all(b"{")?;
                serde_json::to_writer(&mut *out, &k)
                    .map_err(|e| Error::new(ErrorKind::Io, e.to_string()))?;
                out.write_all(b":")?;
            }
            out.write_all(b"[")?;
        }
        Ok(())
    }
}

impl RecordWriter for JsonWriter {
    fn write_record(&mut self, record: &Record) -> Result<()> {
        if self.count == 0 {
            self.open_array()?;
        }
        self.count += 1;
        let array = self.array.is_some();
        let pretty = self.pretty;
        let first = self.count == 1;
        let out = self.out()?;
        if array {
            out.write_all(if first { b"\n" } else { b",\n" })?;
        }
        let res = if pretty {
            serde_json::to_writer_pretty(&mut *out, record)
        } else {
            serde_json::to_writer(&mut *out, record)
        };
        res.map_err(|e| match e.classify() {
            serde_json::error::Category::Io => Error::new(ErrorKind::Io, e.to_string()),
            _ => Error::new(ErrorKind::InvalidInput, e.to_string()),
        })?;
        if !array {
            out.write_all(b"\n")?;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<()> {
        if self.array.is_some() {
            if self.count == 0 {
                self.open_array()?;
                self.out()?.write_all(b"]")?;
            } else {
                self.out()?.write_all(b"\n]")?;
            }
            if matches!(self.array, Some(Some(_))) {
                self.out()?.write_all(b"}")?;
            }
            self.out()?.write_all(b"\n")?;
        }
        let out = self
            .out
            .take()
            .ok_or_else(|| Error::new(ErrorKind::Other, "JSON writer already finished"))?;
        let sink = out
            .into_inner()
            .map_err(|e| Error::from_io(e.into_error()))?;
        sink.finish()?;
        Ok(())
    }
}
