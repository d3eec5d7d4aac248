//! Every built-in format, with no codec, gzip and zstd, gives the exact
//! expected records: CSV-family values are strings, JSON keeps native types
//! and nesting. The fixtures use CRLF line endings, a UTF-8 BOM, quoted fields
//! with embedded newlines, delimiters and doubled quotes, and non-ASCII text.

mod common;

use common::{fixture, gzip, jrec, read_all, srec, zstd};
use iterable_core::{OpenOptions, Record, Registry};

/// A note that holds every delimiter of the CSV family, so it is quoted in all.
const NOTE: &str = "x,y\tz|w";

/// The delimited fixture with `d` as the separator.
fn delimited(d: char) -> String {
    format!(
        "\u{FEFF}id{d}name{d}note\r\n\
         1{d}Ann{d}plain\r\n\
         2{d}Bjørn Ødegård{d}\"x,y\tz|w\"\r\n\
         3{d}\"Zoë \"\"Z\"\"\"{d}\"line one\nline two\"\r\n\
         4{d}日本語 🎉{d}\r\n"
    )
}

fn delimited_expected() -> Vec<Record> {
    vec![
        srec(&[("id", "1"), ("name", "Ann"), ("note", "plain")]),
        srec(&[("id", "2"), ("name", "Bjørn Ødegård"), ("note", NOTE)]),
        srec(&[
            ("id", "3"),
            ("name", "Zoë \"Z\""),
            ("note", "line one\nline two"),
        ]),
        srec(&[("id", "4"), ("name", "日本語 🎉"), ("note", "")]),
    ]
}

/// JSON lines: BOM, CRLF, a blank line, escapes, nesting and native types.
const JSONL: &str = "\u{FEFF}{\"id\":1,\"name\":\"Ann\",\"note\":\"plain\",\"meta\":{\"score\":9.5,\"tags\":[\"a\",\"b\"]}}\r\n\
{\"id\":2,\"name\":\"Bjørn Ødegård\",\"note\":\"x,y\\tz|w\",\"meta\":{\"score\":-1,\"tags\":[]}}\r\n\
\r\n\
{\"id\":3,\"name\":\"Zoë \\\"Z\\\"\",\"note\":\"line one\\nline two\",\"meta\":{\"score\":null,\"tags\":[true,false]}}\r\n\
{\"id\":4,\"name\":\"\\u65e5\\u672c\\u8a9e 🎉\",\"note\":\"\",\"meta\":{\"score\":0,\"tags\":[{\"deep\":[1,[2,[3]]]}]}}\r\n";

/// The same records as a pretty-printed JSON array.
const JSON: &str = "\u{FEFF}[\r\n  {\"id\": 1, \"name\": \"Ann\", \"note\": \"plain\", \"meta\": {\"score\": 9.5, \"tags\": [\"a\", \"b\"]}},\r\n\
  {\"id\": 2, \"name\": \"Bjørn Ødegård\", \"note\": \"x,y\\tz|w\", \"meta\": {\"score\": -1, \"tags\": []}},\r\n\
  {\"id\": 3, \"name\": \"Zoë \\\"Z\\\"\", \"note\": \"line one\\nline two\", \"meta\": {\"score\": null, \"tags\": [true, false]}},\r\n\
  {\"id\": 4, \"name\": \"\\u65e5\\u672c\\u8a9e 🎉\", \"note\": \"\", \"meta\": {\"score\": 0, \"tags\": [{\"deep\": [1, [2, [3]]]}]}}\r\n\
]\r\n";

