//! Hooks (ABI 1.1) end to end: installed from bare libraries by
//! `iterable-host install`, enabled with `--hook` or `config.toml`, and
//! observing real runs of the binary.

mod util;

use std::fs;

use serde_json::json;
use util::{Site, json_lines, plugin_lib};

const CSV: &str = "name,city,note\nAnn,Oslo,\nBob,,hello\nCéline,Paris,x\n";

/// A site with the audit and testkit plugins installed from their bare
/// libraries, and a small CSV file.
fn site() -> Site {
    let site = Site::new();
    for lib in ["iterable_plugin_audit", "iterable_testkit"] {
        site.run(&[
            "install",
            plugin_lib(lib).to_str().unwrap(),
            "--dir",
            "plugins",
        ])
        .ok();
    }
    fs::write(site.path().join("a.csv"), CSV).unwrap();
    site
}

/// A JSON profile the audit hook wrote.
fn profile(site: &Site, name: &str) -> serde_json::Value {
    serde_json::from_str(&site.read(name)).unwrap()
}

#[test]
fn install_writes_the_manifest_from_a_bare_library() {
    let site = site();
    let text = fs::read_to_string(site.path().join("plugins/audit/plugin.toml")).unwrap();
    let m = iterable_host::Manifest::parse(&text).unwrap();
    assert_eq!(m.plugin.name, "audit");
    assert_eq!(m.plugin.api_version, iterable_plugin_api::ABI_VERSION);
    assert_eq!(
        m.plugin.library,
        plugin_lib("iterable_plugin_audit")
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
    );
    assert_eq!(m.provides().hooks, ["audit"]);
    assert!(
        site.path()
            .join("plugins/audit")
            .join(&m.plugin.library)
            .is_file()
    );
    // testkit: every kind, the hook included, as the library says.
    let text = fs::read_to_string(site.path().join("plugins/testkit/plugin.toml")).unwrap();
    let m = iterable_host::Manifest::parse(&text).unwrap();
    let p = m.provides();
    assert_eq!(p.formats, ["kv", "boom"]);
    assert_eq!(p.hooks, ["testkit.stop"]);
    let kv = &m.formats[0];
    assert_eq!((kv.can_read, kv.can_write), (true, true));
    // A plugin directory whose manifest names the library by its stem.
    let out = site.run(&[
        "install",
        util::workspace()
            .join("plugins-examples/audit")
            .to_str()
            .unwrap(),
        "--library",
        plugin_lib("iterable_plugin_audit").to_str().unwrap(),
        "--dir",
        "again",
    ]);
    assert!(
        out.ok()
            .starts_with("installed audit 0.1.0 into again/audit")
    );
}

#[test]
fn install_refuses_a_manifest_that_disagrees_with_its_library() {
    let site = site();
    let lib = util::ltsv_with_a_lying_manifest(&site.path().join("src"));
    let err = site
        .run(&[
            "install",
            "src",
            "--library",
            lib.to_str().unwrap(),
            "--dir",
            "p2",
        ])
        .err();
    assert_eq!(
        err,
        "iterable-host: error: plugin 'ltsv': not installed: its plugin.toml disagrees with the library: \
         format 'ltsv': the manifest says extensions [log, ltsv], the library [ltsv]; \
         format 'ltsv': the manifest says write = false, the library true \
         (fix or delete plugin.toml; install writes one from the library)"
    );
    assert!(!site.path().join("p2/ltsv").exists());
}

#[test]
fn hooks_are_listed_with_their_plugin() {
    let site = site();
    let list: serde_json::Value =
        serde_json::from_str(&site.run(&["hooks", "--json"]).ok()).unwrap();
    let ids: Vec<(&str, &str)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["id"].as_str().unwrap(), h["source"].as_str().unwrap()))
        .collect();
    assert_eq!(
        ids,
        [
            ("audit", "plugin:audit"),
            ("testkit.stop", "plugin:testkit")
        ]
    );
    let plugins: serde_json::Value =
        serde_json::from_str(&site.run(&["list-plugins", "--json"]).ok()).unwrap();
    let audit = plugins
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "audit")
        .unwrap();
    assert_eq!(audit["provides"]["hooks"], json!(["audit"]));
}

