//! The host's side of a runner process: starting it, talking to it with a
//! deadline, and saying why it died.

use std::io::{BufReader, BufWriter, Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use iterable_core::Error;

use crate::error::{PluginErrorExt, PluginErrorKind};
use crate::policy::Limits;
use crate::proc::SERVE_ARG;
use crate::wire::{self, Call, Ready, Spec, WireError};

use crate::plugin::lock;

/// How much of a runner's stderr is kept, for the message when it dies.
const STDERR_TAIL: usize = 8 << 10;

/// A runner process, shared by whoever talks to it.
pub(crate) struct Proc {
    pub plugin: String,
    pid: u32,
    child: Mutex<Option<Child>>,
    /// How it ended, once known.
    ended: Mutex<Option<Ended>>,
    stderr: Arc<Mutex<Vec<u8>>>,
    watch: Option<Arc<Watch>>,
    timeout: Option<Duration>,
    memory_limit: Option<u64>,
    /// Whether its sandbox is on (a permission error then gets a hint).
    sandboxed: std::sync::atomic::AtomicBool,
    /// How to grant it more, for that hint.
    grant: String,
    _scratch: Option<tempfile::TempDir>,
}

#[derive(Clone, Copy, Debug)]
struct Ended {
    /// The raw wait status.
    status: i32,
    /// Its peak resident memory, in bytes.
    max_rss: u64,
}

/// One runner with its pipes.
pub(crate) struct Runner {
    pub proc: Arc<Proc>,
    /// Its input; lent to a thread that pumps bytes into it, meanwhile.
    pub input: Option<BufWriter<ChildStdin>>,
    /// Its output; lent to a thread that forwards a writer's output, meanwhile.
    pub output: Option<BufReader<ChildStdout>>,
}

/// The per-call deadline: armed while the host waits for the runner, it
/// kills the runner when the wait lasts longer than the timeout.
struct Watch {
    state: Mutex<WatchState>,
    wake: Condvar,
}

#[derive(Default)]
struct WatchState {
    since: Option<Instant>,
    fired: bool,
    stop: bool,
}

impl Watch {
    fn start(pid: u32, timeout: Duration) -> Arc<Watch> {
        let w = Arc::new(Watch {
            state: Mutex::new(WatchState::default()),
            wake: Condvar::new(),
        });
        let watch = Arc::clone(&w);
        let _ = std::thread::Builder::new()
            .name("plugin-deadline".into())
            .spawn(move || {
                let mut s = lock(&watch.state);
                loop {
                    if s.stop || s.fired {
                        return;
                    }
                    s = match s.since {
                        None => watch.wake.wait(s).unwrap_or_else(|p| p.into_inner()),
                        Some(t) if t.elapsed() >= timeout => {
                            kill(pid);
                            s.fired = true;
                            return;
                        }
                        Some(t) => {
                            let left = timeout.saturating_sub(t.elapsed());
                            watch
                                .wake
                                .wait_timeout(s, left)
                                .map(|(g, _)| g)
                                .unwrap_or_else(|p| p.into_inner().0)
                        }
                    };
                }
            });
        w
    }
}

fn kill(pid: u32) {
    #[cfg(unix)]
    // SAFETY: signalling our own child, which is not reaped before its
    // `Proc` is dropped (so the pid is not reused meanwhile).
    unsafe {
        libc::kill(pid as libc::pid_t, libc::SIGKILL);
    }
    #[cfg(not(unix))]
    let _ = pid;
}

impl Proc {
    /// Marks the start of a wait for the runner (the deadline runs).
    pub fn arm(&self) {
        if let Some(w) = &self.watch {
            let mut s = lock(&w.state);
            let was = s.since.replace(Instant::now());
            if was.is_none() {
                w.wake.notify_one();
            }
        }
    }

    /// Marks the end of a wait.
    pub fn disarm(&self) {
        if let Some(w) = &self.watch {
            lock(&w.state).since = None;
        }
    }

    /// The runner is making progress (it took input): the deadline starts
    /// again.
    pub fn touch(&self) {
        if let Some(w) = &self.watch {
            let mut s = lock(&w.state);
            if s.since.is_some() {
                s.since = Some(Instant::now());
            }
        }
    }

    /// Says whether its sandbox is on.
    pub fn set_sandboxed(&self, yes: bool) {
        self.sandboxed
            .store(yes, std::sync::atomic::Ordering::Relaxed);
    }

    /// A plugin's error, with a hint when the sandbox may be why.
    pub fn explain(&self, e: Error) -> Error {
        let denied =
            e.message().contains("Permission denied") || e.message().contains("os error 13");
        if denied && self.sandboxed.load(std::sync::atomic::Ordering::Relaxed) {
            e.with_hint(&self.grant)
        } else {
            e
        }
    }

    /// Whether the runner is still running (one waiting for a call may have
    /// been killed from outside meanwhile).
    pub fn alive(&self) -> bool {
        if lock(&self.ended).is_some() {
            return false;
        }
        match wait4(self.pid, true) {
            None => true,
            Some(e) => {
                self.reaped(e);
                false
            }
        }
    }

    /// Kills the runner (it is not answering, or what it was doing was
    /// abandoned).
    pub fn kill(&self) {
        if lock(&self.ended).is_none() {
            kill(self.pid);
        }
    }

    /// Waits for the runner to end, up to `patience`, then kills it; returns
    /// how it ended.
    fn reap(&self, patience: Duration) -> Ended {
        if let Some(e) = *lock(&self.ended) {
            return e;
        }
        let start = Instant::now();
        let ended = loop {
            match wait4(self.pid, start.elapsed() < patience) {
                Some(e) => break e,
                None if start.elapsed() >= patience => kill(self.pid),
                None => std::thread::sleep(Duration::from_millis(1)),
            }
        };
        self.reaped(ended);
        ended
    }

    /// Records how the reaped runner ended; std must not wait for it again.
    fn reaped(&self, ended: Ended) {
        if let Some(child) = lock(&self.child).take() {
            std::mem::forget(child);
        }
        *lock(&self.ended) = Some(ended);
    }

    /// The error for a call during which the runner died or stopped
    /// answering: names the plugin, the call and the cause.
    pub fn died(&self, call: &str) -> Error {
        let ended = self.reap(Duration::from_secs(2));
        // The stderr reader gets what the runner printed last.
        std::thread::sleep(Duration::from_millis(5));
        let stderr = String::from_utf8_lossy(&lock(&self.stderr)).into_owned();
        let fired = self.watch.as_ref().is_some_and(|w| lock(&w.state).fired);
        let cause = if fired {
            format!(
                "no answer within {} s, killed",
                self.timeout.map_or(0.0, |t| t.as_secs_f64())
            )
        } else if let Some(limit) = self.memory_limit.filter(|l| {
            stderr.contains("memory allocation of")
                || stderr.contains("out of memory")
                || (signal_of(ended.status).is_some() && ended.max_rss.saturating_mul(4) >= l * 3)
        }) {
            format!("out of memory (over its limit of {})", human_bytes(limit))
        } else {
            describe_status(ended.status)
        };
        // What it printed last, unless the cause says it all: a panic's or
        // an error's line, not a backtrace's.
        let oom = cause.starts_with("out of memory");
        let printed = stderr
            .lines()
            .filter(|l| !l.starts_with(char::is_whitespace) && !l.starts_with("note:"))
            .map(str::trim)
            .rfind(|l| !l.is_empty() && l.len() > 3)
            .filter(|_| !fired && !oom)
            .map(|l| format!(" (it printed: {})", l.chars().take(200).collect::<String>()))
            .unwrap_or_default();
        tracing::debug!(plugin = %self.plugin, call, %cause, "isolated plugin died");
        Error::plugin(
            PluginErrorKind::Died,
            &self.plugin,
            format!("died during {call}: {cause}{printed}"),
        )
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Some(w) = &self.watch {
            lock(&w.state).stop = true;
            w.wake.notify_one();
        }
        if lock(&self.ended).is_none() {
            kill(self.pid);
            self.reap(Duration::from_secs(5));
        }
    }
}

/// `waitpid` with the child's resource use; `None` while it runs (when
/// `nohang`).
fn wait4(pid: u32, nohang: bool) -> Option<Ended> {
    #[cfg(unix)]
    {
        let mut status = 0;
        // SAFETY: plain out-parameters.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let flags = if nohang { libc::WNOHANG } else { 0 };
        // SAFETY: waiting for our own child.
        let r = unsafe { libc::wait4(pid as libc::pid_t, &mut status, flags, &mut usage) };
        match r {
            0 => None,
            r if r < 0 => Some(Ended {
                status: 0,
                max_rss: 0,
            }),
            _ => Some(Ended {
                status,
                max_rss: (usage.ru_maxrss.max(0) as u64) * 1024,
            }),
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (pid, nohang);
        Some(Ended {
            status: 0,
            max_rss: 0,
        })
    }
}

fn signal_of(status: i32) -> Option<i32> {
    #[cfg(unix)]
    {
        libc::WIFSIGNALED(status).then(|| libc::WTERMSIG(status))
    }
    #[cfg(not(unix))]
    {
        let _ = status;
        None
    }
}

/// How a runner ended, from its raw wait status.
fn describe_status(status: i32) -> String {
    #[cfg(unix)]
    let code = (!libc::WIFSIGNALED(status)).then(|| libc::WEXITSTATUS(status));
    #[cfg(not(unix))]
    let code = Some(status);
    crate::proc::describe_end(signal_of(status), code)
}

fn human_bytes(n: u64) -> String {
    const MIB: u64 = 1 << 20;
    if n >= 1 << 30 && n % (1 << 30) == 0 {
        format!("{} GiB", n >> 30)
    } else if n >= MIB {
        format!("{} MiB", n / MIB)
    } else {
        format!("{n} bytes")
    }
}

impl Runner {
    /// Starts a runner: `program ARGS… --serve SPEC`, and reads what it
    /// says first.
    pub fn spawn(
        program: &std::path::Path,
        args: &[std::ffi::OsString],
        spec: &Spec,
        limits: &Limits,
        scratch: Option<tempfile::TempDir>,
    ) -> Result<(Runner, Ready), Error> {
        let fail = |m: String| Error::plugin(PluginErrorKind::LoadFailed, &spec.name, m);
        let spec_json = serde_json::to_string(spec).map_err(|e| fail(e.to_string()))?;
        let mut command = Command::new(program);
        if let Some(s) = &spec.scratch {
            // Where the plugin's temporary files go: the one place it may write.
            command.env("TMPDIR", s);
        }
        let mut child = command
            .env(crate::scan::ENV_SCANNER_CHILD, "1")
            .args(args)
            .arg(SERVE_ARG)
            .arg(&spec_json)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| {
                fail(format!(
                    "cannot start the plugin runner {}: {e}",
                    program.display()
                ))
            })?;
        let pid = child.id();
        let input = child.stdin.take().expect("piped");
        let output = child.stdout.take().expect("piped");
        let mut err = child.stderr.take().expect("piped");
        grow_pipe(&input);
        grow_pipe(&output);
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let tail = Arc::clone(&stderr);
        let plugin = spec.name.clone();
        let _ = std::thread::Builder::new()
            .name("plugin-stderr".into())
            .spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = err.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    for line in String::from_utf8_lossy(&buf[..n]).lines() {
                        if !line.trim().is_empty() {
                            tracing::debug!(plugin = %plugin, "runner: {line}");
                        }
                    }
                    let mut t = lock(&tail);
                    t.extend_from_slice(&buf[..n]);
                    if t.len() > STDERR_TAIL {
                        let cut = t.len() - STDERR_TAIL;
                        t.drain(..cut);
                    }
                }
            });
        let proc = Arc::new(Proc {
            plugin: spec.name.clone(),
            pid,
            child: Mutex::new(Some(child)),
            ended: Mutex::new(None),
            stderr,
            watch: limits.timeout.map(|t| Watch::start(pid, t)),
            timeout: limits.timeout,
            memory_limit: limits.memory_limit,
            sandboxed: std::sync::atomic::AtomicBool::new(false),
            grant: limits.grant_hint(&spec.name),
            _scratch: scratch,
        });
        let mut output = BufReader::with_capacity(256 << 10, output);
        let mut buf = Vec::new();
        proc.arm();
        let first = wire::read_frame(&mut output, &mut buf);
        proc.disarm();
        let runner = Runner {
            proc,
            input: Some(BufWriter::with_capacity(256 << 10, input)),
            output: Some(output),
        };
        match first {
            Ok(wire::READY) => {
                let ready: Ready = wire::json(&buf).map_err(|e| fail(e.to_string()))?;
                Ok((runner, ready))
            }
            Ok(wire::ERR) => {
                let e = wire::json::<WireError>(&buf)
                    .map(WireError::into_error)
                    .unwrap_or_else(|e| fail(e.to_string()));
                Err(e.with_plugin(&spec.name))
            }
            Ok(t) => Err(fail(format!("the runner said {t} before it was ready"))),
            Err(_) => {
                let e = runner.proc.died("loading");
                Err(e)
            }
        }
    }

    /// Sends a call.
    pub fn call(&mut self, call: &Call, name: &str) -> Result<(), Error> {
        let text = serde_json::to_vec(call).map_err(|e| self.confused(name, &e))?;
        self.send(wire::CALL, &[&text], name)
    }

    /// Sends a frame (flushed), within the deadline.
    pub fn send(&mut self, tag: u8, parts: &[&[u8]], name: &str) -> Result<(), Error> {
        let Some(input) = self.input.as_mut() else {
            return Err(self.confused(name, &"its input is lent"));
        };
        self.proc.arm();
        let r = wire::write_frame(input, tag, parts).and_then(|_| input.flush());
        self.proc.disarm();
        r.map_err(|_| self.proc.died(name))
    }

    /// Reads the next frame, within the deadline.
    pub fn recv(&mut self, buf: &mut Vec<u8>, name: &str) -> Result<u8, Error> {
        let Some(output) = self.output.as_mut() else {
            return Err(self.confused(name, &"its output is lent"));
        };
        self.proc.arm();
        let r = wire::read_frame(output, buf);
        self.proc.disarm();
        r.map_err(|_| self.proc.died(name))
    }

    /// Reads the answer to a call: its JSON, or the error it sent.
    pub fn answer<T: for<'de> serde::Deserialize<'de>>(&mut self, name: &str) -> Result<T, Error> {
        let mut buf = Vec::new();
        match self.recv(&mut buf, name)? {
            wire::OK => wire::json(&buf).map_err(|e| self.confused(name, &e)),
            wire::ERR => Err(self.error(&buf, name)),
            t => Err(self.confused(name, &format!("frame {t}"))),
        }
    }

    /// The error an ERR frame carries.
    pub fn error(&self, buf: &[u8], name: &str) -> Error {
        match wire::json::<WireError>(buf) {
            Ok(e) => self
                .proc
                .explain(e.into_error().with_plugin(&self.proc.plugin)),
            Err(e) => self.confused(name, &e),
        }
    }

    /// The error for a runner that says something out of turn.
    pub fn confused(&self, name: &str, what: &dyn std::fmt::Display) -> Error {
        self.proc.kill();
        Error::plugin(
            PluginErrorKind::Died,
            &self.proc.plugin,
            format!("its runner broke the protocol during {name} ({what}); it was stopped"),
        )
    }
}

/// The hint for a permission error of a sandboxed runner.
trait Hint {
    fn with_hint(self, grant: &str) -> Self;
}

impl Hint for Error {
    fn with_hint(self, grant: &str) -> Error {
        self.with_note(format_args!(
            "the sandbox of isolated plugins denies it; {grant}"
        ))
    }
}

/// Pipes of 1 MiB, so that a runner can run a few batches ahead.
#[cfg(target_os = "linux")]
fn grow_pipe(fd: &impl std::os::fd::AsRawFd) {
    // SAFETY: F_SETPIPE_SZ on a pipe we own; failure leaves it as it was.
    unsafe {
        libc::fcntl(fd.as_raw_fd(), libc::F_SETPIPE_SZ, 1 << 20);
    }
}

#[cfg(not(target_os = "linux"))]
fn grow_pipe<T>(_: &T) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_print_with_their_units() {
        assert_eq!(human_bytes(256 << 20), "256 MiB");
        assert_eq!(human_bytes(2 << 30), "2 GiB");
    }
}
