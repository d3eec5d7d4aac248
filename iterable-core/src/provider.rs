//! The six kinds of provider: formats, codecs, drivers, rules, engines and hooks.
//!
//! Built-ins, types registered from Rust code, and plugins all stand behind
//! these traits; the registry does not know which is which beyond a label.

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Result};
use crate::io::{BoxRead, BoxSink};
use crate::options::{OptionSpec, Options};
use crate::record::{Batch, Record};
use crate::value::Value;

/// Reads records one at a time, reusing the caller's record.
pub trait RecordReader: Send {
    /// Fills `record` with the next record and returns `true`, or returns
    /// `false` at the end of the input.
    fn read_record(&mut self, record: &mut Record) -> Result<bool>;
}

/// A boxed record reader.
pub type BoxReader = Box<dyn RecordReader>;

/// Writes records; nothing is complete until [`RecordWriter::finish`].
pub trait RecordWriter: Send {
    /// Writes one record.
    fn write_record(&mut self, record: &Record) -> Result<()>;

    /// Writes a batch of rows (the default writes them one by one).
    fn write_batch(&mut self, batch: &Batch) -> Result<()> {
        for r in batch.records() {
            self.write_record(&r)?;
        }
        Ok(())
    }

    /// Completes the output: trailers, codec frames, the rename into place.
    fn finish(self: Box<Self>) -> Result<()>;
}

/// A boxed record writer.
pub type BoxWriter = Box<dyn RecordWriter>;

/// What a format is and can do. Its text form (serde) is a manifest's
/// `[[format]]` table; see [`crate::describe`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormatInfo {
    /// The id, such as `csv`.
    pub id: String,
    /// File extensions without the dot, lower case.
    #[serde(default)]
    pub extensions: Vec<String>,
    /// Byte strings a file of this format starts with.
    #[serde(flatten, with = "crate::describe::magic")]
    pub magic: Vec<Vec<u8>>,
    /// One line for listings.
    #[serde(default)]
    pub description: String,
    /// Options the reader and the writer accept.
    #[serde(default, rename = "option", skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<OptionSpec>,
    /// Whether records can be read (in text, `read`, true when left out).
    #[serde(rename = "read", default = "crate::describe::yes")]
    pub can_read: bool,
    /// Whether records can be written (in text, `write`, false when left
    /// out: the plugin SDK's default).
    #[serde(rename = "write", default)]
    pub can_write: bool,
    /// Whether it reads a plain file by its path ([`Format::path_reader`])
    /// rather than from a stream (in text, `reads_paths`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reads_paths: bool,
}

impl Default for FormatInfo {
    fn default() -> Self {
        FormatInfo {
            id: String::new(),
            extensions: Vec::new(),
            magic: Vec::new(),
            description: String::new(),
            options: Vec::new(),
            can_read: true,
            can_write: false,
            reads_paths: false,
        }
    }
}

/// A file format: bytes (already decompressed) to records and back.
pub trait Format: Send + Sync {
    /// The format's description. For a plugin that is not loaded yet this
    /// is what its manifest declares; after [`Format::prepare`] it is what
    /// the plugin itself says.
    fn info(&self) -> &FormatInfo;

    /// Gets ready to be used: a lazily loaded plugin loads here. It is
    /// called before options are checked against [`FormatInfo::options`].
    fn prepare(&self) -> Result<()> {
        Ok(())
    }

    /// Opens a reader over decompressed bytes.
    fn reader(&self, input: BoxRead, options: &Options) -> Result<BoxReader>;

    /// [`Format::reader`], told the stream's length in bytes when it is
    /// known (a plain file read without a codec). The default ignores it.
    fn sized_reader(
        &self,
        input: BoxRead,
        size: Option<u64>,
        options: &Options,
    ) -> Result<BoxReader> {
        let _ = size;
        self.reader(input, options)
    }

    /// Opens a writer over a byte sink. The writer finishes the sink.
    fn writer(&self, _output: BoxSink, _options: &Options) -> Result<BoxWriter> {
        Err(Error::new(
            ErrorKind::Unsupported,
            format!("format '{}' cannot write", self.info().id),
        ))
    }

    /// Scores how much the start of a decompressed stream looks like this
    /// format: `None` for no, higher for surer. Used when neither the name
    /// nor magic bytes decide. Returns options the content implies (a
    /// delimiter, say).
    fn sniff(&self, _head: &[u8]) -> Option<(u32, Options)> {
        None
    }

