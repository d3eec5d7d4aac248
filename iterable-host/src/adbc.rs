//! ADBC drivers (Arrow Database Connectivity) used as driver plugins, as
//! they are: `libadbc_driver_sqlite.so`, `libadbc_driver_postgresql.so`, or
//! any other.
//!
//! A manifest with `abi = "adbc"` (written by `install --adbc`) declares the
//! driver and its URI schemes; the driver manager (`adbc_driver_manager`)
//! loads the library on first use. Results come back as Arrow streams and
//! are read through the same checked reader as a C plugin's; writes are
//! bulk ingestion inside a transaction, committed by `finish` and rolled
//! back otherwise.

use std::path::Path;
use std::sync::{Arc, Mutex};

use adbc_core::options::{
    AdbcVersion, IngestMode, ObjectDepth, OptionConnection, OptionDatabase, OptionStatement,
    OptionValue,
};
use adbc_core::{Connection as _, Database as _, Driver as _, Optionable, Statement as _};
use adbc_driver_manager::{ManagedConnection, ManagedDriver, ManagedStatement};
use arrow_array::{RecordBatch, RecordBatchReader};

use iterable_core::{
    Batch, BoxReader, BoxWriter, Connection, Driver, DriverInfo, Error, ErrorKind, Options, Record,
    RecordWriter, Result, Source, Value,
};

use crate::cabi::Native;
use crate::cabi::stream::{Batches, StreamReader};
use crate::catalog::manifest::{Manifest, UriStyle};
use crate::error::{PluginErrorExt, PluginErrorKind};
use crate::loader::Library;

/// Loads the ADBC driver a manifest describes.
pub(crate) fn load(path: &Path, manifest: &Manifest) -> Result<Library> {
    let name = manifest.plugin.name.as_str();
    let section = manifest.adbc.clone().unwrap_or_default();
    let driver = load_driver(path, section.entrypoint.as_deref()).map_err(|e| {
        Error::plugin(
            PluginErrorKind::LoadFailed,
            name,
            format!(
                "cannot load the ADBC driver {}: {}",
                path.display(),
                one_line(&e)
            ),
        )
    })?;
    let drivers = manifest
        .drivers
        .iter()
        .map(|info| {
            Box::new(AdbcDriver {
                info: info.clone(),
                driver: Mutex::new(driver.clone()),
                uri: section.uri,
                plugin: Arc::from(name),
            }) as Box<dyn Driver>
        })
        .collect();
    tracing::debug!(plugin = name, path = %path.display(), "ADBC driver loaded");
    Ok(crate::loader::native(
        path,
        manifest.clone(),
        Native {
            drivers,
            ..Native::default()
        },
    ))
}

/// Loads an ADBC driver library through the driver manager, as ADBC 1.1
/// or, for an older driver, 1.0.
fn load_driver(
    path: &Path,
    entrypoint: Option<&str>,
) -> std::result::Result<ManagedDriver, adbc_core::error::Error> {
    let entrypoint = entrypoint.map(str::as_bytes);
    ManagedDriver::load_dynamic_from_filename(path, entrypoint, AdbcVersion::V110)
        .or_else(|_| ManagedDriver::load_dynamic_from_filename(path, entrypoint, AdbcVersion::V100))
}

/// An ADBC error on one line (drivers put details on further lines).
fn one_line(e: &adbc_core::error::Error) -> String {
    let text = e.message.trim();
    let first = text.lines().next().unwrap_or("").trim();
    if first.is_empty() {
        format!("{:?}", e.status)
    } else {
        first.to_owned()
    }
}

fn driver_error(plugin: &str, what: &str, e: &adbc_core::error::Error) -> Error {
    Error::new(ErrorKind::Driver, format!("{what}: {}", one_line(e))).with_plugin(plugin)
}

/// One ADBC driver, as the core's driver.
struct AdbcDriver {
    info: DriverInfo,
    driver: Mutex<ManagedDriver>,
    uri: UriStyle,
    plugin: Arc<str>,
}

