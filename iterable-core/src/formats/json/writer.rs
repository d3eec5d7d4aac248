//! The JSON and JSON lines writer.

use std::sync::Arc;

use crate::error::{Error, ErrorKind, Result};
use crate::io::BoxSink;
use crate::provider::RecordWriter;
use crate::record::{FieldNames, Record};
use crate::value::Value;

/// How many bytes the JSON writer gathers before handing them to the sink.
const WRITE_CHUNK: usize = crate::io::CHUNK;

/// Writes JSON lines, or a JSON array (optionally under a key).
///
/// Records are rendered into a buffer of its own, which is handed to the
/// sink whole (with a thread behind the sink, without a copy). Keys are
/// escaped once per list of field names, and strings are escaped by a loop
/// that copies runs of plain bytes; the output is byte for byte what
/// `serde_json` writes.
pub(super) struct JsonWriter {
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
    pub(super) fn new(
        output: BoxSink,
        array: Option<Option<String>>,
        pretty: bool,
    ) -> Result<Self> {
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
pub(super) fn all_plain(bytes: &[u8]) -> bool {
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
pub(super) fn plain(b: u8) -> bool {
    b >= 0x20 && b != b'"' && b != b'\\'
}

/// Appends `s` as a JSON string, escaped exactly as `serde_json` does:
/// quotes and backslashes, the short escapes (`\b \f \n \r \t`), and
/// `\u00XX` for the other control characters.
pub(super) fn write_json_str(out: &mut Vec<u8>, s: &str) {
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
