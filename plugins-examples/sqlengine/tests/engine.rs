//! Drives the `sql` engine in-process through the author test harness,
//! with inputs served the way a host serves them (batches of records).

use iterable_plugin_api::prelude::*;
use iterable_plugin_api::testing::{Batches, PluginTest, Record, Value};
use iterable_plugin_sqlengine::plugin_exports;

fn s(v: &str) -> Value {
    Value::Str(v.into())
}

fn rec(pairs: &[(&str, Value)]) -> Record {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

/// An input serving `rows`, `per_batch` rows per batch.
fn input(rows: Vec<Record>, per_batch: usize) -> Batches {
    rows.chunks(per_batch).map(|c| Ok(c.to_vec())).collect()
}

fn run(
    query: &str,
    inputs: Vec<(&str, Batches)>,
    options: &[(&str, &str)],
) -> Result<Vec<Record>, Error> {
    let t = PluginTest::new(plugin_exports()).batch_size(3);
    assert_eq!(t.provides().unwrap().engines, ["sql"]);
    t.query_batches("sql", query, inputs, options)
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
        &[],
    )
    .unwrap();
    assert_eq!(
        got,
        [
            rec(&[("city", s("Berlin")), ("n", Value::Int(2))]),
            rec(&[("city", s("Paris")), ("n", Value::Int(2))]),
            rec(&[("city", s("Rome")), ("n", Value::Int(1))]),
        ]
    );
    // CSV numbers are text: CAST them to compare or add.
    let got = run(
        "SELECT city, sum(CAST(n AS INTEGER)) AS total, typeof(n) AS t FROM data \
         WHERE CAST(n AS INTEGER) >= 2 GROUP BY city ORDER BY total DESC",
        vec![("data", input(cities(), 2))],
        &[],
    )
    .unwrap();
    assert_eq!(
        got,
        [
            rec(&[
                ("city", s("Paris")),
                ("total", Value::Int(12)),
                ("t", s("text"))
            ]),
            rec(&[
                ("city", s("Berlin")),
                ("total", Value::Int(7)),
                ("t", s("text"))
            ]),
            rec(&[
                ("city", s("Rome")),
                ("total", Value::Int(5)),
                ("t", s("text"))
            ]),
        ]
    );
}

#[test]
fn values_keep_their_types_and_fields_are_unioned() {
    let rows = vec![
        rec(&[("a", Value::Int(1)), ("b", s("x"))]),
        rec(&[("a", Value::Float(2.5)), ("b", Value::Null)]),
        // New fields in a later batch become new columns.
        rec(&[
            ("a", s("three")),
            ("c", Value::Bytes(vec![1, 2])),
            ("d", Value::Bool(true)),
            ("e", Value::Map(vec![("k".into(), Value::Int(1))])),
        ]),
    ];
    let got = run(
        "SELECT *, typeof(a) AS ta FROM data",
        vec![("data", input(rows, 2))],
        &[],
    )
    .unwrap();
    assert_eq!(
        got,
        [
            rec(&[
                ("a", Value::Int(1)),
                ("b", s("x")),
                ("c", Value::Null),
                ("d", Value::Null),
                ("e", Value::Null),
                ("ta", s("integer")),
            ]),
            rec(&[
                ("a", Value::Float(2.5)),
                ("b", Value::Null),
                ("c", Value::Null),
                ("d", Value::Null),
                ("e", Value::Null),
                ("ta", s("real")),
            ]),
            rec(&[
                ("a", s("three")),
                ("b", Value::Null),
                ("c", Value::Bytes(vec![1, 2])),
                ("d", Value::Int(1)),
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
        &[],
    )
    .unwrap();
    assert_eq!(
        got,
        [
            rec(&[("name", s("ann")), ("visits", Value::Int(2))]),
            rec(&[("name", s("bob")), ("visits", Value::Int(1))]),
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
        let e = run(query, vec![("data", input(cities(), 2))], &[]).unwrap_err();
        assert_eq!(e.kind, RErrorKind::ENGINE, "{query}");
        assert_eq!(
            e.message.as_str(),
            format!(
                "only a single SELECT statement is allowed (SELECT or WITH ... SELECT); {refused}"
            )
        );
    }
    // A ';' inside a literal, and trailing semicolons, are fine.
    let got = run("SELECT ';' AS s;;", vec![], &[]).unwrap();
    assert_eq!(got, [rec(&[("s", s(";"))])]);
}

#[test]
fn sql_errors_carry_sqlites_message() {
    let e = run(
        "SELECT nope FROM data",
        vec![("data", input(cities(), 2))],
        &[],
    )
    .unwrap_err();
    assert_eq!(e.kind, RErrorKind::ENGINE);
    assert_eq!(
        e.message.as_str(),
        "SQL error: no such column: nope in SELECT nope FROM data at offset 7"
    );
    // An input without records has no table, and the message says why.
    let e = run("SELECT * FROM data", vec![("data", input(vec![], 2))], &[]).unwrap_err();
    assert_eq!(
        e.message.as_str(),
        "SQL error: no such table: data \
         (no table was created for input \"data\": it had no records)"
    );
    let e = run("SELECT 1", vec![], &[("x", "1")]).unwrap_err();
    assert_eq!(e.kind, RErrorKind::INVALID_OPTION);
    assert_eq!(
        e.message.as_str(),
        "option `x`: the sql engine takes no options"
    );
}

#[test]
fn input_errors_keep_their_kind() {
    let failing = vec![
        Ok(vec![rec(&[("a", s("x"))])]),
        Err(Error::parse("bad quote").with_line(3)),
    ];
    let e = run("SELECT * FROM data", vec![("data", failing)], &[]).unwrap_err();
    assert_eq!(e.kind, RErrorKind::PARSE);
    assert_eq!(e.message.as_str(), "input `data`: bad quote");
    assert_eq!(e.line, Some(3));
}

#[test]
fn big_results_stream() {
    let rows: Vec<Record> = (0..5000)
        .map(|i| rec(&[("i", Value::Int(i)), ("s", s(&format!("v{i}")))]))
        .collect();
    let got = run("SELECT * FROM data", vec![("data", input(rows, 1024))], &[]).unwrap();
    assert_eq!(got.len(), 5000);
    assert_eq!(
        got[4999],
        rec(&[("i", Value::Int(4999)), ("s", s("v4999"))])
    );
}
