//! Never silently wrong: a file that a known plugin claims is read by that
//! plugin or refused with its name and reason, on the first run (cold scan
//! cache) and on every run after (warm cache), whatever way the plugin
//! fails; a built-in format beside it still reads. An input that no
//! installed provider claims is never guessed at when its name says what
//! it is (`x.csv.br`), or when a plugin failed before saying what it
//! provides.

mod util;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::json;
use util::{Site, json_lines, plugin_lib};

/// A directory to run in (`util::Site`): `plugins/`, a home, and the two
/// inputs, `x.ltsv` (for the plugin) and `y.csv` (for a built-in).
fn site() -> Site {
    let s = Site::new();
    fs::create_dir_all(s.path().join("plugins")).unwrap();
    fs::create_dir_all(s.path().join("home")).unwrap();
    fs::write(s.path().join("x.ltsv"), "a:1\tb:2\nc:3\td:4\n").unwrap();
    fs::write(s.path().join("y.csv"), "a,b\n1,2\n").unwrap();
    s
}

/// `plugins/ltsv/` with the ltsv library and its manifest, as `install`
/// leaves it; returns the library's path.
fn install_ltsv(s: &Site) -> PathBuf {
    let dir = s.path().join("plugins/ltsv");
    fs::create_dir_all(&dir).unwrap();
    let lib = dir.join("libiterable_plugin_ltsv.so");
    fs::copy(plugin_lib("iterable_plugin_ltsv"), &lib).unwrap();
    fs::copy(
        util::workspace().join("plugins-examples/ltsv/plugin.toml"),
        dir.join("plugin.toml"),
    )
    .unwrap();
    lib
}

/// `cat y.csv` reads the built-in format, exactly.
fn builtin_still_reads(s: &Site) {
    assert_eq!(
        json_lines(&s.run(&["cat", "y.csv"]).ok()),
        [json!({"a": "1", "b": "2"})]
    );
}

/// Runs `args` twice (the first run fills the scan cache, the second finds
/// it warm), and returns the error, which must be the same both times,
/// exit status 1, naming `plugin`; the built-in format reads in between.
fn refused_twice(s: &Site, args: &[&str], plugin: &str) -> String {
    let cold = s.run(args);
    assert_eq!(cold.status, 1, "cold: {}", cold.stderr);
    let cold = cold.err();
    builtin_still_reads(s);
    let warm = s.run(args);
    assert_eq!(warm.status, 1, "warm: {}", warm.stderr);
    let warm = warm.err();
    assert_eq!(cold, warm, "a warm cache changed the answer");
    assert!(
        cold.starts_with(&format!("iterable-host: error: plugin '{plugin}': ")),
        "{cold}"
    );
    cold
}

/// A shared library whose constructor does `what` (`ABORT`, `HANG`, ...).
fn crashing_library(out: &Path, what: &str) {
    let ok = Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()))
        .args(["-shared", "-fPIC", "-O0", &format!("-D{what}"), "-o"])
        .arg(out)
        .arg(util::workspace().join("tests/faults/c/crash.c"))
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "the C compiler (cc) is needed to build {}",
        out.display()
    );
}

#[test]
fn a_missing_library_refuses_its_files_every_run() {
    let s = site();
    fs::remove_file(install_ltsv(&s)).unwrap();
    let err = refused_twice(&s, &["cat", "x.ltsv"], "ltsv");
    assert!(
        err.ends_with("libiterable_plugin_ltsv.so, which does not exist"),
        "{err}"
    );
    assert!(
        err.contains(": x.ltsv: the manifest names library "),
        "{err}"
    );
    assert_eq!(s.listed("ltsv")["error_kind"], "missing-library");
    // The listing of formats keeps its format, marked failed.
    let formats: serde_json::Value =
        serde_json::from_str(&s.run(&["formats", "--json"]).ok()).unwrap();
    let ltsv = formats
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "ltsv")
        .expect("ltsv is listed");
    assert_eq!(ltsv["status"], "failed");
    // Counting is refused too, never 0.
    let err = s.run(&["count", "x.ltsv"]).err();
    assert!(err.contains("plugin 'ltsv'"), "{err}");
}

#[test]
fn a_library_that_crashes_while_loading_refuses_its_files_every_run() {
    let s = site();
    crashing_library(&install_ltsv(&s), "ABORT");
    let err = refused_twice(&s, &["cat", "x.ltsv"], "ltsv");
    assert_eq!(
        err,
        "iterable-host: error: plugin 'ltsv': x.ltsv: crashed: killed by signal 6 (SIGABRT) while loading"
    );
    assert_eq!(s.listed("ltsv")["error_kind"], "crashed");
}

