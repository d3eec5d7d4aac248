//! An isolated plugin as the host sees it: a library whose providers stand
//! behind the core's traits and forward every call to a runner.

use std::ffi::OsString;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use arrow_array::RecordBatch;

use iterable_core::io::{BoxRead, BoxSink, ByteSink};
use iterable_core::{
    Batch, BoxReader, BoxWriter, Codec, CodecInfo, Connection, Driver, DriverInfo, Engine,
    EngineInfo, Error, FieldNames, Format, FormatInfo, Hook, HookInfo, Options, Record,
    RecordReader, RecordWriter, Result, Rule, RuleInfo, RunInfo, RunObserver, RunSummary, Source,
    Value,
};

use super::IDLE_RUNNERS;
use super::process::{Proc, Runner};
use crate::catalog::manifest::Manifest;
use crate::error::{PluginErrorExt, PluginErrorKind};
use crate::loader::Library;
use crate::policy::{Limits, SandboxReport};
use crate::wire::{self, Call, Spec};

/// Rows per batch sent to a runner.
use iterable_core::BATCH_ROWS;

/// Bytes per frame of a byte stream.
const CHUNK: usize = 256 << 10;

use crate::plugin::lock;

/// What the host knows of an isolated plugin before its first runner starts.
pub(crate) struct Plan<'a> {
    pub name: &'a str,
    pub library: &'a Path,
    pub dir: &'a Path,
    /// The manifest file, for an ADBC driver (which loads from it).
    pub manifest_file: Option<PathBuf>,
    pub declared: Option<&'a Manifest>,
    pub program: (&'a Path, &'a [OsString]),
    pub limits: Limits,
}

/// Starts the plugin's first runner and makes a library of proxies from
/// what it says it provides.
pub(crate) fn library(plan: Plan<'_>) -> Result<Library> {
    let library = std::path::absolute(plan.library).unwrap_or_else(|_| plan.library.into());
    let mut read = vec![plan.dir.to_path_buf()];
    read.extend(plan.limits.read.iter().cloned());
    if let Some(parent) = library.parent() {
        read.push(parent.to_path_buf());
    }
    let spec = Spec {
        name: plan.name.to_owned(),
        library: library.clone(),
        manifest: plan.manifest_file.clone(),
        hooks: plan.declared.is_none_or(|m| !m.hooks.is_empty()),
        write: plan.limits.write.clone(),
        memory_limit: plan.limits.memory_limit,
        network: plan.limits.network,
        sandbox: plan.limits.sandbox,
        read,
        scratch: None,
    };
    let home = Arc::new(Runners {
        name: plan.name.to_owned(),
        program: plan.program.0.to_path_buf(),
        args: plan.program.1.to_vec(),
        spec,
        limits: plan.limits,
        idle: Mutex::new(Vec::new()),
        told: std::sync::Once::new(),
        sandbox: std::sync::OnceLock::new(),
    });
    let (first, manifest) = home.spawn(None)?;
    let mut description = manifest;
    description.plugin.name = plan.name.to_owned();
    let native = crate::cabi::Native {
        formats: proxies(&home, &description.formats, |p| {
            Box::new(p) as Box<dyn Format>
        }),
        codecs: proxies(&home, &description.codecs, |p| {
            Box::new(p) as Box<dyn Codec>
        }),
        drivers: proxies(&home, &description.drivers, |p| {
            Box::new(p) as Box<dyn Driver>
        }),
        rules: proxies(&home, &description.rules, |p| Box::new(p) as Box<dyn Rule>),
        engines: proxies(&home, &description.engines, |p| {
            Box::new(p) as Box<dyn Engine>
        }),
        hooks: proxies(&home, &description.hooks, |p| Box::new(p) as Box<dyn Hook>),
    };
    home.give_back(first);
    let mut lib = crate::loader::native(&library, description, native);
    lib.sandbox = home.sandbox.get().cloned();
    Ok(lib)
}

/// A proxy for each of a kind's providers, by its index in the runner's list.
fn proxies<I: Clone, T: ?Sized>(
    home: &Arc<Runners>,
    infos: &[I],
    boxed: impl Fn(Iso<I>) -> Box<T>,
) -> Vec<Box<T>> {
    infos
        .iter()
        .enumerate()
        .map(|(i, info)| {
            boxed(Iso {
                home: Arc::clone(home),
                i,
                info: info.clone(),
            })
        })
        .collect()
}

/// One provider of an isolated plugin: its description, and its index in
/// the runner's list of its kind.
struct Iso<I> {
    home: Arc<Runners>,
    i: usize,
    info: I,
}

