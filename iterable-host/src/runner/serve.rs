//! The runner's side: loads one plugin library, sandboxes itself, and
//! serves the host's calls, one at a time, until its input closes.
//!
//! The protocol runs on copies of stdin and stdout; the plugin's own
//! stdin is `/dev/null` and its stdout goes to stderr, so that nothing a
//! plugin prints can corrupt a frame.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::sync::{Arc, Mutex};

use iterable_core::io::ByteSink;
use iterable_core::{
    Batch, Codec, Connection, Driver, Engine, Error, ErrorKind, FieldNames, Format, Hook, Record,
    RecordReader, Result, Rule, RunInfo, RunObserver, RunSummary, Source, Value,
};

use crate::adapters::{LazyCodec, LazyDriver, LazyEngine, LazyFormat, LazyHook, LazyRule};
use crate::plugin::Plugin;
use crate::wire::{self, Call, Ready, Spec, WireError};

/// Rows per batch a runner sends.
use iterable_core::BATCH_ROWS;

use crate::plugin::lock;

type In = Arc<Mutex<BufReader<File>>>;
type Out = Arc<Mutex<BufWriter<File>>>;

/// Runs as a runner with the JSON `spec` the host gave; returns the exit
/// status. Called by the scanner program when its arguments say
/// [`SERVE_ARG`](super::SERVE_ARG).
pub fn serve(spec: &str) -> i32 {
    let spec: Spec = match serde_json::from_str(spec) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("iterable plugin runner: a spec the host did not write: {e}");
            return 2;
        }
    };
    let (input, output) = match protocol_pipes() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("iterable plugin runner: cannot set up its pipes: {e}");
            return 2;
        }
    };
    let input: In = Arc::new(Mutex::new(BufReader::with_capacity(256 << 10, input)));
    let output: Out = Arc::new(Mutex::new(BufWriter::with_capacity(256 << 10, output)));
    if let Some(limit) = spec.memory_limit {
        limit_memory(limit);
    }
    let sandbox = super::sandbox::apply(&spec);
    // After the sandbox: a thread started before it would escape it.
    die_with_parent();
    let providers = match Providers::load(&spec) {
        Ok(p) => p,
        Err(e) => {
            let _ = send_err(&output, &e);
            return 1;
        }
    };
    let ready = Ready {
        manifest: Box::new(providers.description.clone()),
        sandbox,
    };
    if send_json(&output, wire::READY, &ready).is_err() {
        return 1;
    }
    let mut server = Server {
        input,
        output,
        p: providers,
        connection: None,
        observer: None,
        buf: Vec::new(),
    };
    loop {
        let tag = match wire::read_frame(&mut *lock(&server.input), &mut server.buf) {
            Ok(t) => t,
            // The host closed the pipe: done.
            Err(_) => return 0,
        };
        if tag != wire::CALL {
            eprintln!("iterable plugin runner: frame {tag} where a call was expected");
            return 2;
        }
        let call: Call = match wire::json(&server.buf) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("iterable plugin runner: a call it does not know: {e}");
                return 2;
            }
        };
        if let Err(e) = server.handle(call) {
            // The pipe to the host broke: nobody is listening any more.
            eprintln!("iterable plugin runner: {e}");
            return 1;
        }
    }
}

/// Moves the protocol off fds 0 and 1: returns copies of them, and points
/// 0 at /dev/null and 1 at stderr.
#[cfg(unix)]
fn protocol_pipes() -> io::Result<(File, File)> {
    use std::os::fd::FromRawFd;
    // SAFETY: plain descriptor calls on this process's own fds; each new
    // descriptor is owned by exactly one File.
    unsafe {
        let i = libc::fcntl(0, libc::F_DUPFD_CLOEXEC, 3);
        let o = libc::fcntl(1, libc::F_DUPFD_CLOEXEC, 3);
        if i < 0 || o < 0 {
            return Err(io::Error::last_os_error());
        }
        let null = File::open("/dev/null")?;
        libc::dup2(std::os::fd::AsRawFd::as_raw_fd(&null), 0);
        libc::dup2(2, 1);
        Ok((File::from_raw_fd(i), File::from_raw_fd(o)))
    }
}