    /// Opens a reader on a plain (uncompressed) file by its path, for
    /// formats that must seek; `None` (the default) to be handed the
    /// file's bytes through [`Format::reader`] instead.
    fn path_reader(
        &self,
        _path: &std::path::Path,
        _options: &Options,
    ) -> Option<Result<BoxReader>> {
        None
    }

    /// The schema of a plain file, as the text this format's writer takes
    /// in its `schema` option; `None` (the default) when it has none.
    fn path_schema(&self, _path: &std::path::Path, _options: &Options) -> Option<Result<String>> {
        None
    }
}

/// What a codec is. Its text form is a manifest's `[[codec]]` table.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodecInfo {
    /// The id, such as `gzip`.
    pub id: String,
    /// File extensions without the dot, lower case.
    #[serde(default)]
    pub extensions: Vec<String>,
    /// Byte strings a compressed stream starts with.
    #[serde(flatten, with = "crate::describe::magic")]
    pub magic: Vec<Vec<u8>>,
    /// The accepted compression levels and the default, if levels apply
    /// (in text, `levels = { min, max, default }`).
    #[serde(
        default,
        with = "crate::describe::levels",
        skip_serializing_if = "Option::is_none"
    )]
    pub levels: Option<(i32, i32, i32)>,
    /// One line for listings.
    #[serde(default)]
    pub description: String,
}

/// A compression codec: bytes to bytes.
pub trait Codec: Send + Sync {
    /// The codec's description (see [`Format::info`] for plugins).
    fn info(&self) -> &CodecInfo;

    /// Gets ready to be used: a lazily loaded plugin loads here.
    fn prepare(&self) -> Result<()> {
        Ok(())
    }

    /// Wraps a compressed stream into a decompressed one.
    fn decoder(&self, input: BoxRead) -> Result<BoxRead>;

    /// [`Codec::decoder`], told the compressed stream's length in bytes
    /// when it is known (a plain file). The default ignores it.
    fn sized_decoder(&self, input: BoxRead, size: Option<u64>) -> Result<BoxRead> {
        let _ = size;
        self.decoder(input)
    }

    /// Wraps a sink so that what is written is compressed. Finishing the
    /// returned sink ends the frame and then finishes `output`.
    fn encoder(&self, output: BoxSink, level: Option<i32>) -> Result<BoxSink>;
}

/// What a database driver is. Its text form is a manifest's `[[driver]]` table.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriverInfo {
    /// The id, such as `sqlite`.
    pub id: String,
    /// URI schemes it handles, such as `sqlite`.
    #[serde(default)]
    pub schemes: Vec<String>,
    /// One line for listings.
    #[serde(default)]
    pub description: String,
}

/// Where to read from in a database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A whole table.
    Table(String),
    /// A query in the database's language.
    Query(String),
}

/// A database driver, chosen by URI scheme.
pub trait Driver: Send + Sync {
    /// The driver's description.
    fn info(&self) -> &DriverInfo;

    /// Connects to the database a URI names.
    fn connect(&self, uri: &str, options: &Options) -> Result<Box<dyn Connection>>;
}

/// An open database connection.
pub trait Connection: Send {
    /// The tables in the database.
    fn list_tables(&mut self) -> Result<Vec<String>>;

    /// Reads a table or a query as records.
    fn read(&mut self, source: &Source, options: &Options) -> Result<BoxReader>;

    /// Writes records into a table. The write is atomic: it is committed by
    /// `finish` and rolled back if the writer is dropped or fails.
    fn write(&mut self, table: &str, options: &Options) -> Result<BoxWriter>;
}

/// What a validation rule is. Its text form is a manifest's `[[rule]]` table.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleInfo {
    /// The name, such as `common.email`.
    pub name: String,
    /// What the rule checks.
    #[serde(default)]
    pub description: String,
}

/// A validation rule for one value.
pub trait Rule: Send + Sync {
    /// The rule's description.
    fn info(&self) -> &RuleInfo;

    /// Checks a value: `Ok(())` or a message saying what is wrong.
    fn check(&self, value: &Value) -> std::result::Result<(), String>;

