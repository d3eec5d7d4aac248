//! What the host and a runner say to each other: frames over a pair of
//! pipes. A frame is its length (u32, little-endian, tag included), a tag
//! byte and a payload. Calls and answers are JSON; records travel as Arrow
//! IPC batches (one self-contained IPC stream per batch, so that a batch's
//! field names can differ from the last one's); bytes travel as they are.

use std::io::{self, Read, Write};
use std::path::PathBuf;

use arrow_array::RecordBatch;
use serde::{Deserialize, Serialize};

use iterable_core::{Error, ErrorKind, Options, Position, Value};

use crate::error::plugin_origin;

/// Host → runner: a [`Call`] (JSON).
pub const CALL: u8 = 1;
/// Either way: bytes of a stream (a reader's input, a writer's output).
pub const BYTES: u8 = 2;
/// Either way: the end of a stream of bytes or batches (host → runner:
/// finish the writer).
pub const END: u8 = 3;
/// Either way: one Arrow IPC batch (host → runner, for an engine's input,
/// after a u32 naming the input).
pub const BATCH: u8 = 4;
/// Runner → host: a call's answer (JSON).
pub const OK: u8 = 5;
/// Either way: an error ([`WireError`], JSON). Host → runner: the host's
/// input failed.
pub const ERR: u8 = 6;
/// Runner → host: an engine wants the next batch of input number (u32).
pub const NEED: u8 = 7;
/// Runner → host, once, first: the library's description ([`Ready`]).
pub const READY: u8 = 8;

/// The largest frame either side accepts.
const MAX_FRAME: usize = 1 << 30;

/// What the host asks of a runner.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "call", rename_all = "kebab-case")]
pub enum Call {
    /// Read records from the bytes that follow (BYTES…, END), `size` of
    /// them when the host knows.
    Read {
        format: usize,
        options: Opts,
        #[serde(default)]
        size: Option<u64>,
    },
    /// Read a plain file by its path; answers `true`, or `false` when the
    /// format streams instead.
    ReadPath {
        format: usize,
        path: PathBuf,
        options: Opts,
    },
    /// A file's schema by its path.
    Schema {
        format: usize,
        path: PathBuf,
        options: Opts,
    },
    /// Write the batches that follow (BATCH…, END finishes).
    Write { format: usize, options: Opts },
    /// Decode the bytes that follow, `size` of them when the host knows.
    Decode {
        codec: usize,
        #[serde(default)]
        size: Option<u64>,
    },
    /// Encode the bytes that follow (BYTES…, END finishes).
    Encode { codec: usize, level: Option<i32> },
    /// Connect; the connection is kept for the calls that follow.
    Connect {
        driver: usize,
        uri: String,
        options: Opts,
    },
    /// The connection's tables.
    Tables,
    /// Read a table or a query from the connection.
    Query {
        table: Option<String>,
        query: Option<String>,
        options: Opts,
    },
    /// Write the batches that follow into a table (END commits).
    Insert { table: String, options: Opts },
    /// Check the values of the one-column batch that follows.
    Check { rule: usize },
    /// Run a query over inputs that the runner asks for (NEED).
    Execute {
        engine: usize,
        query: String,
        inputs: Vec<String>,
        options: Opts,
    },
    /// Start observing a run; the observer is kept for the events that follow.
    Observe {
        hook: usize,
        command: String,
        source: String,
        target: Option<String>,
        format: String,
        options: Opts,
    },
    /// A batch for the observer (one BATCH follows).
    Seen,
    /// The run failed.
    Failed { message: String },
    /// The run is over.
    Close {
        records: u64,
        bytes_read: u64,
        ok: bool,
    },
}

/// Options as pairs, in order.
pub type Opts = Vec<(String, String)>;