impl Driver for AdbcDriver {
    fn info(&self) -> &DriverInfo {
        &self.info
    }

    fn connect(&self, uri: &str, options: &Options) -> Result<Box<dyn Connection>> {
        let plugin = &*self.plugin;
        let target = match self.uri {
            UriStyle::AsIs => uri.to_owned(),
            UriStyle::Path => match uri.split_once("://") {
                Some((_, rest)) if rest.starts_with('/') => rest.to_owned(),
                _ => {
                    return Err(Error::new(
                        ErrorKind::InvalidInput,
                        format!("{uri}: expected SCHEME:///absolute/path"),
                    ));
                }
            },
        };
        let mut opts = vec![(OptionDatabase::Uri, OptionValue::String(target))];
        for (k, v) in options.iter() {
            opts.push((
                OptionDatabase::Other(k.to_owned()),
                OptionValue::String(v.to_owned()),
            ));
        }
        let database = self
            .driver
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .new_database_with_opts(opts)
            .map_err(|e| driver_error(plugin, "opening the database", &e))?;
        let conn = database
            .new_connection()
            .map_err(|e| driver_error(plugin, "connecting", &e))?;
        Ok(Box::new(AdbcConnection {
            conn,
            plugin: self.plugin.clone(),
        }))
    }
}

struct AdbcConnection {
    conn: ManagedConnection,
    plugin: Arc<str>,
}

/// A quoted SQL identifier.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

impl Connection for AdbcConnection {
    fn list_tables(&mut self) -> Result<Vec<String>> {
        let plugin = &*self.plugin;
        let reader = self
            .conn
            .get_objects(ObjectDepth::Tables, None, None, None, None, None)
            .map_err(|e| driver_error(plugin, "listing tables", &e))?;
        let mut out = Vec::new();
        for batch in reader {
            let batch = batch.map_err(|e| {
                Error::new(ErrorKind::Driver, format!("listing tables: {e}")).with_plugin(plugin)
            })?;
            let names = crate::arrow::names(&batch.schema());
            let mut rec = Record::new();
            for row in 0..batch.num_rows() {
                crate::arrow::fill_record(&batch, &names, row, &mut rec);
                collect_tables(rec.get("catalog_db_schemas"), &mut out);
            }
        }
        Ok(out)
    }

    fn read(&mut self, source: &Source, _options: &Options) -> Result<BoxReader> {
        let plugin = &*self.plugin;
        let (sql, what) = match source {
            Source::Table(t) => (format!("SELECT * FROM {}", quoted(t)), "reading a table"),
            Source::Query(q) => (q.clone(), "running a query"),
        };
        let mut stmt = self
            .conn
            .new_statement()
            .map_err(|e| driver_error(plugin, what, &e))?;
        stmt.set_sql_query(&sql)
            .map_err(|e| driver_error(plugin, what, &e))?;
        let reader = stmt.execute().map_err(|e| driver_error(plugin, what, &e))?;
        Ok(Box::new(StreamReader::new(AdbcBatches {
            reader,
            plugin: plugin.to_owned(),
            _statement: stmt,
        })?))
    }

    fn write(&mut self, table: &str, _options: &Options) -> Result<BoxWriter> {
        let plugin = &*self.plugin;
        let mut conn = self.conn.clone();
        conn.set_option(
            OptionConnection::AutoCommit,
            OptionValue::String("false".into()),
        )
        .map_err(|e| driver_error(plugin, "starting a transaction", &e))?;
        Ok(Box::new(AdbcWriter::new(conn, table, plugin)?))
    }
}

/// The table names inside `get_objects`'s nested catalog schemas.
fn collect_tables(schemas: Option<&Value>, out: &mut Vec<String>) {
    let Some(Value::List(schemas)) = schemas else {
        return;
    };
    for s in schemas {
        if let Some(Value::List(tables)) = s.get("db_schema_tables") {
            for t in tables {
                if let Some(Value::String(name)) = t.get("table_name") {
                    out.push(name.clone());
                }
            }
        }
    }
}

