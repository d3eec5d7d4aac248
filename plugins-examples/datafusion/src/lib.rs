//! `datafusion`: Apache DataFusion as an IterableData engine plugin, through
//! the C ABI (`iterabledata_plugin.h`): inputs arrive as Arrow streams and
//! the result leaves as one, with no detour through records.
//!
//! ```text
//! iterable-host query --engine datafusion \
//!     'SELECT city, count(*), avg(amount) FROM data GROUP BY city' rows.parquet
//! ```
//!
//! - Each input is a table. An input that is a plain `.csv`, `.csv.gz` or
//!   `.parquet` file is offered by the host as a path (engine options
//!   `path.NAME`, `format.NAME`, `compression.NAME`), and DataFusion reads
//!   it itself, pushing projections and filters down; any other input (a
//!   plugin format, a plugin codec, stdin) is the host's Arrow stream.
//! - Engine options: `memory_limit` (`512M`, `2G`: the memory pool; sorts,
//!   joins and aggregates spill to disk past it), `temp_dir` (where they
//!   spill; the system's temporary directory by default), `partitions`
//!   (default: the number of cores), and `scheduler=df://HOST:PORT` to run
//!   the query on a Ballista cluster instead (its executors read the files
//!   themselves: every input must then be a file they can read).
//! - Errors (SQL syntax, unknown columns, type mismatches) come back as one
//!   line, with DataFusion's position in the query.
//! - With `ITERABLEDATA_VERBOSE=1` in its environment (what `iterable-host -v`
//!   sets), it says on stderr how each input is read, and how long the
//!   query took (planning and execution, from the host's call to the last
//!   batch).

use std::collections::HashMap;
use std::ffi::{CStr, CString, c_char, c_void};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use arrow::datatypes::SchemaRef;
use arrow::error::ArrowError;
use arrow::ffi_stream::{ArrowArrayStreamReader, FFI_ArrowArrayStream};
use arrow::record_batch::{RecordBatch, RecordBatchReader};
use datafusion::catalog::streaming::StreamingTable;
use datafusion::datasource::file_format::file_compression_type::FileCompressionType;
use datafusion::error::DataFusionError;
use datafusion::execution::TaskContext;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::physical_plan::SendableRecordBatchStream;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::PartitionStream;
use datafusion::prelude::{CsvReadOptions, ParquetReadOptions, SessionConfig, SessionContext};
use futures::StreamExt;
use iterable_plugin_api::c as idp;

/// The plugin's description: its manifest's text.
const DESCRIPTION: &CStr = c"[plugin]
name = \"datafusion\"
version = \"0.1.0\"
description = \"Apache DataFusion as an engine: SQL over any input, multi-threaded, spilling to disk, and on Ballista clusters\"
license = \"MIT OR Apache-2.0\"

[[engine]]
id = \"datafusion\"
description = \"Apache DataFusion SQL (joins, aggregates, window functions); scheduler=df://HOST:PORT runs it on Ballista\"
reads_paths = true
";

/// The one tokio runtime the plugin runs queries on.
fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .thread_name("datafusion")
            .enable_all()
            .build()
            .expect("a tokio runtime")
    })
}

/// A failure: an error code of the header and a one-line message.
struct Failure(idp::IdpStatus, String);

impl From<DataFusionError> for Failure {
    fn from(e: DataFusionError) -> Self {
        let code = match &e {
            DataFusionError::SQL(..)
            | DataFusionError::Plan(_)
            | DataFusionError::SchemaError(..) => idp::IDP_ERR_ENGINE,
            DataFusionError::IoError(_) => idp::IDP_ERR_IO,
            _ => idp::IDP_ERR_ENGINE,
        };
        Failure(code, one_line(&e.to_string()))
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn verbose() -> bool {
    std::env::var("ITERABLEDATA_VERBOSE").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// An input the host streams: read once, by the one scan of its table.
struct OneShot {
    schema: SchemaRef,
    reader: Mutex<Option<ArrowArrayStreamReader>>,
    name: String,
}

impl std::fmt::Debug for OneShot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OneShot").field("name", &self.name).finish()
    }
}

impl PartitionStream for OneShot {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let reader = self.reader.lock().unwrap_or_else(|p| p.into_inner()).take();
        let name = self.name.clone();
        let batches: Box<dyn Iterator<Item = datafusion::error::Result<RecordBatch>> + Send> =
            match reader {
                Some(r) => Box::new(r.map(|b| b.map_err(DataFusionError::from))),
                None => Box::new(std::iter::once(Err(DataFusionError::Execution(format!(
                    "table '{name}' is streamed by the host and can be read only once per query \
                     (give it as a .csv or .parquet file to read it more than once)"
                ))))),
            };
        Box::pin(RecordBatchStreamAdapter::new(
            Arc::clone(&self.schema),
            futures::stream::iter(batches),
        ))
    }
}

