//! Examining a plugin library in a child process.
//!
//! Loading a library runs its constructors: native code that may crash,
//! abort, exit or hang before any of our guards can help. So a library is
//! first loaded by a *scanner*, a child process that loads it, asks it to
//! describe itself, and prints the answer as one JSON line. If the child
//! dies, the host survives and records why (the signal, the exit status, or
//! the timeout) in the scan cache, where it stays until the file changes.
//!
//! The scanner is what the host is told, and nothing else:
//! [`HostBuilder::scanner`](crate::HostBuilder::scanner) with a program, or
//! [`HostBuilder::scan_with_current_exe`](crate::HostBuilder::scan_with_current_exe),
//! which runs the application's own executable as the scanner (its `main`
//! starts with [`run_scanner_if_requested`](crate::run_scanner_if_requested)).
//! Only a host that opted into the user's environment
//! ([`HostBuilder::user_environment`](crate::HostBuilder::user_environment))
//! also looks at `ITERABLEDATA_SCANNER`, then for `iterable-plugin-scanner`
//! beside the executable and on `PATH`. With no scanner, a library that must
//! be examined is an error that says so; examining in this process is an
//! explicit, `unsafe` choice ([`Scanner::in_process`]).

use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use iterable_core::Error;

use crate::catalog::manifest::Manifest;
use crate::error::{PluginErrorExt, PluginErrorKind};
use crate::loader;

/// The scanner program's name.
pub const SCANNER_NAME: &str = "iterable-plugin-scanner";
/// The environment variable naming a scanner program.
pub const ENV_SCANNER: &str = "ITERABLEDATA_SCANNER";
/// How long a scan may take by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The environment variable with a scan timeout in seconds (`2`, `0.5`).
pub const ENV_SCAN_TIMEOUT: &str = "ITERABLEDATA_SCAN_TIMEOUT";

/// The scan timeout from `ITERABLEDATA_SCAN_TIMEOUT`, if set and valid.
pub fn timeout_from_env() -> Option<Duration> {
    std::env::var(ENV_SCAN_TIMEOUT)
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
        .map(Duration::from_secs_f64)
}

pub use crate::proc::{ENV_SCANNER_CHILD, SCAN_ARG};

/// The line a scanner prints before it loads anything: a child whose
/// output lacks it never began to scan, so a failure is not the library's.
const STARTED: &str = "iterable-plugin-scan: started";

/// The exit status of an application that was started as its own scanner
/// and built a host instead (see [`ENV_SCANNER_CHILD`]).
const NOT_A_SCANNER_STATUS: i32 = 97;

/// Stops a process that was started as a scanner or runner but reached the
/// host's code without going through [`crate::run_scanner_if_requested`].
pub(crate) fn refuse_to_run_as_scanner_child() {
    let child = std::env::var_os(ENV_SCANNER_CHILD).is_some_and(|v| v == "1");
    if child && std::env::args_os().nth(1).is_some_and(|a| a == SCAN_ARG) {
        eprintln!(
            "iterable-host: this program was started as a plugin scanner ({SCAN_ARG}) and is building a host \
             instead: its main must call iterable_host::run_scanner_if_requested() first"
        );
        std::process::exit(NOT_A_SCANNER_STATUS);
    }
}

/// How libraries are examined before they are first loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scanner(Kind);

#[derive(Clone, Debug, PartialEq, Eq)]
enum Kind {
    /// Run this program with these leading arguments, then the library path.
    Program { path: PathBuf, args: Vec<OsString> },
    /// Load in this process (no crash containment).
    InProcess,
}

impl Scanner {
    /// Runs `path LIBRARY` (a scanner program such as `iterable-plugin-scanner`).
    pub fn program(path: impl Into<PathBuf>) -> Scanner {
        Scanner::program_with_args(path, Vec::<OsString>::new())
    }

    /// Runs `path ARGS… LIBRARY`.
    pub fn program_with_args<A: Into<OsString>>(
        path: impl Into<PathBuf>,
        args: impl IntoIterator<Item = A>,
    ) -> Scanner {
        Scanner(Kind::Program {
            path: path.into(),
            args: args.into_iter().map(Into::into).collect(),
        })
    }

