//! The author level: small Rust-native traits a plugin implements, and the
//! adapters that expose them through the wire-level objects.
//!
//! An author implements one or more of [`Format`], [`Codec`], [`Driver`]
//! (+ [`Connection`]), [`Rule`], [`Engine`], and lists them in
//! [`crate::export_plugin!`]. Everything optional has a default. Authors
//! never see `RVec`/`RResult`; they read bytes from an [`Input`]
//! (`BufRead`), write to an [`Output`] (`Write`), push cells into a
//! [`BatchBuilder`] and read rows from a [`RowView`].
//!
//! Every adapter method runs inside a panic guard: a panic becomes an error
//! of kind [`RErrorKind::PANIC`] whose message is
//! `"panicked: <message> at <file>:<line>"`, and a reader, writer or
//! connection that panicked is poisoned (every later call fails with PANIC).

use std::fmt;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard};

use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{
    RErr, RNone, ROk, ROption, RResult, RSlice, RSliceMut, RSome, RStr, RString, RVec, Tuple2,
};

use crate::abi::{
    ByteSink, ByteSinkBox, ByteSource, ByteSourceBox, CodecInfo, CodecProvider, CodecProvider_TO,
    CodecProviderBox, Connection as AbiConnection, Connection_TO, ConnectionBox, DriverInfo,
    DriverProvider, DriverProvider_TO, DriverProviderBox, EngineInfo, EngineProvider,
    EngineProvider_TO, EngineProviderBox, FormatInfo, FormatProvider, FormatProvider_TO,
    FormatProviderBox, OptionSpec, ROptions, RecordSink, RecordSinkBox, RecordSource,
    RecordSourceBox, RuleInfo, RuleProvider, RuleProvider_TO, RuleProviderBox,
};
use crate::batch::{BatchBuilder, BatchView, CellRef, DEFAULT_BATCH_ROWS, RBatch, RowView};
use crate::error::{Error, RError, RErrorKind, Result};
use crate::host::SourceReader;
use crate::panic_guard::{Poison, catch, drop_guarded, guard};

// ---------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------

/// Options given to a provider, as ordered key/value pairs.
///
/// For formats, the adapter has already rejected unknown keys and values
/// outside declared choices, and filled in declared defaults, so
/// `options.get("delimiter")` returns the default when the user gave none.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options(Vec<(String, String)>);

impl Options {
    /// No options.
    pub fn new() -> Self {
        Self::default()
    }
    /// Options from pairs (order kept).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
    pub(crate) fn from_roptions(options: &ROptions) -> Self {
        Self(
            options
                .iter()
                .map(|p| (p.0.to_string(), p.1.to_string()))
                .collect(),
        )
    }
    /// Sets `key` (replacing an earlier value).
    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) {
        let key = key.into();
        let value = value.into();
        self.0.retain(|(k, _)| *k != key);
        self.0.push((key, value));
    }
    /// The value of `key` (the last one if given twice).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
    /// Whether `key` was given.
    pub fn contains(&self, key: &str) -> bool {
        self.get(key).is_some()
    }
    /// The value of `key`, or `default`.
    pub fn get_or<'a>(&'a self, key: &str, default: &'a str) -> &'a str {
        self.get(key).unwrap_or(default)
    }
    /// A single character (`","`), an escape (`"\t"`, `"\n"`, `"\r"`, `"\0"`, `"\\"`)
    /// or a name (`tab`, `space`, `comma`, `semicolon`, `pipe`); `default` if absent.
    pub fn get_char(&self, key: &str, default: char) -> Result<char> {
        let Some(v) = self.get(key) else {
            return Ok(default);
        };
        let named = match v {
            "\\t" | "tab" => Some('\t'),
            "\\n" => Some('\n'),
            "\\r" => Some('\r'),
            "\\0" => Some('\0'),
            "\\\\" => Some('\\'),
            "space" => Some(' '),
            "comma" => Some(','),
            "semicolon" => Some(';'),
            "pipe" => Some('|'),
            _ => None,
        };
        if let Some(c) = named {
            return Ok(c);
        }
        let mut chars = v.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => Ok(c),
            _ => Err(Error::invalid_option(
                key,
                format!(
                    "expected a single character (or \\t, tab, space, comma, semicolon, pipe), got `{v}`"
                ),
            )),
        }
    }
    /// A boolean: `true/false`, `yes/no`, `on/off`, `1/0` (any case); `default` if absent.
    pub fn get_bool(&self, key: &str, default: bool) -> Result<bool> {
        let Some(v) = self.get(key) else {
            return Ok(default);
        };
        match v.to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" | "1" => Ok(true),
            "false" | "no" | "off" | "0" => Ok(false),
            _ => Err(Error::invalid_option(
                key,
                format!("expected true/false, yes/no, on/off or 1/0, got `{v}`"),
            )),
        }
    }
    /// Parses the value with `FromStr`; `Ok(None)` if absent.
    pub fn get_parse<T>(&self, key: &str) -> Result<Option<T>>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|e| Error::invalid_option(key, format!("invalid value `{v}`: {e}"))),
        }
    }
    /// One of `choices`; `default` if absent; an error listing the choices otherwise.
    pub fn get_choice<'a>(
        &'a self,
        key: &str,
        choices: &[&'a str],
        default: &'a str,
    ) -> Result<&'a str> {
        let Some(v) = self.get(key) else {
            return Ok(default);
        };
        match choices.iter().find(|c| **c == v) {
            Some(c) => Ok(c),
            None => Err(Error::invalid_option(
                key,
                format!(
                    "invalid value `{v}` (choose one of: {})",
                    choices.join(", ")
                ),
            )),
        }
    }
    /// The pairs, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
    /// The number of pairs.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// Whether there are no options.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

