//! The code snippets of docs/plugin-guide.md, compiled and exercised.
//!
//! Every ```rust block of the guide after the first (which is src/lib.rs)
//! appears verbatim between a `// guide:` marker and `// end` below;
//! tests/guide.rs checks that, so the guide cannot show code that does not
//! compile.

use iterable_plugin_api::prelude::*;
use iterable_plugin_api::testing::Value;

// guide: options
/// `key=value` pairs separated by the `sep` option (default `;`).
struct Kv;

impl Format for Kv {
    fn info(&self) -> FormatSpec {
        FormatSpec::new("kv")
            .extensions(["kv"])
            .option_default("sep", "the pair separator", ";")
            .option_choices("numbers", "read integers as numbers", &["yes", "no"], "no")
    }
    fn reader(&self, input: Input, options: &Options) -> Result<Box<dyn RowReader>> {
        let sep = options.get_char("sep", ';')?;
        let numbers = options.get_bool("numbers", false)?;
        Ok(input.line_reader(move |line, row| {
            for pair in line.split(sep).filter(|pair| !pair.is_empty()) {
                let Some((key, value)) = pair.split_once('=') else {
                    return Err(Error::parse(format!("expected key=value, found `{pair}`")));
                };
                match value.parse::<i64>() {
                    Ok(n) if numbers => row.key(key).push_int(n),
                    _ => row.key(key).push_str(value),
                };
            }
            Ok(())
        }))
    }
}
// end

// guide: codec
use std::io::Read;

/// zlib streams (RFC 1950), through the flate2 crate.
struct Zlib;

impl Codec for Zlib {
    fn info(&self) -> CodecSpec {
        CodecSpec::new("zlib").extensions(["zz"]).levels(0, 9, 6)
    }
    fn decoder(&self, input: Input) -> Result<Box<dyn Read + Send>> {
        Ok(Box::new(flate2::bufread::ZlibDecoder::new(input)))
    }
    fn encoder(&self, output: Output, level: i32) -> Result<Encoder> {
        let level = flate2::Compression::new(level as u32); // checked against 0..=9
        let zlib = flate2::write::ZlibEncoder::new(output, level);
        Ok(Encoder::with_finish(zlib, |zlib| zlib.finish().map(drop)))
    }
}
// end

// guide: driver
/// `textdir://DIR`: every `DIR/<table>.txt` is a table, one record per line.
struct TextDir;

struct TextDirConnection(std::path::PathBuf);

impl Driver for TextDir {
    fn info(&self) -> DriverSpec {
        DriverSpec::new("textdir").schemes(["textdir"])
    }
    fn connect(&self, uri: &str, _options: &Options) -> Result<Box<dyn Connection>> {
        let dir = uri.strip_prefix("textdir://").unwrap_or(uri);
        if !std::path::Path::new(dir).is_dir() {
            return Err(Error::driver(format!("{dir} is not a directory")));
        }
        Ok(Box::new(TextDirConnection(dir.into())))
    }
}

impl Connection for TextDirConnection {
    fn list_tables(&mut self) -> Result<Vec<String>> {
        let mut tables = Vec::new();
        for entry in std::fs::read_dir(&self.0)? {
            let name = entry?.file_name().to_string_lossy().into_owned();
            if let Some(table) = name.strip_suffix(".txt") {
                tables.push(table.to_owned());
            }
        }
        tables.sort();
        Ok(tables)
    }
    fn read_table(&mut self, table: &str, _options: &Options) -> Result<Box<dyn RowReader>> {
        let path = self.0.join(format!("{table}.txt"));
        let file = std::fs::File::open(&path)
            .map_err(|e| Error::not_found(format!("no table `{table}` ({e})")))?;
        Ok(Input::from_reader(file).line_reader(|line, row| {
            row.key("line").push_str(line);
            Ok(())
        }))
    }
}
// end

// guide: rule
/// `demo.even`: an even integer. Empty values pass (that is `required`'s job).
struct Even;

impl Rule for Even {
    fn info(&self) -> RuleSpec {
        RuleSpec::new("demo.even").description("an even integer")
    }
    fn check(&self, value: CellRef<'_>) -> std::result::Result<(), String> {
        let n = match value {
            CellRef::Absent | CellRef::Null | CellRef::Str("") => return Ok(()),
            CellRef::Int(n) => n,
            CellRef::Str(s) => s
                .trim()
                .parse()
                .map_err(|_| format!("`{s}` is not an integer"))?,
            other => return Err(format!("expected an integer, found `{other}`")),
        };
        match n % 2 {
            0 => Ok(()),
            _ => Err(format!("{n} is odd")),
        }
    }
}
// end

