//! Errors have the right kind and context (file, line), never panic, and a
//! failed write leaves no output behind.

mod common;

use common::{first_error, fixture, gzip, srec, zstd};
use iterable_core::{ErrorKind, OpenOptions, Record, Registry};

#[test]
fn unterminated_quote_is_a_parse_error_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    // The quote opens on line 4 (line 2 holds a quoted newline) and never closes.
    let path = fixture(
        dir.path(),
        "open.csv",
        b"a,b\n\"x\ny\",1\n2,3\n4,\"oops\n5,6\n7,8\n",
    );
    let err = first_error(&path, &OpenOptions::new());
    assert_eq!(err.kind(), ErrorKind::Parse, "{err}");
    assert_eq!(err.position().line, Some(5), "{err}");
    assert_eq!(err.path(), Some(path.as_path()));
    assert!(err.message().contains("unterminated quoted field"), "{err}");

    // The records before it are read.
    let mut reader = Registry::with_builtins()
        .open(&path, &OpenOptions::new())
        .unwrap();
    assert_eq!(
        reader.next().unwrap().unwrap(),
        srec(&[("a", "x\ny"), ("b", "1")])
    );
    assert_eq!(
        reader.next().unwrap().unwrap(),
        srec(&[("a", "2"), ("b", "3")])
    );
    assert_eq!(reader.next().unwrap().unwrap_err().kind(), ErrorKind::Parse);
    // After an error the reader ends.
    assert!(reader.next().is_none());
}

#[test]
fn unterminated_quote_inside_gzip_and_in_the_header() {
    let dir = tempfile::tempdir().unwrap();
    let path = fixture(
        dir.path(),
        "open.csv.gz",
        &gzip(b"a,b\n1,2\n3,\"never closed\n"),
    );
    let err = first_error(&path, &OpenOptions::new());
    assert_eq!(err.kind(), ErrorKind::Parse, "{err}");
    assert_eq!(err.position().line, Some(3), "{err}");
    assert_eq!(err.path(), Some(path.as_path()));

    let path = fixture(dir.path(), "head.csv", b"a,\"b\n1,2\n");
    let err = first_error(&path, &OpenOptions::new());
    assert_eq!(err.kind(), ErrorKind::Parse, "{err}");
    assert_eq!(err.position().line, Some(1), "{err}");
}

#[test]
fn a_row_with_the_wrong_number_of_fields_is_a_parse_error_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = fixture(
        dir.path(),
        "ragged.csv",
        b"a,b\r\n\"x\r\ny\",1\r\n2,3\r\n4,5,6\r\n7,8\r\n",
    );
    let err = first_error(&path, &OpenOptions::new());
    assert_eq!(err.kind(), ErrorKind::Parse, "{err}");
    assert_eq!(err.position().line, Some(5), "{err}");
    assert_eq!(err.position().record, Some(3), "{err}");
    assert_eq!(err.path(), Some(path.as_path()));
    assert!(
        err.message()
            .contains("row has 3 fields but the header has 2"),
        "{err}"
    );
    // Too few fields, too.
    let path = fixture(dir.path(), "short.tsv", b"a\tb\n1\t2\n3\n");
    let err = first_error(&path, &OpenOptions::new());
    assert_eq!(err.kind(), ErrorKind::Parse, "{err}");
    assert_eq!(err.position().line, Some(3), "{err}");
}

#[test]
fn invalid_json_line_is_a_parse_error_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = fixture(
        dir.path(),
        "bad.jsonl",
        b"{\"a\":1}\n\n{\"a\":2}\n{\"a\":3,}\n{\"a\":4}\n",
    );
    let err = first_error(&path, &OpenOptions::new());
    assert_eq!(err.kind(), ErrorKind::Parse, "{err}");
    assert_eq!(err.position().line, Some(4), "{err}");
    assert_eq!(err.position().record, Some(3), "{err}");
    assert_eq!(err.path(), Some(path.as_path()));

    // A line that is valid JSON but not an object.
    let path = fixture(dir.path(), "arr.jsonl.zst", &zstd(b"{\"a\":1}\n[1,2]\n"));
    let err = first_error(&path, &OpenOptions::new());
    assert_eq!(err.kind(), ErrorKind::Parse, "{err}");
    assert_eq!(err.position().line, Some(2), "{err}");
    assert_eq!(err.path(), Some(path.as_path()));
}

