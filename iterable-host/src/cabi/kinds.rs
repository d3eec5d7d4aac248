//! The six kinds of a C plugin behind the core's traits.

use std::ffi::CString;
use std::mem::{offset_of, size_of};

use arrow_array::Array;
use arrow_array::cast::AsArray;
use arrow_array::ffi::{FFI_ArrowArray, FFI_ArrowSchema, from_ffi_and_data_type};
use arrow_array::ffi_stream::FFI_ArrowArrayStream;
use arrow_schema::DataType;

use crate::error::PluginErrorExt;
use iterable_core::io::{BoxRead, BoxSink};
use iterable_core::{
    Batch, BoxReader, BoxWriter, Codec, CodecInfo, Connection, Driver, DriverInfo, Engine,
    EngineInfo, Error, ErrorKind, Format, FormatInfo, Hook, HookInfo, Options, Record,
    RecordWriter, Result, Rule, RuleInfo, RunInfo, RunObserver, RunSummary, Source, Value,
};
use iterable_plugin_api::c::{
    self as abi, IDP_FORMAT_WRITE_TEXT, IDP_LEVEL_DEFAULT, IDP_READ_QUERY, IDP_READ_TABLE,
    IdpBatchWriter, IdpByteSink, IdpByteSource, IdpConnection, IdpObserver, IdpRunInfo,
    IdpRunSummary,
};

use super::bytes::{HostSink, HostSource, PluginSink, PluginSource};
use super::stream::{self, BATCH_ROWS, CStream, Lent, StreamReader};
use super::{COptions, Raw, bad_arrow, call, cstring, function, release};

/// A zeroed struct for a plugin to fill: what it leaves out (fields of a
/// later minor, a release it does not set) stays null.
fn zeroed<T>() -> T {
    // SAFETY: used only for the header's structs, whose every field is an
    // integer, a raw pointer or an optional function pointer: all-zero is
    // valid for each.
    unsafe { std::mem::zeroed() }
}

fn schema_ptr(s: &mut FFI_ArrowSchema) -> *mut abi::ArrowSchema {
    (s as *mut FFI_ArrowSchema).cast()
}

fn array_ptr(a: &mut FFI_ArrowArray) -> *mut abi::ArrowArray {
    (a as *mut FFI_ArrowArray).cast()
}

fn stream_ptr(s: &mut FFI_ArrowArrayStream) -> *mut abi::ArrowArrayStream {
    (s as *mut FFI_ArrowArrayStream).cast()
}

// ---------------------------------------------------------------------------
// Formats

/// A C plugin's format.
pub(crate) struct CFormat {
    info: FormatInfo,
    raw: Raw<abi::IdpFormat>,
}

impl CFormat {
    pub fn new(info: FormatInfo, raw: Raw<abi::IdpFormat>) -> Self {
        CFormat { info, raw }
    }

    /// The 1.1 flags, or none for a 1.0 plugin.
    fn flags(&self) -> u32 {
        if abi::has_field(
            self.raw.size,
            offset_of!(abi::IdpFormat, flags),
            size_of::<u32>(),
        ) {
            self.raw.raw.flags
        } else {
            0
        }
    }
}

impl Format for CFormat {
    fn info(&self) -> &FormatInfo {
        &self.info
    }

    fn reader(&self, input: BoxRead, options: &Options) -> Result<BoxReader> {
        self.sized_reader(input, None, options)
    }

    fn sized_reader(
        &self,
        input: BoxRead,
        size: Option<u64>,
        options: &Options,
    ) -> Result<BoxReader> {
        let plugin = &*self.raw.plugin;
        let open = function(
            self.raw.raw.open_reader.filter(|_| self.info.can_read),
            plugin,
            format!("format '{}' cannot read", self.info.id),
        )?;
        let mut lent = Box::new(ReaderLent {
            source: HostSource::new(input, size),
            _options: COptions::new(options),
        });
        let mut out = FFI_ArrowArrayStream::empty();
        call(plugin, "opening a reader", |e| {
            // SAFETY: the plugin's function, with a source and options that
            // stay alive until the stream is released (the stream keeps them).
            unsafe {
                open(
                    self.raw.raw.data,
                    lent.source.as_ptr(),
                    lent._options.as_ptr(),
                    stream_ptr(&mut out),
                    e,
                )
            }
        })
        .map_err(|e| lent.source.take_error().unwrap_or(e))?;
        // SAFETY: the plugin filled `out` as the stream interface says.
        let stream = unsafe { CStream::new(out, plugin, Some(lent)) }?;
        Ok(Box::new(StreamReader::new(stream)?))
    }

