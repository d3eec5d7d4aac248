//! A test plugin with one provider of every kind, plus providers that
//! panic, so the host's isolation can be tested against a real library.
//!
//! Setting `ITERABLE_TESTKIT_PANIC_INIT=1` makes listing its formats panic.

use std::io::{Read, Write};
use std::path::PathBuf;

use iterable_plugin_api::prelude::*;

/// `k=v;k=v` lines.
pub struct Kv;

impl Format for Kv {
    fn info(&self) -> FormatSpec {
        if std::env::var("ITERABLE_TESTKIT_PANIC_INIT").is_ok_and(|v| v == "1") {
            panic!("testkit refuses to start");
        }
        FormatSpec::new("kv")
            .description("k=v pairs separated by ';', one record per line")
            .extensions(["kv"])
            .read_write()
            .option_default("sep", "pair separator", ";")
    }

    fn reader(&self, input: Input, options: &Options) -> Result<Box<dyn RowReader>> {
        let sep = options.get_char("sep", ';')?;
        Ok(input.line_reader(move |line, row| {
            for pair in line.split(sep).filter(|p| !p.is_empty()) {
                let (k, v) = pair
                    .split_once('=')
                    .ok_or_else(|| Error::parse(format!("no '=' in {pair:?}")))?;
                match v.parse::<i64>() {
                    Ok(i) => row.key(k).push_int(i),
                    Err(_) => row.key(k).push_str(v),
                };
            }
            Ok(())
        }))
    }

    fn writer(&self, output: Output, options: &Options) -> Result<Box<dyn RowWriter>> {
        let sep = options.get_char("sep", ';')?;
        Ok(output.row_writer(move |out, row| {
            let cells: Vec<String> = row.present().map(|(k, v)| format!("{k}={v}")).collect();
            // The error carries no record number: the adapter adds it.
            if let Some(bad) = cells.iter().find(|c| c.contains(sep) || c.contains('\n')) {
                return Err(Error::invalid_input(format!(
                    "{bad:?} holds the separator or a line break"
                )));
            }
            writeln!(out, "{}", cells.join(&sep.to_string()))?;
            Ok(())
        }))
    }
}

/// Reads one record, then panics.
pub struct Boom;

impl Format for Boom {
    fn info(&self) -> FormatSpec {
        FormatSpec::new("boom")
            .description("panics after the first record, and when writing")
            .extensions(["boom"])
            .read_write()
    }

    fn writer(&self, _output: Output, _options: &Options) -> Result<Box<dyn RowWriter>> {
        panic!("boom while opening a writer")
    }

    fn reader(&self, _input: Input, _options: &Options) -> Result<Box<dyn RowReader>> {
        let mut n = 0;
        Ok(Box::new(move |row: &mut BatchBuilder<'_>| {
            n += 1;
            if n > 1 {
                panic!("boom at record {n}");
            }
            row.key("n").push_int(n);
            Ok(true)
        }))
    }
}

const MAGIC: &[u8] = b"XOR!";

struct XorWriter<W: Write>(W);

impl<W: Write> Write for XorWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let x: Vec<u8> = buf.iter().map(|b| b ^ 0x5a).collect();
        self.0.write_all(&x)?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// XOR with 0x5a after a 4-byte magic.
pub struct Xor;

impl Codec for Xor {
    fn info(&self) -> CodecSpec {
        CodecSpec::new("xor")
            .description("XOR with 0x5a")
            .extensions(["xor"])
            .magic(MAGIC)
            // Accepted and ignored: there for the description's round trip.
            .levels(1, 3, 2)
    }

    fn decoder(&self, mut input: Input) -> Result<Box<dyn Read + Send>> {
        let mut magic = [0u8; 4];
        input
            .read_exact(&mut magic)
            .map_err(|_| Error::compression("xor: input too short"))?;
        if magic != MAGIC {
            return Err(Error::compression("xor: bad magic"));
        }
        Ok(Box::new(
            input
                .bytes()
                .map(|b| b.map(|b| b ^ 0x5a))
                .collect::<std::io::Result<Vec<u8>>>()
                .map(std::io::Cursor::new)?,
        ))
    }

