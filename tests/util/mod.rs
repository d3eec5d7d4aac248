//! Helpers shared by the end-to-end tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The `iterable-host` binary under test.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_iterable-host"))
}

/// Runs the binary in `dir` with `LD_DEBUG=files`, which must succeed, and
/// returns its stderr: the dynamic loader's trace of every library opened.
pub fn ld_trace(dir: &Path, args: &[&str]) -> String {
    let run = Run::from(
        command(dir, args)
            .env("LD_DEBUG", "files")
            .output()
            .unwrap(),
    );
    assert_eq!(run.status, 0, "command failed: {}", run.stderr);
    run.stderr
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
        // The host's own panics (a plugin's contained panic is an error like any other).
        assert!(
            !self.stderr.contains("internal error") && !self.stderr.contains("thread '"),
            "the host panicked: {}",
            self.stderr
        );
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

/// The workspace root (these tests belong to `iterable-host/cli`).
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Where out-of-tree fixture plugins are built (one shared target
/// directory, so abi_stable is compiled once for all of them).
pub fn fixtures_root() -> PathBuf {
    let root = workspace().join("target").join("fixtures");
    std::fs::create_dir_all(&root).unwrap();
    root
}

/// Builds a cdylib from `lib_src` against the interface crate at `api`,
/// in a workspace of its own named `name`, with `features`, and returns a
/// copy of the library that later builds will not overwrite.
pub fn build_out_of_tree(name: &str, lib_src: &Path, api: &Path, features: &[&str]) -> PathBuf {
    let root = fixtures_root();
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let feature_table: String = features.iter().map(|f| format!("{f} = []\n")).collect();
    let toml = format!(
        "[package]\nname = \"fixture-{name}\"\nversion = \"1.0.0\"\nedition = \"2024\"\npublish = false\n\n\
         [lib]\npath = {src:?}\ncrate-type = [\"cdylib\"]\n\n\
         [dependencies]\niterable-plugin-api = {{ path = {api:?} }}\n\n[features]\n{feature_table}\n[workspace]\n\n\
         [profile.dev]\ndebug = false\n",
        src = lib_src,
        api = api,
    );
    std::fs::write(dir.join("Cargo.toml"), toml).unwrap();
    // The workspace's lock file pins the versions the main build fetched.
    std::fs::copy(workspace().join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "--quiet", "--manifest-path"])
        .arg(dir.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", root.join("target"))
        .env_remove("RUSTFLAGS");
    if !features.is_empty() {
        cmd.args(["--features", &features.join(",")]);
    }
    let out = cmd.output().expect("run cargo");
    assert!(
        out.status.success(),
        "building fixture {name} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let built = root.join("target/debug").join(format!(
        "{}fixture_{}{}",
        std::env::consts::DLL_PREFIX,
        name.replace('-', "_"),
        std::env::consts::DLL_SUFFIX
    ));
    let kept = root.join(format!("{name}{}", std::env::consts::DLL_SUFFIX));
    std::fs::copy(&built, &kept).unwrap_or_else(|e| panic!("{}: {e}", built.display()));
    kept
}

/// Copies a directory tree.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

/// Sets the package version of the interface copy in `dir` (from 1.0.0).
fn set_version(dir: &Path, version: &str) {
    let toml = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    let changed = toml.replace("version = \"1.0.0\"", &format!("version = \"{version}\""));
    std::fs::write(dir.join("Cargo.toml"), changed).unwrap();
}

/// The frozen 1.0 interface, and generated variants of it: `"2.0"` (version
/// 2.0.0), `"changed"` (1.0.0 with two PluginMetadata fields swapped) and
/// `"1.1-appended"` (1.1.0 with a method appended to `FormatProvider`).
pub fn interface(variant: &str) -> PathBuf {
    let frozen = workspace().join("tests/abi/iterable-plugin-api-1.0");
    if variant == "1.0" {
        return frozen;
    }
    let dir = fixtures_root().join(format!("api-{variant}"));
    let _ = std::fs::remove_dir_all(&dir);
    copy_dir(&frozen, &dir);
    match variant {
        "2.0" => set_version(&dir, "2.0.0"),
        "changed" => {
            let abi = std::fs::read_to_string(dir.join("src/abi.rs")).unwrap();
            let (author, license) = ("    pub author: RString,", "    pub license: RString,");
            assert!(
                abi.contains(author) && abi.contains(license),
                "the frozen copy changed shape"
            );
            // Same size, same types: only the order of two fields differs.
            let swapped = abi
                .replacen(author, "    pub AUTHOR_SLOT: RString,", 1)
                .replacen(license, author, 1)
                .replacen("    pub AUTHOR_SLOT: RString,", license, 1);
            std::fs::write(dir.join("src/abi.rs"), swapped).unwrap();
        }
        "1.1-appended" => {
            // A later minor version with a method appended to a trait
            // object after its last 1.0 method (a plugin newer than the host).
            set_version(&dir, "1.1.0");
            let abi = std::fs::read_to_string(dir.join("src/abi.rs")).unwrap();
            let last = "    fn open_writer(&self, sink: ByteSinkBox, options: ROptions) -> RResult<RecordSinkBox, RError>;\n";
            assert!(abi.contains(last), "the frozen copy changed shape");
            let appended = format!(
                "{last}    /// Appended in the copy.\n    fn appended(&self) -> RResult<u32, RError> {{\n        \
                 RResult::RErr(RError::new(crate::error::RErrorKind::UNSUPPORTED, \"no\"))\n    }}\n"
            );
            std::fs::write(dir.join("src/abi.rs"), abi.replacen(last, &appended, 1)).unwrap();
        }
        other => panic!("unknown interface variant {other}"),
    }
    dir
}
