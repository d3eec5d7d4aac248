//! Drives a plugin built with the author traits and `export_plugin!` purely
//! through the wire-level objects (what a host sees after dlopen), in-process.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::sync::{Arc, Mutex};

use iterable_plugin_api::abi::roptions;
use iterable_plugin_api::abi_stable::std_types::{
    RNone, ROption, RResult, RSome, RString, RVec, Tuple2,
};
use iterable_plugin_api::prelude::*;
use iterable_plugin_api::sdk::streams::{MemorySink, SinkWriter, SourceReader};
use iterable_plugin_api::{
    ByteSinkBox, ByteSourceBox, PluginModule_Ref, RBatch, RError, RecordSourceBox,
};

/// `unwrap_err` for `RResult`s whose `Ok` type (a boundary object) is not `Debug`.
trait ExpectRErr {
    fn expect_rerr(self) -> RError;
}

impl<T> ExpectRErr for iterable_plugin_api::abi_stable::std_types::RResult<T, RError> {
    fn expect_rerr(self) -> RError {
        self.into_result()
            .err()
            .unwrap_or_else(|| panic!("expected an error"))
    }
}

// ---------------------------------------------------------------- a format

/// "psv": a header line, then `delimiter`-separated lines. Writes too.
struct Psv;

impl Format for Psv {
    fn info(&self) -> FormatSpec {
        FormatSpec::new("psv")
            .description("delimiter-separated values")
            .extensions(["psv", ".txt"])
            .magic(b"#psv")
            .option_default("delimiter", "field separator", "|")
            .option_choices(
                "mode",
                "test mode",
                &["ok", "panic_row", "panic_open"],
                "ok",
            )
            .read_write()
    }

    fn reader(&self, mut input: Input, options: &Options) -> Result<Box<dyn RowReader>> {
        let delim = options.get_char("delimiter", '?')?;
        let mode = options.get_or("mode", "?").to_string();
        if mode == "panic_open" {
            panic!("cannot open: {}", "boom");
        }
        let mut header = String::new();
        input.read_line(&mut header)?;
        let fields: Vec<String> = header.trim_end().split(delim).map(String::from).collect();
        let mut line = String::new();
        let mut n = 0;
        Ok(Box::new(move |row: &mut BatchBuilder<'_>| {
            line.clear();
            if input.read_line(&mut line)? == 0 {
                return Ok(false);
            }
            n += 1;
            if mode == "panic_row" && n == 2 {
                panic!("bad row {n}");
            }
            let line = line.trim_end();
            if line.is_empty() {
                return Ok(true); // skipped
            }
            if line == "!error" {
                return Err(Error::parse("bang").with_line(n + 1));
            }
            row.set_fields(&fields);
            for cell in line.split(delim) {
                match cell.parse::<i64>() {
                    Ok(i) => row.push_int(i),
                    Err(_) => row.push_str(cell),
                };
            }
            Ok(true)
        }))
    }

    fn writer(&self, output: Output, options: &Options) -> Result<Box<dyn RowWriter>> {
        Ok(Box::new(PsvWriter {
            out: output,
            delim: options.get_char("delimiter", '|')?,
            header_done: false,
        }))
    }
}

struct PsvWriter {
    out: Output,
    delim: char,
    header_done: bool,
}

impl RowWriter for PsvWriter {
    fn write_row(&mut self, row: RowView<'_>) -> Result<()> {
        let d = self.delim.to_string();
        if !self.header_done {
            let names: Vec<&str> = row.iter().map(|(n, _)| n).collect();
            writeln!(self.out, "{}", names.join(&d))?;
            self.header_done = true;
        }
        let cells: Vec<String> = row.iter().map(|(_, c)| c.to_string()).collect();
        if cells.iter().any(|c| c.contains('\n')) {
            return Err(Error::schema("a line break in a value"));
        }
        writeln!(self.out, "{}", cells.join(&d))?;
        Ok(())
    }
    fn finish(&mut self) -> Result<()> {
        write!(self.out, "#end")?;
        Ok(())
    }
}

// ---------------------------------------------------------------- a codec

