//! The parquet plugin against pyarrow (the reference implementation of
//! Arrow and Parquet): files pyarrow writes read back to exact records, and
//! files the plugin writes read back in pyarrow with the same types.
//!
//! pyarrow comes from the venv `scripts/pytools.sh` makes under `target/`
//! (`scripts/test.sh` makes it and sets `ITERABLE_REQUIRE_PYTOOLS=1`, so a
//! missing venv fails there; elsewhere these tests say so and pass).

#[path = "../../../tests/util/pytools.rs"]
mod pytools;

use iterable_plugin_api::prelude::*;
use iterable_plugin_api::testing::{PluginTest, Record, Value, record};
use iterable_plugin_parquet::plugin_exports;

use pytools::{python, run_py};

fn t() -> PluginTest {
    PluginTest::new(plugin_exports())
}

fn typed(t: Typed) -> Value {
    Value::Typed(t)
}

fn map(pairs: &[(&str, Value)]) -> Value {
    Value::Map(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    )
}

#[test]
fn every_type_pyarrow_writes_reads_back_exactly() {
    let Some(py) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("all.parquet");
    let script = include_str!("every_type.py");
    run_py(&py, script, &[&file]);
    let bytes = std::fs::read(&file).unwrap();
    // Two row groups of two rows and one of one.
    let got = t().read("parquet", &bytes, &[]).unwrap();
    let dec = |value, scale| {
        typed(Typed::Decimal {
            value,
            precision: 10,
            scale,
        })
    };
    let us = |value| {
        typed(Typed::Timestamp {
            unit: Unit::Microsecond,
            value,
            tz: None,
        })
    };
    let paris = |value| {
        typed(Typed::Timestamp {
            unit: Unit::Millisecond,
            value,
            tz: Some("Europe/Paris".into()),
        })
    };
    let n = || Value::Null;
    let expected: Vec<Record> = vec![
        record([
            ("i8", Value::Int(1)),
            ("i16", Value::Int(300)),
            ("i32", Value::Int(70000)),
            ("i64", Value::Int(1 << 40)),
            ("u8", Value::Int(255)),
            ("u16", Value::Int(65535)),
            ("u32", Value::Int(4_294_967_295)),
            (
                "u64",
                typed(Typed::Decimal {
                    value: i128::from(u64::MAX),
                    precision: 20,
                    scale: 0,
                }),
            ),
            ("f32", Value::Float(1.5)),
            ("f64", Value::Float(0.1)),
            ("b", Value::Bool(true)),
            ("s", Value::from("a")),
            ("bin", Value::Bytes(vec![0, 1])),
            ("d", typed(Typed::Date(19_753))),
            (
                "t",
                typed(Typed::Time {
                    unit: Unit::Microsecond,
                    value: 47_107_250_000,
                }),
            ),
            ("ts", us(1_704_103_200_123_456)),
            ("tstz", paris(1_704_103_200_123)),
            ("dec", dec(12_345, 2)),
            ("l", Value::List(vec![Value::Int(1), Value::Int(2)])),
            ("st", map(&[("x", Value::Int(1)), ("y", Value::from("a"))])),
            ("m", map(&[("k", Value::Int(1))])),
            ("n", n()),
        ]),
        record([
            ("i8", Value::Int(-2)),
            ("i16", n()),
            ("i32", Value::Int(0)),
            ("i64", n()),
            ("u8", n()),
            ("u16", Value::Int(1)),
            ("u32", n()),
            ("u64", Value::Int(5)),
            ("f32", n()),
            ("f64", Value::Float(2.0)),
            ("b", Value::Bool(false)),
            ("s", Value::from("żółć ✓")),
            ("bin", Value::Bytes(vec![])),
            ("d", typed(Typed::Date(-1))),
            ("t", n()),
            ("ts", n()),
            ("tstz", paris(0)),
            ("dec", dec(-1, 2)),
            ("l", Value::List(vec![])),
            ("st", n()),
            ("m", map(&[])),
            ("n", n()),
        ]),
        record([
            ("i8", n()),
            ("i16", Value::Int(-300)),
            ("i32", n()),
            ("i64", Value::Int(-1)),
            ("u8", Value::Int(0)),
            ("u16", n()),
            ("u32", Value::Int(2)),
            ("u64", n()),
            ("f32", Value::Float(-0.25)),
            ("f64", n()),
            ("b", n()),
            ("s", n()),
            ("bin", n()),
            ("d", n()),
            (
                "t",
                typed(Typed::Time {
                    unit: Unit::Microsecond,
                    value: 0,
                }),
            ),
            ("ts", us(-1)),
            ("tstz", n()),
            ("dec", n()),
            ("l", n()),
            ("st", map(&[("x", n()), ("y", Value::from("b"))])),
            ("m", n()),
            ("n", n()),
        ]),
    ];
    assert_eq!(got.len(), expected.len());
    for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
        assert_eq!(g, e, "record {}", i + 1);
    }
    // Read in batches of one row: the same records across row groups.
    let one = t().batch_size(1).read("parquet", &bytes, &[]).unwrap();
    assert_eq!(one, expected);
}

