//! Helpers for the side that *calls* plugins (the host), also used by the
//! plugin-side adapters.
//!
//! * Callback objects the host hands to plugins, built over std types, every
//!   method panic-guarded (a panic in host code while a plugin is calling it
//!   would otherwise make abi_stable `exit(1)` the process):
//!   [`ByteSourceBox::from_reader`], [`ByteSinkBox::from_writer`],
//!   [`ByteSinkBox::from_writer_with_finish`], [`RecordSourceBox::from_fn`].
//! * std adapters over objects a plugin returns: [`SourceReader`]
//!   (`io::Read` over a [`ByteSourceBox`]) and [`SinkWriter`] (`io::Write`
//!   over a [`ByteSinkBox`]).
//! * [`MemorySink`]: an in-memory byte buffer for testing writers and
//!   encoders.
//! * Small conversions and checks: [`roptions`], [`options_to_vec`],
//!   [`check_api_version`], [`load_module`], [`summarize_load_error`].

use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use abi_stable::library::{LibraryError, RootModule, lib_header_from_path};
use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{RErr, ROk, RResult, RSlice, RSliceMut, RString, Tuple2};

use crate::abi::{
    ByteSink, ByteSinkBox, ByteSource, ByteSourceBox, PluginModule_Ref, ROptions, RecordSource,
    RecordSourceBox,
};
use crate::batch::RBatch;
use crate::error::{RError, RErrorKind};
use crate::panic_guard::{Poison, drop_guarded};

// ---------------------------------------------------------------------------
// io::Read / io::Write over boundary objects
// ---------------------------------------------------------------------------

/// `io::Read` over a [`ByteSourceBox`] (unbuffered: each `read` is one call
/// across the boundary, so wrap it in a `BufReader` or read big chunks).
///
/// An `RError` from the source becomes an `io::Error` that carries it, and
/// converts back losslessly with `RError::from` / `Error::from`.
pub struct SourceReader {
    source: ByteSourceBox,
}

impl SourceReader {
    /// Wraps `source`.
    pub fn new(source: ByteSourceBox) -> Self {
        Self { source }
    }
    /// Returns the source.
    pub fn into_inner(self) -> ByteSourceBox {
        self.source
    }
}

impl Read for SourceReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let len = buf.len();
        match self.source.read(RSliceMut::from_mut_slice(buf)) {
            ROk(n) if n <= len => Ok(n),
            ROk(n) => Err(RError::invalid_input(format!(
                "byte source reported {n} bytes read into a {len}-byte buffer"
            ))
            .into()),
            RErr(e) => Err(e.into()),
        }
    }
}

/// `io::Write` over a [`ByteSinkBox`] (unbuffered), plus [`SinkWriter::finish`].
pub struct SinkWriter {
    sink: ByteSinkBox,
    finished: bool,
}

impl SinkWriter {
    /// Wraps `sink`.
    pub fn new(sink: ByteSinkBox) -> Self {
        Self {
            sink,
            finished: false,
        }
    }
    /// Calls the sink's `finish` (once; later calls do nothing).
    pub fn finish(&mut self) -> Result<(), RError> {
        if self.finished {
            return Ok(());
        }
        self.finished = true;
        self.sink.finish().into_result()
    }
    /// Returns the sink.
    pub fn into_inner(self) -> ByteSinkBox {
        self.sink
    }
}

impl Write for SinkWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.finished {
            return Err(RError::invalid_input("write after finish").into());
        }
        match self.sink.write(RSlice::from_slice(buf)) {
            ROk(()) => Ok(buf.len()),
            RErr(e) => Err(e.into()),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        if self.finished {
            return Ok(());
        }
        self.sink.flush().into_result().map_err(Into::into)
    }
}

// ---------------------------------------------------------------------------
// Callback objects over std types
// ---------------------------------------------------------------------------

struct ReadSource<R> {
    reader: Option<R>,
    poison: Poison,
}

