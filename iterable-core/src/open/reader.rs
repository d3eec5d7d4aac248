//! [`Reader`]: records from a file, stream or database, with context on
//! every error, observed by hooks when a run asks.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use crate::error::{Error, ErrorKind, Position, Result};
use crate::provider::{BoxReader, RecordReader};
use crate::record::{Batch, Record};

/// Reads records from a file, stream or database, adding the source's name
/// and the record number to every error.
///
/// It is an iterator of `Result<Record>`; after the first error it ends.
/// [`Reader::read_record`] is the fast path that reuses one record.
pub struct Reader {
    inner: BoxReader,
    name: Option<String>,
    format: String,
    codec: Option<String>,
    count: u64,
    failed: bool,
    pending: Option<Record>,
    progress: Option<crate::io::InputProgress>,
    run: Option<crate::observe::Run>,
    /// The format and plain file to ask for a schema, when there is one.
    schema_source: Option<(
        std::sync::Arc<dyn crate::provider::Format>,
        std::path::PathBuf,
        crate::options::Options,
    )>,
}

impl fmt::Debug for Reader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reader")
            .field("name", &self.name)
            .field("format", &self.format)
            .field("codec", &self.codec)
            .field("count", &self.count)
            .finish()
    }
}

impl Reader {
    /// Wraps a record reader.
    pub fn new(inner: BoxReader, format: String, codec: Option<String>) -> Self {
        Reader {
            inner,
            name: None,
            format,
            codec,
            count: 0,
            failed: false,
            pending: None,
            progress: None,
            run: None,
            schema_source: None,
        }
    }

    /// Remembers the plain file this reader reads and its format, so that
    /// [`Reader::schema`] can ask the format for the file's schema.
    pub(crate) fn with_schema_source(
        mut self,
        format: std::sync::Arc<dyn crate::provider::Format>,
        path: std::path::PathBuf,
        options: crate::options::Options,
    ) -> Self {
        self.schema_source = Some((format, path, options));
        self
    }

    /// The schema of the input, as the text its format's writer takes in
    /// its `schema` option (a Parquet file's column types, say); `None`
    /// when the input is not a plain file or its format has no schema.
    /// `convert` between two files of such a format hands it to the
    /// writer, so every column keeps its type.
    pub fn schema(&self) -> Option<String> {
        let (format, path, options) = self.schema_source.as_ref()?;
        match format.path_schema(path, options)? {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::debug!(error = %e, "no schema for the input");
                None
            }
        }
    }

    /// Shows every record read to the hooks of `run` (see [`crate::Run`]),
    /// and counts this input's bytes in its summary.
    pub fn observed_by(mut self, run: &crate::observe::Run) -> Self {
        run.count_input(self.progress.as_ref());
        if !run.is_empty() {
            self.run = Some(run.clone());
        }
        self
    }

    /// Counts the input's bytes with `progress` (what [`Registry::open`]
    /// does for files).
    pub fn with_progress(mut self, progress: crate::io::InputProgress) -> Self {
        self.progress = Some(progress);
        self
    }

    /// How far the reader has come through its input, when its bytes are
    /// counted (files opened by path).
    pub fn progress(&self) -> Option<&crate::io::InputProgress> {
        self.progress.as_ref()
    }

    /// The name of the source, as used in messages.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Names the source in error messages.
    pub fn with_name(mut self, name: String) -> Self {
        self.name = Some(name);
        self
    }

    /// The id of the format being read.
    pub fn format(&self) -> &str {
        &self.format
    }

    /// The id of the codec, if the input is compressed.
    pub fn codec(&self) -> Option<&str> {
        self.codec.as_deref()
    }

    /// How many records were read so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    fn wrap(&self, e: Error) -> Error {
        // The record number helps with data errors; with a codec or I/O
        // failure it would only be noise.
        let e = match e.kind() {
            ErrorKind::Parse | ErrorKind::Encoding | ErrorKind::Schema => {
                e.with_position(Position::record(self.count + 1))
            }
            _ => e,
        };
        match &self.name {
            Some(n) => e.with_path(PathBuf::from(n)),
            None => e,
        }
    }

    /// Reads the next record into `record`, reusing its buffers; `false`
    /// at the end.
    pub fn read_record(&mut self, record: &mut Record) -> Result<bool> {
        if let Some(p) = self.pending.take() {
            *record = p;
            self.count += 1;
            return Ok(true);
        }
        if self.failed {
            return Ok(false);
        }
        let read = match self.inner.read_record(record) {
            Ok(true) => {
                self.count += 1;
                Ok(true)
            }
            Ok(false) => Ok(false),
            Err(e) => {
                self.failed = true;
                Err(self.wrap(e))
            }
        };
        match (&self.run, &read) {
            (None, _) => read,
            (Some(run), Ok(true)) => run.record(record).map(|()| true).inspect_err(|_| {
                self.failed = true;
            }),
            // At the end, or on an error, hooks see what is still batched;
            // the reader's own error comes first.
            (Some(run), _) => {
                let flushed = run.end_of_input();
                let read = read?;
                flushed.map(|()| read)
            }
        }
    }

    /// Reads up to `max` records that share the same field names into
    /// `batch`; `false` when there was nothing left to read.
    pub fn read_batch(&mut self, batch: &mut Batch, max: usize) -> Result<bool> {
        let mut rec = Record::new();
        if !self.read_record(&mut rec)? {
            return Ok(false);
        }
        batch.clear(Arc::clone(rec.field_names()));
        batch.push_row(rec.take_values());
        while batch.len() < max.max(1) {
            if !self.read_record(&mut rec)? {
                break;
            }
            if !Arc::ptr_eq(rec.field_names(), batch.names()) && rec.names() != &batch.names()[..] {
                self.count -= 1;
                self.pending = Some(std::mem::take(&mut rec));
                break;
            }
            batch.push_row(rec.take_values());
        }
        Ok(true)
    }

    /// Deserializes every record into `T` (the mirror of [`Writer::serialize`]).
    pub fn deserialize<T: serde::de::DeserializeOwned>(self) -> impl Iterator<Item = Result<T>> {
        self.map(|r| r.and_then(|r| r.deserialize()))
    }

    /// The underlying record reader, without context.
    pub fn into_inner(self) -> BoxReader {
        self.inner
    }
}

impl Iterator for Reader {
    type Item = Result<Record>;

    fn next(&mut self) -> Option<Result<Record>> {
        let mut r = Record::new();
        match self.read_record(&mut r) {
            Ok(true) => Some(Ok(r)),
            Ok(false) => None,
            Err(e) => Some(Err(e)),
        }
    }
}

/// A `Reader` is itself a record reader, so it can feed engines and writers.
impl RecordReader for Reader {
    fn read_record(&mut self, record: &mut Record) -> Result<bool> {
        Reader::read_record(self, record)
    }
}
