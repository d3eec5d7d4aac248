//! The fault corpus: more than fifteen kinds of broken plugin, built by
//! this test, all in one plugin directory. One `list-plugins` run survives
//! every one of them and lists each with its reason; in the same directory
//! the built-ins still convert a file correctly. Then a panic in every kind
//! of plugin call comes back as an error naming the plugin.

mod util;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Command;

use serde_json::json;
use util::{json_lines, plugin_lib};

/// Builds the C library in tests/faults/c/crash.c with one misbehaviour.
fn c_crasher(out: &Path, define: &str) -> bool {
    let src = util::workspace().join("tests/faults/c/crash.c");
    let status = Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()))
        .args(["-shared", "-fPIC", "-O0", &format!("-D{define}"), "-o"])
        .arg(out)
        .arg(&src)
        .status();
    matches!(status, Ok(s) if s.success())
}

fn manifest(dir: &Path, name: &str, library: &str, extra: &str) {
    fs::create_dir_all(dir).unwrap();
    fs::write(
        dir.join("plugin.toml"),
        format!("[plugin]\nname = \"{name}\"\nversion = \"0.1.0\"\napi_version = \"1.0.0\"\nlibrary = \"{library}\"\n{extra}"),
    )
    .unwrap();
}

fn testkit_manifest() -> String {
    fs::read_to_string(util::workspace().join("tests/plugins/testkit/plugin.toml")).unwrap()
}

fn install_testkit(dir: &Path, manifest_text: &str) {
    fs::create_dir_all(dir).unwrap();
    fs::copy(
        plugin_lib("iterable_testkit"),
        dir.join("libiterable_testkit.so"),
    )
    .unwrap();
    fs::write(dir.join("plugin.toml"), manifest_text).unwrap();
}

#[cfg(unix)]
fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