    fn encoder(&self, mut output: Output, _level: i32) -> Result<Encoder> {
        output.write_all(MAGIC)?;
        Ok(Encoder::new(XorWriter(output)))
    }
}

/// `test.even`: an even integer.
pub struct Even;

impl Rule for Even {
    fn info(&self) -> RuleSpec {
        RuleSpec::new("test.even").description("an even integer")
    }

    fn check(&self, value: CellRef<'_>) -> std::result::Result<(), String> {
        let n = match value {
            CellRef::Int(i) => i,
            CellRef::Str(s) => s
                .trim()
                .parse()
                .map_err(|_| format!("{s:?} is not an integer"))?,
            CellRef::Null | CellRef::Absent => return Ok(()),
            other => return Err(format!("{other} is not an integer")),
        };
        if n % 2 == 0 {
            Ok(())
        } else {
            Err(format!("{n} is odd"))
        }
    }
}

/// `test.boom`: panics.
pub struct BoomRule;

impl Rule for BoomRule {
    fn info(&self) -> RuleSpec {
        RuleSpec::new("test.boom").description("panics")
    }

    fn check(&self, _value: CellRef<'_>) -> std::result::Result<(), String> {
        panic!("rule exploded")
    }
}

/// `concat`: every input's rows, with the input's name in `_table`.
pub struct Concat;

impl Engine for Concat {
    fn info(&self) -> EngineSpec {
        EngineSpec::new("concat").description("concatenates its inputs, adding _table")
    }

    fn execute(
        &self,
        query: &str,
        inputs: Vec<(String, RowSource)>,
        _options: &Options,
    ) -> Result<Box<dyn RowReader>> {
        if query.trim() != "ALL" {
            return Err(Error::engine(format!(
                "unsupported query {query:?}; only ALL"
            )));
        }
        let mut rows: Vec<Vec<(String, String)>> = Vec::new();
        for (name, mut src) in inputs {
            src.for_each_row(|row| {
                let mut r = vec![("_table".to_owned(), name.clone())];
                r.extend(row.present().map(|(k, v)| (k.to_owned(), v.to_string())));
                rows.push(r);
                Ok(())
            })?;
        }
        let mut it = rows.into_iter();
        Ok(Box::new(move |row: &mut BatchBuilder<'_>| {
            match it.next() {
                Some(r) => {
                    for (k, v) in r {
                        row.key(&k).push_str(&v);
                    }
                    Ok(true)
                }
                None => Ok(false),
            }
        }))
    }
}

/// `kvdir://DIR`: each table is `DIR/<table>.kv`.
pub struct KvDir;

struct KvConn {
    dir: PathBuf,
}

impl Driver for KvDir {
    fn info(&self) -> DriverSpec {
        DriverSpec::new("kvdir")
            .description("a directory of .kv files, one per table")
            .schemes(["kvdir"])
    }

    fn connect(&self, uri: &str, _options: &Options) -> Result<Box<dyn Connection>> {
        let path = uri
            .strip_prefix("kvdir://")
            .ok_or_else(|| Error::invalid_input("expected kvdir://DIR"))?;
        let dir = PathBuf::from(path);
        if !dir.is_dir() {
            return Err(Error::driver(format!(
                "{} is not a directory",
                dir.display()
            )));
        }
        Ok(Box::new(KvConn { dir }))
    }
}

impl Connection for KvConn {
    fn list_tables(&mut self) -> Result<Vec<String>> {
        let mut t: Vec<String> = std::fs::read_dir(&self.dir)?
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                e.file_name()
                    .to_str()
                    .and_then(|n| n.strip_suffix(".kv"))
                    .map(str::to_owned)
            })
            .collect();
        t.sort();
        Ok(t)
    }

    fn read_table(&mut self, table: &str, options: &Options) -> Result<Box<dyn RowReader>> {
        let f = std::fs::File::open(self.dir.join(format!("{table}.kv")))
            .map_err(|e| Error::driver(format!("no table {table:?}: {e}")))?;
        Kv.reader(Input::from_reader(f), options)
    }

    fn write_table(&mut self, table: &str, _options: &Options) -> Result<Box<dyn RowWriter>> {
        Ok(Box::new(KvTableWriter {
            target: self.dir.join(format!("{table}.kv")),
            tmp: self.dir.join(format!(".{table}.kv.tmp")),
            lines: Vec::new(),
        }))
    }
}

