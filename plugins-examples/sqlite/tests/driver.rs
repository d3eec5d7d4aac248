//! Drives the `sqlite` driver in-process through the author test harness:
//! the same wire-level objects a host gets after loading the library.

use std::path::{Path, PathBuf};

use iterable_plugin_api::prelude::*;
use iterable_plugin_api::testing::{PluginTest, Record, TestConnection, Value, with_rows};
use iterable_plugin_sqlite::plugin_exports;

/// The plugin under test, asking for two rows per batch (so chunks span batches).
fn t() -> PluginTest {
    PluginTest::new(plugin_exports()).batch_size(2)
}

fn connect(uri: &str) -> Result<TestConnection, Error> {
    assert_eq!(t().provides().unwrap().drivers, ["sqlite"]);
    t().connect("sqlite", uri, &[])
}

fn uri(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

/// A fresh database file (and the directory that holds it).
fn db() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("test.db");
    (dir, path)
}

fn setup(path: &Path, sql: &str) {
    rusqlite::Connection::open(path)
        .unwrap()
        .execute_batch(sql)
        .unwrap();
}

fn connect_err(uri: &str) -> Error {
    match connect(uri) {
        Ok(_) => panic!("expected an error"),
        Err(e) => e,
    }
}

fn err<T>(r: Result<T, Error>) -> Error {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e,
    }
}