// guide: engine
/// `count`: one record `{table, rows}` per input (the query text is ignored).
struct Count;

impl Engine for Count {
    fn info(&self) -> EngineSpec {
        EngineSpec::new("count").description("counts the records of each input")
    }
    fn execute(
        &self,
        _query: &str,
        inputs: Vec<(String, RowSource)>,
        _options: &Options,
    ) -> Result<Box<dyn RowReader>> {
        let mut counts = Vec::new();
        for (table, mut rows) in inputs {
            let mut n = 0;
            while let Some(batch) = rows.next_batch()? {
                n += batch.len() as i64;
            }
            counts.push((table, n));
        }
        let mut counts = counts.into_iter();
        Ok(Box::new(move |row: &mut BatchBuilder<'_>| {
            let Some((table, n)) = counts.next() else {
                return Ok(false); // end of the result
            };
            row.key("table").push_str(&table);
            row.key("rows").push_int(n);
            Ok(true)
        }))
    }
}
// end

// guide: test
use iterable_plugin_api::testing::{PluginTest, observe_hook, record};
use iterable_plugin_template::plugin_exports;

#[test]
fn reads_one_record_per_line() {
    let t = PluginTest::new(plugin_exports());
    let records = t.read("lines", b"first\nsecond\n", &[]).unwrap();
    assert_eq!(records.len(), 2);
    assert_eq!(records[1], record([("line", "second")]));
}

#[test]
fn writes_what_it_reads() {
    let t = PluginTest::new(plugin_exports());
    let records = [record([("line", "a")]), record([("line", "b")])];
    assert_eq!(t.write("lines", &records, &[]).unwrap(), b"a\nb\n");
}
// end

// guide: hook
/// Stops the run when a field is empty.
struct NoEmpty;

impl Hook for NoEmpty {
    fn info(&self) -> HookSpec {
        HookSpec::new("noempty").option("field", "the field that must not be empty")
    }
    fn open(&self, _run: &RunInfo, options: &Options) -> Result<Box<dyn RunWatcher>> {
        let field = options
            .get("field")
            .ok_or_else(|| Error::invalid_option("field", "missing"))?
            .to_owned();
        Ok(Box::new(Watch { field, seen: 0 }))
    }
}

struct Watch {
    field: String,
    seen: u64,
}

impl RunWatcher for Watch {
    fn batch(&mut self, rows: BatchView<'_>) -> Result<()> {
        for row in rows {
            self.seen += 1;
            if row.get_by_name(&self.field).as_str() == Some("") {
                return Err(Error::other(format!(
                    "record {}: {} is empty",
                    self.seen, self.field
                )));
            }
        }
        Ok(())
    }
}
// end

// guide: hook-test
#[test]
fn noempty_stops_at_the_first_empty_value() {
    let run = RunInfo::default();
    let done = RunSummary::default();
    let rows = vec![record([("name", "Ann")]), record([("name", "")])];
    let e = observe_hook(NoEmpty, &run, &[("field", "name")], &[rows], None, &done).unwrap_err();
    assert_eq!(e.to_string(), "error: record 2: name is empty");
}
// end

// ---------------------------------------------------------------------------
// Tests of the snippets above, through the test harness (the same wire
// objects a host uses).
// ---------------------------------------------------------------------------

/// Each record as `field=value` pairs of its present cells (text unquoted).
fn lines(records: Vec<iterable_plugin_api::testing::Record>) -> Vec<String> {
    records
        .iter()
        .map(|r| {
            let cells: Vec<String> = r
                .iter()
                .map(|(k, v)| match v {
                    Value::Str(s) => format!("{k}={s}"),
                    other => format!("{k}={other}"),
                })
                .collect();
            cells.join(" ")
        })
        .collect()
}