impl<R: Read + Send> ByteSource for ReadSource<R> {
    fn read(&mut self, mut buf: RSliceMut<'_, u8>) -> RResult<usize, RError> {
        let reader = &mut self.reader;
        self.poison
            .run(|| {
                let Some(reader) = reader.as_mut() else {
                    return Ok(0);
                };
                let buf = buf.as_mut_slice();
                loop {
                    match reader.read(buf) {
                        Ok(n) => return Ok(n.min(buf.len())),
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => return Err(e.into()),
                    }
                }
            })
            .into()
    }
}

impl<R> Drop for ReadSource<R> {
    fn drop(&mut self) {
        drop_guarded(self.reader.take());
    }
}

type FinishFn<W> = Box<dyn FnOnce(W) -> io::Result<()> + Send>;

struct WriteSink<W> {
    writer: Option<W>,
    on_finish: Option<FinishFn<W>>,
    poison: Poison,
}

fn closed() -> RError {
    RError::invalid_input("write after finish")
}

impl<W: Write + Send> ByteSink for WriteSink<W> {
    fn write(&mut self, buf: RSlice<'_, u8>) -> RResult<(), RError> {
        let writer = &mut self.writer;
        self.poison
            .run(|| {
                let w = writer.as_mut().ok_or_else(closed)?;
                w.write_all(buf.as_slice()).map_err(RError::from)
            })
            .into()
    }
    fn flush(&mut self) -> RResult<(), RError> {
        let writer = &mut self.writer;
        self.poison
            .run(|| match writer.as_mut() {
                Some(w) => w.flush().map_err(RError::from),
                None => Ok(()),
            })
            .into()
    }
    fn finish(&mut self) -> RResult<(), RError> {
        let writer = &mut self.writer;
        let on_finish = &mut self.on_finish;
        self.poison
            .run(|| {
                let Some(w) = writer.take() else {
                    return Ok(());
                };
                match on_finish.take() {
                    Some(f) => f(w).map_err(RError::from),
                    None => Ok(()),
                }
            })
            .into()
    }
}

impl<W> Drop for WriteSink<W> {
    fn drop(&mut self) {
        drop_guarded(self.writer.take());
        drop_guarded(self.on_finish.take());
    }
}

type FillFn = Box<dyn FnMut(&mut RBatch, u32) -> Result<bool, RError> + Send>;

struct FnSource {
    fill: Option<FillFn>,
    poison: Poison,
}

impl RecordSource for FnSource {
    fn read_batch(&mut self, batch: &mut RBatch, max_rows: u32) -> RResult<bool, RError> {
        let fill = &mut self.fill;
        self.poison
            .run(|| {
                batch.clear();
                match fill.as_mut() {
                    Some(f) => f(batch, max_rows.max(1)),
                    None => Ok(false),
                }
            })
            .into()
    }
}

impl Drop for FnSource {
    fn drop(&mut self) {
        drop_guarded(self.fill.take());
    }
}

impl ByteSourceBox {
    /// A [`ByteSource`] over any reader. Every call is panic-guarded (a
    /// panic becomes a PANIC error and poisons the object); `Interrupted`
    /// errors are retried.
    pub fn from_reader<R: Read + Send + 'static>(reader: R) -> Self {
        Self::from_value(
            ReadSource {
                reader: Some(reader),
                poison: Poison::default(),
            },
            TD_Opaque,
        )
    }
}

impl ByteSinkBox {
    /// A [`ByteSink`] over any writer; `finish` flushes and drops (closes) the writer.
    pub fn from_writer<W: Write + Send + 'static>(writer: W) -> Self {
        Self::from_writer_with_finish(writer, |mut w: W| w.flush())
    }

    /// A [`ByteSink`] over any writer; `finish` calls `on_finish(writer)`
    /// once (e.g. `|mut f: File| f.sync_all()`). Panic-guarded like
    /// [`ByteSourceBox::from_reader`]; writing after `finish` is an error.
    pub fn from_writer_with_finish<W, F>(writer: W, on_finish: F) -> Self
    where
        W: Write + Send + 'static,
        F: FnOnce(W) -> io::Result<()> + Send + 'static,
    {
        Self::from_value(
            WriteSink {
                writer: Some(writer),
                on_finish: Some(Box::new(on_finish)),
                poison: Poison::default(),
            },
            TD_Opaque,
        )
    }
}

