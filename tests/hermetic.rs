//! A hermetic application host in a hostile environment. This test is an
//! application of its own (`harness = false`): its `main` starts with
//! `iterable_host::run_scanner_if_requested()`, so the host can run this
//! very executable as the plugin scanner.
//!
//! The environment says everything it can: a `config.toml` that disables
//! the plugin and names another plugin directory, `ITERABLEDATA_SCANNER`
//! naming a fake scanner, a fake `iterable-plugin-scanner` first on `PATH`,
//! `ITERABLEDATA_PLUGIN_PATH` and `ITERABLEDATA_NO_PLUGINS=1`. A host built
//! with `Host::builder()` reads and runs none of it, and a library that
//! crashes while loading is still contained through the supported scanner
//! path (`scan_with_current_exe`).

mod util;

use std::fs;
use std::path::Path;
use std::process::Command;

use iterable_core::{OpenOptions, Record, Value};
use iterable_host::{Host, PluginErrorExt, PluginErrorKind, Status};

fn fake_scanner(path: &Path, marker: &Path) {
    use std::os::unix::fs::PermissionsExt;
    fs::write(
        path,
        format!("#!/bin/sh\ntouch '{}'\nexit 1\n", marker.display()),
    )
    .unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

fn check(name: &str, ok: bool, failures: &mut Vec<String>) {
    println!("test {name} ... {}", if ok { "ok" } else { "FAILED" });
    if !ok {
        failures.push(name.to_owned());
    }
}

fn main() {
    iterable_host::run_scanner_if_requested();

    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let plugins = root.join("plugins");
    let elsewhere = root.join("elsewhere");
    let home = root.join("home");
    let bin = root.join("bin");
    for d in [&plugins, &elsewhere, &home.join(".iterabledata"), &bin] {
        fs::create_dir_all(d).unwrap();
    }
    fs::copy(
        util::plugin_lib("iterable_testkit"),
        plugins.join("libiterable_testkit.so"),
    )
    .unwrap();
    fs::copy(
        util::plugin_lib("iterable_plugin_ltsv"),
        elsewhere.join("libiterable_plugin_ltsv.so"),
    )
    .unwrap();
    let crash_src = util::workspace().join("tests/faults/c/crash.c");
    let built = Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()))
        .args(["-shared", "-fPIC", "-O0", "-DSEGV", "-o"])
        .arg(plugins.join("libcrash.so"))
        .arg(&crash_src)
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        built,
        "cannot build the crashing library with the C compiler"
    );
    fs::write(
        home.join(".iterabledata/config.toml"),
        format!(
            "disabled = [\"testkit\"]\nplugin_dirs = [{:?}]\n",
            elsewhere
        ),
    )
    .unwrap();
    let (env_marker, path_marker) = (root.join("env-scanner-ran"), root.join("path-scanner-ran"));
    fake_scanner(&root.join("fake-scanner"), &env_marker);
    fake_scanner(&bin.join("iterable-plugin-scanner"), &path_marker);
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // SAFETY: single-threaded here; nothing else reads the environment yet.
    unsafe {
        std::env::set_var("HOME", &home);
        std::env::set_var("XDG_CACHE_HOME", root.join("cache"));
        std::env::set_var("ITERABLEDATA_SCANNER", root.join("fake-scanner"));
        std::env::set_var("ITERABLEDATA_PLUGIN_PATH", &elsewhere);
        std::env::set_var("ITERABLEDATA_NO_PLUGINS", "1");
        std::env::set_var("ITERABLEDATA_SCAN_TIMEOUT", "0.001");
        std::env::set_var("PATH", path);
    }

    let mut failures = Vec::new();
    let host = Host::builder()
        .plugin_dir(&plugins)
        .scan_with_current_exe()
        .unwrap()
        .build()
        .unwrap();
    let names: Vec<&str> = host.plugins().iter().map(|p| p.name()).collect();
    check(
        "only_the_given_directory_is_searched",
        names.len() == 2 && names.contains(&"testkit") && !names.contains(&"ltsv"),
        &mut failures,
    );
    let testkit = host.plugin("testkit");
    check(
        "the_config_that_disables_the_plugin_is_not_read",
        testkit.is_some_and(|p| p.status() == Status::Available),
        &mut failures,
    );
    let f = root.join("a.kv");
    fs::write(&f, "x=5\n").unwrap();
    let recs: Vec<Record> = host
        .open(&f, &OpenOptions::new())
        .unwrap()
        .map(Result::unwrap)
        .collect();
    check(
        "the_plugin_works",
        recs == [Record::from_pairs([("x", Value::Int(5))])],
        &mut failures,
    );
    let crash = host
        .plugins()
        .iter()
        .find(|p| p.path().ends_with("libcrash.so"))
        .expect("the crashing library is listed");
    let err = crash.error();
    check(
        "a_crashing_library_is_contained_by_the_supported_scanner",
        crash.status() == Status::Failed
            && err.as_ref().and_then(|e| e.plugin_kind()) == Some(PluginErrorKind::Crashed)
            && err
                .as_ref()
                .is_some_and(|e| e.to_string().contains("signal 11")),
        &mut failures,
    );
    check(
        "neither_fake_scanner_ran",
        !env_marker.exists() && !path_marker.exists(),
        &mut failures,
    );
    check(
        "no_cache_was_written_under_the_users_home",
        !root.join("cache").exists() && !home.join(".cache").exists(),
        &mut failures,
    );
    // Without a scanner, a library that must be examined is an error that
    // says what to do, never a silent in-process load.
    let bare = Host::builder().plugin_dir(&plugins).build().unwrap();
    let e = bare.plugin("crash").and_then(|p| p.error());
    check(
        "without_a_scanner_examining_is_an_error_not_a_silent_load",
        e.is_some_and(|e| e.to_string().contains("this host has no scanner")),
        &mut failures,
    );

    println!("\n{} passed, {} failed", 7 - failures.len(), failures.len());
    if !failures.is_empty() {
        std::process::exit(1);
    }
}
