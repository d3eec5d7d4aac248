//! `sql`: an engine that runs one SQL `SELECT` (SQLite dialect, SQLite
//! compiled in) over the records of its inputs.
//!
//! Each input is loaded into an in-memory SQLite database as a table named
//! after the input (the host names a single input `data`, several inputs by
//! their file stem). Columns are the union of the field names seen, in
//! order of appearance, and are declared without a type, so every value
//! keeps its own type: int → INTEGER, float → REAL, str → TEXT,
//! bytes → BLOB, null/absent → NULL, bool → 0/1, lists and maps → JSON text.
//! All inputs are loaded in one transaction.
//!
//! Values from CSV files are text: `'10' > 9` compares as text, so use
//! `CAST(n AS INTEGER)` (or `REAL`) for numeric comparisons and arithmetic.
//!
//! Only a single read-only `SELECT` (or `WITH ... SELECT`) is allowed. The
//! result streams from a query thread that owns the database, so a
//! `SELECT * FROM data` does not hold a second copy of the input; the
//! inputs themselves are held in memory while the query runs.

#[path = "../../sqlite/src/common.rs"]
mod common;

use common::{
    MakeError, TableLoader, extra_statement, first_keyword, no_options, quote_ident, snippet,
    stream, unique_names,
};
use iterable_plugin_api::prelude::*;

fn engine_error(message: String) -> Error {
    Error::engine(message)
}

const ENGINE_ERROR: MakeError = engine_error;

/// The `sql` engine.
#[derive(Debug, Default)]
pub struct SqlEngine;

fn only_select(detail: String) -> Error {
    Error::engine(format!(
        "only a single SELECT statement is allowed (SELECT or WITH ... SELECT); {detail}"
    ))
}

impl Engine for SqlEngine {
    fn info(&self) -> EngineSpec {
        EngineSpec::new("sql")
            .description("one SQL SELECT (SQLite dialect) over the inputs, each loaded as a table")
    }

    fn execute(
        &self,
        query: &str,
        inputs: Vec<(String, RowSource)>,
        options: &Options,
    ) -> Result<Box<dyn RowReader>> {
        no_options(options, "the sql engine")?;
        // Refuse what is not a single SELECT before loading anything.
        let keyword = first_keyword(query);
        if keyword != "SELECT" && keyword != "WITH" {
            return Err(only_select(format!("refused `{}`", snippet(query))));
        }
        if let Some(extra) = extra_statement(query) {
            return Err(only_select(format!(
                "refused the SQL after the first ';': `{}`",
                snippet(extra)
            )));
        }

        let conn = rusqlite::Connection::open_in_memory()
            .map_err(|e| Error::engine(format!("cannot create the in-memory database: {e}")))?;
        let sql_error = |e: rusqlite::Error| Error::engine(format!("SQL error: {e}"));
        conn.execute_batch("BEGIN").map_err(sql_error)?;
        let mut empty = Vec::new();
        for (name, mut source) in inputs {
            let mut loader = TableLoader::new(&conn, &name, false, ENGINE_ERROR)?;
            while let Some(batch) = source.next_batch().map_err(|mut e| {
                e.message = format!("input `{name}`: {}", e.message);
                e
            })? {
                loader.write_batch(&conn, batch)?;
            }
            if !loader.table_exists() {
                empty.push(quote_ident(&name));
            }
        }
        conn.execute_batch("COMMIT").map_err(sql_error)?;

        let columns = {
            let stmt = conn.prepare(query).map_err(|e| match e {
                rusqlite::Error::MultipleStatement => {
                    only_select(format!("refused `{}`", snippet(query)))
                }
                e if !empty.is_empty() => Error::engine(format!(
                    "SQL error: {e} (no table was created for input {}: it had no records)",
                    empty.join(", ")
                )),
                e => sql_error(e),
            })?;
            if !stmt.readonly() {
                return Err(only_select(format!("refused `{}`", snippet(query))));
            }
            unique_names(&stmt.column_names())
        };
        stream(conn, query.to_owned(), columns, ENGINE_ERROR)
    }
}

export_plugin! {
    name: "sqlengine",
    version: env!("CARGO_PKG_VERSION"),
    description: "SQL engine: one SELECT over the inputs, loaded into in-memory SQLite",
    author: "IterableData for Rust contributors",
    license: "MIT OR Apache-2.0",
    homepage: "https://example.invalid/iterabledata-rs",
    engines: [SqlEngine],
}