/// XOR every byte with 0x5a; the encoder appends a trailer at finish.
struct Xor;

struct XorReader(Input);

impl Read for XorReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.0.read(buf)?;
        buf[..n].iter_mut().for_each(|b| *b ^= 0x5a);
        Ok(n)
    }
}

struct XorWriter(Output);

impl Write for XorWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let x: Vec<u8> = buf.iter().map(|b| b ^ 0x5a).collect();
        self.0.write_all(&x)?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

impl Codec for Xor {
    fn info(&self) -> CodecSpec {
        CodecSpec::new("xor").extensions(["xor"]).levels(1, 9, 5)
    }
    fn decoder(&self, input: Input) -> Result<Box<dyn Read + Send>> {
        Ok(Box::new(XorReader(input)))
    }
    fn encoder(&self, output: Output, level: i32) -> Result<Encoder> {
        Ok(Encoder::with_finish(XorWriter(output), move |mut w| {
            w.0.write_all(format!("[trailer level={level}]").as_bytes())
        }))
    }
}

// ---------------------------------------------------------------- a rule

struct NonEmpty;

impl Rule for NonEmpty {
    fn info(&self) -> RuleSpec {
        RuleSpec::new("test.non_empty").description("text must not be empty")
    }
    fn check(&self, value: CellRef<'_>) -> std::result::Result<(), String> {
        match value {
            CellRef::Str("boom") => panic!("rule exploded on {value:?}"),
            CellRef::Str(s) if !s.is_empty() => Ok(()),
            CellRef::Int(_) => Ok(()),
            other => Err(format!("empty value: {other:?}")),
        }
    }
}

// ---------------------------------------------------------------- a driver

type Tables = Arc<Mutex<BTreeMap<String, Vec<Vec<(String, i64)>>>>>;

struct MemDriver(Tables);

struct MemConn(Tables);

struct TableWriter {
    tables: Tables,
    table: String,
    staged: Vec<Vec<(String, i64)>>,
    committed: bool,
}

impl RowWriter for TableWriter {
    fn write_row(&mut self, row: RowView<'_>) -> Result<()> {
        let rec = row
            .present()
            .map(|(k, v)| {
                v.as_i64()
                    .map(|i| (k.to_string(), i))
                    .ok_or_else(|| Error::schema(format!("`{k}` is not an integer")))
            })
            .collect::<Result<Vec<_>>>()?;
        self.staged.push(rec);
        Ok(())
    }
    fn finish(&mut self) -> Result<()> {
        let mut t = self.tables.lock().unwrap();
        t.entry(self.table.clone())
            .or_default()
            .append(&mut self.staged);
        self.committed = true;
        Ok(())
    }
}

impl Drop for TableWriter {
    fn drop(&mut self) {
        if !self.committed {
            self.staged.clear(); // roll back
        }
    }
}

impl Driver for MemDriver {
    fn info(&self) -> DriverSpec {
        DriverSpec::new("mem").schemes(["mem"])
    }
    fn connect(&self, uri: &str, _options: &Options) -> Result<Box<dyn Connection>> {
        if !uri.starts_with("mem://") {
            return Err(Error::driver(format!("not a mem:// uri: {uri}")));
        }
        Ok(Box::new(MemConn(self.0.clone())))
    }
}

impl Connection for MemConn {
    fn list_tables(&mut self) -> Result<Vec<String>> {
        Ok(self.0.lock().unwrap().keys().cloned().collect())
    }
    fn read_table(&mut self, table: &str, _options: &Options) -> Result<Box<dyn RowReader>> {
        let rows = self
            .0
            .lock()
            .unwrap()
            .get(table)
            .cloned()
            .ok_or_else(|| Error::not_found(format!("no table `{table}`")))?;
        let mut it = rows.into_iter();
        Ok(Box::new(move |row: &mut BatchBuilder<'_>| {
            let Some(rec) = it.next() else {
                return Ok(false);
            };
            for (k, v) in rec {
                row.key(&k).push_int(v);
            }
            Ok(true)
        }))
    }
    fn write_table(&mut self, table: &str, _options: &Options) -> Result<Box<dyn RowWriter>> {
        Ok(Box::new(TableWriter {
            tables: self.0.clone(),
            table: table.to_string(),
            staged: Vec::new(),
            committed: false,
        }))
    }
}