/// The runners of one plugin: how to start one, and those waiting.
pub(crate) struct Runners {
    name: String,
    program: PathBuf,
    args: Vec<OsString>,
    spec: Spec,
    limits: Limits,
    idle: Mutex<Vec<Runner>>,
    told: std::sync::Once,
    /// What the sandbox of the first runner could do.
    sandbox: std::sync::OnceLock<SandboxReport>,
}

impl Runners {
    /// Starts a runner (that may also read or write what `grant` says).
    fn spawn(&self, grant: Option<&Grant>) -> Result<(Runner, Manifest)> {
        let mut spec = self.spec.clone();
        let scratch = tempfile::Builder::new()
            .prefix("iterable-runner-")
            .tempdir()
            .ok();
        spec.scratch = scratch.as_ref().map(|d| d.path().to_path_buf());
        if let Some(g) = grant {
            let abs = |p: &PathBuf| std::path::absolute(p).unwrap_or_else(|_| p.clone());
            spec.read.extend(g.read.iter().map(abs));
            spec.write.extend(g.write.iter().map(abs));
        }
        let (runner, ready) =
            Runner::spawn(&self.program, &self.args, &spec, &self.limits, scratch)?;
        runner
            .proc
            .set_sandboxed(ready.sandbox.requested && ready.sandbox.files != "off");
        self.tell(&ready.sandbox);
        let _ = self.sandbox.set(ready.sandbox.clone());
        Ok((runner, *ready.manifest))
    }

    /// Says once (at -v) what the sandbox could not do.
    fn tell(&self, report: &SandboxReport) {
        self.told.call_once(|| {
            if !report.requested {
                tracing::info!(plugin = %self.name, "isolated plugin runs without a sandbox, as configured");
            } else if report.complete() {
                tracing::debug!(plugin = %self.name, files = %report.files, network = %report.network, "isolated plugin sandboxed");
            } else {
                tracing::info!(
                    plugin = %self.name,
                    "isolated plugin runs without a complete sandbox: files {}, network {}",
                    report.files,
                    report.network
                );
            }
        });
    }

    /// A runner for one call: one that waits, or a new one.
    fn lease(self: &Arc<Self>) -> Result<Lease> {
        let waiting = loop {
            match lock(&self.idle).pop() {
                Some(r) if r.proc.alive() => break Some(r),
                Some(_) => continue,
                None => break None,
            }
        };
        let runner = match waiting {
            Some(r) => r,
            None => self.spawn(None)?.0,
        };
        Ok(Lease {
            runner: Some(runner),
            home: Arc::clone(self),
            clean: false,
        })
    }

    /// A runner that may also read or write what `grant` says (a sandboxed
    /// runner reaches only what it was started with); it is not kept
    /// afterwards.
    fn lease_with(self: &Arc<Self>, grant: Grant) -> Result<Lease> {
        if !self.limits.sandbox {
            return self.lease();
        }
        Ok(Lease {
            runner: Some(self.spawn(Some(&grant))?.0),
            home: Arc::clone(self),
            clean: false,
        })
    }

    /// A runner that may read the file at `path`.
    fn lease_for(self: &Arc<Self>, path: &Path) -> Result<Lease> {
        self.lease_with(Grant {
            read: vec![path.to_path_buf()],
            write: Vec::new(),
        })
    }
}

/// What a runner may reach besides what every runner of its plugin may.
#[derive(Default)]
struct Grant {
    read: Vec<PathBuf>,
    write: Vec<PathBuf>,
}

/// The directory of the database file a driver's URI names, if it names
/// one here (`sqlite:///abs/path.db`, `sqlite://relative.db`): the driver
/// writes the file and its journal there.
fn database_dir(uri: &str) -> Option<PathBuf> {
    let rest = uri.split_once("://")?.1;
    let rest = rest.split(['?', '#']).next().unwrap_or(rest);
    if rest.is_empty() || rest.starts_with(':') || rest.contains('@') {
        return None;
    }
    let path = Path::new(rest);
    let dir = match path.parent() {
        Some(d) if d.as_os_str().is_empty() => PathBuf::from("."),
        Some(d) => d.to_path_buf(),
        None => return None,
    };
    // A host name is not a directory here.
    (dir.is_dir() && (path.is_absolute() || path.exists() || dir == Path::new("."))).then_some(dir)
}

impl Runners {
    fn give_back(&self, runner: Runner) {
        let mut idle = lock(&self.idle);
        if idle.len() < IDLE_RUNNERS && runner.input.is_some() && runner.output.is_some() {
            idle.push(runner);
        }
    }
}

/// A runner lent to one call (or one connection, or one observed run). It
/// goes back to wait for the next call only when the call ended cleanly;
/// otherwise it is killed.
struct Lease {
    runner: Option<Runner>,
    home: Arc<Runners>,
    clean: bool,
}

