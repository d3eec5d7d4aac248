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
    /// The result of a finished process.
    pub fn from(o: Output) -> Run {
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
    command_of(&bin(), dir, args)
}

/// A command for another build of the binary (a previous release's),
/// isolated the same way.
pub fn command_of(program: &Path, dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(program);
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
    let child = command(dir, args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn iterable-host");
    wait(child, args)
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
    wait(child, args)
}

/// How long one run of the binary may take before the test fails
/// (`ITERABLE_TEST_TIMEOUT` seconds, 300 by default): a hung run fails its
/// test with its arguments instead of stalling the whole suite.
fn run_timeout() -> std::time::Duration {
    let secs = std::env::var("ITERABLE_TEST_TIMEOUT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    std::time::Duration::from_secs(secs)
}

/// Waits for `child`, killing it if it outlives [`run_timeout`].
fn wait(child: std::process::Child, args: &[&str]) -> Run {
    let pid = child.id();
    let (done, watch) = std::sync::mpsc::channel::<()>();
    let limit = run_timeout();
    let watchdog = std::thread::spawn(move || {
        let timed_out = matches!(
            watch.recv_timeout(limit),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout)
        );
        if timed_out {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
        timed_out
    });
    let out = child.wait_with_output().expect("wait for iterable-host");
    let _ = done.send(());
    let timed_out = watchdog.join().unwrap_or(false);
    assert!(
        !timed_out,
        "iterable-host {args:?} ran longer than {limit:?} and was killed; stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Run::from(out)
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

/// A plugin directory `dir` with the ltsv library and a manifest that
/// differs from it on two points: one extension more (`log`), and
/// `write = false` for a format the library writes. Returns the library.
pub fn ltsv_with_a_lying_manifest(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let lib = plugin_lib("iterable_plugin_ltsv");
    std::fs::copy(&lib, dir.join(lib.file_name().unwrap())).unwrap();
    let manifest = std::fs::read_to_string(workspace().join("plugins-examples/ltsv/plugin.toml"))
        .unwrap()
        .replace(
            "extensions = [\"ltsv\"]",
            "extensions = [\"ltsv\", \"log\"]",
        )
        .replace("write = true", "write = false");
    std::fs::write(dir.join("plugin.toml"), manifest).unwrap();
    lib
}

/// The scanner program built with the host.
pub fn scanner() -> iterable_host::Scanner {
    iterable_host::Scanner::program(env!("CARGO_BIN_EXE_iterable-plugin-scanner"))
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

/// The commit of the 1.0 release, whose sources (taken from this
/// repository's own history) build the "previous release" binaries of the
/// compatibility tests.
pub const RELEASE_1_0: &str = "792c8e27c0fc831c0e3bacbf21d0ef0f9138249f";

/// The whole source tree of the 1.0 release, extracted once from git into
/// `target/fixtures/release-1.0` (test binaries running at once each
/// extract into a scratch folder and rename it into place).
pub fn release_1_0() -> PathBuf {
    let dir = fixtures_root().join("release-1.0");
    if dir.join("Cargo.toml").is_file() {
        return dir;
    }
    let scratch = fixtures_root().join(format!("release-1.0.{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).unwrap();
    let archive = Command::new("git")
        .arg("-C")
        .arg(workspace())
        .args(["archive", "--format=tar", RELEASE_1_0])
        .output()
        .expect("run git");
    assert!(
        archive.status.success(),
        "the 1.0 release ({RELEASE_1_0}) is not in this clone's history (a shallow clone?): {}",
        String::from_utf8_lossy(&archive.stderr)
    );
    let mut tar = Command::new("tar")
        .arg("-x")
        .arg("-C")
        .arg(&scratch)
        .stdin(Stdio::piped())
        .spawn()
        .expect("run tar");
    {
        use std::io::Write;
        tar.stdin
            .take()
            .unwrap()
            .write_all(&archive.stdout)
            .unwrap();
    }
    assert!(tar.wait().unwrap().success(), "tar failed");
    if std::fs::rename(&scratch, &dir).is_err() {
        // Another test binary put it there first.
        let _ = std::fs::remove_dir_all(&scratch);
    }
    dir
}

/// Binaries built from the 1.0 release's own sources: its `iterable-host`
/// and the example plugins `ltsv`, `lz4` and `idrules`, in a target
/// directory of their own. Returns that directory's `debug` folder.
pub fn release_1_0_binaries() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let src = release_1_0();
            let target = fixtures_root().join("release-1.0-target");
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            // Target selection flags apply to every package named, so the
            // binary and the plugin libraries are two builds.
            for targets in [
                &["-p", "iterable-host", "--bin", "iterable-host"][..],
                &[
                    "-p",
                    "iterable-plugin-ltsv",
                    "-p",
                    "iterable-plugin-lz4",
                    "-p",
                    "iterable-plugin-idrules",
                    "--lib",
                ][..],
            ] {
                let out = Command::new(&cargo)
                    .args(["build", "--quiet", "--manifest-path"])
                    .arg(src.join("Cargo.toml"))
                    .args(targets)
                    .env("CARGO_TARGET_DIR", &target)
                    .env("CARGO_PROFILE_DEV_DEBUG", "false")
                    .env_remove("RUSTFLAGS")
                    .output()
                    .expect("run cargo");
                assert!(
                    out.status.success(),
                    "building the 1.0 release failed:\n{}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            target.join("debug")
        })
        .clone()
}

/// A crate of the 1.0 release, copied out of its workspace: the keys it
/// inherited from the workspace are written out.
fn detached_release_crate(name: &str, to: &Path) {
    let from = release_1_0().join(name);
    let _ = std::fs::remove_dir_all(to);
    copy_dir(&from, to);
    let toml = std::fs::read_to_string(to.join("Cargo.toml")).unwrap();
    let detached = toml
        .replace("edition.workspace = true", "edition = \"2024\"")
        .replace("rust-version.workspace = true", "rust-version = \"1.85\"")
        .replace(
            "license.workspace = true",
            "license = \"MIT OR Apache-2.0\"",
        )
        .replace("repository.workspace = true\n", "")
        .replace("authors.workspace = true\n", "")
        .replace("abi_stable.workspace = true", "abi_stable = \"0.11.3\"")
        .replace("[lints]\nworkspace = true\n", "")
        // The layout-check fixtures need nothing but the library.
        .split("\n[[example]]")
        .next()
        .unwrap()
        .to_owned();
    std::fs::write(to.join("Cargo.toml"), detached).unwrap();
}

/// Sets the package version of the interface copy in `dir` (from 1.0.0).
fn set_version(dir: &Path, version: &str) {
    let toml = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    let changed = toml.replace("version = \"1.0.0\"", &format!("version = \"{version}\""));
    std::fs::write(dir.join("Cargo.toml"), changed).unwrap();
}

/// The 1.0 interface as released (`iterable-plugin-api` at
/// [`RELEASE_1_0`]), and variants of it: `"2.0"` (version 2.0.0),
/// `"changed"` (1.0.0 with two PluginMetadata fields swapped) and
/// `"1.1-appended"` (1.1.0 with a method appended to `FormatProvider`).
pub fn interface(variant: &str) -> PathBuf {
    let dir = fixtures_root().join(format!("api-{variant}"));
    detached_release_crate("iterable-plugin-api", &dir);
    match variant {
        "1.0" => {}
        "2.0" => set_version(&dir, "2.0.0"),
        "changed" => {
            let abi = std::fs::read_to_string(dir.join("src/abi.rs")).unwrap();
            let (author, license) = ("    pub author: RString,", "    pub license: RString,");
            assert!(
                abi.contains(author) && abi.contains(license),
                "the 1.0 release changed shape"
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
            assert!(abi.contains(last), "the 1.0 release changed shape");
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

/// A temporary directory to run the binary in, with its plugins under
/// `plugins/` (each test file installs what it needs).
pub struct Site {
    dir: tempfile::TempDir,
    /// Environment variables set for every run.
    env: Vec<(String, String)>,
}

impl Site {
    /// An empty directory.
    pub fn new() -> Site {
        Site {
            dir: tempfile::tempdir().unwrap(),
            env: Vec::new(),
        }
    }

    /// Sets `key` to `value` in the environment of every later run.
    pub fn set_env(&mut self, key: &str, value: &str) {
        self.env.push((key.to_owned(), value.to_owned()));
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs the binary there with `--plugin-dir plugins` first.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_stdin(args, b"")
    }

    /// [`Site::run`] with `input` on stdin.
    pub fn run_stdin(&self, args: &[&str], input: &[u8]) -> Run {
        use std::io::Write;
        let mut all = vec!["--plugin-dir", "plugins"];
        all.extend_from_slice(args);
        let mut c = command(self.path(), &all);
        c.envs(self.env.iter().map(|(k, v)| (k, v)));
        let mut child = c
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn iterable-host");
        // A command that does not read its input may close it first.
        let _ = child.stdin.take().unwrap().write_all(input);
        wait(child, &all)
    }

    /// A file of the directory, as text.
    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path().join(name)).unwrap()
    }

    /// The plugin `name` as `list-plugins --json` shows it.
    pub fn listed(&self, name: &str) -> serde_json::Value {
        let all: serde_json::Value =
            serde_json::from_str(&self.run(&["list-plugins", "--json"]).ok()).unwrap();
        all.as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("no plugin {name} in {all}"))
            .clone()
    }
}
