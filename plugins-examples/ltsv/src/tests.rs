//! Drives the plugin in-process through the author test harness, which
//! uses the same wire objects the host uses after dlopen.

use std::io::{self, Read};

use iterable_plugin_api::prelude::*;
use iterable_plugin_api::testing::{Batch, PluginTest, Record, Value, record};

use super::plugin_exports;

fn t() -> PluginTest {
    PluginTest::new(plugin_exports())
}

/// Reads everything from `input`: the records delivered, and the error that ended the stream.
fn read_source(
    input: impl Read + Send + 'static,
    options: &[(&str, &str)],
) -> (Vec<Record>, Option<Error>) {
    match t().reader("ltsv", input, options) {
        Ok(r) => r.read_all(),
        Err(e) => (Vec::new(), Some(e)),
    }
}

fn read(text: &[u8], options: &[(&str, &str)]) -> (Vec<Record>, Option<Error>) {
    read_source(io::Cursor::new(text.to_vec()), options)
}

fn read_ok(text: &str) -> Vec<Record> {
    let (rows, err) = read(text.as_bytes(), &[]);
    assert_eq!(err, None);
    rows
}

fn rec(pairs: &[(&str, &str)]) -> Record {
    record(pairs.iter().copied())
}

/// Records of keyed rows, to hand over as one batch.
fn batch(rows: &[Vec<(&str, Value)>]) -> Vec<Record> {
    rows.iter().map(|r| record(r.iter().cloned())).collect()
}

fn s(v: &str) -> Value {
    Value::Str(v.into())
}

/// Writes the batches; returns what was written (after `finish`) and the first error.
fn write(batches: &[Vec<Record>], options: &[(&str, &str)]) -> (String, Option<Error>) {
    let mut writer = t()
        .writer("ltsv", options)
        .unwrap_or_else(|e| panic!("open_writer: {e}"));
    let mut error = None;
    for b in batches {
        if let Err(e) = writer.write(b) {
            error = Some(e);
            break;
        }
    }
    let text = writer.finish().unwrap();
    (String::from_utf8(text).unwrap(), error)
}

// ------------------------------------------------------------------ metadata

#[test]
fn describes_itself() {
    let about = t().about().unwrap();
    assert_eq!(about.name, "ltsv");
    assert_eq!(about.version, env!("CARGO_PKG_VERSION"));
    assert_eq!(about.abi_version, iterable_plugin_api::API_VERSION);
    assert_eq!(about.license, "MIT OR Apache-2.0");
    let info = t().format_about("ltsv").unwrap();
    assert_eq!(info.id, "ltsv");
    assert_eq!(info.extensions, ["ltsv"]);
    assert!(info.read && info.write);
    assert_eq!(info.options.len(), 1);
    assert_eq!(info.options[0].name, "strict_labels");
    assert_eq!(info.options[0].default.as_deref(), Some("false"));
}

// ------------------------------------------------------------------ reading

const SAMPLE: &str = "\u{feff}host:127.0.0.1\tident:-\ttime:[10/Oct/2000:13:55:36 -0700]\treq:GET /a HTTP/1.0\tstatus:200\r\n\
\r\n\
host:10.0.0.2\tstatus:404\tsize:0\tua:curl/8.0\r\n\
   \n\
\tstatus:500\t\thost:::1\t\n\
url:http://x.example/?q=a:b\tempty:\n";

#[test]
fn reads_sample_exactly() {
    let rows = read_ok(SAMPLE);
    assert_eq!(
        rows,
        vec![
            rec(&[
                ("host", "127.0.0.1"),
                ("ident", "-"),
                ("time", "[10/Oct/2000:13:55:36 -0700]"),
                ("req", "GET /a HTTP/1.0"),
                ("status", "200"),
            ]),
            rec(&[
                ("host", "10.0.0.2"),
                ("status", "404"),
                ("size", "0"),
                ("ua", "curl/8.0"),
            ]),
            // Each record keeps the order of its line.
            rec(&[("status", "500"), ("host", "::1")]),
            rec(&[("url", "http://x.example/?q=a:b"), ("empty", "")]),
        ]
    );
}

