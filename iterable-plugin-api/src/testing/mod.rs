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
    ByteSinkBox, ByteSourceBox, CodecProviderBox, DriverProviderBox, EngineProviderBox,
    FormatProviderBox, PluginMetadata, RBatch, RecordSourceBox, RuleProviderBox, roptions,
};
use crate::sdk::Exports;
use crate::sdk::adapt::{
    codec_provider, driver_provider, engine_provider, format_provider, hook_provider, rule_provider,
};
use crate::sdk::error::{Error, Result};
use crate::sdk::streams::{MemorySink, SinkWriter, SourceReader};
use crate::sdk::traits::{Codec, Driver, Engine, Format, Hook, Rule};

mod streams;
mod values;

pub use streams::{Batch, TestConnection, TestDecoder, TestEncoder, TestReader, TestWriter};
pub use values::{Batches, Record, Value, record, with_rows};
use values::{drain, fill, push, source_of_batches};

/// The ids of `items`, in order.
fn ids<T>(items: &[T], id_of: impl Fn(&T) -> String) -> Vec<String> {
    items.iter().map(id_of).collect()
}

fn find<'a, T>(
    items: &'a Listed<T>,
    kind: &str,
    id: &str,
    id_of: impl Fn(&T) -> String,
) -> Result<&'a T> {
    let items = items.as_ref().map_err(Clone::clone)?;
    items.iter().find(|p| id_of(p) == id).ok_or_else(|| {
        Error::unsupported(format!(
            "no {kind} '{id}' in this plugin (it has: {})",
            ids(items, &id_of).join(", ")
        ))
    })
}

/// The providers of one kind, or the error listing them gave.
type Listed<T> = std::result::Result<Vec<T>, Error>;

fn listed<T>(r: abi_stable::std_types::RResult<RVec<T>, crate::RError>) -> Listed<T> {
    r.into_result().map(RVec::into_vec).map_err(Error::from)
}

fn add<T>(list: &mut Listed<T>, provider: T) -> Result<()> {
    match list {
        Ok(l) => {
            l.push(provider);
            Ok(())
        }
        Err(e) => Err(e.clone()),
    }
}

fn ids_of<T>(items: &Listed<T>, id_of: impl Fn(&T) -> String) -> Result<Vec<String>> {
    Ok(ids(items.as_ref().map_err(Clone::clone)?, id_of))
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
    /// Its options, in order.
    pub options: Vec<OptionAbout>,
}

/// What a codec says about itself, as plain values.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CodecAbout {
    /// Its id.
    pub id: String,
    /// Its extensions, without the dot.
    pub extensions: Vec<String>,
    /// The byte prefixes its streams start with.
    pub magic: Vec<Vec<u8>>,
    /// Its levels: lowest, highest, and the one used when none is given.
    pub levels: (i32, i32, i32),
}

/// One option of a format, as plain values.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OptionAbout {
    /// Its key.
    pub name: String,
    /// One line about it.
    pub description: String,
    /// The values it allows; empty means free text.
    pub choices: Vec<String>,
    /// The value used when it is not given.
    pub default: Option<String>,
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
/// [`crate::export_plugin!`] generates), or providers you add one by one
/// ([`PluginTest::providers`]), driven in-process through the wire.
pub struct PluginTest {
    exports: Option<Exports>,
    formats: Listed<FormatProviderBox>,
    codecs: Listed<CodecProviderBox>,
    drivers: Listed<DriverProviderBox>,
    rules: Listed<RuleProviderBox>,
    engines: Listed<EngineProviderBox>,
    hooks: Listed<HookProviderBox>,
    batch_size: u32,
}

impl fmt::Debug for PluginTest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PluginTest")
    }
}

impl PluginTest {
    /// Tests the plugin whose exports these are: lists its providers once,
    /// as a host does after loading it.
    pub fn new(exports: Exports) -> Self {
        let root = (exports.root)();
        PluginTest {
            exports: Some(exports),
            formats: listed(root.formats()()),
            codecs: listed(root.codecs()()),
            drivers: listed(root.drivers()()),
            rules: listed(root.rules()()),
            engines: listed(root.engines()()),
            hooks: listed((exports.hooks)().hooks()()),
            batch_size: 1024,
        }
    }

    /// Tests providers that no plugin exports (the ones of a crate's own
    /// unit tests, say): add them with [`PluginTest::format`] and its
    /// siblings. [`PluginTest::about`] has nothing to say of these.
    pub fn providers() -> Self {
        PluginTest {
            exports: None,
            formats: Ok(Vec::new()),
            codecs: Ok(Vec::new()),
            drivers: Ok(Vec::new()),
            rules: Ok(Vec::new()),
            engines: Ok(Vec::new()),
            hooks: Ok(Vec::new()),
            batch_size: 1024,
        }
    }