/// The result: DataFusion's stream, read batch by batch on the runtime.
struct Results {
    schema: SchemaRef,
    stream: SendableRecordBatchStream,
    /// When the host's call began (planning included), for `-v`.
    started: Instant,
    rows: usize,
}

impl Iterator for Results {
    type Item = Result<RecordBatch, ArrowError>;
    fn next(&mut self) -> Option<Self::Item> {
        let next = runtime().block_on(self.stream.next());
        match &next {
            Some(Ok(b)) => self.rows += b.num_rows(),
            None if verbose() => eprintln!(
                "datafusion: query done in {:.1} ms ({} rows)",
                self.started.elapsed().as_secs_f64() * 1e3,
                self.rows
            ),
            _ => {}
        }
        next.map(|r| {
            r.map_err(|e| {
                ArrowError::ExternalError(Box::new(std::io::Error::other(one_line(&e.to_string()))))
            })
        })
    }
}

impl RecordBatchReader for Results {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }
}

/// The session: in this process, or on a Ballista cluster.
async fn session(opts: &HashMap<String, String>) -> Result<SessionContext, Failure> {
    let bad = |k: &str, v: &str, what: &str| {
        Failure(
            idp::IDP_ERR_INVALID_OPTION,
            format!("engine option {k}={v}: {what}"),
        )
    };
    let mut config = SessionConfig::new().with_information_schema(true);
    if let Some(p) = opts.get("partitions") {
        let n: usize = p
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| bad("partitions", p, "not a positive number"))?;
        config = config.with_target_partitions(n);
    }
    if let Some(url) = opts.get("scheduler") {
        return remote(url, config).await;
    }
    let mut runtime = RuntimeEnvBuilder::new();
    if let Some(m) = opts.get("memory_limit") {
        let bytes = iterable_plugin_api::parse_bytes(m)
            .and_then(|b| usize::try_from(b).ok())
            .ok_or_else(|| bad("memory_limit", m, "not a size (say 512M or 2G)"))?;
        // A fair share of the pool for each operator that can spill, so
        // that sorts, joins and aggregates spill to disk rather than fail.
        runtime = runtime.with_memory_pool(Arc::new(
            datafusion::execution::memory_pool::TrackConsumersPool::new(
                datafusion::execution::memory_pool::FairSpillPool::new(bytes),
                std::num::NonZeroUsize::new(5).expect("5"),
            ),
        ));
        // The memory each sort holds back for its merge when it spills:
        // a sixteenth of the pool rather than the default 10 MiB.
        config = config.with_sort_spill_reservation_bytes((bytes / 16).max(64 << 10));
    }
    if let Some(t) = opts.get("temp_dir") {
        runtime = runtime.with_temp_file_path(t);
    }
    let runtime = runtime.build_arc()?;
    Ok(SessionContext::new_with_config_rt(config, runtime))
}

#[cfg(feature = "ballista")]
async fn remote(url: &str, config: SessionConfig) -> Result<SessionContext, Failure> {
    use ballista::prelude::SessionContextExt;
    use datafusion::execution::SessionStateBuilder;
    let url = url
        .strip_prefix("df://")
        .map_or_else(|| url.to_owned(), |r| format!("df://{r}"));
    let state = SessionStateBuilder::new()
        .with_config(config)
        .with_default_features()
        .build();
    SessionContext::remote_with_state(&url, state)
        .await
        .map_err(|e| {
            Failure(
                idp::IDP_ERR_ENGINE,
                format!(
                    "cannot reach the Ballista scheduler at {url}: {}",
                    one_line(&e.to_string())
                ),
            )
        })
}