#[test]
fn invalid_json_array_element_is_a_parse_error_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = fixture(
        dir.path(),
        "bad.json",
        b"[\n{\"a\":1},\n{\"a\":\n  tru}\n]\n",
    );
    let err = first_error(&path, &OpenOptions::new());
    assert_eq!(err.kind(), ErrorKind::Parse, "{err}");
    assert_eq!(err.position().line, Some(4), "{err}");
    assert_eq!(err.path(), Some(path.as_path()));
    // A missing comma between elements.
    let path = fixture(dir.path(), "comma.json", b"[{\"a\":1}\n {\"a\":2}]");
    let err = first_error(&path, &OpenOptions::new());
    assert_eq!(err.kind(), ErrorKind::Parse, "{err}");
    assert_eq!(err.position().line, Some(2), "{err}");
    // An array that is never closed.
    let path = fixture(dir.path(), "open.json", b"[{\"a\":1},\n");
    let err = first_error(&path, &OpenOptions::new());
    assert_eq!(err.kind(), ErrorKind::Parse, "{err}");
    // Trailing garbage after the array.
    let path = fixture(dir.path(), "tail.json", b"[{\"a\":1}] x");
    let err = first_error(&path, &OpenOptions::new());
    assert_eq!(err.kind(), ErrorKind::Parse, "{err}");
}

#[test]
fn invalid_utf8_in_csv_is_an_encoding_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = fixture(dir.path(), "bad.csv", b"a,b\n1,ok\n2,caf\xff\n");
    let err = first_error(&path, &OpenOptions::new());
    assert_eq!(err.kind(), ErrorKind::Encoding, "{err}");
    assert_eq!(err.position().line, Some(3), "{err}");
    assert_eq!(err.path(), Some(path.as_path()));
    // In the header, too.
    let path = fixture(dir.path(), "head.csv", b"\xc3\x28,b\n1,2\n");
    let err = first_error(&path, &OpenOptions::new());
    assert_eq!(err.kind(), ErrorKind::Encoding, "{err}");
    assert_eq!(err.position().line, Some(1), "{err}");
}

#[test]
fn invalid_utf8_in_json_lines_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = fixture(
        dir.path(),
        "bad.jsonl",
        b"{\"a\":\"ok\"}\n{\"a\":\"\xff\"}\n",
    );
    let err = first_error(&path, &OpenOptions::new());
    assert_eq!(err.kind(), ErrorKind::Encoding, "{err}");
    assert_eq!(err.position().line, Some(2), "{err}");
    assert_eq!(err.path(), Some(path.as_path()));
}

/// A CSV large enough that a truncated stream cuts through data.
fn big_csv() -> Vec<u8> {
    let mut s = String::from("id,value\n");
    for i in 0..20_000 {
        s.push_str(&format!("{i},{}\n", i * 7919 % 10007));
    }
    s.into_bytes()
}

#[test]
fn truncated_gzip_is_a_compression_error() {
    let dir = tempfile::tempdir().unwrap();
    let full = gzip(&big_csv());
    for cut in [full.len() / 2, full.len() - 4, full.len() - 1, 20, 11] {
        let path = fixture(dir.path(), "cut.csv.gz", &full[..cut]);
        let err = first_error(&path, &OpenOptions::new());
        assert_eq!(err.kind(), ErrorKind::Compression, "cut at {cut}: {err}");
        assert_eq!(err.path(), Some(path.as_path()), "cut at {cut}");
        assert!(err.message().starts_with("gzip: "), "cut at {cut}: {err}");
    }
    // Without an extension, detected by magic bytes.
    let path = fixture(dir.path(), "cutblob", &full[..full.len() / 2]);
    let err = first_error(&path, &OpenOptions::new());
    assert_eq!(err.kind(), ErrorKind::Compression, "{err}");
}

