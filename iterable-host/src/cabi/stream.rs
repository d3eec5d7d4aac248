//! Arrow streams across the C ABI: a plugin's stream read as records
//! ([`StreamReader`]), and records handed to a plugin as a stream
//! ([`export_reader`]) or as one batch ([`export_batch`]).
//!
//! Every array a plugin hands over is validated in full before it is read
//! (buffer sizes, offsets, UTF-8, child lengths): a plugin's Arrow data is
//! never trusted blindly.

use std::ffi::{CStr, c_int};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, sync_channel};
use std::thread::JoinHandle;

use arrow_array::ffi::{FFI_ArrowArray, FFI_ArrowSchema, from_ffi_and_data_type};
use arrow_array::ffi_stream::FFI_ArrowArrayStream;
use arrow_array::{Array, RecordBatch, RecordBatchOptions, RecordBatchReader, StructArray};
use arrow_schema::{ArrowError, DataType, Schema, SchemaRef};

use crate::error::PluginErrorExt;
use iterable_core::{BoxReader, Error, ErrorKind, FieldNames, Record, RecordReader, Result};

use super::bad_arrow;
use crate::arrow as conv;

pub(crate) use iterable_core::BATCH_ROWS;

/// A plugin's Arrow stream, checked batch by batch.
pub(crate) struct CStream {
    raw: FFI_ArrowArrayStream,
    schema: SchemaRef,
    plugin: String,
    /// What the stream reads from (a lent source, options, input streams):
    /// dropped after the stream is released.
    lent: Option<Box<dyn Lent>>,
}

/// What the host lends a plugin for as long as a stream lives.
pub(crate) trait Lent: Send {
    /// The host's own error that made the stream fail (its input's), to
    /// report instead of the plugin's second-hand message.
    fn cause(&mut self) -> Option<Error> {
        None
    }
}

impl CStream {
    /// Takes over a stream the plugin filled: reads and checks its schema.
    ///
    /// # Safety
    /// `raw` was filled by the plugin as the Arrow C stream interface says.
    pub unsafe fn new(
        raw: FFI_ArrowArrayStream,
        plugin: &str,
        lent: Option<Box<dyn Lent>>,
    ) -> Result<CStream> {
        let bad = |e: &dyn std::fmt::Display| bad_arrow(plugin, "opening its stream", e);
        if raw.release().is_none() {
            return Err(bad(&"the stream is released already"));
        }
        let Some(get_schema) = raw.get_schema() else {
            return Err(bad(&"the stream has no get_schema"));
        };
        if raw.get_next().is_none() {
            return Err(bad(&"the stream has no get_next"));
        }
        let mut stream = CStream {
            raw,
            schema: Arc::new(Schema::empty()),
            plugin: plugin.to_owned(),
            lent,
        };
        let mut ffi_schema = FFI_ArrowSchema::empty();
        // SAFETY: the plugin's callback on its own stream.
        let code = unsafe { get_schema(&mut stream.raw, &mut ffi_schema) };
        if code != 0 {
            return Err(stream.failure(code, "reading the schema"));
        }
        let schema = Schema::try_from(&ffi_schema).map_err(|e| bad(&e))?;
        stream.schema = Arc::new(schema);
        Ok(stream)
    }

    /// The error for a failed call: the host input's own error when it
    /// caused it, or the stream's last error.
    fn failure(&mut self, code: c_int, what: &str) -> Error {
        if let Some(e) = self.lent.as_mut().and_then(|l| l.cause()) {
            return e;
        }
        let message = self
            .raw
            .get_last_error()
            // SAFETY: the plugin's callback on its own stream; its string
            // stays valid until the next call on the stream.
            .map(|f| unsafe { f(&mut self.raw) })
            .filter(|p| !p.is_null())
            // SAFETY: a NUL-terminated string of the plugin's.
            .map(|p| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| format!("{what} failed (error code {code})"));
        let kind = match code {
            22 /* EINVAL */ | 84 /* EILSEQ */ => ErrorKind::Parse,
            5 /* EIO */ => ErrorKind::Io,
            _ => ErrorKind::Other,
        };
        Error::new(kind, message).with_plugin(&self.plugin)
    }