// ---------------------------------------------------------------------------
// Specs (author-side descriptions)
// ---------------------------------------------------------------------------

fn rstrings<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> RVec<RString> {
    items
        .into_iter()
        .map(|s| RString::from(s.as_ref()))
        .collect()
}

fn rextra(extra: Vec<(String, String)>) -> crate::abi::RExtra {
    extra
        .into_iter()
        .map(|(k, v)| Tuple2(RString::from(k), RString::from(v)))
        .collect()
}

/// Describes a [`Format`]:
/// `FormatSpec::new("ltsv").description("..").extensions(["ltsv"]).option("x", "..")`.
///
/// By default a format is read-only ([`read_write`](Self::read_write),
/// [`write_only`](Self::write_only) change that) and options are strict:
/// keys not declared with `option*` are rejected with `INVALID_OPTION`
/// ([`lenient_options`](Self::lenient_options) turns that off).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormatSpec {
    id: String,
    description: String,
    extensions: Vec<String>,
    magic: Vec<Vec<u8>>,
    can_read: bool,
    can_write: bool,
    options: Vec<OptionSpec>,
    lenient: bool,
    extra: Vec<(String, String)>,
}

impl FormatSpec {
    /// A readable format with id `id`.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            description: String::new(),
            extensions: Vec::new(),
            magic: Vec::new(),
            can_read: true,
            can_write: false,
            options: Vec::new(),
            lenient: false,
            extra: Vec::new(),
        }
    }
    /// One line of description.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = text.into();
        self
    }
    /// File extensions without the dot.
    pub fn extensions<S: AsRef<str>>(mut self, exts: impl IntoIterator<Item = S>) -> Self {
        self.extensions.extend(
            exts.into_iter()
                .map(|s| s.as_ref().trim_start_matches('.').to_string()),
        );
        self
    }
    /// A byte prefix files of this format start with (may be called repeatedly).
    pub fn magic(mut self, prefix: impl AsRef<[u8]>) -> Self {
        self.magic.push(prefix.as_ref().to_vec());
        self
    }
    /// Declares a free-text option without default.
    pub fn option(self, name: &str, description: &str) -> Self {
        self.push_option(name, description, &[], None)
    }
    /// Declares a free-text option with a default (filled in when not given).
    pub fn option_default(self, name: &str, description: &str, default: &str) -> Self {
        self.push_option(name, description, &[], Some(default))
    }
    /// Declares an option restricted to `choices`, with a default.
    pub fn option_choices(
        self,
        name: &str,
        description: &str,
        choices: &[&str],
        default: &str,
    ) -> Self {
        self.push_option(name, description, choices, Some(default))
    }
    fn push_option(
        mut self,
        name: &str,
        description: &str,
        choices: &[&str],
        default: Option<&str>,
    ) -> Self {
        self.options.retain(|o| o.name.as_str() != name);
        self.options.push(OptionSpec {
            name: name.into(),
            description: description.into(),
            choices: rstrings(choices),
            default: default.map(RString::from).into(),
        });
        self
    }
    /// The format can be read and written.
    pub fn read_write(mut self) -> Self {
        self.can_read = true;
        self.can_write = true;
        self
    }
    /// The format can only be written.
    pub fn write_only(mut self) -> Self {
        self.can_read = false;
        self.can_write = true;
        self
    }
    /// Accept any option key (undeclared keys are passed through unchecked).
    pub fn lenient_options(mut self) -> Self {
        self.lenient = true;
        self
    }
    /// An extra key for descriptions added after 1.0.
    pub fn extra(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra.push((key.into(), value.into()));
        self
    }
    /// The wire-level description.
    pub fn into_info(self) -> FormatInfo {
        FormatInfo {
            id: self.id.into(),
            description: self.description.into(),
            extensions: rstrings(&self.extensions),
            magic: self.magic.into_iter().map(RVec::from).collect(),
            can_read: self.can_read,
            can_write: self.can_write,
            options: self.options.into_iter().collect(),
            extra: rextra(self.extra),
        }
    }
}

