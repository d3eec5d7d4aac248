//! Records across the boundary, both ways: a plugin's reader as a core reader (with a batch read ahead on a thread), a core writer over a plugin's sink, and the byte streams of codecs.

use std::io::{self, Read, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};

use iterable_core::io::BoxSink;
use iterable_core::{
    BoxReader, Error, ErrorKind, FieldNames, Record, RecordReader, RecordWriter, Result,
};
use iterable_plugin_api::sdk::streams::SourceReader;
use iterable_plugin_api::{
    BatchBuilder, ByteSinkBox, RBatch, RError, RecordSinkBox, RecordSourceBox,
};

use crate::convert::{self, BatchReader};
use crate::loader::Library;

use super::*;
use crate::error::{PluginErrorExt, PluginErrorKind};
// Records from a plugin

/// Reads records from a plugin's record source, a batch at a time.
///
/// The first batch is small and asked for in this thread, so that the
/// first record comes quickly. After it, with more than one core, the
/// plugin fills the next batch on a thread of its own while the host
/// converts the batch before (two batches, swapped between the threads):
/// the boundary's cost then overlaps the parsing.
pub(crate) struct PluginReader {
    plugin: String,
    fetch: Fetch,
    batch: BatchReader,
    done: bool,
    /// Whether a batch was asked for already (the first one is small).
    fetched: bool,
    lib: Option<Arc<Library>>,
}

/// Where the batches come from.
enum Fetch {
    /// Called in this thread.
    Direct(RecordSourceBox),
    /// Called in a thread of its own, one batch ahead.
    Ahead(Ahead),
    /// Moving from one to the other (only if starting the thread failed).
    Gone,
}

/// The channels to a thread that calls the plugin's source.
struct Ahead {
    /// Filled batches and what the call returned.
    full: Receiver<(RBatch, Result<bool>)>,
    /// Batches read, back to be refilled.
    empty: SyncSender<RBatch>,
}

impl Ahead {
    fn spawn(
        plugin: &str,
        mut source: RecordSourceBox,
        lib: Option<Arc<Library>>,
    ) -> Result<Ahead> {
        let (full_tx, full) = sync_channel::<(RBatch, Result<bool>)>(1);
        let (empty, empty_rx) = sync_channel::<RBatch>(2);
        let _ = empty.send(RBatch::new());
        let name = plugin.to_owned();
        std::thread::Builder::new()
            .name(format!("plugin-{plugin}"))
            .spawn(move || {
                // The library stays loaded while its objects live here.
                let _lib = lib;
                while let Ok(mut batch) = empty_rx.recv() {
                    let res = convert::call(&name, "reading records", || {
                        source.read_batch(&mut batch, BATCH_ROWS)
                    });
                    let more = matches!(res, Ok(true));
                    if full_tx.send((batch, res)).is_err() || !more {
                        return;
                    }
                }
            })
            .map_err(|e| Error::io("cannot start a thread to read the plugin's records", e))?;
        Ok(Ahead { full, empty })
    }
}

impl PluginReader {
    pub(super) fn new(plugin: &str, source: RecordSourceBox, lib: Option<Arc<Library>>) -> Self {
        PluginReader {
            plugin: plugin.to_owned(),
            fetch: Fetch::Direct(source),
            batch: BatchReader::default(),
            done: false,
            fetched: false,
            lib,
        }
    }

    /// Gets the next batch into `self.batch`: `Ok(true)` with rows to read.
    fn fetch(&mut self) -> Result<bool> {
        if self.fetched && matches!(self.fetch, Fetch::Direct(_)) && iterable_core::io::parallel() {
            if let Fetch::Direct(source) = std::mem::replace(&mut self.fetch, Fetch::Gone) {
                self.fetch = Fetch::Ahead(Ahead::spawn(&self.plugin, source, self.lib.clone())?);
            }
        }
        let rows = if self.fetched {
            BATCH_ROWS
        } else {
            FIRST_BATCH_ROWS
        };
        self.fetched = true;
        match &mut self.fetch {
            Fetch::Direct(source) => {
                let batch = self.batch.batch_mut();
                convert::call(&self.plugin, "reading records", || {
                    source.read_batch(batch, rows)
                })
            }
            Fetch::Ahead(ahead) => {
                let used = std::mem::take(self.batch.batch_mut());
                let _ = ahead.empty.try_send(used);
                match ahead.full.recv() {
                    Ok((batch, res)) => {
                        *self.batch.batch_mut() = batch;
                        res
                    }
                    Err(_) => Err(self.stopped()),
                }
            }
            Fetch::Gone => Err(self.stopped()),
        }
    }