    fn writer(&self, output: BoxSink, options: &Options) -> Result<BoxWriter> {
        let plugin = &*self.raw.plugin;
        let open = function(
            self.raw.raw.open_writer.filter(|_| self.info.can_write),
            plugin,
            format!("format '{}' cannot write", self.info.id),
        )?;
        let mut sink = HostSink::new(output);
        let opts = COptions::new(options);
        let mut out: IdpBatchWriter = zeroed();
        call(plugin, "opening a writer", |e| {
            // SAFETY: the plugin's function, with a sink and options that
            // stay alive until the writer is released (the writer keeps them).
            unsafe { open(self.raw.raw.data, sink.as_ptr(), opts.as_ptr(), &mut out, e) }
        })
        .map_err(|e| sink.take_error().unwrap_or(e))?;
        Ok(Box::new(CWriter::new(
            out,
            plugin,
            self.flags() & IDP_FORMAT_WRITE_TEXT != 0,
            Some(sink),
            opts,
        )))
    }
}

/// What a format's reader is lent: its input and its options.
struct ReaderLent {
    source: HostSource,
    _options: Box<COptions>,
}

impl Lent for ReaderLent {
    fn cause(&mut self) -> Option<Error> {
        self.source.take_error()
    }
}

/// A plugin's batch writer as a core record writer: records are gathered
/// into Arrow batches of [`BATCH_ROWS`] rows, one call per batch. Finished
/// by `finish` (a driver commits); dropped unfinished, it is released and
/// the output abandoned (a driver rolls back).
struct CWriter {
    raw: IdpBatchWriter,
    plugin: String,
    /// Every column as text (IDP_FORMAT_WRITE_TEXT).
    text: bool,
    gather: crate::arrow::Gather,
    /// The host's output, for a format's writer.
    sink: Option<HostSink>,
    _options: Box<COptions>,
}

// SAFETY: the plugin's writer is used from one thread at a time.
unsafe impl Send for CWriter {}

impl CWriter {
    fn new(
        raw: IdpBatchWriter,
        plugin: &str,
        text: bool,
        sink: Option<HostSink>,
        options: Box<COptions>,
    ) -> CWriter {
        CWriter {
            raw,
            plugin: plugin.to_owned(),
            text,
            gather: crate::arrow::Gather::new(BATCH_ROWS),
            sink,
            _options: options,
        }
    }

    fn flush(&mut self) -> Result<()> {
        match self.gather.take() {
            Some((names, rows)) => self.send(&names, &rows),
            None => Ok(()),
        }
    }

    fn send(&mut self, names: &[String], rows: &[Vec<Value>]) -> Result<()> {
        let (mut schema, mut array) = stream::export_batch(names, rows, self.text)
            .map_err(|e| e.with_plugin(&self.plugin))?;
        let write = function(
            self.raw.write,
            &self.plugin,
            "the writer has no write function",
        )?;
        let raw = &mut self.raw;
        let result = call(&self.plugin, "writing records", |e| {
            // SAFETY: the plugin's writer; the schema and array are its to
            // release or move; what it leaves is released when they drop.
            unsafe { write(raw, schema_ptr(&mut schema), array_ptr(&mut array), e) }
        });
        drop((schema, array));
        result.map_err(|e| {
            self.sink
                .as_mut()
                .and_then(HostSink::take_error)
                .unwrap_or(e)
        })
    }
}

impl RecordWriter for CWriter {
    fn write_record(&mut self, record: &Record) -> Result<()> {
        for (names, rows) in self
            .gather
            .add(record.field_names(), [record.values().to_vec()])
        {
            self.send(&names, &rows)?;
        }
        Ok(())
    }

    fn write_batch(&mut self, batch: &Batch) -> Result<()> {
        // A whole batch goes as it is, after what was gathered before it.
        self.flush()?;
        if batch.is_empty() {
            return Ok(());
        }
        self.send(batch.names(), batch.rows())
    }