impl RecordSourceBox {
    /// A [`RecordSource`] over a closure that fills a batch: the batch is
    /// cleared before each call, `max_rows` is at least 1, and the closure
    /// returns `Ok(false)` at end of stream (leaving the batch empty). Use
    /// [`RBatch::builder`] inside. Panic-guarded.
    pub fn from_fn<F>(fill: F) -> Self
    where
        F: FnMut(&mut RBatch, u32) -> Result<bool, RError> + Send + 'static,
    {
        Self::from_value(
            FnSource {
                fill: Some(Box::new(fill)),
                poison: Poison::default(),
            },
            TD_Opaque,
        )
    }
}

// ---------------------------------------------------------------------------
// An in-memory sink for tests
// ---------------------------------------------------------------------------

/// A byte buffer to write into and read back, for testing writers and
/// encoders: clones share one buffer, so hand one clone to
/// [`ByteSinkBox::from_writer`] and read what arrived from another.
///
/// ```
/// use iterable_plugin_api::ByteSinkBox;
/// use iterable_plugin_api::abi_stable::std_types::RSlice;
/// use iterable_plugin_api::host::MemorySink;
///
/// let out = MemorySink::new();
/// let mut sink = ByteSinkBox::from_writer(out.clone());
/// sink.write(RSlice::from_slice(b"one line\n")).unwrap();
/// sink.finish().unwrap();
/// assert_eq!(out.contents(), b"one line\n");
/// assert_eq!(out.text(), "one line\n");
/// ```
#[derive(Clone, Debug, Default)]
pub struct MemorySink(Arc<Mutex<Vec<u8>>>);

impl MemorySink {
    /// An empty buffer.
    pub fn new() -> Self {
        Self::default()
    }

    /// A copy of the bytes written so far.
    pub fn contents(&self) -> Vec<u8> {
        self.buffer().clone()
    }

    /// The bytes written so far as text; invalid UTF-8 shows as U+FFFD.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.buffer()).into_owned()
    }

    fn buffer(&self) -> MutexGuard<'_, Vec<u8>> {
        // A panic while holding the lock leaves the bytes intact.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Write for MemorySink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.buffer().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Conversions and checks
// ---------------------------------------------------------------------------

/// Builds [`ROptions`] from key/value pairs (order kept).
pub fn roptions<K: AsRef<str>, V: AsRef<str>>(pairs: impl IntoIterator<Item = (K, V)>) -> ROptions {
    pairs
        .into_iter()
        .map(|(k, v)| Tuple2(RString::from(k.as_ref()), RString::from(v.as_ref())))
        .collect()
}

/// Converts [`ROptions`] to owned pairs.
pub fn options_to_vec(options: &ROptions) -> Vec<(String, String)> {
    options
        .iter()
        .map(|p| (p.0.to_string(), p.1.to_string()))
        .collect()
}

/// Parses `"MAJOR.MINOR[.PATCH...]"` into `(major, minor)`.
pub fn parse_api_version(version: &str) -> Option<(u32, u32)> {
    let mut parts = version.trim().split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// Checks a plugin's declared API version (from its manifest or metadata)
/// against this crate's: the major must equal [`crate::API_MAJOR`]; any
/// minor is accepted (abi_stable's own check agrees). The error says both
/// versions and what to do.
pub fn check_api_version(plugin_api_version: &str) -> Result<(), RError> {
    let Some((major, _minor)) = parse_api_version(plugin_api_version) else {
        return Err(RError::new(
            RErrorKind::UNSUPPORTED,
            format!("invalid plugin API version `{plugin_api_version}`"),
        ));
    };
    if major != crate::API_MAJOR {
        return Err(RError::new(
            RErrorKind::UNSUPPORTED,
            format!(
                "plugin built for plugin API {plugin_api_version}, this host provides {} \
                 (major versions differ); rebuild the plugin against iterable-plugin-api {}.x",
                crate::API_VERSION,
                crate::API_MAJOR
            ),
        ));
    }
    Ok(())
}

/// Loads the plugin library at `path` and returns its root module; abi_stable
/// checks the interface version (same major) and the layout of every type
/// reachable from the root module. Loads per path (never through
/// abi_stable's per-type `load_from_*` cache, which returns the first module
/// for every path), so any number of plugins can be loaded; loading the same
/// path twice returns the same module. Libraries are never unloaded
/// (restart to reload).
pub fn load_module(path: &Path) -> Result<PluginModule_Ref, LibraryError> {
    lib_header_from_path(path).and_then(|header| header.init_root_module::<PluginModule_Ref>())
}

/// Shortens abi_stable's load-error text (a layout mismatch prints hundreds
/// of lines): keeps each line starting with `Error:` plus the 3 after it,
/// or else the first 5 lines; at most 40 lines.
pub fn summarize_load_error(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut keep: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim_start().starts_with("Error:") {
            keep.extend(lines[i..(i + 4).min(lines.len())].iter().copied());
            i += 4;
        } else {
            i += 1;
        }
    }
    if keep.is_empty() {
        keep = lines.iter().take(5).copied().collect();
    }
    keep.truncate(40);
    keep.join("\n")
}

