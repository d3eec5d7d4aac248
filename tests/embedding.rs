//! An application that links `iterable-host` (this test is one: `harness =
//! false`, its own `main`). What it checks:
//!
//! - an application that forgets `run_scanner_if_requested()` is told so,
//!   instead of re-running itself without end or blaming a good plugin;
//! - `ITERABLEDATA_HOME` is read only when the application opts into the
//!   environment (`HostBuilder::environment`);
//! - with the builder's defaults (no scanner), a library without a manifest
//!   that cannot be examined stops content sniffing, naming it, and the
//!   failure is not remembered against the library;
//! - a sandbox denial points an application to `HostBuilder::plugin_settings`
//!   (it reads no config.toml), and `Plugin::sandbox` says what the sandbox
//!   enforces.
//!
//! The same executable plays the forgetful application: with
//! `EMBEDDING_ROLE=forgetful` in its environment, `main` builds a host
//! without calling `run_scanner_if_requested()` first.

mod util;

use std::fs;
use std::path::Path;
use std::process::Command;

use iterable_host::{ErrorKind, Host, OpenOptions, PluginErrorExt, PluginErrorKind, Record};

const ROLE: &str = "EMBEDDING_ROLE";

fn check(name: &str, ok: bool, why: String, failures: &mut Vec<String>) {
    println!("test {name} ... {}", if ok { "ok" } else { "FAILED" });
    if !ok {
        println!("  {why}");
        failures.push(name.to_owned());
    }
}

/// The application that forgot: builds a host that scans with this very
/// executable, then reads `x.ltsv` through the plugin.
fn forgetful(dir: &Path) -> ! {
    let host = Host::builder()
        .plugin_dir(dir.join("plugins"))
        .cache_file(Some(dir.join("cache.json")))
        .scan_with_current_exe()
        .and_then(|b| b.build());
    let outcome = host.and_then(|h| {
        h.open(dir.join("x.ltsv"), &OpenOptions::new())?
            .collect::<Result<Vec<_>, _>>()
    });
    match outcome {
        Ok(records) => {
            println!("read {} records", records.len());
            std::process::exit(0)
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1)
        }
    }
}

fn main() {
    if std::env::var_os(ROLE).is_some_and(|r| r == "forgetful") {
        // Deliberately no run_scanner_if_requested() here.
        let dir = std::env::var_os("EMBEDDING_DIR").expect("EMBEDDING_DIR");
        forgetful(Path::new(&dir));
    }
    iterable_host::run_scanner_if_requested();

    let mut failures = Vec::new();
    forgetting_the_scanner_call_is_named(&mut failures);
    iterabledata_home_is_read_only_with_the_environment(&mut failures);
    without_a_scanner_nothing_is_guessed_and_nothing_is_remembered(&mut failures);
    sandbox_denials_point_an_application_to_its_builder(&mut failures);

    let total = 9;
    println!(
        "\n{} passed, {} failed",
        total - failures.len(),
        failures.len()
    );
    if !failures.is_empty() {
        std::process::exit(1);
    }
}

fn site() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    fs::create_dir_all(tmp.path().join("plugins")).unwrap();
    fs::copy(
        util::plugin_lib("iterable_plugin_ltsv"),
        tmp.path().join("plugins/libiterable_plugin_ltsv.so"),
    )
    .unwrap();
    fs::write(tmp.path().join("x.ltsv"), "a:1\tb:2\n").unwrap();
    fs::write(tmp.path().join("y.csv"), "a,b\n1,2\n").unwrap();
    tmp
}