    /// Adds a format, through the same adapter `export_plugin!` uses.
    pub fn format(mut self, format: impl Format) -> Result<Self> {
        let p = format_provider(format)?;
        add(&mut self.formats, p)?;
        Ok(self)
    }
    /// Adds a codec, through the same adapter `export_plugin!` uses.
    pub fn codec(mut self, codec: impl Codec) -> Result<Self> {
        let p = codec_provider(codec)?;
        add(&mut self.codecs, p)?;
        Ok(self)
    }
    /// Adds a driver, through the same adapter `export_plugin!` uses.
    pub fn driver(mut self, driver: impl Driver) -> Result<Self> {
        let p = driver_provider(driver)?;
        add(&mut self.drivers, p)?;
        Ok(self)
    }
    /// Adds a rule, through the same adapter `export_plugin!` uses.
    pub fn rule(mut self, rule: impl Rule) -> Result<Self> {
        let p = rule_provider(rule)?;
        add(&mut self.rules, p)?;
        Ok(self)
    }
    /// Adds an engine, through the same adapter `export_plugin!` uses.
    pub fn engine(mut self, engine: impl Engine) -> Result<Self> {
        let p = engine_provider(engine)?;
        add(&mut self.engines, p)?;
        Ok(self)
    }
    /// Adds a hook, through the same adapter `export_plugin!` uses.
    pub fn hook(mut self, hook: impl Hook) -> Result<Self> {
        let p = hook_provider(hook)?;
        add(&mut self.hooks, p)?;
        Ok(self)
    }

    /// Asks every reader, query result and table for batches of at most
    /// `rows` rows (1,024 by default), as a host with that batch size would.
    pub fn batch_size(mut self, rows: u32) -> Self {
        self.batch_size = rows;
        self
    }

    /// The plugin's metadata, as a host sees it.
    pub fn metadata(&self) -> Result<PluginMetadata> {
        let exports = self.exports.as_ref().ok_or_else(|| {
            Error::unsupported("these providers were added one by one: no plugin describes them")
        })?;
        Ok((exports.root)().metadata()().into_result()?)
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
        let i = self.find_format(id)?.info();
        Ok(FormatAbout {
            id: i.id.into_string(),
            extensions: i.extensions.into_iter().map(RString::into_string).collect(),
            magic: i.magic.into_iter().map(|m| m.to_vec()).collect(),
            read: i.can_read,
            write: i.can_write,
            options: i
                .options
                .into_iter()
                .map(|o| OptionAbout {
                    name: o.name.into_string(),
                    description: o.description.into_string(),
                    choices: o.choices.into_iter().map(RString::into_string).collect(),
                    default: o.default.into_option().map(RString::into_string),
                })
                .collect(),
        })
    }

    /// What codec `id` says about itself, as a host reads it.
    pub fn codec_about(&self, id: &str) -> Result<CodecAbout> {
        let i = self.find_codec(id)?.info();
        Ok(CodecAbout {
            id: i.id.into_string(),
            extensions: i.extensions.into_iter().map(RString::into_string).collect(),
            magic: i.magic.into_iter().map(|m| m.to_vec()).collect(),
            levels: (i.level_min, i.level_max, i.level_default),
        })
    }

    /// The ids of what the plugin provides, per kind, in its order.
    pub fn provides(&self) -> Result<Provided> {
        Ok(Provided {
            formats: ids_of(&self.formats, |p| p.info().id.into_string())?,
            codecs: ids_of(&self.codecs, |p| p.info().id.into_string())?,
            drivers: ids_of(&self.drivers, |p| p.info().id.into_string())?,
            rules: ids_of(&self.rules, |p| p.info().name.into_string())?,
            engines: ids_of(&self.engines, |p| p.info().id.into_string())?,
            hooks: ids_of(&self.hooks, |p| p.info().id.into_string())?,
        })
    }

    fn find_format(&self, id: &str) -> Result<&FormatProviderBox> {
        find(&self.formats, "format", id, |p| p.info().id.to_string())
    }
    fn find_codec(&self, id: &str) -> Result<&CodecProviderBox> {
        find(&self.codecs, "codec", id, |p| p.info().id.to_string())
    }
    fn find_driver(&self, id: &str) -> Result<&DriverProviderBox> {
        find(&self.drivers, "driver", id, |p| p.info().id.to_string())
    }
    fn find_rule(&self, name: &str) -> Result<&RuleProviderBox> {
        find(&self.rules, "rule", name, |p| p.info().name.to_string())
    }
    fn find_engine(&self, id: &str) -> Result<&EngineProviderBox> {
        find(&self.engines, "engine", id, |p| p.info().id.to_string())
    }
    fn find_hook(&self, id: &str) -> Result<&HookProviderBox> {
        find(&self.hooks, "hook", id, |p| p.info().id.to_string())
    }

    /// Reads `bytes` with format `format` and `options`; the records.
    pub fn read(
        &self,
        format: &str,
        bytes: &[u8],
        options: &[(&str, &str)],
    ) -> Result<Vec<Record>> {
        self.reader(format, std::io::Cursor::new(bytes.to_vec()), options)?
            .read_all_ok()
    }

    /// Writes `records` with format `format` and `options`; the bytes.
    pub fn write(
        &self,
        format: &str,
        records: &[Record],
        options: &[(&str, &str)],
    ) -> Result<Vec<u8>> {
        let mut w = self.writer(format, options)?;
        w.write(records)?;
        w.finish()
    }

