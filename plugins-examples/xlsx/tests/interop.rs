//! The xlsx plugin against openpyxl: a workbook openpyxl writes (two
//! sheets, dates, blanks) reads back to exact records, and a workbook the
//! plugin writes reads back in openpyxl. openpyxl comes from the venv of
//! `scripts/pytools.sh` (see `plugins-examples/parquet/tests/interop.rs`).

#[path = "../../../tests/util/pytools.rs"]
mod pytools;

use iterable_plugin_api::prelude::*;
use iterable_plugin_api::testing::{PluginTest, Value, record};
use iterable_plugin_xlsx::plugin_exports;

use pytools::{python, run_py};

fn t() -> PluginTest {
    PluginTest::new(plugin_exports())
}

const WRITE_BOOK: &str = r#"
import sys, datetime
from openpyxl import Workbook
wb = Workbook()
ws = wb.active
ws.title = "People"
ws.append(["name", "born", "score", "active", "note"])
ws.append(["Ann", datetime.date(1990, 5, 17), 12.5, True, None])
ws.append(["Bö", datetime.datetime(2024, 1, 2, 3, 4, 5), 7, False, "x"])
ws.append([None, None, None, None, None])
ws.append(["Cy", None, 3.0, None, "żółć"])
second = wb.create_sheet("Second")
second.append(["a", "a", None])
second.append([1, 2, 3])
wb.save(sys.argv[1])
"#;

#[test]
fn a_workbook_openpyxl_writes_reads_back_exactly() {
    let Some(py) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("book.xlsx");
    run_py(&py, WRITE_BOOK, &[&file]);
    let bytes = std::fs::read(&file).unwrap();
    let born = Value::Typed(Typed::Date(7_441)); // 1990-05-17
    let at = Value::Typed(Typed::Timestamp {
        unit: Unit::Microsecond,
        value: 1_704_164_645_000_000, // 2024-01-02T03:04:05
        tz: None,
    });
    let people = vec![
        record([
            ("name", Value::from("Ann")),
            ("born", born),
            ("score", Value::Float(12.5)),
            ("active", Value::Bool(true)),
        ]),
        record([
            ("name", Value::from("Bö")),
            ("born", at),
            ("score", Value::Int(7)),
            ("active", Value::Bool(false)),
            ("note", Value::from("x")),
        ]),
        // The empty row is skipped; empty cells are absent; 3.0 is 3.
        record([
            ("name", Value::from("Cy")),
            ("score", Value::Int(3)),
            ("note", Value::from("żółć")),
        ]),
    ];
    assert_eq!(t().read("xlsx", &bytes, &[]).unwrap(), people);
    assert_eq!(
        t().read("xlsx", &bytes, &[("sheet", "People")]).unwrap(),
        people
    );
    let second = vec![record([
        ("a", Value::Int(1)),
        ("a_2", Value::Int(2)),
        ("column_3", Value::Int(3)),
    ])];
    assert_eq!(
        t().read("xlsx", &bytes, &[("sheet", "Second")]).unwrap(),
        second
    );
    assert_eq!(t().read("xlsx", &bytes, &[("sheet", "2")]).unwrap(), second);

    let e = t().read("xlsx", &bytes, &[("sheet", "Third")]).unwrap_err();
    assert_eq!(e.kind, RErrorKind::INVALID_OPTION);
    assert_eq!(
        e.message,
        "option `sheet`: no sheet `Third` (sheets: People, Second; or a number from 1 to 2)"
    );
}