#[cfg(not(feature = "ballista"))]
async fn remote(url: &str, _config: SessionConfig) -> Result<SessionContext, Failure> {
    Err(Failure(
        idp::IDP_ERR_UNSUPPORTED,
        format!("scheduler={url}: this build of the plugin has no Ballista support"),
    ))
}

/// One input: a file the host offered by its path (engine options
/// `path.NAME`, `format.NAME`, `compression.NAME`), or the host's stream.
enum Input {
    File {
        path: String,
        format: String,
        gzip: bool,
    },
    Stream(ArrowArrayStreamReader),
}

/// The file the host offers for table `name`, if it offers one this plugin
/// reads (CSV, maybe gzipped, or Parquet).
fn offered(opts: &HashMap<String, String>, name: &str) -> Option<Input> {
    let path = opts.get(&format!("path.{name}"))?;
    let format = opts.get(&format!("format.{name}"))?;
    matches!(format.as_str(), "csv" | "parquet").then(|| Input::File {
        path: path.clone(),
        format: format.clone(),
        gzip: opts
            .get(&format!("compression.{name}"))
            .is_some_and(|c| c == "gzip"),
    })
}

/// Registers one input: the file itself when the host offers its path,
/// else the host's stream.
async fn register(
    ctx: &SessionContext,
    name: &str,
    input: Input,
    remote: bool,
) -> Result<(), Failure> {
    match input {
        Input::File { path, format, .. } if format == "parquet" => {
            if verbose() {
                eprintln!(
                    "datafusion: table {name}: {path} read by DataFusion (Parquet: projections and filters pushed down)"
                );
            }
            ctx.register_parquet(name, &path, ParquetReadOptions::default())
                .await?;
        }
        Input::File { path, gzip: gz, .. } => {
            if verbose() {
                eprintln!(
                    "datafusion: table {name}: {path} read by DataFusion (CSV{}: projections pushed down)",
                    if gz { ", gzip" } else { "" }
                );
            }
            let ext = if gz { ".csv.gz" } else { ".csv" };
            let options = CsvReadOptions::new()
                .has_header(true)
                .file_extension(ext)
                .file_compression_type(if gz {
                    FileCompressionType::GZIP
                } else {
                    FileCompressionType::UNCOMPRESSED
                });
            ctx.register_csv(name, &path, options).await?;
        }
        Input::Stream(_) if remote => {
            return Err(Failure(
                idp::IDP_ERR_UNSUPPORTED,
                format!(
                    "table {name}: a Ballista cluster reads its inputs itself, and this one is not a \
                     .csv, .csv.gz or .parquet file it can read"
                ),
            ));
        }
        Input::Stream(reader) => {
            if verbose() {
                eprintln!("datafusion: table {name}: streamed by the host as Arrow");
            }
            let schema = reader.schema();
            let one = OneShot {
                schema: Arc::clone(&schema),
                reader: Mutex::new(Some(reader)),
                name: name.to_owned(),
            };
            let table = StreamingTable::try_new(schema, vec![Arc::new(one)])?;
            ctx.register_table(name, Arc::new(table))?;
        }
    }
    Ok(())
}

fn run(
    query: &str,
    inputs: Vec<(String, Input)>,
    opts: HashMap<String, String>,
) -> Result<FFI_ArrowArrayStream, Failure> {
    let started = Instant::now();
    runtime().block_on(async {
        let ctx = session(&opts).await?;
        let remote = opts.contains_key("scheduler");
        for (name, input) in inputs {
            register(&ctx, &name, input, remote).await?;
        }
        let df = ctx.sql(query).await?;
        let stream = df.execute_stream().await?;
        let schema = stream.schema();
        Ok(FFI_ArrowArrayStream::new(Box::new(Results {
            schema,
            stream,
            started,
            rows: 0,
        })))
    })
}

unsafe extern "C" fn release_error(e: *mut idp::IdpError) {
    // SAFETY: the host calls this once on an error this plugin filled.
    unsafe {
        if !(*e).message.is_null() {
            drop(CString::from_raw((*e).message as *mut c_char));
            (*e).message = std::ptr::null();
        }
    }
}

fn set_error(error: *mut idp::IdpError, code: idp::IdpStatus, message: &str) -> idp::IdpStatus {
    if !error.is_null() {
        let text = CString::new(message.replace('\0', " ")).unwrap_or_default();
        // SAFETY: the host hands a valid, zeroed error.
        unsafe {
            (*error).code = code;
            (*error).message = text.into_raw();
            (*error).release = Some(release_error);
        }
    }
    code
}