    /// Opens a reader of format `format` over `input`, which you supply
    /// (one that trickles a byte at a time, say, or fails midway), to take
    /// its batches one by one.
    pub fn reader(
        &self,
        format: &str,
        input: impl std::io::Read + Send + 'static,
        options: &[(&str, &str)],
    ) -> Result<TestReader> {
        let f = self.find_format(format)?;
        let source = f
            .open_reader(
                ByteSourceBox::from_reader(input),
                roptions(options.iter().copied()),
            )
            .into_result()?;
        Ok(TestReader {
            source,
            batch: RBatch::new(),
            max: self.batch_size,
        })
    }

    /// Opens a writer of format `format` into memory, to give it records
    /// batch by batch.
    pub fn writer(&self, format: &str, options: &[(&str, &str)]) -> Result<TestWriter> {
        let f = self.find_format(format)?;
        let out = MemorySink::new();
        let sink = f
            .open_writer(
                ByteSinkBox::from_writer(out.clone()),
                roptions(options.iter().copied()),
            )
            .into_result()?;
        Ok(TestWriter {
            sink,
            out: Some(out),
            batch: RBatch::new(),
        })
    }

    /// A decoder of codec `codec` over `input`, which you supply: what you
    /// read from it is the decompressed stream.
    pub fn decoder(
        &self,
        codec: &str,
        input: impl std::io::Read + Send + 'static,
    ) -> Result<TestDecoder> {
        let c = self.find_codec(codec)?;
        let source = c.decoder(ByteSourceBox::from_reader(input)).into_result()?;
        Ok(TestDecoder(SourceReader::new(source)))
    }

    /// An encoder of codec `codec` at `level` (its default when `None`)
    /// into `output`, which you supply: what you write to it arrives there
    /// compressed, completely once you call [`TestEncoder::finish`].
    pub fn encoder(
        &self,
        codec: &str,
        output: impl std::io::Write + Send + 'static,
        level: Option<i32>,
    ) -> Result<TestEncoder> {
        let c = self.find_codec(codec)?;
        let sink = c
            .encoder(ByteSinkBox::from_writer(output), ROption::from(level))
            .into_result()?;
        Ok(TestEncoder(SinkWriter::new(sink)))
    }

    /// Decompresses `bytes` with codec `codec`.
    pub fn decode(&self, codec: &str, bytes: &[u8]) -> Result<Vec<u8>> {
        use std::io::Read as _;
        let mut r = self.decoder(codec, std::io::Cursor::new(bytes.to_vec()))?;
        let mut out = Vec::new();
        r.read_to_end(&mut out)?;
        Ok(out)
    }

    /// Compresses `bytes` with codec `codec` at `level` (its default when `None`).
    pub fn encode(&self, codec: &str, bytes: &[u8], level: Option<i32>) -> Result<Vec<u8>> {
        use std::io::Write as _;
        let out = MemorySink::new();
        let mut w = self.encoder(codec, out.clone(), level)?;
        w.write_all(bytes)?;
        w.finish()?;
        Ok(out.contents())
    }

    /// Checks `values` with rule `rule`: per value, `None` when it passes,
    /// else the rule's message.
    pub fn check(&self, rule: &str, values: &[Value]) -> Result<Vec<Option<String>>> {
        let r = self.find_rule(rule)?;
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

    /// Runs `query` with engine `engine` over named inputs (each in one
    /// batch); the result.
    pub fn query(
        &self,
        engine: &str,
        query: &str,
        inputs: &[(&str, Vec<Record>)],
        options: &[(&str, &str)],
    ) -> Result<Vec<Record>> {
        let inputs = inputs
            .iter()
            .map(|(n, rs)| (*n, vec![Ok(rs.clone())]))
            .collect();
        self.query_batches(engine, query, inputs, options)
    }

    /// [`PluginTest::query`] with each input handed over in the batches
    /// given, as a host would stream it; an `Err` among them is what that
    /// input fails with at that point.
    pub fn query_batches(
        &self,
        engine: &str,
        query: &str,
        inputs: Vec<(&str, Batches)>,
        options: &[(&str, &str)],
    ) -> Result<Vec<Record>> {
        let e = self.find_engine(engine)?;
        let inputs: RVec<Tuple2<RString, RecordSourceBox>> = inputs
            .into_iter()
            .map(|(n, bs)| Tuple2(RString::from(n), source_of_batches(bs)))
            .collect();
        drain(
            e.execute(
                RStr::from_str(query),
                inputs,
                roptions(options.iter().copied()),
            )
            .into_result()?,
            self.batch_size,
        )
    }

    /// Connects with driver `driver` to `uri`.
    pub fn connect(
        &self,
        driver: &str,
        uri: &str,
        options: &[(&str, &str)],
    ) -> Result<TestConnection> {
        let d = self.find_driver(driver)?;
        let conn = d
            .connect(RStr::from_str(uri), roptions(options.iter().copied()))
            .into_result()?;
        Ok(TestConnection {
            conn,
            max: self.batch_size,
        })
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
        let h = self.find_hook(hook)?;
        observe_with(h, run, options, batches, error, summary)
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