#[cfg(not(unix))]
fn protocol_pipes() -> io::Result<(File, File)> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "plugins out of process need a Unix system",
    ))
}

/// The runner ends when the host does, even in the middle of a plugin's
/// endless loop: a thread checks every half second that its parent is
/// still the host. (Not `PR_SET_PDEATHSIG`, which fires when the host's
/// *thread* that started the runner ends, and runners outlive such threads.)
fn die_with_parent() {
    #[cfg(unix)]
    {
        // SAFETY: getppid has no preconditions.
        let parent = unsafe { libc::getppid() };
        let _ = std::thread::Builder::new()
            .name("parent-watch".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(std::time::Duration::from_millis(500));
                    // SAFETY: as above.
                    if unsafe { libc::getppid() } != parent {
                        std::process::exit(0);
                    }
                }
            });
    }
}

/// An address-space limit: an allocation past it fails.
fn limit_memory(bytes: u64) {
    #[cfg(unix)]
    {
        let lim = libc::rlimit {
            rlim_cur: bytes as libc::rlim_t,
            rlim_max: bytes as libc::rlim_t,
        };
        // SAFETY: setrlimit with a valid struct.
        if unsafe { libc::setrlimit(libc::RLIMIT_AS, &lim) } != 0 {
            eprintln!(
                "iterable plugin runner: cannot limit memory: {}",
                io::Error::last_os_error()
            );
        }
    }
    #[cfg(not(unix))]
    let _ = bytes;
}

fn send_json(out: &Out, tag: u8, v: &impl serde::Serialize) -> io::Result<()> {
    let mut o = lock(out);
    wire::write_json(&mut *o, tag, v)?;
    o.flush()
}

fn send(out: &Out, tag: u8, parts: &[&[u8]]) -> io::Result<()> {
    let mut o = lock(out);
    wire::write_frame(&mut *o, tag, parts)?;
    o.flush()
}

fn send_err(out: &Out, e: &Error) -> io::Result<()> {
    send_json(out, wire::ERR, &WireError::of(e))
}

/// The plugin's providers, behind the core's traits (either flavour).
struct Providers {
    description: crate::catalog::manifest::Manifest,
    formats: Vec<LazyFormat>,
    codecs: Vec<LazyCodec>,
    drivers: Vec<LazyDriver>,
    rules: Vec<LazyRule>,
    engines: Vec<LazyEngine>,
    hooks: Vec<LazyHook>,
}

impl Providers {
    fn load(spec: &Spec) -> Result<Providers> {
        let lib = match &spec.manifest {
            Some(m) => {
                let manifest = crate::catalog::manifest::Manifest::from_file(m)?;
                if manifest.plugin.abi == crate::catalog::manifest::Abi::Adbc {
                    crate::adbc::load(&spec.library, &manifest)?
                } else {
                    crate::loader::load(&spec.library, &spec.name)?
                }
            }
            None => crate::loader::load(&spec.library, &spec.name)?,
        };
        let mut description = if spec.hooks {
            lib.description_with_hooks()?
        } else {
            lib.description.clone()
        };
        description.plugin.abi = lib.abi();
        let plugin = Plugin::preloaded(lib, &spec.name);
        let p = &plugin;
        Ok(Providers {
            formats: description
                .formats
                .iter()
                .map(|i| LazyFormat::new(Arc::clone(p), i.clone()))
                .collect(),
            codecs: description
                .codecs
                .iter()
                .map(|i| LazyCodec::new(Arc::clone(p), i.clone()))
                .collect(),
            drivers: description
                .drivers
                .iter()
                .map(|i| LazyDriver::new(Arc::clone(p), i.clone()))
                .collect(),
            rules: description
                .rules
                .iter()
                .map(|i| LazyRule::new(Arc::clone(p), i.clone()))
                .collect(),
            engines: description
                .engines
                .iter()
                .map(|i| LazyEngine::new(Arc::clone(p), i.clone()))
                .collect(),
            hooks: description
                .hooks
                .iter()
                .map(|i| LazyHook::new(Arc::clone(p), i.clone()))
                .collect(),
            description,
        })
    }
}