impl Lease {
    fn r(&mut self) -> &mut Runner {
        self.runner
            .as_mut()
            .expect("a lease holds its runner until dropped")
    }

    fn proc(&self) -> Arc<Proc> {
        Arc::clone(&self.runner.as_ref().expect("held").proc)
    }

    /// The call ended cleanly: the runner may serve another.
    fn done(&mut self) {
        self.clean = true;
    }

    /// Calls and reads the answer; a failure stops the runner.
    fn ask<T: for<'de> serde::Deserialize<'de>>(&mut self, call: &Call, name: &str) -> Result<T> {
        let r = self.r();
        r.call(call, name)?;
        r.answer(name)
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(r) = self.runner.take() {
            if self.clean {
                self.home.give_back(r);
            } else {
                r.proc.kill();
            }
        }
    }
}

/// A lease shared by a connection and what it reads and writes.
type Shared = Arc<Mutex<Lease>>;

// ---------------------------------------------------------------------------
// Bytes into a runner, on a thread of their own.

/// Pumps a reader's input into the runner (BYTES…, then END, or ERR with
/// the host's own error), and gives the runner's input back at the end.
struct Pump {
    handle: Option<JoinHandle<Option<std::io::BufWriter<std::process::ChildStdin>>>>,
    /// The host's own input error, if the input failed.
    error: Arc<Mutex<Option<Error>>>,
}

impl Pump {
    fn start(runner: &mut Runner, mut input: BoxRead) -> Result<Pump> {
        let mut w = runner
            .input
            .take()
            .ok_or_else(|| runner.confused("read", &"its input is lent"))?;
        let proc = Arc::clone(&runner.proc);
        let error = Arc::new(Mutex::new(None));
        let err = Arc::clone(&error);
        let handle = std::thread::Builder::new()
            .name(format!("plugin-{}-input", proc.plugin))
            .spawn(move || {
                let mut chunk = vec![0u8; CHUNK];
                loop {
                    let n = match input.read(&mut chunk) {
                        Ok(n) => n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => {
                            let e = Error::from_io(e);
                            let sent =
                                wire::write_json(&mut w, wire::ERR, &wire::WireError::of(&e))
                                    .and_then(|_| w.flush());
                            *lock(&err) = Some(e);
                            return sent.ok().map(|_| w);
                        }
                    };
                    let sent = if n == 0 {
                        wire::write_frame(&mut w, wire::END, &[])
                    } else {
                        wire::write_frame(&mut w, wire::BYTES, &[&chunk[..n]])
                    }
                    .and_then(|_| w.flush());
                    if sent.is_err() {
                        return None;
                    }
                    proc.touch();
                    if n == 0 {
                        return Some(w);
                    }
                }
            })
            .map_err(|e| Error::io("cannot start a thread", e))?;
        Ok(Pump {
            handle: Some(handle),
            error,
        })
    }

    /// The host's own input error, which explains a plugin's failure better
    /// than the plugin can.
    fn host_error(&self) -> Option<Error> {
        lock(&self.error).take()
    }

    /// Waits for the input to be sent, and gives the runner's input back.
    fn finish(&mut self, runner: &mut Runner) {
        if let Some(h) = self.handle.take()
            && let Ok(Some(w)) = h.join()
        {
            runner.input = Some(w);
        }
    }
}

// ---------------------------------------------------------------------------
// A runner's output forwarded into a sink, on a thread of its own.

type OutputEnd = (
    Option<std::io::BufReader<std::process::ChildStdout>>,
    Option<BoxSink>,
    Result<()>,
);

/// Reads the runner's answer to a write: BYTES into the host's sink (for a
/// format's writer or a codec's encoder), then OK or ERR.
fn forward(runner: &mut Runner, mut sink: Option<BoxSink>, name: &'static str) -> Result<Output> {
    let mut out = runner
        .output
        .take()
        .ok_or_else(|| runner.confused(name, &"its output is lent"))?;
    let proc = Arc::clone(&runner.proc);
    std::thread::Builder::new()
        .name(format!("plugin-{}-output", proc.plugin))
        .spawn(move || {
            let mut buf = Vec::new();
            loop {
                let tag = match wire::read_frame(&mut out, &mut buf) {
                    Ok(t) => t,
                    Err(_) => return (None, sink, Err(proc.died(name))),
                };
                match tag {
                    wire::BYTES => {
                        if let Some(s) = sink.as_mut()
                            && let Err(e) = s.write_all(&buf)
                        {
                            proc.kill();
                            return (None, sink, Err(Error::io("writing the output", e)));
                        }
                    }
                    wire::END => {}
                    wire::OK => return (Some(out), sink, Ok(())),
                    wire::ERR => {
                        let e = wire::json::<wire::WireError>(&buf)
                            .map(|e| proc.explain(e.into_error().with_plugin(&proc.plugin)))
                            .unwrap_or_else(|e| bad_frame(&proc, name, &e));
                        return (Some(out), sink, Err(e));
                    }
                    t => {
                        return (
                            None,
                            sink,
                            Err(bad_frame(&proc, name, &format!("frame {t}"))),
                        );
                    }
                }
            }
        })
        .map(|h| Output(Some(h)))
        .map_err(|e| Error::io("cannot start a thread", e))
}

