//! JSON arrays, read element by element, with memory flat on large files.

use std::io::{BufRead, BufReader};
use std::sync::Arc;

use crate::error::{Error, Position, Result};
use crate::io::{BoxRead, BoxSink};
use crate::options::{OptionSpec, OptionType, Options};
use crate::provider::{BoxReader, BoxWriter, Format, FormatInfo, RecordReader};
use crate::record::{FieldNames, Record};

pub use crate::formats::text::MAX_ELEMENT_BYTES;

use super::writer::JsonWriter;
use super::*;
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
                reads_paths: false,
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
        let input = crate::formats::text::decode_input(input, None)?;
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