#[test]
fn heterogeneous_rows_share_a_batch_with_absent_cells() {
    let mut reader = t()
        .reader("ltsv", &b"a:1\tb:2\nc:3\nb:4\ta:5\n"[..], &[])
        .unwrap_or_else(|e| panic!("{e}"));
    let first = reader.next_batch(1024).unwrap().unwrap();
    assert_eq!(
        first,
        Batch {
            fields: vec!["a".into(), "b".into(), "c".into()],
            // A cell a row lacks is absent: it is not in the record.
            records: vec![rec(&[("a", "1"), ("b", "2")]), rec(&[("c", "3")])],
        }
    );
    // `b` before `a` is another field order: that row starts the next batch.
    let second = reader.next_batch(1024).unwrap().unwrap();
    assert_eq!(second.fields, ["b", "a"]);
    assert_eq!(second.records, [rec(&[("b", "4"), ("a", "5")])]);
    assert_eq!(reader.next_batch(1024).unwrap(), None);
}

#[test]
fn duplicate_label_last_wins() {
    assert_eq!(
        read_ok("a:1\tb:2\ta:3\tb:\n"),
        vec![rec(&[("a", "3"), ("b", "")])]
    );
}

#[test]
fn values_are_never_typed() {
    let rows = read_ok("n:42\tf:1.5\tt:true\tnull:null\n");
    assert_eq!(
        rows,
        vec![rec(&[
            ("n", "42"),
            ("f", "1.5"),
            ("t", "true"),
            ("null", "null")
        ])]
    );
}

/// A reader that returns one byte per call: lines cross every read boundary,
/// and nothing can seek (like a decompressing codec in front of the format).
struct OneByte(io::Cursor<Vec<u8>>);

impl Read for OneByte {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(1);
        self.0.read(&mut buf[..n])
    }
}

#[test]
fn reads_from_a_trickling_unseekable_source() {
    let source = OneByte(io::Cursor::new(SAMPLE.as_bytes().to_vec()));
    let (rows, err) = read_source(source, &[]);
    assert_eq!(err, None);
    assert_eq!(rows, read_ok(SAMPLE));
}

#[test]
fn empty_input_has_no_records() {
    assert_eq!(read_ok(""), Vec::<Record>::new());
    assert_eq!(read_ok("\n\r\n\t\n"), Vec::<Record>::new());
}

#[test]
fn last_line_without_newline_is_read() {
    assert_eq!(
        read_ok("a:1\nb:2"),
        vec![rec(&[("a", "1")]), rec(&[("b", "2")])]
    );
}

// ------------------------------------------------------------------ read errors

#[test]
fn field_without_colon_is_a_parse_error_with_its_line() {
    let (rows, err) = read(b"a:1\n\nb:2\tjunk\tc:3\n", &[]);
    assert_eq!(rows, vec![rec(&[("a", "1")])]);
    let err = err.unwrap();
    assert_eq!(err.kind(), ErrorKind::Parse);
    assert_eq!(err.line, Some(3));
    assert_eq!(err.record, Some(2));
    assert_eq!(
        err.to_string(),
        "parse error at line 3 (record 2): field 2 `junk` has no ':' (expected label:value)"
    );
}

#[test]
fn rows_before_an_error_in_the_same_batch_are_delivered_first() {
    let (rows, err) = read(b"a:1\nb:2\nbad line\nc:4\n", &[]);
    assert_eq!(rows, vec![rec(&[("a", "1")]), rec(&[("b", "2")])]);
    let err = err.unwrap();
    assert_eq!((err.kind(), err.line), (ErrorKind::Parse, Some(3)));
}

