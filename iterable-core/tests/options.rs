//! Reader and writer options reach their component, and unknown options or
//! bad values are errors that say what is valid.

mod common;

use common::{fixture, gunzip, jrec, read_all, srec, unzstd};
use iterable_core::{ErrorKind, OpenOptions, Record, Registry};

#[test]
fn tsv_splits_on_tabs() {
    let dir = tempfile::tempdir().unwrap();
    let path = fixture(dir.path(), "x.tsv", b"a\tb,c\n1\t2,3\n");
    assert_eq!(
        read_all(&path, &OpenOptions::new()).unwrap(),
        vec![srec(&[("a", "1"), ("b,c", "2,3")])]
    );
}

#[test]
fn delimiter_option_splits_on_semicolons() {
    let dir = tempfile::tempdir().unwrap();
    let path = fixture(dir.path(), "semi.csv", b"a;b,c\n1;\"2;3\",4\n");
    let opts = OpenOptions::new().option("delimiter", ";");
    assert_eq!(
        read_all(&path, &opts).unwrap(),
        vec![srec(&[("a", "1"), ("b,c", "2;3,4")])]
    );
    // Named delimiters and `\t` work too.
    let path = fixture(dir.path(), "tabs.csv", b"a\tb\n1\t2\n");
    for d in ["\\t", "tab"] {
        let got = read_all(&path, &OpenOptions::new().option("delimiter", d)).unwrap();
        assert_eq!(got, vec![srec(&[("a", "1"), ("b", "2")])], "{d}");
    }
    let got = read_all(&path, &OpenOptions::new().option("delimiter", "semicolon")).unwrap();
    assert_eq!(got, vec![srec(&[("a\tb", "1\t2")])]);
}

#[test]
fn header_false_names_fields_by_position() {
    let dir = tempfile::tempdir().unwrap();
    let path = fixture(dir.path(), "nohead.csv", b"x,y,z\n1,2,3\n");
    assert_eq!(
        read_all(&path, &OpenOptions::new().option("header", "false")).unwrap(),
        vec![
            srec(&[("1", "x"), ("2", "y"), ("3", "z")]),
            srec(&[("1", "1"), ("2", "2"), ("3", "3")]),
        ]
    );
    // Writing without a header writes the values only.
    let out = dir.path().join("out.csv");
    let registry = Registry::with_builtins();
    let mut w = registry
        .create(&out, &OpenOptions::new().option("header", "no"))
        .unwrap();
    w.write(&srec(&[("a", "1"), ("b", "2")])).unwrap();
    w.finish().unwrap();
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "1,2\n");
}

#[test]
fn quote_option() {
    let dir = tempfile::tempdir().unwrap();
    let path = fixture(dir.path(), "q.csv", b"a,b\n'x,y',\"z\"\n'it''s',2\n");
    assert_eq!(
        read_all(&path, &OpenOptions::new().option("quote", "'")).unwrap(),
        vec![
            srec(&[("a", "x,y"), ("b", "\"z\"")]),
            srec(&[("a", "it's"), ("b", "2")]),
        ]
    );
    // And for writing.
    let out = dir.path().join("out.csv");
    let mut w = Registry::with_builtins()
        .create(&out, &OpenOptions::new().option("quote", "'"))
        .unwrap();
    w.write(&srec(&[("a", "x,y"), ("b", "it's")])).unwrap();
    w.finish().unwrap();
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "a,b\n'x,y','it''s'\n"
    );
}

#[test]
fn encoding_latin1_decodes() {
    let dir = tempfile::tempdir().unwrap();
    let path = fixture(dir.path(), "l1.csv", b"name,city\nJos\xe9,M\xfcnchen\n");
    assert_eq!(
        read_all(&path, &OpenOptions::new().option("encoding", "latin1")).unwrap(),
        vec![srec(&[("name", "José"), ("city", "München")])]
    );
    // Without the option the bytes are not UTF-8: an encoding error.
    let err = common::first_error(&path, &OpenOptions::new());
    assert_eq!(err.kind(), ErrorKind::Encoding);
    // Through a codec too.
    let path = fixture(
        dir.path(),
        "w1251.csv.gz",
        &common::gzip(b"name\n\xcf\xf0\xe8\xe2\xe5\xf2\n"),
    );
    assert_eq!(
        read_all(
            &path,
            &OpenOptions::new().option("encoding", "windows-1251")
        )
        .unwrap(),
        vec![srec(&[("name", "Привет")])]
    );
}

