//! The stream pieces of the harness: readers, writers, codecs' decoders and
//! encoders, and driver connections under test.

use std::fmt;

use abi_stable::std_types::{RStr, RString};

use crate::abi::{ConnectionBox, RBatch, RecordSinkBox, RecordSourceBox, roptions};
use crate::sdk::error::{Error, Result};
use crate::sdk::streams::{MemorySink, SinkWriter, SourceReader};

use super::Record;
use super::values::{fill, records_of};

/// One batch as a reader delivered it: its field names in order and its
/// records (present cells only).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Batch {
    /// The batch's field names, in order.
    pub fields: Vec<String>,
    /// Its records.
    pub records: Vec<Record>,
}

/// A reader of a format under test, from [`PluginTest::reader`].
pub struct TestReader {
    pub(super) source: RecordSourceBox,
    pub(super) batch: RBatch,
    pub(super) max: u32,
}

impl fmt::Debug for TestReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TestReader")
    }
}

impl TestReader {
    /// The next batch of at most `max` rows, checked as a host checks it;
    /// `None` at the end.
    pub fn next_batch(&mut self, max: u32) -> Result<Option<Batch>> {
        if self.source.read_batch(&mut self.batch, max).into_result()? {
            Ok(Some(records_of(&self.batch)?))
        } else {
            Ok(None)
        }
    }

    /// Every record, or the first error.
    pub fn read_all_ok(self) -> Result<Vec<Record>> {
        match self.read_all() {
            (records, None) => Ok(records),
            (_, Some(e)) => Err(e),
        }
    }

    /// Every record up to the end or the first error: the records
    /// delivered before it, and the error.
    pub fn read_all(mut self) -> (Vec<Record>, Option<Error>) {
        let mut out = Vec::new();
        loop {
            match self.next_batch(self.max) {
                Ok(Some(b)) => out.extend(b.records),
                Ok(None) => return (out, None),
                Err(e) => return (out, Some(e)),
            }
        }
    }
}

/// A writer of a format (or a driver's table) under test, from
/// [`PluginTest::writer`] or [`TestConnection::writer`].
pub struct TestWriter {
    pub(super) sink: RecordSinkBox,
    pub(super) out: Option<MemorySink>,
    pub(super) batch: RBatch,
}

impl fmt::Debug for TestWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TestWriter")
    }
}

impl TestWriter {
    /// Hands `records` over as one batch.
    pub fn write(&mut self, records: &[Record]) -> Result<()> {
        fill(&mut self.batch, records);
        Ok(self.sink.write_batch(&self.batch).into_result()?)
    }

    /// The bytes written so far (empty for a driver's table).
    pub fn written(&self) -> Vec<u8> {
        self.out
            .as_ref()
            .map(MemorySink::contents)
            .unwrap_or_default()
    }

    /// Finishes the output; everything it wrote (empty for a driver's table).
    pub fn finish(mut self) -> Result<Vec<u8>> {
        self.sink.finish().into_result()?;
        Ok(self.written())
    }
}

/// A codec's decoder under test, from [`PluginTest::decoder`]: read the
/// decompressed stream from it.
pub struct TestDecoder(pub(super) SourceReader);

impl fmt::Debug for TestDecoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TestDecoder")
    }
}

impl TestDecoder {
    /// Reads some of the decompressed stream into `buf`: how much (0 at
    /// the end), or the codec's error as it gave it.
    pub fn read_chunk(&mut self, buf: &mut [u8]) -> Result<usize> {
        use std::io::Read as _;
        Ok(self.0.read(buf)?)
    }
}

impl std::io::Read for TestDecoder {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf)
    }
}

/// A codec's encoder under test, from [`PluginTest::encoder`]: write the
/// plain stream to it, then [`finish`](TestEncoder::finish).
pub struct TestEncoder(pub(super) SinkWriter);

impl fmt::Debug for TestEncoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TestEncoder")
    }
}

impl std::io::Write for TestEncoder {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

impl TestEncoder {
    /// Hands `bytes` to the encoder in one call: the codec's error as it
    /// gave it, if any.
    pub fn write_chunk(&mut self, bytes: &[u8]) -> Result<()> {
        use std::io::Write as _;
        let n = self.0.write(bytes)?;
        debug_assert_eq!(n, bytes.len());
        Ok(())
    }

    /// Ends the compressed stream (its trailer, if any, is written).
    pub fn finish(mut self) -> Result<()> {
        Ok(self.0.finish()?)
    }
}

/// An open connection of a driver under test.
pub struct TestConnection {
    pub(super) conn: ConnectionBox,
    pub(super) max: u32,
}

impl fmt::Debug for TestConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TestConnection")
    }
}

impl TestConnection {
    /// The tables.
    pub fn tables(&mut self) -> Result<Vec<String>> {
        Ok(self
            .conn
            .list_tables()
            .into_result()?
            .into_iter()
            .map(RString::into_string)
            .collect())
    }
    /// Every record of `table`.
    pub fn read_table(&mut self, table: &str, options: &[(&str, &str)]) -> Result<Vec<Record>> {
        self.table_reader(table, options)?.read_all_ok()
    }
    /// A reader of `table`, to take its batches one by one (and drop it
    /// early, say).
    pub fn table_reader(&mut self, table: &str, options: &[(&str, &str)]) -> Result<TestReader> {
        let source = self
            .conn
            .read_table(RStr::from_str(table), roptions(options.iter().copied()))
            .into_result()?;
        Ok(TestReader {
            source,
            batch: RBatch::new(),
            max: self.max,
        })
    }
    /// A reader of the result of `query`, to take its batches one by one.
    pub fn query_reader(&mut self, query: &str, options: &[(&str, &str)]) -> Result<TestReader> {
        let source = self
            .conn
            .read_query(RStr::from_str(query), roptions(options.iter().copied()))
            .into_result()?;
        Ok(TestReader {
            source,
            batch: RBatch::new(),
            max: self.max,
        })
    }
    /// The result of `query`.
    pub fn read_query(&mut self, query: &str, options: &[(&str, &str)]) -> Result<Vec<Record>> {
        self.query_reader(query, options)?.read_all_ok()
    }

    /// A writer into `table`: give it batches, then
    /// [`finish`](TestWriter::finish) to commit.
    pub fn writer(&mut self, table: &str, options: &[(&str, &str)]) -> Result<TestWriter> {
        let sink = self
            .conn
            .write_table(RStr::from_str(table), roptions(options.iter().copied()))
            .into_result()?;
        Ok(TestWriter {
            sink,
            out: None,
            batch: RBatch::new(),
        })
    }

    /// Writes `records` into `table` and commits; on an error nothing is written.
    pub fn write_table(
        &mut self,
        table: &str,
        records: &[Record],
        options: &[(&str, &str)],
    ) -> Result<()> {
        let mut w = self.writer(table, options)?;
        w.write(records)?;
        w.finish().map(drop)
    }
}
