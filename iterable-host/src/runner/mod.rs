//! The runner: the child side of isolation. A runner process (the scanner
//! program in its runner mode, [`crate::run_as_child`]) loads one plugin,
//! sandboxes itself ([`sandbox`], Linux), and serves the plugin's calls over
//! its pipes in the protocol of [`crate::wire`]. It imports the loading
//! modules and nothing above them; the host's side is [`crate::isolate`].
//! It serves the host's calls one at a time, until its input closes.
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

mod frames;
mod sandbox;
mod server;

use frames::*;
use server::*;

/// Runs as a runner with the JSON `spec` the host gave; returns the exit
/// status. Called by the scanner program when its arguments say
/// [`SERVE_ARG`](crate::proc::SERVE_ARG).
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
    let sandbox = sandbox::apply(&spec);
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
