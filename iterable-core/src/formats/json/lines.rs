//! JSON lines: one object per line.

use std::io::{BufRead, BufReader};
use std::sync::Arc;

use crate::error::{Error, Position, Result};
use crate::io::{BoxRead, BoxSink};
use crate::options::Options;
use crate::provider::{BoxReader, BoxWriter, Format, FormatInfo, RecordReader};
use crate::record::{FieldNames, Record};

pub use crate::formats::text::MAX_ELEMENT_BYTES;

use super::writer::JsonWriter;
use super::*;
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
                reads_paths: false,
            },
        }
    }
}

impl Format for JsonLinesFormat {
    fn info(&self) -> &FormatInfo {
        &self.info
    }

    fn reader(&self, input: BoxRead, _options: &Options) -> Result<BoxReader> {
        let input = crate::formats::text::decode_input(input, None)?;
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