fn pick<'a, T>(list: &'a [T], i: usize, kind: &str) -> Result<&'a T> {
    list.get(i)
        .ok_or_else(|| Error::new(ErrorKind::InvalidInput, format!("no {kind} number {i}")))
}

struct Server {
    input: In,
    output: Out,
    p: Providers,
    connection: Option<Box<dyn Connection>>,
    observer: Option<Box<dyn RunObserver>>,
    buf: Vec<u8>,
}

/// What a call's failure was: the plugin's (reported, the runner goes
/// on), or the pipe's (the runner ends).
enum Failure {
    Plugin(Error),
    Pipe(io::Error),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Plugin(e)
    }
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        Failure::Pipe(e)
    }
}

impl Server {
    /// Serves one call; `Err` only when the pipe to the host broke.
    fn handle(&mut self, call: Call) -> io::Result<()> {
        // A call that reads bytes or batches after it takes them to the end
        // (END), whatever happens, so that the next call starts in step.
        let takes_input = matches!(
            call,
            Call::Read { .. }
                | Call::Decode { .. }
                | Call::Write { .. }
                | Call::Encode { .. }
                | Call::Insert { .. }
        );
        let ended = Arc::new(std::sync::atomic::AtomicBool::new(!takes_input));
        let r = self.dispatch(call, &ended);
        if let Err(Failure::Plugin(e)) = &r {
            send_err(&self.output, e)?;
        }
        if !ended.load(std::sync::atomic::Ordering::Relaxed) {
            drain(&self.input)?;
        }
        match r {
            Err(Failure::Pipe(e)) => Err(e),
            _ => Ok(()),
        }
    }

