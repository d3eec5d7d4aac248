//! Plugin providers behind the core's traits, loaded on first use.
//!
//! Each adapter knows its provider's description from the manifest and
//! loads the library only when the provider is really used. Records cross
//! the boundary in flat batches that the host owns and reuses: one call per
//! batch, never per record or per field.

use std::io::{self, Read, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex, OnceLock};

use iterable_core::io::{BoxRead, BoxSink, ByteSink};
use iterable_core::{
    Batch, BoxReader, BoxWriter, Codec, CodecInfo, Connection, Driver, DriverInfo, Engine,
    EngineInfo, Error, ErrorKind, FieldNames, Format, FormatInfo, Hook, HookInfo, Options,
    PluginErrorKind, Record, RecordReader, RecordWriter, Result, Rule, RuleInfo, RunInfo,
    RunObserver, RunSummary, Source, Value,
};
use iterable_plugin_api::abi_stable::std_types::{RStr, RString, RVec, Tuple2};
use iterable_plugin_api::sdk::streams::{SinkWriter, SourceReader};
use iterable_plugin_api::{
    BatchBuilder, ByteSinkBox, ByteSourceBox, ConnectionBox, RBatch, RError, RecordSinkBox,
    RecordSourceBox, RunObserverBox,
};

use crate::convert::{self, BatchReader};
use crate::loader::Library;
use crate::plugin::Plugin;

/// Rows per batch asked of, and sent to, plugins.
pub const BATCH_ROWS: u32 = 2048;

/// Rows asked of a plugin's reader the first time, so that the first record
/// does not wait for a whole batch.
pub const FIRST_BATCH_ROWS: u32 = 32;

/// What a lazy adapter needs to know of a kind of provider description.
pub trait Declared: Clone + Send + Sync + 'static {
    /// The kind, as a word for messages.
    const KIND: &'static str;
    /// The id (a rule's name).
    fn id(&self) -> &str;
    /// The descriptions of this kind a loaded library gives, in its order.
    fn listed(lib: &Library) -> Vec<&Self>;
}

macro_rules! declared {
    ($info:ty, $kind:literal, $field:ident, $list:ident) => {
        impl Declared for $info {
            const KIND: &'static str = $kind;
            fn id(&self) -> &str {
                &self.$field
            }
            fn listed(lib: &Library) -> Vec<&Self> {
                lib.$list.iter().map(|(i, _)| i).collect()
            }
        }
    };
}

declared!(FormatInfo, "format", id, formats);
declared!(CodecInfo, "codec", id, codecs);
declared!(DriverInfo, "driver", id, drivers);
declared!(RuleInfo, "rule", name, rules);
declared!(EngineInfo, "engine", id, engines);

impl Declared for HookInfo {
    const KIND: &'static str = "hook";
    fn id(&self) -> &str {
        &self.id
    }
    fn listed(lib: &Library) -> Vec<&Self> {
        lib.hooks.iter().flatten().map(|(i, _)| i).collect()
    }
}

/// A plugin provider known from its manifest, loaded on first use. Its
/// description is the manifest's until the library is loaded, then the
/// library's own.
pub struct Lazy<I> {
    plugin: Arc<Plugin>,
    declared: I,
    loaded: OnceLock<(I, usize)>,
}

impl<I: Declared> Lazy<I> {
    /// A provider declared by `plugin`'s manifest.
    pub fn new(plugin: Arc<Plugin>, declared: I) -> Self {
        Lazy {
            plugin,
            declared,
            loaded: OnceLock::new(),
        }
    }

    fn current(&self) -> &I {
        self.loaded.get().map_or(&self.declared, |(i, _)| i)
    }

    /// Loads the library (once) and finds this provider in it, or says the
    /// manifest lied.
    fn provider(&self) -> Result<(Arc<Library>, usize)> {
        let lib = self.plugin.library()?;
        if let Some((_, i)) = self.loaded.get() {
            return Ok((lib, *i));
        }
        let id = self.declared.id();
        let found = I::listed(&lib)
            .into_iter()
            .enumerate()
            .find(|(_, i)| i.id() == id);
        match found {
            Some((i, info)) => {
                let _ = self.loaded.set((info.clone(), i));
                Ok((lib, i))
            }
            None => Err(Error::plugin(
                PluginErrorKind::ManifestMismatch,
                self.plugin.name(),
                format!(
                    "the manifest declares {} '{id}' but the library does not provide it",
                    I::KIND
                ),
            )),
        }
    }
}