/// The thread that forwards a runner's answer to a write ([`forward`]).
struct Output(Option<JoinHandle<OutputEnd>>);

impl Output {
    /// Whether it stopped already (the runner answered before the end: an
    /// error, or it died).
    fn stopped(&self) -> bool {
        self.0.as_ref().is_some_and(|h| h.is_finished())
    }

    /// Waits for the runner's answer, within the deadline; gives the
    /// runner its output back, and the host its sink.
    fn end(&mut self, lease: &mut Lease) -> Result<Option<BoxSink>> {
        let Some(h) = self.0.take() else {
            return Ok(None);
        };
        let proc = lease.proc();
        proc.arm();
        let joined = h.join();
        proc.disarm();
        let (out, sink, result) = joined.unwrap_or_else(|_| {
            let e = Error::new(
                iterable_core::ErrorKind::Other,
                "the output thread panicked",
            );
            (None, None, Err(e))
        });
        lease.r().output = out;
        result?;
        Ok(sink)
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        // The runner is stopped (or done) by now: the thread ends.
        if let Some(h) = self.0.take() {
            let _ = h.join();
        }
    }
}

fn bad_frame(proc: &Proc, name: &str, what: &dyn std::fmt::Display) -> Error {
    proc.kill();
    Error::plugin(
        PluginErrorKind::Died,
        &proc.plugin,
        format!("its runner broke the protocol during {name} ({what}); it was stopped"),
    )
}

// ---------------------------------------------------------------------------
// Records out of a runner.

/// Records a runner sends as batches (a read, a query, an engine's result).
struct IsoReader {
    lease: Shared,
    name: &'static str,
    pump: Option<Pump>,
    /// An engine's inputs, served when the runner asks (NEED).
    inputs: Vec<EngineInput>,
    batch: Option<(RecordBatch, FieldNames)>,
    row: usize,
    /// A Rust plugin's batch as it filled it (FLAT), checked and converted.
    flat: crate::convert::BatchReader,
    buf: Vec<u8>,
    done: bool,
    /// Keep the runner afterwards (not a connection's).
    own: bool,
}

impl IsoReader {
    fn new(lease: Shared, name: &'static str, own: bool) -> IsoReader {
        IsoReader {
            lease,
            name,
            pump: None,
            inputs: Vec::new(),
            batch: None,
            row: 0,
            flat: Default::default(),
            buf: Vec::new(),
            done: false,
            own,
        }
    }

    /// The host's own input error, if it failed, else `e`.
    fn explain(&self, e: Error) -> Error {
        self.pump.as_ref().and_then(Pump::host_error).unwrap_or(e)
    }

    fn next_batch(&mut self) -> Result<bool> {
        let mut guard = lock(&self.lease);
        let lease = &mut *guard;
        loop {
            let tag = match lease.r().recv(&mut self.buf, self.name) {
                Ok(t) => t,
                Err(e) => {
                    drop(guard);
                    return Err(self.explain(e));
                }
            };
            match tag {
                wire::BATCH => match wire::decode_batch(&self.buf) {
                    Ok(b) => {
                        let names = crate::arrow::names(&b.schema());
                        self.flat.discard();
                        self.batch = Some((b, names));
                        self.row = 0;
                        return Ok(true);
                    }
                    Err(e) => {
                        let r = lease.r();
                        return Err(r.confused(self.name, &format!("a bad batch: {e}")));
                    }
                },
                wire::FLAT => {
                    if let Err(e) = wire::read_flat(&self.buf, self.flat.batch_mut()) {
                        return Err(lease.r().confused(self.name, &format!("a bad batch: {e}")));
                    }
                    let plugin = lease.r().proc.plugin.clone();
                    self.batch = None;
                    self.flat.start(&plugin)?;
                    return Ok(true);
                }
                wire::END => {
                    if let Some(p) = self.pump.as_mut() {
                        p.finish(lease.r());
                    }
                    if self.own {
                        lease.done();
                    }
                    self.done = true;
                    return Ok(false);
                }
                wire::ERR => {
                    let e = lease.r().error(&self.buf, self.name);
                    lease.r().proc.kill();
                    drop(guard);
                    self.done = true;
                    return Err(self.explain(e));
                }
                wire::NEED => {
                    let k = self
                        .buf
                        .get(..4)
                        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize);
                    let Some(input) = k.and_then(|k| self.inputs.get_mut(k)) else {
                        return Err(lease.r().confused(self.name, &"a NEED for no input"));
                    };
                    serve_input(lease.r(), input, self.name)?;
                }
                t => return Err(lease.r().confused(self.name, &format!("frame {t}"))),
            }
        }
    }
}