/// What pyarrow makes of a Parquet file: each column's type, then the rows
/// as JSON (dates and decimals as text).
const DESCRIBE: &str = r#"
import json, sys
import pyarrow.parquet as pq
t = pq.read_table(sys.argv[1])
print(json.dumps({"types": [f"{f.name}: {f.type}" for f in t.schema],
                  "rows": t.to_pylist(),
                  "row_groups": pq.ParquetFile(sys.argv[1]).num_row_groups,
                  "codec": pq.ParquetFile(sys.argv[1]).metadata.row_group(0).column(0).compression},
                 default=str, ensure_ascii=False))
"#;

#[test]
fn what_the_plugin_writes_pyarrow_reads_with_the_same_types() {
    let Some(py) = python() else { return };
    let rows = vec![
        record([
            ("id", Value::Int(1)),
            ("name", Value::from("Ann")),
            ("score", Value::Float(2.5)),
            ("ok", Value::Bool(true)),
            ("raw", Value::Bytes(vec![1, 2])),
            ("day", typed(Typed::Date(19_753))),
            (
                "at",
                typed(Typed::Timestamp {
                    unit: Unit::Microsecond,
                    value: 1_704_103_200_123_456,
                    tz: Some("UTC".into()),
                }),
            ),
            (
                "price",
                typed(Typed::Decimal {
                    value: 12_345,
                    precision: 10,
                    scale: 2,
                }),
            ),
            (
                "tags",
                Value::List(vec![Value::from("a"), Value::from("b")]),
            ),
            (
                "pos",
                map(&[("x", Value::Float(1.0)), ("y", Value::Float(-2.0))]),
            ),
        ]),
        record([
            ("id", Value::Int(2)),
            ("name", Value::Null),
            ("score", Value::Int(3)),
        ]),
    ];
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out.parquet");
    for (options, codec) in [
        (vec![], "ZSTD"),
        (vec![("compression", "snappy")], "SNAPPY"),
        (vec![("compression", "gzip")], "GZIP"),
        (vec![("compression", "none")], "UNCOMPRESSED"),
    ] {
        let bytes = t().write("parquet", &rows, &options).unwrap();
        std::fs::write(&file, bytes).unwrap();
        let out: serde_json::Value =
            serde_json::from_str(&run_py(&py, DESCRIBE, &[&file])).unwrap();
        assert_eq!(out["codec"], codec);
        assert_eq!(
            out["types"],
            serde_json::json!([
                "id: int64",
                "name: string",
                "score: double",
                "ok: bool",
                "raw: binary",
                "day: date32[day]",
                "at: timestamp[us, tz=UTC]",
                "price: decimal128(10, 2)",
                "tags: list<item: string>",
                "pos: struct<x: double, y: double>",
            ])
        );
        let rows = &out["rows"];
        assert_eq!(rows[0]["at"], "2024-01-01 10:00:00.123456+00:00");
        assert_eq!(rows[0]["price"], "123.45");
        assert_eq!(rows[0]["day"], "2024-01-31");
        assert_eq!(rows[0]["tags"], serde_json::json!(["a", "b"]));
        assert_eq!(rows[1]["score"], 3.0);
        assert!(rows[1]["ok"].is_null());
    }
    // row_group_size splits row groups.
    let many: Vec<Record> = (0..10).map(|i| record([("i", Value::Int(i))])).collect();
    let bytes = t()
        .write("parquet", &many, &[("row_group_size", "3")])
        .unwrap();
    std::fs::write(&file, bytes).unwrap();
    let out: serde_json::Value = serde_json::from_str(&run_py(&py, DESCRIBE, &[&file])).unwrap();
    assert_eq!(out["row_groups"], 4);
}

