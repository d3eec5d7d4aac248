//! Plugins out of process (`--isolate-plugins`, `isolation = "process"`):
//! every kind works as in the host's process; a plugin that crashes,
//! aborts, exits, hangs or eats memory in the middle of a call ends the
//! command with a one-line error naming the plugin, the call and the cause,
//! and leaves no output; a sandboxed plugin cannot read, write or connect
//! outside what it was handed. Without isolation, the same corpus takes the
//! process down, as `docs/hardening.md` says.

mod util;

use std::fs;
use std::path::Path;

use serde_json::json;
use util::{Run, Site, json_lines, plugin_lib};

use iterable_host::iterable_core::{OpenOptions, Record, Value};
use iterable_host::{Host, PluginErrorExt, PluginErrorKind};

/// A site with the misbehaving corpus, the C faults, and well-behaved
/// plugins (ltsv, lz4, testkit) installed, and inputs for each case.
fn site() -> Site {
    let s = Site::new();
    for name in [
        "iterable_misbehave",
        "iterable_plugin_ltsv",
        "iterable_plugin_lz4",
        "iterable_testkit",
        "iterable_plugin_sqlite",
    ] {
        let lib = plugin_lib(name);
        s.run(&["install", lib.to_str().unwrap(), "--dir", "plugins"])
            .ok();
    }
    let cfaults = Path::new(iterable_test_cplugins::CFAULTS);
    fs::copy(
        cfaults,
        s.path().join("plugins").join(cfaults.file_name().unwrap()),
    )
    .unwrap();
    let p = s.path();
    for empty in [
        "x.segv3", "x.passwd", "x.homew", "x.net", "x.csegv", "x.ccount",
    ] {
        fs::write(p.join(empty), "").unwrap();
    }
    let mut csv = String::from("n,name\n");
    for i in 1..=500 {
        csv.push_str(&format!("{i},name {i}\n"));
    }
    fs::write(p.join("big.csv"), &csv).unwrap();
    fs::write(p.join("big.csv.exit3"), &csv).unwrap();
    fs::write(p.join("a.csv"), "a,b\n1,x\n2,\n").unwrap();
    fs::write(p.join("a.kv"), "id=1;name=Ann\nid=2;city=Lyon\nx=é\n").unwrap();
    fs::create_dir_all(p.join("home")).unwrap();
    s
}

/// Runs with every plugin isolated.
fn isolated(s: &Site, args: &[&str]) -> Run {
    let mut all = vec!["--isolate-plugins"];
    all.extend_from_slice(args);
    s.run(&all)
}

/// The one-line error of a run that failed with exit status 1.
fn fails(r: Run) -> String {
    assert_eq!(r.status, 1, "exit status; stderr: {}", r.stderr);
    r.err()
}

/// No output, and no temporary file left beside it.
fn no_output(s: &Site, name: &str) {
    assert!(!s.path().join(name).exists(), "{name} was left behind");
    let leftovers: Vec<String> = fs::read_dir(s.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(name) || n.starts_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "left behind: {leftovers:?}");
}

