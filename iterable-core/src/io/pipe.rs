//! A thread on each side of the format: reading a chunk ahead of the
//! parser, writing a chunk behind the writer.

use std::io::{self, Read, Write};

use super::{BoxRead, BoxSink, ByteSink, CHUNK};

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