/// Options on the wire.
pub fn opts(o: &Options) -> Opts {
    o.iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// Options from the wire.
pub fn options(o: &Opts) -> Options {
    let mut out = Options::new();
    for (k, v) in o {
        out.set(k.clone(), v.clone());
    }
    out
}

/// What a runner says first: who it is and what it provides.
#[derive(Debug, Serialize, Deserialize)]
pub struct Ready {
    /// The library's description.
    pub manifest: Box<crate::catalog::manifest::Manifest>,
    /// Whether the sandbox is on, and what it could not do.
    pub sandbox: crate::policy::SandboxReport,
}

/// An error as it crosses the pipe: everything the core's error carries
/// but its source. The kind travels by its stable name
/// ([`ErrorKind::name`]), and a provider's failure class as it is.
#[derive(Debug, Serialize, Deserialize)]
pub struct WireError {
    kind: String,
    failure: Option<String>,
    origin: Option<(String, String)>,
    message: String,
    path: Option<PathBuf>,
    line: Option<u64>,
    record: Option<u64>,
    byte: Option<u64>,
}

impl WireError {
    /// The error, for the wire.
    pub fn of(e: &Error) -> WireError {
        let p = e.position();
        WireError {
            kind: e.kind_name().to_owned(),
            failure: e.failure().map(str::to_owned),
            origin: e.origin().map(|o| (o.kind.to_owned(), o.name.clone())),
            message: e.message().to_owned(),
            path: e.path().map(|p| p.to_path_buf()),
            line: p.line,
            record: p.record,
            byte: p.byte,
        }
    }

    /// The error again, on this side: the same kind (one this version does
    /// not know is kept by its name), failure class and origin.
    pub fn into_error(self) -> Error {
        let plugin = self
            .origin
            .filter(|(k, _)| k == "plugin")
            .map(|(_, name)| plugin_origin(name));
        let mut e = match (ErrorKind::from_name(&self.kind), self.failure, plugin) {
            (Some(ErrorKind::Provider), Some(failure), Some(origin)) => {
                Error::provider(failure, origin, self.message)
            }
            (_, _, origin) => {
                let e = Error::of_kind_named(&self.kind, self.message);
                match origin {
                    Some(o) => e.with_origin(o),
                    None => e,
                }
            }
        };
        if let Some(p) = self.path {
            e = e.with_path(p);
        }
        e.with_position(Position {
            line: self.line,
            record: self.record,
            byte: self.byte,
        })
    }
}

/// Writes one frame whose payload is the concatenation of `parts`.
pub fn write_frame(w: &mut impl Write, tag: u8, parts: &[&[u8]]) -> io::Result<()> {
    let len: usize = 1 + parts.iter().map(|p| p.len()).sum::<usize>();
    let len = u32::try_from(len)
        .ok()
        .filter(|l| (*l as usize) <= MAX_FRAME)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "frame too large"))?;
    w.write_all(&len.to_le_bytes())?;
    w.write_all(&[tag])?;
    for p in parts {
        w.write_all(p)?;
    }
    Ok(())
}

/// Writes a frame with a JSON payload.
pub fn write_json(w: &mut impl Write, tag: u8, value: &impl Serialize) -> io::Result<()> {
    let text = serde_json::to_vec(value).map_err(io::Error::other)?;
    write_frame(w, tag, &[&text])
}

/// Reads one frame into `buf` (its payload) and returns its tag; an
/// `UnexpectedEof` at a frame's start is the other side closing the pipe.
pub fn read_frame(r: &mut impl Read, buf: &mut Vec<u8>) -> io::Result<u8> {
    let mut head = [0u8; 5];
    r.read_exact(&mut head)?;
    let len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
    if len == 0 || len > MAX_FRAME {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("a frame of {len} bytes"),
        ));
    }
    buf.clear();
    buf.resize(len - 1, 0);
    r.read_exact(buf)?;
    Ok(head[4])
}

/// Parses a JSON payload.
pub fn json<T: for<'de> Deserialize<'de>>(buf: &[u8]) -> io::Result<T> {
    serde_json::from_slice(buf).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// Rows over `names` as one self-contained Arrow IPC stream. Columns keep
/// their values exactly (see [`crate::arrow::exact_batch`]).
pub fn encode_rows(names: &[String], rows: &[Vec<Value>]) -> Result<Vec<u8>, Error> {
    let batch = crate::arrow::exact_batch(names, rows)
        .map_err(|e| Error::new(ErrorKind::Other, format!("cannot encode a batch: {e}")))?;
    encode_batch(&batch)
}

/// A batch as one self-contained Arrow IPC stream.
pub fn encode_batch(batch: &RecordBatch) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(batch.get_array_memory_size() + 512);
    let fail = |e: arrow_schema::ArrowError| {
        Error::new(ErrorKind::Other, format!("cannot encode a batch: {e}"))
    };
    let mut w =
        arrow_ipc::writer::StreamWriter::try_new(&mut out, &batch.schema()).map_err(fail)?;
    w.write(batch).map_err(fail)?;
    w.finish().map_err(fail)?;
    drop(w);
    Ok(out)
}

