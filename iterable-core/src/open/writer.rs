//! [`Writer`]: records into a file, stream or database; nothing is complete
//! until it finishes.

use std::fmt;
use std::path::PathBuf;

use crate::error::{Error, ErrorKind, Position, Result};
use crate::provider::{BoxWriter, RecordReader};
use crate::record::{Batch, Record};

/// Writes records. Nothing is complete until [`Writer::finish`]: a file
/// appears under its name only then, and a writer dropped without finishing
/// leaves no output (and the old file, if any, untouched).
pub struct Writer {
    inner: Option<BoxWriter>,
    name: Option<String>,
    count: u64,
}

impl fmt::Debug for Writer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Writer")
            .field("name", &self.name)
            .field("count", &self.count)
            .finish()
    }
}

impl Writer {
    /// Wraps a record writer.
    pub fn new(inner: BoxWriter) -> Self {
        Writer {
            inner: Some(inner),
            name: None,
            count: 0,
        }
    }

    /// Names the target in error messages.
    pub fn with_name(mut self, name: String) -> Self {
        self.name = Some(name);
        self
    }

    fn wrap(&self, e: Error) -> Error {
        match &self.name {
            Some(n) => e.with_path(PathBuf::from(n)),
            None => e,
        }
    }

    /// Writes one record.
    pub fn write(&mut self, record: &Record) -> Result<()> {
        let inner = self
            .inner
            .as_mut()
            .ok_or_else(|| Error::new(ErrorKind::Other, "writer already finished"))?;
        self.count += 1;
        match inner.write_record(record) {
            Ok(()) => Ok(()),
            // A provider from outside the core (a plugin's writer) takes
            // records in batches: the count here would name the last record
            // of the batch. It numbers its errors itself (its adapter says
            // which records a failing batch held when it does not).
            Err(e) if e.origin().is_some() => Err(self.wrap(e)),
            Err(e) => {
                let e = e.with_position(Position::record(self.count));
                Err(self.wrap(e))
            }
        }
    }

    /// Writes a batch.
    pub fn write_batch(&mut self, batch: &Batch) -> Result<()> {
        let inner = self
            .inner
            .as_mut()
            .ok_or_else(|| Error::new(ErrorKind::Other, "writer already finished"))?;
        let res = inner.write_batch(batch);
        self.count += batch.len() as u64;
        res.map_err(|e| self.wrap(e))
    }

    /// Writes one value of the caller's own type, through serde: a struct
    /// becomes a record with one field per struct field, in order (the
    /// mirror of [`Reader::deserialize`]).
    ///
    /// ```
    /// use iterable_core::{OpenOptions, Registry};
    /// #[derive(serde::Serialize)]
    /// struct City { name: String, people: u64 }
    ///
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("cities.jsonl");
    /// let registry = Registry::with_builtins();
    /// let mut w = registry.create(&path, &OpenOptions::new())?;
    /// w.serialize(&City { name: "Oslo".into(), people: 717_710 })?;
    /// w.finish()?;
    /// assert_eq!(std::fs::read_to_string(&path)?, "{\"name\":\"Oslo\",\"people\":717710}\n");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn serialize<T: serde::Serialize>(&mut self, value: &T) -> Result<()> {
        let record = Record::from_serialize(value)
            .map_err(|e| self.wrap(e.with_position(Position::record(self.count + 1))))?;
        self.write(&record)
    }

    /// Copies every record of `reader` into this writer; returns how many.
    pub fn copy_from<R: RecordReader + ?Sized>(&mut self, reader: &mut R) -> Result<u64> {
        let mut rec = Record::new();
        let mut n = 0;
        while reader.read_record(&mut rec)? {
            self.write(&rec)?;
            n += 1;
        }
        Ok(n)
    }

    /// How many records were written.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Completes the output; returns the number of records written.
    pub fn finish(mut self) -> Result<u64> {
        let inner = self
            .inner
            .take()
            .ok_or_else(|| Error::new(ErrorKind::Other, "writer already finished"))?;
        inner.finish().map_err(|e| self.wrap(e))?;
        Ok(self.count)
    }
}
