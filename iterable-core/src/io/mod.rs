//! Byte-level plumbing: sinks that must be finished, atomic output files, and
//! peeking at the head of a stream for detection.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;

use crate::error::{Error, ErrorKind, Result};

mod atomic;
mod pipe;

pub use atomic::AtomicFile;
pub use pipe::{read_ahead, write_behind};

/// A byte sink that must be finished: codecs write their trailer, files are
/// flushed, synced and renamed into place. Dropping a sink without finishing
/// it abandons the output (an atomic file is deleted).
pub trait ByteSink: Write + Send {
    /// Completes the output. Consumes the sink.
    fn finish(self: Box<Self>) -> io::Result<()>;

    /// Writes a whole buffer and leaves it empty (its capacity may change).
    /// A sink that passes buffers on to another thread takes the buffer
    /// itself instead of copying it; by default it is `write_all`.
    fn write_chunk(&mut self, chunk: &mut Vec<u8>) -> io::Result<()> {
        self.write_all(chunk)?;
        chunk.clear();
        Ok(())
    }
}

/// A boxed byte sink.
pub type BoxSink = Box<dyn ByteSink>;

/// A boxed byte source.
pub type BoxRead = Box<dyn Read + Send>;

/// Wraps any writer as a sink whose finish is a flush (stdout, a `Vec`).
pub struct WriteSink<W: Write + Send>(pub W);

impl<W: Write + Send> Write for WriteSink<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.0.write_all(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

impl<W: Write + Send> ByteSink for WriteSink<W> {
    fn finish(mut self: Box<Self>) -> io::Result<()> {
        self.0.flush()
    }
}

/// Opens a file for reading with a clear error.
pub fn open_file(path: &Path) -> Result<File> {
    File::open(path).map_err(|e| {
        if e.kind() == io::ErrorKind::NotFound {
            Error::new(ErrorKind::Io, "no such file").with_path(path)
        } else {
            Error::io("cannot open", e).with_path(path)
        }
    })
}

/// How far a reader has come through its input: bytes read so far (before
/// decompression), shared with the thread that reads, and the total when it
/// is known (a regular file's size).
#[derive(Clone, Debug, Default)]
pub struct InputProgress {
    read: std::sync::Arc<std::sync::atomic::AtomicU64>,
    total: Option<u64>,
}

impl InputProgress {
    /// Progress over an input of `total` bytes, when known.
    pub fn new(total: Option<u64>) -> Self {
        InputProgress {
            read: Default::default(),
            total,
        }
    }
    /// Bytes read so far.
    pub fn read(&self) -> u64 {
        self.read.load(std::sync::atomic::Ordering::Relaxed)
    }
    /// The input's size, when known.
    pub fn total(&self) -> Option<u64> {
        self.total
    }
    /// Wraps `inner` so that every byte read from it is counted here.
    pub fn counting<R: Read + Send + 'static>(&self, inner: R) -> BoxRead {
        Box::new(Counting {
            inner,
            read: std::sync::Arc::clone(&self.read),
        })
    }
}

