//! Compatibility with real binaries of the previous release (proofs 4(a)
//! and 4(b) of the 1.1 growth mechanism, as `docs/abi-policy.md` promises):
//!
//! * plugins built from the 1.0 release's own sources (taken from this
//!   repository's history, [`util::RELEASE_1_0`]) load and work in this
//!   host, installed either with their 1.0 hand-written manifests or by
//!   this release's `install`; and this host says they have no hooks;
//! * this release's plugins, installed by this release's `install`, load
//!   and work in the 1.0 host binary; a 1.1 plugin that also provides a
//!   hook (testkit) works there too, its hook simply unknown.
//!
//! The 1.0 host and plugins are built once, in a target directory of their
//! own under `target/fixtures`.

mod util;

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::json;
use util::{gzip, json_lines, plugin_lib};

const CSV: &str = "id,name,iban\n1,Ann,GB82WEST12345698765432\n2,Bo,GB82WEST12345698765433\n";

fn records() -> Vec<serde_json::Value> {
    vec![
        json!({"id": "1", "name": "Ann", "iban": "GB82WEST12345698765432"}),
        json!({"id": "2", "name": "Bo", "iban": "GB82WEST12345698765433"}),
    ]
}

fn lib_in(dir: &Path, crate_name: &str) -> PathBuf {
    dir.join(format!(
        "{}{crate_name}{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    ))
}

/// Runs `program` (this host or the 1.0 one) in `dir` with plugins from `plugins`.
fn run(program: &Path, dir: &Path, args: &[&str]) -> util::Run {
    let mut all = vec!["--plugin-dir", "plugins"];
    all.extend_from_slice(args);
    util::Run::from(
        util::command_of(program, dir, &all)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap(),
    )
}

#[test]
fn release_1_0_plugins_work_in_this_host() {
    let old = util::release_1_0_binaries();
    let site = tempfile::tempdir().unwrap();
    let dir = site.path();
    fs::write(dir.join("rows.csv.gz"), gzip(CSV.as_bytes())).unwrap();

    // ltsv and idrules with the manifests the 1.0 release shipped (written
    // by hand, for ABI 1.0); lz4 installed by this release from its bare
    // library.
    for name in ["ltsv", "idrules"] {
        let plugin = dir.join("plugins").join(name);
        fs::create_dir_all(&plugin).unwrap();
        let lib = lib_in(&old, &format!("iterable_plugin_{name}"));
        fs::copy(&lib, plugin.join(lib.file_name().unwrap())).unwrap();
        let manifest = util::release_1_0()
            .join("plugins-examples")
            .join(name)
            .join("plugin.toml");
        fs::copy(manifest, plugin.join("plugin.toml")).unwrap();
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(
            plugin.join("plugin.toml"),
            fs::Permissions::from_mode(0o644),
        )
        .unwrap();
    }
    let lz4 = lib_in(&old, "iterable_plugin_lz4");
    util::run(dir, &["install", lz4.to_str().unwrap(), "--dir", "plugins"]).ok();
    let written = fs::read_to_string(dir.join("plugins/lz4/plugin.toml")).unwrap();
    assert!(written.contains("\napi_version = \"1.0.0\"\n"), "{written}");

    let host = util::bin();
    let list: serde_json::Value =
        serde_json::from_str(&run(&host, dir, &["list-plugins", "--json"]).ok()).unwrap();
    for p in list.as_array().unwrap() {
        assert_eq!(p["status"], "available", "{p}");
        assert_eq!(p["hooks_supported"], false, "{p}");
    }
    // A 1.0 format and a 1.0 codec, both ways, and a 1.0 rule.
    run(&host, dir, &["convert", "rows.csv.gz", "rows.ltsv.lz4"]).ok();
    let back = run(&host, dir, &["cat", "rows.ltsv.lz4"]).ok();
    assert_eq!(json_lines(&back), records());
    let stats: serde_json::Value = serde_json::from_str(
        &run(
            &host,
            dir,
            &["validate", "rows.ltsv.lz4", "--rule", "iban=id.iban"],
        )
        .ok(),
    )
    .unwrap();
    assert_eq!(
        (stats["valid"].as_u64(), stats["invalid"].as_u64()),
        (Some(1), Some(1))
    );
    // Typed values (from the parquet plugin of this release) reach the 1.0
    // ltsv writer as their text: ISO-8601 dates, plain decimals.
    let parquet = plugin_lib("iterable_plugin_parquet");
    util::run(
        dir,
        &["install", parquet.to_str().unwrap(), "--dir", "plugins"],
    )
    .ok();
    fs::write(dir.join("typed.csv"), "day,price\n2024-01-31,2.50\n").unwrap();
    run(
        &host,
        dir,
        &[
            "convert",
            "typed.csv",
            "typed.parquet",
            "--out-option",
            "schema=day: date, price: decimal(6, 2)",
        ],
    )
    .ok();
    run(&host, dir, &["convert", "typed.parquet", "typed.ltsv"]).ok();
    assert_eq!(
        fs::read_to_string(dir.join("typed.ltsv")).unwrap(),
        "day:2024-01-31\tprice:2.50\n"
    );
    // The host says a 1.0 plugin has no hooks, and uses it all the same.
    let info = run(&host, dir, &["info", "ltsv"]).ok();
    assert!(
        info.contains(
            "hooks         unsupported (built for plugin ABI 1.0.0; hooks came with 1.1)"
        ),
        "{info}"
    );
}

#[test]
fn this_releases_plugins_work_in_the_1_0_host() {
    let old_host = util::release_1_0_binaries().join("iterable-host");
    let site = tempfile::tempdir().unwrap();
    let dir = site.path();
    fs::write(dir.join("rows.csv.gz"), gzip(CSV.as_bytes())).unwrap();
    fs::write(dir.join("a.kv"), "k=1;v=x\nk=2;v=y\n").unwrap();
    // Installed by this release, from the bare libraries.
    for lib in [
        "iterable_plugin_ltsv",
        "iterable_plugin_lz4",
        "iterable_testkit",
        "iterable_plugin_audit",
    ] {
        util::run(
            dir,
            &[
                "install",
                plugin_lib(lib).to_str().unwrap(),
                "--dir",
                "plugins",
            ],
        )
        .ok();
    }
    let list: serde_json::Value =
        serde_json::from_str(&run(&old_host, dir, &["list-plugins", "--json"]).ok()).unwrap();
    let by_name = |n: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == n)
            .unwrap_or_else(|| panic!("{n} not listed: {list}"))
            .clone()
    };
    for name in ["ltsv", "lz4", "testkit", "audit"] {
        let p = by_name(name);
        assert_eq!(p["status"], "available", "{p}");
        assert_eq!(p["api_version"], iterable_plugin_api::ABI_VERSION, "{p}");
    }
    // The 1.0 host knows nothing of hooks: testkit's is not among what it
    // lists, and the rest of testkit works.
    assert_eq!(
        by_name("testkit")["provides"]["formats"],
        json!(["kv", "boom"])
    );
    assert!(by_name("testkit")["provides"].get("hooks").is_none());
    let kv = run(&old_host, dir, &["cat", "a.kv"]).ok();
    assert_eq!(
        json_lines(&kv),
        [json!({"k": 1, "v": "x"}), json!({"k": 2, "v": "y"})]
    );
    // A 1.1 format and codec in the 1.0 host, both ways.
    run(&old_host, dir, &["convert", "rows.csv.gz", "rows.ltsv.lz4"]).ok();
    let back = run(&old_host, dir, &["cat", "rows.ltsv.lz4"]).ok();
    assert_eq!(json_lines(&back), records());
    // And what the 1.0 host wrote reads the same in this one.
    assert_eq!(
        json_lines(&run(&util::bin(), dir, &["cat", "rows.ltsv.lz4"]).ok()),
        records()
    );
}
