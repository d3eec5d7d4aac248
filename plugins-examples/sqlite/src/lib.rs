//! `sqlite`: a database driver for SQLite files, with SQLite compiled in.
//!
//! URIs (the rest of the URI after `sqlite://` is the path, taken literally:
//! no percent-decoding, no query parameters):
//!
//! * `sqlite:///abs/path/to/file.db` → `/abs/path/to/file.db`;
//! * `sqlite://relative.db` → `relative.db`, relative to the working directory;
//! * `sqlite://:memory:` → a private in-memory database that lives as long
//!   as the connection (and the readers and writers opened from it).
//!
//! Reading a file that does not exist is a driver error; writing creates it.
//!
//! * `list_tables`: the user tables, sorted (no `sqlite_*` internal tables).
//! * `read_table` / `read_query`: records streamed from a query thread
//!   (memory does not grow with the table). INTEGER → int, REAL → float,
//!   TEXT → str, BLOB → bytes, NULL → null; field names are the column
//!   names (a repeated name gets `_2`, `_3`, ...). `read_query` runs one
//!   read-only statement that returns rows; anything else is refused.
//! * `write_table`: appends records inside one transaction, committed by
//!   `finish`; a failed insert, or dropping the writer unfinished, rolls
//!   everything back. A missing table is created from the first batch
//!   (declared types from the first non-null value of each field), and a
//!   field the table lacks is added with `ALTER TABLE ADD COLUMN`.

mod common;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use common::{
    MakeError, TableLoader, extra_statement, no_options, quote_ident, snippet, stream, unique_names,
};
use iterable_plugin_api::prelude::*;
use rusqlite::OpenFlags;

const WHO: &str = "the sqlite driver";

fn driver_error(message: String) -> Error {
    Error::driver(message)
}

const DRIVER_ERROR: MakeError = driver_error;

/// The `sqlite` driver (URI scheme `sqlite://`).
#[derive(Debug, Default)]
pub struct SqliteDriver;

impl Driver for SqliteDriver {
    fn info(&self) -> DriverSpec {
        DriverSpec::new("sqlite")
            .description("SQLite database files: tables, read-only queries, transactional writes")
            .schemes(["sqlite"])
    }

    fn connect(&self, uri: &str, options: &Options) -> Result<Box<dyn Connection>> {
        no_options(options, WHO)?;
        let target = Target::parse(uri)?;
        // An in-memory database lives while a connection to it is open: this
        // one keeps it alive for as long as the `SqliteConnection` exists.
        let keep_alive = match &target {
            Target::Memory(_) => Some(target.open(true)?),
            Target::File(_) => None,
        };
        Ok(Box::new(SqliteConnection {
            target,
            _keep_alive: keep_alive,
        }))
    }
}

/// Where the database is.
#[derive(Debug)]
enum Target {
    File(PathBuf),
    /// A `memdb` URI: one database shared by every connection of this process
    /// that opens the same name (each reader and writer has its own connection).
    Memory(String),
}

impl Target {
    fn parse(uri: &str) -> Result<Self> {
        let scheme = "sqlite://";
        let rest = uri
            .get(..scheme.len())
            .filter(|s| s.eq_ignore_ascii_case(scheme))
            .map(|_| &uri[scheme.len()..])
            .ok_or_else(|| {
                Error::invalid_input(format!(
                    "not a sqlite URI: `{uri}` (expected sqlite:///abs/path.db, sqlite://relative.db or sqlite://:memory:)"
                ))
            })?;
        match rest {
            "" => Err(Error::invalid_input(format!(
                "`{uri}` names no database file (expected sqlite:///abs/path.db, sqlite://relative.db or sqlite://:memory:)"
            ))),
            ":memory:" => {
                static NEXT: AtomicU64 = AtomicU64::new(0);
                let n = NEXT.fetch_add(1, Ordering::Relaxed);
                Ok(Target::Memory(format!(
                    "file:/iterable-sqlite-{}-{n}?vfs=memdb",
                    std::process::id()
                )))
            }
            path => Ok(Target::File(PathBuf::from(path))),
        }
    }