fn json_expected() -> Vec<Record> {
    vec![
        jrec(r#"{"id":1,"name":"Ann","note":"plain","meta":{"score":9.5,"tags":["a","b"]}}"#),
        jrec(r#"{"id":2,"name":"Bjørn Ødegård","note":"x,y\tz|w","meta":{"score":-1,"tags":[]}}"#),
        jrec(
            r#"{"id":3,"name":"Zoë \"Z\"","note":"line one\nline two","meta":{"score":null,"tags":[true,false]}}"#,
        ),
        jrec(
            r#"{"id":4,"name":"日本語 🎉","note":"","meta":{"score":0,"tags":[{"deep":[1,[2,[3]]]}]}}"#,
        ),
    ]
}

/// Reads `content` under `base` + the codec's extension, checks the records,
/// the format id and the codec id the reader reports.
fn check(base: &str, format_id: &str, content: &[u8], expected: &[Record]) {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, Option<&str>, Vec<u8>); 3] = [
        ("", None, content.to_vec()),
        (".gz", Some("gzip"), gzip(content)),
        (".zst", Some("zstd"), zstd(content)),
    ];
    for (ext, codec, bytes) in cases {
        let name = format!("{base}{ext}");
        let path = fixture(dir.path(), &name, &bytes);
        let reader = Registry::with_builtins()
            .open(&path, &OpenOptions::new())
            .unwrap();
        assert_eq!(reader.format(), format_id, "{name}");
        assert_eq!(reader.codec(), codec, "{name}");
        let got: Vec<Record> = reader
            .collect::<Result<_, _>>()
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(got, expected, "{name}");
    }
}

#[test]
fn csv_plain_gzip_zstd() {
    check(
        "data.csv",
        "csv",
        delimited(',').as_bytes(),
        &delimited_expected(),
    );
}

#[test]
fn tsv_plain_gzip_zstd() {
    check(
        "data.tsv",
        "tsv",
        delimited('\t').as_bytes(),
        &delimited_expected(),
    );
}

#[test]
fn psv_plain_gzip_zstd() {
    check(
        "data.psv",
        "psv",
        delimited('|').as_bytes(),
        &delimited_expected(),
    );
}

#[test]
fn jsonl_plain_gzip_zstd() {
    check("data.jsonl", "jsonl", JSONL.as_bytes(), &json_expected());
}

#[test]
fn ndjson_plain_gzip_zstd() {
    // The `.ndjson` extension is claimed first by `jsonl` (the same format).
    check("data.ndjson", "jsonl", JSONL.as_bytes(), &json_expected());
    // Asked for by id, the `ndjson` format reads the same records.
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in [
        ("data.ndjson", JSONL.as_bytes().to_vec()),
        ("data.ndjson.gz", gzip(JSONL.as_bytes())),
        ("data.ndjson.zst", zstd(JSONL.as_bytes())),
    ] {
        let path = fixture(dir.path(), name, &bytes);
        let reader = Registry::with_builtins()
            .open(&path, &OpenOptions::new().format("ndjson"))
            .unwrap();
        assert_eq!(reader.format(), "ndjson");
        let got: Vec<Record> = reader.collect::<Result<_, _>>().unwrap();
        assert_eq!(got, json_expected(), "{name}");
    }
}

#[test]
fn json_plain_gzip_zstd() {
    check("data.json", "json", JSON.as_bytes(), &json_expected());
}

#[test]
fn csv_values_are_strings_and_json_values_are_native() {
    use iterable_core::Value;
    let csv = &delimited_expected()[0];
    assert_eq!(csv.get("id"), Some(&Value::String("1".into())));
    let json = &json_expected()[0];
    assert_eq!(json.get("id"), Some(&Value::Int(1)));
    assert_eq!(
        json.get("meta"),
        Some(&Value::Map(vec![
            ("score".into(), Value::Float(9.5)),
            (
                "tags".into(),
                Value::List(vec![Value::String("a".into()), Value::String("b".into())])
            ),
        ]))
    );
    // The order of the fields is the order in the file.
    assert_eq!(json.names(), ["id", "name", "note", "meta"]);
}

#[test]
fn crlf_inside_a_quoted_field_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = fixture(dir.path(), "crlf.csv", b"a,b\r\n\"one\r\ntwo\",2\r\n");
    assert_eq!(
        read_all(&path, &OpenOptions::new()).unwrap(),
        vec![srec(&[("a", "one\r\ntwo"), ("b", "2")])]
    );
}