/// An engine's input, as the host reads it for the runner.
struct EngineInput {
    reader: BoxReader,
    ended: bool,
    /// A record read but not sent: the first of the next batch (its field
    /// names differ from the last batch's).
    carry: Option<(FieldNames, Vec<Value>)>,
}

/// Sends the next batch of an engine's input (or END, or the input's error).
fn serve_input(r: &mut Runner, input: &mut EngineInput, name: &str) -> Result<()> {
    let (mut names, mut rows) = match input.carry.take() {
        Some((n, v)) => (Some(n), vec![v]),
        None => (None, Vec::new()),
    };
    let mut rec = Record::new();
    while !input.ended && rows.len() < BATCH_ROWS {
        match input.reader.read_record(&mut rec) {
            Ok(true) => {
                let same = names
                    .as_ref()
                    .is_none_or(|n| Arc::ptr_eq(n, rec.field_names()) || n == rec.field_names());
                let n = Arc::clone(rec.field_names());
                let v = rec.take_values();
                if !same {
                    input.carry = Some((n, v));
                    break;
                }
                names.get_or_insert(n);
                rows.push(v);
            }
            Ok(false) => input.ended = true,
            Err(e) => {
                input.ended = true;
                let text = serde_json::to_vec(&wire::WireError::of(&e)).unwrap_or_default();
                r.send(wire::ERR, &[&text], name)?;
                return Err(e);
            }
        }
    }
    match names {
        Some(n) if !rows.is_empty() => {
            let bytes = wire::encode_rows(&n, &rows)?;
            r.send(wire::BATCH, &[&bytes], name)
        }
        _ => r.send(wire::END, &[], name),
    }
}

impl RecordReader for IsoReader {
    fn read_record(&mut self, record: &mut Record) -> Result<bool> {
        loop {
            if self.flat.next_into(record) {
                return Ok(true);
            }
            if let Some((batch, names)) = &self.batch
                && self.row < batch.num_rows()
            {
                crate::arrow::fill_record(batch, names, self.row, record);
                self.row += 1;
                return Ok(true);
            }
            if self.done || !self.next_batch()? {
                self.batch = None;
                return Ok(false);
            }
        }
    }
}

impl Drop for IsoReader {
    fn drop(&mut self) {
        if !self.done {
            // Abandoned before its end: the runner is still sending.
            lock(&self.lease).r().proc.kill();
        }
    }
}

// ---------------------------------------------------------------------------
// Records into a runner.

/// Records sent to a runner as batches (a format's writer, a table's insert).
struct IsoWriter {
    lease: Shared,
    name: &'static str,
    gather: crate::arrow::Gather,
    output: Output,
    own: bool,
}

impl IsoWriter {
    fn send(&mut self, names: &[String], rows: &[Vec<Value>]) -> Result<()> {
        let bytes = wire::encode_rows(names, rows)?;
        let sent = lock(&self.lease)
            .r()
            .send(wire::BATCH, &[&bytes], self.name);
        if sent.is_err() || self.output.stopped() {
            // The runner stopped: its own error says why.
            return Err(self.end().err().unwrap_or_else(|| {
                sent.err().unwrap_or_else(|| {
                    Error::new(iterable_core::ErrorKind::Other, "the writer stopped")
                })
            }));
        }
        Ok(())
    }

    fn flush_ready(&mut self, ready: Vec<crate::arrow::Rows>) -> Result<()> {
        for (names, rows) in ready {
            self.send(&names, &rows)?;
        }
        Ok(())
    }

    /// Waits for the runner's answer, within the deadline.
    fn end(&mut self) -> Result<Option<BoxSink>> {
        self.output.end(&mut lock(&self.lease))
    }
}

impl RecordWriter for IsoWriter {
    fn write_record(&mut self, record: &Record) -> Result<()> {
        let ready = self
            .gather
            .add(record.field_names(), [record.values().to_vec()]);
        self.flush_ready(ready)
    }

    fn write_batch(&mut self, batch: &Batch) -> Result<()> {
        let ready = self.gather.add(batch.names(), batch.rows().iter().cloned());
        self.flush_ready(ready)
    }