#[test]
fn broken_files_are_parse_errors_naming_the_row_group() {
    let rows: Vec<Record> = (0..6)
        .map(|i| record([("i", Value::Int(i)), ("s", Value::from(format!("row {i}")))]))
        .collect();
    let good = t()
        .write(
            "parquet",
            &rows,
            &[("compression", "snappy"), ("row_group_size", "2")],
        )
        .unwrap();
    assert_eq!(t().read("parquet", &good, &[]).unwrap(), rows);

    // Cut short: the footer is gone.
    let e = t()
        .read("parquet", &good[..good.len() / 2], &[])
        .unwrap_err();
    assert_eq!(e.kind, RErrorKind::PARSE);
    assert!(e.message.starts_with("not a readable Parquet file:"), "{e}");

    // Not Parquet at all (a CSV renamed).
    let e = t().read("parquet", b"a,b\n1,2\n", &[]).unwrap_err();
    assert_eq!(e.kind, RErrorKind::PARSE);
    assert!(e.message.starts_with("not a readable Parquet file:"), "{e}");

    // A corrupt footer (the metadata before the last 8 bytes).
    let mut bad = good.clone();
    let n = bad.len();
    for b in &mut bad[n - 60..n - 8] {
        *b ^= 0x5a;
    }
    let e = t().read("parquet", &bad, &[]).unwrap_err();
    assert_eq!(e.kind, RErrorKind::PARSE, "{e}");

    // A corrupt page: the records before it come out, then the error names
    // its row group and record.
    let mut bad = good.clone();
    for b in &mut bad[4..40] {
        *b ^= 0x5a;
    }
    let (before, e) = t()
        .reader("parquet", std::io::Cursor::new(bad), &[])
        .unwrap()
        .read_all();
    let e = e.expect("an error");
    assert_eq!(e.kind, RErrorKind::PARSE, "{e}");
    assert!(e.message.starts_with("row group 1 of 3:"), "{e}");
    assert_eq!(e.record, Some(before.len() as u64 + 1));
}

#[test]
fn a_schema_that_does_not_fit_names_the_field_and_the_record() {
    let rows = vec![
        record([("n", Value::from("1")), ("d", Value::from("2024-01-02"))]),
        record([("n", Value::from("x")), ("d", Value::from(""))]),
    ];
    let e = t()
        .write("parquet", &rows, &[("schema", "n: int32, d: date")])
        .unwrap_err();
    assert_eq!(e.kind, RErrorKind::SCHEMA);
    assert_eq!(e.record, Some(2));
    assert_eq!(
        e.message,
        "field `n`: `x` is not an integer that fits Int32"
    );
    let e = t()
        .write("parquet", &rows, &[("schema", "n int32")])
        .unwrap_err();
    assert_eq!(e.kind, RErrorKind::INVALID_OPTION);
    assert!(e.message.contains("expected `:`"), "{e}");
    // Text parses into the schema's types; an empty cell is a null.
    let ok = vec![record([("n", Value::from(" 7 ")), ("d", Value::from(""))])];
    let bytes = t()
        .write("parquet", &ok, &[("schema", "n: int32, d: date")])
        .unwrap();
    assert_eq!(
        t().read("parquet", &bytes, &[]).unwrap(),
        [record([("n", Value::Int(7)), ("d", Value::Null)])]
    );
    // A field the schema does not have.
    let e = t()
        .write(
            "parquet",
            &[record([("zzz", Value::Int(1))])],
            &[("schema", "n: int32")],
        )
        .unwrap_err();
    assert_eq!(e.kind, RErrorKind::SCHEMA);
    assert!(
        e.message
            .starts_with("field `zzz` is not in the schema (n: int32)"),
        "{e}"
    );
}