#[test]
fn a_library_that_hangs_while_loading_is_quarantined_and_refuses_its_files_every_run() {
    let mut s = site();
    s.set_env("ITERABLEDATA_SCAN_TIMEOUT", "1");
    crashing_library(&install_ltsv(&s), "HANG");
    let err = refused_twice(&s, &["cat", "x.ltsv"], "ltsv");
    assert_eq!(
        err,
        "iterable-host: error: plugin 'ltsv': x.ltsv: hung: no answer within 1 s, killed while loading"
    );
}

#[test]
fn a_library_of_another_abi_refuses_its_files_every_run() {
    // A Rust library whose manifest says it speaks the C ABI.
    let s = site();
    install_ltsv(&s);
    let manifest = s.path().join("plugins/ltsv/plugin.toml");
    let text = fs::read_to_string(&manifest).unwrap().replace(
        "api_version = \"1.1\"",
        "api_version = \"1.1\"\nabi = \"c\"",
    );
    fs::write(&manifest, text).unwrap();
    let err = refused_twice(&s, &["cat", "x.ltsv"], "ltsv");
    assert_eq!(
        err,
        "iterable-host: error: plugin 'ltsv': x.ltsv: the manifest says abi = \"c\" but the library speaks the Rust (abi_stable) ABI"
    );
    assert_eq!(s.listed("ltsv")["error_kind"], "manifest-mismatch");

    // A real library built against an incompatible layout of the ABI.
    let s = site();
    let lib = install_ltsv(&s);
    let compat = util::workspace().join("tests/abi/compat-plugin/src/lib.rs");
    let changed =
        util::build_out_of_tree("compat-changed", &compat, &util::interface("changed"), &[]);
    fs::copy(changed, lib).unwrap();
    let err = refused_twice(&s, &["cat", "x.ltsv"], "ltsv");
    assert!(err.contains("ABI mismatch"), "{err}");
    assert_eq!(s.listed("ltsv")["error_kind"], "abi-mismatch");

    // A manifest for another major version of the plugin API.
    let s = site();
    install_ltsv(&s);
    let text = fs::read_to_string(manifest_of(&s))
        .unwrap()
        .replace("api_version = \"1.1\"", "api_version = \"2.0\"");
    fs::write(manifest_of(&s), text).unwrap();
    let err = refused_twice(&s, &["cat", "x.ltsv"], "ltsv");
    assert!(err.contains("built for plugin API 2.0"), "{err}");
}

fn manifest_of(s: &Site) -> PathBuf {
    s.path().join("plugins/ltsv/plugin.toml")
}

/// A hand-placed manifest that claims one extension more than its library
/// (`log`): the guide says placing one by hand is equivalent to `install`,
/// so it is checked against the library on first use as on every later
/// run, and `x.log` is never read as TSV.
#[test]
fn a_manifest_that_claims_more_than_its_library_is_refused_every_run() {
    let s = site();
    util::ltsv_with_a_lying_manifest(&s.path().join("plugins/ltsv"));
    fs::write(s.path().join("x.log"), "a:1\tb:2\nc:3\td:4\n").unwrap();
    let err = refused_twice(&s, &["cat", "x.log"], "ltsv");
    assert_eq!(
        err,
        "iterable-host: error: plugin 'ltsv': x.log: format 'ltsv': the manifest says extensions [log, ltsv], the library [ltsv]"
    );
    let err = s.run(&["count", "x.log"]).err();
    assert_eq!(
        err,
        "iterable-host: error: plugin 'ltsv': x.log: format 'ltsv': the manifest says extensions [log, ltsv], the library [ltsv]"
    );
    // The verbose log names the plugin too.
    let out = s.run(&["-v", "cat", "x.log"]);
    assert_eq!(out.status, 1);
    assert!(out.stderr.contains("plugin 'ltsv'"), "{}", out.stderr);
}

/// A manifest written by `install` (or one that agrees with its library)
/// reads the same on every run.
#[test]
fn a_good_plugin_reads_the_same_cold_and_warm() {
    let s = site();
    install_ltsv(&s);
    let expected = [json!({"a": "1", "b": "2"}), json!({"c": "3", "d": "4"})];
    assert_eq!(json_lines(&s.run(&["cat", "x.ltsv"]).ok()), expected);
    assert_eq!(json_lines(&s.run(&["cat", "x.ltsv"]).ok()), expected);
    assert_eq!(s.run(&["count", "x.ltsv"]).ok(), "2\n");
}