#[test]
fn truncated_zstd_is_a_compression_error() {
    let dir = tempfile::tempdir().unwrap();
    let full = zstd(&big_csv());
    for cut in [full.len() / 2, full.len() - 1, 10] {
        let path = fixture(dir.path(), "cut.csv.zst", &full[..cut]);
        let err = first_error(&path, &OpenOptions::new());
        assert_eq!(err.kind(), ErrorKind::Compression, "cut at {cut}: {err}");
        assert_eq!(err.path(), Some(path.as_path()), "cut at {cut}");
        assert!(err.message().starts_with("zstd: "), "cut at {cut}: {err}");
    }
    let path = fixture(
        dir.path(),
        "cut.jsonl.zst",
        &zstd(b"{\"a\":1}\n{\"a\":2}\n")[..12],
    );
    let err = first_error(&path, &OpenOptions::new());
    assert_eq!(err.kind(), ErrorKind::Compression, "{err}");
}

#[test]
fn corrupt_compressed_data_is_a_compression_error() {
    let dir = tempfile::tempdir().unwrap();
    // A .gz name over bytes that are not gzip.
    let path = fixture(dir.path(), "fake.csv.gz", b"a,b\n1,2\n");
    let err = first_error(&path, &OpenOptions::new());
    assert_eq!(err.kind(), ErrorKind::Compression, "{err}");
    // A damaged CRC in the trailer: the data decodes, the check fails.
    let mut bytes = gzip(&big_csv());
    let crc = bytes.len() - 8;
    bytes[crc] ^= 0xff;
    let path = fixture(dir.path(), "crc.csv.gz", &bytes);
    let err = first_error(&path, &OpenOptions::new());
    assert_eq!(err.kind(), ErrorKind::Compression, "{err}");
    // Flipped bytes in the middle of the stream: deflate may turn them into
    // other bytes before any check fails, so the first error can be the
    // CSV's; either way it is an error, not a panic.
    let mut bytes = gzip(&big_csv());
    let mid = bytes.len() / 2;
    for b in &mut bytes[mid..mid + 16] {
        *b ^= 0x5a;
    }
    let path = fixture(dir.path(), "flipped.csv.gz", &bytes);
    let err = first_error(&path, &OpenOptions::new().option("flexible", "true"));
    assert!(
        matches!(
            err.kind(),
            ErrorKind::Compression | ErrorKind::Parse | ErrorKind::Encoding
        ),
        "{err}"
    );
    // A damaged zstd frame: an error, not a panic.
    let mut bytes = zstd(&big_csv());
    let mid = bytes.len() / 2;
    for b in &mut bytes[mid..mid + 16] {
        *b ^= 0x5a;
    }
    let path = fixture(dir.path(), "flipped.csv.zst", &bytes);
    let err = first_error(&path, &OpenOptions::new().option("flexible", "true"));
    assert!(
        matches!(
            err.kind(),
            ErrorKind::Compression | ErrorKind::Parse | ErrorKind::Encoding
        ),
        "{err}"
    );
}

