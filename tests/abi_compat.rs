//! ABI compatibility, with plugins built outside the workspace:
//! * against the 1.0 release of the interface (from git history): it loads
//!   and works;
//! * against a copy whose version is 2.0.0: refused as a version mismatch;
//! * against a 1.0.0 copy whose types differ: refused as an ABI mismatch,
//!   with a short message (never abi_stable's layout dump);
//! * against a 1.1.0 copy with a method appended to a trait object (a
//!   plugin newer than this host): it loads and works.
//!
//! The four plugins are built by nested `cargo build`s that share one
//! target directory under the workspace's `target/`, so abi_stable is
//! compiled once for all of them.

mod util;

use std::fs;
use std::path::Path;

use iterable_core::{OpenOptions, Record};
use iterable_host::{Host, PluginErrorExt, PluginErrorKind, Status};

/// Every record of `file`, read through `host`.
fn read_all(host: &Host, file: &Path) -> Vec<Record> {
    host.open(file, &OpenOptions::new())
        .unwrap()
        .map(Result::unwrap)
        .collect()
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
    let src = util::workspace().join("tests/abi/compat-plugin/src/lib.rs");
    let lib_v1 = util::build_out_of_tree("compat-v1", &src, &util::interface("1.0"), &[]);
    let lib_v2 = util::build_out_of_tree("compat-v2", &src, &util::interface("2.0"), &[]);
    let lib_changed =
        util::build_out_of_tree("compat-changed", &src, &util::interface("changed"), &[]);
    let lib_newer =
        util::build_out_of_tree("compat-newer", &src, &util::interface("1.1-appended"), &[]);

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
    assert_eq!(
        read_all(&host, &file),
        [
            Record::from_pairs([("line", "hello")]),
            Record::from_pairs([("line", "world")])
        ]
    );

    // A plugin built against a later 1.x, whose trait objects have more
    // methods than this host knows, loads and works: abi_stable lets an
    // implementation have more fields than the interface. (The other way
    // round, a host with more methods than its plugin, is refused with "too
    // many fields": see docs/abi-policy.md.)
    let newer = tempfile::tempdir().unwrap();
    fs::copy(&lib_newer, newer.path().join("libcompat.so")).unwrap();
    let host = host_with(newer.path());
    let p = host.plugin("compat").expect("listed");
    assert_eq!(p.status(), Status::Available, "{:?}", p.reason());
    let file = newer.path().join("x.compat");
    fs::write(&file, "newer\n").unwrap();
    assert_eq!(
        read_all(&host, &file),
        [Record::from_pairs([("line", "newer")])]
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
            && msg.contains("1.1.0")
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
