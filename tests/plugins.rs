//! The plugin host against real plugin libraries: error kinds, laziness,
//! priority and shadowing, the failure cache, and every kind of provider
//! through the `iterable-host` binary.

mod util;

use std::fs;
use std::path::{Path, PathBuf};

use iterable_core::{ErrorKind, OpenOptions, Provider, Record, Value};
use iterable_host::{Host, PluginErrorExt, PluginErrorKind, Status};
use serde_json::json;
use util::{json_lines, plugin_lib, run};

/// A temporary plugin directory and helpers to fill it.
struct Lab {
    dir: tempfile::TempDir,
}

impl Lab {
    fn new() -> Lab {
        let lab = Lab {
            dir: tempfile::tempdir().unwrap(),
        };
        fs::create_dir_all(lab.plugins()).unwrap();
        fs::create_dir_all(lab.path().join("home")).unwrap();
        lab
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn plugins(&self) -> PathBuf {
        self.path().join("plugins")
    }

    /// Installs a test plugin with its manifest into `<plugins>/<name>/`.
    fn install(&self, crate_name: &str, manifest_dir: &str) -> PathBuf {
        self.install_into(&self.plugins(), crate_name, manifest_dir)
    }

    fn install_into(&self, root: &Path, crate_name: &str, manifest_dir: &str) -> PathBuf {
        let name = manifest_dir.rsplit('/').next().unwrap();
        let dir = root.join(name);
        fs::create_dir_all(&dir).unwrap();
        let lib = plugin_lib(crate_name);
        fs::copy(&lib, dir.join(lib.file_name().unwrap())).unwrap();
        let manifest = util::workspace().join(manifest_dir).join("plugin.toml");
        fs::copy(manifest, dir.join("plugin.toml")).unwrap();
        dir
    }

    /// A manifest plugin directory with the given manifest text.
    fn manifest(&self, name: &str, text: &str) -> PathBuf {
        let dir = self.plugins().join(name);
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("plugin.toml"), text).unwrap();
        dir
    }

    fn host(&self) -> Host {
        self.builder().build().unwrap()
    }

    fn builder(&self) -> iterable_host::HostBuilder {
        Host::builder()
            .scanner(util::scanner())
            .plugin_dir(self.plugins())
            .default_dirs(false)
            .no_config()
            .cache_file(Some(self.path().join("cache.json")))
    }

    fn run(&self, args: &[&str]) -> util::Run {
        let dir = self.plugins();
        let mut all = vec!["--plugin-dir", dir.to_str().unwrap()];
        all.extend(args);
        run(self.path(), &all)
    }
}

fn manifest_text(name: &str, api: &str, library: &str) -> String {
    format!(
        "[plugin]\nname = \"{name}\"\nversion = \"0.1.0\"\napi_version = \"{api}\"\nlibrary = \"{library}\"\n\n[[format]]\nid = \"{name}fmt\"\nextensions = [\"{name}\"]\n"
    )
}

fn failure(host: &Host, name: &str) -> (Status, Option<PluginErrorKind>, String) {
    let p = host
        .plugin(name)
        .unwrap_or_else(|| panic!("no plugin {name}: {:?}", host.plugins()));
    (
        p.status(),
        p.error().and_then(|e| e.plugin_kind()),
        p.reason().unwrap_or_default(),
    )
}