    fn finish(mut self: Box<Self>) -> Result<()> {
        if let Some((names, rows)) = self.gather.take() {
            self.send(&names, &rows)?;
        }
        let ended = lock(&self.lease).r().send(wire::END, &[], self.name);
        let sink = self.end();
        ended?;
        if let Some(s) = sink? {
            s.finish().map_err(Error::from_io)?;
        }
        if self.own {
            lock(&self.lease).done();
        }
        Ok(())
    }
}

impl Drop for IsoWriter {
    fn drop(&mut self) {
        let lease = lock(&self.lease);
        if !lease.clean {
            // Unfinished, or failed: the output is abandoned (a table's
            // transaction rolls back when its connection goes).
            if let Some(r) = lease.runner.as_ref() {
                r.proc.kill();
            }
        }
    }
}

// ---------------------------------------------------------------------------
// The six kinds.

impl Format for Iso<FormatInfo> {
    fn info(&self) -> &FormatInfo {
        &self.info
    }

    fn reader(&self, input: BoxRead, options: &Options) -> Result<BoxReader> {
        self.sized_reader(input, None, options)
    }

    fn sized_reader(
        &self,
        input: BoxRead,
        size: Option<u64>,
        options: &Options,
    ) -> Result<BoxReader> {
        let mut lease = self.home.lease()?;
        let call = Call::Read {
            format: self.i,
            options: wire::opts(options),
            size,
        };
        lease.r().call(&call, "read")?;
        let pump = Pump::start(lease.r(), input)?;
        let opened = lease.r().answer::<()>("read");
        let mut reader = IsoReader::new(Arc::new(Mutex::new(lease)), "read", true);
        reader.pump = Some(pump);
        match opened {
            Ok(()) => Ok(Box::new(reader)),
            Err(e) => Err(reader.explain(e)),
        }
    }

    fn path_reader(&self, path: &Path, options: &Options) -> Option<Result<BoxReader>> {
        if !self.info.reads_paths {
            return None;
        }
        let run = || -> Result<Option<BoxReader>> {
            let mut lease = self.home.lease_for(path)?;
            let call = Call::ReadPath {
                format: self.i,
                path: std::path::absolute(path).unwrap_or_else(|_| path.into()),
                options: wire::opts(options),
            };
            if !lease.ask::<bool>(&call, "read")? {
                lease.done();
                return Ok(None);
            }
            Ok(Some(Box::new(IsoReader::new(
                Arc::new(Mutex::new(lease)),
                "read",
                true,
            ))))
        };
        run().transpose()
    }

    fn path_schema(&self, path: &Path, options: &Options) -> Option<Result<String>> {
        if !self.info.reads_paths {
            return None;
        }
        let run = || -> Result<Option<String>> {
            let mut lease = self.home.lease_for(path)?;
            let call = Call::Schema {
                format: self.i,
                path: std::path::absolute(path).unwrap_or_else(|_| path.into()),
                options: wire::opts(options),
            };
            let s = lease.ask::<Option<String>>(&call, "read")?;
            lease.done();
            Ok(s)
        };
        run().transpose()
    }

    fn writer(&self, output: BoxSink, options: &Options) -> Result<BoxWriter> {
        let mut lease = self.home.lease()?;
        let call = Call::Write {
            format: self.i,
            options: wire::opts(options),
        };
        lease.ask::<()>(&call, "write")?;
        let output = forward(lease.r(), Some(output), "write")?;
        Ok(Box::new(IsoWriter {
            lease: Arc::new(Mutex::new(lease)),
            name: "write",
            gather: crate::arrow::Gather::new(BATCH_ROWS),
            output,
            own: true,
        }))
    }
}

impl Codec for Iso<CodecInfo> {
    fn info(&self) -> &CodecInfo {
        &self.info
    }

    fn decoder(&self, input: BoxRead) -> Result<BoxRead> {
        self.sized_decoder(input, None)
    }

    fn sized_decoder(&self, input: BoxRead, size: Option<u64>) -> Result<BoxRead> {
        let mut lease = self.home.lease()?;
        lease.r().call(
            &Call::Decode {
                codec: self.i,
                size,
            },
            "decode",
        )?;
        let pump = Pump::start(lease.r(), input)?;
        let opened = lease.r().answer::<()>("decode");
        let d = Decoded {
            lease,
            pump,
            buf: Vec::new(),
            pos: 0,
            done: false,
        };
        match opened {
            Ok(()) => Ok(Box::new(d)),
            Err(e) => Err(d.pump.host_error().unwrap_or(e)),
        }
    }

    fn encoder(&self, output: BoxSink, level: Option<i32>) -> Result<BoxSink> {
        let mut lease = self.home.lease()?;
        lease.ask::<()>(
            &Call::Encode {
                codec: self.i,
                level,
            },
            "encode",
        )?;
        let output = forward(lease.r(), Some(output), "encode")?;
        Ok(Box::new(Encoded {
            lease,
            output,
            buf: Vec::with_capacity(CHUNK),
        }))
    }
}