    /// The database, for messages.
    fn name(&self) -> String {
        match self {
            Target::File(p) => p.display().to_string(),
            Target::Memory(_) => ":memory:".to_owned(),
        }
    }

    /// A new connection: read-only for reading (the file must exist), or
    /// read-write for writing (the file is created when missing).
    fn open(&self, write: bool) -> Result<rusqlite::Connection> {
        let mut flags = OpenFlags::SQLITE_OPEN_NO_MUTEX;
        flags |= if write {
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE
        } else {
            OpenFlags::SQLITE_OPEN_READ_ONLY
        };
        let path = match self {
            Target::File(path) => {
                if !write && !path.exists() {
                    return Err(Error::driver(format!(
                        "database file {} does not exist",
                        path.display()
                    )));
                }
                if path.is_dir() {
                    return Err(Error::driver(format!(
                        "{} is a directory, not a database file",
                        path.display()
                    )));
                }
                path.clone()
            }
            Target::Memory(uri) => {
                flags |= OpenFlags::SQLITE_OPEN_URI;
                PathBuf::from(uri)
            }
        };
        let how = if write { "writing" } else { "reading" };
        // Wait up to 5 s for another connection's lock before failing with
        // "database is locked".
        rusqlite::Connection::open_with_flags(&path, flags)
            .and_then(|conn| conn.busy_timeout(Duration::from_secs(5)).map(|()| conn))
            .map_err(|e| Error::driver(format!("cannot open {} for {how}: {e}", self.name())))
    }
}

/// An open `sqlite://` connection. Every reader and writer opens its own
/// SQLite connection, so they can outlive this object and run on their own
/// threads.
#[derive(Debug)]
pub struct SqliteConnection {
    target: Target,
    _keep_alive: Option<rusqlite::Connection>,
}

impl SqliteConnection {
    /// Prepares `sql` on a new read-only connection, checks it with
    /// `check`, and streams its rows.
    fn query(
        &self,
        sql: String,
        context: &str,
        check: impl FnOnce(&rusqlite::Statement<'_>) -> Result<()>,
    ) -> Result<Box<dyn RowReader>> {
        let conn = self.target.open(false)?;
        let columns = {
            let stmt = conn.prepare(&sql).map_err(|e| match e {
                rusqlite::Error::MultipleStatement => multiple_statements(&sql),
                e => Error::driver(format!("{context} in {}: {e}", self.target.name())),
            })?;
            check(&stmt)?;
            unique_names(&stmt.column_names())
        };
        stream(conn, sql, columns, DRIVER_ERROR)
    }
}

fn multiple_statements(sql: &str) -> Error {
    Error::driver(format!(
        "read_query runs a single statement; refused `{}`",
        snippet(sql)
    ))
}

impl Connection for SqliteConnection {
    fn list_tables(&mut self) -> Result<Vec<String>> {
        let conn = self.target.open(false)?;
        let sql = "SELECT name FROM sqlite_schema \
                   WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
                   ORDER BY name";
        conn.prepare(sql)
            .and_then(|mut stmt| {
                stmt.query_map([], |row| row.get::<_, String>(0))?
                    .collect::<rusqlite::Result<Vec<String>>>()
            })
            .map_err(|e| {
                Error::driver(format!(
                    "cannot list the tables of {}: {e}",
                    self.target.name()
                ))
            })
    }

    fn read_table(&mut self, table: &str, options: &Options) -> Result<Box<dyn RowReader>> {
        no_options(options, WHO)?;
        let sql = format!("SELECT * FROM {}", quote_ident(table));
        let context = format!("cannot read table {}", quote_ident(table));
        self.query(sql, &context, |_| Ok(()))
    }