#[test]
fn every_load_failure_has_its_exact_kind_and_the_rest_keeps_working() {
    let lab = Lab::new();
    lab.install("iterable_testkit", "tests/plugins/testkit");
    fs::write(lab.plugins().join("libgarbage.so"), b"not a library at all").unwrap();
    fs::copy(
        plugin_lib("iterable_nosymbol"),
        lab.plugins().join("libnosymbol.so"),
    )
    .unwrap();
    lab.manifest("badtoml", "[plugin\nname = ");
    lab.manifest("nolib", &manifest_text("nolib", "1.0.0", "libnolib.so"));
    let major2 = lab.manifest("major2", &manifest_text("major2", "2.0.0", "libmajor2.so"));
    fs::copy(plugin_lib("iterable_testkit"), major2.join("libmajor2.so")).unwrap();
    lab.manifest(
        "missingkeys",
        "[plugin]\nname = \"missingkeys\"\nversion = \"1\"\n",
    );

    let host = lab.host();
    let (st, kind, why) = failure(&host, "garbage");
    assert_eq!(
        (st, kind),
        (Status::Failed, Some(PluginErrorKind::NotALibrary)),
        "{why}"
    );
    let (st, kind, why) = failure(&host, "nosymbol");
    assert_eq!(
        (st, kind),
        (Status::Failed, Some(PluginErrorKind::MissingSymbol)),
        "{why}"
    );
    let (st, kind, why) = failure(&host, "badtoml");
    assert_eq!(
        (st, kind),
        (Status::Failed, Some(PluginErrorKind::BadManifest)),
        "{why}"
    );
    assert!(why.contains("line 1"), "{why}");
    let (st, kind, why) = failure(&host, "missingkeys");
    assert_eq!(
        (st, kind),
        (Status::Failed, Some(PluginErrorKind::BadManifest)),
        "{why}"
    );
    assert!(why.contains("api_version"), "{why}");
    let (st, kind, why) = failure(&host, "nolib");
    assert_eq!(
        (st, kind),
        (Status::Failed, Some(PluginErrorKind::MissingLibrary)),
        "{why}"
    );
    assert!(
        why.contains("libnolib.so") && why.contains("does not exist"),
        "{why}"
    );
    let (st, kind, why) = failure(&host, "major2");
    assert_eq!(
        (st, kind),
        (Status::Failed, Some(PluginErrorKind::VersionMismatch)),
        "{why}"
    );
    assert!(
        why.contains("2.0.0")
            && why.contains(iterable_plugin_api::ABI_VERSION)
            && why.contains("rebuild"),
        "{why}"
    );

    // The good plugin and the built-ins still work in the same host.
    assert_eq!(host.plugin("testkit").unwrap().status(), Status::Available);
    let kv = lab.path().join("a.kv");
    fs::write(&kv, "x=1;y=hi\n").unwrap();
    let recs: Vec<Record> = host
        .open(&kv, &OpenOptions::new())
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        recs,
        [Record::from_pairs([
            ("x", Value::Int(1)),
            ("y", Value::from("hi"))
        ])]
    );
    let csv = lab.path().join("b.csv");
    fs::write(&csv, "a\n1\n").unwrap();
    assert_eq!(host.open(&csv, &OpenOptions::new()).unwrap().count(), 1);
}

#[test]
fn panics_in_plugin_calls_are_errors_naming_the_plugin() {
    let lab = Lab::new();
    lab.install("iterable_testkit", "tests/plugins/testkit");
    let host = lab.host();
    let f = lab.path().join("x.boom");
    fs::write(&f, "").unwrap();
    let err = host
        .open(&f, &OpenOptions::new())
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap_err();
    assert_eq!(err.plugin_kind(), Some(PluginErrorKind::Panic), "{err}");
    assert_eq!(err.plugin_name(), Some("testkit"));
    assert!(err.to_string().contains("boom at record 2"), "{err}");

    let rule = host.registry().rule("test.boom").unwrap();
    let mut out = Vec::new();
    let err = rule.check_batch(&[&Value::Int(1)], &mut out).unwrap_err();
    assert_eq!(err.plugin_kind(), Some(PluginErrorKind::Panic), "{err}");
    assert!(err.to_string().contains("rule exploded"), "{err}");

    // The plugin stays usable for its other providers after a panic.
    let even = host.registry().rule("test.even").unwrap();
    even.check_batch(&[&Value::Int(2), &Value::Int(3)], &mut out)
        .unwrap();
    assert_eq!(out, [None, Some("3 is odd".to_owned())]);
}

#[test]
fn a_panic_during_initialisation_is_contained() {
    let lab = Lab::new();
    lab.install("iterable_testkit", "tests/plugins/testkit");
    let f = lab.path().join("a.kv");
    fs::write(&f, "x=1\n").unwrap();
    let out = util::command(
        lab.path(),
        &[
            "--plugin-dir",
            lab.plugins().to_str().unwrap(),
            "cat",
            "a.kv",
        ],
    )
    .env("ITERABLE_TESTKIT_PANIC_INIT", "1")
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("iterable-host: error: plugin 'testkit':"),
        "{stderr}"
    );
    assert!(stderr.contains("testkit refuses to start"), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    // The failure is remembered: list-plugins shows it with its reason.
    let listed: serde_json::Value =
        serde_json::from_str(&lab.run(&["list-plugins", "--json"]).ok()).unwrap();
    assert_eq!(listed[0]["status"], "failed");
    assert_eq!(listed[0]["error_kind"], "panic");
}