fn forgetting_the_scanner_call_is_named(failures: &mut Vec<String>) {
    let tmp = site();
    let out = Command::new(std::env::current_exe().unwrap())
        .env(ROLE, "forgetful")
        .env("EMBEDDING_DIR", tmp.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    check(
        "an_application_that_forgets_run_scanner_if_requested_is_told_so",
        out.status.code() == Some(1)
            && stderr.contains("plugin 'iterable_plugin_ltsv'")
            && stderr.contains("did not act as a plugin scanner (built a host instead")
            && stderr.contains(
                "must call iterable_host::run_scanner_if_requested() first thing in main",
            )
            && !stderr.contains("crashed"),
        format!("status {:?}: {stderr}", out.status.code()),
        failures,
    );
    let cache = fs::read_to_string(tmp.path().join("cache.json")).unwrap_or_default();
    check(
        "the_plugin_is_not_blamed_in_the_scan_cache",
        !cache.contains("\"failed\""),
        cache,
        failures,
    );
}

fn iterabledata_home_is_read_only_with_the_environment(failures: &mut Vec<String>) {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let elsewhere = tmp.path().join("elsewhere");
    fs::create_dir_all(home.join(".iterabledata/plugins")).unwrap();
    fs::create_dir_all(elsewhere.join("plugins")).unwrap();
    fs::copy(
        util::plugin_lib("iterable_plugin_ltsv"),
        elsewhere.join("plugins/libiterable_plugin_ltsv.so"),
    )
    .unwrap();
    // SAFETY: no other thread reads the environment at this point.
    unsafe {
        std::env::set_var("HOME", &home);
        std::env::set_var("ITERABLEDATA_HOME", &elsewhere);
    }
    let names = |env: bool| -> Vec<String> {
        let host = Host::builder()
            .default_dirs(true)
            .environment(env)
            .build()
            .unwrap();
        host.plugins().iter().map(|p| p.name().to_owned()).collect()
    };
    let (without, with) = (names(false), names(true));
    // SAFETY: as above.
    unsafe {
        std::env::remove_var("ITERABLEDATA_HOME");
    }
    check(
        "iterabledata_home_is_read_only_with_environment_true",
        without.is_empty() && with == ["iterable_plugin_ltsv"],
        format!("without: {without:?}, with: {with:?}"),
        failures,
    );
}

fn without_a_scanner_nothing_is_guessed_and_nothing_is_remembered(failures: &mut Vec<String>) {
    let tmp = site();
    let cache = tmp.path().join("cache.json");
    let host = Host::builder()
        .plugin_dir(tmp.path().join("plugins"))
        .cache_file(Some(cache.clone()))
        .build()
        .unwrap();
    let err = host
        .open(tmp.path().join("x.ltsv"), &OpenOptions::new())
        .err();
    check(
        "a_library_that_cannot_be_examined_stops_content_sniffing",
        err.as_ref().is_some_and(|e| {
            e.kind() == ErrorKind::UnknownFormat
                && e.plugin_name() == Some("iterable_plugin_ltsv")
                && e.to_string().contains("this host has no scanner")
        }),
        format!("{err:?}"),
        failures,
    );
    let csv: Result<Vec<Record>, _> = host
        .open(tmp.path().join("y.csv"), &OpenOptions::new())
        .and_then(|r| r.collect());
    check(
        "a_built_in_format_still_reads",
        csv.as_ref().is_ok_and(|r| r.len() == 1),
        format!("{csv:?}"),
        failures,
    );
    check(
        "the_missing_scanner_is_not_remembered_against_the_library",
        host.plugin("iterable_plugin_ltsv")
            .and_then(|p| p.error())
            .and_then(|e| e.plugin_kind())
            == Some(PluginErrorKind::Scanner)
            && !fs::read_to_string(&cache)
                .unwrap_or_default()
                .contains("\"failed\""),
        fs::read_to_string(&cache).unwrap_or_default(),
        failures,
    );
    // Given a scanner, the same library works at once.
    let host = Host::builder()
        .plugin_dir(tmp.path().join("plugins"))
        .cache_file(Some(cache))
        .scan_with_current_exe()
        .unwrap()
        .build()
        .unwrap();
    let n = host
        .open(tmp.path().join("x.ltsv"), &OpenOptions::new())
        .map(|r| r.count());
    check(
        "given_a_scanner_the_library_is_examined_and_read",
        matches!(n, Ok(1)),
        format!("{n:?}"),
        failures,
    );
}

fn sandbox_denials_point_an_application_to_its_builder(failures: &mut Vec<String>) {
    let tmp = tempfile::tempdir().unwrap();
    fs::create_dir_all(tmp.path().join("plugins")).unwrap();
    fs::copy(
        util::plugin_lib("iterable_misbehave"),
        tmp.path().join("plugins/libiterable_misbehave.so"),
    )
    .unwrap();
    fs::write(tmp.path().join("x.passwd"), "").unwrap();
    let host = Host::builder()
        .plugin_dir(tmp.path().join("plugins"))
        .isolate_plugins(true)
        .scan_with_current_exe()
        .unwrap()
        .build()
        .unwrap();
    let err = host
        .open(tmp.path().join("x.passwd"), &OpenOptions::new())
        .and_then(|r| r.collect::<Result<Vec<_>, _>>())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    let report = host.plugin("misbehave").and_then(|p| p.sandbox());
    let enforced = report
        .as_ref()
        .is_some_and(|r| r.requested && r.files == "enforced");
    check(
        "a_sandbox_denial_names_hostbuilder_plugin_settings",
        !enforced
            || (err.contains("(the sandbox of isolated plugins denies it; grant it with HostBuilder::plugin_settings(\"misbehave\"")
                && !err.contains("config.toml")),
        err,
        failures,
    );
    check(
        "plugin_sandbox_says_what_the_sandbox_enforces",
        report.as_ref().is_some_and(|r| r.requested),
        format!("{report:?}"),
        failures,
    );
}