#[test]
fn list_plugins_and_info_show_where_each_plugin_runs() {
    let s = site();
    assert_eq!(s.listed("ltsv")["isolation"], "none");
    fs::create_dir_all(s.path().join("home/.iterabledata")).unwrap();
    fs::write(
        s.path().join("home/.iterabledata/config.toml"),
        "[plugins.misbehave]\nisolation = \"process\"\nmemory_limit = \"256MiB\"\n\
         [plugins.sqlite]\nisolation = \"process\"\nnetwork = true\ntimeout = 5\n",
    )
    .unwrap();
    assert_eq!(s.listed("misbehave")["isolation"], "process");
    assert_eq!(s.listed("ltsv")["isolation"], "none");
    let info = s.run(&["info", "misbehave"]).ok();
    assert!(
        info.contains(
            "isolation     process (sandboxed, no network, timeout 120 s, memory limit 256 MiB)"
        ),
        "{info}"
    );
    let info = s.run(&["info", "sqlite"]).ok();
    assert!(
        info.contains("isolation     process (sandboxed, network granted, timeout 5 s)"),
        "{info}"
    );
    let info = s.run(&["info", "ltsv"]).ok();
    assert!(
        info.contains("isolation     none (in this process)"),
        "{info}"
    );

    // Every plugin: the flag, the environment, the configuration.
    let all: serde_json::Value =
        serde_json::from_str(&isolated(&s, &["list-plugins", "--json"]).ok()).unwrap();
    assert!(
        all.as_array()
            .unwrap()
            .iter()
            .all(|p| p["isolation"] == "process"),
        "{all}"
    );
    let r = util::command(
        s.path(),
        &["--plugin-dir", "plugins", "list-plugins", "--json"],
    )
    .env("ITERABLEDATA_ISOLATE", "1")
    .output()
    .unwrap();
    let all: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    assert!(
        all.as_array()
            .unwrap()
            .iter()
            .all(|p| p["isolation"] == "process")
    );
    fs::write(
        s.path().join("home/.iterabledata/config.toml"),
        "isolate = true\n[plugins.ltsv]\nisolation = \"none\"\n",
    )
    .unwrap();
    assert_eq!(s.listed("lz4")["isolation"], "process");
    assert_eq!(s.listed("ltsv")["isolation"], "none");
    // The text listing has a column for it.
    let text = s.run(&["list-plugins"]).ok();
    assert!(text.lines().next().unwrap().contains("ISOLATION"), "{text}");

    // A broken setting is an error that names the file.
    fs::write(
        s.path().join("home/.iterabledata/config.toml"),
        "memory_limit = \"lots\"\n",
    )
    .unwrap();
    let e = fails(s.run(&["list-plugins"]));
    assert!(
        e.contains("config.toml: invalid configuration: memory_limit = \"lots\" is not a size"),
        "{e}"
    );
}

#[test]
fn isolated_plugins_give_exactly_what_they_give_in_process() {
    let s = site();
    // A format and a codec of two plugins, both ways.
    isolated(&s, &["convert", "big.csv", "big.ltsv.lz4"]).ok();
    let inproc = s.run(&["cat", "big.ltsv.lz4"]).ok();
    assert_eq!(isolated(&s, &["cat", "big.ltsv.lz4"]).ok(), inproc);
    assert_eq!(json_lines(&inproc).len(), 500);
    assert_eq!(
        json_lines(&inproc)[499],
        json!({"n": "500", "name": "name 500"})
    );
    // Values of several types in one column, and rows whose fields differ.
    let kv = isolated(&s, &["cat", "a.kv"]).ok();
    assert_eq!(kv, s.run(&["cat", "a.kv"]).ok());
    assert_eq!(
        json_lines(&kv),
        [
            json!({"id": 1, "name": "Ann"}),
            json!({"id": 2, "city": "Lyon"}),
            json!({"x": "é"}),
        ]
    );
    // Writing: the same bytes.
    isolated(&s, &["convert", "a.kv", "iso.kv"]).ok();
    s.run(&["convert", "a.kv", "in.kv"]).ok();
    assert_eq!(s.read("iso.kv"), s.read("in.kv"));
    // A driver, writing a file database and reading it back.
    isolated(&s, &["convert", "a.csv", "sqlite://t.db", "--table", "t"]).ok();
    assert_eq!(
        json_lines(&isolated(&s, &["cat", "sqlite://t.db", "--table", "t"]).ok()),
        [json!({"a": "1", "b": "x"}), json!({"a": "2", "b": ""})]
    );
    // A rule, an engine and a hook of the testkit plugin.
    let v = isolated(
        &s,
        &[
            "validate",
            "big.csv",
            "--rule",
            "n=test.even",
            "--mode",
            "invalid",
        ],
    )
    .ok();
    assert_eq!(json_lines(&v).len(), 250);
    let q = isolated(&s, &["query", "--engine", "concat", "ALL", "a.csv"]).ok();
    assert_eq!(
        json_lines(&q),
        [
            json!({"_table": "data", "a": "1", "b": "x"}),
            json!({"_table": "data", "a": "2", "b": ""}),
        ]
    );
    let e = fails(isolated(
        &s,
        &[
            "--hook",
            "testkit.stop",
            "--hook-option",
            "testkit.stop.after=100",
            "count",
            "big.csv",
        ],
    ));
    assert!(
        e.contains("hook 'testkit.stop' stopped the run") && e.contains("more than 100 records"),
        "{e}"
    );
    // A C plugin too.
    assert_eq!(
        json_lines(&isolated(&s, &["cat", "x.ccount"]).ok()).len(),
        6,
    );
}

// ---------------------------------------------------------------------------
// The corpus, isolated: each survived, with the right cause.

