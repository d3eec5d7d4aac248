//! Records to and from a runner, as Arrow IPC batches.

use std::sync::Arc;

use arrow_array::RecordBatch;

use iterable_core::io::BoxSink;
use iterable_core::{
    BATCH_ROWS, Batch, BoxReader, Error, FieldNames, Record, RecordReader, RecordWriter, Result,
    Value,
};

use super::Shared;
use super::bytes::{Output, Pump};
use crate::isolate::process::Runner;
use crate::plugin::lock;
use crate::wire;

// ---------------------------------------------------------------------------
// Records out of a runner.

/// Records a runner sends as batches (a read, a query, an engine's result).
pub(super) struct IsoReader {
    pub(super) lease: Shared,
    pub(super) name: &'static str,
    pub(super) pump: Option<Pump>,
    /// An engine's inputs, served when the runner asks (NEED).
    pub(super) inputs: Vec<EngineInput>,
    pub(super) batch: Option<(RecordBatch, FieldNames)>,
    pub(super) row: usize,
    /// A Rust plugin's batch as it filled it (FLAT), checked and converted.
    pub(super) flat: crate::convert::BatchReader,
    pub(super) buf: Vec<u8>,
    pub(super) done: bool,
    /// Keep the runner afterwards (not a connection's).
    pub(super) own: bool,
}

impl IsoReader {
    pub(super) fn new(lease: Shared, name: &'static str, own: bool) -> IsoReader {
        IsoReader {
            lease,
            name,
            pump: None,
            inputs: Vec::new(),
            batch: None,
            row: 0,
            flat: Default::default(),
            buf: Vec::new(),
            done: false,
            own,
        }
    }

    /// The host's own input error, if it failed, else `e`.
    pub(super) fn explain(&self, e: Error) -> Error {
        self.pump.as_ref().and_then(Pump::host_error).unwrap_or(e)
    }

    pub(super) fn next_batch(&mut self) -> Result<bool> {
        let mut guard = lock(&self.lease);
        let lease = &mut *guard;
        loop {
            let tag = match lease.r().recv(&mut self.buf, self.name) {
                Ok(t) => t,
                Err(e) => {
                    drop(guard);
                    return Err(self.explain(e));
                }
            };
            match tag {
                wire::BATCH => match wire::decode_batch(&self.buf) {
                    Ok(b) => {
                        let names = crate::arrow::names(&b.schema());
                        self.flat.discard();
                        self.batch = Some((b, names));
                        self.row = 0;
                        return Ok(true);
                    }
                    Err(e) => {
                        let r = lease.r();
                        return Err(r.confused(self.name, &format!("a bad batch: {e}")));
                    }
                },
                wire::FLAT => {
                    if let Err(e) = wire::read_flat(&self.buf, self.flat.batch_mut()) {
                        return Err(lease.r().confused(self.name, &format!("a bad batch: {e}")));
                    }
                    let plugin = lease.r().proc.plugin.clone();
                    self.batch = None;
                    self.flat.start(&plugin)?;
                    return Ok(true);
                }
                wire::END => {
                    if let Some(p) = self.pump.as_mut() {
                        p.finish(lease.r());
                    }
                    if self.own {
                        lease.done();
                    }
                    self.done = true;
                    return Ok(false);
                }
                wire::ERR => {
                    let e = lease.r().error(&self.buf, self.name);
                    lease.r().proc.kill();
                    drop(guard);
                    self.done = true;
                    return Err(self.explain(e));
                }
                wire::NEED => {
                    let k = self
                        .buf
                        .get(..4)
                        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize);
                    let Some(input) = k.and_then(|k| self.inputs.get_mut(k)) else {
                        return Err(lease.r().confused(self.name, &"a NEED for no input"));
                    };
                    serve_input(lease.r(), input, self.name)?;
                }
                t => return Err(lease.r().confused(self.name, &format!("frame {t}"))),
            }
        }
    }
}

/// An engine's input, as the host reads it for the runner.
pub(super) struct EngineInput {
    pub(super) reader: BoxReader,
    pub(super) ended: bool,
    /// A record read but not sent: the first of the next batch (its field
    /// names differ from the last batch's).
    pub(super) carry: Option<(FieldNames, Vec<Value>)>,
}