    fn finish(mut self: Box<Self>) -> Result<()> {
        self.flush()?;
        if let Some(finish) = self.raw.finish {
            let raw = &mut self.raw;
            call(&self.plugin, "finishing the output", |e| {
                // SAFETY: the plugin's writer.
                unsafe { finish(raw, e) }
            })
            .map_err(|e| {
                self.sink
                    .as_mut()
                    .and_then(HostSink::take_error)
                    .unwrap_or(e)
            })?;
        }
        // The plugin is done with the output: release it, then complete
        // the host's side.
        release(&mut self.raw);
        match self.sink.take() {
            Some(s) => s.finish(),
            None => Ok(()),
        }
    }
}

impl Drop for CWriter {
    fn drop(&mut self) {
        release(&mut self.raw);
        // Then the host's output, unfinished: abandoned.
        self.sink.take();
    }
}

// ---------------------------------------------------------------------------
// Codecs

/// A C plugin's codec.
pub(crate) struct CCodec {
    info: CodecInfo,
    raw: Raw<abi::IdpCodec>,
}

impl CCodec {
    pub fn new(info: CodecInfo, raw: Raw<abi::IdpCodec>) -> Self {
        CCodec { info, raw }
    }
}

impl Codec for CCodec {
    fn info(&self) -> &CodecInfo {
        &self.info
    }

    fn decoder(&self, input: BoxRead) -> Result<BoxRead> {
        self.sized_decoder(input, None)
    }

    fn sized_decoder(&self, input: BoxRead, size: Option<u64>) -> Result<BoxRead> {
        let plugin = &*self.raw.plugin;
        let decoder = function(self.raw.raw.decoder, plugin, "this codec cannot decode")?;
        let mut source = HostSource::new(input, size);
        let mut out: IdpByteSource = zeroed();
        call(plugin, "starting to decode", |e| {
            // SAFETY: the plugin's function; the source outlives `out`.
            unsafe { decoder(self.raw.raw.data, source.as_ptr(), &mut out, e) }
        })
        .map_err(|e| source.take_error().unwrap_or(e))?;
        // SAFETY: the plugin filled `out` as the header says.
        Ok(Box::new(unsafe { PluginSource::new(out, plugin, source) }))
    }

    fn encoder(&self, output: BoxSink, level: Option<i32>) -> Result<BoxSink> {
        let plugin = &*self.raw.plugin;
        let encoder = function(self.raw.raw.encoder, plugin, "this codec cannot encode")?;
        let mut sink = HostSink::new(output);
        let mut out: IdpByteSink = zeroed();
        call(plugin, "starting to encode", |e| {
            // SAFETY: the plugin's function; the sink outlives `out`.
            unsafe {
                encoder(
                    self.raw.raw.data,
                    sink.as_ptr(),
                    level.unwrap_or(IDP_LEVEL_DEFAULT),
                    &mut out,
                    e,
                )
            }
        })
        .map_err(|e| sink.take_error().unwrap_or(e))?;
        // SAFETY: the plugin filled `out` as the header says.
        Ok(Box::new(unsafe { PluginSink::new(out, plugin, sink) }))
    }
}

// ---------------------------------------------------------------------------
// Drivers

/// A C plugin's driver.
pub(crate) struct CDriver {
    info: DriverInfo,
    raw: Raw<abi::IdpDriver>,
}

impl CDriver {
    pub fn new(info: DriverInfo, raw: Raw<abi::IdpDriver>) -> Self {
        CDriver { info, raw }
    }
}

impl Driver for CDriver {
    fn info(&self) -> &DriverInfo {
        &self.info
    }

    fn connect(&self, uri: &str, options: &Options) -> Result<Box<dyn Connection>> {
        let plugin = &*self.raw.plugin;
        let connect = function(self.raw.raw.connect, plugin, "the driver cannot connect")?;
        let uri = cstring(uri);
        let opts = COptions::new(options);
        let mut out: IdpConnection = zeroed();
        call(plugin, "connecting", |e| {
            // SAFETY: the plugin's function.
            unsafe { connect(self.raw.raw.data, uri.as_ptr(), opts.as_ptr(), &mut out, e) }
        })?;
        Ok(Box::new(CConnection {
            raw: out,
            plugin: plugin.to_owned(),
        }))
    }
}

struct CConnection {
    raw: IdpConnection,
    plugin: String,
}

// SAFETY: the plugin's connection is used from one thread at a time.
unsafe impl Send for CConnection {}