// ---------------------------------------------------------------- an engine

/// `concat`: all rows of all inputs, with an added `source` field.
struct Concat;

impl Engine for Concat {
    fn info(&self) -> EngineSpec {
        EngineSpec::new("concat")
    }
    fn execute(
        &self,
        query: &str,
        inputs: Vec<(String, RowSource)>,
        _options: &Options,
    ) -> Result<Box<dyn RowReader>> {
        if query != "all" {
            return Err(Error::engine(format!("unknown query `{query}`")));
        }
        let mut out: Vec<(String, Vec<(String, String)>)> = Vec::new();
        for (name, mut src) in inputs {
            src.for_each_row(|row| {
                out.push((
                    name.clone(),
                    row.present()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                ));
                Ok(())
            })?;
        }
        let mut it = out.into_iter();
        Ok(Box::new(move |row: &mut BatchBuilder<'_>| {
            let Some((source, cells)) = it.next() else {
                return Ok(false);
            };
            row.key("source").push_str(&source);
            for (k, v) in cells {
                row.key(&k).push_str(&v);
            }
            Ok(true)
        }))
    }
}

// ---------------------------------------------------------------- export

struct PanicsInInfo;

impl Rule for PanicsInInfo {
    fn info(&self) -> RuleSpec {
        panic!("info exploded")
    }
    fn check(&self, _: CellRef<'_>) -> std::result::Result<(), String> {
        Ok(())
    }
}

fn tables() -> Tables {
    static T: std::sync::OnceLock<Tables> = std::sync::OnceLock::new();
    T.get_or_init(Tables::default).clone()
}

fn engines_should_panic() -> bool {
    std::env::var_os("NEVER_SET_ITERABLE_TEST").is_some()
}

export_plugin! {
    name: "test-plugin",
    version: "9.8.7",
    description: "everything",
    formats: [Psv],
    codecs: [Xor],
    drivers: [MemDriver(tables())],
    rules: [NonEmpty],
    engines: [{ if engines_should_panic() { panic!("never") } Concat }],
    license: "MIT",
    dependencies: ["a", "b",],
    extra: ["k" => "v"],
}

mod broken {
    use super::*;
    iterable_plugin_api::__export_plugin_items!(b;); // the item muncher accepts an empty list

    pub fn module() -> PluginModule_Ref {
        struct Def;
        impl iterable_plugin_api::__private::PluginDef for Def {
            fn build(b: &mut iterable_plugin_api::__private::PluginBuilder) {
                b.name("broken");
                b.version("0");
                iterable_plugin_api::__export_plugin_items!(b; rules: [PanicsInInfo], formats: [{
                    if true { panic!("constructor exploded") }
                    Psv
                }]);
            }
        }
        iterable_plugin_api::__private::root_module::<Def>()
    }
}

// ---------------------------------------------------------------- helpers

fn module() -> PluginModule_Ref {
    get_library()
}

fn source(bytes: &'static [u8]) -> ByteSourceBox {
    ByteSourceBox::from_reader(bytes)
}

fn assert_panic_error(e: &RError, needle: &str) {
    assert_eq!(e.kind, RErrorKind::PANIC, "{e}");
    assert!(e.message.starts_with("panicked: "), "{}", e.message);
    assert!(
        e.message.contains(needle),
        "`{}` lacks `{needle}`",
        e.message
    );
}

// ---------------------------------------------------------------- tests

#[test]
fn metadata_is_complete() {
    let m = (module().metadata())().unwrap();
    assert_eq!(m.name.as_str(), "test-plugin");
    assert_eq!(m.version.as_str(), "9.8.7");
    assert_eq!(m.api_version.as_str(), iterable_plugin_api::API_VERSION);
    assert_eq!(m.description.as_str(), "everything");
    assert_eq!(m.license.as_str(), "MIT");
    assert_eq!(m.dependencies.len(), 2);
    assert_eq!(m.extra[0], Tuple2(RString::from("k"), RString::from("v")));
    assert_eq!((module().formats())().unwrap().len(), 1);
    assert_eq!((module().codecs())().unwrap().len(), 1);
    assert_eq!((module().drivers())().unwrap().len(), 1);
    assert_eq!((module().rules())().unwrap().len(), 1);
    assert_eq!((module().engines())().unwrap().len(), 1);
}