/// A codec's decoded bytes, as the runner sends them.
struct Decoded {
    lease: Lease,
    pump: Pump,
    buf: Vec<u8>,
    pos: usize,
    done: bool,
}

impl Read for Decoded {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos >= self.buf.len() {
            if self.done {
                return Ok(0);
            }
            self.pos = 0;
            let tag = self
                .lease
                .r()
                .recv(&mut self.buf, "decode")
                .map_err(|e| self.pump.host_error().unwrap_or(e).into_io())?;
            match tag {
                wire::BYTES => {}
                wire::END => {
                    self.buf.clear();
                    self.done = true;
                    self.pump.finish(self.lease.r());
                    self.lease.done();
                    return Ok(0);
                }
                wire::ERR => {
                    let e = self.lease.r().error(&self.buf, "decode");
                    self.buf.clear();
                    self.done = true;
                    return Err(self.pump.host_error().unwrap_or(e).into_io());
                }
                t => {
                    self.buf.clear();
                    self.done = true;
                    return Err(self
                        .lease
                        .r()
                        .confused("decode", &format!("frame {t}"))
                        .into_io());
                }
            }
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Bytes to encode, sent to the runner in chunks; its output is forwarded
/// into the host's sink.
struct Encoded {
    lease: Lease,
    output: Output,
    buf: Vec<u8>,
}

impl Encoded {
    fn send_buf(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let r = self.lease.r().send(wire::BYTES, &[&self.buf], "encode");
        self.buf.clear();
        match r {
            Ok(()) => Ok(()),
            Err(e) => Err(self.end().err().unwrap_or(e).into_io()),
        }
    }

    fn end(&mut self) -> Result<Option<BoxSink>> {
        self.output.end(&mut self.lease)
    }
}

impl Write for Encoded {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.output.stopped() {
            return Err(self
                .end()
                .err()
                .unwrap_or_else(|| {
                    Error::new(iterable_core::ErrorKind::Other, "the encoder stopped")
                })
                .into_io());
        }
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send_buf()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl ByteSink for Encoded {
    fn finish(mut self: Box<Self>) -> io::Result<()> {
        self.send_buf()?;
        let ended = self.lease.r().send(wire::END, &[], "encode");
        let sink = self.end().map_err(Error::into_io)?;
        ended.map_err(Error::into_io)?;
        if let Some(s) = sink {
            s.finish()?;
        }
        self.lease.done();
        Ok(())
    }
}

impl Drop for Encoded {
    fn drop(&mut self) {
        if !self.lease.clean {
            self.lease.r().proc.kill();
        }
    }
}

impl Driver for Iso<DriverInfo> {
    fn info(&self) -> &DriverInfo {
        &self.info
    }

    fn connect(&self, uri: &str, options: &Options) -> Result<Box<dyn Connection>> {
        let mut lease = match database_dir(uri) {
            Some(dir) => self.home.lease_with(Grant {
                read: vec![dir.clone()],
                write: vec![dir],
            })?,
            None => self.home.lease()?,
        };
        let call = Call::Connect {
            driver: self.i,
            uri: uri.to_owned(),
            options: wire::opts(options),
        };
        lease.ask::<()>(&call, "connect").map_err(|e| {
            let limits = &self.home.limits;
            if limits.sandbox && !limits.network && e.plugin_kind() != Some(PluginErrorKind::Died) {
                let hint = format!(
                    "{} (isolated plugins have no network unless it is granted: {})",
                    e.message(),
                    limits.network_hint(&self.home.name)
                );
                Error::plugin(PluginErrorKind::CallFailed, &self.home.name, hint)
            } else {
                e
            }
        })?;
        // The connection lives in this runner: it is not kept afterwards.
        Ok(Box::new(IsoConnection {
            lease: Arc::new(Mutex::new(lease)),
        }))
    }
}

struct IsoConnection {
    lease: Shared,
}

impl Connection for IsoConnection {
    fn list_tables(&mut self) -> Result<Vec<String>> {
        lock(&self.lease).ask(&Call::Tables, "query")
    }

    fn read(&mut self, source: &Source, options: &Options) -> Result<BoxReader> {
        let (table, query, name) = match source {
            Source::Table(t) => (Some(t.clone()), None, "read"),
            Source::Query(q) => (None, Some(q.clone()), "query"),
        };
        let call = Call::Query {
            table,
            query,
            options: wire::opts(options),
        };
        lock(&self.lease).ask::<()>(&call, name)?;
        Ok(Box::new(IsoReader::new(
            Arc::clone(&self.lease),
            name,
            false,
        )))
    }