    fn stopped(&self) -> Error {
        Error::plugin(
            PluginErrorKind::CallFailed,
            &self.plugin,
            "the thread reading its records stopped",
        )
    }
}

impl PluginReader {
    /// The next batch as the plugin filled it, not yet checked (for a
    /// runner, which hands it on whole; the host checks it there); `None`
    /// at the end.
    pub(crate) fn next_batch(&mut self) -> Result<Option<&mut BatchReader>> {
        if self.done {
            return Ok(None);
        }
        match self.fetch() {
            Ok(true) => Ok(Some(&mut self.batch)),
            Ok(false) => {
                self.done = true;
                Ok(None)
            }
            Err(e) => {
                self.done = true;
                Err(e)
            }
        }
    }

    /// The plugin's name.
    pub(crate) fn plugin(&self) -> &str {
        &self.plugin
    }
}

impl RecordReader for PluginReader {
    fn read_record(&mut self, record: &mut Record) -> Result<bool> {
        loop {
            if self.batch.next_into(record) {
                return Ok(true);
            }
            if self.done {
                return Ok(false);
            }
            match self.fetch() {
                Ok(true) => self.batch.start(&self.plugin)?,
                Ok(false) => {
                    self.done = true;
                    return Ok(false);
                }
                Err(e) => {
                    self.done = true;
                    return Err(e);
                }
            }
        }
    }
}

// Records to a plugin

/// Collects records into a batch and hands full batches to a plugin sink.
pub(super) struct PluginWriter {
    pub(super) plugin: String,
    pub(super) sink: Option<RecordSinkBox>,
    pub(super) batch: RBatch,
    pub(super) names: Option<FieldNames>,
    /// The host's own byte sink, finished after the plugin's writer.
    pub(super) bytes: Option<SharedSink>,
    /// Records handed to the plugin so far.
    pub(super) written: u64,
    pub(super) _lib: Option<Arc<Library>>,
}

impl PluginWriter {
    fn flush_batch(&mut self) -> Result<()> {
        if self.batch.row_count() == 0 {
            return Ok(());
        }
        if self._lib.as_ref().is_some_and(|l| !l.typed) {
            crate::typed::downgrade(&mut self.batch);
        }
        let sink = self
            .sink
            .as_mut()
            .ok_or_else(|| Error::new(ErrorKind::Other, "writer already finished"))?;
        let batch = &self.batch;
        let (first, last) = (self.written + 1, self.written + u64::from(batch.rows));
        convert::call(&self.plugin, "writing records", || sink.write_batch(batch)).map_err(
            |e| {
                // Without the plugin's record number, say which records the
                // batch held rather than nothing.
                let panicked = e.plugin_kind() == Some(PluginErrorKind::Panic);
                if e.position().record.is_none() && !panicked {
                    e.context(format!("writing records {first}–{last}"))
                } else {
                    e
                }
            },
        )?;
        self.written = last;
        self.batch.clear();
        self.names = None;
        Ok(())
    }
}

