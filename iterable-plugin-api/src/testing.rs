//! A test harness for plugin authors (feature `testing`): runs a plugin's
//! providers in-process, through the same wire objects a host uses after
//! loading the library, so an author's tests speak in bytes, records and
//! values, never in wire types.
//!
//! ```
//! use iterable_plugin_api::prelude::*;
//! use iterable_plugin_api::testing::{PluginTest, Value, record};
//!
//! struct Lines;
//! impl Format for Lines {
//!     fn info(&self) -> FormatSpec {
//!         FormatSpec::new("lines").extensions(["txt"]).read_write()
//!     }
//!     fn reader(&self, input: Input, _: &Options) -> Result<Box<dyn RowReader>> {
//!         Ok(input.line_reader(|line, row| {
//!             row.key("line").push_str(line);
//!             Ok(())
//!         }))
//!     }
//!     fn writer(&self, mut output: Output, _: &Options) -> Result<Box<dyn RowWriter>> {
//!         Ok(output.row_writer(|out, row| {
//!             writeln!(out, "{}", row.get_by_name("line").as_str().unwrap_or(""))?;
//!             Ok(())
//!         }))
//!     }
//! }
//! export_plugin! { name: "lines", version: "0.1.0", formats: [Lines] }
//!
//! let t = PluginTest::new(plugin_exports());
//! let records = t.read("lines", b"a\nb\n", &[]).unwrap();
//! assert_eq!(records, [record([("line", "a")]), record([("line", "b")])]);
//! assert_eq!(t.write("lines", &records, &[]).unwrap(), b"a\nb\n");
//! # let _ = Value::Null;
//! ```

use std::fmt;

use abi_stable::std_types::{ROption, RStr, RString, RVec, Tuple2};

use crate::abi::hooks::{HookProviderBox, RunInfo, RunSummary};
use crate::abi::{
    BatchBuilder, ByteSinkBox, ByteSourceBox, CellRef, CodecProviderBox, ConnectionBox,
    DriverProviderBox, EngineProviderBox, FormatProviderBox, PluginMetadata, RBatch, RValue,
    RecordSinkBox, RecordSourceBox, RuleProviderBox, roptions,
};
use crate::sdk::Exports;
use crate::sdk::adapt::hook_provider;
use crate::sdk::error::{Error, Result};
use crate::sdk::streams::{MemorySink, SinkWriter, SourceReader};
use crate::sdk::traits::Hook;

/// A value in a test record: what a host would make of a cell.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// An explicit null.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// Text.
    Str(String),
    /// Raw bytes.
    Bytes(Vec<u8>),
    /// A list.
    List(Vec<Value>),
    /// A map, in order.
    Map(Vec<(String, Value)>),
    /// A value of an extension type: its name and payload.
    Ext(String, Vec<u8>),
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Str(v.to_owned())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Str(v)
    }
}
impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Float(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", to_rvalue(self))
    }
}

/// A record: fields in order. Fields a row lacks are simply not there.
pub type Record = Vec<(String, Value)>;

/// Builds a record from `(name, value)` pairs.
pub fn record<K: Into<String>, V: Into<Value>>(pairs: impl IntoIterator<Item = (K, V)>) -> Record {
    pairs
        .into_iter()
        .map(|(k, v)| (k.into(), v.into()))
        .collect()
}

fn from_rvalue(v: &RValue) -> Value {
    match v {
        RValue::Null => Value::Null,
        RValue::Bool(b) => Value::Bool(*b),
        RValue::Int(i) => Value::Int(*i),
        RValue::Float(x) => Value::Float(*x),
        RValue::Str(s) => Value::Str(s.to_string()),
        RValue::Bytes(b) => Value::Bytes(b.to_vec()),
        RValue::List(l) => Value::List(l.iter().map(from_rvalue).collect()),
        RValue::Map(m) => Value::Map(
            m.iter()
                .map(|p| (p.0.to_string(), from_rvalue(&p.1)))
                .collect(),
        ),
        RValue::Ext(name, payload) => Value::Ext(name.to_string(), payload.to_vec()),
    }
}

fn to_rvalue(v: &Value) -> RValue {
    match v {
        Value::Null => RValue::Null,
        Value::Bool(b) => RValue::Bool(*b),
        Value::Int(i) => RValue::Int(*i),
        Value::Float(x) => RValue::Float(*x),
        Value::Str(s) => RValue::Str(s.as_str().into()),
        Value::Bytes(b) => RValue::Bytes(RVec::from_slice(b)),
        Value::List(l) => RValue::List(l.iter().map(to_rvalue).collect()),
        Value::Map(m) => RValue::Map(
            m.iter()
                .map(|(k, v)| Tuple2(RString::from(k.as_str()), to_rvalue(v)))
                .collect(),
        ),
        Value::Ext(name, payload) => RValue::ext(name, payload),
    }
}

