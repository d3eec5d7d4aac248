//! ABI compatibility, with plugins built outside the workspace:
//! * against the frozen 1.0 copy of the interface: it loads and works;
//! * against a copy whose version is 2.0.0: refused as a version mismatch;
//! * against a 1.0.0 copy whose types differ: refused as an ABI mismatch,
//!   with a short message (never abi_stable's layout dump).
//!
//! The three plugins are built by nested `cargo build`s that share one
//! target directory under the workspace's `target/`, so abi_stable is
//! compiled once for all of them.

mod util;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use iterable_core::{OpenOptions, PluginErrorKind, Record};
use iterable_host::{Host, Status};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            fs::copy(e.path(), dest).unwrap();
        }
    }
}

/// Builds the compat plugin against the interface crate at `api`, in a
/// workspace of its own named `name`, and returns the library.
fn build_plugin(root: &Path, name: &str, api: &Path) -> PathBuf {
    let dir = root.join(name);
    fs::create_dir_all(&dir).unwrap();
    let src = workspace().join("tests/abi/compat-plugin/src/lib.rs");
    fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"compat-{name}\"\nversion = \"1.0.0\"\nedition = \"2024\"\npublish = false\n\n\
             [lib]\npath = {src:?}\ncrate-type = [\"cdylib\"]\n\n\
             [dependencies]\niterable-plugin-api = {{ path = {api:?} }}\n\n[workspace]\n",
        ),
    )
    .unwrap();
    // The workspace's lock file pins the same versions the main build
    // fetched, so nothing new needs downloading.
    fs::copy(workspace().join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["build", "--quiet", "--manifest-path"])
        .arg(dir.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", root.join("target"))
        .env_remove("RUSTFLAGS")
        .output()
        .expect("run cargo");
    assert!(
        out.status.success(),
        "building the {name} plugin failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lib = root
        .join("target/debug")
        .join(format!("libcompat_{name}{}", std::env::consts::DLL_SUFFIX));
    assert!(lib.exists(), "{} missing", lib.display());
    lib
}

/// A host with only `dir` as plugin directory, no cache on disk.
fn host_with(dir: &Path) -> Host {
    Host::builder()
        .scanner(util::scanner())
        .plugin_dir(dir)
        .default_dirs(false)
        .no_config()
        .cache_file(None)
        .build()
        .unwrap()
}

#[test]
fn plugins_built_against_other_interface_copies() {
    let root = workspace().join("target").join("abi-fixtures");
    fs::create_dir_all(&root).unwrap();
    let frozen = workspace().join("tests/abi/iterable-plugin-api-1.0");

    // A 2.0.0 copy, and a 1.0.0 copy whose PluginMetadata has two fields swapped.
    let v2 = root.join("api-2.0");
    let _ = fs::remove_dir_all(&v2);
    copy_dir(&frozen, &v2);
    let toml = fs::read_to_string(v2.join("Cargo.toml")).unwrap();
    fs::write(
        v2.join("Cargo.toml"),
        toml.replace("version = \"1.0.0\"", "version = \"2.0.0\""),
    )
    .unwrap();
    let changed = root.join("api-changed");
    let _ = fs::remove_dir_all(&changed);
    copy_dir(&frozen, &changed);
    let abi = fs::read_to_string(changed.join("src/abi.rs")).unwrap();
    let (author, license) = ("    pub author: RString,", "    pub license: RString,");
    assert!(
        abi.contains(author) && abi.contains(license),
        "the frozen copy changed shape"
    );
    // Same size, same types: only the order of two fields differs.
    let reordered = abi
        .replacen(author, "    pub AUTHOR_SLOT: RString,", 1)
        .replacen(license, author, 1)
        .replacen("    pub AUTHOR_SLOT: RString,", license, 1);
    fs::write(changed.join("src/abi.rs"), reordered).unwrap();

    let lib_v1 = build_plugin(&root, "v1", &frozen);
    let lib_v2 = build_plugin(&root, "v2", &v2);
    let lib_changed = build_plugin(&root, "changed", &changed);

    // 1.0 loads in this host and works.
    let dir = tempfile::tempdir().unwrap();
    let plugins = dir.path().join("plugins");
    fs::create_dir_all(&plugins).unwrap();
    fs::copy(&lib_v1, plugins.join("libcompat.so")).unwrap();
    let host = host_with(&plugins);
    let p = host
        .plugin("compat")
        .expect("the 1.0 plugin is listed by its own name");
    assert_eq!(p.status(), Status::Available, "{:?}", p.reason());
    let file = dir.path().join("x.compat");
    fs::write(&file, "hello\nworld\n").unwrap();
    let recs: Vec<Record> = host
        .open(&file, &OpenOptions::new())
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        recs,
        [
            Record::from_pairs([("line", "hello")]),
            Record::from_pairs([("line", "world")])
        ]
    );

    // Another major version is refused, naming both versions.
    let other = tempfile::tempdir().unwrap();
    fs::copy(&lib_v2, other.path().join("libcompat2.so")).unwrap();
    let host = host_with(other.path());
    let p = &host.plugins()[0];
    let err = p.error().expect("refused");
    assert_eq!(
        err.plugin_kind(),
        Some(PluginErrorKind::VersionMismatch),
        "{err}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("2.0.0")
            && msg.contains("1.0.0")
            && msg.contains("rebuild it against iterable-plugin-api 1.x"),
        "{msg}"
    );

    // A changed layout is refused with a short message.
    let bad = tempfile::tempdir().unwrap();
    fs::copy(&lib_changed, bad.path().join("libchanged.so")).unwrap();
    let host = host_with(bad.path());
    let err = host.plugins()[0].error().expect("refused");
    assert_eq!(
        err.plugin_kind(),
        Some(PluginErrorKind::AbiMismatch),
        "{err}"
    );
    let msg = err.to_string();
    assert!(msg.lines().count() <= 5, "too long: {msg}");
    assert!(
        msg.contains("plugin 'changed'")
            && msg.contains("rebuild it against iterable-plugin-api 1.x"),
        "{msg}"
    );

    // check-plugin reports the same, with a non-zero exit.
    let out = util::command(bad.path(), &["check-plugin", "libchanged.so"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("ABI mismatch"), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
}
