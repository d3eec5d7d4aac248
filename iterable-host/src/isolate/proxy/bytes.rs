//! Bytes to and from a runner, each way on a thread of its own.

use std::io::{self, Read, Write};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use iterable_core::io::{BoxRead, BoxSink};
use iterable_core::{Error, Result};

use super::{CHUNK, Lease};
use crate::error::{PluginErrorExt, PluginErrorKind};
use crate::isolate::process::{Proc, Runner};
use crate::plugin::lock;
use crate::wire;

// ---------------------------------------------------------------------------
// Bytes into a runner, on a thread of their own.

/// Pumps a reader's input into the runner (BYTES…, then END, or ERR with
/// the host's own error), and gives the runner's input back at the end.
pub(super) struct Pump {
    pub(super) handle: Option<JoinHandle<Option<std::io::BufWriter<std::process::ChildStdin>>>>,
    /// The host's own input error, if the input failed.
    pub(super) error: Arc<Mutex<Option<Error>>>,
}

impl Pump {
    pub(super) fn start(runner: &mut Runner, mut input: BoxRead) -> Result<Pump> {
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
    pub(super) fn host_error(&self) -> Option<Error> {
        lock(&self.error).take()
    }

    /// Waits for the input to be sent, and gives the runner's input back.
    pub(super) fn finish(&mut self, runner: &mut Runner) {
        if let Some(h) = self.handle.take()
            && let Ok(Some(w)) = h.join()
        {
            runner.input = Some(w);
        }
    }
}

// ---------------------------------------------------------------------------
// A runner's output forwarded into a sink, on a thread of its own.

pub(super) type OutputEnd = (
    Option<std::io::BufReader<std::process::ChildStdout>>,
    Option<BoxSink>,
    Result<()>,
);

/// Reads the runner's answer to a write: BYTES into the host's sink (for a
/// format's writer or a codec's encoder), then OK or ERR.
pub(super) fn forward(
    runner: &mut Runner,
    mut sink: Option<BoxSink>,
    name: &'static str,
) -> Result<Output> {
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
pub(super) struct Output(Option<JoinHandle<OutputEnd>>);

impl Output {
    /// Whether it stopped already (the runner answered before the end: an
    /// error, or it died).
    pub(super) fn stopped(&self) -> bool {
        self.0.as_ref().is_some_and(|h| h.is_finished())
    }

    /// Waits for the runner's answer, within the deadline; gives the
    /// runner its output back, and the host its sink.
    pub(super) fn end(&mut self, lease: &mut Lease) -> Result<Option<BoxSink>> {
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

pub(super) fn bad_frame(proc: &Proc, name: &str, what: &dyn std::fmt::Display) -> Error {
    proc.kill();
    Error::plugin(
        PluginErrorKind::Died,
        &proc.plugin,
        format!("its runner broke the protocol during {name} ({what}); it was stopped"),
    )
}