    /// Runs this process's own executable as the scanner: its `main` must
    /// begin with [`crate::run_scanner_if_requested`].
    pub fn current_exe() -> std::io::Result<Scanner> {
        Ok(Scanner::program_with_args(
            std::env::current_exe()?,
            [SCAN_ARG],
        ))
    }

    /// Examines libraries in this process: a library that crashes, aborts
    /// or hangs while loading takes the process with it.
    ///
    /// # Safety
    ///
    /// Loading a library runs its initialisation code in this process,
    /// as `libloading::Library::new` does; the caller vouches for every
    /// library the host may examine.
    pub unsafe fn in_process() -> Scanner {
        Scanner(Kind::InProcess)
    }

    /// Whether this scanner loads libraries in this process.
    pub fn is_in_process(&self) -> bool {
        self.0 == Kind::InProcess
    }

    /// The program, for a scanner that runs one.
    pub fn program_path(&self) -> Option<&Path> {
        match &self.0 {
            Kind::Program { path, .. } => Some(path),
            Kind::InProcess => None,
        }
    }

    /// The program and its leading arguments, for a scanner that runs one
    /// (isolated plugins run in it too, in its runner mode).
    pub(crate) fn command(&self) -> Option<(&Path, &[OsString])> {
        match &self.0 {
            Kind::Program { path, args } => Some((path, args)),
            Kind::InProcess => None,
        }
    }

    /// The user's scanner: `ITERABLEDATA_SCANNER`, else
    /// `iterable-plugin-scanner` beside the running executable, else on
    /// `PATH`. Used only by hosts that opted into the user's environment.
    pub fn find() -> Option<Scanner> {
        if let Some(p) = std::env::var_os(ENV_SCANNER).filter(|p| !p.is_empty()) {
            return Some(Scanner::program(p));
        }
        let exe_name = format!("{SCANNER_NAME}{}", std::env::consts::EXE_SUFFIX);
        let beside = std::env::current_exe()
            .ok()
            .and_then(|e| e.parent().map(|d| d.join(&exe_name)))
            .filter(|p| p.is_file());
        let on_path = || {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|d| d.join(&exe_name))
                    .find(|p| p.is_file())
            })
        };
        beside.or_else(on_path).map(Scanner::program)
    }
}

/// The error for a library that must be examined by a host with no scanner.
pub(crate) fn no_scanner(lib: &Path, name: &str) -> Error {
    Error::plugin(
        PluginErrorKind::Scanner,
        name,
        format!(
            "{} must be examined before it is loaded, and this host has no scanner: \
             call HostBuilder::scan_with_current_exe() (with iterable_host::run_scanner_if_requested() \
             at the top of main), give HostBuilder::scanner a program, or choose the unsafe Scanner::in_process()",
            lib.display()
        ),
    )
}

/// What a scanner prints: one JSON object on one line.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "kebab-case")]
pub enum ScanReport {
    /// The library loaded and described itself.
    Ok {
        /// Its self-description.
        manifest: Box<Manifest>,
    },
    /// Loading it failed without crashing.
    Failed {
        /// The failure class.
        kind: PluginErrorKind,
        /// The reason.
        message: String,
    },
}

/// The scanner's side: loads `lib`, prints one JSON report, exits 0 (a
/// crash while loading is the only way it ends otherwise). `name` names the
/// plugin in messages.
pub fn scanner_main(lib: &Path) -> i32 {
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        if writeln!(out, "{STARTED}")
            .and_then(|_| out.flush())
            .is_err()
        {
            return 2;
        }
    }
    let name = crate::catalog::discovery::provisional_name_of(lib);
    // Examining describes everything, hooks included.
    let report = match loader::load(lib, &name).and_then(|l| l.description_with_hooks()) {
        Ok(description) => ScanReport::Ok {
            manifest: Box::new(description),
        },
        Err(e) => ScanReport::Failed {
            kind: e.plugin_kind().unwrap_or(PluginErrorKind::LoadFailed),
            message: e.message().to_owned(),
        },
    };
    match serde_json::to_string(&report) {
        Ok(line) => {
            println!("{line}");
            0
        }
        Err(_) => 2,
    }
}

