//! The traits a plugin implements, one per kind, and [`RowSource`], the rows
//! the host feeds an engine.

use std::io::Read;

use crate::abi::RecordSourceBox;
use crate::abi::hooks::{RunInfo, RunSummary};
use crate::abi::{BatchBuilder, BatchView, CellRef, DEFAULT_BATCH_ROWS, RBatch, RowView};
use crate::sdk::error::{Error, Result};
use crate::sdk::io::Encoder;
use crate::sdk::io::Input;
use crate::sdk::io::Output;
use crate::sdk::options::Options;
use crate::sdk::spec::CodecSpec;
use crate::sdk::spec::DriverSpec;
use crate::sdk::spec::EngineSpec;
use crate::sdk::spec::FormatSpec;
use crate::sdk::spec::HookSpec;
use crate::sdk::spec::RuleSpec;

/// A file format (bytes ⇄ records).
pub trait Format: Send + Sync + 'static {
    /// The description (id, extensions, magic, options, read/write).
    fn info(&self) -> FormatSpec;
    /// Opens a reader. The default says the format cannot be read.
    fn reader(&self, input: Input, options: &Options) -> Result<Box<dyn RowReader>> {
        let _ = (input, options);
        Err(Error::unsupported("this format cannot be read"))
    }
    /// Opens a writer. The default says the format cannot be written.
    fn writer(&self, output: Output, options: &Options) -> Result<Box<dyn RowWriter>> {
        let _ = (output, options);
        Err(Error::unsupported("this format cannot be written"))
    }
    /// Opens a reader on a plain file, for formats that must seek (a footer
    /// at the end, a zip archive); `None` (the default) lets the host
    /// stream the file to [`Format::reader`]. Needs a 1.1 host (the files
    /// capability); an older one always streams.
    fn path_reader(
        &self,
        path: &std::path::Path,
        options: &Options,
    ) -> Option<Result<Box<dyn RowReader>>> {
        let _ = (path, options);
        None
    }
    /// The schema of a plain file, as the text this format's writer takes in
    /// its `schema` option, so that converting between two files of this
    /// format keeps every column's type; `None` (the default) for none.
    fn path_schema(&self, path: &std::path::Path, options: &Options) -> Option<Result<String>> {
        let _ = (path, options);
        None
    }
}