    /// The next batch, validated and with dictionaries flattened; `None` at
    /// the end.
    pub fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
        let Some(get_next) = self.raw.get_next() else {
            return Ok(None);
        };
        let mut array = FFI_ArrowArray::empty();
        // SAFETY: the plugin's callback on its own stream.
        let code = unsafe { get_next(&mut self.raw, &mut array) };
        if code != 0 {
            return Err(self.failure(code, "reading a batch"));
        }
        if array.is_released() {
            // A released array ends the stream; one that holds data but has
            // no release callback is a producer's bug, not the end: taking
            // it for the end would drop the rest of the input unnoticed.
            if !array.is_empty() || array.num_children() != 0 || array.num_buffers() != 0 {
                return Err(bad_arrow(
                    &self.plugin,
                    "reading a batch",
                    "a batch holds data but has no release callback",
                ));
            }
            return Ok(None);
        }
        let plugin = self.plugin.clone();
        let bad = |e: ArrowError| bad_arrow(&plugin, "reading a batch", e);
        let fields = self.schema.fields().clone();
        if array.num_children() != fields.len() {
            return Err(bad(ArrowError::InvalidArgumentError(format!(
                "the batch has {} columns, its schema {}",
                array.num_children(),
                fields.len()
            ))));
        }
        // SAFETY: the array came from the plugin's stream; it is imported
        // without trusting it (arrow-rs asserts some of its claims, hence
        // the catch), then validated in full before any read.
        let imported = catch_unwind(AssertUnwindSafe(|| {
            unsafe { from_ffi_and_data_type(array, DataType::Struct(fields)) }
                .and_then(|data| data.validate_full().map(|()| data))
        }));
        let data = match imported {
            Ok(r) => r.map_err(bad)?,
            Err(_) => {
                return Err(bad(ArrowError::InvalidArgumentError(
                    "its layout contradicts its schema".into(),
                )));
            }
        };
        if data.null_count() != 0 {
            return Err(bad(ArrowError::InvalidArgumentError(
                "the batch's struct array has null rows".into(),
            )));
        }
        let rows = data.len();
        let columns = StructArray::from(data).into_parts().1;
        let batch = RecordBatch::try_new_with_options(
            Arc::clone(&self.schema),
            columns,
            &RecordBatchOptions::new().with_row_count(Some(rows)),
        )
        .map_err(bad)?;
        conv::flatten_dictionaries(batch).map(Some).map_err(bad)
    }
}

impl Drop for CStream {
    fn drop(&mut self) {
        // FFI_ArrowArrayStream's own drop calls the plugin's release once.
        let raw = std::mem::replace(&mut self.raw, FFI_ArrowArrayStream::empty());
        drop(raw);
    }
}

/// A stream of Arrow batches, each checked and ready to be read as records
/// (a C plugin's stream, an ADBC driver's result).
pub(crate) trait Batches: Send + 'static {
    /// The next batch; `None` at the end.
    fn next_batch(&mut self) -> Result<Option<RecordBatch>>;
    /// Who produces it, to name the reading thread.
    fn producer(&self) -> &str;
}

impl Batches for CStream {
    fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
        CStream::next_batch(self)
    }
    fn producer(&self) -> &str {
        &self.plugin
    }
}

/// Where a reader's batches come from.
enum Source {
    Direct(Box<dyn Batches>),
    /// Another thread reads the plugin's stream one batch ahead.
    Ahead(Receiver<Result<Option<RecordBatch>>>, JoinHandle<()>),
    Done,
}

/// A plugin's Arrow stream as a core record reader. With more than one
/// core, the plugin fills the next batch on a thread of its own while this
/// one turns the last into records.
pub(crate) struct StreamReader {
    source: Source,
    batch: Option<(RecordBatch, FieldNames)>,
    row: usize,
}