struct Counting<R> {
    inner: R,
    read: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        // One relaxed add per read call (the callers read in large chunks).
        self.read
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

/// Reads up to `n` bytes from the head of a stream and returns them with a
/// reader that yields the whole stream again, head included.
pub fn peek(mut inner: BoxRead, n: usize) -> io::Result<(Vec<u8>, BoxRead)> {
    let mut head = Vec::with_capacity(n);
    (&mut inner).take(n as u64).read_to_end(&mut head)?;
    let replay = io::Cursor::new(head.clone()).chain(inner);
    Ok((head, Box::new(replay)))
}

/// Whether a second core is there to run a codec beside the format.
pub fn parallel() -> bool {
    cores() > 1
}

/// The number of cores this process may use (1 when it cannot be told).
pub fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// The size of the chunks [`read_ahead`] and [`write_behind`] pass between
/// threads.
pub const CHUNK: usize = 256 * 1024;
/// A byte buffer for tests: clones share it, so one clone goes into a
/// sink and another reads what arrived.
#[cfg(test)]
#[derive(Clone, Default)]
pub(crate) struct MemorySink(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

#[cfg(test)]
impl MemorySink {
    /// A copy of the bytes written so far.
    pub(crate) fn contents(&self) -> Vec<u8> {
        self.0.lock().unwrap().clone()
    }
}

#[cfg(test)]
impl Write for MemorySink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_file_appears_only_when_finished() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.txt");
        let mut f = AtomicFile::create(&target).unwrap();
        f.write_all(b"hello").unwrap();
        assert!(!target.exists());
        Box::new(f).finish().unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "hello");
        // An abandoned write leaves the old content and no temp file.
        let mut g = AtomicFile::create(&target).unwrap();
        g.write_all(b"partial").unwrap();
        drop(g);
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "hello");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn peek_replays_the_head() {
        let (head, mut r) = peek(Box::new(&b"abcdef"[..]), 3).unwrap();
        assert_eq!(head, b"abc");
        let mut all = String::new();
        r.read_to_string(&mut all).unwrap();
        assert_eq!(all, "abcdef");
    }

    /// Hands out `data` in pieces of odd sizes, then fails if asked to.
    struct Pieces {
        data: Vec<u8>,
        at: usize,
        fail_at_end: bool,
    }

    impl Read for Pieces {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = (self.at % 7919 + 1)
                .min(buf.len())
                .min(self.data.len() - self.at);
            if n == 0 && self.fail_at_end {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "broken at the end",
                ));
            }
            buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 31 % 251) as u8).collect()
    }

    #[test]
    fn read_ahead_gives_every_byte_in_order_then_the_error() {
        let data = pattern(3 * CHUNK + 12345);
        let src = Pieces {
            data: data.clone(),
            at: 0,
            fail_at_end: true,
        };
        let mut r = read_ahead(Box::new(src)).unwrap();
        let mut got = Vec::new();
        let mut buf = vec![0; 10_000];
        let err = loop {
            match r.read(&mut buf) {
                Ok(0) => panic!("the error was lost"),
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) => break e,
            }
        };
        assert_eq!(got, data);
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert_eq!(err.to_string(), "broken at the end");
        // After the error, the end.
        assert_eq!(r.read(&mut buf).unwrap(), 0);

        let mut r = read_ahead(Box::new(&b""[..])).unwrap();
        assert_eq!(r.read(&mut buf).unwrap(), 0);
    }

    #[test]
    fn read_ahead_stops_when_dropped_early() {
        // Endless input: the thread must not run on after the reader is gone.
        let mut r = read_ahead(Box::new(io::repeat(7))).unwrap();
        let mut buf = [0u8; 100];
        r.read_exact(&mut buf).unwrap();
        assert_eq!(buf, [7u8; 100]);
        drop(r);
    }

    /// A sink that records what it was given and whether it was finished.
    #[derive(Clone, Default)]
    struct Probe(
        std::sync::Arc<std::sync::Mutex<(Vec<u8>, bool)>>,
        Option<usize>,
    );

    impl Write for Probe {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let mut st = self.0.lock().unwrap();
            if self.1.is_some_and(|limit| st.0.len() + buf.len() > limit) {
                return Err(io::Error::new(io::ErrorKind::StorageFull, "disk full"));
            }
            st.0.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl ByteSink for Probe {
        fn finish(self: Box<Self>) -> io::Result<()> {
            self.0.lock().unwrap().1 = true;
            Ok(())
        }
    }

    #[test]
    fn write_behind_passes_everything_on_and_finishes_the_sink() {
        let probe = Probe::default();
        let mut w = write_behind(Box::new(probe.clone())).unwrap();
        let data = pattern(5 * CHUNK + 777);
        for piece in data.chunks(1000) {
            w.write_all(piece).unwrap();
        }
        // Whole buffers are handed over without a copy, small ones copied.
        let mut big = pattern(CHUNK);
        w.write_chunk(&mut big).unwrap();
        assert!(big.is_empty());
        let mut small = b"tail".to_vec();
        w.write_chunk(&mut small).unwrap();
        assert!(!probe.0.lock().unwrap().1, "finished too early");
        w.finish().unwrap();
        let (got, finished) = probe.0.lock().unwrap().clone();
        let mut want = data;
        want.extend(pattern(CHUNK));
        want.extend_from_slice(b"tail");
        assert_eq!(got.len(), want.len());
        assert!(got == want);
        assert!(finished);
    }

    #[test]
    fn write_behind_reports_the_sinks_error_and_abandons_when_dropped() {
        let probe = Probe(Default::default(), Some(CHUNK + 10));
        let mut w = write_behind(Box::new(probe.clone())).unwrap();
        let data = pattern(4 * CHUNK);
        let res = data.chunks(4096).try_for_each(|p| w.write_all(p));
        let err = match res {
            Err(e) => e,
            Ok(()) => w.finish().unwrap_err(),
        };
        assert_eq!(err.kind(), io::ErrorKind::StorageFull);
        assert!(!probe.0.lock().unwrap().1);

        // Dropped unfinished: the sink is dropped, never finished.
        let probe = Probe::default();
        let mut w = write_behind(Box::new(probe.clone())).unwrap();
        w.write_all(&pattern(3 * CHUNK)).unwrap();
        drop(w);
        assert!(!probe.0.lock().unwrap().1);
    }
}
