//! Helpers shared by the end-to-end tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The `iterable-host` binary under test.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_iterable-host"))
}

/// The result of one run of the binary.
pub struct Run {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(o: Output) -> Run {
        Run {
            status: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    /// Asserts success and returns stdout.
    pub fn ok(self) -> String {
        assert_eq!(self.status, 0, "command failed: {}", self.stderr);
        self.stdout
    }

    /// Asserts failure with a single-line error and returns it.
    pub fn err(self) -> String {
        assert_ne!(
            self.status, 0,
            "command unexpectedly succeeded: {}",
            self.stdout
        );
        assert!(!self.stderr.contains("panicked"), "panic: {}", self.stderr);
        let line = self.stderr.trim_end().to_owned();
        assert_eq!(line.lines().count(), 1, "error should be one line: {line}");
        line
    }
}

/// A command for the binary, isolated from the user's home and environment.
pub fn command(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(bin());
    c.args(args)
        .current_dir(dir)
        .env("HOME", dir.join("home"))
        .env("XDG_CACHE_HOME", dir.join("cache"))
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .env_remove("ITERABLEDATA_PLUGIN_PATH")
        .env_remove("ITERABLEDATA_NO_PLUGINS")
        .env_remove("RUST_LOG");
    c
}

/// Runs the binary in `dir` with `args`.
pub fn run(dir: &Path, args: &[&str]) -> Run {
    Run::from(
        command(dir, args)
            .stdin(Stdio::null())
            .output()
            .expect("run iterable-host"),
    )
}

/// Runs the binary with `input` on stdin.
pub fn run_stdin(dir: &Path, args: &[&str], input: &[u8]) -> Run {
    use std::io::Write;
    let mut child = command(dir, args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn iterable-host");
    child.stdin.take().unwrap().write_all(input).unwrap();
    Run::from(child.wait_with_output().unwrap())
}

/// Parses JSON lines.
pub fn json_lines(s: &str) -> Vec<serde_json::Value> {
    s.lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

/// gzip-compresses bytes.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// A test plugin library built by cargo (a dev-dependency of this package).
pub fn plugin_lib(crate_name: &str) -> PathBuf {
    let deps = bin().parent().unwrap().join("deps");
    let file = format!(
        "{}{crate_name}{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    let p = deps.join(&file);
    assert!(p.exists(), "{} was not built", p.display());
    p
}

/// The scanner program built with the host.
pub fn scanner() -> iterable_host::Scanner {
    iterable_host::Scanner::Program {
        path: PathBuf::from(env!("CARGO_BIN_EXE_iterable-plugin-scanner")),
        args: Vec::new(),
    }
}
