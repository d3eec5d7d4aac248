//! Byte-level plumbing: sinks that must be finished, atomic output files, and
//! peeking at the head of a stream for detection.

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, ErrorKind, Result};

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

/// A sink that writes into a temporary file beside the target and renames
/// it over the target only when finished. A failure, or a kill, leaves the
/// old target untouched (or no target), never a truncated one.
pub struct AtomicFile {
    target: PathBuf,
    file: Option<BufWriter<tempfile::NamedTempFile>>,
}

impl AtomicFile {
    /// Starts writing `target`.
    pub fn create(target: impl AsRef<Path>) -> Result<Self> {
        let target = target.as_ref().to_path_buf();
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "output".into());
        let tmp = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".partial")
            .tempfile_in(&dir)
            .map_err(|e| create_error(&dir, e).with_path(&target))?;
        Ok(AtomicFile {
            target,
            file: Some(BufWriter::with_capacity(256 * 1024, tmp)),
        })
    }

    fn file(&mut self) -> io::Result<&mut BufWriter<tempfile::NamedTempFile>> {
        self.file
            .as_mut()
            .ok_or_else(|| io::Error::other("output already finished"))
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file()?.write(buf)
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.file()?.write_all(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.file()?.flush()
    }
}

impl ByteSink for AtomicFile {
    fn finish(mut self: Box<Self>) -> io::Result<()> {
        let file = self
            .file
            .take()
            .ok_or_else(|| io::Error::other("output already finished"))?;
        let tmp = file.into_inner().map_err(|e| e.into_error())?;
        tmp.as_file().sync_all()?;
        // Keep the permissions a plain create would give, not the 0600 of a temp file.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = match std::fs::metadata(&self.target) {
                Ok(m) => m.permissions().mode(),
                Err(_) => 0o666 & !current_umask(),
            };
            let _ = tmp
                .as_file()
                .set_permissions(std::fs::Permissions::from_mode(mode));
        }
        tmp.persist(&self.target).map_err(|e| e.error)?;
        Ok(())
    }
}

/// Why an output in `dir` cannot be started, without the name of the
/// temporary file (which the user never asked for).
fn create_error(dir: &Path, e: io::Error) -> Error {
    if e.kind() == io::ErrorKind::NotFound {
        return Error::new(
            ErrorKind::Io,
            format!("cannot create it: no folder {}", dir.display()),
        );
    }
    let cause = e
        .raw_os_error()
        .map(io::Error::from_raw_os_error)
        .unwrap_or(e);
    Error::io(format!("cannot create it in {}", dir.display()), cause)
}