#[test]
fn format_info_and_options() {
    let formats = (module().formats())().unwrap();
    let info = formats[0].info();
    assert_eq!(info.id.as_str(), "psv");
    assert_eq!(info.extensions.len(), 2);
    assert_eq!(info.extensions[1].as_str(), "txt");
    assert_eq!(info.magic[0].as_slice(), b"#psv");
    assert!(info.can_read && info.can_write);
    assert_eq!(info.options.len(), 2);
    assert_eq!(info.options[0].default, RSome(RString::from("|")));

    let e = formats[0]
        .open_reader(source(b"a\n"), roptions([("delimeter", ",")]))
        .expect_rerr();
    assert_eq!(e.kind, RErrorKind::INVALID_OPTION);
    assert!(
        e.message.contains("unknown option `delimeter`"),
        "{}",
        e.message
    );
    assert!(e.message.contains("delimiter, mode"), "{}", e.message);

    let e = formats[0]
        .open_reader(source(b"a\n"), roptions([("mode", "fast")]))
        .expect_rerr();
    assert_eq!(e.kind, RErrorKind::INVALID_OPTION);
    assert!(
        e.message.contains("ok, panic_row, panic_open"),
        "{}",
        e.message
    );

    let e = formats[0]
        .open_reader(source(b"a\n"), roptions([("delimiter", "ab")]))
        .expect_rerr();
    assert_eq!(e.kind, RErrorKind::INVALID_OPTION);
    assert!(e.message.contains("`delimiter`"), "{}", e.message);
}

#[test]
fn reads_batches_through_the_wire_objects() {
    let formats = (module().formats())().unwrap();
    let mut text = String::from("name|n\n");
    for i in 0..2500 {
        text.push_str(&format!("row{i}|{i}\n"));
        if i == 10 {
            text.push('\n'); // blank line: skipped
        }
    }
    let bytes: &'static [u8] = Box::leak(text.into_bytes().into_boxed_slice());
    let mut reader = formats[0]
        .open_reader(source(bytes), roptions::<&str, &str>([]))
        .unwrap();
    let mut batch = RBatch::new();
    let mut seen = 0;
    let mut batches = 0;
    while reader.read_batch(&mut batch, 1000).unwrap() {
        let view = batch.validated().unwrap();
        assert_eq!(view.field_names().collect::<Vec<_>>(), ["name", "n"]);
        assert!(view.len() <= 1000);
        for row in view {
            assert_eq!(row.get(0).as_str(), Some(format!("row{seen}").as_str()));
            assert_eq!(row.get(1), CellRef::Int(seen));
            seen += 1;
        }
        batches += 1;
    }
    assert_eq!(seen, 2500);
    assert_eq!(batches, 3);
    assert_eq!(batch.rows, 0, "the end-of-stream batch is empty");
    // After the end it stays ended.
    assert!(!reader.read_batch(&mut batch, 10).unwrap());
}

#[test]
fn errors_come_after_the_good_rows_and_reading_can_continue() {
    let formats = (module().formats())().unwrap();
    let mut reader = formats[0]
        .open_reader(source(b"a\n1\n2\n!error\n3\n"), roptions::<&str, &str>([]))
        .unwrap();
    let mut batch = RBatch::new();
    assert!(reader.read_batch(&mut batch, 100).unwrap());
    assert_eq!(batch.rows, 2);
    let e = reader.read_batch(&mut batch, 100).expect_rerr();
    assert_eq!(e.kind, RErrorKind::PARSE);
    assert_eq!(e.message.as_str(), "bang");
    assert_eq!(e.line, RSome(4));
    assert_eq!(e.record, RSome(3), "record number filled in by the adapter");
    assert_eq!(batch.rows, 0);
    assert!(reader.read_batch(&mut batch, 100).unwrap());
    assert_eq!(batch.cell(0, 0), CellRef::Int(3));
    assert!(!reader.read_batch(&mut batch, 100).unwrap());
}