/// Examines `lib` with `scanner`, within `timeout`. Any way the child can
/// fail becomes an error of kind [`PluginErrorKind::Crashed`] that says how.
pub fn scan(
    scanner: &Scanner,
    lib: &Path,
    name: &str,
    timeout: Duration,
) -> Result<Manifest, Error> {
    let (program, args) = match &scanner.0 {
        Kind::InProcess => {
            tracing::debug!(
                plugin = name,
                "examining {} in this process, as chosen",
                lib.display()
            );
            return loader::load(lib, name).and_then(|l| l.description_with_hooks());
        }
        Kind::Program { path, args } => (path, args),
    };
    let lib = std::path::absolute(lib).unwrap_or_else(|_| lib.to_path_buf());
    tracing::debug!(plugin = name, scanner = %program.display(), library = %lib.display(), "scanning in a child process");
    let mut child = Command::new(program)
        .args(args)
        .arg(&lib)
        .env(ENV_SCANNER_CHILD, "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            Error::plugin(
                PluginErrorKind::LoadFailed,
                name,
                format!("cannot start the plugin scanner {}: {e}", program.display()),
            )
        })?;
    // Read the pipes on threads so a chatty child cannot block on a full pipe.
    let mut out = child.stdout.take().expect("piped");
    let mut err = child.stderr.take().expect("piped");
    let out_t = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.by_ref().take(16 << 20).read_to_end(&mut s);
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.by_ref().take(1 << 20).read_to_end(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break Some(st),
            Ok(None) if start.elapsed() >= timeout => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(2)),
            Err(e) => {
                let _ = child.kill();
                return Err(Error::plugin(
                    PluginErrorKind::LoadFailed,
                    name,
                    format!("waiting for the plugin scanner failed: {e}"),
                ));
            }
        }
    };
    let stdout = out_t.join().unwrap_or_default();
    let stderr = err_t.join().unwrap_or_default();
    let crashed = |how: String| {
        let tail = last_line(&stderr)
            .strip_prefix("; it printed: ")
            .map(|l| format!(" (it printed: {l})"))
            .unwrap_or_default();
        Error::plugin(
            PluginErrorKind::Crashed,
            name,
            format!("{how} while loading{tail}"),
        )
    };
    let text = String::from_utf8_lossy(&stdout);
    // Whatever happened before the scanner began to scan is the program's
    // doing, not the library's.
    if !text.lines().any(|l| l == STARTED) {
        let how = match status {
            None => format!("did not begin within {} s, killed", timeout.as_secs_f32()),
            Some(st) if st.code() == Some(NOT_A_SCANNER_STATUS) => {
                "built a host instead".to_owned()
            }
            Some(st) => describe_exit(&st),
        };
        let tail = last_line(&stderr);
        return Err(Error::plugin(
            PluginErrorKind::Scanner,
            name,
            format!(
                "the scanner program {} did not act as a plugin scanner ({how}{tail}); the plugin was not examined. \
                 An application run as its own scanner must call iterable_host::run_scanner_if_requested() \
                 first thing in main",
                program.display()
            ),
        ));
    }
    let Some(status) = status else {
        return Err(crashed(format!(
            "hung: no answer within {} s, killed",
            timeout.as_secs_f32()
        )));
    };
    if !status.success() {
        return Err(crashed(describe_exit(&status)));
    }
    let line = text
        .lines()
        .rfind(|l| l.trim_start().starts_with('{'))
        .unwrap_or("");
    match serde_json::from_str::<ScanReport>(line) {
        Ok(ScanReport::Ok { manifest }) => Ok(*manifest),
        Ok(ScanReport::Failed { kind, message }) => Err(Error::plugin(kind, name, message)),
        // A library that exits 0 from its constructor never reaches the report.
        Err(_) => Err(crashed(
            "ended the process without an answer (exit status 0)".into(),
        )),
    }
}

/// `; it printed: LINE` for the last line a child wrote on stderr, or
/// nothing.
fn last_line(stderr: &[u8]) -> String {
    String::from_utf8_lossy(stderr)
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .map(|l| format!("; it printed: {}", l.chars().take(200).collect::<String>()))
        .unwrap_or_default()
}

/// How a scanner ended without a report: `crashed: killed by signal 11
/// (SIGSEGV)`, `ended the process: exited with status 3`.
fn describe_exit(status: &std::process::ExitStatus) -> String {
    let how = crate::proc::describe_status(status);
    match crate::proc::signal_of(status) {
        Some(_) => format!("crashed: {how}"),
        None => format!("ended the process: {how}"),
    }
}