/// What a driver's stream is lent: its options.
struct OptionsLent(#[allow(dead_code)] Box<COptions>);

impl Lent for OptionsLent {}

impl Connection for CConnection {
    fn list_tables(&mut self) -> Result<Vec<String>> {
        let list = function(
            self.raw.list_tables,
            &self.plugin,
            "the driver cannot list tables",
        )?;
        let mut out = FFI_ArrowArrayStream::empty();
        let raw = &mut self.raw;
        call(&self.plugin, "listing tables", |e| {
            // SAFETY: the plugin's connection.
            unsafe { list(raw, stream_ptr(&mut out), e) }
        })?;
        // SAFETY: the plugin filled `out`.
        stream::strings(unsafe { CStream::new(out, &self.plugin, None) }?)
    }

    fn read(&mut self, source: &Source, options: &Options) -> Result<BoxReader> {
        let read = function(self.raw.read, &self.plugin, "the driver cannot read")?;
        let (what, text, doing) = match source {
            Source::Table(t) => (IDP_READ_TABLE, t, "reading a table"),
            Source::Query(q) => (IDP_READ_QUERY, q, "running a query"),
        };
        let text = cstring(text);
        let opts = COptions::new(options);
        let mut out = FFI_ArrowArrayStream::empty();
        let raw = &mut self.raw;
        call(&self.plugin, doing, |e| {
            // SAFETY: the plugin's connection.
            unsafe {
                read(
                    raw,
                    what,
                    text.as_ptr(),
                    opts.as_ptr(),
                    stream_ptr(&mut out),
                    e,
                )
            }
        })?;
        // SAFETY: the plugin filled `out`.
        let stream = unsafe { CStream::new(out, &self.plugin, Some(Box::new(OptionsLent(opts)))) }?;
        Ok(Box::new(StreamReader::new(stream)?))
    }

    fn write(&mut self, table: &str, options: &Options) -> Result<BoxWriter> {
        let write = function(self.raw.write, &self.plugin, "the driver cannot write")?;
        let table = cstring(table);
        let opts = COptions::new(options);
        let mut out: IdpBatchWriter = zeroed();
        let raw = &mut self.raw;
        call(&self.plugin, "opening a table for writing", |e| {
            // SAFETY: the plugin's connection.
            unsafe { write(raw, table.as_ptr(), opts.as_ptr(), &mut out, e) }
        })?;
        Ok(Box::new(CWriter::new(out, &self.plugin, false, None, opts)))
    }
}

impl Drop for CConnection {
    fn drop(&mut self) {
        release(&mut self.raw);
    }
}

// ---------------------------------------------------------------------------
// Rules

/// A C plugin's rule.
pub(crate) struct CRule {
    info: RuleInfo,
    raw: Raw<abi::IdpRule>,
}

impl CRule {
    pub fn new(info: RuleInfo, raw: Raw<abi::IdpRule>) -> Self {
        CRule { info, raw }
    }
}

impl Rule for CRule {
    fn info(&self) -> &RuleInfo {
        &self.info
    }

    fn check(&self, value: &Value) -> std::result::Result<(), String> {
        iterable_core::check_as_batch(self, value)
    }

    fn check_batch(&self, values: &[&Value], out: &mut Vec<Option<String>>) -> Result<()> {
        let plugin = &*self.raw.plugin;
        let check = function(self.raw.raw.check, plugin, "the rule has no check function")?;
        let array = crate::arrow::array_of(values, false)
            .map_err(|e| Error::new(ErrorKind::Other, format!("values to Arrow: {e}")))?;
        let data = array.into_data();
        let mut schema = FFI_ArrowSchema::try_from(data.data_type())
            .map_err(|e| Error::new(ErrorKind::Other, format!("values to Arrow: {e}")))?;
        let mut array = FFI_ArrowArray::new(&data);
        let mut verdicts = FFI_ArrowArray::empty();
        let result = call(plugin, "checking values", |e| {
            // SAFETY: the plugin's function; the schema and array are its to
            // release or move; what it leaves is released when they drop.
            unsafe {
                check(
                    self.raw.raw.data,
                    schema_ptr(&mut schema),
                    array_ptr(&mut array),
                    array_ptr(&mut verdicts),
                    e,
                )
            }
        });
        drop((schema, array));
        result?;
        let bad = |e: &dyn std::fmt::Display| bad_arrow(plugin, "reading a rule's verdicts", e);
        if verdicts.is_released() {
            return Err(bad(&"no verdicts were returned"));
        }
        // SAFETY: the plugin filled `verdicts`; it is validated before use.
        let data =
            unsafe { from_ffi_and_data_type(verdicts, DataType::Utf8) }.map_err(|e| bad(&e))?;
        data.validate_full().map_err(|e| bad(&e))?;
        if data.len() != values.len() {
            return Err(bad(&format!(
                "{} verdicts for {} values",
                data.len(),
                values.len()
            )));
        }
        let strings = arrow_array::make_array(data);
        let strings = strings.as_string::<i32>();
        out.clear();
        out.extend(
            (0..strings.len()).map(|i| (!strings.is_null(i)).then(|| strings.value(i).to_owned())),
        );
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Engines

/// A C plugin's engine.
pub(crate) struct CEngine {
    info: EngineInfo,
    raw: Raw<abi::IdpEngine>,
}

impl CEngine {
    pub fn new(info: EngineInfo, raw: Raw<abi::IdpEngine>) -> Self {
        CEngine { info, raw }
    }
}

/// What an engine's result is lent: its input streams (each the engine's
/// to release; those it leaves are released after the result), their
/// names, and the options.
struct EngineLent {
    inputs: Vec<FFI_ArrowArrayStream>,
    _names: Vec<std::ffi::CString>,
    _name_ptrs: Vec<*const std::ffi::c_char>,
    _options: Box<COptions>,
}

// SAFETY: the pointers point into `_names`, owned here; the streams are Send.
unsafe impl Send for EngineLent {}

impl Lent for EngineLent {}

impl Drop for EngineLent {
    fn drop(&mut self) {
        // Inputs the engine neither released nor moved are released here
        // (each FFI_ArrowArrayStream releases itself once when dropped).
        self.inputs.clear();
    }
}

impl Engine for CEngine {
    fn info(&self) -> &EngineInfo {
        &self.info
    }

    fn execute(
        &self,
        query: &str,
        inputs: Vec<(String, BoxReader)>,
        options: &Options,
    ) -> Result<BoxReader> {
        let plugin = &*self.raw.plugin;
        let execute = function(
            self.raw.raw.execute,
            plugin,
            "the engine cannot run queries",
        )?;
        let names: Vec<std::ffi::CString> = inputs.iter().map(|(n, _)| cstring(n)).collect();
        let name_ptrs: Vec<*const std::ffi::c_char> = names.iter().map(|n| n.as_ptr()).collect();
        let streams: Vec<FFI_ArrowArrayStream> = inputs
            .into_iter()
            .map(|(_, r)| stream::export_reader(r))
            .collect();
        let mut lent = Box::new(EngineLent {
            inputs: streams,
            _names: names,
            _name_ptrs: name_ptrs,
            _options: COptions::new(options),
        });
        let query = cstring(query);
        let mut out = FFI_ArrowArrayStream::empty();
        let n = lent.inputs.len();
        let inputs_ptr = if n == 0 {
            std::ptr::null_mut()
        } else {
            lent.inputs.as_mut_ptr().cast::<abi::ArrowArrayStream>()
        };
        let names_ptr = lent._name_ptrs.as_ptr();
        let opts = lent._options.as_ptr();
        call(plugin, "running a query", |e| {
            // SAFETY: the plugin's function; the inputs, names and options
            // stay alive until the result stream is released.
            unsafe {
                execute(
                    self.raw.raw.data,
                    query.as_ptr(),
                    n,
                    names_ptr,
                    inputs_ptr,
                    opts,
                    stream_ptr(&mut out),
                    e,
                )
            }
        })?;
        // SAFETY: the plugin filled `out`.
        let stream = unsafe { CStream::new(out, plugin, Some(lent)) }?;
        Ok(Box::new(StreamReader::new(stream)?))
    }
}

// ---------------------------------------------------------------------------
// Hooks

/// A C plugin's hook.
pub(crate) struct CHook {
    info: HookInfo,
    raw: Raw<abi::IdpHook>,
}

impl CHook {
    pub fn new(info: HookInfo, raw: Raw<abi::IdpHook>) -> Self {
        CHook { info, raw }
    }
}

impl Hook for CHook {
    fn info(&self) -> &HookInfo {
        &self.info
    }

    fn open(&self, run: &RunInfo, options: &Options) -> Result<Box<dyn RunObserver>> {
        let plugin = &*self.raw.plugin;
        let open = function(self.raw.raw.open, plugin, "the hook cannot open")?;
        // Lent to the observer: the run info and the options stay valid (at
        // these addresses) until the observer is released.
        let lent = LentRun::new(run, options);
        let mut out: IdpObserver = zeroed();
        call(plugin, "opening the hook", |e| {
            // SAFETY: the plugin's function; the run info and options live in
            // `lent`, which the observer keeps until after its release.
            unsafe {
                open(
                    self.raw.raw.data,
                    &lent.info,
                    lent.options.as_ptr(),
                    &mut out,
                    e,
                )
            }
        })?;
        Ok(Box::new(CObserver {
            raw: out,
            plugin: plugin.to_owned(),
            _lent: lent,
        }))
    }
}

/// What a hook's `open` is lent: the run info (pointing into the strings
/// kept beside it) and the options, boxed so that they never move.
struct LentRun {
    info: IdpRunInfo,
    options: Box<COptions>,
    _strings: [CString; 3],
    _target: Option<CString>,
}

impl LentRun {
    fn new(run: &RunInfo, options: &Options) -> Box<LentRun> {
        let strings = [
            cstring(&run.command),
            cstring(&run.source),
            cstring(&run.format),
        ];
        let target = run.target.as_deref().map(cstring);
        // A CString's bytes live on the heap: moving the CString (into the
        // box below) does not move them.
        let info = IdpRunInfo {
            struct_size: size_of::<IdpRunInfo>() as u32,
            command: strings[0].as_ptr(),
            source: strings[1].as_ptr(),
            target: target.as_ref().map_or(std::ptr::null(), |t| t.as_ptr()),
            format: strings[2].as_ptr(),
        };
        Box::new(LentRun {
            info,
            options: COptions::new(options),
            _strings: strings,
            _target: target,
        })
    }
}

// SAFETY: the raw pointers point into the strings the struct owns.
unsafe impl Send for LentRun {}

/// A C plugin's observer. Its fields drop after `Drop::drop` has released
/// the observer, so what it was lent outlives it.
struct CObserver {
    raw: IdpObserver,
    plugin: String,
    _lent: Box<LentRun>,
}

// SAFETY: the plugin's observer is used from one thread at a time.
unsafe impl Send for CObserver {}

impl RunObserver for CObserver {
    fn batch(&mut self, batch: &Batch) -> Result<()> {
        let Some(f) = self.raw.batch else {
            return Ok(());
        };
        let (mut schema, mut array) = stream::export_batch(batch.names(), batch.rows(), false)?;
        let raw = &mut self.raw;
        let result = call(&self.plugin, "observing records", |e| {
            // SAFETY: the plugin's observer; the batch is its to release or
            // move; what it leaves is released when it drops.
            unsafe { f(raw, schema_ptr(&mut schema), array_ptr(&mut array), e) }
        });
        drop((schema, array));
        result.map_err(|e| {
            if e.kind() == ErrorKind::Other {
                Error::new(ErrorKind::Hook, e.message().to_owned()).with_plugin(&self.plugin)
            } else {
                e
            }
        })
    }

    fn error(&mut self, error: &Error) -> Result<()> {
        let Some(f) = self.raw.failed else {
            return Ok(());
        };
        let text = cstring(&error.to_string());
        let raw = &mut self.raw;
        call(&self.plugin, "observing an error", |e| {
            // SAFETY: the plugin's observer.
            unsafe { f(raw, text.as_ptr(), e) }
        })
    }

    fn close(&mut self, summary: &RunSummary) -> Result<()> {
        let Some(f) = self.raw.close else {
            return Ok(());
        };
        let s = IdpRunSummary {
            struct_size: size_of::<IdpRunSummary>() as u32,
            records: summary.records,
            bytes_read: summary.bytes_read,
            ok: i32::from(summary.ok),
        };
        let raw = &mut self.raw;
        call(&self.plugin, "closing the hook", |e| {
            // SAFETY: the plugin's observer.
            unsafe { f(raw, &s, e) }
        })
    }
}

impl Drop for CObserver {
    fn drop(&mut self) {
        release(&mut self.raw);
    }
}