/// Describes a [`Codec`]: `CodecSpec::new("zstd").extensions(["zst"]).magic(..).levels(1, 22, 3)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodecSpec {
    id: String,
    description: String,
    extensions: Vec<String>,
    magic: Vec<Vec<u8>>,
    levels: (i32, i32, i32),
    extra: Vec<(String, String)>,
}

impl CodecSpec {
    /// A codec with id `id` (levels default to 0..=0, default 0).
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            description: String::new(),
            extensions: Vec::new(),
            magic: Vec::new(),
            levels: (0, 0, 0),
            extra: Vec::new(),
        }
    }
    /// One line of description.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = text.into();
        self
    }
    /// File extensions without the dot.
    pub fn extensions<S: AsRef<str>>(mut self, exts: impl IntoIterator<Item = S>) -> Self {
        self.extensions.extend(
            exts.into_iter()
                .map(|s| s.as_ref().trim_start_matches('.').to_string()),
        );
        self
    }
    /// A byte prefix of compressed streams (may be called repeatedly).
    pub fn magic(mut self, prefix: impl AsRef<[u8]>) -> Self {
        self.magic.push(prefix.as_ref().to_vec());
        self
    }
    /// The accepted compression levels and the default.
    pub fn levels(mut self, min: i32, max: i32, default: i32) -> Self {
        self.levels = (min, max, default);
        self
    }
    /// An extra key for descriptions added after 1.0.
    pub fn extra(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra.push((key.into(), value.into()));
        self
    }
    /// The wire-level description.
    pub fn into_info(self) -> CodecInfo {
        CodecInfo {
            id: self.id.into(),
            description: self.description.into(),
            extensions: rstrings(&self.extensions),
            magic: self.magic.into_iter().map(RVec::from).collect(),
            level_min: self.levels.0,
            level_max: self.levels.1,
            level_default: self.levels.2,
            extra: rextra(self.extra),
        }
    }
}

/// Describes a [`Driver`]: `DriverSpec::new("sqlite").schemes(["sqlite"])`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DriverSpec {
    id: String,
    description: String,
    schemes: Vec<String>,
    extra: Vec<(String, String)>,
}

impl DriverSpec {
    /// A driver with id `id`.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            description: String::new(),
            schemes: Vec::new(),
            extra: Vec::new(),
        }
    }
    /// One line of description.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = text.into();
        self
    }
    /// URI schemes handled (without `://`).
    pub fn schemes<S: AsRef<str>>(mut self, schemes: impl IntoIterator<Item = S>) -> Self {
        self.schemes
            .extend(schemes.into_iter().map(|s| s.as_ref().to_string()));
        self
    }
    /// An extra key for descriptions added after 1.0.
    pub fn extra(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra.push((key.into(), value.into()));
        self
    }
    /// The wire-level description.
    pub fn into_info(self) -> DriverInfo {
        DriverInfo {
            id: self.id.into(),
            description: self.description.into(),
            schemes: rstrings(&self.schemes),
            extra: rextra(self.extra),
        }
    }
}

/// Describes a [`Rule`]: `RuleSpec::new("common.email").description("..")`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleSpec {
    name: String,
    description: String,
    extra: Vec<(String, String)>,
}

impl RuleSpec {
    /// A rule named `name`.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            description: String::new(),
            extra: Vec::new(),
        }
    }
    /// One line of description.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = text.into();
        self
    }
    /// An extra key for descriptions added after 1.0.
    pub fn extra(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra.push((key.into(), value.into()));
        self
    }
    /// The wire-level description.
    pub fn into_info(self) -> RuleInfo {
        RuleInfo {
            name: self.name.into(),
            description: self.description.into(),
            extra: rextra(self.extra),
        }
    }
}

/// Describes an [`Engine`]: `EngineSpec::new("sql").description("..")`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineSpec {
    id: String,
    description: String,
    extra: Vec<(String, String)>,
}