/// Every broken plugin in `plugins`, with the error kind and a piece of the
/// reason `list-plugins` must show for it.
fn build_corpus(root: &Path) -> Vec<(&'static str, &'static str, &'static str)> {
    let plugins = root.join("plugins");
    fs::create_dir_all(&plugins).unwrap();
    let mut expect = Vec::new();

    // 1-4. C constructors that crash, abort, exit or hang.
    let cc_ok = c_crasher(&plugins.join("libsegv.so"), "SEGV")
        && c_crasher(&plugins.join("libabort.so"), "ABORT")
        && c_crasher(&plugins.join("libexit3.so"), "EXIT3")
        && c_crasher(&plugins.join("libhang.so"), "HANG");
    assert!(
        cc_ok,
        "the C compiler (cc) is needed to build the crashing plugins"
    );
    expect.push(("segv", "crashed", "signal 11 (SIGSEGV)"));
    expect.push(("abort", "crashed", "signal 6 (SIGABRT)"));
    expect.push(("exit3", "crashed", "exited with status 3"));
    expect.push(("hang", "crashed", "hung: no answer within"));

    // 5-10. Panics while answering each kind of call the host makes when it examines a library.
    let faulty = util::workspace().join("tests/faults/faulty/src/lib.rs");
    let api = util::workspace().join("iterable-plugin-api");
    for (feature, file) in [
        ("panic-metadata", "libpanicmeta.so"),
        ("panic-formats", "libpanicformats.so"),
        ("panic-codecs", "libpaniccodecs.so"),
        ("panic-drivers", "libpanicdrivers.so"),
        ("panic-rules", "libpanicrules.so"),
        ("panic-engines", "libpanicengines.so"),
    ] {
        let lib = util::build_out_of_tree(&format!("faulty-{feature}"), &faulty, &api, &[feature]);
        fs::copy(lib, plugins.join(file)).unwrap();
    }
    expect.push(("panicmeta", "panic", "faulty plugin panics in metadata"));
    expect.push(("panicformats", "panic", "faulty plugin panics in formats"));
    expect.push(("paniccodecs", "panic", "faulty plugin panics in codecs"));
    expect.push(("panicdrivers", "panic", "faulty plugin panics in drivers"));
    expect.push(("panicrules", "panic", "faulty plugin panics in rules"));
    expect.push(("panicengines", "panic", "faulty plugin panics in engines"));

    // 11-12. The wrong ABI, and another major version, built for real.
    let compat = util::workspace().join("tests/abi/compat-plugin/src/lib.rs");
    let changed =
        util::build_out_of_tree("compat-changed", &compat, &util::interface("changed"), &[]);
    fs::copy(changed, plugins.join("libwrongabi.so")).unwrap();
    expect.push(("wrongabi", "abi-mismatch", "ABI mismatch"));
    let v2 = util::build_out_of_tree("compat-v2", &compat, &util::interface("2.0"), &[]);
    fs::copy(v2, plugins.join("libmajor2.so")).unwrap();
    expect.push(("major2", "version-mismatch", "this host has 1.1.0"));

    // 13. A manifest for another major version (refused before loading).
    let dir = plugins.join("future");
    manifest(&dir, "future", "libfuture.so", "");
    fs::copy(plugin_lib("iterable_testkit"), dir.join("libfuture.so")).unwrap();
    let text = fs::read_to_string(dir.join("plugin.toml"))
        .unwrap()
        .replace("1.0.0", "3.1.0");
    fs::write(dir.join("plugin.toml"), text).unwrap();
    expect.push(("future", "version-mismatch", "built for plugin API 3.1.0"));

    // 14-15. Garbage and empty files.
    fs::write(plugins.join("libgarbage.so"), b"\x7fELF but not really").unwrap();
    expect.push(("garbage", "not-a-library", "not a loadable library"));
    fs::write(plugins.join("libempty.so"), b"").unwrap();
    expect.push(("empty", "not-a-library", "not a loadable library"));

    // 16. A library without the plugin root symbol.
    fs::copy(
        plugin_lib("iterable_nosymbol"),
        plugins.join("libnosymbol.so"),
    )
    .unwrap();
    expect.push((
        "nosymbol",
        "missing-symbol",
        "exports no plugin root module",
    ));

    // 17-19. A symlink loop, a dangling symlink, a FIFO.
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("libloop.so", plugins.join("libloop.so")).unwrap();
        expect.push(("loop", "load-failed", "symbolic links"));
        std::os::unix::fs::symlink("nowhere/libx.so", plugins.join("libdangling.so")).unwrap();
        expect.push(("dangling", "load-failed", "No such file"));
        let ok = Command::new("mkfifo")
            .arg(plugins.join("libfifo.so"))
            .status()
            .map(|s| s.success());
        assert!(matches!(ok, Ok(true)), "mkfifo failed");
        expect.push(("fifo", "missing-library", "not a regular file"));
    }

    // 20. An unreadable file (root can still read it: then it is garbage).
    fs::write(plugins.join("libunreadable.so"), b"secret").unwrap();
    #[cfg(unix)]
    chmod(&plugins.join("libunreadable.so"), 0o000);
    expect.push(("unreadable", "not-a-library", "not a loadable library"));

    // 21-22. A world-writable library, and a world-writable plugin directory.
    fs::copy(
        plugin_lib("iterable_testkit"),
        plugins.join("libwritable.so"),
    )
    .unwrap();
    #[cfg(unix)]
    chmod(&plugins.join("libwritable.so"), 0o666);
    expect.push((
        "writable",
        "untrusted",
        "writable by group or others (mode 0666)",
    ));
    let open_dir = plugins.join("opendir");
    manifest(
        &open_dir,
        "opendir",
        "libiterable_testkit.so",
        "[[format]]\nid = \"kv2\"\n",
    );
    fs::copy(
        plugin_lib("iterable_testkit"),
        open_dir.join("libiterable_testkit.so"),
    )
    .unwrap();
    #[cfg(unix)]
    chmod(&open_dir, 0o777);
    expect.push(("opendir", "untrusted", "the directory"));

    // 23. A pinned sha256 that does not match.
    let pinned = plugins.join("pinned");
    manifest(
        &pinned,
        "pinned",
        "libiterable_testkit.so",
        &format!("sha256 = \"{}\"\n", "ab".repeat(32)),
    );
    fs::copy(
        plugin_lib("iterable_testkit"),
        pinned.join("libiterable_testkit.so"),
    )
    .unwrap();
    expect.push(("pinned", "hash-mismatch", "but the manifest pins abab"));

    // 24. Bad TOML; 25. a manifest naming a missing library.
    manifest(&plugins.join("badtoml"), "x", "y", "");
    fs::write(plugins.join("badtoml/plugin.toml"), "[plugin\nname=").unwrap();
    expect.push(("badtoml", "bad-manifest", "invalid manifest"));
    manifest(&plugins.join("nolib"), "nolib", "libnolib.so", "");
    expect.push(("nolib", "missing-library", "does not exist"));

    // 26-27. The real testkit, then the same plugin name again and the same ids again.
    install_testkit(&plugins.join("testkit"), &testkit_manifest());
    install_testkit(&plugins.join("testkit2"), &testkit_manifest());
    expect.push(("testkit", "shadowed", "comes earlier on the search path"));
    install_testkit(
        &plugins.join("zdupids"),
        &testkit_manifest().replace("name = \"testkit\"", "name = \"zdupids\""),
    );
    expect.push(("zdupids", "shadowed", "everything it provides is shadowed"));

    // 28. A manifest that lies about what the library provides. Its
    // directory comes after testkit's: a failed plugin keeps its claims
    // (its files are refused with its name), so one searched first would
    // hold every id it shares with testkit.
    let liar = testkit_manifest().replace("name = \"testkit\"", "name = \"liar\"")
        + "\n[[format]]\nid = \"ghost\"\nextensions = [\"ghost\"]\n";
    install_testkit(&plugins.join("zliar"), &liar);
    expect.push(("liar", "manifest-mismatch", "declares format 'ghost'"));
    expect
}