fn from_cell(c: CellRef<'_>) -> Option<Value> {
    Some(match c {
        CellRef::Absent => return None,
        CellRef::Null => Value::Null,
        CellRef::Bool(b) => Value::Bool(b),
        CellRef::Int(i) => Value::Int(i),
        CellRef::Float(x) => Value::Float(x),
        CellRef::Str(s) => Value::Str(s.to_owned()),
        CellRef::Bytes(b) => Value::Bytes(b.to_vec()),
        CellRef::Nested(v) => from_rvalue(v),
    })
}

fn push(b: &mut BatchBuilder<'_>, v: &Value) {
    match v {
        Value::Null => b.push_null(),
        Value::Bool(x) => b.push_bool(*x),
        Value::Int(i) => b.push_int(*i),
        Value::Float(x) => b.push_float(*x),
        Value::Str(s) => b.push_str(s),
        Value::Bytes(x) => b.push_bytes(x),
        other => b.push_value(to_rvalue(other)),
    };
}

/// Fills `batch` with `records` (one row each, by key).
fn fill(batch: &mut RBatch, records: &[Record]) {
    batch.clear();
    let mut b = batch.builder();
    for r in records {
        for (k, v) in r {
            b.key(k);
            push(&mut b, v);
        }
        b.end_row();
    }
}

/// Reads every batch of `source` into records, checking each batch.
fn drain(mut source: RecordSourceBox) -> Result<Vec<Record>> {
    let mut out = Vec::new();
    let mut batch = RBatch::new();
    while source.read_batch(&mut batch, 1024).into_result()? {
        let view = batch.validated()?;
        for row in view {
            let names: Vec<&str> = view.field_names().collect();
            out.push(
                names
                    .iter()
                    .enumerate()
                    .filter_map(|(j, n)| from_cell(row.get(j)).map(|v| (n.to_string(), v)))
                    .collect(),
            );
        }
    }
    Ok(out)
}

/// A source that hands `records` over in one batch.
fn source_of(records: Vec<Record>) -> RecordSourceBox {
    let mut left = Some(records);
    RecordSourceBox::from_fn(move |batch, _max| match left.take() {
        Some(rs) => {
            fill(batch, &rs);
            Ok(true)
        }
        None => Ok(false),
    })
}

/// The ids of `items`, in order.
fn ids<T>(items: &[T], id_of: impl Fn(&T) -> String) -> Vec<String> {
    items.iter().map(id_of).collect()
}

fn find<T>(items: RVec<T>, kind: &str, id: &str, id_of: impl Fn(&T) -> String) -> Result<T> {
    let ids = ids(&items, &id_of);
    items.into_iter().find(|p| id_of(p) == id).ok_or_else(|| {
        Error::unsupported(format!(
            "no {kind} '{id}' in this plugin (it has: {})",
            ids.join(", ")
        ))
    })
}

/// What a plugin says about itself, as plain values.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct About {
    /// Its name.
    pub name: String,
    /// Its own version.
    pub version: String,
    /// The plugin ABI version it speaks.
    pub abi_version: String,
    /// One line about it.
    pub description: String,
    /// Its license.
    pub license: String,
}

/// What a format says about itself, as plain values.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FormatAbout {
    /// Its id.
    pub id: String,
    /// Its extensions, without the dot.
    pub extensions: Vec<String>,
    /// The byte prefixes its files start with.
    pub magic: Vec<Vec<u8>>,
    /// Whether it reads.
    pub read: bool,
    /// Whether it writes.
    pub write: bool,
    /// The names of its options.
    pub options: Vec<String>,
}

/// What a plugin provides: the ids of each kind, in the plugin's order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Provided {
    /// Format ids.
    pub formats: Vec<String>,
    /// Codec ids.
    pub codecs: Vec<String>,
    /// Driver ids.
    pub drivers: Vec<String>,
    /// Rule names.
    pub rules: Vec<String>,
    /// Engine ids.
    pub engines: Vec<String>,
    /// Hook ids.
    pub hooks: Vec<String>,
}

/// A plugin under test: its exports (from `plugin_exports()`, which
/// [`crate::export_plugin!`] generates), driven in-process.
pub struct PluginTest {
    exports: Exports,
}

impl fmt::Debug for PluginTest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PluginTest")
    }
}

impl PluginTest {
    /// Tests the plugin whose exports these are.
    pub fn new(exports: Exports) -> Self {
        PluginTest { exports }
    }

    /// The plugin's metadata, as a host sees it.
    pub fn metadata(&self) -> Result<PluginMetadata> {
        Ok((self.exports.root)().metadata()().into_result()?)
    }