#[test]
fn listing_loads_nothing_and_using_a_format_loads_only_its_plugin() {
    let lab = Lab::new();
    lab.install("iterable_testkit", "tests/plugins/testkit");
    lab.install("iterable_shadowcsv", "tests/plugins/shadowcsv");
    fs::write(lab.path().join("a.kv"), "x=1\n").unwrap();
    let ld = |args: &[&str]| {
        let mut all = vec!["--plugin-dir", "plugins"];
        all.extend(args);
        util::ld_trace(lab.path(), &all)
    };
    let trace = ld(&["list-plugins"]);
    assert!(
        trace.contains("file="),
        "LD_DEBUG=files gave no trace: {trace}"
    );
    assert!(
        !trace.contains("libiterable_testkit.so"),
        "list-plugins loaded testkit"
    );
    assert!(
        !trace.contains("libiterable_shadowcsv.so"),
        "list-plugins loaded shadowcsv"
    );
    let trace = ld(&["cat", "a.kv"]);
    assert!(
        trace.contains("libiterable_testkit.so"),
        "reading a.kv did not load testkit"
    );
    assert!(
        !trace.contains("libiterable_shadowcsv.so"),
        "reading a.kv loaded shadowcsv"
    );
    // Built-in work loads no plugin at all.
    fs::write(lab.path().join("b.csv"), "a\n1\n").unwrap();
    let trace = ld(&["cat", "b.csv"]);
    assert!(
        !trace.contains("libiterable_"),
        "a built-in read loaded a plugin"
    );
}

#[test]
fn statuses_before_and_after_use() {
    let lab = Lab::new();
    lab.install("iterable_testkit", "tests/plugins/testkit");
    let host = lab.host();
    let p = host.plugin("testkit").unwrap();
    assert_eq!(p.status(), Status::Available);
    let f = lab.path().join("a.kv");
    fs::write(&f, "x=2\n").unwrap();
    host.open(&f, &OpenOptions::new()).unwrap().for_each(drop);
    assert_eq!(p.status(), Status::Loaded);
}

#[test]
fn a_plugin_claiming_a_builtin_id_is_shadowed_unless_allowed() {
    let lab = Lab::new();
    lab.install("iterable_shadowcsv", "tests/plugins/shadowcsv");
    let csv = lab.path().join("a.csv");
    fs::write(&csv, "a,b\n1,2\n").unwrap();

    let host = lab.host();
    let p = host.plugin("shadowcsv").unwrap();
    assert_eq!(p.status(), Status::Shadowed);
    assert!(
        p.reason().unwrap().contains("'csv' by builtin"),
        "{:?}",
        p.reason()
    );
    let recs: Vec<Record> = host
        .open(&csv, &OpenOptions::new())
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(recs[0].names(), ["a", "b"]);
    let entry = host
        .registry()
        .format_entries()
        .iter()
        .find(|e| e.id == "csv" && e.shadowed_by.is_some());
    assert!(
        entry.is_some(),
        "the shadowed csv stays visible in listings"
    );

    // Allowed by configuration: the plugin's csv wins.
    let cfg = lab.path().join("config.toml");
    fs::write(&cfg, "allow_override = [\"csv\"]\n").unwrap();
    let host = lab.builder().config_file(&cfg).build().unwrap();
    assert_eq!(
        host.plugin("shadowcsv").unwrap().status(),
        Status::Available
    );
    let recs: Vec<Record> = host
        .open(&csv, &OpenOptions::new())
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(recs[0], Record::from_pairs([("line", "a,b")]));

    // The CLI shows both, with the shadowing.
    let formats: serde_json::Value =
        serde_json::from_str(&lab.run(&["formats", "--json"]).ok()).unwrap();
    let csvs: Vec<_> = formats
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["id"] == "csv")
        .collect();
    assert_eq!(csvs.len(), 2);
    assert_eq!(csvs[1]["source"], "plugin:shadowcsv");
    assert_eq!(csvs[1]["status"], "shadowed");
    assert_eq!(csvs[1]["shadowed_by"], "builtin");
}