#[test]
fn kv_options_are_declared_checked_and_used() {
    let kv = PluginTest::providers().format(Kv).unwrap();
    let info = kv.format_about("kv").unwrap();
    let names: Vec<&str> = info.options.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["sep", "numbers"]);

    let read = |text: &str, options: &[(&str, &str)]| kv.read("kv", text.as_bytes(), options);
    assert_eq!(lines(read("a=1;b=x\n", &[]).unwrap()), ["a=1 b=x"]);
    let rows = read("a=1\tb=x\n", &[("sep", "tab"), ("numbers", "yes")]).unwrap();
    assert_eq!(lines(rows), ["a=1 b=x"]);

    // With numbers=yes, `a` is an integer cell.
    assert_eq!(
        read("a=1", &[("numbers", "yes")]).unwrap(),
        [record([("a", Value::Int(1))])]
    );

    // The host-facing adapter refuses values outside the declared choices...
    let e = read("a=1\n", &[("numbers", "maybe")]).unwrap_err();
    assert_eq!(e.kind, RErrorKind::INVALID_OPTION);
    assert_eq!(
        e.message.as_str(),
        "option `numbers`: invalid value `maybe` (choose one of: yes, no)"
    );
    // ...and a parse error carries its line number.
    let e = read("a=1\nb\n", &[]).unwrap_err();
    assert_eq!(e.kind, RErrorKind::PARSE);
    assert_eq!(e.line, Some(2));
    assert_eq!(e.message.as_str(), "expected key=value, found `b`");
    assert_eq!(
        e.to_string(),
        "parse error at line 2 (record 2): expected key=value, found `b`"
    );
}

#[test]
fn zlib_round_trip_and_level_range() {
    let zlib = PluginTest::providers().codec(Zlib).unwrap();
    let compressed = zlib
        .encode("zlib", b"hello zlib, hello zlib", Some(9))
        .unwrap();
    assert_eq!(&compressed[..2], [0x78, 0xda]); // zlib header, best compression

    let mut text = String::new();
    zlib.decoder("zlib", std::io::Cursor::new(compressed))
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(text, "hello zlib, hello zlib");

    let e = zlib.encode("zlib", b"", Some(10)).unwrap_err();
    assert_eq!(e.kind, RErrorKind::INVALID_OPTION);
}

#[test]
fn textdir_lists_and_reads_tables() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "a\nb\n").unwrap();
    std::fs::write(dir.path().join("todo.txt"), "x\n").unwrap();
    std::fs::write(dir.path().join("skip.csv"), "no\n").unwrap();
    let t = PluginTest::providers().driver(TextDir).unwrap();
    let uri = format!("textdir://{}", dir.path().display());
    let mut conn = t.connect("textdir", &uri, &[]).unwrap();
    assert_eq!(conn.tables().unwrap(), ["notes", "todo"]);
    let rows = conn.read_table("notes", &[]);
    assert_eq!(lines(rows.unwrap()), ["line=a", "line=b"]);
    let e = conn.read_table("nope", &[]).unwrap_err();
    assert_eq!(e.kind, RErrorKind::NOT_FOUND);
    assert!(e.message.starts_with("no table `nope` ("), "{e}");

    let e = t
        .connect("textdir", "textdir:///no/such/dir", &[])
        .unwrap_err();
    assert_eq!(e.kind, RErrorKind::DRIVER);
    assert_eq!(e.message.as_str(), "/no/such/dir is not a directory");
}

#[test]
fn even_checks_a_batch() {
    let t = PluginTest::providers().rule(Even).unwrap();
    let values = [
        Value::Int(4),
        Value::Int(3),
        Value::from(" 10 "),
        Value::from("ten"),
        Value::Null,
        Value::Float(2.0),
    ];
    assert_eq!(
        t.check("demo.even", &values).unwrap(),
        [
            None,
            Some("3 is odd".into()),
            None,
            Some("`ten` is not an integer".into()),
            None,
            Some("expected an integer, found `2`".into()),
        ]
    );
}

#[test]
fn count_engine_counts_each_input() {
    let lines_format = PluginTest::new(plugin_exports());
    let input = |text: &str| lines_format.read("lines", text.as_bytes(), &[]).unwrap();
    let t = PluginTest::providers().engine(Count).unwrap();
    let result = t
        .query(
            "count",
            "ignored",
            &[("a", input("1\n2\n3\n")), ("b", input(""))],
            &[],
        )
        .unwrap();
    assert_eq!(lines(result), ["table=a rows=3", "table=b rows=0"]);
}