#[test]
fn a_segfault_in_the_third_batch_of_a_read_is_contained() {
    let s = site();
    let e = fails(isolated(&s, &["convert", "x.segv3", "out.csv"]));
    assert_eq!(
        e,
        "iterable-host: error: plugin 'misbehave': x.segv3: died during read: killed by signal 11 (SIGSEGV)"
    );
    no_output(&s, "out.csv");
    // The C flavour.
    let e = fails(isolated(&s, &["convert", "x.csegv", "out.csv"]));
    assert_eq!(
        e,
        "iterable-host: error: plugin 'cfaults': x.csegv: died during read: killed by signal 11 (SIGSEGV)"
    );
    no_output(&s, "out.csv");
}

#[test]
fn an_abort_inside_a_writer_after_some_output_leaves_no_output() {
    let s = site();
    let e = fails(isolated(&s, &["convert", "big.csv", "out.abortw"]));
    assert_eq!(
        e,
        "iterable-host: error: plugin 'misbehave': out.abortw: died during write: killed by signal 6 (SIGABRT)"
    );
    no_output(&s, "out.abortw");
}

#[test]
fn an_exit_in_a_codec_s_decode_is_contained() {
    let s = site();
    let e = fails(isolated(
        &s,
        &[
            "convert",
            "big.csv.exit3",
            "out.jsonl",
            "--in-format",
            "csv",
        ],
    ));
    assert_eq!(
        e,
        "iterable-host: error: plugin 'misbehave': big.csv.exit3: died during decode: exited with status 3"
    );
    no_output(&s, "out.jsonl");
}

#[test]
fn an_endless_loop_in_a_rule_check_is_killed_at_the_deadline() {
    let s = site();
    let start = std::time::Instant::now();
    let e = fails(isolated(
        &s,
        &[
            "--plugin-timeout",
            "1",
            "validate",
            "a.csv",
            "--rule",
            "a=misbehave.spin",
        ],
    ));
    assert_eq!(
        e,
        "iterable-host: error: plugin 'misbehave': died during check: no answer within 1 s, killed"
    );
    assert!(start.elapsed().as_secs() < 60);
    // The environment sets the deadline too.
    let r = util::command(
        s.path(),
        &[
            "--plugin-dir",
            "plugins",
            "--isolate-plugins",
            "validate",
            "a.csv",
            "--rule",
            "a=misbehave.spin",
        ],
    )
    .env("ITERABLEDATA_PLUGIN_TIMEOUT", "0.5")
    .output()
    .unwrap();
    let e = Run::from(r).err();
    assert!(
        e.ends_with("died during check: no answer within 0.5 s, killed"),
        "{e}"
    );
}

#[test]
fn a_query_that_allocates_without_bound_runs_out_of_its_memory() {
    let s = site();
    fs::create_dir_all(s.path().join("home/.iterabledata")).unwrap();
    fs::write(
        s.path().join("home/.iterabledata/config.toml"),
        "memory_limit = \"256MiB\"\n",
    )
    .unwrap();
    let e = fails(isolated(
        &s,
        &["query", "--engine", "hog", "anything", "a.csv"],
    ));
    assert_eq!(
        e,
        "iterable-host: error: plugin 'misbehave': died during query: out of memory (over its limit of 256 MiB)"
    );
}

#[test]
fn a_hook_that_segfaults_on_close_fails_the_run_and_leaves_no_output() {
    let s = site();
    let e = fails(isolated(
        &s,
        &["--hook", "segvclose", "convert", "a.csv", "out.jsonl"],
    ));
    assert_eq!(
        e,
        "iterable-host: error: hook 'segvclose' stopped the run: plugin 'misbehave': died during hook: killed by signal 11 (SIGSEGV)"
    );
    no_output(&s, "out.jsonl");
}