#[test]
fn what_the_plugin_writes_openpyxl_reads() {
    let Some(py) = python() else { return };
    let rows = vec![
        record([
            ("name", Value::from("Ann")),
            ("n", Value::Int(3)),
            ("day", Value::Typed(Typed::Date(19_753))),
            ("ok", Value::Bool(true)),
        ]),
        record([
            ("name", Value::from("Bö")),
            ("x", Value::Float(0.5)),
            (
                "price",
                Value::Typed(Typed::Decimal {
                    value: 1_050,
                    precision: 6,
                    scale: 2,
                }),
            ),
        ]),
    ];
    let bytes = t().write("xlsx", &rows, &[("sheet", "Out")]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out.xlsx");
    std::fs::write(&file, &bytes).unwrap();
    let read = r#"
import sys, json
from openpyxl import load_workbook
wb = load_workbook(sys.argv[1])
ws = wb.active
print(json.dumps({"title": ws.title,
                  "rows": [[None if c is None else str(c) for c in r] for r in ws.iter_rows(values_only=True)]},
                 ensure_ascii=False))
"#;
    let out: serde_json::Value = serde_json::from_str(&run_py(&py, read, &[&file])).unwrap();
    assert_eq!(out["title"], "Out");
    assert_eq!(
        out["rows"],
        serde_json::json!([
            ["name", "n", "day", "ok", "x", "price"],
            ["Ann", "3", "2024-01-31 00:00:00", "True", null, null],
            ["Bö", null, null, null, "0.5", "10.5"],
        ])
    );
    // And the plugin reads its own workbook back.
    assert_eq!(
        t().read("xlsx", &bytes, &[]).unwrap(),
        [
            record([
                ("name", Value::from("Ann")),
                ("n", Value::Int(3)),
                ("day", Value::Typed(Typed::Date(19_753))),
                ("ok", Value::Bool(true)),
            ]),
            record([
                ("name", Value::from("Bö")),
                ("x", Value::Float(0.5)),
                ("price", Value::Float(10.5)),
            ]),
        ]
    );
}

#[test]
fn a_renamed_csv_is_a_clear_error() {
    let e = t().read("xlsx", b"a,b\n1,2\n", &[]).unwrap_err();
    assert_eq!(e.kind, RErrorKind::PARSE);
    assert!(
        e.message
            .starts_with("not a readable workbook (.xlsx, .xls or .ods):"),
        "{e}"
    );
}

/// The same sheet written as .ods (odfpy) and as .xls (xlwt): calamine
/// tells the kind from the bytes, and the records are the same.
#[test]
fn ods_and_xls_read_like_xlsx() {
    let Some(py) = python() else { return };
    let write = r#"
import sys, datetime
import xlwt
from odf.opendocument import OpenDocumentSpreadsheet
from odf.table import Table, TableRow, TableCell
from odf.text import P
rows = [["name", "n", "day"], ["Ann", 3, datetime.date(2024, 1, 31)], ["Bö", 2.5, None]]
doc = OpenDocumentSpreadsheet()
t = Table(name="S")
for r in rows:
    tr = TableRow()
    for v in r:
        if v is None:
            c = TableCell()
        elif isinstance(v, datetime.date):
            c = TableCell(valuetype="date", datevalue=v.isoformat())
            c.addElement(P(text=v.isoformat()))
        elif isinstance(v, (int, float)):
            c = TableCell(valuetype="float", value=v)
            c.addElement(P(text=str(v)))
        else:
            c = TableCell(valuetype="string")
            c.addElement(P(text=v))
        tr.addElement(c)
    t.addElement(tr)
doc.spreadsheet.addElement(t)
doc.save(sys.argv[1])
wb = xlwt.Workbook()
ws = wb.add_sheet("S")
date = xlwt.easyxf(num_format_str="YYYY-MM-DD")
for i, r in enumerate(rows):
    for j, v in enumerate(r):
        if v is None:
            continue
        if isinstance(v, datetime.date):
            ws.write(i, j, v, date)
        else:
            ws.write(i, j, v)
wb.save(sys.argv[2])
"#;
    let dir = tempfile::tempdir().unwrap();
    let (ods, xls) = (dir.path().join("s.ods"), dir.path().join("s.xls"));
    run_py(&py, write, &[&ods, &xls]);
    let expected = vec![
        record([
            ("name", Value::from("Ann")),
            ("n", Value::Int(3)),
            ("day", Value::Typed(Typed::Date(19_753))),
        ]),
        record([("name", Value::from("Bö")), ("n", Value::Float(2.5))]),
    ];
    for file in [&ods, &xls] {
        let bytes = std::fs::read(file).unwrap();
        assert_eq!(
            t().read("xlsx", &bytes, &[]).unwrap(),
            expected,
            "{}",
            file.display()
        );
    }
}