/// Reads a C string the host lends.
unsafe fn text(p: *const c_char) -> String {
    if p.is_null() {
        return String::new();
    }
    // SAFETY: the caller's promise: a NUL-terminated string.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

#[allow(clippy::too_many_arguments)]
unsafe extern "C" fn execute(
    _data: *mut c_void,
    query: *const c_char,
    n_inputs: usize,
    names: *const *const c_char,
    inputs: *mut idp::ArrowArrayStream,
    options: *const idp::IdpOptions,
    out: *mut idp::ArrowArrayStream,
    error: *mut idp::IdpError,
) -> idp::IdpStatus {
    let result = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: as the header says: a query, `n_inputs` names and
        // streams (ours now), options, and an out stream to fill.
        unsafe {
            let query = text(query);
            let mut opts = HashMap::new();
            if !options.is_null() {
                for k in 0..(*options).count {
                    let o = &*(*options).items.add(k);
                    opts.insert(text(o.key), text(o.value));
                }
            }
            let mut taken = Vec::with_capacity(n_inputs);
            for i in 0..n_inputs {
                let name = text(*names.add(i));
                let raw = inputs.add(i).cast::<FFI_ArrowArrayStream>();
                let input = match offered(&opts, &name) {
                    // Released unread (not even its schema), so the host
                    // never opens a file DataFusion reads itself.
                    Some(file) => {
                        drop(std::ptr::replace(raw, FFI_ArrowArrayStream::empty()));
                        file
                    }
                    None => Input::Stream(ArrowArrayStreamReader::from_raw(raw).map_err(|e| {
                        Failure(idp::IDP_ERR_INVALID_INPUT, format!("input {name}: {e}"))
                    })?),
                };
                taken.push((name, input));
            }
            run(&query, taken, opts)
        }
    }));
    match result {
        Ok(Ok(stream)) => {
            // SAFETY: `out` is the host's stream to fill; the layouts are the
            // Arrow C stream interface's on both sides.
            unsafe { std::ptr::write(out.cast::<FFI_ArrowArrayStream>(), stream) };
            idp::IDP_OK
        }
        Ok(Err(Failure(code, message))) => set_error(error, code, &message),
        Err(_) => set_error(
            error,
            idp::IDP_ERR_OTHER,
            "datafusion panicked while planning the query",
        ),
    }
}

struct Plugin(idp::IdpPlugin);
// SAFETY: the plugin's description is immutable, static data.
unsafe impl Sync for Plugin {}
unsafe impl Send for Plugin {}

/// The C ABI's entry point.
///
/// # Safety
/// Called by the host as `iterabledata_plugin.h` says.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn iterabledata_plugin_entry(
    major: u32,
    _minor: u32,
) -> *const idp::IdpPlugin {
    static PLUGIN: OnceLock<Plugin> = OnceLock::new();
    if major != idp::C_ABI_MAJOR {
        return std::ptr::null();
    }
    let p = PLUGIN.get_or_init(|| {
        let engine: &'static idp::IdpEngine = Box::leak(Box::new(idp::IdpEngine {
            struct_size: std::mem::size_of::<idp::IdpEngine>() as u32,
            id: c"datafusion".as_ptr(),
            data: std::ptr::null_mut(),
            execute: Some(execute),
        }));
        let list: &'static [*const idp::IdpEngine; 1] = Box::leak(Box::new([engine as *const _]));
        Plugin(idp::IdpPlugin {
            struct_size: std::mem::size_of::<idp::IdpPlugin>() as u32,
            abi_major: idp::C_ABI_MAJOR,
            abi_minor: idp::C_ABI_MINOR,
            description: DESCRIPTION.as_ptr(),
            n_formats: 0,
            formats: std::ptr::null(),
            n_codecs: 0,
            codecs: std::ptr::null(),
            n_drivers: 0,
            drivers: std::ptr::null(),
            n_rules: 0,
            rules: std::ptr::null(),
            n_engines: 1,
            engines: list.as_ptr(),
            n_hooks: 0,
            hooks: std::ptr::null(),
        })
    });
    &p.0
}