#[test]
fn long_fields_are_shortened_in_messages() {
    let field = "x".repeat(100);
    let (_, err) = read(field.as_bytes(), &[]);
    let err = err.unwrap();
    assert_eq!(
        err.message.as_str(),
        format!(
            "field 1 `{}…` has no ':' (expected label:value)",
            "x".repeat(40)
        )
    );
}

#[test]
fn empty_label_is_a_parse_error() {
    let (_, err) = read(b"a:1\t:x\n", &[]);
    let err = err.unwrap();
    assert_eq!(
        err.to_string(),
        "parse error at line 1 (record 1): field 2 `:x` has an empty label"
    );
}

#[test]
fn invalid_utf8_is_an_encoding_error_with_its_line() {
    let (rows, err) = read(b"a:1\nb:\xff\n", &[]);
    assert_eq!(rows, vec![rec(&[("a", "1")])]);
    let err = err.unwrap();
    assert_eq!(err.kind(), ErrorKind::Encoding);
    assert_eq!(err.line, Some(2));
}

#[test]
fn strict_labels_reject_characters_outside_the_ltsv_set() {
    let text = b"ok_label.1-x:1\tfirst name:Ann\n";
    assert_eq!(
        read(text, &[]).0,
        vec![rec(&[("ok_label.1-x", "1"), ("first name", "Ann")])]
    );
    let (rows, err) = read(text, &[("strict_labels", "true")]);
    assert!(rows.is_empty());
    assert_eq!(
        err.unwrap().to_string(),
        "parse error at line 1 (record 1): field 2: label `first name` contains ' ', outside [0-9A-Za-z_.-] (strict_labels=true)"
    );
    let (_, err) = read(b"\xc3\xa9t\xc3\xa9:1\n", &[("strict_labels", "true")]);
    assert_eq!(err.unwrap().kind(), ErrorKind::Parse);
}

#[test]
fn options_are_checked() {
    let (_, err) = read(b"a:1\n", &[("strict_labels", "maybe")]);
    let err = err.unwrap();
    assert_eq!(err.kind(), ErrorKind::InvalidOption);
    assert_eq!(
        err.message.as_str(),
        "option `strict_labels`: invalid value `maybe` (choose one of: true, false)"
    );
    let (_, err) = read(b"a:1\n", &[("delimiter", ",")]);
    let err = err.unwrap();
    assert_eq!(err.kind(), ErrorKind::InvalidOption);
    assert_eq!(
        err.message.as_str(),
        "unknown option `delimiter` for format `ltsv` (valid options: strict_labels)"
    );
}

// ------------------------------------------------------------------ writing

#[test]
fn writes_text_forms_and_skips_absent_fields() {
    let b = batch(&[
        vec![
            ("s", s("a:b c")),
            ("i", Value::Int(-42)),
            ("f", Value::Float(1.5)),
            ("t", Value::Bool(true)),
            ("n", Value::Null),
            ("bytes", Value::Bytes(b"raw".to_vec())),
            ("list", Value::List(vec![Value::Int(1), s("x\ty")])),
            ("map", Value::Map(vec![("k".into(), s("v\n"))])),
        ],
        vec![("i", Value::Int(7)), ("other", s(""))],
        vec![],
    ]);
    let (text, err) = write(&[b], &[]);
    assert_eq!(err, None);
    assert_eq!(
        text,
        "s:a:b c\ti:-42\tf:1.5\tt:true\tn:\tbytes:raw\tlist:[1,\"x\\ty\"]\tmap:{\"k\":\"v\\n\"}\n\
         i:7\tother:\n\
         \n"
    );
}