#[test]
fn host_io_errors_reach_the_host_with_their_kind() {
    struct Failing;
    impl Read for Failing {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                "disk says no",
            ))
        }
    }
    let formats = (module().formats())().unwrap();
    let e = formats[0]
        .open_reader(
            ByteSourceBox::from_reader(Failing),
            roptions::<&str, &str>([]),
        )
        .expect_rerr();
    assert_eq!(e.kind, RErrorKind::IO);
    assert!(e.message.contains("disk says no"), "{}", e.message);
}

#[test]
fn panics_in_read_row_are_errors_and_poison_the_reader() {
    let formats = (module().formats())().unwrap();
    let mut reader = formats[0]
        .open_reader(source(b"a\n1\n2\n3\n"), roptions([("mode", "panic_row")]))
        .unwrap();
    let mut batch = RBatch::new();
    // The row read before the panic is delivered; then the panic, as an
    // error numbered with the record it happened at.
    assert!(matches!(
        reader.read_batch(&mut batch, 100),
        RResult::ROk(true)
    ));
    assert_eq!(batch.rows, 1);
    batch.validate().unwrap();
    let e = reader.read_batch(&mut batch, 100).expect_rerr();
    assert_panic_error(&e, "bad row 2");
    assert!(
        e.message.contains("tests/plugin.rs:"),
        "location: {}",
        e.message
    );
    assert_eq!(e.record, RSome(2));
    assert_eq!(batch.rows, 0);
    batch.validate().unwrap();
    // Poisoned from now on.
    let e = reader.read_batch(&mut batch, 100).expect_rerr();
    assert_eq!(e.kind, RErrorKind::PANIC);
    assert!(e.message.contains("earlier panic"), "{}", e.message);
    assert!(e.message.contains("bad row 2"), "{}", e.message);
}

#[test]
fn panics_in_open_are_errors() {
    let formats = (module().formats())().unwrap();
    let e = formats[0]
        .open_reader(source(b"a\n"), roptions([("mode", "panic_open")]))
        .expect_rerr();
    assert_panic_error(&e, "cannot open: boom");
    // The provider itself is still usable.
    assert!(
        formats[0]
            .open_reader(source(b"a\n1\n"), roptions::<&str, &str>([]))
            .is_ok()
    );
}

#[test]
fn panics_while_building_providers_are_errors() {
    let m = broken::module();
    let e = (m.rules())().expect_rerr();
    assert_panic_error(&e, "info exploded");
    let e = (m.formats())().expect_rerr();
    assert_panic_error(&e, "constructor exploded");
    assert_eq!((m.metadata())().unwrap().name.as_str(), "broken");
    assert_eq!((m.codecs())().unwrap().len(), 0);
}

fn sample_batch() -> RBatch {
    let mut batch = RBatch::new();
    let mut b = batch.builder();
    b.set_fields(&["a", "b"]);
    b.push_str("x").push_int(1).end_row();
    b.push_str("y").push_null().end_row();
    drop(b);
    batch
}

#[test]
fn writes_batches_and_finishes_the_sink() {
    let formats = (module().formats())().unwrap();
    let out = MemorySink::new();
    let finished = Arc::new(Mutex::new(false));
    let f2 = finished.clone();
    let sink = ByteSinkBox::from_writer_with_finish(out.clone(), move |_| {
        *f2.lock().unwrap() = true;
        Ok(())
    });
    let mut writer = formats[0]
        .open_writer(sink, roptions([("delimiter", "tab")]))
        .unwrap();
    let batch = sample_batch();
    writer.write_batch(&batch).unwrap();
    writer.write_batch(&batch).unwrap();
    assert!(!*finished.lock().unwrap());
    writer.finish().unwrap();
    assert!(*finished.lock().unwrap());
    assert_eq!(out.text(), "a\tb\nx\t1\ny\t\nx\t1\ny\t\n#end");
    // Writing after finish is an error, not a panic.
    assert_eq!(
        writer.write_batch(&batch).expect_rerr().kind,
        RErrorKind::INVALID_INPUT
    );
    // A second finish is harmless.
    writer.finish().unwrap();
}