#[test]
fn earlier_directory_wins_and_registered_types_beat_plugins() {
    let lab = Lab::new();
    let first = lab.path().join("first");
    let second = lab.path().join("second");
    lab.install_into(&first, "iterable_testkit", "tests/plugins/testkit");
    lab.install_into(&second, "iterable_testkit", "tests/plugins/testkit");
    let host = Host::builder()
        .plugin_dir(&first)
        .plugin_dir(&second)
        .default_dirs(false)
        .no_config()
        .cache_file(None)
        .build()
        .unwrap();
    let ps = host.plugins();
    assert_eq!(ps.len(), 2);
    assert!(ps[0].path().starts_with(&first));
    assert_eq!(ps[0].status(), Status::Available);
    assert_eq!(ps[1].status(), Status::Shadowed);
    assert!(
        ps[1]
            .reason()
            .unwrap()
            .contains("comes earlier on the search path")
    );

    // A format registered in code stands before any plugin of the same id.
    let kv = host.registry().format("kv").unwrap();
    let mine = Provider::Format(std::sync::Arc::new(
        iterable_core::formats::DelimitedFormat::csv(),
    ));
    let _ = kv;
    let host = lab.builder().register(mine.clone()).build();
    assert_eq!(
        host.unwrap_err().kind(),
        ErrorKind::Conflict,
        "csv is built in"
    );
}

#[test]
fn a_failed_load_is_cached_with_its_reason_until_the_file_changes() {
    let lab = Lab::new();
    let dir = lab.install("iterable_testkit", "tests/plugins/testkit");
    let lib = dir.join("libiterable_testkit.so");
    let good = fs::read(&lib).unwrap();
    fs::write(&lib, b"garbage garbage garbage").unwrap();
    fs::write(lab.path().join("a.kv"), "x=1\n").unwrap();
    // Before use, a manifest plugin is available: nothing was loaded.
    let listed: serde_json::Value =
        serde_json::from_str(&lab.run(&["list-plugins", "--json"]).ok()).unwrap();
    assert_eq!(listed[0]["status"], "available");
    let err = lab.run(&["cat", "a.kv"]).err();
    assert!(
        err.contains("plugin 'testkit'") && err.contains("not a loadable library"),
        "{err}"
    );
    let listed: serde_json::Value =
        serde_json::from_str(&lab.run(&["list-plugins", "--json"]).ok()).unwrap();
    assert_eq!(listed[0]["status"], "failed");
    assert_eq!(listed[0]["error_kind"], "not-a-library");
    assert!(
        listed[0]["error"]
            .as_str()
            .unwrap()
            .contains("not a loadable library")
    );
    // Fixing the file clears the failure.
    fs::write(&lib, good).unwrap();
    let listed: serde_json::Value =
        serde_json::from_str(&lab.run(&["list-plugins", "--json"]).ok()).unwrap();
    assert_eq!(listed[0]["status"], "available");
    assert_eq!(
        json_lines(&lab.run(&["cat", "a.kv"]).ok()),
        [json!({"x": 1})]
    );
}

#[test]
fn a_library_without_manifest_is_examined_once_then_served_from_the_cache() {
    let lab = Lab::new();
    fs::copy(
        plugin_lib("iterable_testkit"),
        lab.plugins().join("libiterable_testkit.so"),
    )
    .unwrap();
    let host = lab.host();
    let p = host.plugin("testkit").expect("named from its metadata");
    assert_eq!(
        p.status(),
        Status::Available,
        "examined by a scanner, not loaded here"
    );
    assert_eq!(p.provides().formats, ["kv", "boom"]);
    let cache = fs::read_to_string(lab.path().join("cache.json")).unwrap();
    assert!(cache.contains("\"outcome\": \"scanned\""), "{cache}");
    let host = lab.host();
    let p = host.plugin("testkit").unwrap();
    assert_eq!(
        p.status(),
        Status::Available,
        "served from the cache, not loaded"
    );
    // A corrupt cache is rebuilt, not trusted.
    fs::write(lab.path().join("cache.json"), b"{broken").unwrap();
    let host = lab.host();
    assert_eq!(
        host.plugin("testkit").unwrap().provides().engines,
        ["concat", "boom"]
    );
    let cache = fs::read_to_string(lab.path().join("cache.json")).unwrap();
    assert!(
        cache.contains("\"outcome\": \"scanned\""),
        "rebuilt: {cache}"
    );
}

