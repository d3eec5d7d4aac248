//! Code shared by the `sqlite` driver plugin and the `sql` engine plugin:
//! identifier quoting, a small SQL scanner, value mapping, loading record
//! batches into a table, and streaming query results.
//!
//! The engine compiles this same file with `#[path]` instead of depending on
//! this crate: a plugin's rlib carries its exported root-module symbol, so
//! one plugin library cannot link another.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use iterable_plugin_api::prelude::*;
use rusqlite::InterruptHandle;
use rusqlite::types::{ToSqlOutput, Value, ValueRef};

/// Builds an error of the plugin's kind (driver or engine) from a message.
pub type MakeError = fn(String) -> Error;

/// Refuses every option: these plugins take none.
pub fn no_options(options: &Options, who: &str) -> Result<()> {
    match options.iter().next() {
        Some((key, _)) => Err(Error::invalid_option(
            key,
            format!("{who} takes no options"),
        )),
        None => Ok(()),
    }
}

/// `name` as an SQL identifier: in double quotes, inner double quotes doubled.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Field names for result columns: a repeated name gets `_2`, `_3`, ...
/// (`SELECT a, a` gives `a`, `a_2`), because a record's field names are unique.
pub fn unique_names<S: AsRef<str>>(names: &[S]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(names.len());
    for name in names {
        let name = name.as_ref();
        let mut candidate = name.to_owned();
        let mut n = 1;
        while out.contains(&candidate) {
            n += 1;
            candidate = format!("{name}_{n}");
        }
        out.push(candidate);
    }
    out
}

/// `sql` trimmed and cut to 80 characters, for messages.
pub fn snippet(sql: &str) -> String {
    let sql = sql.trim();
    match sql.char_indices().nth(80) {
        Some((i, _)) => format!("{}...", &sql[..i]),
        None => sql.to_owned(),
    }
}

// ---------------------------------------------------------------------------
// SQL text: enough lexing to find statement boundaries and the first keyword.
// ---------------------------------------------------------------------------

/// The index of the first byte at or after `i` that is not whitespace or
/// part of a comment (`-- ...` to the end of the line, `/* ... */`).
fn skip_trivia(s: &[u8], mut i: usize) -> usize {
    loop {
        match (s.get(i), s.get(i + 1)) {
            (Some(c), _) if c.is_ascii_whitespace() => i += 1,
            (Some(b'-'), Some(b'-')) => {
                while i < s.len() && s[i] != b'\n' {
                    i += 1;
                }
            }
            (Some(b'/'), Some(b'*')) => {
                i += 2;
                while i < s.len() && !(s[i] == b'*' && s.get(i + 1) == Some(&b'/')) {
                    i += 1;
                }
                i = (i + 2).min(s.len());
            }
            _ => return i,
        }
    }
}

/// The byte offset of the first `;` outside string literals, quoted
/// identifiers (`"x"`, `` `x` ``, `[x]`) and comments.
fn first_semicolon(sql: &str) -> Option<usize> {
    let s = sql.as_bytes();
    let mut i = 0;
    while i < s.len() {
        i = skip_trivia(s, i);
        let Some(&c) = s.get(i) else { break };
        let close = match c {
            b';' => return Some(i),
            b'\'' | b'"' | b'`' => c,
            b'[' => b']',
            _ => {
                i += 1;
                continue;
            }
        };
        // A doubled quote inside a literal ('it''s') closes and reopens it,
        // which this loop handles as two adjacent literals.
        i += 1;
        while i < s.len() && s[i] != close {
            i += 1;
        }
        i += 1;
    }
    None
}

/// The SQL after the first statement, if there is any (more than
/// whitespace, comments and semicolons).
pub fn extra_statement(sql: &str) -> Option<&str> {
    let end = first_semicolon(sql)?;
    let s = sql.as_bytes();
    let mut i = end;
    loop {
        i = skip_trivia(s, i);
        match s.get(i) {
            Some(b';') => i += 1,
            Some(_) => return Some(&sql[i..]),
            None => return None,
        }
    }
}