/// The test format's writer, into a sink that drops the bytes.
fn discarding_writer() -> iterable_plugin_api::RecordSinkBox {
    let formats = (module().formats())().unwrap();
    formats[0]
        .open_writer(
            ByteSinkBox::from_writer(io::sink()),
            roptions::<&str, &str>([]),
        )
        .unwrap()
}

#[test]
fn a_rows_error_is_numbered_with_its_record_in_the_stream() {
    let mut writer = discarding_writer();
    writer.write_batch(&sample_batch()).unwrap();
    let mut batch = RBatch::new();
    let mut b = batch.builder();
    b.set_fields(&["a"]);
    b.push_str("fine").end_row();
    b.push_str("two\nlines").end_row();
    drop(b);
    // Two records before this batch, and the second row fails: record 4.
    let e = writer.write_batch(&batch).expect_rerr();
    assert_eq!(e.kind, RErrorKind::SCHEMA);
    assert_eq!(e.record.into_option(), Some(4));
}

#[test]
fn writer_rejects_malformed_batches() {
    let mut writer = discarding_writer();
    let mut batch = sample_batch();
    batch.ends.as_mut_slice()[0] = 100;
    let e = writer.write_batch(&batch).expect_rerr();
    assert_eq!(e.kind, RErrorKind::INVALID_INPUT);
}

#[test]
fn sink_errors_during_the_final_flush_are_reported() {
    struct Full;
    impl Write for Full {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::other("device full"))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let formats = (module().formats())().unwrap();
    let mut writer = formats[0]
        .open_writer(ByteSinkBox::from_writer(Full), roptions::<&str, &str>([]))
        .unwrap();
    // Small writes stay in the plugin-side buffer...
    writer.write_batch(&sample_batch()).unwrap();
    // ...and the failure shows up at finish.
    let e = writer.finish().expect_rerr();
    assert!(e.message.contains("device full"), "{e}");
    // Asking again repeats the failure instead of pretending success.
    let again = writer.finish().expect_rerr();
    assert_eq!(again, e);
}

#[test]
fn codec_round_trip_with_trailer_and_levels() {
    let codecs = (module().codecs())().unwrap();
    let info = codecs[0].info();
    assert_eq!(
        (info.level_min, info.level_max, info.level_default),
        (1, 9, 5)
    );

    let out = MemorySink::new();
    let enc = codecs[0]
        .encoder(ByteSinkBox::from_writer(out.clone()), RNone)
        .unwrap();
    let mut w = SinkWriter::new(enc);
    w.write_all(b"hello codec").unwrap();
    w.finish().unwrap();
    let compressed = out.contents();
    let trailer = b"[trailer level=5]";
    assert_eq!(compressed.len(), 11 + trailer.len());

    let compressed: &'static [u8] = Box::leak(compressed.into_boxed_slice());
    let dec = codecs[0].decoder(source(compressed)).unwrap();
    let mut text = Vec::new();
    SourceReader::new(dec).read_to_end(&mut text).unwrap();
    let expected_trailer: Vec<u8> = trailer.iter().map(|b| b ^ 0x5a).collect();
    assert_eq!(&text[..11], b"hello codec");
    assert_eq!(&text[11..], &expected_trailer[..]);

    let e = codecs[0]
        .encoder(ByteSinkBox::from_writer(io::sink()), RSome(42))
        .expect_rerr();
    assert_eq!(e.kind, RErrorKind::INVALID_OPTION);
    assert!(e.message.contains("1..=9"), "{e}");
}