/// Sends the next batch of an engine's input (or END, or the input's error).
pub(super) fn serve_input(r: &mut Runner, input: &mut EngineInput, name: &str) -> Result<()> {
    let (mut names, mut rows) = match input.carry.take() {
        Some((n, v)) => (Some(n), vec![v]),
        None => (None, Vec::new()),
    };
    let mut rec = Record::new();
    while !input.ended && rows.len() < BATCH_ROWS {
        match input.reader.read_record(&mut rec) {
            Ok(true) => {
                let same = names
                    .as_ref()
                    .is_none_or(|n| Arc::ptr_eq(n, rec.field_names()) || n == rec.field_names());
                let n = Arc::clone(rec.field_names());
                let v = rec.take_values();
                if !same {
                    input.carry = Some((n, v));
                    break;
                }
                names.get_or_insert(n);
                rows.push(v);
            }
            Ok(false) => input.ended = true,
            Err(e) => {
                input.ended = true;
                let text = serde_json::to_vec(&wire::WireError::of(&e)).unwrap_or_default();
                r.send(wire::ERR, &[&text], name)?;
                return Err(e);
            }
        }
    }
    match names {
        Some(n) if !rows.is_empty() => {
            let bytes = wire::encode_rows(&n, &rows)?;
            r.send(wire::BATCH, &[&bytes], name)
        }
        _ => r.send(wire::END, &[], name),
    }
}

impl RecordReader for IsoReader {
    fn read_record(&mut self, record: &mut Record) -> Result<bool> {
        loop {
            if self.flat.next_into(record) {
                return Ok(true);
            }
            if let Some((batch, names)) = &self.batch
                && self.row < batch.num_rows()
            {
                crate::arrow::fill_record(batch, names, self.row, record);
                self.row += 1;
                return Ok(true);
            }
            if self.done || !self.next_batch()? {
                self.batch = None;
                return Ok(false);
            }
        }
    }
}

impl Drop for IsoReader {
    fn drop(&mut self) {
        if !self.done {
            // Abandoned before its end: the runner is still sending.
            lock(&self.lease).r().proc.kill();
        }
    }
}

// ---------------------------------------------------------------------------
// Records into a runner.

/// Records sent to a runner as batches (a format's writer, a table's insert).
pub(super) struct IsoWriter {
    pub(super) lease: Shared,
    pub(super) name: &'static str,
    pub(super) gather: crate::arrow::Gather,
    pub(super) output: Output,
    pub(super) own: bool,
}

impl IsoWriter {
    pub(super) fn send(&mut self, names: &[String], rows: &[Vec<Value>]) -> Result<()> {
        let bytes = wire::encode_rows(names, rows)?;
        let sent = lock(&self.lease)
            .r()
            .send(wire::BATCH, &[&bytes], self.name);
        if sent.is_err() || self.output.stopped() {
            // The runner stopped: its own error says why.
            return Err(self.end().err().unwrap_or_else(|| {
                sent.err().unwrap_or_else(|| {
                    Error::new(iterable_core::ErrorKind::Other, "the writer stopped")
                })
            }));
        }
        Ok(())
    }

    pub(super) fn flush_ready(&mut self, ready: Vec<crate::arrow::Rows>) -> Result<()> {
        for (names, rows) in ready {
            self.send(&names, &rows)?;
        }
        Ok(())
    }

    /// Waits for the runner's answer, within the deadline.
    pub(super) fn end(&mut self) -> Result<Option<BoxSink>> {
        self.output.end(&mut lock(&self.lease))
    }
}

impl RecordWriter for IsoWriter {
    fn write_record(&mut self, record: &Record) -> Result<()> {
        let ready = self
            .gather
            .add(record.field_names(), [record.values().to_vec()]);
        self.flush_ready(ready)
    }

    fn write_batch(&mut self, batch: &Batch) -> Result<()> {
        let ready = self.gather.add(batch.names(), batch.rows().iter().cloned());
        self.flush_ready(ready)
    }

    fn finish(mut self: Box<Self>) -> Result<()> {
        if let Some((names, rows)) = self.gather.take() {
            self.send(&names, &rows)?;
        }
        let ended = lock(&self.lease).r().send(wire::END, &[], self.name);
        let sink = self.end();
        ended?;
        if let Some(s) = sink? {
            s.finish().map_err(Error::from_io)?;
        }
        if self.own {
            lock(&self.lease).done();
        }
        Ok(())
    }
}

impl Drop for IsoWriter {
    fn drop(&mut self) {
        let lease = lock(&self.lease);
        if !lease.clean {
            // Unfinished, or failed: the output is abandoned (a table's
            // transaction rolls back when its connection goes).
            if let Some(r) = lease.runner.as_ref() {
                r.proc.kill();
            }
        }
    }
}