/// An ADBC result, checked batch by batch like a C plugin's.
struct AdbcBatches {
    reader: Box<dyn RecordBatchReader + Send>,
    plugin: String,
    /// The statement lives as long as its result.
    _statement: ManagedStatement,
}

impl Batches for AdbcBatches {
    fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
        let plugin = &self.plugin;
        match self.reader.next() {
            None => Ok(None),
            Some(Err(e)) => Err(
                Error::new(ErrorKind::Driver, format!("reading results: {e}")).with_plugin(plugin),
            ),
            Some(Ok(batch)) => {
                let bad = |e| crate::cabi::bad_arrow(plugin, "reading results", e);
                for c in batch.columns() {
                    c.to_data().validate_full().map_err(bad)?;
                }
                crate::arrow::flatten_dictionaries(batch)
                    .map(Some)
                    .map_err(bad)
            }
        }
    }

    fn producer(&self) -> &str {
        &self.plugin
    }
}

/// Rows gathered into one bulk ingestion (each is a statement and a COPY
/// on the server).
const INGEST_ROWS: usize = 8192;

/// Records into a table by bulk ingestion, in one transaction: committed by
/// `finish`, rolled back if dropped or failed. Batches are ingested on a
/// thread of their own (one in flight), so that turning records into Arrow
/// here overlaps the driver's encoding and the server's work.
struct AdbcWriter {
    conn: ManagedConnection,
    table: String,
    plugin: String,
    gather: crate::arrow::Gather,
    ingest: Option<Ingest>,
    done: bool,
}

/// The ingesting thread and the way to it.
struct Ingest {
    batches: std::sync::mpsc::SyncSender<RecordBatch>,
    thread: std::thread::JoinHandle<Result<u64>>,
}

impl AdbcWriter {
    fn new(conn: ManagedConnection, table: &str, plugin: &str) -> Result<AdbcWriter> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<RecordBatch>(1);
        let (mut c, t, p) = (conn.clone(), table.to_owned(), plugin.to_owned());
        let thread = std::thread::Builder::new()
            .name(format!("adbc-{plugin}"))
            .spawn(move || -> Result<u64> {
                let mut written = 0;
                for batch in rx {
                    let rows = batch.num_rows() as u64;
                    ingest_one(&mut c, &t, batch)
                        .map_err(|e| driver_error(&p, &format!("writing into table {t}"), &e))?;
                    written += rows;
                }
                Ok(written)
            })
            .map_err(|e| Error::new(ErrorKind::Io, format!("cannot start a thread: {e}")))?;
        Ok(AdbcWriter {
            conn,
            table: table.to_owned(),
            plugin: plugin.to_owned(),
            gather: crate::arrow::Gather::new(INGEST_ROWS),
            ingest: Some(Ingest {
                batches: tx,
                thread,
            }),
            done: false,
        })
    }

    /// Hands rows to the ingesting thread, as one Arrow batch.
    fn send(&mut self, names: &[String], rows: &[Vec<Value>]) -> Result<()> {
        let batch = crate::arrow::record_batch(names, rows, false)
            .map_err(|e| Error::new(ErrorKind::Schema, format!("records to Arrow: {e}")))?;
        let sent = self
            .ingest
            .as_ref()
            .is_some_and(|i| i.batches.send(batch).is_ok());
        if sent {
            Ok(())
        } else {
            // The thread stopped: its error says why.
            Err(self.stop().err().unwrap_or_else(|| {
                Error::new(ErrorKind::Driver, "the ingesting thread stopped")
                    .with_plugin(&self.plugin)
            }))
        }
    }

    /// Waits for the ingesting thread to finish what it was given.
    fn stop(&mut self) -> Result<u64> {
        let Some(Ingest { batches, thread }) = self.ingest.take() else {
            return Ok(0);
        };
        drop(batches);
        thread.join().unwrap_or_else(|_| {
            Err(
                Error::new(ErrorKind::Other, "the ingesting thread panicked")
                    .with_plugin(&self.plugin),
            )
        })
    }
}