#[test]
fn rule_checks_a_whole_batch_in_one_call() {
    let rules = (module().rules())().unwrap();
    assert_eq!(rules[0].info().name.as_str(), "test.non_empty");
    let mut values = RBatch::new();
    let mut b = values.builder();
    b.set_fields(&["value"]);
    b.push_str("ok").end_row();
    b.push_str("").end_row();
    b.push_int(3).end_row();
    b.push_null().end_row();
    drop(b);
    let mut out: RVec<ROption<RString>> = RVec::new();
    rules[0].check_batch(&values, &mut out).unwrap();
    assert_eq!(out.len(), 4);
    assert_eq!(out[0], RNone);
    assert!(matches!(&out[1], RSome(m) if m.as_str().starts_with("empty value")));
    assert_eq!(out[2], RNone);
    assert!(out[3].is_some());

    // A panic inside the rule is an error (and leaves `out` empty).
    let mut b = values.builder();
    b.push_str("boom").end_row();
    drop(b);
    let e = rules[0].check_batch(&values, &mut out).expect_rerr();
    assert_panic_error(&e, "rule exploded");
    assert!(out.is_empty());
    // The rule still works afterwards.
    values.clear();
    let mut b = values.builder();
    b.set_fields(&["v"]);
    b.push_str("fine").end_row();
    drop(b);
    rules[0].check_batch(&values, &mut out).unwrap();
    assert_eq!(out.as_slice(), &[RNone]);
}

#[test]
fn driver_write_is_atomic_and_readable() {
    let drivers = (module().drivers())().unwrap();
    assert_eq!(drivers[0].info().schemes[0].as_str(), "mem");
    assert_eq!(
        drivers[0]
            .connect("sqlite://x".into(), RVec::new())
            .expect_rerr()
            .kind,
        RErrorKind::DRIVER
    );
    let mut conn = drivers[0].connect("mem://db".into(), RVec::new()).unwrap();

    let mut batch = RBatch::new();
    let mut b = batch.builder();
    b.key("x").push_int(1);
    b.key("y").push_int(2);
    b.end_row();
    drop(b);

    // Dropped without finish: rolled back.
    let mut w = conn.write_table("t_rollback".into(), RVec::new()).unwrap();
    w.write_batch(&batch).unwrap();
    drop(w);
    // Finished: committed.
    let mut w = conn.write_table("t".into(), RVec::new()).unwrap();
    w.write_batch(&batch).unwrap();
    w.write_batch(&batch).unwrap();
    w.finish().unwrap();

    let tables = conn.list_tables().unwrap();
    assert!(tables.iter().any(|t| t.as_str() == "t"));
    assert!(!tables.iter().any(|t| t.as_str() == "t_rollback"));

    let mut r = conn.read_table("t".into(), RVec::new()).unwrap();
    let mut out = RBatch::new();
    assert!(r.read_batch(&mut out, 10).unwrap());
    assert_eq!(out.rows, 2);
    assert_eq!(out.cell(1, 1), CellRef::Int(2));

    let e = conn
        .read_query("select 1".into(), RVec::new())
        .expect_rerr();
    assert_eq!(e.kind, RErrorKind::UNSUPPORTED);
    let e = conn.read_table("missing".into(), RVec::new()).expect_rerr();
    assert_eq!(e.kind, RErrorKind::NOT_FOUND);

    // A non-integer value: schema error from the writer, no commit.
    let mut bad = RBatch::new();
    let mut b = bad.builder();
    b.key("x").push_str("nope").end_row();
    drop(b);
    let mut w = conn.write_table("t_bad".into(), RVec::new()).unwrap();
    assert_eq!(w.write_batch(&bad).expect_rerr().kind, RErrorKind::SCHEMA);
    drop(w);
    assert!(
        !conn
            .list_tables()
            .unwrap()
            .iter()
            .any(|t| t.as_str() == "t_bad")
    );
}