/// A library without a manifest that fails before it says what it
/// provides: its claims are unknown, so nothing is sniffed past it.
#[test]
fn a_library_without_a_manifest_that_fails_stops_content_sniffing() {
    let s = site();
    crashing_library(&s.path().join("plugins/libltsv.so"), "ABORT");
    let err = refused_twice(&s, &["cat", "x.ltsv"], "ltsv");
    assert_eq!(
        err,
        "iterable-host: error: plugin 'ltsv': x.ltsv: cannot tell the format from the name or magic bytes, \
         and this plugin failed before it said what it provides (crashed: killed by signal 6 (SIGABRT) while loading), \
         so the content is not guessed at: fix or remove it, or name the format with --format"
    );
    // Stdin is not guessed at either; a named format reads.
    let err = s.run_stdin(&["cat", "-"], b"a:1\tb:2\n").err();
    assert!(
        err.starts_with("iterable-host: error: plugin 'ltsv': <stdin>: cannot tell the format from the name or magic bytes"),
        "{err}"
    );
    assert_eq!(
        json_lines(&s.run(&["cat", "x.ltsv", "--format", "tsv"]).ok()),
        [json!({"a:1": "c:3", "b:2": "d:4"})]
    );
}

/// Disabled plugins (in config.toml, or all with --no-plugins) keep their
/// claims: their files are refused, never read as something else.
#[test]
fn a_disabled_plugin_refuses_its_files() {
    let s = site();
    install_ltsv(&s);
    let err = s.run(&["--no-plugins", "cat", "x.ltsv"]).err();
    assert_eq!(
        err,
        "iterable-host: error: plugin 'ltsv': x.ltsv: the plugin is disabled: plugins are disabled (--no-plugins or ITERABLEDATA_NO_PLUGINS)"
    );
    fs::create_dir_all(s.path().join("home/.iterabledata")).unwrap();
    fs::write(
        s.path().join("home/.iterabledata/config.toml"),
        "disabled = [\"ltsv\"]\n",
    )
    .unwrap();
    let err = s.run(&["cat", "x.ltsv"]).err();
    assert_eq!(
        err,
        "iterable-host: error: plugin 'ltsv': x.ltsv: the plugin is disabled: disabled in config.toml"
    );
    builtin_still_reads(&s);
}

/// Of two plugins that claim the same format, the first on the search
/// path serves; when it fails, its files are refused, not handed to the
/// second (which would change the answer once the cache knows the first
/// fails). The same holds for two plugins of the same name.
#[test]
fn a_failed_plugin_keeps_its_claims_over_a_later_one() {
    let s = site();
    let first = s.path().join("plugins/a-ltsv");
    fs::create_dir_all(&first).unwrap();
    let text = fs::read_to_string(util::workspace().join("plugins-examples/ltsv/plugin.toml"))
        .unwrap()
        .replace("name = \"ltsv\"", "name = \"ltsv-old\"");
    fs::write(first.join("plugin.toml"), text).unwrap();
    crashing_library(&first.join("libiterable_plugin_ltsv.so"), "ABORT");
    let second = s.path().join("plugins/b-ltsv");
    fs::create_dir_all(&second).unwrap();
    fs::copy(
        plugin_lib("iterable_plugin_ltsv"),
        second.join("libiterable_plugin_ltsv.so"),
    )
    .unwrap();
    fs::copy(
        util::workspace().join("plugins-examples/ltsv/plugin.toml"),
        second.join("plugin.toml"),
    )
    .unwrap();
    let err = refused_twice(&s, &["cat", "x.ltsv"], "ltsv-old");
    assert!(err.contains("SIGABRT"), "{err}");
    assert_eq!(s.listed("ltsv")["status"], "shadowed");

    // Same name: the first one serves.
    fs::rename(&second, s.path().join("plugins/c-ltsv")).unwrap();
    let text = fs::read_to_string(first.join("plugin.toml"))
        .unwrap()
        .replace("name = \"ltsv-old\"", "name = \"ltsv\"");
    fs::write(first.join("plugin.toml"), text).unwrap();
    let err = refused_twice(&s, &["cat", "x.ltsv"], "ltsv");
    assert!(err.contains("SIGABRT"), "{err}");
}

