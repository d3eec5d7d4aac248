//! Bytes in and out for authors: [`Input`], [`Output`], [`Encoder`].

use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::sync::{Arc, Mutex, MutexGuard};

use abi_stable::std_types::{RErr, ROk, RSlice};

use crate::abi::{ByteSinkBox, ByteSourceBox};
use crate::abi::{RError, RErrorKind};
use crate::sdk::error::{Error, Result};
use crate::sdk::streams::SourceReader;

/// The bytes a format or codec reads: `Read + BufRead` over the host's
/// [`ByteSource`], buffered on the plugin side ([`Input::BUFFER_SIZE`]).
/// Errors from the host arrive as `io::Error`s that convert back into
/// [`Error`] with their kind intact (`?` does it).
pub struct Input {
    inner: BufReader<SourceReader>,
}

impl Input {
    /// The plugin-side buffer size: 64 KiB.
    pub const BUFFER_SIZE: usize = 64 * 1024;

    /// Wraps a host byte source.
    pub fn new(source: ByteSourceBox) -> Self {
        Self {
            inner: BufReader::with_capacity(Self::BUFFER_SIZE, SourceReader::new(source)),
        }
    }
    /// An `Input` over any reader (handy in tests).
    pub fn from_reader<R: Read + Send + 'static>(reader: R) -> Self {
        Self::new(ByteSourceBox::from_reader(reader))
    }
}

impl Read for Input {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf)
    }
}

impl BufRead for Input {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }
    fn consume(&mut self, amt: usize) {
        self.inner.consume(amt)
    }
}

struct SinkState {
    sink: ByteSinkBox,
    error: Option<RError>,
    finished: bool,
}

fn lock(state: &Mutex<SinkState>) -> MutexGuard<'_, SinkState> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

struct SharedSink(Arc<Mutex<SinkState>>);

impl Write for SharedSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut st = lock(&self.0);
        if st.finished {
            return Err(RError::invalid_input("write after finish").into());
        }
        match st.sink.write(RSlice::from_slice(buf)) {
            ROk(()) => Ok(buf.len()),
            RErr(e) => {
                st.error.get_or_insert_with(|| e.clone());
                Err(e.into())
            }
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        let mut st = lock(&self.0);
        if st.finished {
            return Ok(());
        }
        match st.sink.flush() {
            ROk(()) => Ok(()),
            RErr(e) => {
                st.error.get_or_insert_with(|| e.clone());
                Err(e.into())
            }
        }
    }
}

/// The bytes a format writer or codec encoder writes: `Write` over the
/// host's [`ByteSink`], buffered on the plugin side (64 KiB).
///
/// You never finish it yourself: after your writer's `finish` returns, the
/// adapter drops your writer (which drops and flushes the `Output`), then
/// finishes the host sink. A write error that happened while flushing on
/// drop is still reported. Do not keep the `Output` alive elsewhere.
pub struct Output {
    inner: BufWriter<SharedSink>,
}

pub(crate) struct OutputHandle(Arc<Mutex<SinkState>>);

impl Output {
    /// The plugin-side buffer size: 64 KiB.
    pub const BUFFER_SIZE: usize = 64 * 1024;

    pub(crate) fn new(sink: ByteSinkBox) -> (Self, OutputHandle) {
        let state = Arc::new(Mutex::new(SinkState {
            sink,
            error: None,
            finished: false,
        }));
        let out = Output {
            inner: BufWriter::with_capacity(Self::BUFFER_SIZE, SharedSink(state.clone())),
        };
        (out, OutputHandle(state))
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf)
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.inner.write_all(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl OutputHandle {
    /// Finishes the host sink once the `Output` is gone.
    pub(crate) fn finish(self) -> Result<(), RError> {
        if Arc::strong_count(&self.0) > 1 {
            return Err(RError::new(
                RErrorKind::OTHER,
                "the plugin still holds its Output at finish (buffered bytes would be lost)",
            ));
        }
        let mut st = lock(&self.0);
        if let Some(e) = st.error.take() {
            return Err(e);
        }
        if st.finished {
            return Ok(());
        }
        st.finished = true;
        st.sink.finish().into_result()
    }
}

trait EncoderImpl: Write + Send {
    fn finish_impl(&mut self) -> io::Result<()>;
}

type EncoderFinish<W> = Box<dyn FnOnce(W) -> io::Result<()> + Send>;

struct EncoderParts<W> {
    writer: Option<W>,
    finish: Option<EncoderFinish<W>>,
}

fn encoder_closed() -> io::Error {
    io::Error::other("encoder already finished")
}

impl<W: Write + Send> Write for EncoderParts<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writer.as_mut().ok_or_else(encoder_closed)?.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        match self.writer.as_mut() {
            Some(w) => w.flush(),
            None => Ok(()),
        }
    }
}

impl<W: Write + Send> EncoderImpl for EncoderParts<W> {
    fn finish_impl(&mut self) -> io::Result<()> {
        match (self.writer.take(), self.finish.take()) {
            (Some(w), Some(f)) => f(w),
            _ => Ok(()),
        }
    }
}

/// A compressing writer returned by [`Codec::encoder`]: any `Write` plus
/// how to end its stream, e.g.
/// `Encoder::with_finish(GzEncoder::new(output, level), |e| e.finish().map(drop))`.
pub struct Encoder {
    inner: Box<dyn EncoderImpl>,
}

impl Encoder {
    /// An encoder whose finish is just `flush` (then drop).
    pub fn new<W: Write + Send + 'static>(writer: W) -> Self {
        Self::with_finish(writer, |mut w: W| w.flush())
    }
    /// An encoder whose finish calls `finish(writer)` once (write the trailer, flush).
    pub fn with_finish<W, F>(writer: W, finish: F) -> Self
    where
        W: Write + Send + 'static,
        F: FnOnce(W) -> io::Result<()> + Send + 'static,
    {
        Self {
            inner: Box::new(EncoderParts {
                writer: Some(writer),
                finish: Some(Box::new(finish)),
            }),
        }
    }
    /// Ends the stream (once; later calls do nothing).
    pub fn finish(&mut self) -> Result<()> {
        self.inner.finish_impl().map_err(Error::from)
    }
}

impl Write for Encoder {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