#[test]
fn json_key_selects_the_array_under_a_top_level_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = fixture(
        dir.path(),
        "doc.json",
        br#"{"meta": {"items": "not these", "n": [1, {"x": "]"}]}, "items": [{"a": 1}, {"a": {"b": [2]}}], "after": true}"#,
    );
    assert_eq!(
        read_all(&path, &OpenOptions::new().option("key", "items")).unwrap(),
        vec![jrec(r#"{"a":1}"#), jrec(r#"{"a":{"b":[2]}}"#)]
    );
    // A missing key is an error that names it.
    let err = common::first_error(&path, &OpenOptions::new().option("key", "rows"));
    assert_eq!(err.kind(), ErrorKind::Parse);
    assert!(err.message().contains("key \"rows\" not found"), "{err}");
    assert_eq!(err.path(), Some(path.as_path()));
    // A key whose value is not an array is an error.
    let err = common::first_error(&path, &OpenOptions::new().option("key", "meta"));
    assert_eq!(err.kind(), ErrorKind::Parse);
    assert!(err.message().contains("not an array"), "{err}");
    // Without the key, a top-level object is an error that suggests it.
    let err = common::first_error(&path, &OpenOptions::new());
    assert_eq!(err.kind(), ErrorKind::Parse);
    assert!(err.message().contains("key=NAME"), "{err}");
}

#[test]
fn csv_writer_strict_false_matches_fields_by_name() {
    let registry = Registry::with_builtins();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("loose.csv");
    let mut w = registry
        .create(&out, &OpenOptions::new().option("strict", "false"))
        .unwrap();
    w.write(&srec(&[("a", "1"), ("b", "2"), ("c", "3")]))
        .unwrap();
    // Reordered, one missing and one extra field.
    w.write(&srec(&[("c", "6"), ("extra", "x"), ("a", "4")]))
        .unwrap();
    w.write(&Record::new()).unwrap();
    assert_eq!(w.finish().unwrap(), 3);
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "a,b,c\n1,2,3\n4,,6\n,,\n"
    );

    // The default (strict) refuses the second record.
    let out = dir.path().join("strict.csv");
    let mut w = registry.create(&out, &OpenOptions::new()).unwrap();
    w.write(&srec(&[("a", "1"), ("b", "2"), ("c", "3")]))
        .unwrap();
    let err = w.write(&srec(&[("c", "6"), ("a", "4")])).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Schema);
}

/// Compressible text that is not trivially so, to make levels matter.
fn compressible() -> Vec<u8> {
    let words = [
        "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta",
    ];
    let mut s = String::from("id,word,other\n");
    let mut x: u32 = 12345;
    for i in 0..20_000 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let w1 = words[(x >> 16) as usize % words.len()];
        let w2 = words[(x >> 8) as usize % words.len()];
        s.push_str(&format!("{i},{w1},{w2}{}\n", x % 97));
    }
    s.into_bytes()
}

#[test]
fn level_reaches_gzip_and_zstd() {
    let registry = Registry::with_builtins();
    let dir = tempfile::tempdir().unwrap();
    let text = compressible();
    let src = fixture(dir.path(), "src.csv", &text);
    let expected: Vec<Record> = read_all(&src, &OpenOptions::new()).unwrap();
    for (ext, low, high) in [("gz", "1", "9"), ("zst", "1", "9")] {
        let mut sizes = Vec::new();
        for level in [low, high] {
            let out = dir.path().join(format!("out-{level}.csv.{ext}"));
            let mut r = registry.open(&src, &OpenOptions::new()).unwrap();
            let mut w = registry
                .create(&out, &OpenOptions::new().option("level", level))
                .unwrap();
            w.copy_from(&mut r).unwrap();
            w.finish().unwrap();
            let bytes = std::fs::read(&out).unwrap();
            let plain = if ext == "gz" {
                gunzip(&bytes)
            } else {
                unzstd(&bytes)
            };
            assert_eq!(plain, text, "{ext} level {level}");
            // Readable, and the `level` option is accepted when reading too.
            let opts = OpenOptions::new().option("level", level);
            assert_eq!(
                read_all(&out, &opts).unwrap(),
                expected,
                "{ext} level {level}"
            );
            sizes.push(bytes.len());
        }
        assert!(
            sizes[0] > sizes[1],
            "{ext}: level {low} gives {} bytes, level {high} gives {}",
            sizes[0],
            sizes[1]
        );
    }
}