/// The batch of one IPC stream, validated in full (a runner is not
/// trusted more than a plugin).
pub fn decode_batch(bytes: &[u8]) -> Result<RecordBatch, String> {
    let mut r = arrow_ipc::reader::StreamReader::try_new(io::Cursor::new(bytes), None)
        .map_err(|e| e.to_string())?;
    match r.next() {
        Some(Ok(b)) => Ok(b),
        Some(Err(e)) => Err(e.to_string()),
        None => Err("an empty batch frame".into()),
    }
}

/// Runner → host: a Rust plugin's batch as it filled it (the flat layout of
/// `RBatch`), for a batch with no nested values; the host checks it as it
/// checks a batch from a plugin in its own process.
pub const FLAT: u8 = 9;

/// Writes a Rust plugin's batch as one FLAT frame: its field names, row
/// count, tags, cell ends and data (`nested` must be empty).
pub fn write_flat(w: &mut impl Write, b: &iterable_plugin_api::RBatch) -> io::Result<()> {
    let mut head = Vec::with_capacity(64);
    let n = |v: usize| u32::try_from(v).map_err(|_| io::Error::other("batch too large"));
    head.extend_from_slice(&n(b.fields.len())?.to_le_bytes());
    for f in b.fields.iter() {
        head.extend_from_slice(&n(f.len())?.to_le_bytes());
        head.extend_from_slice(f.as_bytes());
    }
    head.extend_from_slice(&b.rows.to_le_bytes());
    head.extend_from_slice(&n(b.tags.len())?.to_le_bytes());
    let ends = u32s_as_bytes(&b.ends);
    let counts = [
        n(b.ends.len())?.to_le_bytes(),
        n(b.data.len())?.to_le_bytes(),
    ];
    write_frame(
        w,
        FLAT,
        &[&head, &b.tags, &counts[0], &ends, &counts[1], &b.data],
    )
}

/// `u32`s as their little-endian bytes.
fn u32s_as_bytes(v: &[u32]) -> std::borrow::Cow<'_, [u8]> {
    #[cfg(target_endian = "little")]
    {
        // SAFETY: a u32 slice is readable as 4× as many bytes, with no
        // padding; on a little-endian machine they are the LE encoding.
        std::borrow::Cow::Borrowed(unsafe {
            std::slice::from_raw_parts(v.as_ptr().cast::<u8>(), std::mem::size_of_val(v))
        })
    }
    #[cfg(not(target_endian = "little"))]
    {
        std::borrow::Cow::Owned(v.iter().flat_map(|x| x.to_le_bytes()).collect())
    }
}

/// Reads a FLAT frame's payload into `b` (its buffers reused). Only the
/// layout is checked here; the batch's own checks come after.
pub fn read_flat(p: &[u8], b: &mut iterable_plugin_api::RBatch) -> Result<(), String> {
    use iterable_plugin_api::abi_stable::std_types::RString;
    let mut at = 0usize;
    let mut take = |n: usize| -> Result<&[u8], String> {
        let s = p
            .get(at..at.checked_add(n).ok_or("length overflow")?)
            .ok_or("a flat batch cut short")?;
        at += n;
        Ok(s)
    };
    fn u32_at(s: &[u8]) -> usize {
        u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as usize
    }
    b.clear();
    let nfields = u32_at(take(4)?);
    for _ in 0..nfields {
        let len = u32_at(take(4)?);
        let name = std::str::from_utf8(take(len)?).map_err(|_| "a field name that is not UTF-8")?;
        b.fields.push(RString::from(name));
    }
    b.rows = u32_at(take(4)?) as u32;
    // Through std's Vec: RVec's own extend goes element by element.
    let ntags = u32_at(take(4)?);
    let mut tags = std::mem::take(&mut b.tags).into_vec();
    tags.extend_from_slice(take(ntags)?);
    b.tags = tags.into();
    let nends = u32_at(take(4)?);
    let bytes = take(nends.checked_mul(4).ok_or("length overflow")?)?;
    let mut ends = std::mem::take(&mut b.ends).into_vec();
    ends.extend(
        bytes
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])),
    );
    b.ends = ends.into();
    let ndata = u32_at(take(4)?);
    let mut data = std::mem::take(&mut b.data).into_vec();
    data.extend_from_slice(take(ndata)?);
    b.data = data.into();
    if at != p.len() {
        return Err("bytes after a flat batch".into());
    }
    Ok(())
}