    fn read_query(&mut self, query: &str, options: &Options) -> Result<Box<dyn RowReader>> {
        no_options(options, WHO)?;
        if extra_statement(query).is_some() {
            return Err(multiple_statements(query));
        }
        self.query(query.to_owned(), "cannot run the query", |stmt| {
            if stmt.readonly() && stmt.column_count() > 0 {
                Ok(())
            } else {
                Err(Error::driver(format!(
                    "read_query runs only read-only statements that return rows \
                     (SELECT, WITH ... SELECT); refused `{}`",
                    snippet(query)
                )))
            }
        })
    }

    fn write_table(&mut self, table: &str, options: &Options) -> Result<Box<dyn RowWriter>> {
        no_options(options, WHO)?;
        let conn = self.target.open(true)?;
        // IMMEDIATE takes the write lock now, so a concurrent writer is
        // reported here rather than at commit.
        conn.execute_batch("BEGIN IMMEDIATE").map_err(|e| {
            Error::driver(format!(
                "cannot start a transaction on {}: {e}",
                self.target.name()
            ))
        })?;
        let loader = TableLoader::new(&conn, table, true, DRIVER_ERROR)?;
        Ok(Box::new(TableWriter {
            conn,
            loader,
            state: State::Open,
        }))
    }
}

enum State {
    /// The transaction is open.
    Open,
    /// Committed by `finish`.
    Committed,
    /// Rolled back after this error.
    Failed(Error),
}

/// Writes records into a table inside one transaction: committed by
/// `finish`, rolled back on the first failed insert or when dropped
/// unfinished.
struct TableWriter {
    conn: rusqlite::Connection,
    loader: TableLoader,
    state: State,
}

impl TableWriter {
    fn write(
        &mut self,
        insert: impl FnOnce(&mut TableLoader, &rusqlite::Connection) -> Result<()>,
    ) -> Result<()> {
        match &self.state {
            State::Open => {}
            State::Committed => return Err(Error::invalid_input("write after finish")),
            State::Failed(e) => return Err(rolled_back(e)),
        }
        insert(&mut self.loader, &self.conn).inspect_err(|e| self.fail(e.clone()))
    }

    fn fail(&mut self, error: Error) {
        if !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        self.state = State::Failed(error);
    }
}

fn rolled_back(e: &Error) -> Error {
    let mut e = e.clone();
    e.message = format!("{} (the write was rolled back)", e.message);
    e
}

impl RowWriter for TableWriter {
    fn write_row(&mut self, row: RowView<'_>) -> Result<()> {
        let fields: Vec<&str> = row.iter().map(|(name, _)| name).collect();
        self.write(|loader, conn| loader.write_rows(conn, &fields, std::iter::once(row)))
    }

    fn write_batch(&mut self, batch: BatchView<'_>) -> Result<()> {
        self.write(|loader, conn| loader.write_batch(conn, batch))
    }

    fn finish(&mut self) -> Result<()> {
        match &self.state {
            State::Open => {}
            State::Committed => return Ok(()),
            State::Failed(e) => return Err(rolled_back(e)),
        }
        match self.conn.execute_batch("COMMIT") {
            Ok(()) => {
                self.state = State::Committed;
                Ok(())
            }
            Err(e) => {
                let e = Error::driver(format!("cannot commit: {e}"));
                self.fail(e.clone());
                Err(rolled_back(&e))
            }
        }
    }
}

impl Drop for TableWriter {
    fn drop(&mut self) {
        if matches!(self.state, State::Open) && !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

export_plugin! {
    name: "sqlite",
    version: env!("CARGO_PKG_VERSION"),
    description: "SQLite database driver (sqlite:// URIs), SQLite compiled in",
    author: "IterableData for Rust contributors",
    license: "MIT OR Apache-2.0",
    homepage: "https://example.invalid/iterabledata-rs",
    drivers: [SqliteDriver],
}