#[test]
fn unknown_option_names_it_and_lists_the_valid_ones() {
    let dir = tempfile::tempdir().unwrap();
    let path = fixture(dir.path(), "a.csv", b"a\n1\n");
    let err = Registry::with_builtins()
        .open(&path, &OpenOptions::new().option("delimeter", ";"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownOption);
    assert_eq!(
        err.message(),
        "unknown option 'delimeter' for format 'csv'; valid options: delimiter, encoding, flexible, header, line_terminator, quote, strict"
    );
    assert_eq!(err.path(), Some(path.as_path()));

    // With a codec, its `level` is listed too.
    let gz = fixture(dir.path(), "a.csv.gz", &common::gzip(b"a\n1\n"));
    let err = Registry::with_builtins()
        .open(&gz, &OpenOptions::new().option("levle", "3"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownOption);
    assert_eq!(
        err.message(),
        "unknown option 'levle' for format 'csv' with codec 'gzip'; valid options: delimiter, encoding, flexible, header, level, line_terminator, quote, strict"
    );

    // `level` without a codec is unknown.
    let err = Registry::with_builtins()
        .open(&path, &OpenOptions::new().option("level", "3"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownOption);

    // A format without options says so.
    let jl = fixture(dir.path(), "a.jsonl", b"{}\n");
    let err = Registry::with_builtins()
        .open(&jl, &OpenOptions::new().option("key", "x"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownOption);
    assert_eq!(
        err.message(),
        "unknown option 'key' for format 'jsonl'; it takes no options"
    );

    // Writers check options the same way, and create no file.
    let out = dir.path().join("out.json");
    let err = Registry::with_builtins()
        .create(&out, &OpenOptions::new().option("indent", "2"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownOption);
    assert_eq!(
        err.message(),
        "unknown option 'indent' for format 'json'; valid options: key, pretty"
    );
    assert!(!out.exists());
}

#[test]
fn bad_option_values_are_invalid_option() {
    let dir = tempfile::tempdir().unwrap();
    let path = fixture(dir.path(), "a.csv.gz", &common::gzip(b"a\n1\n"));
    let registry = Registry::with_builtins();
    let cases = [
        ("header", "maybe", "expected true or false"),
        ("delimiter", "ab", "expected a single character"),
        ("delimiter", "é", "expected a single ASCII character"),
        ("level", "99", "expected an integer from 0 to 9"),
        ("level", "fast", "expected an integer from 0 to 9"),
        ("line_terminator", "cr", "expected one of lf, crlf"),
        ("encoding", "klingon", "expected utf-8 or an encoding label"),
    ];
    for (key, value, says) in cases {
        let err = registry
            .open(&path, &OpenOptions::new().option(key, value))
            .map(|_| ())
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidOption, "{key}={value}: {err}");
        assert!(err.message().contains(key), "{key}={value}: {err}");
        assert!(err.message().contains(says), "{key}={value}: {err}");
    }
    // zstd levels have their own range.
    let out = dir.path().join("out.csv.zst");
    let err = registry
        .create(&out, &OpenOptions::new().option("level", "0"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidOption);
    assert!(
        err.message().contains("expected an integer from 1 to 22"),
        "{err}"
    );
    assert!(!out.exists());
}

#[test]
fn flexible_allows_ragged_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = fixture(dir.path(), "r.csv", b"a,b\n1\n2,3,4\n");
    assert_eq!(
        read_all(&path, &OpenOptions::new().option("flexible", "true")).unwrap(),
        vec![
            srec(&[("a", "1")]),
            srec(&[("a", "2"), ("b", "3"), ("3", "4")])
        ]
    );
}

#[test]
fn writer_line_terminator_and_bom() {
    let registry = Registry::with_builtins();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("w.csv");
    let opts = OpenOptions::new()
        .option("line_terminator", "crlf")
        .option("encoding", "utf-8-sig");
    let mut w = registry.create(&out, &opts).unwrap();
    w.write(&srec(&[("a", "1"), ("b", "x\ny")])).unwrap();
    w.finish().unwrap();
    assert_eq!(
        std::fs::read(&out).unwrap(),
        b"\xEF\xBB\xBFa,b\r\n1,\"x\ny\"\r\n"
    );
    // And it reads back.
    assert_eq!(
        read_all(&out, &OpenOptions::new()).unwrap(),
        vec![srec(&[("a", "1"), ("b", "x\ny")])]
    );
}