/// Writes a whole table at finish, so an unfinished write changes nothing.
struct KvTableWriter {
    target: PathBuf,
    tmp: PathBuf,
    lines: Vec<String>,
}

impl RowWriter for KvTableWriter {
    fn write_row(&mut self, row: RowView<'_>) -> Result<()> {
        let cells: Vec<String> = row.present().map(|(k, v)| format!("{k}={v}")).collect();
        self.lines.push(cells.join(";"));
        Ok(())
    }

    fn finish(&mut self) -> Result<()> {
        let mut text = self.lines.join("\n");
        text.push('\n');
        std::fs::write(&self.tmp, text)?;
        std::fs::rename(&self.tmp, &self.target)?;
        Ok(())
    }
}

/// Panics in every call of each remaining kind: decoding, connecting, executing.
pub struct BoomCodec;

impl Codec for BoomCodec {
    fn info(&self) -> CodecSpec {
        CodecSpec::new("boomz")
            .description("panics when decoding")
            .extensions(["boomz"])
    }

    fn decoder(&self, _input: Input) -> Result<Box<dyn Read + Send>> {
        panic!("boom while decoding")
    }
}

/// `boomdb://`: panics when connecting.
pub struct BoomDb;

impl Driver for BoomDb {
    fn info(&self) -> DriverSpec {
        DriverSpec::new("boomdb")
            .description("panics when connecting")
            .schemes(["boomdb"])
    }

    fn connect(&self, _uri: &str, _options: &Options) -> Result<Box<dyn Connection>> {
        panic!("boom while connecting")
    }
}

/// `boom`: panics when executing.
pub struct BoomEngine;

impl Engine for BoomEngine {
    fn info(&self) -> EngineSpec {
        EngineSpec::new("boom").description("panics when executing")
    }

    fn execute(
        &self,
        _q: &str,
        _i: Vec<(String, RowSource)>,
        _o: &Options,
    ) -> Result<Box<dyn RowReader>> {
        panic!("boom while executing")
    }
}

/// A hook (ABI 1.1) that stops the run once it has seen more records than
/// its option `after` allows, and panics when `panic=true`.
pub struct Stop;

struct StopWatch {
    after: u64,
    seen: u64,
    panic: bool,
}

impl Hook for Stop {
    fn info(&self) -> HookSpec {
        HookSpec::new("testkit.stop")
            .description("stops the run after `after` records")
            .option_default("after", "how many records may pass", "1000000")
            .option_default("panic", "panic instead of returning an error", "false")
    }

    fn open(&self, _run: &RunInfo, options: &Options) -> Result<Box<dyn RunWatcher>> {
        Ok(Box::new(StopWatch {
            after: options.get_parse("after")?.unwrap_or(1_000_000),
            seen: 0,
            panic: options.get_bool("panic", false)?,
        }))
    }
}

impl RunWatcher for StopWatch {
    fn batch(&mut self, rows: BatchView<'_>) -> Result<()> {
        self.seen += rows.len() as u64;
        if self.seen > self.after {
            if self.panic {
                panic!("stop hook panicked at {} records", self.seen);
            }
            return Err(Error::other(format!(
                "more than {} records ({} seen)",
                self.after, self.seen
            )));
        }
        Ok(())
    }
}

export_plugin! {
    name: "testkit",
    version: "0.1.0",
    description: "Test plugin: one provider of every kind, and panicking ones",
    license: "MIT OR Apache-2.0",
    formats: [Kv, Boom],
    codecs: [Xor, BoomCodec],
    drivers: [KvDir, BoomDb],
    rules: [Even, BoomRule],
    engines: [Concat, BoomEngine],
    hooks: [Stop],
}
