//! Hardening, end to end through the `iterable-host` binary: hostile or
//! broken input is a one-line error with its position and a non-zero exit,
//! never a panic, a stack overflow or unbounded memory; and a `convert` that
//! fails or is killed never damages the old output.

mod util;

use std::fs::{self, File};
use std::io::{BufWriter, Cursor, Write};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use iterable_host::iterable_core::{ErrorKind, OpenOptions, Record, Registry};
use util::{command, gzip, run};

/// Runs the binary and returns its one-line error, checking the exit code
/// is 1 (an error, not a panic (101) or a signal).
fn fails(dir: &Path, args: &[&str]) -> String {
    let r = run(dir, args);
    assert_eq!(r.status, 1, "exit status; stderr: {}", r.stderr);
    r.err()
}

/// Reads all of `data` through the library with `opts`; returns the error's
/// kind and message (without the context the binary adds).
fn library_error(data: Vec<u8>, opts: &OpenOptions) -> (ErrorKind, String) {
    let registry = Registry::with_builtins();
    let mut reader = match registry.open_stream(Box::new(Cursor::new(data)), None, opts) {
        Ok(r) => r,
        Err(e) => return (e.kind(), e.message().to_owned()),
    };
    let mut rec = Record::new();
    loop {
        match reader.read_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => panic!("the input was read without an error"),
            Err(e) => return (e.kind(), e.message().to_owned()),
        }
    }
}

// ---------------------------------------------------------------------------
// Deep nesting

#[test]
fn deeply_nested_json_is_an_error_not_a_stack_overflow() {
    let d = tempfile::tempdir().unwrap();
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    fs::write(d.path().join("deep.jsonl"), format!("{{\"a\":{deep}}}\n")).unwrap();
    fs::write(d.path().join("deep.json"), format!("[{{\"a\":{deep}}}]")).unwrap();
    fs::write(d.path().join("open.json"), "[".repeat(100_000)).unwrap();
    let open_line = format!("{{\"a\":{}\n", "[".repeat(100_000));
    fs::write(d.path().join("open.jsonl"), open_line).unwrap();
    assert_eq!(
        fails(d.path(), &["cat", "deep.jsonl"]),
        "iterable-host: error: deep.jsonl: line 1, record 1: invalid JSON line: recursion limit exceeded (column 132)"
    );
    assert_eq!(
        fails(d.path(), &["cat", "deep.json"]),
        "iterable-host: error: deep.json: line 1, record 1: invalid array element: recursion limit exceeded (column 132)"
    );
    assert_eq!(
        fails(d.path(), &["count", "open.jsonl"]),
        "iterable-host: error: open.jsonl: line 1, record 1: invalid JSON line: recursion limit exceeded (column 132)"
    );
    assert_eq!(
        fails(d.path(), &["count", "open.json"]),
        "iterable-host: error: open.json: line 1, record 1: unexpected end of the input inside a value"
    );
    let (kind, _) = library_error(
        fs::read(d.path().join("deep.jsonl")).unwrap(),
        &OpenOptions::new().format("jsonl"),
    );
    assert_eq!(kind, ErrorKind::Parse);
}

// ---------------------------------------------------------------------------
// A 100 MB line

/// Writes `head`, then `size` bytes of `fill` with no line end, in chunks.
fn write_long_line(path: &Path, head: &[u8], fill: u8, size: usize) {
    let mut f = BufWriter::new(File::create(path).unwrap());
    f.write_all(head).unwrap();
    let chunk = vec![fill; 1 << 20];
    let mut left = size;
    while left > 0 {
        let n = left.min(chunk.len());
        f.write_all(&chunk[..n]).unwrap();
        left -= n;
    }
    f.flush().unwrap();
}