    fn dispatch(
        &mut self,
        call: Call,
        ended: &Arc<std::sync::atomic::AtomicBool>,
    ) -> std::result::Result<(), Failure> {
        let input = || FrameInput {
            input: Arc::clone(&self.input),
            ended: Arc::clone(ended),
            buf: Vec::new(),
            pos: 0,
        };
        match call {
            Call::Read {
                format,
                options,
                size,
            } => {
                let f = pick(&self.p.formats, format, "format")?;
                match f.open(Box::new(input()), size, &wire::options(&options))? {
                    crate::adapters::Opened::Batches(mut r) => {
                        send_json(&self.output, wire::OK, &())?;
                        self.stream_flat(&mut r)
                    }
                    crate::adapters::Opened::Records(mut r) => {
                        send_json(&self.output, wire::OK, &())?;
                        self.stream(&mut *r)
                    }
                }
            }
            Call::ReadPath {
                format,
                path,
                options,
            } => {
                let f = pick(&self.p.formats, format, "format")?;
                match f.path_reader(&path, &wire::options(&options)) {
                    None => Ok(send_json(&self.output, wire::OK, &false)?),
                    Some(r) => {
                        let mut r = r?;
                        send_json(&self.output, wire::OK, &true)?;
                        self.stream(&mut *r)
                    }
                }
            }
            Call::Schema {
                format,
                path,
                options,
            } => {
                let f = pick(&self.p.formats, format, "format")?;
                let s = f.path_schema(&path, &wire::options(&options)).transpose()?;
                Ok(send_json(&self.output, wire::OK, &s)?)
            }
            Call::Write { format, options } => {
                let f = pick(&self.p.formats, format, "format")?;
                let sink = FrameSink {
                    output: Arc::clone(&self.output),
                };
                let w = f.writer(Box::new(sink), &wire::options(&options))?;
                send_json(&self.output, wire::OK, &())?;
                self.take_batches(w, ended)
            }
            Call::Decode { codec, size } => {
                let c = pick(&self.p.codecs, codec, "codec")?;
                let mut d = c.sized_decoder(Box::new(input()), size)?;
                send_json(&self.output, wire::OK, &())?;
                let mut chunk = vec![0u8; 256 << 10];
                loop {
                    let n = match d.read(&mut chunk) {
                        Ok(n) => n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => return Err(Error::from_io(e).into()),
                    };
                    if n == 0 {
                        return Ok(send(&self.output, wire::END, &[])?);
                    }
                    send(&self.output, wire::BYTES, &[&chunk[..n]])?;
                }
            }
            Call::Encode { codec, level } => {
                let c = pick(&self.p.codecs, codec, "codec")?;
                let sink = FrameSink {
                    output: Arc::clone(&self.output),
                };
                let mut e = c.encoder(Box::new(sink), level)?;
                send_json(&self.output, wire::OK, &())?;
                let mut buf = Vec::new();
                loop {
                    match wire::read_frame(&mut *lock(&self.input), &mut buf)? {
                        wire::BYTES => e.write_all(&buf).map_err(Error::from_io)?,
                        wire::END => {
                            ended.store(true, std::sync::atomic::Ordering::Relaxed);
                            e.finish().map_err(Error::from_io)?;
                            return Ok(send_json(&self.output, wire::OK, &())?);
                        }
                        t => return Err(protocol(t).into()),
                    }
                }
            }
            Call::Connect {
                driver,
                uri,
                options,
            } => {
                let d = pick(&self.p.drivers, driver, "driver")?;
                self.connection = Some(d.connect(&uri, &wire::options(&options))?);
                Ok(send_json(&self.output, wire::OK, &())?)
            }
            Call::Tables => {
                let t = self.conn()?.list_tables()?;
                Ok(send_json(&self.output, wire::OK, &t)?)
            }
            Call::Query {
                table,
                query,
                options,
            } => {
                let source = match (table, query) {
                    (_, Some(q)) => Source::Query(q),
                    (Some(t), None) => Source::Table(t),
                    (None, None) => {
                        return Err(
                            Error::new(ErrorKind::InvalidInput, "neither table nor query").into(),
                        );
                    }
                };
                let mut r = self.conn()?.read(&source, &wire::options(&options))?;
                send_json(&self.output, wire::OK, &())?;
                self.stream(&mut *r)
            }
            Call::Insert { table, options } => {
                let w = self.conn()?.write(&table, &wire::options(&options))?;
                send_json(&self.output, wire::OK, &())?;
                self.take_batches(w, ended)
            }
            Call::Check { rule } => {
                let r = pick(&self.p.rules, rule, "rule")?;
                let mut buf = Vec::new();
                let batch = match wire::read_frame(&mut *lock(&self.input), &mut buf)? {
                    wire::BATCH => batch_of(&buf)?,
                    t => return Err(protocol(t).into()),
                };
                let values: Vec<&Value> = batch.rows().iter().filter_map(|r| r.first()).collect();
                let mut out = Vec::with_capacity(values.len());
                r.check_batch(&values, &mut out)?;
                Ok(send_json(&self.output, wire::OK, &out)?)
            }
            Call::Execute {
                engine,
                query,
                inputs,
                options,
            } => {
                let e = pick(&self.p.engines, engine, "engine")?;
                let readers = inputs
                    .into_iter()
                    .enumerate()
                    .map(|(k, name)| {
                        let r: iterable_core::BoxReader = Box::new(NeedReader {
                            input: Arc::clone(&self.input),
                            output: Arc::clone(&self.output),
                            k: k as u32,
                            rows: Vec::new().into_iter(),
                            names: FieldNames::default(),
                            done: false,
                        });
                        (name, r)
                    })
                    .collect();
                let mut r = e.execute(&query, readers, &wire::options(&options))?;
                send_json(&self.output, wire::OK, &())?;
                self.stream(&mut *r)
            }
            Call::Observe {
                hook,
                command,
                source,
                target,
                format,
                options,
            } => {
                let h = pick(&self.p.hooks, hook, "hook")?;
                let run = RunInfo {
                    command,
                    source,
                    target,
                    format,
                };
                self.observer = Some(h.open(&run, &wire::options(&options))?);
                Ok(send_json(&self.output, wire::OK, &())?)
            }
            Call::Seen => {
                let mut buf = Vec::new();
                let batch = match wire::read_frame(&mut *lock(&self.input), &mut buf)? {
                    wire::BATCH => batch_of(&buf)?,
                    t => return Err(protocol(t).into()),
                };
                self.observing()?.batch(&batch)?;
                Ok(send_json(&self.output, wire::OK, &())?)
            }
            Call::Failed { message } => {
                self.observing()?
                    .error(&Error::new(ErrorKind::Other, message))?;
                Ok(send_json(&self.output, wire::OK, &())?)
            }
            Call::Close {
                records,
                bytes_read,
                ok,
            } => {
                let mut o = self.observer.take().ok_or_else(no_observer)?;
                o.close(&RunSummary {
                    records,
                    bytes_read,
                    ok,
                })?;
                Ok(send_json(&self.output, wire::OK, &())?)
            }
        }
    }