#[test]
fn a_sandboxed_plugin_cannot_read_write_or_connect_outside_what_it_was_handed() {
    let s = site();
    let hint = "(the sandbox of isolated plugins denies it; grant it in config.toml: \
                [plugins.misbehave] with read = [...], write = [...] or network = true)";
    let e = fails(isolated(&s, &["convert", "x.passwd", "out.jsonl"]));
    assert_eq!(
        e,
        format!(
            "iterable-host: error: plugin 'misbehave': x.passwd: cannot read /etc/passwd: Permission denied (os error 13) {hint}"
        )
    );
    no_output(&s, "out.jsonl");

    let e = fails(isolated(&s, &["convert", "x.homew", "out.jsonl"]));
    let home = s.path().join("home/misbehave-was-here");
    assert_eq!(
        e,
        format!(
            "iterable-host: error: plugin 'misbehave': x.homew: cannot write {}: Permission denied (os error 13) {hint}",
            home.display()
        )
    );
    assert!(!home.exists());
    no_output(&s, "out.jsonl");

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let opt = format!("port={port}");
    let e = fails(isolated(
        &s,
        &["convert", "x.net", "out.jsonl", "--in-option", &opt],
    ));
    assert_eq!(
        e,
        format!(
            "iterable-host: error: plugin 'misbehave': x.net: cannot connect to 127.0.0.1:{port}: Permission denied (os error 13) {hint}"
        )
    );
    assert!(listener.accept().is_err(), "the plugin connected");
    no_output(&s, "out.jsonl");

    // What the configuration grants, it may.
    fs::create_dir_all(s.path().join("home/.iterabledata")).unwrap();
    fs::write(
        s.path().join("home/.iterabledata/config.toml"),
        format!(
            "[plugins.misbehave]\nnetwork = true\nread = [\"/etc/passwd\"]\nwrite = [\"{}\"]\n",
            s.path().join("home").display()
        ),
    )
    .unwrap();
    isolated(&s, &["convert", "x.passwd", "out.jsonl"]).ok();
    isolated(&s, &["cat", "x.homew"]).ok();
    assert!(home.exists());
    assert_eq!(
        json_lines(&isolated(&s, &["cat", "x.net", "--option", &opt]).ok()),
        [json!({"connected": port.parse::<i64>().unwrap()})]
    );
}

// ---------------------------------------------------------------------------
// The same corpus in the host's process: documented as fatal.

