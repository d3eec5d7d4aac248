//! The wire's byte and record streams as std types, both ways: std adapters
//! over objects a peer lends ([`SourceReader`], [`SinkWriter`]), callback
//! objects over std types ([`ByteSourceBox::from_reader`],
//! [`ByteSinkBox::from_writer`], [`RecordSourceBox::from_fn`]), every method
//! panic-guarded, and [`MemorySink`] for tests.

use std::io::{self, Read, Write};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{RErr, ROk, RResult, RSlice, RSliceMut};

use crate::abi::RBatch;
use crate::abi::RError;
use crate::abi::{ByteSink, ByteSinkBox, ByteSource, ByteSourceBox, RecordSource, RecordSourceBox};
use crate::sdk::guard::{Poison, drop_guarded};
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
/// use iterable_plugin_api::sdk::streams::MemorySink;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::RErrorKind;
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
}