/// The first keyword of `sql`, in upper case (empty if there is none).
#[allow(dead_code)] // used by the sql engine only
pub fn first_keyword(sql: &str) -> String {
    let start = skip_trivia(sql.as_bytes(), 0);
    sql[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect::<String>()
        .to_ascii_uppercase()
}

// ---------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------

/// A record cell as an SQLite value: absent and null → NULL, bool → 0/1,
/// int, float, str, bytes as themselves, an extension value → its payload
/// as a BLOB, lists and maps → JSON text.
pub fn to_sql(cell: CellRef<'_>) -> ToSqlOutput<'_> {
    match cell {
        CellRef::Absent | CellRef::Null => ToSqlOutput::Borrowed(ValueRef::Null),
        CellRef::Bool(b) => ToSqlOutput::Owned(Value::Integer(i64::from(b))),
        CellRef::Int(i) => ToSqlOutput::Borrowed(ValueRef::Integer(i)),
        CellRef::Float(f) => ToSqlOutput::Borrowed(ValueRef::Real(f)),
        CellRef::Str(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
        CellRef::Bytes(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
        CellRef::Nested(RValue::Ext(_, payload)) => {
            ToSqlOutput::Borrowed(ValueRef::Blob(payload.as_slice()))
        }
        // `RValue`'s Display is compact JSON.
        CellRef::Nested(v) => ToSqlOutput::Owned(Value::Text(v.to_string())),
    }
}

/// The declared column type for a value: int → INTEGER, float → REAL,
/// str → TEXT, bytes → BLOB, anything else → none (no type affinity).
fn declared_type(cell: CellRef<'_>) -> &'static str {
    match cell {
        CellRef::Int(_) => " INTEGER",
        CellRef::Float(_) => " REAL",
        CellRef::Str(_) => " TEXT",
        CellRef::Bytes(_) => " BLOB",
        _ => "",
    }
}

// ---------------------------------------------------------------------------
// Loading records into a table
// ---------------------------------------------------------------------------

/// Inserts records into one table, creating it from the first batch that
/// has fields and adding a column (`ALTER TABLE ADD COLUMN`) for every new
/// field. Absent cells are inserted as NULL. The caller owns the transaction.
pub struct TableLoader {
    table: String,
    /// The table's columns (empty while the table does not exist).
    columns: Vec<String>,
    /// Declare column types from the first non-null value (the driver), or
    /// leave every column untyped so values keep their own type (the engine).
    typed: bool,
    /// Records inserted so far.
    rows: u64,
    fail: MakeError,
    /// The INSERT for the current field list, and that list.
    insert: String,
    insert_fields: Vec<String>,
}

impl TableLoader {
    /// A loader for `table`, reading its current columns (if it exists).
    pub fn new(
        conn: &rusqlite::Connection,
        table: &str,
        typed: bool,
        fail: MakeError,
    ) -> Result<Self> {
        let columns = conn
            .prepare("SELECT name FROM pragma_table_info(?1)")
            .and_then(|mut stmt| {
                stmt.query_map([table], |row| row.get::<_, String>(0))?
                    .collect::<rusqlite::Result<Vec<String>>>()
            })
            .map_err(|e| fail(format!("cannot inspect table {}: {e}", quote_ident(table))))?;
        Ok(Self {
            table: table.to_owned(),
            columns,
            typed,
            rows: 0,
            fail,
            insert: String::new(),
            insert_fields: Vec::new(),
        })
    }

    /// Whether the table exists (it is created by the first batch with fields).
    #[allow(dead_code)] // used by the sql engine only
    pub fn table_exists(&self) -> bool {
        !self.columns.is_empty()
    }

    /// Inserts every row of a batch.
    pub fn write_batch(&mut self, conn: &rusqlite::Connection, batch: BatchView<'_>) -> Result<()> {
        let fields: Vec<&str> = batch.field_names().collect();
        self.write_rows(conn, &fields, batch.iter())
    }

    /// Inserts rows that all have the field list `fields`.
    pub fn write_rows<'a>(
        &mut self,
        conn: &rusqlite::Connection,
        fields: &[&str],
        rows: impl Iterator<Item = RowView<'a>> + Clone,
    ) -> Result<()> {
        if fields.is_empty() {
            return Ok(());
        }
        let (fail, table) = (self.fail, quote_ident(&self.table));
        let sql_err = |what: &str, e: rusqlite::Error| fail(format!("{what} table {table}: {e}"));
        // The first non-null value of field j in these rows decides its type.
        let type_of = |j: usize| {
            rows.clone()
                .map(|r| r.get(j))
                .find(|c| !c.is_null() && !c.is_absent())
                .map_or("", declared_type)
        };
        if self.columns.is_empty() {
            let cols: Vec<String> = fields
                .iter()
                .enumerate()
                .map(|(j, f)| {
                    let ty = if self.typed { type_of(j) } else { "" };
                    format!("{}{ty}", quote_ident(f))
                })
                .collect();
            let sql = format!("CREATE TABLE {table} ({})", cols.join(", "));
            conn.execute_batch(&sql)
                .map_err(|e| sql_err("cannot create", e))?;
            self.columns = fields.iter().map(|f| f.to_string()).collect();
        } else {
            for (j, f) in fields.iter().enumerate() {
                // SQLite matches column names case-insensitively (ASCII).
                if self.columns.iter().any(|c| c.eq_ignore_ascii_case(f)) {
                    continue;
                }
                let ty = if self.typed { type_of(j) } else { "" };
                let sql = format!("ALTER TABLE {table} ADD COLUMN {}{ty}", quote_ident(f));
                conn.execute_batch(&sql)
                    .map_err(|e| sql_err("cannot add a column to", e))?;
                self.columns.push(f.to_string());
            }
        }
        if self
            .insert_fields
            .iter()
            .map(String::as_str)
            .ne(fields.iter().copied())
        {
            let names: Vec<String> = fields.iter().map(|f| quote_ident(f)).collect();
            let marks = vec!["?"; fields.len()].join(", ");
            self.insert = format!(
                "INSERT INTO {table} ({}) VALUES ({marks})",
                names.join(", ")
            );
            self.insert_fields = fields.iter().map(|f| f.to_string()).collect();
        }
        // The prepared INSERT is reused: for every row here, and across
        // batches through rusqlite's statement cache.
        let mut stmt = conn
            .prepare_cached(&self.insert)
            .map_err(|e| sql_err("cannot insert into", e))?;
        for row in rows {
            let record = self.rows + 1;
            let result = row
                .iter()
                .enumerate()
                .try_for_each(|(j, (_, cell))| stmt.raw_bind_parameter(j + 1, to_sql(cell)))
                .and_then(|()| stmt.raw_execute());
            if let Err(e) = result {
                // The record number travels in the error's `record` field.
                return Err(
                    fail(format!("cannot insert into table {table}: {e}")).with_record(record)
                );
            }
            self.rows = record;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Streaming query results
// ---------------------------------------------------------------------------
//
// A rusqlite `Statement` borrows its `Connection`, so a reader that outlives
// the call cannot hold both. Instead a dedicated thread owns the connection,
// steps the statement, and sends chunks of rows over a bounded channel: at
// most CHANNEL_CHUNKS chunks wait, so memory stays bounded whatever the size
// of the result, and the consumer's pace throttles the query. Dropping the
// reader interrupts the statement and joins the thread.

/// Rows per chunk sent from the query thread.
const CHUNK_ROWS: usize = 512;
/// A chunk is also sent once its cells hold this many bytes.
const CHUNK_BYTES: usize = 4 << 20;
/// Chunks that may wait in the channel.
const CHANNEL_CHUNKS: usize = 2;

/// One result value, owned so that it can cross the thread boundary.
enum Cell {
    Null,
    Int(i64),
    Float(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl Cell {
    /// INTEGER → int, REAL → float, TEXT → str (bytes if it is not valid
    /// UTF-8), BLOB → bytes, NULL → null.
    fn new(v: ValueRef<'_>) -> Self {
        match v {
            ValueRef::Null => Cell::Null,
            ValueRef::Integer(i) => Cell::Int(i),
            ValueRef::Real(f) => Cell::Float(f),
            ValueRef::Text(t) => match std::str::from_utf8(t) {
                Ok(s) => Cell::Text(s.to_owned()),
                Err(_) => Cell::Blob(t.to_vec()),
            },
            ValueRef::Blob(b) => Cell::Blob(b.to_vec()),
        }
    }

    fn size(&self) -> usize {
        match self {
            Cell::Text(s) => s.len() + 16,
            Cell::Blob(b) => b.len() + 16,
            _ => 16,
        }
    }

    fn push(&self, row: &mut BatchBuilder<'_>) {
        match self {
            Cell::Null => row.push_null(),
            Cell::Int(i) => row.push_int(*i),
            Cell::Float(f) => row.push_float(*f),
            Cell::Text(s) => row.push_str(s),
            Cell::Blob(b) => row.push_bytes(b),
        };
    }
}

enum Msg {
    Rows(Vec<Vec<Cell>>),
    End,
    Fail(String),
}

/// Runs `sql` on its own thread, which owns `conn`, and returns a reader of
/// its rows with the field names `columns` (one per result column). The
/// caller has already prepared and checked `sql` on `conn`. Errors while
/// stepping become `fail(SQLite's message)`.
pub fn stream(
    conn: rusqlite::Connection,
    sql: String,
    columns: Vec<String>,
    fail: MakeError,
) -> Result<Box<dyn RowReader>> {
    let interrupt = conn.get_interrupt_handle();
    let (tx, rx) = sync_channel(CHANNEL_CHUNKS);
    let thread = std::thread::Builder::new()
        .name("sqlite-query".into())
        .spawn(move || run_query(conn, &sql, tx))
        .map_err(|e| fail(format!("cannot start the query thread: {e}")))?;
    Ok(Box::new(QueryReader {
        columns,
        rx: Some(rx),
        chunk: Vec::new().into_iter(),
        interrupt,
        thread: Some(thread),
        done: false,
        fail,
    }))
}

fn run_query(conn: rusqlite::Connection, sql: &str, tx: SyncSender<Msg>) {
    let result = (|| -> rusqlite::Result<()> {
        let mut stmt = conn.prepare(sql)?;
        let n = stmt.column_count();
        let mut rows = stmt.raw_query();
        let mut chunk = Vec::with_capacity(CHUNK_ROWS);
        let mut bytes = 0;
        while let Some(row) = rows.next()? {
            let mut cells = Vec::with_capacity(n);
            for i in 0..n {
                let cell = Cell::new(row.get_ref(i)?);
                bytes += cell.size();
                cells.push(cell);
            }
            chunk.push(cells);
            if chunk.len() >= CHUNK_ROWS || bytes >= CHUNK_BYTES {
                let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK_ROWS));
                bytes = 0;
                if tx.send(Msg::Rows(full)).is_err() {
                    return Ok(()); // the reader is gone
                }
            }
        }
        if !chunk.is_empty() {
            let _ = tx.send(Msg::Rows(chunk));
        }
        Ok(())
    })();
    let _ = tx.send(match result {
        Ok(()) => Msg::End,
        Err(e) => Msg::Fail(e.to_string()),
    });
}

struct QueryReader {
    columns: Vec<String>,
    rx: Option<Receiver<Msg>>,
    chunk: std::vec::IntoIter<Vec<Cell>>,
    interrupt: InterruptHandle,
    thread: Option<JoinHandle<()>>,
    done: bool,
    fail: MakeError,
}

impl RowReader for QueryReader {
    fn read_row(&mut self, row: &mut BatchBuilder<'_>) -> Result<bool> {
        loop {
            if let Some(cells) = self.chunk.next() {
                row.set_fields(&self.columns);
                for cell in &cells {
                    cell.push(row);
                }
                return Ok(true);
            }
            if self.done {
                return Ok(false);
            }
            match self.rx.as_ref().map(Receiver::recv) {
                Some(Ok(Msg::Rows(rows))) => self.chunk = rows.into_iter(),
                Some(Ok(Msg::End)) => self.done = true,
                Some(Ok(Msg::Fail(message))) => {
                    self.done = true;
                    return Err((self.fail)(message));
                }
                Some(Err(_)) | None => {
                    self.done = true;
                    return Err((self.fail)("the query thread stopped unexpectedly".into()));
                }
            }
        }
    }
}

impl Drop for QueryReader {
    fn drop(&mut self) {
        if !self.done {
            self.interrupt.interrupt();
        }
        // Dropping the receiver makes a blocked `send` fail, so the thread ends.
        self.rx = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_sql_after_the_first_statement() {
        assert_eq!(extra_statement("SELECT 1"), None);
        assert_eq!(extra_statement("SELECT 1;  ; -- bye\n /* x */ "), None);
        assert_eq!(
            extra_statement("SELECT 1; DROP TABLE t"),
            Some("DROP TABLE t")
        );
        assert_eq!(
            extra_statement("SELECT ';', \"a;\", [b;], `c;` ; x"),
            Some("x")
        );
        assert_eq!(extra_statement("SELECT 'it''s;' -- ;\n; y"), Some("y"));
        assert_eq!(extra_statement("SELECT 1 /* ; */"), None);
        assert_eq!(extra_statement("SELECT 'unterminated;"), None);
    }

    #[test]
    fn first_keyword_skips_comments() {
        assert_eq!(first_keyword("  -- c\n /* d */ select 1"), "SELECT");
        assert_eq!(
            first_keyword("With x AS (SELECT 1) SELECT * FROM x"),
            "WITH"
        );
        assert_eq!(first_keyword("(SELECT 1)"), "");
        assert_eq!(first_keyword(""), "");
    }

    #[test]
    fn names_are_quoted_and_made_unique() {
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(
            unique_names(&["a", "a", "a_2", "b"]),
            ["a", "a_2", "a_2_2", "b"]
        );
        assert_eq!(snippet(&"x".repeat(100)), format!("{}...", "x".repeat(80)));
    }
}