fn listed(root: &Path) -> Vec<serde_json::Value> {
    let out = util::command(root, &["--plugin-dir", "plugins", "list-plugins", "--json"])
        .env("ITERABLEDATA_SCAN_TIMEOUT", "2")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "list-plugins must exit 0: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
    serde_json::from_slice::<serde_json::Value>(&out.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn the_host_survives_the_whole_fault_corpus_in_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let expect = build_corpus(root);
    assert!(expect.len() >= 15);

    // The liar is caught once its library has been examined: use it first.
    fs::write(root.join("x.ghost"), "x").unwrap();
    let out = util::command(root, &["--plugin-dir", "plugins", "cat", "x.ghost"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));

    let plugins = listed(root);
    let by_path: BTreeMap<String, &serde_json::Value> = plugins
        .iter()
        .map(|p| (p["path"].as_str().unwrap().to_owned(), p))
        .collect();
    let mut seen = 0;
    for (who, kind, reason) in &expect {
        // Find the entry by what it is: a file or directory name, or the plugin name.
        let p = plugins
            .iter()
            .find(|p| {
                let path = p["path"].as_str().unwrap();
                let tail = Path::new(path)
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                let dir = Path::new(path)
                    .parent()
                    .unwrap()
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                let txt = format!(
                    "{} {}",
                    p["error"].as_str().unwrap_or(""),
                    p["reason"].as_str().unwrap_or("")
                );
                (tail == format!("lib{who}.so") || dir == *who || p["name"] == *who)
                    && txt.contains(reason)
            })
            .unwrap_or_else(|| panic!("no entry for {who} with {reason:?}; listed: {by_path:#?}"));
        if *kind == "shadowed" {
            assert_eq!(p["status"], "shadowed", "{who}: {p}");
        } else {
            assert_eq!(p["status"], "failed", "{who}: {p}");
            assert_eq!(p["error_kind"], *kind, "{who}: {p}");
        }
        seen += 1;
    }
    assert_eq!(seen, expect.len());
    // The one good plugin is still usable.
    assert!(
        plugins
            .iter()
            .any(|p| p["name"] == "testkit" && p["status"] == "available")
    );

    // The quarantine is in the cache: a second run needs no scanning and agrees.
    let again = listed(root);
    assert_eq!(again.len(), plugins.len());
    for p in &again {
        let before = by_path[p["path"].as_str().unwrap()];
        assert_eq!(p["status"], before["status"], "{p}");
    }

    // In the same directory, the built-ins convert a file correctly.
    fs::write(root.join("in.csv"), "a,b\n1,x\n2,y\n").unwrap();
    util::run(
        root,
        &[
            "--plugin-dir",
            "plugins",
            "convert",
            "in.csv",
            "out.jsonl.gz",
        ],
    )
    .ok();
    let out = util::run(root, &["--plugin-dir", "plugins", "cat", "out.jsonl.gz"]).ok();
    assert_eq!(
        json_lines(&out),
        [json!({"a": "1", "b": "x"}), json!({"a": "2", "b": "y"})]
    );
    // And a good plugin works next to all of them.
    fs::write(root.join("k.kv"), "n=1\n").unwrap();
    let out = util::run(root, &["--plugin-dir", "plugins", "cat", "k.kv"]).ok();
    assert_eq!(json_lines(&out), [json!({"n": 1})]);
}

#[test]
fn a_changed_file_leaves_quarantine() {
    let dir = tempfile::tempdir().unwrap();
    let plugins = dir.path().join("plugins");
    fs::create_dir_all(&plugins).unwrap();
    let lib = plugins.join("libflaky.so");
    assert!(c_crasher(&lib, "ABORT"));
    let first = listed(dir.path());
    assert_eq!(first[0]["error_kind"], "crashed");
    // Replaced by a working plugin: examined again, now fine.
    fs::remove_file(&lib).unwrap();
    fs::copy(plugin_lib("iterable_testkit"), &lib).unwrap();
    let second = listed(dir.path());
    assert_eq!(second[0]["name"], "testkit");
    assert_eq!(second[0]["status"], "available");
}

#[test]
fn a_panic_in_every_kind_of_call_is_an_error_naming_the_plugin() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    install_testkit(&root.join("plugins/testkit"), &testkit_manifest());
    fs::write(root.join("in.csv"), "n\n1\n").unwrap();
    fs::write(root.join("x.boom"), "").unwrap();
    fs::write(root.join("x.csv.boomz"), "").unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["cat", "x.boom"], "boom at record 2"),
        (
            vec!["convert", "in.csv", "out.boom"],
            "boom while opening a writer",
        ),
        (vec!["cat", "x.csv.boomz"], "boom while decoding"),
        (
            vec!["cat", "boomdb://x", "--table", "t"],
            "boom while connecting",
        ),
        (
            vec!["validate", "in.csv", "--rule", "n=test.boom"],
            "rule exploded",
        ),
        (
            vec!["query", "--engine", "boom", "q", "in.csv"],
            "boom while executing",
        ),
    ];
    for (args, needle) in cases {
        let mut all = vec!["--plugin-dir", "plugins"];
        all.extend(args.iter().copied());
        let err = util::run(root, &all).err();
        assert!(
            err.contains("plugin 'testkit'") && err.contains(needle),
            "{args:?}: {err}"
        );
        assert!(err.contains("panicked"), "{args:?}: {err}");
    }
    // Nothing was left behind by the failed write.
    assert!(!root.join("out.boom").exists());
}