#[test]
fn a_manifest_that_lies_is_reported() {
    let lab = Lab::new();
    let dir = lab.install("iterable_testkit", "tests/plugins/testkit");
    let text = fs::read_to_string(dir.join("plugin.toml")).unwrap();
    fs::write(
        dir.join("plugin.toml"),
        format!("{text}\n[[format]]\nid = \"ghost\"\nextensions = [\"ghost\"]\n"),
    )
    .unwrap();
    fs::write(lab.path().join("a.ghost"), "x").unwrap();
    let err = lab.run(&["cat", "a.ghost"]).err();
    assert!(
        err.contains("declares format 'ghost' but the library does not provide it"),
        "{err}"
    );
    let host = lab.host();
    let reader = host.open(lab.path().join("a.ghost"), &OpenOptions::new());
    assert_eq!(
        reader.unwrap_err().plugin_kind(),
        Some(PluginErrorKind::ManifestMismatch)
    );
    assert!(
        host.plugin("testkit")
            .unwrap()
            .warnings()
            .iter()
            .any(|w| w.contains("'ghost'"))
    );
}

#[test]
fn no_plugins_is_a_safe_mode() {
    let lab = Lab::new();
    lab.install("iterable_testkit", "tests/plugins/testkit");
    let listed: serde_json::Value =
        serde_json::from_str(&lab.run(&["--no-plugins", "list-plugins", "--json"]).ok()).unwrap();
    assert_eq!(listed[0]["status"], "disabled");
    fs::write(lab.path().join("a.kv"), "x=1\n").unwrap();
    // Its files are refused with its name, not guessed at.
    let err = lab.run(&["--no-plugins", "cat", "a.kv"]).err();
    assert_eq!(
        err,
        "iterable-host: error: plugin 'testkit': a.kv: the plugin is disabled: \
         plugins are disabled (--no-plugins or ITERABLEDATA_NO_PLUGINS)"
    );
    let out = util::command(
        lab.path(),
        &["--plugin-dir", "plugins", "list-plugins", "--json"],
    )
    .env("ITERABLEDATA_NO_PLUGINS", "1")
    .output()
    .unwrap();
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed[0]["status"], "disabled");
}

#[test]
fn search_path_order_env_config_and_user_dir() {
    let lab = Lab::new();
    let env_dir = lab.path().join("envdir");
    let cfg_dir = lab.path().join("cfgdir");
    let user_dir = lab
        .path()
        .join("home")
        .join(".iterabledata")
        .join("plugins");
    lab.install_into(&env_dir, "iterable_testkit", "tests/plugins/testkit");
    lab.install_into(&cfg_dir, "iterable_testkit", "tests/plugins/testkit");
    lab.install_into(&user_dir, "iterable_testkit", "tests/plugins/testkit");
    fs::write(
        lab.path()
            .join("home")
            .join(".iterabledata")
            .join("config.toml"),
        format!("plugin_dirs = [{:?}]\n", cfg_dir.to_str().unwrap()),
    )
    .unwrap();
    let out = util::command(lab.path(), &["list-plugins", "--json"])
        .env("ITERABLEDATA_PLUGIN_PATH", &env_dir)
        .output()
        .unwrap();
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let sources: Vec<(&str, &str)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["source"].as_str().unwrap(), p["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        sources,
        [
            ("environment", "available"),
            ("config", "shadowed"),
            ("user", "shadowed")
        ]
    );
}