/// One bulk ingestion: the batch appended to `table`, created if missing.
fn ingest_one(
    conn: &mut ManagedConnection,
    table: &str,
    batch: RecordBatch,
) -> std::result::Result<(), adbc_core::error::Error> {
    let mut stmt = conn.new_statement()?;
    stmt.set_option(
        OptionStatement::TargetTable,
        OptionValue::String(table.to_owned()),
    )?;
    stmt.set_option(OptionStatement::IngestMode, IngestMode::CreateAppend.into())?;
    stmt.bind(batch)?;
    stmt.execute_update()?;
    Ok(())
}

impl RecordWriter for AdbcWriter {
    fn write_record(&mut self, record: &Record) -> Result<()> {
        for (names, rows) in self
            .gather
            .add(record.field_names(), [record.values().to_vec()])
        {
            self.send(&names, &rows)?;
        }
        Ok(())
    }

    fn write_batch(&mut self, batch: &Batch) -> Result<()> {
        // Small batches are gathered: each ingestion is a statement.
        for (names, rows) in self.gather.add(batch.names(), batch.rows().iter().cloned()) {
            self.send(&names, &rows)?;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<()> {
        if let Some((names, rows)) = self.gather.take() {
            self.send(&names, &rows)?;
        }
        let written = self.stop()?;
        self.conn
            .commit()
            .map_err(|e| driver_error(&self.plugin, "committing", &e))?;
        self.done = true;
        tracing::debug!(plugin = %self.plugin, table = %self.table, rows = written, "committed");
        Ok(())
    }
}

impl Drop for AdbcWriter {
    fn drop(&mut self) {
        let _ = self.stop();
        if !self.done
            && let Err(e) = self.conn.rollback()
        {
            tracing::warn!(plugin = %self.plugin, error = %one_line(&e), "rollback failed");
        }
    }
}

/// What an ADBC driver library says of itself: its driver name and version
/// (`ADBC_INFO_DRIVER_NAME`, `ADBC_INFO_DRIVER_VERSION`), asked of a
/// connection opened with no options, which file databases (SQLite, DuckDB)
/// allow. `None` for a driver that needs a server to answer, or that cannot
/// be loaded; the error says which.
pub fn describe_driver(
    path: &Path,
    entrypoint: Option<&str>,
) -> std::result::Result<(String, String), String> {
    let mut driver = load_driver(path, entrypoint)
        .map_err(|e| format!("not an ADBC driver: {}", one_line(&e)))?;
    let conn = driver
        .new_database()
        .and_then(|db| db.new_connection())
        .map_err(|e| format!("it cannot connect without a URI: {}", one_line(&e)))?;
    let codes = [
        adbc_core::options::InfoCode::DriverName,
        adbc_core::options::InfoCode::DriverVersion,
    ];
    let reader = conn
        .get_info(Some(codes.into_iter().collect()))
        .map_err(|e| one_line(&e))?;
    let (mut name, mut version) = (String::new(), String::new());
    for batch in reader {
        let batch = batch.map_err(|e| e.to_string())?;
        let names = crate::arrow::names(&batch.schema());
        let mut rec = Record::new();
        for row in 0..batch.num_rows() {
            crate::arrow::fill_record(&batch, &names, row, &mut rec);
            let code = rec.values().first().and_then(Value::as_i64);
            let mut text = String::new();
            if let Some(v) = rec.values().get(1) {
                v.write_text(&mut text);
            }
            // The value is a dense union; its text is `{type_id=value}`.
            let text = text
                .split_once('=')
                .map_or(text.as_str(), |(_, v)| v)
                .trim_end_matches('}')
                .to_owned();
            match code {
                Some(100) => name = text,
                Some(101) => version = text,
                _ => {}
            }
        }
    }
    Ok((name, version))
}
