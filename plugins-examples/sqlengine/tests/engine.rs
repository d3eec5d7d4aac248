//! Drives the `sql` engine through its exported root module, in-process,
//! with inputs served the way a host serves them (record sources).

use iterable_plugin_api::abi::roptions;
use iterable_plugin_api::abi_stable::std_types::{RString, RVec, Tuple2};
use iterable_plugin_api::prelude::*;
use iterable_plugin_api::{RBatch, RError, ROptions, RecordSourceBox};
use iterable_plugin_sqlengine::get_library;

type Record = Vec<(String, RValue)>;

fn s(v: &str) -> RValue {
    RValue::Str(v.into())
}

fn rec(pairs: &[(&str, RValue)]) -> Record {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

/// A host-side input serving `rows`, `per_batch` rows per batch.
fn input(rows: Vec<Record>, per_batch: usize) -> RecordSourceBox {
    let mut rows = rows.into_iter();
    RecordSourceBox::from_fn(move |batch, max| {
        let mut b = batch.builder();
        for row in rows.by_ref().take(per_batch.min(max as usize)) {
            for (k, v) in row {
                b.key(&k).push_value(v);
            }
            b.end_row();
        }
        drop(b);
        Ok(!batch.is_empty())
    })
}

fn run(
    query: &str,
    inputs: Vec<(&str, RecordSourceBox)>,
    options: ROptions,
) -> Result<Vec<Record>, RError> {
    let engines = (get_library().engines())().unwrap();
    assert_eq!(engines.len(), 1);
    assert_eq!(engines[0].info().id.as_str(), "sql");
    let inputs: RVec<Tuple2<RString, RecordSourceBox>> = inputs
        .into_iter()
        .map(|(name, src)| Tuple2(RString::from(name), src))
        .collect();
    let mut src = engines[0]
        .execute(query.into(), inputs, options)
        .into_result()?;
    let mut batch = RBatch::new();
    let mut out = Vec::new();
    loop {
        let more = src.read_batch(&mut batch, 3).into_result()?;
        for row in batch.iter() {
            out.push(
                row.present()
                    .map(|(k, v)| (k.to_owned(), v.to_value().unwrap()))
                    .collect(),
            );
        }
        if !more {
            return Ok(out);
        }
    }
}

/// CSV-like rows: every value is a string.
fn cities() -> Vec<Record> {
    [
        ("Paris", "10"),
        ("Berlin", "7"),
        ("Paris", "2"),
        ("Rome", "5"),
        ("Berlin", "1"),
    ]
    .iter()
    .map(|(c, n)| rec(&[("city", s(c)), ("n", s(n))]))
    .collect()
}

#[test]
fn group_by_over_a_csv_like_input() {
    let got = run(
        "SELECT city, count(*) AS n FROM data GROUP BY city ORDER BY city",
        vec![("data", input(cities(), 2))],
        ROptions::new(),
    )
    .unwrap();
    assert_eq!(
        got,
        [
            rec(&[("city", s("Berlin")), ("n", RValue::Int(2))]),
            rec(&[("city", s("Paris")), ("n", RValue::Int(2))]),
            rec(&[("city", s("Rome")), ("n", RValue::Int(1))]),
        ]
    );
    // CSV numbers are text: CAST them to compare or add.
    let got = run(
        "SELECT city, sum(CAST(n AS INTEGER)) AS total, typeof(n) AS t FROM data \
         WHERE CAST(n AS INTEGER) >= 2 GROUP BY city ORDER BY total DESC",
        vec![("data", input(cities(), 2))],
        ROptions::new(),
    )
    .unwrap();
    assert_eq!(
        got,
        [
            rec(&[
                ("city", s("Paris")),
                ("total", RValue::Int(12)),
                ("t", s("text"))
            ]),
            rec(&[
                ("city", s("Berlin")),
                ("total", RValue::Int(7)),
                ("t", s("text"))
            ]),
            rec(&[
                ("city", s("Rome")),
                ("total", RValue::Int(5)),
                ("t", s("text"))
            ]),
        ]
    );
}

#[test]
fn values_keep_their_types_and_fields_are_unioned() {
    let rows = vec![
        rec(&[("a", RValue::Int(1)), ("b", s("x"))]),
        rec(&[("a", RValue::Float(2.5)), ("b", RValue::Null)]),
        // New fields in a later batch become new columns.
        rec(&[
            ("a", s("three")),
            ("c", RValue::Bytes(RVec::from_slice(&[1, 2]))),
            ("d", RValue::Bool(true)),
            ("e", RValue::map([("k", RValue::Int(1))])),
        ]),
    ];
    let got = run(
        "SELECT *, typeof(a) AS ta FROM data",
        vec![("data", input(rows, 2))],
        ROptions::new(),
    )
    .unwrap();
    assert_eq!(
        got,
        [
            rec(&[
                ("a", RValue::Int(1)),
                ("b", s("x")),
                ("c", RValue::Null),
                ("d", RValue::Null),
                ("e", RValue::Null),
                ("ta", s("integer")),
            ]),
            rec(&[
                ("a", RValue::Float(2.5)),
                ("b", RValue::Null),
                ("c", RValue::Null),
                ("d", RValue::Null),
                ("e", RValue::Null),
                ("ta", s("real")),
            ]),
            rec(&[
                ("a", s("three")),
                ("b", RValue::Null),
                ("c", RValue::Bytes(RVec::from_slice(&[1, 2]))),
                ("d", RValue::Int(1)),
                ("e", s("{\"k\":1}")),
                ("ta", s("text")),
            ]),
        ]
    );
}

#[test]
fn several_inputs_are_several_tables() {
    let people = vec![
        rec(&[("name", s("ann")), ("city", s("Paris"))]),
        rec(&[("name", s("bob")), ("city", s("Rome"))]),
    ];
    let got = run(
        "WITH p AS (SELECT * FROM \"my-people\") \
         SELECT p.name, count(*) AS visits FROM p JOIN data d ON d.city = p.city \
         GROUP BY p.name ORDER BY p.name;",
        vec![
            ("data", input(cities(), 10)),
            ("my-people", input(people, 1)),
        ],
        ROptions::new(),
    )
    .unwrap();
    assert_eq!(
        got,
        [
            rec(&[("name", s("ann")), ("visits", RValue::Int(2))]),
            rec(&[("name", s("bob")), ("visits", RValue::Int(1))]),
        ]
    );
}

#[test]
fn refuses_anything_but_a_single_select() {
    for (query, refused) in [
        ("DELETE FROM data", "refused `DELETE FROM data`"),
        ("  delete from data;", "refused `delete from data;`"),
        (
            "PRAGMA writable_schema = 1",
            "refused `PRAGMA writable_schema = 1`",
        ),
        ("ATTACH 'x.db' AS x", "refused `ATTACH 'x.db' AS x`"),
        (
            "WITH x AS (SELECT 1) DELETE FROM data",
            "refused `WITH x AS (SELECT 1) DELETE FROM data`",
        ),
        (
            "SELECT 1; DROP TABLE data",
            "refused the SQL after the first ';': `DROP TABLE data`",
        ),
        (
            "SELECT 1 -- one\n; SELECT 2",
            "refused the SQL after the first ';': `SELECT 2`",
        ),
    ] {
        let e = run(query, vec![("data", input(cities(), 2))], ROptions::new()).unwrap_err();
        assert_eq!(e.kind, RErrorKind::ENGINE, "{query}");
        assert_eq!(
            e.message.as_str(),
            format!(
                "only a single SELECT statement is allowed (SELECT or WITH ... SELECT); {refused}"
            )
        );
    }
    // A ';' inside a literal, and trailing semicolons, are fine.
    let got = run("SELECT ';' AS s;;", vec![], ROptions::new()).unwrap();
    assert_eq!(got, [rec(&[("s", s(";"))])]);
}

#[test]
fn sql_errors_carry_sqlites_message() {
    let e = run(
        "SELECT nope FROM data",
        vec![("data", input(cities(), 2))],
        ROptions::new(),
    )
    .unwrap_err();
    assert_eq!(e.kind, RErrorKind::ENGINE);
    assert_eq!(
        e.message.as_str(),
        "SQL error: no such column: nope in SELECT nope FROM data at offset 7"
    );
    // An input without records has no table, and the message says why.
    let e = run(
        "SELECT * FROM data",
        vec![("data", input(vec![], 2))],
        ROptions::new(),
    )
    .unwrap_err();
    assert_eq!(
        e.message.as_str(),
        "SQL error: no such table: data \
         (no table was created for input \"data\": it had no records)"
    );
    let e = run("SELECT 1", vec![], roptions([("x", "1")])).unwrap_err();
    assert_eq!(e.kind, RErrorKind::INVALID_OPTION);
    assert_eq!(
        e.message.as_str(),
        "option `x`: the sql engine takes no options"
    );
}

#[test]
fn input_errors_keep_their_kind() {
    let mut sent = false;
    let failing = RecordSourceBox::from_fn(move |batch, _| {
        if sent {
            return Err(RError::new(RErrorKind::PARSE, "bad quote").with_line(3));
        }
        sent = true;
        batch.builder().key("a").push_str("x").end_row();
        Ok(true)
    });
    let e = run(
        "SELECT * FROM data",
        vec![("data", failing)],
        ROptions::new(),
    )
    .unwrap_err();
    assert_eq!(e.kind, RErrorKind::PARSE);
    assert_eq!(e.message.as_str(), "input `data`: bad quote");
    assert_eq!(e.line.into_option(), Some(3));
}

#[test]
fn big_results_stream() {
    let rows: Vec<Record> = (0..5000)
        .map(|i| rec(&[("i", RValue::Int(i)), ("s", s(&format!("v{i}")))]))
        .collect();
    let got = run(
        "SELECT * FROM data",
        vec![("data", input(rows, 1024))],
        ROptions::new(),
    )
    .unwrap();
    assert_eq!(got.len(), 5000);
    assert_eq!(
        got[4999],
        rec(&[("i", RValue::Int(4999)), ("s", s("v4999"))])
    );
}