    fn conn(&mut self) -> Result<&mut Box<dyn Connection>> {
        self.connection
            .as_mut()
            .ok_or_else(|| Error::new(ErrorKind::InvalidInput, "no connection"))
    }

    fn observing(&mut self) -> Result<&mut Box<dyn RunObserver>> {
        self.observer.as_mut().ok_or_else(no_observer)
    }

    /// Sends what a reader reads, as batches, then END.
    fn stream(&self, reader: &mut dyn RecordReader) -> std::result::Result<(), Failure> {
        let mut record = Record::new();
        let mut rows = crate::arrow::RecordsToArrow::new();
        while reader.read_record(&mut record)? {
            self.gather(&mut rows, &record)?;
        }
        self.send_rows(&mut rows)?;
        Ok(send(&self.output, wire::END, &[])?)
    }

    /// Sends a Rust plugin's batches as it fills them (FLAT frames), then
    /// END: no conversion here, the host checks and converts them as it
    /// does in its own process. A batch with nested values (lists, maps)
    /// goes as Arrow instead.
    fn stream_flat(
        &self,
        reader: &mut crate::adapters::PluginReader,
    ) -> std::result::Result<(), Failure> {
        let plugin = reader.plugin().to_owned();
        let mut record = Record::new();
        let mut rows = crate::arrow::RecordsToArrow::new();
        while let Some(batch) = reader.next_batch()? {
            if batch.batch().nested.is_empty() {
                let mut o = lock(&self.output);
                wire::write_flat(&mut *o, batch.batch())?;
                o.flush()?;
                continue;
            }
            batch.start(&plugin)?;
            while batch.next_into(&mut record) {
                self.gather(&mut rows, &record)?;
            }
            self.send_rows(&mut rows)?;
        }
        Ok(send(&self.output, wire::END, &[])?)
    }

    /// Adds a record to the rows gathered; sends them first when its names
    /// differ, and after when they make a full batch.
    fn gather(
        &self,
        rows: &mut crate::arrow::RecordsToArrow,
        record: &Record,
    ) -> std::result::Result<(), Failure> {
        if !rows.fits(record.field_names()) {
            self.send_rows(rows)?;
        }
        rows.push(record.field_names(), record.values());
        if rows.len() >= BATCH_ROWS {
            self.send_rows(rows)?;
        }
        Ok(())
    }

    /// Sends the rows gathered as one batch.
    fn send_rows(
        &self,
        rows: &mut crate::arrow::RecordsToArrow,
    ) -> std::result::Result<(), Failure> {
        let batch = rows
            .take()
            .map_err(|e| Error::new(ErrorKind::Other, format!("cannot encode a batch: {e}")))?;
        if let Some(b) = batch {
            let bytes = wire::encode_batch(&b)?;
            send(&self.output, wire::BATCH, &[&bytes])?;
        }
        Ok(())
    }

    /// Feeds the batches that follow to a writer; END finishes it.
    fn take_batches(
        &self,
        mut w: iterable_core::BoxWriter,
        ended: &Arc<std::sync::atomic::AtomicBool>,
    ) -> std::result::Result<(), Failure> {
        let mut buf = Vec::new();
        loop {
            let tag = wire::read_frame(&mut *lock(&self.input), &mut buf)?;
            match tag {
                wire::BATCH => w.write_batch(&batch_of(&buf)?)?,
                wire::END => {
                    ended.store(true, std::sync::atomic::Ordering::Relaxed);
                    w.finish()?;
                    return Ok(send_json(&self.output, wire::OK, &())?);
                }
                t => return Err(protocol(t).into()),
            }
        }
    }
}