    /// What the plugin says about itself, as a host reads it.
    pub fn about(&self) -> Result<About> {
        let m = self.metadata()?;
        Ok(About {
            name: m.name.into_string(),
            version: m.version.into_string(),
            abi_version: m.api_version.into_string(),
            description: m.description.into_string(),
            license: m.license.into_string(),
        })
    }

    /// What format `id` says about itself, as a host reads it.
    pub fn format_about(&self, id: &str) -> Result<FormatAbout> {
        let i = self.format(id)?.info();
        Ok(FormatAbout {
            id: i.id.into_string(),
            extensions: i.extensions.into_iter().map(RString::into_string).collect(),
            magic: i.magic.into_iter().map(|m| m.to_vec()).collect(),
            read: i.can_read,
            write: i.can_write,
            options: i
                .options
                .into_iter()
                .map(|o| o.name.into_string())
                .collect(),
        })
    }

    /// The ids of what the plugin provides, per kind, in its order.
    pub fn provides(&self) -> Result<Provided> {
        let root = (self.exports.root)();
        Ok(Provided {
            formats: ids(&root.formats()().into_result()?, |p| {
                p.info().id.into_string()
            }),
            codecs: ids(&root.codecs()().into_result()?, |p| {
                p.info().id.into_string()
            }),
            drivers: ids(&root.drivers()().into_result()?, |p| {
                p.info().id.into_string()
            }),
            rules: ids(&root.rules()().into_result()?, |p| {
                p.info().name.into_string()
            }),
            engines: ids(&root.engines()().into_result()?, |p| {
                p.info().id.into_string()
            }),
            hooks: ids(&(self.exports.hooks)().hooks()().into_result()?, |p| {
                p.info().id.into_string()
            }),
        })
    }

    fn format(&self, id: &str) -> Result<FormatProviderBox> {
        let all = (self.exports.root)().formats()().into_result()?;
        find(all, "format", id, |p| p.info().id.to_string())
    }
    fn codec(&self, id: &str) -> Result<CodecProviderBox> {
        let all = (self.exports.root)().codecs()().into_result()?;
        find(all, "codec", id, |p| p.info().id.to_string())
    }
    fn driver(&self, id: &str) -> Result<DriverProviderBox> {
        let all = (self.exports.root)().drivers()().into_result()?;
        find(all, "driver", id, |p| p.info().id.to_string())
    }
    fn rule(&self, name: &str) -> Result<RuleProviderBox> {
        let all = (self.exports.root)().rules()().into_result()?;
        find(all, "rule", name, |p| p.info().name.to_string())
    }
    fn engine(&self, id: &str) -> Result<EngineProviderBox> {
        let all = (self.exports.root)().engines()().into_result()?;
        find(all, "engine", id, |p| p.info().id.to_string())
    }
    fn hook_provider(&self, id: &str) -> Result<HookProviderBox> {
        let all = (self.exports.hooks)().hooks()().into_result()?;
        find(all, "hook", id, |p| p.info().id.to_string())
    }

    /// Reads `bytes` with format `format` and `options`; the records.
    pub fn read(
        &self,
        format: &str,
        bytes: &[u8],
        options: &[(&str, &str)],
    ) -> Result<Vec<Record>> {
        let f = self.format(format)?;
        let input = ByteSourceBox::from_reader(std::io::Cursor::new(bytes.to_vec()));
        drain(
            f.open_reader(input, roptions(options.iter().copied()))
                .into_result()?,
        )
    }

    /// Writes `records` with format `format` and `options`; the bytes.
    pub fn write(
        &self,
        format: &str,
        records: &[Record],
        options: &[(&str, &str)],
    ) -> Result<Vec<u8>> {
        let f = self.format(format)?;
        let out = MemorySink::new();
        let sink = ByteSinkBox::from_writer(out.clone());
        let mut w: RecordSinkBox = f
            .open_writer(sink, roptions(options.iter().copied()))
            .into_result()?;
        let mut batch = RBatch::new();
        fill(&mut batch, records);
        w.write_batch(&batch).into_result()?;
        w.finish().into_result()?;
        Ok(out.contents())
    }

    /// Decompresses `bytes` with codec `codec`.
    pub fn decode(&self, codec: &str, bytes: &[u8]) -> Result<Vec<u8>> {
        use std::io::Read as _;
        let c = self.codec(codec)?;
        let input = ByteSourceBox::from_reader(std::io::Cursor::new(bytes.to_vec()));
        let mut r = SourceReader::new(c.decoder(input).into_result()?);
        let mut out = Vec::new();
        r.read_to_end(&mut out)?;
        Ok(out)
    }