    /// Checks many values at once; rules that cross a plugin boundary
    /// override this so there is one call per batch, not per value.
    fn check_batch(&self, values: &[&Value], out: &mut Vec<Option<String>>) -> Result<()> {
        out.clear();
        out.extend(values.iter().map(|v| self.check(v).err()));
        Ok(())
    }
}

/// [`Rule::check`] for a rule whose real work is [`Rule::check_batch`] (a
/// rule across a plugin boundary): one value as a batch of one; a failed
/// call is the message.
pub fn check_as_batch(
    rule: &(impl Rule + ?Sized),
    value: &Value,
) -> std::result::Result<(), String> {
    let mut out = Vec::new();
    match rule.check_batch(&[value], &mut out) {
        Ok(()) => out.pop().flatten().map_or(Ok(()), Err),
        Err(e) => Err(e.to_string()),
    }
}

/// What an engine is. Its text form is a manifest's `[[engine]]` table.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineInfo {
    /// The id, such as `sql`.
    pub id: String,
    /// One line for listings.
    #[serde(default)]
    pub description: String,
    /// Whether it reads plain files itself when offered their paths (in
    /// text, `reads_paths`): `query` then passes, for each input that is a
    /// plain CSV, gzipped CSV or Parquet file, the options `path.TABLE`,
    /// `format.TABLE` and `compression.TABLE` along with the stream.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reads_paths: bool,
}

/// A processing engine: runs a query over named record inputs.
pub trait Engine: Send + Sync {
    /// The engine's description.
    fn info(&self) -> &EngineInfo;

    /// Runs `query` over the inputs, each named (a table name), and returns
    /// the result as records.
    fn execute(
        &self,
        query: &str,
        inputs: Vec<(String, BoxReader)>,
        options: &Options,
    ) -> Result<BoxReader>;
}

/// What a hook is. Its text form is a manifest's `[[hook]]` table.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HookInfo {
    /// The id, such as `audit`.
    pub id: String,
    /// One line for listings.
    #[serde(default)]
    pub description: String,
    /// The options it accepts (`--hook-option ID.KEY=VALUE`).
    #[serde(default, rename = "option", skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<OptionSpec>,
}

/// What a run reads and writes, told to each hook when it opens.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunInfo {
    /// The command, such as `convert`.
    pub command: String,
    /// What is read: a path, `-`, or a URI.
    pub source: String,
    /// What is written, when the run writes somewhere other than stdout.
    pub target: Option<String>,
    /// The format being read.
    pub format: String,
}

/// How a run ended, told to each hook when it closes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunSummary {
    /// Records read.
    pub records: u64,
    /// Bytes of input read, before decompression (0 when unknown).
    pub bytes_read: u64,
    /// Whether the run succeeded.
    pub ok: bool,
}

/// A hook: observes the record stream of a run, read-only.
pub trait Hook: Send + Sync {
    /// The hook's description.
    fn info(&self) -> &HookInfo;

    /// Gets ready to be used: a lazily loaded plugin loads here. It is
    /// called before options are checked against [`HookInfo::options`].
    fn prepare(&self) -> Result<()> {
        Ok(())
    }

    /// Starts observing a run. The options were checked against
    /// [`HookInfo::options`], and every declared option with a default that
    /// was not given has its default.
    fn open(&self, run: &RunInfo, options: &Options) -> Result<Box<dyn RunObserver>>;
}

/// One run, as a hook observes it.
pub trait RunObserver: Send {
    /// The next batch of records read; an error stops the run.
    fn batch(&mut self, batch: &Batch) -> Result<()>;
    /// The run failed (called at most once, before `close`).
    fn error(&mut self, error: &Error) -> Result<()>;
    /// The run is over.
    fn close(&mut self, summary: &RunSummary) -> Result<()>;
}

/// A reader over records already in memory; handy for tests and engines.
pub struct VecReader {
    records: std::vec::IntoIter<Record>,
}

impl VecReader {
    /// Reads the given records in order.
    pub fn new(records: Vec<Record>) -> Self {
        VecReader {
            records: records.into_iter(),
        }
    }
}

impl RecordReader for VecReader {
    fn read_record(&mut self, record: &mut Record) -> Result<bool> {
        match self.records.next() {
            Some(r) => {
                *record = r;
                Ok(true)
            }
            None => Ok(false),
        }
    }
}
