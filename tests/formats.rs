//! The typed-format plugins end to end, through the real `iterable-host`:
//! Parquet (CSV → Parquet → JSON lines, detection, types kept through
//! `convert`, errors that name the file and leave no output), Excel and XML.
//!
//! The pyarrow checks use the venv of `scripts/pytools.sh` (see
//! `plugins-examples/parquet/tests/interop.rs`).

#[path = "util/pytools.rs"]
mod pytools;
mod util;

use std::fs;

use pytools::{python, run_py};
use util::{Site, json_lines, plugin_lib};

/// A site with the parquet, xlsx and xml plugins installed under plugins/.
fn site() -> Site {
    let site = Site::new();
    for name in ["parquet", "xlsx", "xml"] {
        let lib = plugin_lib(&format!("iterable_plugin_{name}"));
        site.run(&["install", lib.to_str().unwrap(), "--dir", "plugins"])
            .ok();
    }
    site
}

const CSV: &str = "id,name,price,day\n1,Ann,2.50,2024-01-31\n2,Bö,,2024-02-01\n3,Cy,10.00,\n";

#[test]
fn csv_to_parquet_to_json_lines() {
    let s = site();
    fs::write(s.path().join("rows.csv"), CSV).unwrap();
    // Inferred schema: CSV values are text.
    s.run(&["convert", "rows.csv", "rows.parquet"]).ok();
    let out = s.run(&["cat", "rows.parquet"]).ok();
    assert_eq!(
        json_lines(&out),
        [
            serde_json::json!({"id": "1", "name": "Ann", "price": "2.50", "day": "2024-01-31"}),
            serde_json::json!({"id": "2", "name": "Bö", "price": "", "day": "2024-02-01"}),
            serde_json::json!({"id": "3", "name": "Cy", "price": "10.00", "day": ""}),
        ]
    );
    // A given schema types the columns: numbers, exact decimals, dates;
    // empty cells become nulls.
    s.run(&[
        "convert",
        "rows.csv",
        "typed.parquet",
        "--out-option",
        "schema=id: int32, name: string, price: decimal(6, 2), day: date",
    ])
    .ok();
    let out = s
        .run(&["convert", "typed.parquet", "-", "--format", "jsonl"])
        .ok();
    assert_eq!(
        out,
        "{\"id\":1,\"name\":\"Ann\",\"price\":2.50,\"day\":\"2024-01-31\"}\n\
         {\"id\":2,\"name\":\"Bö\",\"price\":null,\"day\":\"2024-02-01\"}\n\
         {\"id\":3,\"name\":\"Cy\",\"price\":10.00,\"day\":null}\n"
    );
    // CSV writes typed values as ISO-8601 and plain decimals.
    s.run(&["convert", "typed.parquet", "back.csv"]).ok();
    assert_eq!(
        fs::read_to_string(s.path().join("back.csv")).unwrap(),
        "id,name,price,day\n1,Ann,2.50,2024-01-31\n2,Bö,,2024-02-01\n3,Cy,10.00,\n"
    );
    // Recognised by its PAR1 magic without the extension.
    fs::copy(s.path().join("typed.parquet"), s.path().join("noext")).unwrap();
    assert_eq!(s.run(&["count", "noext"]).ok().trim(), "3");
}

#[test]
fn convert_between_parquet_files_keeps_every_columns_type() {
    let Some(python) = python() else { return };
    let s = site();
    let src = s.path().join("all.parquet");
    run_py(
        &python,
        include_str!("../plugins-examples/parquet/tests/every_type.py"),
        &[&src],
    );
    s.run(&["convert", "all.parquet", "copy.parquet"]).ok();
    let compare = r#"
import sys, pyarrow.parquet as pq
a, b = pq.read_table(sys.argv[1]), pq.read_table(sys.argv[2])
for fa, fb in zip(a.schema, b.schema):
    if fa.name != fb.name or fa.type != fb.type:
        print("DIFF", fa, fb)
print("same rows" if a.to_pylist() == b.to_pylist() else "DIFFERENT ROWS")
"#;
    let out = run_py(&python, compare, &[&src, &s.path().join("copy.parquet")]);
    assert_eq!(out, "same rows\n");
}

#[test]
fn broken_parquet_is_a_one_line_error_and_leaves_no_output() {
    let s = site();
    fs::write(s.path().join("rows.csv"), CSV).unwrap();
    s.run(&["convert", "rows.csv", "good.parquet"]).ok();
    let good = fs::read(s.path().join("good.parquet")).unwrap();
    fs::write(s.path().join("cut.parquet"), &good[..good.len() - 20]).unwrap();
    let e = s.run(&["convert", "cut.parquet", "out.jsonl"]).err();
    assert!(
        e.starts_with(
            "iterable-host: error: plugin 'parquet': cut.parquet: not a readable Parquet file:"
        ),
        "{e}"
    );
    assert!(!s.path().join("out.jsonl").exists());
    // A CSV renamed .parquet.
    fs::write(s.path().join("fake.parquet"), CSV).unwrap();
    let e = s.run(&["cat", "fake.parquet"]).err();
    assert!(
        e.contains("fake.parquet: not a readable Parquet file"),
        "{e}"
    );
}

#[test]
fn a_sheet_of_a_workbook_and_xml_records() {
    let s = site();
    fs::write(s.path().join("rows.csv"), CSV).unwrap();
    let info = s.run(&["info", "xlsx"]).ok();
    assert!(
        info.contains("\n  option      sheet: the sheet to read, by name or by number from 1"),
        "{info}"
    );
    s.run(&[
        "convert",
        "rows.csv",
        "book.xlsx",
        "--out-option",
        "sheet=Prices",
    ])
    .ok();
    let out = s
        .run(&["cat", "book.xlsx", "--option", "sheet=Prices"])
        .ok();
    assert_eq!(
        json_lines(&out)[0],
        serde_json::json!({"id": "1", "name": "Ann", "price": "2.50", "day": "2024-01-31"})
    );
    let e = s.run(&["cat", "book.xlsx", "--option", "sheet=Nope"]).err();
    assert!(
        e.contains("no sheet `Nope` (sheets: Prices; or a number from 1 to 1)"),
        "{e}"
    );
    fs::copy(s.path().join("rows.csv"), s.path().join("renamed.xlsx")).unwrap();
    let e = s.run(&["cat", "renamed.xlsx"]).err();
    assert!(e.contains("renamed.xlsx: not a readable workbook"), "{e}");

    s.run(&[
        "convert",
        "rows.csv",
        "rows.xml",
        "--out-option",
        "root=rows",
        "--out-option",
        "tagname=row",
    ])
    .ok();
    let e = s.run(&["cat", "rows.xml"]).err();
    assert!(e.ends_with("(found under <rows>: row (3))"), "{e}");
    let back = s.run(&["cat", "rows.xml", "--option", "tagname=row"]).ok();
    assert_eq!(json_lines(&back).len(), 3);
    fs::write(s.path().join("bad.xml"), "<rows><row><a>1</b></row></rows>").unwrap();
    let e = s
        .run(&[
            "convert",
            "bad.xml",
            "out.jsonl",
            "--in-option",
            "tagname=row",
        ])
        .err();
    assert!(
        e.contains("bad.xml: record 1: not well-formed XML at byte"),
        "{e}"
    );
    assert!(!s.path().join("out.jsonl").exists());
}