impl EngineSpec {
    /// An engine with id `id`.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            description: String::new(),
            extra: Vec::new(),
        }
    }
    /// One line of description.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = text.into();
        self
    }
    /// An extra key for descriptions added after 1.0.
    pub fn extra(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra.push((key.into(), value.into()));
        self
    }
    /// The wire-level description.
    pub fn into_info(self) -> EngineInfo {
        EngineInfo {
            id: self.id.into(),
            description: self.description.into(),
            extra: rextra(self.extra),
        }
    }
}

// ---------------------------------------------------------------------------
// Input / Output / Encoder
// ---------------------------------------------------------------------------

/// The bytes a format or codec reads: `Read + BufRead` over the host's
/// [`ByteSource`], buffered on the plugin side ([`Input::BUFFER_SIZE`]).
/// Errors from the host arrive as `io::Error`s that convert back into
/// [`Error`] with their kind intact (`?` does it).
pub struct Input {
    inner: BufReader<SourceReader>,
}

impl Input {
    /// The plugin-side buffer size: 64 KiB.
    pub const BUFFER_SIZE: usize = 64 * 1024;

    /// Wraps a host byte source.
    pub fn new(source: ByteSourceBox) -> Self {
        Self {
            inner: BufReader::with_capacity(Self::BUFFER_SIZE, SourceReader::new(source)),
        }
    }
    /// An `Input` over any reader (handy in tests).
    pub fn from_reader<R: Read + Send + 'static>(reader: R) -> Self {
        Self::new(ByteSourceBox::from_reader(reader))
    }

    /// A reader for line-oriented formats: calls `parse(line, row)` for each
    /// line (without `\n` / `\r\n`, UTF-8 BOM removed from the first line).
    /// A line for which `parse` pushes nothing is skipped; errors get the
    /// 1-based line number unless they already have one; a line that is not
    /// UTF-8 is an `ENCODING` error.
    ///
    /// ```
    /// # use iterable_plugin_api::prelude::*;
    /// # fn f(input: Input) -> Box<dyn RowReader> {
    /// input.line_reader(|line, row| {
    ///     for cell in line.split(',') {
    ///         row.push_str(cell);
    ///     }
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn line_reader<F>(self, parse: F) -> Box<dyn RowReader>
    where
        F: FnMut(&str, &mut BatchBuilder<'_>) -> Result<()> + Send + 'static,
    {
        Box::new(LineReader {
            input: self,
            parse,
            buf: Vec::new(),
            line: 0,
        })
    }
}

struct LineReader<F> {
    input: Input,
    parse: F,
    buf: Vec<u8>,
    line: u64,
}

impl<F> RowReader for LineReader<F>
where
    F: FnMut(&str, &mut BatchBuilder<'_>) -> Result<()> + Send,
{
    fn read_row(&mut self, row: &mut BatchBuilder<'_>) -> Result<bool> {
        self.buf.clear();
        if self.input.read_until(b'\n', &mut self.buf)? == 0 {
            return Ok(false);
        }
        self.line += 1;
        let line = self.line;
        let mut bytes = self.buf.as_slice();
        if let Some(rest) = bytes.strip_suffix(b"\n") {
            bytes = rest.strip_suffix(b"\r").unwrap_or(rest);
        }
        if line == 1 {
            bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
        }
        let text = std::str::from_utf8(bytes)
            .map_err(|e| Error::encoding(format!("invalid UTF-8: {e}")).with_line(line))?;
        (self.parse)(text, row).map_err(|e| match e.line {
            Some(_) => e,
            None => e.with_line(line),
        })?;
        Ok(true)
    }
}

impl Read for Input {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf)
    }
}

impl BufRead for Input {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }
    fn consume(&mut self, amt: usize) {
        self.inner.consume(amt)
    }
}

struct SinkState {
    sink: ByteSinkBox,
    error: Option<RError>,
    finished: bool,
}

fn lock(state: &Mutex<SinkState>) -> MutexGuard<'_, SinkState> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

struct SharedSink(Arc<Mutex<SinkState>>);

impl Write for SharedSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut st = lock(&self.0);
        if st.finished {
            return Err(RError::invalid_input("write after finish").into());
        }
        match st.sink.write(RSlice::from_slice(buf)) {
            ROk(()) => Ok(buf.len()),
            RErr(e) => {
                st.error.get_or_insert_with(|| e.clone());
                Err(e.into())
            }
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        let mut st = lock(&self.0);
        if st.finished {
            return Ok(());
        }
        match st.sink.flush() {
            ROk(()) => Ok(()),
            RErr(e) => {
                st.error.get_or_insert_with(|| e.clone());
                Err(e.into())
            }
        }
    }
}