impl RecordWriter for PluginWriter {
    fn write_record(&mut self, record: &Record) -> Result<()> {
        let same = self
            .names
            .as_ref()
            .is_some_and(|n| std::sync::Arc::ptr_eq(n, record.field_names()));
        if !same && !convert::keeps_field_order(&self.batch, record) {
            self.flush_batch()?;
        }
        {
            let mut b: BatchBuilder<'_> = self.batch.builder();
            if same {
                // Same fields as the row before: cells go in position order.
                for v in record.values() {
                    convert::push_value(&mut b, v);
                }
                b.end_row();
            } else {
                convert::push_record(&mut b, record);
            }
        }
        if !same && self.batch.field_count() == record.len() {
            self.names = Some(Arc::clone(record.field_names()));
        }
        if self.batch.row_count() >= BATCH_ROWS as usize || self.batch.data.len() >= 32 << 20 {
            self.flush_batch()?;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<()> {
        self.flush_batch()?;
        let mut sink = self
            .sink
            .take()
            .ok_or_else(|| Error::new(ErrorKind::Other, "writer already finished"))?;
        convert::call(&self.plugin, "finishing the output", || sink.finish())?;
        drop(sink);
        if let Some(bytes) = self.bytes.take() {
            bytes.finish()?;
        }
        Ok(())
    }
}

/// The host's byte sink, shared with a plugin through a proxy, so that the
/// host (not the plugin) finishes it: renames the file into place.
#[derive(Clone)]
pub(super) struct SharedSink(Arc<Mutex<Option<BoxSink>>>);

impl SharedSink {
    pub(super) fn new(sink: BoxSink) -> Self {
        SharedSink(Arc::new(Mutex::new(Some(sink))))
    }

    pub(super) fn proxy(&self) -> ByteSinkBox {
        ByteSinkBox::from_writer(self.clone())
    }

    pub(super) fn finish(self) -> Result<()> {
        let sink = self
            .0
            .lock()
            .map_err(|_| Error::new(ErrorKind::Other, "output lock poisoned"))?
            .take()
            .ok_or_else(|| Error::new(ErrorKind::Other, "output already finished"))?;
        sink.finish()?;
        Ok(())
    }
}

impl Write for SharedSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self
            .0
            .lock()
            .map_err(|_| io::Error::other("output lock poisoned"))?
            .as_mut()
        {
            Some(s) => s.write(buf),
            None => Err(io::Error::other("output already finished")),
        }
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self
            .0
            .lock()
            .map_err(|_| io::Error::other("output lock poisoned"))?
            .as_mut()
        {
            Some(s) => s.write_all(buf),
            None => Err(io::Error::other("output already finished")),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self
            .0
            .lock()
            .map_err(|_| io::Error::other("output lock poisoned"))?
            .as_mut()
        {
            Some(s) => s.flush(),
            None => Ok(()),
        }
    }
}

/// Hands a core record reader to a plugin as a record source; for a plugin
/// that does not know typed values (`typed` false), they go as text.
pub(super) fn record_source(mut reader: BoxReader, typed: bool) -> RecordSourceBox {
    let mut rec = Record::new();
    // A record read but left for the next batch, to keep its field order.
    let mut pending = false;
    RecordSourceBox::from_fn(move |batch: &mut RBatch, max: u32| {
        let mut b = batch.builder();
        let mut n = 0;
        while n < max.max(1) {
            if !pending {
                match reader.read_record(&mut rec) {
                    Ok(true) => {}
                    Ok(false) => break,
                    Err(e) => return Err(convert::error_to_plugin(&e)),
                }
            }
            pending = n > 0 && !convert::keeps_field_order(b.batch(), &rec);
            if pending {
                break;
            }
            convert::push_record(&mut b, &rec);
            n += 1;
        }
        drop(b);
        if !typed {
            crate::typed::downgrade(batch);
        }
        Ok(n > 0)
    })
}

/// Maps the errors of a plugin's byte stream to core errors naming it.
pub(super) struct PluginRead {
    pub(super) plugin: String,
    pub(super) inner: SourceReader,
}

impl Read for PluginRead {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let inner = &mut self.inner;
        call_io(&self.plugin, "decoding", || inner.read(buf))
    }
}

/// [`convert::call`] for byte streams: a plugin's error, or a panic that
/// escaped its guard, becomes an `io::Error` carrying an error naming it.
pub(super) fn call_io<T>(
    plugin: &str,
    what: &str,
    f: impl FnOnce() -> io::Result<T>,
) -> io::Result<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(convert::error_from_plugin(RError::from(e), plugin).into_io()),
        Err(_) => Err(Error::plugin(
            PluginErrorKind::Panic,
            plugin,
            format!("panicked while {what}"),
        )
        .into_io()),
    }
}