/// How a process ended: its exit code, or the signal that killed it.
fn ended(s: &Site, args: &[&str]) -> (Option<i32>, Option<i32>, String) {
    use std::os::unix::process::ExitStatusExt;
    let mut all = vec!["--plugin-dir", "plugins"];
    all.extend_from_slice(args);
    let o = util::command(s.path(), &all).output().unwrap();
    (
        o.status.code(),
        o.status.signal(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn without_isolation_the_crash_takes_the_process_as_documented() {
    let s = site();
    let (code, signal, _) = ended(&s, &["convert", "x.segv3", "out.csv"]);
    assert_eq!((code, signal), (None, Some(11)));
    let (code, signal, _) = ended(&s, &["convert", "x.csegv", "out.csv"]);
    assert_eq!((code, signal), (None, Some(11)));
    let (code, signal, _) = ended(&s, &["convert", "big.csv", "out.abortw"]);
    assert_eq!((code, signal), (None, Some(6)));
    let (code, signal, stderr) = ended(
        &s,
        &[
            "convert",
            "big.csv.exit3",
            "out.jsonl",
            "--in-format",
            "csv",
        ],
    );
    assert_eq!((code, signal), (Some(3), None));
    // No error message: the plugin ended the process behind the host's back.
    assert!(!stderr.contains("error"), "{stderr}");
    let (code, signal, _) = ended(&s, &["--hook", "segvclose", "count", "a.csv"]);
    assert_eq!((code, signal), (None, Some(11)));
    // The outputs never appeared under their names (they are renamed into
    // place at the end), but the crashed process could not remove its
    // hidden temporary files: `.out.csv.XXXXXX.partial` stay behind.
    for name in ["out.csv", "out.abortw", "out.jsonl"] {
        assert!(!s.path().join(name).exists(), "{name}");
    }
    let partial = fs::read_dir(s.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .any(|e| e.file_name().to_string_lossy().ends_with(".partial"));
    assert!(partial);
    // And nothing stops it reading or writing where it likes.
    assert!(s.run(&["cat", "x.passwd"]).ok().contains("root"));
    s.run(&["cat", "x.homew"]).ok();
    assert!(s.path().join("home/misbehave-was-here").exists());
}

// ---------------------------------------------------------------------------
// In a Rust application: an `Err`, and the process goes on.

fn read_all(
    host: &Host,
    path: &Path,
    opts: &OpenOptions,
) -> iterable_host::iterable_core::Result<Vec<Record>> {
    host.open(path, opts)?.collect()
}

#[test]
fn in_a_library_each_failure_is_an_err_and_the_next_operation_works() {
    let s = site();
    let p = s.path();
    let host = Host::builder()
        .plugin_dir(p.join("plugins"))
        .scanner(util::scanner())
        .isolate_plugins(true)
        .plugin_timeout(Some(std::time::Duration::from_secs(1)))
        .runner_memory_limit(256 << 20)
        .build()
        .unwrap();
    let next_ops_work = |host: &Host| {
        // A built-in, and a plugin (the same one, and another).
        assert_eq!(
            read_all(host, &p.join("a.csv"), &OpenOptions::new())
                .unwrap()
                .len(),
            2
        );
        let kv = read_all(host, &p.join("a.kv"), &OpenOptions::new()).unwrap();
        assert_eq!(kv[0].get("id"), Some(&Value::Int(1)));
        let lines = read_all(host, &p.join("x.passwd"), &OpenOptions::new());
        assert!(lines.is_err());
    };
    let died = |e: &iterable_host::iterable_core::Error, cause: &str| {
        assert_eq!(e.plugin_kind(), Some(PluginErrorKind::Died), "{e}");
        assert_eq!(e.plugin_name(), Some("misbehave"), "{e}");
        assert!(e.to_string().contains(cause), "{e}");
    };

    let e = read_all(&host, &p.join("x.segv3"), &OpenOptions::new()).unwrap_err();
    died(&e, "died during read: killed by signal 11 (SIGSEGV)");
    next_ops_work(&host);

    let out = p.join("lib.abortw");
    let mut w = host.create(&out, &OpenOptions::new()).unwrap();
    let mut failed = None;
    for i in 0..500 {
        if let Err(e) = w.write(&Record::from_pairs([("n", i)])) {
            failed = Some(e);
            break;
        }
    }
    let e = match failed {
        Some(e) => e,
        None => w.finish().map(|_| ()).unwrap_err(),
    };
    died(&e, "died during write: killed by signal 6 (SIGABRT)");
    assert!(!out.exists());
    next_ops_work(&host);

    let e = read_all(
        &host,
        &p.join("big.csv.exit3"),
        &OpenOptions {
            format: Some("csv".into()),
            ..OpenOptions::new()
        },
    )
    .unwrap_err();
    died(&e, "died during decode: exited with status 3");
    next_ops_work(&host);

    let rule = host.registry().rule("misbehave.spin").unwrap();
    let mut verdicts = Vec::new();
    let e = rule
        .check_batch(&[&Value::from("x")], &mut verdicts)
        .unwrap_err();
    died(&e, "died during check: no answer within 1 s, killed");
    next_ops_work(&host);

    let engine = host.registry().engine("hog").unwrap();
    let e = engine
        .execute("x", Vec::new(), &Default::default())
        .map(|_| ())
        .unwrap_err();
    died(
        &e,
        "died during query: out of memory (over its limit of 256 MiB)",
    );
    next_ops_work(&host);

    let hook = host.registry().hook("segvclose").unwrap();
    let mut o = hook.open(&Default::default(), &Default::default()).unwrap();
    let e = o.close(&Default::default()).unwrap_err();
    died(&e, "died during hook: killed by signal 11 (SIGSEGV)");
    next_ops_work(&host);
}

/// The pids of runners whose command line mentions `needle`.
fn runners(needle: &str) -> Vec<u32> {
    fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| {
                let c = String::from_utf8_lossy(&c);
                c.contains("--serve") && c.contains(needle)
            })
        })
        .collect()
}

#[test]
fn a_runner_stuck_in_a_loop_ends_with_the_host() {
    let s = site();
    let mut host = util::command(
        s.path(),
        &[
            "--plugin-dir",
            "plugins",
            "--isolate-plugins",
            "--plugin-timeout",
            "0",
            "validate",
            "a.csv",
            "--rule",
            "a=misbehave.spin",
        ],
    )
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::null())
    .spawn()
    .unwrap();
    let needle = s.path().to_string_lossy().into_owned();
    let start = std::time::Instant::now();
    while runners(&needle).is_empty() {
        assert!(start.elapsed().as_secs() < 30, "no runner started");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    host.kill().unwrap();
    host.wait().unwrap();
    let start = std::time::Instant::now();
    while !runners(&needle).is_empty() {
        assert!(
            start.elapsed().as_secs() < 10,
            "a runner outlived its host: {:?}",
            runners(&needle)
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