impl StreamReader {
    pub fn new(stream: impl Batches) -> Result<StreamReader> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let source = if cores > 1 {
            let (tx, rx) = sync_channel(1);
            let name = format!("plugin-{}", stream.producer());
            let mut s = stream;
            let handle = std::thread::Builder::new()
                .name(name)
                .spawn(move || {
                    loop {
                        let next = s.next_batch();
                        let more = matches!(next, Ok(Some(_)));
                        if tx.send(next).is_err() || !more {
                            return;
                        }
                    }
                })
                .map_err(|e| Error::new(ErrorKind::Io, format!("cannot start a thread: {e}")))?;
            Source::Ahead(rx, handle)
        } else {
            Source::Direct(Box::new(stream))
        };
        Ok(StreamReader {
            source,
            batch: None,
            row: 0,
        })
    }

    fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
        let next = match &mut self.source {
            Source::Direct(s) => s.next_batch(),
            Source::Ahead(rx, _) => rx.recv().unwrap_or_else(|_| {
                Err(Error::new(
                    ErrorKind::Other,
                    "the thread reading the plugin's stream stopped before its end",
                ))
            }),
            Source::Done => Ok(None),
        };
        if !matches!(next, Ok(Some(_))) {
            // The end, or an error: the stream is released before this
            // returns.
            self.stop();
        }
        next
    }

    /// Releases the stream: directly, or by stopping the thread that owns
    /// it and waiting for it (it finishes the batch it is reading, if any).
    fn stop(&mut self) {
        if let Source::Ahead(rx, handle) = std::mem::replace(&mut self.source, Source::Done) {
            drop(rx);
            let _ = handle.join();
        }
    }
}

impl Drop for StreamReader {
    fn drop(&mut self) {
        self.stop();
    }
}

impl RecordReader for StreamReader {
    fn read_record(&mut self, record: &mut Record) -> Result<bool> {
        loop {
            if let Some((batch, names)) = &self.batch
                && self.row < batch.num_rows()
            {
                conv::fill_record(batch, names, self.row, record);
                self.row += 1;
                return Ok(true);
            }
            match self.next_batch()? {
                Some(b) => {
                    let names = conv::names(&b.schema());
                    self.batch = Some((b, names));
                    self.row = 0;
                }
                None => {
                    self.batch = None;
                    return Ok(false);
                }
            }
        }
    }
}

/// One batch of records (rows over `names`) exported for a call: the
/// schema and the array, owned by the receiver.
pub(crate) fn export_batch(
    names: &[String],
    rows: &[Vec<iterable_core::Value>],
    text: bool,
) -> Result<(FFI_ArrowSchema, FFI_ArrowArray)> {
    let batch = conv::record_batch(names, rows, text)
        .map_err(|e| Error::new(ErrorKind::Schema, format!("records to Arrow: {e}")))?;
    export_record_batch(&batch)
}

/// A record batch as a struct array and its schema.
pub(crate) fn export_record_batch(
    batch: &RecordBatch,
) -> Result<(FFI_ArrowSchema, FFI_ArrowArray)> {
    let array = StructArray::from(batch.clone());
    let data = array.into_data();
    let schema = FFI_ArrowSchema::try_from(data.data_type())
        .map_err(|e| Error::new(ErrorKind::Schema, format!("records to Arrow: {e}")))?;
    Ok((schema, FFI_ArrowArray::new(&data)))
}

/// Records as an Arrow stream, for an engine: the first batch fixes the
/// schema; later batches are cast to it (a field it lacks is an error).
///
/// Nothing is read until the engine asks for the schema or a batch, so an
/// engine that reads an input's file by its path and releases the stream
/// unread costs the host no read at all.
pub(crate) fn export_reader(reader: BoxReader) -> FFI_ArrowArrayStream {
    FFI_ArrowArrayStream::new(Box::new(Lazy(std::cell::RefCell::new(
        RecordsAsArrow::new(reader),
    ))))
}

/// [`RecordsAsArrow`] behind the `&self` of `RecordBatchReader::schema`,
/// which reads the first batch when it is the first call.
struct Lazy(std::cell::RefCell<RecordsAsArrow>);

impl Iterator for Lazy {
    type Item = std::result::Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.0.get_mut().next()
    }
}

impl RecordBatchReader for Lazy {
    fn schema(&self) -> SchemaRef {
        let mut r = self.0.borrow_mut();
        r.start();
        Arc::clone(&r.schema)
    }
}

struct RecordsAsArrow {
    reader: BoxReader,
    schema: SchemaRef,
    first: Option<std::result::Result<RecordBatch, ArrowError>>,
    started: bool,
    records: u64,
    done: bool,
}