    /// Compresses `bytes` with codec `codec` at `level` (its default when `None`).
    pub fn encode(&self, codec: &str, bytes: &[u8], level: Option<i32>) -> Result<Vec<u8>> {
        use std::io::Write as _;
        let c = self.codec(codec)?;
        let out = MemorySink::new();
        let sink = ByteSinkBox::from_writer(out.clone());
        let mut w = SinkWriter::new(c.encoder(sink, ROption::from(level)).into_result()?);
        w.write_all(bytes)?;
        w.finish()?;
        Ok(out.contents())
    }

    /// Checks `values` with rule `rule`: per value, `None` when it passes,
    /// else the rule's message.
    pub fn check(&self, rule: &str, values: &[Value]) -> Result<Vec<Option<String>>> {
        let r = self.rule(rule)?;
        let mut batch = RBatch::new();
        {
            let mut b = batch.builder();
            b.set_fields(&["value"]);
            for v in values {
                push(&mut b, v);
                b.end_row();
            }
        }
        let mut out = RVec::new();
        r.check_batch(&batch, &mut out).into_result()?;
        Ok(out
            .into_iter()
            .map(|m| m.into_option().map(|s| s.into_string()))
            .collect())
    }

    /// Runs `query` with engine `engine` over named inputs; the result.
    pub fn query(
        &self,
        engine: &str,
        query: &str,
        inputs: &[(&str, Vec<Record>)],
        options: &[(&str, &str)],
    ) -> Result<Vec<Record>> {
        let e = self.engine(engine)?;
        let inputs: RVec<Tuple2<RString, RecordSourceBox>> = inputs
            .iter()
            .map(|(n, rs)| Tuple2(RString::from(*n), source_of(rs.clone())))
            .collect();
        drain(
            e.execute(
                RStr::from_str(query),
                inputs,
                roptions(options.iter().copied()),
            )
            .into_result()?,
        )
    }

    /// Connects with driver `driver` to `uri`.
    pub fn connect(
        &self,
        driver: &str,
        uri: &str,
        options: &[(&str, &str)],
    ) -> Result<TestConnection> {
        let d = self.driver(driver)?;
        let conn = d
            .connect(RStr::from_str(uri), roptions(options.iter().copied()))
            .into_result()?;
        Ok(TestConnection { conn })
    }

    /// Runs hook `hook` over a run: opens it with `run` and `options`, shows
    /// it `batches` in order, tells it of `error` if given, and closes it
    /// with `summary`. The first error it gives stops there.
    pub fn observe(
        &self,
        hook: &str,
        run: &RunInfo,
        options: &[(&str, &str)],
        batches: &[Vec<Record>],
        error: Option<&str>,
        summary: &RunSummary,
    ) -> Result<()> {
        let h = self.hook_provider(hook)?;
        observe_with(&h, run, options, batches, error, summary)
    }
}

/// [`PluginTest::observe`] for a hook value that is not exported (in a
/// test of its own crate, say), through the same wire objects.
pub fn observe_hook<H: Hook>(
    hook: H,
    run: &RunInfo,
    options: &[(&str, &str)],
    batches: &[Vec<Record>],
    error: Option<&str>,
    summary: &RunSummary,
) -> Result<()> {
    let h = hook_provider(hook)?;
    observe_with(&h, run, options, batches, error, summary)
}

fn observe_with(
    h: &HookProviderBox,
    run: &RunInfo,
    options: &[(&str, &str)],
    batches: &[Vec<Record>],
    error: Option<&str>,
    summary: &RunSummary,
) -> Result<()> {
    let mut o = h
        .open(run, roptions(options.iter().copied()))
        .into_result()?;
    let mut batch = RBatch::new();
    for records in batches {
        fill(&mut batch, records);
        o.batch(&batch).into_result()?;
    }
    if let Some(e) = error {
        o.error(RStr::from_str(e)).into_result()?;
    }
    o.close(summary).into_result()?;
    Ok(())
}

/// An open connection of a driver under test.
pub struct TestConnection {
    conn: ConnectionBox,
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
        drain(
            self.conn
                .read_table(RStr::from_str(table), roptions(options.iter().copied()))
                .into_result()?,
        )
    }
    /// The result of `query`.
    pub fn read_query(&mut self, query: &str, options: &[(&str, &str)]) -> Result<Vec<Record>> {
        drain(
            self.conn
                .read_query(RStr::from_str(query), roptions(options.iter().copied()))
                .into_result()?,
        )
    }
    /// Writes `records` into `table` and commits; on an error nothing is written.
    pub fn write_table(
        &mut self,
        table: &str,
        records: &[Record],
        options: &[(&str, &str)],
    ) -> Result<()> {
        let mut w = self
            .conn
            .write_table(RStr::from_str(table), roptions(options.iter().copied()))
            .into_result()?;
        let mut batch = RBatch::new();
        fill(&mut batch, records);
        w.write_batch(&batch).into_result()?;
        w.finish().into_result()?;
        Ok(())
    }
}