/// How a runner is started and what it is told: one JSON argument.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Spec {
    /// The plugin's name, for messages.
    pub name: String,
    /// The library to load.
    pub library: PathBuf,
    /// The manifest, for a plugin that needs it to load (ADBC).
    pub manifest: Option<PathBuf>,
    /// Whether to describe hooks (costs a capability lookup).
    pub hooks: bool,
    /// Limits, as the runner applies them.
    pub memory_limit: Option<u64>,
    pub network: bool,
    pub sandbox: bool,
    /// What it may read besides the system's libraries: its own directory,
    /// what the configuration grants, and, for a runner that reads one file
    /// by path, that file.
    pub read: Vec<PathBuf>,
    /// What it may write: what the configuration grants, and, for a
    /// driver's file database, that file's directory.
    pub write: Vec<PathBuf>,
    /// A scratch directory it may write in (removed afterwards).
    pub scratch: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{PluginErrorExt, PluginErrorKind};
    use iterable_plugin_api::RBatch;

    #[test]
    fn a_flat_batch_crosses_whole_and_a_cut_one_is_refused() {
        let mut b = RBatch::new();
        {
            let mut w = b.builder();
            w.key("a").push_str("x");
            w.key("b").push_int(7);
            w.end_row();
            w.key("a").push_str("é");
            w.key("b").push_null();
            w.end_row();
        }
        let mut frame = Vec::new();
        write_flat(&mut frame, &b).unwrap();
        let mut buf = Vec::new();
        assert_eq!(read_frame(&mut &frame[..], &mut buf).unwrap(), FLAT);
        let mut back = RBatch::new();
        read_flat(&buf, &mut back).unwrap();
        assert_eq!(back.fields, b.fields);
        assert_eq!(
            (back.rows, &back.tags, &back.ends, &back.data),
            (b.rows, &b.tags, &b.ends, &b.data)
        );
        for cut in [0, 3, 9, buf.len() - 1] {
            assert!(read_flat(&buf[..cut], &mut back).is_err(), "cut at {cut}");
        }
        let mut longer = buf.clone();
        longer.push(0);
        assert!(read_flat(&longer, &mut back).is_err());
    }

    #[test]
    fn errors_keep_their_kind_plugin_and_place() {
        let e = Error::plugin(PluginErrorKind::CallFailed, "ltsv", "bad line")
            .with_path("a.ltsv")
            .with_position(Position::line(3));
        let back = WireError::of(&e).into_error();
        assert_eq!(back.to_string(), e.to_string());
        assert_eq!(back.plugin_kind(), Some(PluginErrorKind::CallFailed));
        assert_eq!(back.kind(), ErrorKind::Provider);
        let e = Error::parse("unterminated quote", Position::record(2));
        let back = WireError::of(&e).into_error();
        assert_eq!((back.kind(), back.to_string()), (e.kind(), e.to_string()));
        // Every kind crosses as itself, with and without a plugin named.
        for &kind in ErrorKind::ALL {
            let e = Error::new(kind, "m").with_plugin("p");
            let back = WireError::of(&e).into_error();
            assert_eq!((back.kind(), back.to_string()), (kind, e.to_string()));
        }
        // A kind or a failure class this side does not know is kept.
        let e = Error::of_kind_named("quota", "too much").with_plugin("p");
        let back = WireError::of(&e).into_error();
        assert_eq!(back.kind_name(), "quota");
        assert_eq!(back.to_string(), e.to_string());
        let e = Error::provider("rate-limited", plugin_origin("p"), "slow down");
        let back = WireError::of(&e).into_error();
        assert_eq!(back.failure(), Some("rate-limited"));
        assert_eq!(back.to_string(), "plugin 'p': slow down");
    }

    #[test]
    fn a_frame_too_large_or_empty_is_refused() {
        let mut buf = Vec::new();
        let huge = [0xff, 0xff, 0xff, 0x7f, CALL];
        assert!(read_frame(&mut &huge[..], &mut buf).is_err());
        let empty = [0, 0, 0, 0, CALL];
        assert!(read_frame(&mut &empty[..], &mut buf).is_err());
    }
}