#[test]
fn drivers_engines_rules_and_codecs_through_the_cli() {
    let lab = Lab::new();
    lab.install("iterable_testkit", "tests/plugins/testkit");
    fs::write(lab.path().join("in.csv"), "n,name\n2,a\n3,b\n").unwrap();
    // Driver by URI scheme, both ways.
    let db = lab.path().join("db");
    fs::create_dir(&db).unwrap();
    let uri = format!("kvdir://{}", db.display());
    lab.run(&["convert", "in.csv", &uri, "--table", "t"]).ok();
    assert_eq!(
        fs::read_to_string(db.join("t.kv")).unwrap(),
        "n=2;name=a\nn=3;name=b\n"
    );
    assert_eq!(
        json_lines(&lab.run(&["cat", &uri, "--table", "t"]).ok()),
        [json!({"n": 2, "name": "a"}), json!({"n": 3, "name": "b"})]
    );
    let err = lab.run(&["cat", &uri]).err();
    assert!(
        err.contains("--table") && err.contains("tables: t"),
        "{err}"
    );
    // A plugin rule.
    let stats: serde_json::Value = serde_json::from_str(
        &lab.run(&["validate", "in.csv", "--rule", "n=test.even"])
            .ok(),
    )
    .unwrap();
    assert_eq!(
        (stats["valid"].as_u64(), stats["invalid"].as_u64()),
        (Some(1), Some(1))
    );
    // An engine over two inputs: the tables data and data2.
    fs::write(lab.path().join("more.kv"), "n=9\n").unwrap();
    let rows = json_lines(
        &lab.run(&["query", "--engine", "concat", "ALL", "in.csv", "more.kv"])
            .ok(),
    );
    assert_eq!(
        rows,
        [
            json!({"_table": "data", "n": "2", "name": "a"}),
            json!({"_table": "data", "n": "3", "name": "b"}),
            json!({"_table": "data2", "n": "9"}),
        ]
    );
    let err = lab
        .run(&["query", "--engine", "concat", "DROP", "in.csv"])
        .err();
    assert!(
        err.contains("plugin 'testkit'") && err.contains("unsupported query"),
        "{err}"
    );
    // A plugin codec composes with a built-in format, by name and by magic.
    lab.run(&["convert", "in.csv", "out.jsonl.xor"]).ok();
    assert!(
        fs::read(lab.path().join("out.jsonl.xor"))
            .unwrap()
            .starts_with(b"XOR!")
    );
    fs::rename(lab.path().join("out.jsonl.xor"), lab.path().join("blob")).unwrap();
    assert_eq!(json_lines(&lab.run(&["cat", "blob"]).ok()).len(), 2);
}

#[test]
fn a_plugin_writers_error_names_the_record_that_failed() {
    let lab = Lab::new();
    lab.install("iterable_testkit", "tests/plugins/testkit");
    // Record 2500 of 3000 (past the first batch) cannot be written as kv.
    let mut csv = String::from("n,note\n");
    for i in 1..=3000 {
        let note = if i == 2500 { "\"a;b\"" } else { "ok" };
        csv.push_str(&format!("{i},{note}\n"));
    }
    fs::write(lab.path().join("in.csv"), csv).unwrap();
    let err = lab.run(&["convert", "in.csv", "out.kv"]).err();
    assert!(
        err.contains("plugin 'testkit'") && err.contains("record 2500"),
        "{err}"
    );
    assert!(err.contains("holds the separator"), "{err}");
    // Nothing is left behind.
    assert!(!lab.path().join("out.kv").exists());
}

#[test]
fn info_and_check_plugin() {
    let lab = Lab::new();
    let dir = lab.install("iterable_testkit", "tests/plugins/testkit");
    let info = lab.run(&["info", "testkit"]).ok();
    assert!(
        info.contains("version       0.1.0") && info.contains("engine        concat"),
        "{info}"
    );
    let err = lab.run(&["info", "nope"]).err();
    assert!(
        err.contains("no plugin named 'nope'; plugins: testkit"),
        "{err}"
    );
    let ok = lab.run(&["check-plugin", dir.to_str().unwrap()]).ok();
    assert!(ok.contains("testkit 0.1.0 (plugin API 1.1): ok"), "{ok}");
    fs::write(lab.path().join("libbad.so"), b"nope").unwrap();
    let err = lab.run(&["check-plugin", "libbad.so"]).err();
    assert!(
        err.contains("plugin 'bad'") && err.contains("not a loadable library"),
        "{err}"
    );
    let err = lab
        .run(&[
            "check-plugin",
            plugin_lib("iterable_nosymbol").to_str().unwrap(),
        ])
        .err();
    assert!(err.contains("exports no plugin root module"), "{err}");
}