#[test]
fn line_numbers_count_crlf_and_blank_lines() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&[u8], u64); 7] = [
        (b"a,b\n1,2\n3\n", 3),
        (b"a,b\r\n1,2\r\n3\r\n", 3),
        (b"a,b\n\n\n1,2,3\n", 4),
        (b"a,b\r\n\r\n\r\n1,2\r\n\r\n3\r\n", 6),
        (b"\r\n\na,b\r\n1,2\r\n\"x\r\ny\"\r\n", 5),
        (b"a,b\n\"multi\nline\nfield\",1\n\n\"q\"\"uote\",2,3\n", 6),
        (b"a,b\n1,\"x,\ny\"\"\"\n2,\"\n\",z\n", 4),
    ];
    for (text, line) in cases {
        let path = fixture(dir.path(), "lines.csv", text);
        let err = first_error(&path, &OpenOptions::new());
        assert_eq!(
            err.kind(),
            ErrorKind::Parse,
            "{:?}: {err}",
            String::from_utf8_lossy(text)
        );
        assert_eq!(
            err.position().line,
            Some(line),
            "{:?}: {err}",
            String::from_utf8_lossy(text)
        );
    }
    // The byte offset is that of the row's first byte.
    let path = fixture(dir.path(), "bytes.csv", b"a,b\r\n\r\n1,2,3\r\n");
    let err = first_error(&path, &OpenOptions::new());
    assert_eq!(err.position().byte, Some(7), "{err}");
}

#[test]
fn writing_a_record_with_different_fields_is_a_schema_error() {
    let registry = Registry::with_builtins();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.csv");
    let mut w = registry.create(&out, &OpenOptions::new()).unwrap();
    w.write(&srec(&[("a", "1"), ("b", "2")])).unwrap();
    w.write(&srec(&[("a", "3"), ("b", "4")])).unwrap();
    let err = w.write(&srec(&[("a", "5"), ("c", "6")])).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Schema, "{err}");
    assert_eq!(err.position().record, Some(3), "{err}");
    assert_eq!(err.path(), Some(out.as_path()));
    assert!(
        err.message().contains("[a, c]") && err.message().contains("[a, b]"),
        "{err}"
    );
    // Reordered fields are a different shape, too.
    let err = w.write(&srec(&[("b", "5"), ("a", "6")])).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Schema, "{err}");
    drop(w);
    assert!(!out.exists());
}