    fn write(&mut self, table: &str, options: &Options) -> Result<BoxWriter> {
        let call = Call::Insert {
            table: table.to_owned(),
            options: wire::opts(options),
        };
        let output = {
            let mut lease = lock(&self.lease);
            lease.ask::<()>(&call, "write")?;
            forward(lease.r(), None, "write")?
        };
        Ok(Box::new(IsoWriter {
            lease: Arc::clone(&self.lease),
            name: "write",
            gather: crate::arrow::Gather::new(BATCH_ROWS),
            output,
            own: false,
        }))
    }
}

impl Rule for Iso<RuleInfo> {
    fn info(&self) -> &RuleInfo {
        &self.info
    }

    fn check(&self, value: &Value) -> std::result::Result<(), String> {
        iterable_core::check_as_batch(self, value)
    }

    fn check_batch(&self, values: &[&Value], out: &mut Vec<Option<String>>) -> Result<()> {
        let mut lease = self.home.lease()?;
        let rows: Vec<Vec<Value>> = values.iter().map(|v| vec![(*v).clone()]).collect();
        let bytes = wire::encode_rows(&["value".to_owned()], &rows)?;
        let r = lease.r();
        r.call(&Call::Check { rule: self.i }, "check")?;
        r.send(wire::BATCH, &[&bytes], "check")?;
        let verdicts: Vec<Option<String>> = r.answer("check")?;
        if verdicts.len() != values.len() {
            return Err(r.confused(
                "check",
                &format!("{} verdicts for {} values", verdicts.len(), values.len()),
            ));
        }
        *out = verdicts;
        lease.done();
        Ok(())
    }
}

impl Engine for Iso<EngineInfo> {
    fn info(&self) -> &EngineInfo {
        &self.info
    }

    fn execute(
        &self,
        query: &str,
        inputs: Vec<(String, BoxReader)>,
        options: &Options,
    ) -> Result<BoxReader> {
        let mut lease = self.home.lease()?;
        let (names, readers): (Vec<String>, Vec<BoxReader>) = inputs.into_iter().unzip();
        let call = Call::Execute {
            engine: self.i,
            query: query.to_owned(),
            inputs: names,
            options: wire::opts(options),
        };
        lease.r().call(&call, "query")?;
        let mut inputs: Vec<EngineInput> = readers
            .into_iter()
            .map(|reader| EngineInput {
                reader,
                ended: false,
                carry: None,
            })
            .collect();
        // The engine may read its inputs before it answers.
        let mut buf = Vec::new();
        loop {
            let r = lease.r();
            match r.recv(&mut buf, "query")? {
                wire::OK => break,
                wire::ERR => return Err(r.error(&buf, "query")),
                wire::NEED => {
                    let k = buf
                        .get(..4)
                        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize);
                    let Some(input) = k.and_then(|k| inputs.get_mut(k)) else {
                        return Err(r.confused("query", &"a NEED for no input"));
                    };
                    serve_input(r, input, "query")?;
                }
                t => return Err(r.confused("query", &format!("frame {t}"))),
            }
        }
        let mut reader = IsoReader::new(Arc::new(Mutex::new(lease)), "query", true);
        reader.inputs = inputs;
        Ok(Box::new(reader))
    }
}

impl Hook for Iso<HookInfo> {
    fn info(&self) -> &HookInfo {
        &self.info
    }

    fn open(&self, run: &RunInfo, options: &Options) -> Result<Box<dyn RunObserver>> {
        let mut lease = self.home.lease()?;
        let call = Call::Observe {
            hook: self.i,
            command: run.command.clone(),
            source: run.source.clone(),
            target: run.target.clone(),
            format: run.format.clone(),
            options: wire::opts(options),
        };
        lease.ask::<()>(&call, "hook")?;
        Ok(Box::new(IsoObserver { lease }))
    }
}

struct IsoObserver {
    lease: Lease,
}

impl RunObserver for IsoObserver {
    fn batch(&mut self, batch: &Batch) -> Result<()> {
        let bytes = wire::encode_rows(batch.names(), batch.rows())?;
        let r = self.lease.r();
        r.call(&Call::Seen, "hook")?;
        r.send(wire::BATCH, &[&bytes], "hook")?;
        r.answer("hook")
    }

    fn error(&mut self, error: &Error) -> Result<()> {
        let call = Call::Failed {
            message: error.to_string(),
        };
        self.lease.ask(&call, "hook")
    }

    fn close(&mut self, summary: &RunSummary) -> Result<()> {
        let call = Call::Close {
            records: summary.records,
            bytes_read: summary.bytes_read,
            ok: summary.ok,
        };
        self.lease.ask::<()>(&call, "hook")?;
        self.lease.done();
        Ok(())
    }
}