/// Produces rows. The adapter calls [`read_batch`](Self::read_batch) once
/// per host request (one ABI call per batch), which by default calls
/// [`read_row`](Self::read_row) up to `max_rows` times.
///
/// Closures `FnMut(&mut BatchBuilder<'_>) -> Result<bool> + Send` are readers too.
pub trait RowReader: Send {
    /// Pushes the cells of the next record into `row` and returns
    /// `Ok(true)`, or returns `Ok(false)` at end of input. Calling
    /// `row.end_row()` is optional (an open row is ended for you);
    /// returning `Ok(true)` without pushing anything skips (e.g. a blank
    /// line). An error ends the batch: rows already pushed are delivered
    /// first and the error comes with the next call, numbered with the
    /// record it happened at unless you set `record` yourself.
    fn read_row(&mut self, row: &mut BatchBuilder<'_>) -> Result<bool>;

    /// Fills `batch` with up to `max_rows` rows; `Ok(false)` once the input
    /// is exhausted (the batch may still hold the last rows). Override for
    /// speed when rows can be produced in bulk.
    fn read_batch(&mut self, batch: &mut BatchBuilder<'_>, max_rows: usize) -> Result<bool> {
        while batch.row_count() < max_rows && !batch.is_full() {
            let more = self.read_row(batch)?;
            // A row whose fields come in another order ends the batch and
            // starts the next one, so that it keeps its own order.
            if batch.carry_out_of_order_row() {
                return Ok(true);
            }
            batch.end_row_if_open();
            if !more {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

impl<F> RowReader for F
where
    F: FnMut(&mut BatchBuilder<'_>) -> Result<bool> + Send,
{
    fn read_row(&mut self, row: &mut BatchBuilder<'_>) -> Result<bool> {
        self(row)
    }
}

/// Consumes rows. Batches from the host are validated before you see them.
pub trait RowWriter: Send {
    /// Writes one row (use `row.present()` to skip absent fields).
    fn write_row(&mut self, row: RowView<'_>) -> Result<()>;
    /// Writes a batch; by default row by row, an error numbered with its
    /// row's record (unless it has a number). If you override it, use
    /// [`RowView::record`] for your errors' `record`.
    fn write_batch(&mut self, batch: BatchView<'_>) -> Result<()> {
        for row in batch {
            self.write_row(row).map_err(|mut e| {
                e.record = e.record.or(Some(row.record()));
                e
            })?;
        }
        Ok(())
    }
    /// Completes the output (trailer, commit). Called once, before the
    /// writer is dropped; for table writers this is the commit point.
    fn finish(&mut self) -> Result<()> {
        Ok(())
    }
}

/// A compression codec (bytes ⇄ bytes).
pub trait Codec: Send + Sync + 'static {
    /// The description (id, extensions, magic, levels).
    fn info(&self) -> CodecSpec;
    /// A decompressing reader over `input`.
    fn decoder(&self, input: Input) -> Result<Box<dyn Read + Send>>;
    /// A compressing writer into `output`; `level` is the requested level,
    /// already checked against the declared range (or the declared default).
    fn encoder(&self, output: Output, level: i32) -> Result<Encoder> {
        let _ = (output, level);
        Err(Error::unsupported("this codec cannot compress"))
    }
}

/// A database driver.
pub trait Driver: Send + Sync + 'static {
    /// The description (id, URI schemes).
    fn info(&self) -> DriverSpec;
    /// Opens a connection.
    fn connect(&self, uri: &str, options: &Options) -> Result<Box<dyn Connection>>;
}

/// An open database connection.
pub trait Connection: Send {
    /// The table names.
    fn list_tables(&mut self) -> Result<Vec<String>>;
    /// Reads a table.
    fn read_table(&mut self, table: &str, options: &Options) -> Result<Box<dyn RowReader>>;
    /// Runs a query. Default: unsupported.
    fn read_query(&mut self, query: &str, options: &Options) -> Result<Box<dyn RowReader>> {
        let _ = (query, options);
        Err(Error::unsupported("this driver does not run queries"))
    }
    /// Writes a table. The writer's `finish` must commit; dropping it
    /// without `finish` must roll back (implement `Drop`). Default: unsupported.
    fn write_table(&mut self, table: &str, options: &Options) -> Result<Box<dyn RowWriter>> {
        let _ = (table, options);
        Err(Error::unsupported("this driver cannot write tables"))
    }
}

/// A validation rule, applied to one value at a time (the adapter loops
/// over a whole batch inside one ABI call).
pub trait Rule: Send + Sync + 'static {
    /// The description (name).
    fn info(&self) -> RuleSpec;
    /// `Ok(())` if `value` passes, `Err(message)` otherwise.
    fn check(&self, value: CellRef<'_>) -> std::result::Result<(), String>;
}

/// A processing engine.
pub trait Engine: Send + Sync + 'static {
    /// The description (id).
    fn info(&self) -> EngineSpec;
    /// Runs `query` over the named inputs, returning the result rows.
    fn execute(
        &self,
        query: &str,
        inputs: Vec<(String, RowSource)>,
        options: &Options,
    ) -> Result<Box<dyn RowReader>>;
}

/// A hook (ABI 1.1): observes the runs of the host (`cat`, `convert`,
/// `validate`, `query`) that enable it with `--hook ID`.
///
/// The host opens one [`RunWatcher`] per run. A hook sees records, never
/// changes them; an error it returns stops the run, and the host names the
/// hook in the message.
pub trait Hook: Send + Sync + 'static {
    /// The description (id, options).
    fn info(&self) -> HookSpec;
    /// Starts watching a run. `options` were checked against the declared
    /// ones, with defaults filled in.
    fn open(&self, run: &RunInfo, options: &Options) -> Result<Box<dyn RunWatcher>>;
}

/// One run, watched by a [`Hook`]. Every method has a default that does nothing.
pub trait RunWatcher: Send {
    /// The next batch of records read. An error stops the run.
    fn batch(&mut self, rows: BatchView<'_>) -> Result<()> {
        let _ = rows;
        Ok(())
    }
    /// The run failed with `message` (called at most once, before `close`).
    fn error(&mut self, message: &str) -> Result<()> {
        let _ = message;
        Ok(())
    }
    /// The run is over: `summary` has the counts. Called once.
    fn close(&mut self, summary: &RunSummary) -> Result<()> {
        let _ = summary;
        Ok(())
    }
}

/// Rows the host feeds to an engine: pull them batch by batch.
pub struct RowSource {
    source: RecordSourceBox,
    batch: RBatch,
    batch_rows: u32,
    done: bool,
}

impl RowSource {
    /// Wraps a host record source ([`DEFAULT_BATCH_ROWS`] rows per request).
    pub fn new(source: RecordSourceBox) -> Self {
        Self {
            source,
            batch: RBatch::new(),
            batch_rows: DEFAULT_BATCH_ROWS,
            done: false,
        }
    }
    /// Sets how many rows to request per batch.
    pub fn with_batch_rows(mut self, rows: u32) -> Self {
        self.batch_rows = rows.max(1);
        self
    }
    /// The next (validated) batch, or `None` at the end. A batch may be empty.
    pub fn next_batch(&mut self) -> Result<Option<BatchView<'_>>> {
        if self.done {
            return Ok(None);
        }
        match self
            .source
            .read_batch(&mut self.batch, self.batch_rows)
            .into_result()
        {
            Ok(true) => Ok(Some(self.batch.validated()?)),
            Ok(false) => {
                self.done = true;
                Ok(None)
            }
            Err(e) => Err(e.into()),
        }
    }
    /// Calls `f` for every remaining row.
    pub fn for_each_row(&mut self, mut f: impl FnMut(RowView<'_>) -> Result<()>) -> Result<()> {
        while let Some(batch) = self.next_batch()? {
            for row in batch {
                f(row)?;
            }
        }
        Ok(())
    }
}