/// The peak resident memory (VmHWM) of a running process, in KiB; `None`
/// once it has exited.
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Runs the binary to the end, sampling its peak memory; returns the
/// one-line error and the highest peak seen, in MiB.
fn fails_within_memory(dir: &Path, args: &[&str]) -> (String, u64) {
    let child = command(dir, args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut peak = 0;
    // VmHWM only grows; the last reading before the process becomes a
    // zombie (no memory map, no VmHWM) is its peak, give or take a poll.
    while let Some(kib) = peak_rss_kib(child.id()) {
        peak = peak.max(kib);
        std::thread::sleep(Duration::from_millis(2));
    }
    let out = child.wait_with_output().unwrap();
    assert!(peak > 0, "no memory reading");
    let stderr = String::from_utf8_lossy(&out.stderr).trim_end().to_owned();
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    eprintln!("{args:?}: peak resident memory {} MiB", peak / 1024);
    (stderr, peak / 1024)
}

/// A record may hold at most 64 MiB (`MAX_ELEMENT_BYTES`); the readers stop
/// there, so a 100 MB line costs about that much memory, not 100 MB or more.
const LONG_LINE_BOUND_MIB: u64 = 96;
const LONG_LINE: usize = 100_000_000;

#[test]
fn a_100_mb_jsonl_line_is_refused_within_bounded_memory() {
    let d = tempfile::tempdir().unwrap();
    write_long_line(&d.path().join("long.jsonl"), b"{\"a\":\"", b'x', LONG_LINE);
    let (err, peak) = fails_within_memory(d.path(), &["count", "long.jsonl"]);
    assert_eq!(
        err,
        "iterable-host: error: long.jsonl: line 1, record 1: record longer than 64 MiB"
    );
    assert!(peak < LONG_LINE_BOUND_MIB, "peak memory {peak} MiB");
}

#[test]
fn a_100_mb_csv_line_is_refused_within_bounded_memory() {
    let d = tempfile::tempdir().unwrap();
    write_long_line(&d.path().join("long.csv"), b"a,b\n1,2\n", b'x', LONG_LINE);
    let (err, peak) = fails_within_memory(d.path(), &["count", "long.csv"]);
    assert_eq!(
        err,
        "iterable-host: error: long.csv: line 3, record 2, byte 8: record longer than 64 MiB"
    );
    assert!(peak < LONG_LINE_BOUND_MIB, "peak memory {peak} MiB");
}

#[test]
fn a_csv_row_with_a_million_fields_is_refused() {
    let d = tempfile::tempdir().unwrap();
    write_long_line(&d.path().join("wide.csv"), b"", b',', 3 << 20);
    assert_eq!(
        fails(d.path(), &["count", "wide.csv"]),
        "iterable-host: error: wide.csv: line 1, record 1, byte 0: row has more than 1048576 fields"
    );
}

// ---------------------------------------------------------------------------
// Bad bytes and broken compression

#[test]
fn invalid_utf8_is_an_encoding_error_at_its_line() {
    let d = tempfile::tempdir().unwrap();
    fs::write(d.path().join("bad.csv"), b"a,b\n1,2\n3,\xff\n").unwrap();
    fs::write(d.path().join("bad.jsonl"), b"{\"a\":1}\n{\"a\":\"\xff\"}\n").unwrap();
    assert_eq!(
        fails(d.path(), &["cat", "bad.csv"]),
        "iterable-host: error: bad.csv: line 3, record 2, byte 8: invalid UTF-8 in field 2 at byte 0 of the field (set the 'encoding' option if the file is not UTF-8)"
    );
    assert_eq!(
        fails(d.path(), &["count", "bad.jsonl"]),
        "iterable-host: error: bad.jsonl: line 2, record 2: invalid JSON line: invalid unicode code point (column 7)"
    );
    for (file, format) in [("bad.csv", "csv"), ("bad.jsonl", "jsonl")] {
        let data = fs::read(d.path().join(file)).unwrap();
        let (kind, _) = library_error(data, &OpenOptions::new().format(format));
        assert_eq!(kind, ErrorKind::Encoding, "{file}");
    }
}

#[test]
fn a_nul_byte_in_csv_is_an_encoding_error_naming_the_field() {
    let d = tempfile::tempdir().unwrap();
    fs::write(d.path().join("nul.csv"), b"a,b\n1,2\n3,x\x00y\n").unwrap();
    assert_eq!(
        fails(d.path(), &["cat", "nul.csv"]),
        "iterable-host: error: nul.csv: line 3, record 2, byte 8: NUL byte in field 2 (not text, or UTF-16: set the 'encoding' option)"
    );
    // A NUL in the header too, and UTF-16 read as UTF-8 (NULs everywhere).
    let (kind, msg) = library_error(b"a,\0b\n".to_vec(), &OpenOptions::new().format("csv"));
    assert_eq!(kind, ErrorKind::Encoding);
    assert!(msg.starts_with("NUL byte in field 2 "), "{msg}");
    let utf16: Vec<u8> = "a,b\n1,2\n"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    let (kind, msg) = library_error(utf16.clone(), &OpenOptions::new().format("csv"));
    assert_eq!(kind, ErrorKind::Encoding);
    assert!(msg.starts_with("NUL byte in field 1 "), "{msg}");
    // With the right encoding the same bytes read fine.
    let registry = Registry::with_builtins();
    let opts = OpenOptions::new()
        .format("csv")
        .option("encoding", "utf-16le");
    let rows: Vec<Record> = registry
        .open_stream(Box::new(Cursor::new(utf16)), None, &opts)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows, vec![Record::from_pairs([("a", "1"), ("b", "2")])]);
}