#[test]
fn the_audit_hook_profiles_a_known_file_exactly() {
    let site = site();
    site.run(&[
        "convert",
        "a.csv",
        "b.jsonl",
        "--hook",
        "audit",
        "--hook-option",
        "audit.path=profile.json",
    ])
    .ok();
    assert_eq!(
        json_lines(&fs::read_to_string(site.path().join("b.jsonl")).unwrap()).len(),
        3
    );
    assert_eq!(
        profile(&site, "profile.json"),
        json!({
            "command": "convert", "source": "a.csv", "target": "b.jsonl", "format": "csv",
            "ok": true, "error": null, "records": 3, "bytes_read": CSV.len(),
            "fields": {
                "name": {"nulls": 0, "empties": 0, "min_length": 3, "max_length": 6},
                "city": {"nulls": 0, "empties": 1, "min_length": 0, "max_length": 5},
                "note": {"nulls": 0, "empties": 1, "min_length": 0, "max_length": 5},
            }
        })
    );
    // cat, count, validate and query are observed the same way.
    for (args, command) in [
        (vec!["cat", "a.csv"], "cat"),
        (vec!["count", "a.csv"], "count"),
        (
            vec!["validate", "a.csv", "--rule", "name=required"],
            "validate",
        ),
        (vec!["query", "--engine", "concat", "ALL", "a.csv"], "query"),
    ] {
        let mut all = args.clone();
        all.extend(["--hook", "audit", "--hook-option", "audit.path=p.json"]);
        site.run(&all).ok();
        let p = profile(&site, "p.json");
        assert_eq!(p["command"], command, "{p}");
        assert_eq!(p["records"], 3, "{p}");
        assert_eq!(p["bytes_read"], CSV.len(), "{p}");
    }
}

#[test]
fn a_failed_run_is_told_to_the_hook() {
    let site = site();
    fs::write(site.path().join("bad.csv"), "a,b\n1,2\n\"3,4\n").unwrap();
    let err = site
        .run(&[
            "cat",
            "bad.csv",
            "--hook",
            "audit",
            "--hook-option",
            "audit.path=p.json",
        ])
        .err();
    let p = profile(&site, "p.json");
    assert_eq!(p["ok"], false);
    assert_eq!(p["records"], 1);
    assert_eq!(
        format!("iterable-host: error: {}", p["error"].as_str().unwrap()),
        err
    );
}

#[test]
fn a_hook_stops_the_run_and_is_named() {
    let site = site();
    let err = site
        .run(&[
            "convert",
            "a.csv",
            "out.jsonl",
            "--hook",
            "testkit.stop",
            "--hook-option",
            "testkit.stop.after=2",
        ])
        .err();
    assert_eq!(
        err,
        "iterable-host: error: hook 'testkit.stop' stopped the run: plugin 'testkit': more than 2 records (3 seen)"
    );
    assert!(
        !site.path().join("out.jsonl").exists(),
        "no output after a stopped run"
    );
    // A hook that panics is contained the same way.
    let err = site
        .run(&[
            "count",
            "a.csv",
            "--hook",
            "testkit.stop",
            "--hook-option",
            "testkit.stop.after=0",
            "--hook-option",
            "testkit.stop.panic=true",
        ])
        .err();
    assert!(
        err.starts_with(
            "iterable-host: error: hook 'testkit.stop' stopped the run: plugin 'testkit': panic"
        ) && err.contains("stop hook panicked at 3 records"),
        "{err}"
    );
}

#[test]
fn hooks_from_the_configuration_and_wrong_hooks() {
    let site = site();
    let conf = site.path().join("home/.iterabledata");
    fs::create_dir_all(&conf).unwrap();
    fs::write(conf.join("config.toml"), "hooks = [\"testkit.stop\"]\n").unwrap();
    let err = site
        .run(&["count", "a.csv", "--hook-option", "testkit.stop.after=1"])
        .err();
    assert!(err.contains("hook 'testkit.stop' stopped the run"), "{err}");
    fs::remove_file(conf.join("config.toml")).unwrap();
    assert_eq!(
        site.run(&["cat", "a.csv", "--hook", "nope"]).err(),
        "iterable-host: error: unknown hook 'nope'; known hooks: audit, testkit.stop"
    );
    assert_eq!(
        site.run(&["cat", "a.csv", "--hook-option", "audit.path=x"])
            .err(),
        "iterable-host: error: --hook-option \"audit.path=x\" is for hook 'audit', which is not enabled; add --hook audit"
    );
    assert_eq!(
        site.run(&["cat", "a.csv", "--hook", "audit"]).err(),
        "iterable-host: error: hook 'audit' cannot start: plugin 'audit': option `path`: missing; give it with --hook-option audit.path=FILE"
    );
}