impl RecordsAsArrow {
    fn new(reader: BoxReader) -> RecordsAsArrow {
        RecordsAsArrow {
            reader,
            schema: Arc::new(Schema::empty()),
            first: None,
            started: false,
            records: 0,
            done: false,
        }
    }

    /// Reads the first batch, which fixes the schema, once.
    fn start(&mut self) {
        if self.started {
            return;
        }
        self.started = true;
        let first = self.read_batch();
        if let Ok(b) = &first {
            self.schema = b.schema();
        }
        self.first = Some(first);
    }

    /// Up to BATCH_ROWS records, over the first record's names (a record
    /// with other names is aligned to them by name; a field they lack is an
    /// error).
    fn read_batch(&mut self) -> std::result::Result<RecordBatch, ArrowError> {
        let mut rows: Vec<Vec<iterable_core::Value>> = Vec::new();
        let mut names: Option<Vec<String>> = None;
        let mut record = Record::new();
        while rows.len() < BATCH_ROWS {
            let more = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                self.reader.read_record(&mut record)
            }))
            .map_err(|_| ArrowError::ExternalError("the record reader panicked".into()))?
            .map_err(|e| ArrowError::ExternalError(Box::new(e)))?;
            if !more {
                self.done = true;
                break;
            }
            self.records += 1;
            match &names {
                None => names = Some(record.names().to_vec()),
                Some(n) if n.as_slice() == record.names() => {}
                Some(n) => {
                    // Align by name to the batch's fields.
                    let mut row = vec![iterable_core::Value::Null; n.len()];
                    for (k, v) in record.iter() {
                        match n.iter().position(|x| x == k) {
                            Some(i) => row[i] = v.clone(),
                            None => {
                                return Err(ArrowError::SchemaError(format!(
                                    "record {}: field '{k}' is not among the fields of the records before it",
                                    self.records
                                )));
                            }
                        }
                    }
                    rows.push(row);
                    continue;
                }
            }
            rows.push(record.values().to_vec());
        }
        let names = names.unwrap_or_else(|| {
            self.schema
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect()
        });
        let batch = conv::record_batch(&names, &rows, false)?;
        if self.schema.fields().is_empty() {
            return Ok(batch);
        }
        // Later batches: cast each column to the first batch's type.
        let mut columns = Vec::with_capacity(self.schema.fields().len());
        for f in self.schema.fields() {
            match batch.column_by_name(f.name()) {
                Some(c) if c.data_type() == f.data_type() => columns.push(Arc::clone(c)),
                Some(c) if c.data_type() == &DataType::Null => {
                    columns.push(arrow_array::new_null_array(f.data_type(), rows.len()))
                }
                Some(c) => columns.push(arrow_cast::cast(c, f.data_type()).map_err(|e| {
                    ArrowError::SchemaError(format!(
                        "field '{}' changes type after the first batch: {e}",
                        f.name()
                    ))
                })?),
                None => columns.push(arrow_array::new_null_array(f.data_type(), rows.len())),
            }
        }
        for f in batch.schema().fields() {
            if self.schema.field_with_name(f.name()).is_err() {
                return Err(ArrowError::SchemaError(format!(
                    "field '{}' appears after the first batch",
                    f.name()
                )));
            }
        }
        RecordBatch::try_new_with_options(
            Arc::clone(&self.schema),
            columns,
            &RecordBatchOptions::new().with_row_count(Some(rows.len())),
        )
    }
}

impl Iterator for RecordsAsArrow {
    type Item = std::result::Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.start();
        if let Some(first) = self.first.take() {
            return match first {
                Ok(b) if b.num_rows() == 0 => None,
                other => Some(other),
            };
        }
        if self.done {
            return None;
        }
        match self.read_batch() {
            Ok(b) if b.num_rows() == 0 => None,
            other => Some(other),
        }
    }
}

/// Reads a plugin's stream of one text column to the end (a table list).
pub(crate) fn strings(stream: CStream) -> Result<Vec<String>> {
    let mut r = StreamReader::new(stream)?;
    let mut out = Vec::new();
    let mut rec = Record::new();
    while r.read_record(&mut rec)? {
        if let Some(v) = rec.values().first() {
            let mut s = String::new();
            v.write_text(&mut s);
            out.push(s);
        }
    }
    Ok(out)
}
