//! Frames in and out: answers, errors, batches, and the host's bytes and
//! records as the plugin reads them.

use super::*;

pub(super) fn send_json(out: &Out, tag: u8, v: &impl serde::Serialize) -> io::Result<()> {
    let mut o = lock(out);
    wire::write_json(&mut *o, tag, v)?;
    o.flush()
}

pub(super) fn send(out: &Out, tag: u8, parts: &[&[u8]]) -> io::Result<()> {
    let mut o = lock(out);
    wire::write_frame(&mut *o, tag, parts)?;
    o.flush()
}

pub(super) fn send_err(out: &Out, e: &Error) -> io::Result<()> {
    send_json(out, wire::ERR, &WireError::of(e))
}

pub(super) fn no_observer() -> Error {
    Error::new(ErrorKind::InvalidInput, "no run is being observed")
}

pub(super) fn protocol(tag: u8) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("frame {tag} out of turn"),
    )
}

/// A batch frame as the core's batch.
pub(super) fn batch_of(bytes: &[u8]) -> Result<Batch> {
    let b = wire::decode_batch(bytes)
        .map_err(|e| Error::new(ErrorKind::InvalidInput, format!("a bad batch: {e}")))?;
    let names = crate::arrow::names(&b.schema());
    let mut batch = Batch::new(Arc::clone(&names));
    let mut r = Record::new();
    for i in 0..b.num_rows() {
        crate::arrow::fill_record(&b, &names, i, &mut r);
        batch.push_row(r.take_values());
    }
    Ok(batch)
}

/// Reads the frames that are left of a call's input, to its END.
pub(super) fn drain(input: &In) -> io::Result<()> {
    let mut buf = Vec::new();
    loop {
        if wire::read_frame(&mut *lock(input), &mut buf)? == wire::END {
            return Ok(());
        }
    }
}

/// A call's input bytes, as the plugin reads them.
pub(super) struct FrameInput {
    pub(super) input: In,
    pub(super) ended: Arc<std::sync::atomic::AtomicBool>,
    pub(super) buf: Vec<u8>,
    pub(super) pos: usize,
}

impl Read for FrameInput {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos >= self.buf.len() {
            if self.ended.load(std::sync::atomic::Ordering::Relaxed) {
                return Ok(0);
            }
            self.pos = 0;
            match wire::read_frame(&mut *lock(&self.input), &mut self.buf)? {
                wire::BYTES => {}
                wire::END => {
                    self.buf.clear();
                    self.ended.store(true, std::sync::atomic::Ordering::Relaxed);
                    return Ok(0);
                }
                wire::ERR => {
                    // The host's input failed: the host reports its own error.
                    let e = wire::json::<WireError>(&self.buf)
                        .map(WireError::into_error)
                        .unwrap_or_else(|_| Error::new(ErrorKind::Io, "the host's input failed"));
                    self.buf.clear();
                    self.ended.store(true, std::sync::atomic::Ordering::Relaxed);
                    return Err(e.into_io());
                }
                t => return Err(protocol(t)),
            }
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// A writer's output, sent to the host as it comes.
pub(super) struct FrameSink {
    pub(super) output: Out,
}

impl Write for FrameSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if !buf.is_empty() {
            let mut o = lock(&self.output);
            wire::write_frame(&mut *o, wire::BYTES, &[buf])?;
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        lock(&self.output).flush()
    }
}

impl ByteSink for FrameSink {
    fn finish(self: Box<Self>) -> io::Result<()> {
        send(&self.output, wire::END, &[])
    }
}

/// An engine's input, asked of the host a batch at a time.
pub(super) struct NeedReader {
    pub(super) input: In,
    pub(super) output: Out,
    pub(super) k: u32,
    pub(super) rows: std::vec::IntoIter<Vec<Value>>,
    pub(super) names: FieldNames,
    pub(super) done: bool,
}

impl RecordReader for NeedReader {
    fn read_record(&mut self, record: &mut Record) -> Result<bool> {
        loop {
            if let Some(row) = self.rows.next() {
                record.set_parts(Arc::clone(&self.names), row);
                return Ok(true);
            }
            if self.done {
                return Ok(false);
            }
            send(&self.output, wire::NEED, &[&self.k.to_le_bytes()])?;
            let mut buf = Vec::new();
            match wire::read_frame(&mut *lock(&self.input), &mut buf)? {
                wire::BATCH => {
                    let b = batch_of(&buf)?;
                    self.names = Arc::clone(b.names());
                    self.rows = b.rows().to_vec().into_iter();
                }
                wire::END => self.done = true,
                wire::ERR => {
                    self.done = true;
                    return Err(wire::json::<WireError>(&buf)
                        .map(WireError::into_error)
                        .unwrap_or_else(|_| Error::new(ErrorKind::Io, "the host's input failed")));
                }
                t => return Err(protocol(t).into()),
            }
        }
    }
}