#[test]
fn truncated_gzip_and_zstd_are_compression_errors_with_the_byte_offset() {
    let d = tempfile::tempdir().unwrap();
    let rows: String = (0..2000).map(|i| format!("{{\"i\":{i}}}\n")).collect();
    let gz = gzip(rows.as_bytes());
    let zst = zstd::encode_all(rows.as_bytes(), 3).unwrap();
    fs::write(d.path().join("t.jsonl.gz"), &gz[..gz.len() - 12]).unwrap();
    fs::write(d.path().join("t.jsonl.zst"), &zst[..zst.len() - 12]).unwrap();
    assert_eq!(
        fails(d.path(), &["count", "t.jsonl.gz"]),
        format!(
            "iterable-host: error: t.jsonl.gz: gzip: truncated input (the stream ends before its end marker), after {} compressed bytes",
            gz.len() - 12
        )
    );
    assert_eq!(
        fails(d.path(), &["count", "t.jsonl.zst"]),
        format!(
            "iterable-host: error: t.jsonl.zst: zstd: truncated input (the stream ends before its end marker), after {} compressed bytes",
            zst.len() - 12
        )
    );
    for (data, codec) in [(&gz, "gzip"), (&zst, "zstd")] {
        let cut = data[..data.len() - 12].to_vec();
        let (kind, _) = library_error(cut, &OpenOptions::new().format("jsonl").codec(codec));
        assert_eq!(kind, ErrorKind::Compression, "{codec}");
    }
}

// ---------------------------------------------------------------------------
// No data loss

#[test]
fn json_numbers_survive_conversions_bit_for_bit() {
    // Found by the jsonl fuzz target: serde_json's default float parser
    // read 1.8446744073512921e+19 one unit in the last place off.
    let line = r#"{"a":1.8446744073512921e+19,"b":0.1,"c":5e-324,"d":1.7976931348623157e+308,"e":2.2250738585072014e-308,"f":9007199254740993,"g":-0.0,"h":123.456789}"#;
    let d = tempfile::tempdir().unwrap();
    fs::write(d.path().join("n.jsonl"), format!("{line}\n")).unwrap();
    run(d.path(), &["convert", "n.jsonl", "n.json.gz"]).ok();
    run(d.path(), &["convert", "n.json.gz", "back.jsonl"]).ok();
    assert_eq!(
        fs::read_to_string(d.path().join("back.jsonl")).unwrap(),
        format!("{line}\n")
    );
}

#[test]
fn a_plugin_writer_gets_each_record_in_its_own_field_order() {
    // Found by the batch fuzz target: records share a batch, and a batch
    // has one field order, so a record whose keys came in another order was
    // written reordered. The host now starts a new batch for it.
    let d = tempfile::tempdir().unwrap();
    let src = util::workspace().join("plugins-examples/ltsv");
    let lib = util::plugin_lib("iterable_plugin_ltsv");
    let (src, lib) = (src.to_str().unwrap(), lib.to_str().unwrap());
    run(
        d.path(),
        &["install", src, "--dir", "plugins", "--library", lib],
    )
    .ok();
    let rows = "{\"a\":\"1\",\"b\":\"2\"}\n{\"b\":\"3\",\"a\":\"4\"}\n{\"c\":\"5\",\"a\":\"6\"}\n{\"a\":\"7\",\"b\":\"8\"}\n";
    fs::write(d.path().join("in.jsonl"), rows).unwrap();
    let args = ["--plugin-dir", "plugins", "convert", "in.jsonl", "out.ltsv"];
    run(d.path(), &args).ok();
    assert_eq!(
        fs::read_to_string(d.path().join("out.ltsv")).unwrap(),
        "a:1\tb:2\nb:3\ta:4\nc:5\ta:6\na:7\tb:8\n"
    );
}