fn no_observer() -> Error {
    Error::new(ErrorKind::InvalidInput, "no run is being observed")
}

fn protocol(tag: u8) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("frame {tag} out of turn"),
    )
}

/// A batch frame as the core's batch.
fn batch_of(bytes: &[u8]) -> Result<Batch> {
    let b = wire::decode_batch(bytes)
        .map_err(|e| Error::new(ErrorKind::InvalidInput, format!("a bad batch: {e}")))?;
    let names = crate::arrow::names(&b.schema());
    let mut batch = Batch::new(Arc::clone(&names));
    let mut r = Record::new();
    for i in 0..b.num_rows() {
        crate::arrow::fill_record(&b, &names, i, &mut r);
        batch.push_row(r.take_values());
    }
    Ok(batch)
}

/// Reads the frames that are left of a call's input, to its END.
fn drain(input: &In) -> io::Result<()> {
    let mut buf = Vec::new();
    loop {
        if wire::read_frame(&mut *lock(input), &mut buf)? == wire::END {
            return Ok(());
        }
    }
}

/// A call's input bytes, as the plugin reads them.
struct FrameInput {
    input: In,
    ended: Arc<std::sync::atomic::AtomicBool>,
    buf: Vec<u8>,
    pos: usize,
}

impl Read for FrameInput {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos >= self.buf.len() {
            if self.ended.load(std::sync::atomic::Ordering::Relaxed) {
                return Ok(0);
            }
            self.pos = 0;
            match wire::read_frame(&mut *lock(&self.input), &mut self.buf)? {
                wire::BYTES => {}
                wire::END => {
                    self.buf.clear();
                    self.ended.store(true, std::sync::atomic::Ordering::Relaxed);
                    return Ok(0);
                }
                wire::ERR => {
                    // The host's input failed: the host reports its own error.
                    let e = wire::json::<WireError>(&self.buf)
                        .map(WireError::into_error)
                        .unwrap_or_else(|_| Error::new(ErrorKind::Io, "the host's input failed"));
                    self.buf.clear();
                    self.ended.store(true, std::sync::atomic::Ordering::Relaxed);
                    return Err(e.into_io());
                }
                t => return Err(protocol(t)),
            }
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// A writer's output, sent to the host as it comes.
struct FrameSink {
    output: Out,
}

impl Write for FrameSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if !buf.is_empty() {
            let mut o = lock(&self.output);
            wire::write_frame(&mut *o, wire::BYTES, &[buf])?;
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        lock(&self.output).flush()
    }
}

impl ByteSink for FrameSink {
    fn finish(self: Box<Self>) -> io::Result<()> {
        send(&self.output, wire::END, &[])
    }
}

/// An engine's input, asked of the host a batch at a time.
struct NeedReader {
    input: In,
    output: Out,
    k: u32,
    rows: std::vec::IntoIter<Vec<Value>>,
    names: FieldNames,
    done: bool,
}

impl RecordReader for NeedReader {
    fn read_record(&mut self, record: &mut Record) -> Result<bool> {
        loop {
            if let Some(row) = self.rows.next() {
                record.set_parts(Arc::clone(&self.names), row);
                return Ok(true);
            }
            if self.done {
                return Ok(false);
            }
            send(&self.output, wire::NEED, &[&self.k.to_le_bytes()])?;
            let mut buf = Vec::new();
            match wire::read_frame(&mut *lock(&self.input), &mut buf)? {
                wire::BATCH => {
                    let b = batch_of(&buf)?;
                    self.names = Arc::clone(b.names());
                    self.rows = b.rows().to_vec().into_iter();
                }
                wire::END => self.done = true,
                wire::ERR => {
                    self.done = true;
                    return Err(wire::json::<WireError>(&buf)
                        .map(WireError::into_error)
                        .unwrap_or_else(|_| Error::new(ErrorKind::Io, "the host's input failed")));
                }
                t => return Err(protocol(t).into()),
            }
        }
    }
}
