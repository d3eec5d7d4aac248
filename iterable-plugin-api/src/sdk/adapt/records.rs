//! Record streams: an author reader as a wire source, an author writer as a wire sink.

use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{RResult, RSome};

use crate::abi::RError;
use crate::abi::{BatchBuilder, RBatch};
use crate::abi::{RecordSink, RecordSinkBox, RecordSource, RecordSourceBox};
use crate::sdk::error::Result;
use crate::sdk::guard::{Poison, catch, drop_guarded};
use crate::sdk::io::OutputHandle;
use crate::sdk::traits::RowReader;
use crate::sdk::traits::RowWriter;

struct ReaderAdapter {
    reader: Option<Box<dyn RowReader>>,
    poison: Poison,
    pending: Option<RError>,
    /// A row held back to start the next batch (its fields' order differed).
    carried: Option<Vec<(String, crate::RValue)>>,
    done: bool,
    delivered: u64,
}

impl RecordSource for ReaderAdapter {
    fn read_batch(&mut self, batch: &mut RBatch, max_rows: u32) -> RResult<bool, RError> {
        let Self {
            reader,
            poison,
            pending,
            carried,
            done,
            delivered,
        } = self;
        // An error held back behind the rows read before it comes first,
        // even after a panic (which poisons what follows).
        if let Some(e) = pending.take() {
            batch.clear();
            return RResult::RErr(e);
        }
        let mut panicked = None;
        let result = poison.run(|| {
            batch.clear();
            let Some(reader) = reader.as_mut().filter(|_| !*done) else {
                return Ok(false);
            };
            let mut b = BatchBuilder::new(batch);
            if let Some(row) = carried.take() {
                b.push_carried(row);
            }
            // A panic in the author's code is an error like a returned one:
            // the rows pushed before it are delivered, and it comes next,
            // numbered with the record it happened at. The reader is not
            // called again (it may be half-updated): the panic poisons the
            // adapter once it has run.
            let res = match catch(|| reader.read_batch(&mut b, max_rows.max(1) as usize)) {
                Ok(r) => r.map_err(RError::from),
                Err(e) => {
                    panicked = Some(e.clone());
                    Err(e)
                }
            };
            *carried = b.take_carried();
            let res = match (res, b.take_error()) {
                (Ok(_), Some(limit)) => Err(limit),
                (r, _) => r,
            };
            match res {
                Ok(more) => {
                    b.end_row_if_open();
                    if !more {
                        *done = true;
                    }
                    let rows = b.row_count();
                    *delivered += rows as u64;
                    Ok(more || rows > 0)
                }
                Err(mut e) => {
                    b.discard_row();
                    let rows = b.row_count();
                    if e.record.is_none() {
                        e.record = RSome(*delivered + rows as u64 + 1);
                    }
                    *delivered += rows as u64;
                    if rows > 0 {
                        *pending = Some(e);
                        Ok(true)
                    } else {
                        Err(e)
                    }
                }
            }
        });
        if let Some(e) = &panicked {
            poison.set(e);
        }
        if result.is_err() {
            batch.clear();
        }
        result.into()
    }
}

impl Drop for ReaderAdapter {
    fn drop(&mut self) {
        drop_guarded(self.reader.take());
    }
}

/// Exposes an author [`RowReader`] as a wire [`RecordSourceBox`] (panic-guarded, poisoning).
pub fn reader_source(reader: Box<dyn RowReader>) -> RecordSourceBox {
    RecordSourceBox::from_value(
        ReaderAdapter {
            reader: Some(reader),
            poison: Poison::default(),
            pending: None,
            carried: None,
            done: false,
            delivered: 0,
        },
        TD_Opaque,
    )
}

struct WriterAdapter {
    writer: Option<Box<dyn RowWriter>>,
    output: Option<OutputHandle>,
    poison: Poison,
    /// The outcome of `finish`, repeated by later calls.
    finished: Option<Result<(), RError>>,
    /// Records in the batches written so far (to number a row's error).
    written: u64,
}

impl RecordSink for WriterAdapter {
    fn write_batch(&mut self, batch: &RBatch) -> RResult<(), RError> {
        let Self {
            writer,
            poison,
            finished,
            written,
            ..
        } = self;
        poison
            .run(|| {
                if finished.is_some() {
                    return Err(RError::invalid_input("write after finish"));
                }
                let w = writer
                    .as_mut()
                    .ok_or_else(|| RError::invalid_input("writer is closed"))?;
                let view = batch.validated()?.numbered_after(*written);
                *written += u64::from(batch.rows);
                w.write_batch(view).map_err(RError::from)
            })
            .into()
    }

    fn finish(&mut self) -> RResult<(), RError> {
        if let Some(done) = &self.finished {
            return done.clone().into();
        }
        let Self {
            writer,
            output,
            poison,
            ..
        } = self;
        let result = poison.run(|| {
            if let Some(mut w) = writer.take() {
                let r = w.finish();
                drop(w); // a table writer that failed to commit rolls back here
                r?;
            }
            match output.take() {
                Some(h) => h.finish(),
                None => Ok(()),
            }
        });
        self.finished = Some(result.clone());
        result.into()
    }
}

impl Drop for WriterAdapter {
    fn drop(&mut self) {
        drop_guarded(self.writer.take());
    }
}

pub(crate) fn writer_sink_with(
    writer: Box<dyn RowWriter>,
    output: Option<OutputHandle>,
) -> RecordSinkBox {
    RecordSinkBox::from_value(
        WriterAdapter {
            writer: Some(writer),
            output,
            poison: Poison::default(),
            finished: None,
            written: 0,
        },
        TD_Opaque,
    )
}

/// Exposes an author [`RowWriter`] as a wire [`RecordSinkBox`] (panic-guarded,
/// poisoning; batches are validated before the writer sees them).
pub fn writer_sink(writer: Box<dyn RowWriter>) -> RecordSinkBox {
    writer_sink_with(writer, None)
}