#[cfg(unix)]
fn current_umask() -> u32 {
    // There is no way to read the umask without setting it; 0o022 is the
    // common default, and a stricter mode is never less safe.
    0o022
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

/// How many chunks may be in flight between the two threads (with the one
/// each side holds, that bounds the memory at `(DEPTH + 2) × CHUNK`, 1.5 MiB).
/// Four rather than two lets a burst on one side (a zstd job finishing, a
/// gzip member starting) pass without stalling the other: csv.gz →
/// jsonl.zst on 2 cores, 0.47 s → 0.45 s, for about 1 MiB more memory.
const DEPTH: usize = 4;

/// Reads `inner` on a thread of its own, a chunk ahead of the caller: a
/// decompressor then runs beside the parser. The chunks are reused, so the
/// memory stays at a few chunks whatever the input size. Errors arrive in
/// order, after the bytes read before them. Dropping the reader stops the
/// thread at its next chunk.
pub fn read_ahead(inner: BoxRead) -> io::Result<BoxRead> {
    use std::sync::mpsc::sync_channel;
    let (full_tx, full_rx) = sync_channel::<io::Result<Vec<u8>>>(DEPTH);
    let (empty_tx, empty_rx) = sync_channel::<Vec<u8>>(DEPTH + 2);
    for _ in 0..DEPTH + 1 {
        let _ = empty_tx.send(Vec::with_capacity(CHUNK));
    }
    let mut inner = inner;
    std::thread::Builder::new()
        .name("iterable-read-ahead".into())
        .spawn(move || {
            while let Ok(mut chunk) = empty_rx.recv() {
                let err = fill_chunk(&mut inner, &mut chunk).err();
                let end = chunk.is_empty();
                // The bytes before an error go first, then the error.
                if (!end || err.is_none()) && full_tx.send(Ok(chunk)).is_err() {
                    return;
                }
                if let Some(e) = err {
                    let _ = full_tx.send(Err(e));
                    return;
                }
                if end {
                    return;
                }
            }
        })?;
    Ok(Box::new(ReadAhead {
        full: full_rx,
        empty: empty_tx,
        chunk: Vec::new(),
        pos: 0,
        done: false,
    }))
}

/// Reads until `chunk` holds [`CHUNK`] bytes or the input ends; on an
/// error, `chunk` holds the bytes read before it.
fn fill_chunk(inner: &mut BoxRead, chunk: &mut Vec<u8>) -> io::Result<()> {
    chunk.resize(CHUNK, 0);
    let mut n = 0;
    let res = loop {
        if n == CHUNK {
            break Ok(());
        }
        match inner.read(&mut chunk[n..]) {
            Ok(0) => break Ok(()),
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => break Err(e),
        }
    };
    chunk.truncate(n);
    res
}

struct ReadAhead {
    full: std::sync::mpsc::Receiver<io::Result<Vec<u8>>>,
    empty: std::sync::mpsc::SyncSender<Vec<u8>>,
    chunk: Vec<u8>,
    pos: usize,
    done: bool,
}

impl Read for ReadAhead {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.chunk.len() {
            if self.done {
                return Ok(0);
            }
            let used = std::mem::take(&mut self.chunk);
            if used.capacity() > 0 {
                let _ = self.empty.try_send(used);
            }
            self.pos = 0;
            match self.full.recv() {
                Ok(Ok(chunk)) if !chunk.is_empty() => self.chunk = chunk,
                Ok(Ok(_)) => self.done = true,
                Ok(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                Err(_) => {
                    self.done = true;
                    return Err(io::Error::other("the reading thread stopped"));
                }
            }
        }
        let n = buf.len().min(self.chunk.len() - self.pos);
        buf[..n].copy_from_slice(&self.chunk[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Writes into `inner` on a thread of its own: a compressor then runs
/// beside the format's writer. Bytes are passed in reused chunks, so the
/// memory stays at a few chunks. `finish` hands the remaining bytes over,
/// waits for the thread and finishes `inner` (a codec trailer, the rename
/// of an atomic file). Dropping the sink unfinished abandons `inner` (an
/// atomic file is deleted) without writing what was still queued.
pub fn write_behind(inner: BoxSink) -> io::Result<BoxSink> {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::mpsc::sync_channel;
    let (full_tx, full_rx) = sync_channel::<Vec<u8>>(DEPTH);
    let (empty_tx, empty_rx) = sync_channel::<Vec<u8>>(DEPTH + 2);
    let abandon = std::sync::Arc::new(AtomicBool::new(false));
    let stop = std::sync::Arc::clone(&abandon);
    let mut inner = inner;
    let worker = std::thread::Builder::new()
        .name("iterable-write-behind".into())
        .spawn(move || -> io::Result<BoxSink> {
            while let Ok(mut chunk) = full_rx.recv() {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                inner.write_all(&chunk)?;
                chunk.clear();
                let _ = empty_tx.try_send(chunk);
            }
            Ok(inner)
        })?;
    Ok(Box::new(WriteBehind {
        chunk: Vec::with_capacity(CHUNK),
        full: Some(full_tx),
        empty: empty_rx,
        worker: Some(worker),
        abandon,
    }))
}

struct WriteBehind {
    chunk: Vec<u8>,
    full: Option<std::sync::mpsc::SyncSender<Vec<u8>>>,
    empty: std::sync::mpsc::Receiver<Vec<u8>>,
    worker: Option<std::thread::JoinHandle<io::Result<BoxSink>>>,
    abandon: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl WriteBehind {
    /// Waits for the thread and returns its sink, or the error it stopped on.
    fn join(&mut self) -> io::Result<BoxSink> {
        self.full = None;
        let worker = self
            .worker
            .take()
            .ok_or_else(|| io::Error::other("output already finished"))?;
        worker
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the writing thread panicked")))
    }

    /// Hands the current chunk to the thread.
    fn send(&mut self) -> io::Result<()> {
        let next = self
            .empty
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(CHUNK));
        let chunk = std::mem::replace(&mut self.chunk, next);
        let sent = match &self.full {
            Some(tx) => tx.send(chunk).is_ok(),
            None => false,
        };
        if sent {
            return Ok(());
        }
        // The thread stopped: it failed, and says why when joined.
        match self.join() {
            Err(e) => Err(e),
            Ok(_) => Err(io::Error::other("output already finished")),
        }
    }
}

impl Write for WriteBehind {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = buf.len().min(CHUNK - self.chunk.len());
        self.chunk.extend_from_slice(&buf[..n]);
        if self.chunk.len() == CHUNK {
            self.send()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        // Flushing is what `finish` does; a flush on the way must not make
        // the chunks small.
        Ok(())
    }
}

impl ByteSink for WriteBehind {
    fn write_chunk(&mut self, chunk: &mut Vec<u8>) -> io::Result<()> {
        if chunk.len() < CHUNK / 2 {
            self.write_all(chunk)?;
            chunk.clear();
            return Ok(());
        }
        if !self.chunk.is_empty() {
            self.send()?;
        }
        // The caller's buffer goes to the thread; it gets the empty one.
        std::mem::swap(&mut self.chunk, chunk);
        self.send()?;
        std::mem::swap(&mut self.chunk, chunk);
        chunk.clear();
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> io::Result<()> {
        if !self.chunk.is_empty() {
            self.send()?;
        }
        let inner = self.join()?;
        inner.finish()
    }
}

impl Drop for WriteBehind {
    fn drop(&mut self) {
        if self.worker.is_some() {
            self.abandon
                .store(true, std::sync::atomic::Ordering::Relaxed);
            // The thread drops the inner sink, which abandons the output.
            let _ = self.join();
        }
    }
}

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