/// Rule ids, driver schemes, engine and hook ids of a failed plugin are
/// refused with its name too.
#[test]
fn a_failed_plugins_rules_schemes_engines_and_hooks_are_refused_with_its_name() {
    let s = site();
    let dir = s.path().join("plugins/testkit");
    fs::create_dir_all(&dir).unwrap();
    fs::copy(
        util::workspace().join("tests/plugins/testkit/plugin.toml"),
        dir.join("plugin.toml"),
    )
    .unwrap();
    // The manifest names the library; it is missing.
    let cases: [&[&str]; 4] = [
        &["validate", "y.csv", "--rule", "a=test.even"],
        &["query", "--engine", "concat", "x", "y.csv"],
        &["convert", "y.csv", "z.jsonl", "--hook", "testkit.stop"],
        &["cat", "kvdir://here", "--table", "t"],
    ];
    for args in cases {
        let err = s.run(args).err();
        assert!(
            err.contains("plugin 'testkit'")
                && err.contains("libiterable_testkit.so, which does not exist"),
            "{args:?}: {err}"
        );
    }
    assert!(!s.path().join("z.jsonl").exists());
}

/// A well-known codec or format extension that nothing installed provides
/// is named, never read as something else.
#[test]
fn well_known_extensions_that_nothing_provides_are_named() {
    let s = site();
    fs::write(s.path().join("x.csv.br"), [0x1b, 0x03, 0x00, 0xff]).unwrap();
    fs::write(s.path().join("x.csv.snappy"), b"\xff\x06\x00\x00sNaPpY").unwrap();
    fs::write(s.path().join("x.parquet"), b"PAR1\x00\x00PAR1").unwrap();
    let err = s.run(&["cat", "x.csv.br"]).err();
    assert_eq!(
        err,
        "iterable-host: error: x.csv.br: '.br' is Brotli, and no installed codec reads it: \
         install a plugin that provides it (known codecs: gzip, zstd), or name one with --codec \
         (--codec none for the bytes as they are)"
    );
    let err = s.run(&["cat", "x.csv.snappy"]).err();
    assert!(
        err.starts_with("iterable-host: error: x.csv.snappy: '.snappy' is Snappy, and no installed codec reads it"),
        "{err}"
    );
    let err = s.run(&["count", "x.parquet"]).err();
    assert!(
        err.starts_with(
            "iterable-host: error: x.parquet: '.parquet' is Apache Parquet, and no installed format reads it"
        ),
        "{err}"
    );
    // An archive inside a codec is not sniffed as text either.
    fs::write(s.path().join("x.tar.gz"), util::gzip(b"a,b\n1,2\n")).unwrap();
    let err = s.run(&["cat", "x.tar.gz"]).err();
    assert!(
        err.starts_with(
            "iterable-host: error: x.tar.gz: '.tar' is a tar archive, and no installed format or codec reads it"
        ),
        "{err}"
    );
    let err = s.run(&["convert", "y.csv", "z.csv.bz2"]).err();
    assert!(
        err.starts_with(
            "iterable-host: error: z.csv.bz2: '.bz2' is bzip2, and no installed codec writes it"
        ),
        "{err}"
    );
    assert!(!s.path().join("z.csv.bz2").exists());
    // Named explicitly, the bytes are read as asked.
    s.run(&["cat", "x.csv.br", "--codec", "none", "--format", "csv"])
        .err();
    builtin_still_reads(&s);
}

/// A panic in a Rust plugin's reader: the records before it are
/// delivered, and the error names the plugin, the file and the record.
#[test]
fn a_panic_while_reading_keeps_the_records_before_it_and_names_the_record() {
    let s = site();
    let dir = s.path().join("plugins/testkit");
    fs::create_dir_all(&dir).unwrap();
    fs::copy(
        plugin_lib("iterable_testkit"),
        dir.join("libiterable_testkit.so"),
    )
    .unwrap();
    fs::copy(
        util::workspace().join("tests/plugins/testkit/plugin.toml"),
        dir.join("plugin.toml"),
    )
    .unwrap();
    fs::write(s.path().join("x.boom"), "").unwrap();
    for iso in [&[][..], &["--isolate-plugins"][..]] {
        let mut args = iso.to_vec();
        args.extend(["cat", "x.boom"]);
        let out = s.run(&args);
        assert_eq!(out.status, 1, "{}", out.stderr);
        assert_eq!(json_lines(&out.stdout), [json!({"n": 1})], "{iso:?}");
        let err = out.err();
        assert!(
            err.starts_with(
                "iterable-host: error: plugin 'testkit': x.boom: record 2: panicked: boom at record 2 at "
            ),
            "{iso:?}: {err}"
        );
    }
}