/// The abi_stable name of the root module type (for messages).
pub fn root_module_name() -> &'static str {
    <PluginModule_Ref as RootModule>::NAME
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[test]
    fn reader_round_trip_and_panic() {
        let mut r = SourceReader::new(ByteSourceBox::from_reader(&b"hello world"[..]));
        let mut s = String::new();
        r.read_to_string(&mut s).unwrap();
        assert_eq!(s, "hello world");

        struct Boom;
        impl Read for Boom {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                panic!("host reader exploded")
            }
        }
        let mut r = SourceReader::new(ByteSourceBox::from_reader(Boom));
        let e = RError::from(r.read(&mut [0u8; 4]).unwrap_err());
        assert_eq!(e.kind, RErrorKind::PANIC);
        assert!(e.message.contains("host reader exploded"), "{}", e.message);
        let e = RError::from(r.read(&mut [0u8; 4]).unwrap_err());
        assert_eq!(e.kind, RErrorKind::PANIC);
    }

    #[test]
    fn writer_finish_runs_once() {
        let buf = MemorySink::new();
        let finished = Arc::new(Mutex::new(0));
        let f2 = finished.clone();
        let sink = ByteSinkBox::from_writer_with_finish(buf.clone(), move |_| {
            *f2.lock().unwrap() += 1;
            Ok(())
        });
        let mut w = SinkWriter::new(sink);
        w.write_all(b"abc").unwrap();
        w.finish().unwrap();
        w.finish().unwrap();
        assert!(w.write_all(b"x").is_err());
        assert_eq!(buf.contents(), b"abc");
        assert_eq!(*finished.lock().unwrap(), 1);
    }

    #[test]
    fn fn_source_is_guarded() {
        let mut n = 0;
        let mut src = RecordSourceBox::from_fn(move |batch, _max| {
            n += 1;
            if n == 1 {
                let mut b = batch.builder();
                b.set_fields(&["x"]);
                b.push_int(1).end_row();
                Ok(true)
            } else {
                panic!("fill failed")
            }
        });
        let mut batch = RBatch::new();
        assert!(src.read_batch(&mut batch, 10).unwrap());
        assert_eq!(batch.cell(0, 0).as_i64(), Some(1));
        let e = src.read_batch(&mut batch, 10).unwrap_err();
        assert_eq!(e.kind, RErrorKind::PANIC);
        assert!(e.message.contains("fill failed"));
    }

    #[test]
    fn api_versions() {
        assert!(check_api_version("1.0.0").is_ok());
        assert!(check_api_version("1.7.2").is_ok());
        let e = check_api_version("2.0.0").unwrap_err();
        assert!(e.message.contains("2.0.0") && e.message.contains(crate::API_VERSION));
        assert!(check_api_version("x").is_err());
        assert_eq!(parse_api_version("1.2.3"), Some((1, 2)));
    }

    #[test]
    fn summarize() {
        let text = "noise\nmore\nError: field `x` differs\n expected a\n found b\n detail\n zzz\n";
        let s = summarize_load_error(text);
        assert!(s.starts_with("Error: field `x` differs"));
        assert!(!s.contains("zzz") && s.contains("detail"));
        assert_eq!(summarize_load_error("a\nb"), "a\nb");
    }
}