fn rec(pairs: &[(&str, Value)]) -> Record {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

fn s(v: &str) -> Value {
    Value::Str(v.into())
}

fn table_rows(path: &Path, sql: &str) -> Vec<String> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn.prepare(sql).unwrap();
    stmt.query_map([], |row| row.get::<_, String>(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn bad_uris_and_missing_files_are_clear_errors() {
    let e = connect_err("postgres://x");
    assert_eq!(e.kind, RErrorKind::INVALID_INPUT);
    assert!(
        e.message.starts_with("not a sqlite URI: `postgres://x`"),
        "{e}"
    );

    let e = connect_err("sqlite://");
    assert_eq!(e.kind, RErrorKind::INVALID_INPUT);
    assert!(
        e.message.starts_with("`sqlite://` names no database file"),
        "{e}"
    );

    let (dir, path) = db();
    let mut conn = connect(&uri(&path)).unwrap();
    let e = err(conn.tables());
    assert_eq!(e.kind, RErrorKind::DRIVER);
    assert_eq!(
        e.message.as_str(),
        format!("database file {} does not exist", path.display())
    );
    let e = err(conn.read_table("t", &[]));
    assert_eq!(e.kind, RErrorKind::DRIVER);
    // Reading did not create the file.
    assert!(!path.exists());

    let e = err(connect(&uri(dir.path())).unwrap().tables());
    assert_eq!(
        e.message.as_str(),
        format!(
            "{} is a directory, not a database file",
            dir.path().display()
        )
    );

    let e = err(t().connect("sqlite", &uri(&path), &[("delimiter", ";")]));
    assert_eq!(e.kind, RErrorKind::INVALID_OPTION);
    assert_eq!(
        e.message.as_str(),
        "option `delimiter`: the sqlite driver takes no options"
    );
}

#[test]
fn lists_user_tables_sorted() {
    let (_dir, path) = db();
    setup(
        &path,
        "CREATE TABLE zeta (x);
         CREATE TABLE alpha (id INTEGER PRIMARY KEY AUTOINCREMENT, y);
         INSERT INTO alpha (y) VALUES (1);
         CREATE TABLE \"Mid\" (z);
         CREATE VIEW v AS SELECT 1;
         CREATE INDEX zx ON zeta (x);",
    );
    let mut conn = connect(&uri(&path)).unwrap();
    let tables: Vec<String> = conn.tables().unwrap();
    // sqlite_sequence (made by AUTOINCREMENT) is internal and not listed.
    assert_eq!(tables, ["Mid", "alpha", "zeta"]);
}

#[test]
fn reads_a_table_with_every_column_type() {
    let (_dir, path) = db();
    setup(
        &path,
        "CREATE TABLE \"my \"\"odd\"\" table\" (i INTEGER, r REAL, t TEXT, b BLOB, n);
         INSERT INTO \"my \"\"odd\"\" table\" VALUES (1, 2.5, 'x', x'00ff', NULL);
         INSERT INTO \"my \"\"odd\"\" table\" VALUES (-7, 0.0, '', x'', 'any');
         INSERT INTO \"my \"\"odd\"\" table\" VALUES (NULL, NULL, 'é', NULL, 3);",
    );
    let mut conn = connect(&uri(&path)).unwrap();
    let got = conn.read_table("my \"odd\" table", &[]).unwrap();
    assert_eq!(
        got,
        [
            rec(&[
                ("i", Value::Int(1)),
                ("r", Value::Float(2.5)),
                ("t", s("x")),
                ("b", Value::Bytes(vec![0, 255])),
                ("n", Value::Null),
            ]),
            rec(&[
                ("i", Value::Int(-7)),
                ("r", Value::Float(0.0)),
                ("t", s("")),
                ("b", Value::Bytes(vec![])),
                ("n", s("any")),
            ]),
            rec(&[
                ("i", Value::Null),
                ("r", Value::Null),
                ("t", s("é")),
                ("b", Value::Null),
                ("n", Value::Int(3)),
            ]),
        ]
    );
}

#[test]
fn reads_a_query() {
    let (_dir, path) = db();
    setup(
        &path,
        "CREATE TABLE t (city TEXT, pop INTEGER);
         INSERT INTO t VALUES ('Paris', 2), ('Berlin', 4), ('Paris', 3);",
    );
    let mut conn = connect(&uri(&path)).unwrap();
    let got = conn
        .read_query(
            "WITH x AS (SELECT * FROM t) \
         SELECT city, sum(pop) AS total, city FROM x GROUP BY city ORDER BY city;",
            &[],
        )
        .unwrap();
    assert_eq!(
        got,
        [
            rec(&[
                ("city", s("Berlin")),
                ("total", Value::Int(4)),
                ("city_2", s("Berlin"))
            ]),
            rec(&[
                ("city", s("Paris")),
                ("total", Value::Int(5)),
                ("city_2", s("Paris"))
            ]),
        ]
    );
    // A ';' inside a literal is not a statement boundary.
    let got = conn.read_query("SELECT 'a;b' AS v; -- done", &[]).unwrap();
    assert_eq!(got, [rec(&[("v", s("a;b"))])]);
}

#[test]
fn bad_names_and_sql_are_driver_errors_with_sqlites_message() {
    let (_dir, path) = db();
    setup(&path, "CREATE TABLE t (a);");
    let mut conn = connect(&uri(&path)).unwrap();
    let e = err(conn.read_table("nope", &[]));
    assert_eq!(e.kind, RErrorKind::DRIVER);
    assert_eq!(
        e.message.as_str(),
        format!(
            "cannot read table \"nope\" in {}: no such table: nope",
            path.display()
        )
    );
    let e = err(conn.read_query("SELEC a FROM t", &[]));
    assert_eq!(e.kind, RErrorKind::DRIVER);
    assert_eq!(
        e.message.as_str(),
        format!(
            "cannot run the query in {}: near \"SELEC\": syntax error in SELEC a FROM t at offset 0",
            path.display()
        )
    );
}

#[test]
fn read_query_refuses_statements_that_are_not_read_only() {
    let (_dir, path) = db();
    setup(&path, "CREATE TABLE t (a); INSERT INTO t VALUES (1);");
    let mut conn = connect(&uri(&path)).unwrap();
    for sql in [
        "DELETE FROM t",
        "INSERT INTO t VALUES (2)",
        "DROP TABLE t",
        "WITH x AS (SELECT 1) UPDATE t SET a = 5",
        "BEGIN",
    ] {
        let e = err(conn.read_query(sql, &[]));
        assert_eq!(e.kind, RErrorKind::DRIVER);
        assert_eq!(
            e.message.as_str(),
            format!(
                "read_query runs only read-only statements that return rows \
                 (SELECT, WITH ... SELECT); refused `{sql}`"
            )
        );
    }
    let e = err(conn.read_query("SELECT 1; DROP TABLE t", &[]));
    assert_eq!(
        e.message.as_str(),
        "read_query runs a single statement; refused `SELECT 1; DROP TABLE t`"
    );
    assert_eq!(table_rows(&path, "SELECT CAST(a AS TEXT) FROM t"), ["1"]);
}

/// One batch from `(field, value)` rows.
fn batch(rows: &[&[(&str, Value)]]) -> Vec<Record> {
    rows.iter().map(|r| rec(r)).collect()
}

#[test]
fn writes_a_new_table_then_reads_it_back() {
    let (_dir, path) = db();
    let mut conn = connect(&uri(&path)).unwrap();
    let mut w = conn.writer("out", &[]).unwrap();
    let list = Value::List(vec![Value::Int(1), s("a\"b")]);
    w.write(&batch(&[
        &[
            ("id", Value::Int(1)),
            ("score", Value::Null),
            ("name", s("ann")),
            ("raw", Value::Bytes(b"\x01".to_vec())),
            ("ok", Value::Bool(true)),
            ("tags", list),
        ],
        &[("id", Value::Int(2)), ("score", Value::Float(1.5))],
    ]))
    .unwrap();
    // A later batch with a new field: the column is added.
    w.write(&batch(&[&[("id", Value::Int(3)), ("extra", s("e"))]]))
        .unwrap();
    w.finish().unwrap();

    let conn_check = rusqlite::Connection::open(&path).unwrap();
    let mut stmt = conn_check
        .prepare("SELECT name, type FROM pragma_table_info('out')")
        .unwrap();
    let cols: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let cols: Vec<(&str, &str)> = cols.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    assert_eq!(
        cols,
        [
            ("id", "INTEGER"),
            ("score", "REAL"),
            ("name", "TEXT"),
            ("raw", "BLOB"),
            ("ok", ""),
            ("tags", ""),
            ("extra", "TEXT"),
        ]
    );

    let got = conn.read_table("out", &[]).unwrap();
    let nulls = |pairs: &[(&str, Value)]| {
        let mut r = rec(pairs);
        for name in ["id", "score", "name", "raw", "ok", "tags", "extra"] {
            if !r.iter().any(|(k, _)| k == name) {
                r.push((name.to_owned(), Value::Null));
            }
        }
        let order = |k: &str| {
            ["id", "score", "name", "raw", "ok", "tags", "extra"]
                .iter()
                .position(|n| *n == k)
        };
        r.sort_by_key(|(k, _)| order(k));
        r
    };
    assert_eq!(
        got,
        [
            nulls(&[
                ("id", Value::Int(1)),
                ("name", s("ann")),
                ("raw", Value::Bytes(b"\x01".to_vec())),
                ("ok", Value::Int(1)),
                ("tags", s("[1,\"a\\\"b\"]")),
            ]),
            nulls(&[("id", Value::Int(2)), ("score", Value::Float(1.5))]),
            nulls(&[("id", Value::Int(3)), ("extra", s("e"))]),
        ]
    );
    assert_eq!(conn.tables().unwrap(), ["out"]);
}

#[test]
fn writes_append_to_an_existing_table() {
    let (_dir, path) = db();
    setup(
        &path,
        "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT 'x');
         INSERT INTO t VALUES (1, 'old');",
    );
    let mut conn = connect(&uri(&path)).unwrap();
    let mut w = conn.writer("t", &[]).unwrap();
    // `ID` matches the column `id` (SQLite names are case-insensitive).
    w.write(&batch(&[&[("ID", Value::Int(2)), ("name", s("new"))]]))
        .unwrap();
    w.finish().unwrap();
    assert_eq!(
        table_rows(&path, "SELECT id || ':' || name FROM t ORDER BY id"),
        ["1:old", "2:new"]
    );
}

const OLD: &str = "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT);
                   INSERT INTO t VALUES (1, 'a'), (2, 'b');";

fn three_new_rows() -> Vec<Record> {
    batch(&[
        &[("id", Value::Int(10)), ("name", s("x"))],
        &[("id", Value::Int(11)), ("name", s("y"))],
        &[
            ("id", Value::Int(12)),
            ("name", s("z")),
            ("added", Value::Int(0)),
        ],
    ])
}

#[test]
fn a_failed_insert_rolls_everything_back() {
    let (_dir, path) = db();
    setup(&path, OLD);
    let mut conn = connect(&uri(&path)).unwrap();
    let mut w = conn.writer("t", &[]).unwrap();
    w.write(&three_new_rows()).unwrap();
    // The 4th record repeats a primary key.
    let e = err(w.write(&batch(&[&[("id", Value::Int(1)), ("name", s("dup"))]])));
    assert_eq!(e.kind, RErrorKind::DRIVER);
    assert_eq!(e.record, Some(4));
    assert_eq!(
        e.message.as_str(),
        "cannot insert into table \"t\": UNIQUE constraint failed: t.id"
    );
    // Later calls report the failure; nothing is committed.
    let e = err(w.finish());
    assert_eq!(
        e.message.as_str(),
        "cannot insert into table \"t\": UNIQUE constraint failed: t.id \
         (the write was rolled back)"
    );
    assert_eq!(
        table_rows(&path, "SELECT id || ':' || name FROM t ORDER BY id"),
        ["1:a", "2:b"]
    );
    // The column added by the 3rd record was rolled back too.
    assert_eq!(
        table_rows(&path, "SELECT name FROM pragma_table_info('t')"),
        ["id", "name"]
    );
}

#[test]
fn dropping_the_writer_unfinished_rolls_back() {
    let (_dir, path) = db();
    setup(&path, OLD);
    let mut conn = connect(&uri(&path)).unwrap();
    let mut w = conn.writer("t", &[]).unwrap();
    w.write(&three_new_rows()).unwrap();
    drop(w);
    let mut w = conn.writer("fresh", &[]).unwrap();
    w.write(&three_new_rows()).unwrap();
    drop(w);
    assert_eq!(
        table_rows(&path, "SELECT id || ':' || name FROM t ORDER BY id"),
        ["1:a", "2:b"]
    );
    let tables: Vec<String> = conn.tables().unwrap();
    assert_eq!(tables, ["t"]);
}

#[test]
fn big_tables_stream_and_readers_can_stop_early() {
    let (_dir, path) = db();
    setup(
        &path,
        "CREATE TABLE big (n INTEGER, s TEXT);
         WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 5000)
         INSERT INTO big SELECT n, 'row' || n FROM c;",
    );
    let mut conn = connect(&uri(&path)).unwrap();
    let mut src = conn.table_reader("big", &[]).unwrap();
    let (mut count, mut sum) = (0u64, 0i64);
    let mut last = String::new();
    while let Some(batch) = src.next_batch(1000).unwrap() {
        for row in batch.records {
            count += 1;
            match (&row[0].1, &row[1].1) {
                (Value::Int(n), Value::Str(s)) => {
                    sum += n;
                    last = s.clone();
                }
                other => panic!("unexpected row {other:?}"),
            }
        }
    }
    assert_eq!(
        (count, sum, last.as_str()),
        (5000, 5000 * 5001 / 2, "row5000")
    );

    // A reader dropped after one batch stops its query thread (no hang).
    let mut src = conn
        .query_reader("SELECT a.n FROM big a, big b", &[])
        .unwrap();
    let batch = src.next_batch(10).unwrap().expect("a batch");
    assert_eq!(batch.records.len(), 10);
    drop(src);
}

#[test]
fn memory_databases_live_as_long_as_the_connection() {
    let mut conn = connect("sqlite://:memory:").unwrap();
    assert!(conn.tables().unwrap().is_empty());
    let mut w = conn.writer("t", &[]).unwrap();
    w.write(&batch(&[&[("a", Value::Int(1))]])).unwrap();
    w.finish().unwrap();
    assert_eq!(
        conn.read_query("SELECT a, a + 1 AS b FROM t", &[]).unwrap(),
        [rec(&[("a", Value::Int(1)), ("b", Value::Int(2))])]
    );
    // Another connection is another database.
    let mut other = connect("sqlite://:memory:").unwrap();
    assert!(other.tables().unwrap().is_empty());
}

#[test]
fn the_author_level_writer_takes_single_rows_too() {
    use iterable_plugin_sqlite::SqliteDriver;
    let (_dir, path) = db();
    let mut conn = SqliteDriver.connect(&uri(&path), &Options::new()).unwrap();
    let mut w = conn.write_table("t", &Options::new()).unwrap();
    let rows = batch(&[
        &[("a", Value::Int(1))],
        &[("a", Value::Int(2)), ("b", Value::Float(0.5))],
    ]);
    with_rows(&rows, |row| w.write_row(row)).unwrap();
    w.finish().unwrap();
    assert_eq!(
        table_rows(&path, "SELECT a || ':' || ifnull(b, '-') FROM t ORDER BY a"),
        ["1:-", "2:0.5"]
    );
}