#[test]
fn unknown_format_lists_the_known_formats() {
    let registry = Registry::with_builtins();
    let dir = tempfile::tempdir().unwrap();
    let path = fixture(dir.path(), "a.csv", b"a\n1\n");
    let err = registry
        .open(&path, &OpenOptions::new().format("xml"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownFormat);
    assert_eq!(
        err.message(),
        "unknown format 'xml'; known formats: csv, tsv, psv, jsonl, ndjson, json"
    );
    assert_eq!(err.path(), Some(path.as_path()));
    // When writing, too, and no file is created.
    let out = dir.path().join("out.csv");
    let err = registry
        .create(&out, &OpenOptions::new().format("parquet"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownFormat);
    assert_eq!(
        err.message(),
        "unknown format 'parquet'; known formats: csv, tsv, psv, jsonl, ndjson, json"
    );
    assert!(!out.exists());
    // An unknown codec likewise.
    let err = registry
        .open(&path, &OpenOptions::new().codec("brotli"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownCodec);
    assert_eq!(
        err.message(),
        "unknown codec 'brotli'; known codecs: gzip, zstd"
    );
}

#[test]
fn a_missing_file_is_an_io_error_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nope.csv");
    let err = Registry::with_builtins()
        .open(&path, &OpenOptions::new())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io);
    assert_eq!(err.path(), Some(path.as_path()));
}

/// 100,000 nested arrays.
fn deep(n: usize) -> (String, String) {
    ("[".repeat(n), "]".repeat(n))
}

#[test]
fn deeply_nested_json_lines_is_an_error_not_a_stack_overflow() {
    let dir = tempfile::tempdir().unwrap();
    let (open, close) = deep(100_000);
    let cases = [
        // Unclosed, as the whole line.
        format!("{{\"a\":1}}\n{open}\n"),
        // Closed, inside an object.
        format!("{{\"a\":1}}\n{{\"a\":{open}{close}}}\n"),
        // Unclosed, inside an object.
        format!("{{\"a\":1}}\n{{\"a\":{open}\n"),
    ];
    for (i, text) in cases.iter().enumerate() {
        let path = fixture(dir.path(), "deep.jsonl", text.as_bytes());
        let err = first_error(&path, &OpenOptions::new());
        assert_eq!(err.kind(), ErrorKind::Parse, "case {i}: {err}");
        assert_eq!(err.position().line, Some(2), "case {i}: {err}");
        // Through detection (no extension) as well: an error, not a crash.
        let path = fixture(dir.path(), "deepblob", &gzip(text.as_bytes()));
        let _ = first_error(&path, &OpenOptions::new());
    }
}

#[test]
fn deeply_nested_json_array_is_an_error_not_a_stack_overflow() {
    let dir = tempfile::tempdir().unwrap();
    let (open, close) = deep(100_000);
    let cases = [
        format!("[{{\"a\":1}},\n{{\"a\":{open}{close}}}]"),
        format!("[{{\"a\":1}},\n{open}{close}]"),
        format!("[{{\"a\":1}},\n{open}"),
        format!("[{open}{close}]"),
    ];
    for (i, text) in cases.iter().enumerate() {
        let path = fixture(dir.path(), "deep.json", text.as_bytes());
        let err = first_error(&path, &OpenOptions::new());
        assert_eq!(err.kind(), ErrorKind::Parse, "case {i}: {err}");
        let path = fixture(dir.path(), "deepblob", &zstd(text.as_bytes()));
        let _ = first_error(&path, &OpenOptions::new());
    }
    // Under a key, skipping a deep value to get there is fine.
    let path = fixture(
        dir.path(),
        "skip.json",
        format!("{{\"junk\":{open}{close},\"items\":[{{\"a\":1}}]}}").as_bytes(),
    );
    let got = common::read_all(&path, &OpenOptions::new().option("key", "items")).unwrap();
    assert_eq!(got, vec![common::jrec(r#"{"a":1}"#)]);
}

#[test]
fn a_failed_create_leaves_no_file_and_an_existing_file_untouched() {
    let registry = Registry::with_builtins();
    let dir = tempfile::tempdir().unwrap();
    let rec = srec(&[("a", "1")]);

    for name in ["new.csv", "new.csv.gz", "new.jsonl.zst", "new.json"] {
        // Dropped without finish: no file.
        let out = dir.path().join(name);
        let mut w = registry.create(&out, &OpenOptions::new()).unwrap();
        for _ in 0..10_000 {
            w.write(&rec).unwrap();
        }
        drop(w);
        assert!(!out.exists(), "{name}");

        // An existing file is left as it was, byte for byte.
        std::fs::write(&out, b"old content\n").unwrap();
        let mut w = registry.create(&out, &OpenOptions::new()).unwrap();
        for _ in 0..10_000 {
            w.write(&rec).unwrap();
        }
        drop(w);
        assert_eq!(std::fs::read(&out).unwrap(), b"old content\n", "{name}");
        std::fs::remove_file(&out).unwrap();
    }

    // A write that fails, then a drop: no file.
    let out = dir.path().join("failed.csv");
    let mut w = registry.create(&out, &OpenOptions::new()).unwrap();
    w.write(&rec).unwrap();
    assert_eq!(
        w.write(&srec(&[("b", "2")])).unwrap_err().kind(),
        ErrorKind::Schema
    );
    drop(w);
    assert!(!out.exists());

    // No temporary files are left behind.
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "{left:?}");

    // And a finished write replaces the old file.
    std::fs::write(&out, b"old\n").unwrap();
    let mut w = registry.create(&out, &OpenOptions::new()).unwrap();
    w.write(&rec).unwrap();
    w.finish().unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), b"a\n1\n");
}

#[test]
fn writing_after_an_error_and_empty_records() {
    // A record with no fields as the first record of a CSV: an empty header
    // line, then the same shape is accepted.
    let registry = Registry::with_builtins();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("j.jsonl");
    let mut w = registry.create(&out, &OpenOptions::new()).unwrap();
    w.write(&Record::new()).unwrap();
    w.write(&srec(&[("a", "1")])).unwrap();
    w.finish().unwrap();
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "{}\n{\"a\":\"1\"}\n"
    );
}