#[test]
fn engine_pulls_host_inputs_in_batches() {
    let engines = (module().engines())().unwrap();
    assert_eq!(engines[0].info().id.as_str(), "concat");

    fn host_input(prefix: &'static str, rows: i64) -> RecordSourceBox {
        let mut next = 0;
        RecordSourceBox::from_fn(move |batch, max| {
            let mut b = batch.builder();
            while next < rows && (b.row_count() as u32) < max {
                b.key("v").push_str(&format!("{prefix}{next}"));
                b.end_row();
                next += 1;
            }
            Ok(b.row_count() > 0)
        })
    }
    let inputs: RVec<Tuple2<RString, RecordSourceBox>> = vec![
        Tuple2(RString::from("left"), host_input("l", 3000)),
        Tuple2(RString::from("right"), host_input("r", 2)),
    ]
    .into();
    let mut result = engines[0]
        .execute("all".into(), inputs, RVec::new())
        .unwrap();
    let mut batch = RBatch::new();
    let mut rows = Vec::new();
    while result.read_batch(&mut batch, 1024).unwrap() {
        for row in batch.validated().unwrap() {
            rows.push(format!(
                "{}:{}",
                row.get_by_name("source"),
                row.get_by_name("v")
            ));
        }
    }
    assert_eq!(rows.len(), 3002);
    assert_eq!(rows[0], "left:l0");
    assert_eq!(rows[2999], "left:l2999");
    assert_eq!(rows[3001], "right:r1");

    // A host input that panics: the host-side guard turns it into an error
    // the engine sees and returns.
    let inputs: RVec<Tuple2<RString, RecordSourceBox>> = vec![Tuple2(
        RString::from("bad"),
        RecordSourceBox::from_fn(|_, _| panic!("host input exploded")),
    )]
    .into();
    let e = engines[0]
        .execute("all".into(), inputs, RVec::new())
        .expect_rerr();
    assert_panic_error(&e, "host input exploded");

    let e = engines[0]
        .execute("nope".into(), RVec::new(), RVec::new())
        .expect_rerr();
    assert_eq!(e.kind, RErrorKind::ENGINE);
}

#[test]
fn panicking_drop_in_plugin_code_is_contained() {
    struct DropBomb;
    impl Drop for DropBomb {
        fn drop(&mut self) {
            panic!("drop exploded");
        }
    }
    impl RowReader for DropBomb {
        fn read_row(&mut self, _: &mut BatchBuilder<'_>) -> Result<bool> {
            Ok(false)
        }
    }
    let src = iterable_plugin_api::sdk::adapt::reader_source(Box::new(DropBomb));
    drop(src); // must not unwind into the caller
}

/// Rows whose fields come in different orders each keep their own order:
/// a row out of the batch's field order starts a new batch.
#[test]
fn every_row_keeps_its_own_field_order() {
    let rows: Vec<Vec<(&'static str, i64)>> = vec![
        vec![("a", 1), ("b", 2)],
        vec![("b", 3), ("a", 4)],
        vec![("a", 5), ("b", 6)],
        vec![("a", 7), ("c", 8)],
        vec![("c", 9), ("a", 10), ("c", 11)],
        vec![("b", 12)],
    ];
    let mut it = rows.clone().into_iter();
    let reader = move |row: &mut BatchBuilder<'_>| match it.next() {
        Some(cells) => {
            for (k, v) in cells {
                row.key(k).push_int(v);
            }
            Ok(true)
        }
        None => Ok(false),
    };
    let mut src = iterable_plugin_api::sdk::adapt::reader_source(Box::new(reader));
    let mut got: Vec<Vec<(String, i64)>> = Vec::new();
    let mut batch = iterable_plugin_api::RBatch::new();
    let mut calls = 0;
    while src.read_batch(&mut batch, 1024).into_result().unwrap() {
        calls += 1;
        let view = batch.validated().unwrap();
        for row in view.iter() {
            got.push(
                row.present()
                    .map(|(k, v)| (k.to_owned(), v.as_i64().unwrap()))
                    .collect(),
            );
        }
    }
    let want: Vec<Vec<(String, i64)>> = vec![
        vec![("a".into(), 1), ("b".into(), 2)],
        vec![("b".into(), 3), ("a".into(), 4)],
        vec![("a".into(), 5), ("b".into(), 6)],
        vec![("a".into(), 7), ("c".into(), 8)],
        // A key set twice keeps its last value, at its first place.
        vec![("c".into(), 11), ("a".into(), 10)],
        vec![("b".into(), 12)],
    ];
    assert_eq!(got, want);
    assert!(
        calls >= 3,
        "out-of-order rows start new batches ({calls} calls)"
    );
}