#[test]
fn a_header_only_or_empty_file_has_no_records() {
    let dir = tempfile::tempdir().unwrap();
    for (name, body) in [
        ("h.csv", &b"a,b\n"[..]),
        ("e.csv", b""),
        ("e.jsonl", b""),
        ("e.json", b"[]"),
        ("ws.json", b"  [ \n ]  \n"),
    ] {
        let path = fixture(dir.path(), name, body);
        assert_eq!(
            read_all(&path, &OpenOptions::new()).unwrap(),
            vec![],
            "{name}"
        );
    }
}

#[test]
fn json_lines_may_have_different_keys_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = fixture(
        dir.path(),
        "k.jsonl",
        b"{\"a\":1,\"b\":2}\n{\"a\":3,\"b\":4}\n{\"b\":5}\n{\"b\":6,\"a\":7,\"c\":8}\n{}\n",
    );
    assert_eq!(
        read_all(&path, &OpenOptions::new()).unwrap(),
        vec![
            jrec(r#"{"a":1,"b":2}"#),
            jrec(r#"{"a":3,"b":4}"#),
            jrec(r#"{"b":5}"#),
            jrec(r#"{"b":6,"a":7,"c":8}"#),
            jrec(r#"{}"#),
        ]
    );
}

/// `DelimitedFormat::text_rows` lends the rows the record reader reads:
/// the same fields, the same names (shared between rows of one width), the
/// same errors.
#[test]
fn text_rows_are_the_record_readers_rows() {
    use iterable_core::formats::DelimitedFormat;
    use iterable_core::{ErrorKind, Format, Options};
    use std::sync::Arc;

    let data = b"a,b\n1,\"x, \"\"y\"\"\"\n2\n3,4,5\n6,7,8\n\"Z\xc3\xbcrich\",\n";
    let mut opts = Options::new();
    opts.set("flexible", "true");
    let mut rows = DelimitedFormat::csv()
        .text_rows(Box::new(&data[..]), &opts)
        .unwrap();
    let mut got = Vec::new();
    let mut names = Vec::new();
    while let Some(row) = rows.next_row().unwrap() {
        assert_eq!(row.len(), row.ends().len());
        assert_eq!(row.text().len(), row.ends().last().copied().unwrap_or(0));
        got.push(row.iter().map(str::to_owned).collect::<Vec<_>>());
        names.push(Arc::clone(row.names()));
    }
    assert_eq!(
        got,
        [
            vec!["1", "x, \"y\""],
            vec!["2"],
            vec!["3", "4", "5"],
            vec!["6", "7", "8"],
            vec!["Zürich", ""],
        ]
    );
    let names_of = |i: usize| names[i].as_slice().to_vec();
    assert_eq!(names_of(1), ["a"]);
    assert_eq!(names_of(2), ["a", "b", "3"]);
    assert!(Arc::ptr_eq(&names[0], &names[4]));
    assert!(Arc::ptr_eq(&names[2], &names[3]));

    let mut records = Vec::new();
    let mut reader = DelimitedFormat::csv()
        .reader(Box::new(&data[..]), &opts)
        .unwrap();
    let mut rec = Record::new();
    while reader.read_record(&mut rec).unwrap() {
        records.push(
            rec.values()
                .iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>(),
        );
    }
    assert_eq!(records, got);

    // Errors: a ragged row without `flexible`, invalid UTF-8.
    for (data, kind, line) in [
        (&b"a,b\n1,2\n3\n"[..], ErrorKind::Parse, 3),
        (&b"a,b\n1,\xff\n"[..], ErrorKind::Encoding, 2),
    ] {
        let mut rows = DelimitedFormat::csv()
            .text_rows(Box::new(data), &Options::new())
            .unwrap();
        let err = loop {
            match rows.next_row() {
                Ok(Some(_)) => {}
                Ok(None) => panic!("no error"),
                Err(e) => break e,
            }
        };
        assert_eq!(err.kind(), kind);
        assert_eq!(err.position().line, Some(line));
    }
}