/// Writes a CSV file of `rows` rows (about 60 bytes each).
fn big_csv(path: &Path, rows: usize, tail: &str) {
    let mut f = BufWriter::new(File::create(path).unwrap());
    writeln!(f, "id,name,city,score,note").unwrap();
    for i in 0..rows {
        writeln!(
            f,
            "{i},name{i},city{},{}.5,\"text, with a comma {i}\"",
            i % 97,
            i / 3
        )
        .unwrap();
    }
    f.write_all(tail.as_bytes()).unwrap();
    f.flush().unwrap();
}

/// The names of the files in `dir`, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_convert_that_fails_partway_leaves_the_old_output_untouched() {
    let d = tempfile::tempdir().unwrap();
    big_csv(&d.path().join("in.csv"), 100_000, "1,2,3\n");
    let old = b"{\"old\":true}\n";
    fs::write(d.path().join("out.jsonl"), old).unwrap();
    // The bad row is the last: it starts 6 bytes before the end.
    let at = fs::metadata(d.path().join("in.csv")).unwrap().len() - 6;
    assert_eq!(
        fails(d.path(), &["convert", "in.csv", "out.jsonl"]),
        format!(
            "iterable-host: error: in.csv: line 100002, record 100001, byte {at}: row has 3 fields but the header has 5; use --option flexible=true to allow this"
        )
    );
    assert_eq!(fs::read(d.path().join("out.jsonl")).unwrap(), old);
    // Without an old output, none appears; no temporary file is left.
    fails(d.path(), &["convert", "in.csv", "new.jsonl.zst"]);
    assert_eq!(listing(d.path()), ["in.csv", "out.jsonl"]);
}

/// Whether `name` is one of the temporary files an output is written to.
fn is_partial(name: &str, output: &str) -> bool {
    name.starts_with(&format!(".{output}.")) && name.ends_with(".partial")
}

/// Starts `convert big.csv out.jsonl.zst` and SIGKILLs it while it is
/// writing its temporary output.
fn kill_convert_midway(dir: &Path) {
    let mut child: Child = command(dir, &["convert", "big.csv", "out.jsonl.zst"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    // Wait until some output has been written (so the kill is mid-write).
    loop {
        let writing = fs::read_dir(dir).unwrap().any(|e| {
            let e = e.unwrap();
            is_partial(&e.file_name().to_string_lossy(), "out.jsonl.zst")
                && e.metadata().is_ok_and(|m| m.len() > 0)
        });
        if writing {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "convert finished before it could be killed; make the input bigger"
        );
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no output after 60 s"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    assert!(
        child.try_wait().unwrap().is_none(),
        "still running when killed"
    );
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    assert_eq!(status.code(), None, "killed by a signal");
}

#[test]
fn a_killed_convert_never_truncates_the_output() {
    let d = tempfile::tempdir().unwrap();
    big_csv(&d.path().join("big.csv"), 600_000, "");
    // An old output stays byte-identical.
    let old = zstd::encode_all(&b"{\"old\":true}\n"[..], 3).unwrap();
    fs::write(d.path().join("out.jsonl.zst"), &old).unwrap();
    kill_convert_midway(d.path());
    assert_eq!(fs::read(d.path().join("out.jsonl.zst")).unwrap(), old);
    // Without an old output, none appears.
    fs::remove_file(d.path().join("out.jsonl.zst")).unwrap();
    kill_convert_midway(d.path());
    assert!(!d.path().join("out.jsonl.zst").exists());

    // Only the temporary files of the killed runs may be left over.
    let strays: Vec<String> = listing(d.path())
        .into_iter()
        .filter(|n| n != "big.csv")
        .collect();
    assert!(!strays.is_empty());
    for s in &strays {
        assert!(is_partial(s, "out.jsonl.zst"), "unexpected file {s}");
    }
    // They are ignored: a new convert succeeds and leaves them alone, the
    // output reads back whole, and a plugin directory holding them lists
    // no plugin and no problem.
    run(d.path(), &["convert", "big.csv", "out.jsonl.zst"]).ok();
    assert_eq!(run(d.path(), &["count", "out.jsonl.zst"]).ok(), "600000\n");
    let mut after = listing(d.path());
    after.retain(|n| n != "big.csv" && n != "out.jsonl.zst");
    assert_eq!(after, strays);
    let dir = d.path().to_str().unwrap();
    let listed = run(d.path(), &["--plugin-dir", dir, "list-plugins", "--json"]);
    assert_eq!(listed.status, 0, "{}", listed.stderr);
    assert_eq!(listed.stderr, "");
    assert!(!listed.stdout.contains("partial"), "{}", listed.stdout);
}