#[test]
fn an_application_without_a_scanner_examines_in_process() {
    let lab = Lab::new();
    fs::copy(
        plugin_lib("iterable_testkit"),
        lab.plugins().join("libiterable_testkit.so"),
    )
    .unwrap();
    let host = lab
        .builder()
        // SAFETY: the test libraries are this workspace's own.
        .scanner(unsafe { iterable_host::Scanner::in_process() })
        .build()
        .unwrap();
    let p = host.plugin("testkit").expect("examined in this process");
    assert_eq!(p.provides().formats, ["kv", "boom"]);
    let f = lab.path().join("a.kv");
    fs::write(&f, "x=5\n").unwrap();
    let recs: Vec<Record> = host
        .open(&f, &OpenOptions::new())
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(recs, [Record::from_pairs([("x", Value::Int(5))])]);
    assert_eq!(p.status(), Status::Loaded);
}

#[test]
fn trust_hashed_loads_only_pinned_plugins() {
    let lab = Lab::new();
    let dir = lab.install("iterable_testkit", "tests/plugins/testkit");
    let cfg = lab.path().join("config.toml");
    fs::write(&cfg, "trust = \"hashed\"\n").unwrap();
    let host = lab.builder().config_file(&cfg).build().unwrap();
    let p = host.plugin("testkit").unwrap();
    assert_eq!(p.status(), Status::Failed);
    assert_eq!(
        p.error().unwrap().plugin_kind(),
        Some(PluginErrorKind::Untrusted)
    );
    assert!(
        p.reason().unwrap().contains("trust = \"hashed\""),
        "{:?}",
        p.reason()
    );

    // Pinning the right hash makes it loadable; a wrong one is refused.
    let sha = iterable_host::trust::sha256_file(&dir.join("libiterable_testkit.so")).unwrap();
    let text = fs::read_to_string(dir.join("plugin.toml")).unwrap();
    let pinned = text.replacen("[plugin]\n", &format!("[plugin]\nsha256 = \"{sha}\"\n"), 1);
    fs::write(dir.join("plugin.toml"), &pinned).unwrap();
    let host = lab.builder().config_file(&cfg).build().unwrap();
    assert_eq!(host.plugin("testkit").unwrap().status(), Status::Available);
    let f = lab.path().join("a.kv");
    fs::write(&f, "x=1\n").unwrap();
    assert_eq!(host.open(&f, &OpenOptions::new()).unwrap().count(), 1);
    fs::write(
        dir.join("plugin.toml"),
        pinned.replace(&sha, &"0".repeat(64)),
    )
    .unwrap();
    let host = lab.builder().config_file(&cfg).build().unwrap();
    let e = host.plugin("testkit").unwrap().error().unwrap();
    assert_eq!(e.plugin_kind(), Some(PluginErrorKind::HashMismatch), "{e}");
}

#[cfg(unix)]
#[test]
fn check_permissions_false_relaxes_the_permission_checks() {
    use std::os::unix::fs::PermissionsExt;
    let lab = Lab::new();
    let dir = lab.install("iterable_testkit", "tests/plugins/testkit");
    let lib = dir.join("libiterable_testkit.so");
    fs::set_permissions(&lib, fs::Permissions::from_mode(0o666)).unwrap();
    let host = lab.host();
    let e = host.plugin("testkit").unwrap().error().unwrap();
    assert_eq!(e.plugin_kind(), Some(PluginErrorKind::Untrusted), "{e}");
    assert!(
        e.message().contains("mode 0666") && e.message().contains("check_permissions = false"),
        "{e}"
    );
    let cfg = lab.path().join("config.toml");
    fs::write(&cfg, "check_permissions = false\n").unwrap();
    let host = lab.builder().config_file(&cfg).build().unwrap();
    assert_eq!(host.plugin("testkit").unwrap().status(), Status::Available);
}