/// The bytes a format writer or codec encoder writes: `Write` over the
/// host's [`ByteSink`], buffered on the plugin side (64 KiB).
///
/// You never finish it yourself: after your writer's `finish` returns, the
/// adapter drops your writer (which drops and flushes the `Output`), then
/// finishes the host sink. A write error that happened while flushing on
/// drop is still reported. Do not keep the `Output` alive elsewhere.
pub struct Output {
    inner: BufWriter<SharedSink>,
}

pub(crate) struct OutputHandle(Arc<Mutex<SinkState>>);

impl Output {
    /// The plugin-side buffer size: 64 KiB.
    pub const BUFFER_SIZE: usize = 64 * 1024;

    pub(crate) fn new(sink: ByteSinkBox) -> (Self, OutputHandle) {
        let state = Arc::new(Mutex::new(SinkState {
            sink,
            error: None,
            finished: false,
        }));
        let out = Output {
            inner: BufWriter::with_capacity(Self::BUFFER_SIZE, SharedSink(state.clone())),
        };
        (out, OutputHandle(state))
    }
}

impl Output {
    /// A writer from a closure called once per row (state can live in the
    /// closure). The adapter flushes and finishes the output afterwards.
    ///
    /// ```
    /// # use iterable_plugin_api::prelude::*;
    /// # fn f(output: Output) -> Box<dyn RowWriter> {
    /// output.row_writer(|out, row| {
    ///     let cells: Vec<String> = row.iter().map(|(_, v)| v.to_string()).collect();
    ///     Ok(writeln!(out, "{}", cells.join(","))?)
    /// })
    /// # }
    /// ```
    pub fn row_writer<F>(self, write: F) -> Box<dyn RowWriter>
    where
        F: FnMut(&mut Output, RowView<'_>) -> Result<()> + Send + 'static,
    {
        Box::new(FnWriter { out: self, write })
    }
}

struct FnWriter<F> {
    out: Output,
    write: F,
}

impl<F> RowWriter for FnWriter<F>
where
    F: FnMut(&mut Output, RowView<'_>) -> Result<()> + Send,
{
    fn write_row(&mut self, row: RowView<'_>) -> Result<()> {
        (self.write)(&mut self.out, row)
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf)
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.inner.write_all(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl OutputHandle {
    /// Finishes the host sink once the `Output` is gone.
    fn finish(self) -> Result<(), RError> {
        if Arc::strong_count(&self.0) > 1 {
            return Err(RError::new(
                RErrorKind::OTHER,
                "the plugin still holds its Output at finish (buffered bytes would be lost)",
            ));
        }
        let mut st = lock(&self.0);
        if let Some(e) = st.error.take() {
            return Err(e);
        }
        if st.finished {
            return Ok(());
        }
        st.finished = true;
        st.sink.finish().into_result()
    }
}

trait EncoderImpl: Write + Send {
    fn finish_impl(&mut self) -> io::Result<()>;
}

type EncoderFinish<W> = Box<dyn FnOnce(W) -> io::Result<()> + Send>;

struct EncoderParts<W> {
    writer: Option<W>,
    finish: Option<EncoderFinish<W>>,
}

fn encoder_closed() -> io::Error {
    io::Error::other("encoder already finished")
}

impl<W: Write + Send> Write for EncoderParts<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writer.as_mut().ok_or_else(encoder_closed)?.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        match self.writer.as_mut() {
            Some(w) => w.flush(),
            None => Ok(()),
        }
    }
}

impl<W: Write + Send> EncoderImpl for EncoderParts<W> {
    fn finish_impl(&mut self) -> io::Result<()> {
        match (self.writer.take(), self.finish.take()) {
            (Some(w), Some(f)) => f(w),
            _ => Ok(()),
        }
    }
}

/// A compressing writer returned by [`Codec::encoder`]: any `Write` plus
/// how to end its stream, e.g.
/// `Encoder::with_finish(GzEncoder::new(output, level), |e| e.finish().map(drop))`.
pub struct Encoder {
    inner: Box<dyn EncoderImpl>,
}

impl Encoder {
    /// An encoder whose finish is just `flush` (then drop).
    pub fn new<W: Write + Send + 'static>(writer: W) -> Self {
        Self::with_finish(writer, |mut w: W| w.flush())
    }
    /// An encoder whose finish calls `finish(writer)` once (write the trailer, flush).
    pub fn with_finish<W, F>(writer: W, finish: F) -> Self
    where
        W: Write + Send + 'static,
        F: FnOnce(W) -> io::Result<()> + Send + 'static,
    {
        Self {
            inner: Box::new(EncoderParts {
                writer: Some(writer),
                finish: Some(Box::new(finish)),
            }),
        }
    }
    /// Ends the stream (once; later calls do nothing).
    pub fn finish(&mut self) -> Result<()> {
        self.inner.finish_impl().map_err(Error::from)
    }
}

impl Write for Encoder {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

// ---------------------------------------------------------------------------
// Author traits
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// Adapters: author traits -> wire objects
// ---------------------------------------------------------------------------

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
        let result = poison.run(|| {
            batch.clear();
            if let Some(e) = pending.take() {
                return Err(e);
            }
            let Some(reader) = reader.as_mut().filter(|_| !*done) else {
                return Ok(false);
            };
            let mut b = BatchBuilder::new(batch);
            if let Some(row) = carried.take() {
                b.push_carried(row);
            }
            let res = reader
                .read_batch(&mut b, max_rows.max(1) as usize)
                .map_err(RError::from);
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

fn writer_sink_with(writer: Box<dyn RowWriter>, output: Option<OutputHandle>) -> RecordSinkBox {
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

struct FormatAdapter<F> {
    format: F,
    info: FormatInfo,
    lenient: bool,
}

impl<F: Format> FormatAdapter<F> {
    fn options(&self, raw: &ROptions) -> Result<Options, RError> {
        let mut opts = Options::from_roptions(raw);
        let declared = &self.info.options;
        if !self.lenient {
            for (key, value) in opts.iter() {
                let Some(spec) = declared.iter().find(|o| o.name.as_str() == key) else {
                    let valid = if declared.is_empty() {
                        "this format takes no options".to_string()
                    } else {
                        let names: Vec<&str> = declared.iter().map(|o| o.name.as_str()).collect();
                        format!("valid options: {}", names.join(", "))
                    };
                    return Err(RError::new(
                        RErrorKind::INVALID_OPTION,
                        format!(
                            "unknown option `{key}` for format `{}` ({valid})",
                            self.info.id
                        ),
                    ));
                };
                if !spec.choices.is_empty() && !spec.choices.iter().any(|c| c.as_str() == value) {
                    let choices: Vec<&str> = spec.choices.iter().map(|c| c.as_str()).collect();
                    return Err(RError::new(
                        RErrorKind::INVALID_OPTION,
                        format!(
                            "option `{key}`: invalid value `{value}` (choose one of: {})",
                            choices.join(", ")
                        ),
                    ));
                }
            }
        }
        for spec in declared.iter() {
            if let RSome(default) = &spec.default {
                if !opts.contains(spec.name.as_str()) {
                    opts.0.push((spec.name.to_string(), default.to_string()));
                }
            }
        }
        Ok(opts)
    }
}

impl<F: Format> FormatProvider for FormatAdapter<F> {
    fn info(&self) -> FormatInfo {
        self.info.clone()
    }

    fn open_reader(
        &self,
        source: ByteSourceBox,
        options: ROptions,
    ) -> RResult<RecordSourceBox, RError> {
        guard(|| {
            let opts = self.options(&options)?;
            let reader = self.format.reader(Input::new(source), &opts)?;
            Ok(reader_source(reader))
        })
        .into()
    }

    fn open_writer(&self, sink: ByteSinkBox, options: ROptions) -> RResult<RecordSinkBox, RError> {
        guard(|| {
            let opts = self.options(&options)?;
            let (output, handle) = Output::new(sink);
            let writer = self.format.writer(output, &opts)?;
            Ok(writer_sink_with(writer, Some(handle)))
        })
        .into()
    }
}

/// Exposes a [`Format`] as a wire provider (its `info()` is called once, guarded).
pub fn format_provider<F: Format>(format: F) -> Result<FormatProviderBox, RError> {
    let spec = catch(|| format.info())?;
    let lenient = spec.lenient;
    let info = spec.into_info();
    Ok(FormatProvider_TO::from_value(
        FormatAdapter {
            format,
            info,
            lenient,
        },
        TD_Opaque,
    ))
}

struct DecoderAdapter {
    reader: Option<Box<dyn Read + Send>>,
    poison: Poison,
}

impl ByteSource for DecoderAdapter {
    fn read(&mut self, mut buf: RSliceMut<'_, u8>) -> RResult<usize, RError> {
        let reader = &mut self.reader;
        self.poison
            .run(|| {
                let Some(r) = reader.as_mut() else {
                    return Ok(0);
                };
                let buf = buf.as_mut_slice();
                loop {
                    match r.read(buf) {
                        Ok(n) => return Ok(n.min(buf.len())),
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => {
                            let mut e = RError::from(e);
                            if e.kind == RErrorKind::IO || e.kind == RErrorKind::PARSE {
                                e.kind = RErrorKind::COMPRESSION;
                            }
                            return Err(e);
                        }
                    }
                }
            })
            .into()
    }
}

impl Drop for DecoderAdapter {
    fn drop(&mut self) {
        drop_guarded(self.reader.take());
    }
}

struct EncoderAdapter {
    encoder: Option<Encoder>,
    output: Option<OutputHandle>,
    poison: Poison,
    /// The outcome of `finish`, repeated by later calls.
    finished: Option<Result<(), RError>>,
}

impl ByteSink for EncoderAdapter {
    fn write(&mut self, buf: RSlice<'_, u8>) -> RResult<(), RError> {
        let enc = &mut self.encoder;
        self.poison
            .run(|| {
                let e = enc
                    .as_mut()
                    .ok_or_else(|| RError::invalid_input("write after finish"))?;
                e.write_all(buf.as_slice()).map_err(RError::from)
            })
            .into()
    }
    fn flush(&mut self) -> RResult<(), RError> {
        let enc = &mut self.encoder;
        self.poison
            .run(|| match enc.as_mut() {
                Some(e) => e.flush().map_err(RError::from),
                None => Ok(()),
            })
            .into()
    }
    fn finish(&mut self) -> RResult<(), RError> {
        if let Some(done) = &self.finished {
            return done.clone().into();
        }
        let Self {
            encoder,
            output,
            poison,
            ..
        } = self;
        let result = poison.run(|| {
            if let Some(mut e) = encoder.take() {
                let r = e.finish();
                drop(e);
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

impl Drop for EncoderAdapter {
    fn drop(&mut self) {
        drop_guarded(self.encoder.take());
    }
}

struct CodecAdapter<C> {
    codec: C,
    info: CodecInfo,
}

impl<C: Codec> CodecProvider for CodecAdapter<C> {
    fn info(&self) -> CodecInfo {
        self.info.clone()
    }
    fn decoder(&self, source: ByteSourceBox) -> RResult<ByteSourceBox, RError> {
        guard(|| {
            let reader = self.codec.decoder(Input::new(source))?;
            Ok(ByteSourceBox::from_value(
                DecoderAdapter {
                    reader: Some(reader),
                    poison: Poison::default(),
                },
                TD_Opaque,
            ))
        })
        .into()
    }
    fn encoder(&self, sink: ByteSinkBox, level: ROption<i32>) -> RResult<ByteSinkBox, RError> {
        guard(|| {
            let (min, max) = (self.info.level_min, self.info.level_max);
            let level = match level {
                RSome(l) if l < min || l > max => {
                    return Err(RError::new(
                        RErrorKind::INVALID_OPTION,
                        format!(
                            "compression level {l} is out of range for `{}` ({min}..={max})",
                            self.info.id
                        ),
                    ));
                }
                RSome(l) => l,
                RNone => self.info.level_default,
            };
            let (output, handle) = Output::new(sink);
            let encoder = self.codec.encoder(output, level)?;
            Ok(ByteSinkBox::from_value(
                EncoderAdapter {
                    encoder: Some(encoder),
                    output: Some(handle),
                    poison: Poison::default(),
                    finished: None,
                },
                TD_Opaque,
            ))
        })
        .into()
    }
}

/// Exposes a [`Codec`] as a wire provider.
pub fn codec_provider<C: Codec>(codec: C) -> Result<CodecProviderBox, RError> {
    let info = catch(|| codec.info())?.into_info();
    Ok(CodecProvider_TO::from_value(
        CodecAdapter { codec, info },
        TD_Opaque,
    ))
}

struct ConnectionAdapter {
    conn: Option<Box<dyn Connection>>,
    poison: Poison,
}

impl ConnectionAdapter {
    fn with<T>(&mut self, f: impl FnOnce(&mut dyn Connection) -> Result<T>) -> RResult<T, RError> {
        let conn = &mut self.conn;
        self.poison
            .run(|| match conn.as_mut() {
                Some(c) => f(c.as_mut()).map_err(RError::from),
                None => Err(RError::invalid_input("connection is closed")),
            })
            .into()
    }
}

impl AbiConnection for ConnectionAdapter {
    fn list_tables(&mut self) -> RResult<RVec<RString>, RError> {
        self.with(|c| Ok(rstrings(c.list_tables()?)))
    }
    fn read_table(
        &mut self,
        table: RStr<'_>,
        options: ROptions,
    ) -> RResult<RecordSourceBox, RError> {
        self.with(|c| {
            let opts = Options::from_roptions(&options);
            Ok(reader_source(c.read_table(table.as_str(), &opts)?))
        })
    }
    fn read_query(
        &mut self,
        query: RStr<'_>,
        options: ROptions,
    ) -> RResult<RecordSourceBox, RError> {
        self.with(|c| {
            let opts = Options::from_roptions(&options);
            Ok(reader_source(c.read_query(query.as_str(), &opts)?))
        })
    }
    fn write_table(
        &mut self,
        table: RStr<'_>,
        options: ROptions,
    ) -> RResult<RecordSinkBox, RError> {
        self.with(|c| {
            let opts = Options::from_roptions(&options);
            Ok(writer_sink(c.write_table(table.as_str(), &opts)?))
        })
    }
}

impl Drop for ConnectionAdapter {
    fn drop(&mut self) {
        drop_guarded(self.conn.take());
    }
}

struct DriverAdapter<D> {
    driver: D,
    info: DriverInfo,
}

impl<D: Driver> DriverProvider for DriverAdapter<D> {
    fn info(&self) -> DriverInfo {
        self.info.clone()
    }
    fn connect(&self, uri: RStr<'_>, options: ROptions) -> RResult<ConnectionBox, RError> {
        guard(|| {
            let opts = Options::from_roptions(&options);
            let conn = self.driver.connect(uri.as_str(), &opts)?;
            Ok(Connection_TO::from_value(
                ConnectionAdapter {
                    conn: Some(conn),
                    poison: Poison::default(),
                },
                TD_Opaque,
            ))
        })
        .into()
    }
}

/// Exposes a [`Driver`] as a wire provider.
pub fn driver_provider<D: Driver>(driver: D) -> Result<DriverProviderBox, RError> {
    let info = catch(|| driver.info())?.into_info();
    Ok(DriverProvider_TO::from_value(
        DriverAdapter { driver, info },
        TD_Opaque,
    ))
}

struct RuleAdapter<R> {
    rule: R,
    info: RuleInfo,
}

impl<R: Rule> RuleProvider for RuleAdapter<R> {
    fn info(&self) -> RuleInfo {
        self.info.clone()
    }
    fn check_batch(
        &self,
        values: &RBatch,
        out: &mut RVec<ROption<RString>>,
    ) -> RResult<(), RError> {
        let result = guard(|| {
            out.clear();
            let view = values.validated()?;
            if view.field_count() == 0 && !view.is_empty() {
                return Err(RError::invalid_input(
                    "a rule batch needs one field (the values to check)",
                ));
            }
            out.reserve(view.len());
            for row in view {
                out.push(match self.rule.check(row.get(0)) {
                    Ok(()) => RNone,
                    Err(msg) => RSome(msg.into()),
                });
            }
            Ok(())
        });
        if result.is_err() {
            out.clear();
        }
        result.into()
    }
}

/// Exposes a [`Rule`] as a wire provider.
pub fn rule_provider<R: Rule>(rule: R) -> Result<RuleProviderBox, RError> {
    let info = catch(|| rule.info())?.into_info();
    Ok(RuleProvider_TO::from_value(
        RuleAdapter { rule, info },
        TD_Opaque,
    ))
}

struct EngineAdapter<E> {
    engine: E,
    info: EngineInfo,
}

impl<E: Engine> EngineProvider for EngineAdapter<E> {
    fn info(&self) -> EngineInfo {
        self.info.clone()
    }
    fn execute(
        &self,
        query: RStr<'_>,
        inputs: RVec<Tuple2<RString, RecordSourceBox>>,
        options: ROptions,
    ) -> RResult<RecordSourceBox, RError> {
        guard(|| {
            let inputs = inputs
                .into_iter()
                .map(|Tuple2(name, src)| (name.into_string(), RowSource::new(src)))
                .collect();
            let opts = Options::from_roptions(&options);
            let reader = self.engine.execute(query.as_str(), inputs, &opts)?;
            Ok(reader_source(reader))
        })
        .into()
    }
}

/// Exposes an [`Engine`] as a wire provider.
pub fn engine_provider<E: Engine>(engine: E) -> Result<EngineProviderBox, RError> {
    let info = catch(|| engine.info())?.into_info();
    Ok(EngineProvider_TO::from_value(
        EngineAdapter { engine, info },
        TD_Opaque,
    ))
}