// ---------------------------------------------------------------------------
// Records from a plugin

/// Reads records from a plugin's record source, a batch at a time.
///
/// The first batch is small and asked for in this thread, so that the
/// first record comes quickly. After it, with more than one core, the
/// plugin fills the next batch on a thread of its own while the host
/// converts the batch before (two batches, swapped between the threads):
/// the boundary's cost then overlaps the parsing.
struct PluginReader {
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
    fn new(plugin: &str, source: RecordSourceBox, lib: Option<Arc<Library>>) -> Self {
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

// ---------------------------------------------------------------------------
// Records to a plugin

/// Collects records into a batch and hands full batches to a plugin sink.
struct PluginWriter {
    plugin: String,
    sink: Option<RecordSinkBox>,
    batch: RBatch,
    names: Option<FieldNames>,
    /// The host's own byte sink, finished after the plugin's writer.
    bytes: Option<SharedSink>,
    /// Records handed to the plugin so far.
    written: u64,
    _lib: Option<Arc<Library>>,
}

impl PluginWriter {
    fn flush_batch(&mut self) -> Result<()> {
        if self.batch.row_count() == 0 {
            return Ok(());
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
struct SharedSink(Arc<Mutex<Option<BoxSink>>>);

impl SharedSink {
    fn new(sink: BoxSink) -> Self {
        SharedSink(Arc::new(Mutex::new(Some(sink))))
    }

    fn proxy(&self) -> ByteSinkBox {
        ByteSinkBox::from_writer(self.clone())
    }

    fn finish(self) -> Result<()> {
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

/// Hands a core record reader to a plugin as a record source.
fn record_source(mut reader: BoxReader) -> RecordSourceBox {
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
        Ok(n > 0)
    })
}

/// Maps the errors of a plugin's byte stream to core errors naming it.
struct PluginRead {
    plugin: String,
    inner: SourceReader,
}

impl Read for PluginRead {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let inner = &mut self.inner;
        call_io(&self.plugin, "decoding", || inner.read(buf))
    }
}

/// [`convert::call`] for byte streams: a plugin's error, or a panic that
/// escaped its guard, becomes an `io::Error` carrying an error naming it.
fn call_io<T>(plugin: &str, what: &str, f: impl FnOnce() -> io::Result<T>) -> io::Result<T> {
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

// ---------------------------------------------------------------------------
// Formats

/// A plugin format, loaded on first use.
pub type LazyFormat = Lazy<FormatInfo>;

impl Format for LazyFormat {
    fn info(&self) -> &FormatInfo {
        self.current()
    }

    fn prepare(&self) -> Result<()> {
        self.provider().map(|_| ())
    }

    fn reader(&self, input: BoxRead, options: &Options) -> Result<BoxReader> {
        let (lib, i) = self.provider()?;
        let name = self.plugin.name();
        let source = ByteSourceBox::from_reader(input);
        let opts = convert::options_to_plugin(options);
        let records = convert::call(name, "opening a reader", || {
            lib.formats[i].1.open_reader(source, opts)
        })?;
        Ok(Box::new(PluginReader::new(name, records, Some(lib))))
    }

    fn writer(&self, output: BoxSink, options: &Options) -> Result<BoxWriter> {
        let (lib, i) = self.provider()?;
        let name = self.plugin.name();
        let shared = SharedSink::new(output);
        let opts = convert::options_to_plugin(options);
        let sink = convert::call(name, "opening a writer", || {
            lib.formats[i].1.open_writer(shared.proxy(), opts)
        })?;
        Ok(Box::new(PluginWriter {
            plugin: name.to_owned(),
            sink: Some(sink),
            batch: RBatch::new(),
            names: None,
            bytes: Some(shared),
            written: 0,
            _lib: Some(lib),
        }))
    }
}

// ---------------------------------------------------------------------------
// Codecs

/// A plugin codec, loaded on first use.
pub type LazyCodec = Lazy<CodecInfo>;

impl Codec for LazyCodec {
    fn info(&self) -> &CodecInfo {
        self.current()
    }

    fn prepare(&self) -> Result<()> {
        self.provider().map(|_| ())
    }

    fn decoder(&self, input: BoxRead) -> Result<BoxRead> {
        let (lib, i) = self.provider()?;
        let name = self.plugin.name();
        let source = ByteSourceBox::from_reader(input);
        let decoded = convert::call(name, "starting to decode", || {
            lib.codecs[i].1.decoder(source)
        })?;
        Ok(Box::new(PluginRead {
            plugin: name.to_owned(),
            inner: SourceReader::new(decoded),
        }))
    }

    fn encoder(&self, output: BoxSink, level: Option<i32>) -> Result<BoxSink> {
        let (lib, i) = self.provider()?;
        let name = self.plugin.name();
        let shared = SharedSink::new(output);
        let level = level.into();
        let enc = convert::call(name, "starting to encode", || {
            lib.codecs[i].1.encoder(shared.proxy(), level)
        })?;
        Ok(Box::new(PluginEncoder {
            plugin: name.to_owned(),
            inner: SinkWriter::new(enc),
            shared: Some(shared),
            _lib: lib,
        }))
    }
}

/// A plugin's encoder as a core byte sink.
struct PluginEncoder {
    plugin: String,
    inner: SinkWriter,
    shared: Option<SharedSink>,
    _lib: Arc<Library>,
}

impl Write for PluginEncoder {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let inner = &mut self.inner;
        call_io(&self.plugin, "encoding", || inner.write_all(buf)).map(|()| buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        let inner = &mut self.inner;
        call_io(&self.plugin, "flushing", || inner.flush())
    }
}

impl ByteSink for PluginEncoder {
    fn finish(mut self: Box<Self>) -> io::Result<()> {
        let inner = &mut self.inner;
        call_io(&self.plugin, "finishing the stream", || {
            inner.finish().map_err(io::Error::from)
        })?;
        match self.shared.take() {
            Some(s) => s.finish().map_err(Error::into_io),
            None => Ok(()),
        }
    }
}

// ---------------------------------------------------------------------------
// Rules

/// A plugin rule, loaded on first use.
pub type LazyRule = Lazy<RuleInfo>;

impl Rule for LazyRule {
    fn info(&self) -> &RuleInfo {
        self.current()
    }

    fn check(&self, value: &Value) -> std::result::Result<(), String> {
        let mut out = Vec::new();
        match self.check_batch(&[value], &mut out) {
            Ok(()) => out.pop().flatten().map_or(Ok(()), Err),
            Err(e) => Err(e.to_string()),
        }
    }

    fn check_batch(&self, values: &[&Value], out: &mut Vec<Option<String>>) -> Result<()> {
        let (lib, i) = self.provider()?;
        let mut batch = RBatch::new();
        {
            let mut b = batch.builder();
            b.set_fields(&["value"]);
            for v in values {
                convert::push_value(&mut b, v);
                b.end_row();
            }
        }
        let mut results: RVec<iterable_plugin_api::abi_stable::std_types::ROption<RString>> =
            RVec::new();
        convert::call(self.plugin.name(), "checking values", || {
            lib.rules[i].1.check_batch(&batch, &mut results)
        })?;
        if results.len() != values.len() {
            return Err(Error::plugin(
                PluginErrorKind::CallFailed,
                self.plugin.name(),
                format!(
                    "rule '{}' returned {} results for {} values",
                    self.declared.name,
                    results.len(),
                    values.len()
                ),
            ));
        }
        out.clear();
        out.extend(
            results
                .into_iter()
                .map(|r| r.into_option().map(|s| s.to_string())),
        );
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Engines

/// A plugin engine, loaded on first use.
pub type LazyEngine = Lazy<EngineInfo>;

impl Engine for LazyEngine {
    fn info(&self) -> &EngineInfo {
        self.current()
    }

    fn execute(
        &self,
        query: &str,
        inputs: Vec<(String, BoxReader)>,
        options: &Options,
    ) -> Result<BoxReader> {
        let (lib, i) = self.provider()?;
        let name = self.plugin.name();
        let inputs: RVec<Tuple2<RString, RecordSourceBox>> = inputs
            .into_iter()
            .map(|(n, r)| Tuple2(RString::from(n), record_source(r)))
            .collect();
        let opts = convert::options_to_plugin(options);
        let out = convert::call(name, "running a query", || {
            lib.engines[i]
                .1
                .execute(RStr::from_str(query), inputs, opts)
        })?;
        Ok(Box::new(PluginReader::new(name, out, Some(lib))))
    }
}

// ---------------------------------------------------------------------------
// Drivers

/// A plugin driver, loaded on first use.
pub type LazyDriver = Lazy<DriverInfo>;

impl Driver for LazyDriver {
    fn info(&self) -> &DriverInfo {
        self.current()
    }

    fn connect(&self, uri: &str, options: &Options) -> Result<Box<dyn Connection>> {
        let (lib, i) = self.provider()?;
        let name = self.plugin.name();
        let opts = convert::options_to_plugin(options);
        let conn = convert::call(name, "connecting", || {
            lib.drivers[i].1.connect(RStr::from_str(uri), opts)
        })?;
        Ok(Box::new(PluginConnection {
            plugin: name.to_owned(),
            conn,
            lib,
        }))
    }
}

struct PluginConnection {
    plugin: String,
    conn: ConnectionBox,
    lib: Arc<Library>,
}

impl Connection for PluginConnection {
    fn list_tables(&mut self) -> Result<Vec<String>> {
        let conn = &mut self.conn;
        let tables = convert::call(&self.plugin, "listing tables", || conn.list_tables())?;
        Ok(tables.into_iter().map(|t| t.to_string()).collect())
    }

    fn read(&mut self, source: &Source, options: &Options) -> Result<BoxReader> {
        let opts = convert::options_to_plugin(options);
        let conn = &mut self.conn;
        let records = match source {
            Source::Table(t) => convert::call(&self.plugin, "reading a table", || {
                conn.read_table(RStr::from_str(t), opts)
            })?,
            Source::Query(q) => convert::call(&self.plugin, "running a query", || {
                conn.read_query(RStr::from_str(q), opts)
            })?,
        };
        Ok(Box::new(PluginReader::new(
            &self.plugin,
            records,
            Some(Arc::clone(&self.lib)),
        )))
    }

    fn write(&mut self, table: &str, options: &Options) -> Result<BoxWriter> {
        let opts = convert::options_to_plugin(options);
        let conn = &mut self.conn;
        let sink = convert::call(&self.plugin, "opening a table for writing", || {
            conn.write_table(RStr::from_str(table), opts)
        })?;
        Ok(Box::new(PluginWriter {
            plugin: self.plugin.clone(),
            sink: Some(sink),
            batch: RBatch::new(),
            names: None,
            bytes: None,
            written: 0,
            _lib: Some(Arc::clone(&self.lib)),
        }))
    }
}

// ---------------------------------------------------------------------------
// Hooks

/// A plugin hook, loaded on first use.
pub type LazyHook = Lazy<HookInfo>;

impl Hook for LazyHook {
    fn info(&self) -> &HookInfo {
        self.current()
    }

    fn open(&self, run: &RunInfo, options: &Options) -> Result<Box<dyn RunObserver>> {
        let (lib, i) = self.provider()?;
        let name = self.plugin.name();
        let hooks = lib.hooks.as_deref().unwrap_or_default();
        let info = convert::run_info_to_plugin(run);
        let opts = convert::options_to_plugin(options);
        let observer = convert::call(name, "opening the hook", || hooks[i].1.open(&info, opts))?;
        Ok(Box::new(PluginObserver {
            plugin: name.to_owned(),
            observer,
            batch: RBatch::new(),
            _lib: lib,
        }))
    }
}

/// A run, as a plugin hook observes it.
struct PluginObserver {
    plugin: String,
    observer: RunObserverBox,
    /// Reused for every batch.
    batch: RBatch,
    /// Keeps the library's objects alive as long as the observer.
    _lib: Arc<Library>,
}

impl RunObserver for PluginObserver {
    fn batch(&mut self, batch: &Batch) -> Result<()> {
        convert::batch_to_plugin(batch, &mut self.batch);
        let b = &self.batch;
        convert::call(&self.plugin, "observing records", || self.observer.batch(b))
    }

    fn error(&mut self, error: &Error) -> Result<()> {
        let text = error.to_string();
        convert::call(&self.plugin, "observing an error", || {
            self.observer.error(RStr::from_str(&text))
        })
    }

    fn close(&mut self, summary: &RunSummary) -> Result<()> {
        let s = convert::run_summary_to_plugin(summary);
        convert::call(&self.plugin, "closing the hook", || self.observer.close(&s))
    }
}