#[test]
fn value_with_tab_cr_or_lf_is_refused_and_nothing_broken_is_written() {
    for (value, what) in [
        ("x\ty", "a TAB"),
        ("x\ny", "a line feed (LF)"),
        ("x\ry", "a carriage return (CR)"),
    ] {
        let b = batch(&[
            vec![("a", s("1"))],
            vec![("a", s("2")), ("note", s(value)), ("z", s("3"))],
            vec![("a", s("4"))],
        ]);
        let (text, err) = write(&[b], &[]);
        assert_eq!(
            text, "a:1\n",
            "only the rows before the bad one are written"
        );
        let err = err.unwrap();
        assert_eq!(err.kind(), ErrorKind::Schema);
        assert_eq!(err.record, Some(2));
        assert_eq!(
            err.to_string(),
            format!(
                "schema error at record 2: field `note`: the value contains {what}, which LTSV cannot represent"
            )
        );
    }
}

#[test]
fn record_numbers_continue_across_batches() {
    let first = batch(&[vec![("a", s("1"))], vec![("a", s("2"))]]);
    let second = batch(&[vec![("a", s("3"))], vec![("a", s("bad\n"))]]);
    let (text, err) = write(&[first, second], &[]);
    assert_eq!(text, "a:1\na:2\na:3\n");
    assert_eq!(err.unwrap().record, Some(4));
}

#[test]
fn unrepresentable_labels_are_refused() {
    for (label, why) in [
        ("a:b", "contains ':'"),
        ("a\tb", "contains a TAB"),
        ("", "is empty"),
    ] {
        let (text, err) = write(&[batch(&[vec![(label, s("1"))]])], &[]);
        assert_eq!(text, "");
        assert_eq!(
            err.unwrap().to_string(),
            format!(
                "schema error at record 1: field {label:?}: the label {why}, which LTSV cannot represent"
            )
        );
    }
    let rows = batch(&[vec![("first name", s("Ann"))]]);
    let (text, err) = write(std::slice::from_ref(&rows), &[]);
    assert_eq!((text.as_str(), err), ("first name:Ann\n", None));
    let (text, err) = write(&[rows], &[("strict_labels", "true")]);
    assert_eq!(text, "");
    assert_eq!(
        err.unwrap().message.as_str(),
        "field \"first name\": the label contains ' ', outside [0-9A-Za-z_.-] (strict_labels=true), which LTSV cannot represent"
    );
}

#[test]
fn round_trip_write_then_read() {
    let rows: Vec<Vec<(&str, Value)>> = vec![
        vec![
            ("host", s("127.0.0.1")),
            ("path", s("/a:b")),
            ("status", s("200")),
        ],
        vec![("status", s("404")), ("ua", s("Mozilla/5.0 (X11; Linux)"))],
        vec![("unicode", s("żółć ✓")), ("empty", s(""))],
        vec![("host", s("::1"))],
    ];
    let (text, err) = write(&[batch(&rows)], &[("strict_labels", "true")]);
    assert_eq!(err, None);
    let back = read_ok(&text);
    let expected: Vec<Record> = batch(&rows);
    // Fields come back in the batch's order (first seen); compare as sets per row.
    let sorted = |mut v: Vec<Record>| {
        v.iter_mut().for_each(|r| r.sort_by(|a, b| a.0.cmp(&b.0)));
        v
    };
    assert_eq!(sorted(back), sorted(expected));
}

#[test]
fn round_trip_of_many_rows_across_batches() {
    let mut text = String::new();
    for i in 0..3000 {
        text.push_str(&format!("id:{i}\tv:{}", i * 2));
        if i % 3 == 0 {
            text.push_str(&format!("\textra:e{i}"));
        }
        text.push('\n');
    }
    let rows = read_ok(&text);
    assert_eq!(rows.len(), 3000);
    assert_eq!(rows[3], rec(&[("id", "3"), ("v", "6"), ("extra", "e3")]));
    assert_eq!(rows[2999], rec(&[("id", "2999"), ("v", "5998")]));
    let batches: Vec<Vec<Record>> = rows.chunks(1024).map(<[Record]>::to_vec).collect();
    let (written, err) = write(&batches, &[]);
    assert_eq!(err, None);
    assert_eq!(written, text);
}
