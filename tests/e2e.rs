//! End to end: the five example plugins, built by cargo, installed into a
//! temporary plugin directory, driven through the real `iterable-host`.

mod util;

use std::fs;
use std::path::PathBuf;

use iterable_host::manifest;
use serde_json::json;
use util::{Site, gzip, json_lines, plugin_lib};

const PLUGINS: [&str; 5] = ["ltsv", "lz4", "sqlite", "idrules", "sqlengine"];

const ROWS: &str = "id,name,city,iban,isbn\n\
1,Ann,\"Oslo, NO\",GB82WEST12345698765432,978-0-306-40615-7\n\
2,Bo,Riga,GB82WEST12345698765433,978-0-306-40615-8\n\
3,Cé,Oslo,DE89370400440532013000,9780306406157\n\
4,Dan,Riga,DE89 3704 0044 0532 0130 00,12345\n\
5,Eve,Oslo,,\n";

fn rows_json() -> Vec<serde_json::Value> {
    vec![
        json!({"id": "1", "name": "Ann", "city": "Oslo, NO", "iban": "GB82WEST12345698765432", "isbn": "978-0-306-40615-7"}),
        json!({"id": "2", "name": "Bo", "city": "Riga", "iban": "GB82WEST12345698765433", "isbn": "978-0-306-40615-8"}),
        json!({"id": "3", "name": "Cé", "city": "Oslo", "iban": "DE89370400440532013000", "isbn": "9780306406157"}),
        json!({"id": "4", "name": "Dan", "city": "Riga", "iban": "DE89 3704 0044 0532 0130 00", "isbn": "12345"}),
        json!({"id": "5", "name": "Eve", "city": "Oslo", "iban": "", "isbn": ""}),
    ]
}

/// A site with the example plugins installed under plugins/, and the rows.
fn site() -> Site {
    let site = Site::new();
    for name in PLUGINS {
        site.install(name);
    }
    fs::write(site.path().join("rows.csv.gz"), gzip(ROWS.as_bytes())).unwrap();
    site
}

/// What these tests do with a site beyond running the binary in it.
trait E2e {
    fn plugin_dir(&self, name: &str) -> PathBuf;
    fn install(&self, name: &str);
    fn ld_trace(&self, args: &[&str]) -> String;
}

impl E2e for Site {
    fn plugin_dir(&self, name: &str) -> PathBuf {
        self.path().join("plugins").join(name)
    }

    fn install(&self, name: &str) {
        let src = util::workspace().join("plugins-examples").join(name);
        let lib = plugin_lib(&format!("iterable_plugin_{name}"));
        util::run(
            self.path(),
            &[
                "install",
                src.to_str().unwrap(),
                "--dir",
                "plugins",
                "--library",
                lib.to_str().unwrap(),
            ],
        )
        .ok();
    }

    fn ld_trace(&self, args: &[&str]) -> String {
        let mut all = vec!["--plugin-dir", "plugins"];
        all.extend(args);
        util::ld_trace(self.path(), &all)
    }
}

#[test]
fn csv_gz_to_ltsv_lz4_and_back() {
    let s = site();
    s.run(&["convert", "rows.csv.gz", "out.ltsv.lz4"]).ok();
    let bytes = fs::read(s.path().join("out.ltsv.lz4")).unwrap();
    assert!(bytes.starts_with(&[0x04, 0x22, 0x4d, 0x18]), "an LZ4 frame");
    assert_eq!(
        json_lines(&s.run(&["cat", "out.ltsv.lz4"]).ok()),
        rows_json()
    );
    // Composes with the built-in codecs too, and detects lz4 by magic.
    s.run(&["convert", "out.ltsv.lz4", "again.ltsv.zst"]).ok();
    assert_eq!(
        json_lines(&s.run(&["cat", "again.ltsv.zst"]).ok()),
        rows_json()
    );
    fs::copy(s.path().join("out.ltsv.lz4"), s.path().join("blob.ltsv")).unwrap();
    assert_eq!(json_lines(&s.run(&["cat", "blob.ltsv"]).ok()), rows_json());
}

#[test]
fn round_trip_through_sqlite() {
    let s = site();
    let uri = format!("sqlite://{}", s.path().join("a.db").display());
    s.run(&["convert", "rows.csv.gz", &uri, "--table", "people"])
        .ok();
    assert_eq!(
        json_lines(&s.run(&["cat", &uri, "--table", "people"]).ok()),
        rows_json()
    );
    let q = s
        .run(&[
            "cat",
            &uri,
            "--query",
            "SELECT name FROM people WHERE city = 'Riga' ORDER BY id",
        ])
        .ok();
    assert_eq!(
        json_lines(&q),
        [json!({"name": "Bo"}), json!({"name": "Dan"})]
    );
    s.run(&["convert", &uri, "back.csv", "--table", "people"])
        .ok();
    assert_eq!(fs::read_to_string(s.path().join("back.csv")).unwrap(), ROWS);
}

/// A plugin writer that fails a whole batch without naming a record gets
/// the batch's records named by the host, and nothing is written.
#[test]
fn a_batch_error_without_a_record_names_the_batchs_records() {
    let s = site();
    // SQLite compares column names without case: "a" and "A" collide when
    // the first batch creates the table.
    fs::write(s.path().join("clash.csv"), "a,A\n1,2\n3,4\n").unwrap();
    let uri = format!("sqlite://{}", s.path().join("c.db").display());
    let err = s.run(&["convert", "clash.csv", &uri, "--table", "t"]).err();
    assert_eq!(
        err.trim_end(),
        format!(
            "iterable-host: error: plugin 'sqlite': {uri}: writing records 1–2: \
             cannot create table \"t\": duplicate column name: A"
        )
    );
    let tables = s
        .run(&["cat", &uri, "--query", "SELECT name FROM sqlite_master"])
        .ok();
    assert_eq!(tables, "");
}

#[test]
fn validate_with_idrules() {
    let s = site();
    let out = s
        .run(&[
            "validate",
            "rows.csv.gz",
            "--rule",
            "iban=id.iban",
            "--rule",
            "isbn=id.isbn13",
        ])
        .ok();
    let stats: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(stats["total"], 5);
    assert_eq!(stats["valid"], 3, "{stats}");
    assert_eq!(stats["invalid"], 2, "{stats}");
    assert_eq!(
        stats["checks"][0],
        json!({"field": "iban", "rule": "id.iban", "failed": 1})
    );
    assert_eq!(
        stats["checks"][1],
        json!({"field": "isbn", "rule": "id.isbn13", "failed": 2})
    );
    let invalid = json_lines(
        &s.run(&[
            "validate",
            "rows.csv.gz",
            "--rule",
            "iban=id.iban",
            "--mode",
            "invalid",
        ])
        .ok(),
    );
    assert_eq!(invalid.len(), 1);
    assert_eq!(invalid[0]["index"], 2);
    assert_eq!(invalid[0]["errors"][0]["message"], "IBAN checksum mismatch");
}

#[test]
fn query_with_the_sql_engine() {
    let s = site();
    let out = s
        .run(&[
            "query",
            "--engine",
            "sql",
            "SELECT city, count(*) AS n FROM data GROUP BY city ORDER BY city",
            "rows.csv.gz",
        ])
        .ok();
    assert_eq!(
        json_lines(&out),
        [
            json!({"city": "Oslo", "n": 2}),
            json!({"city": "Oslo, NO", "n": 1}),
            json!({"city": "Riga", "n": 2})
        ]
    );
    let err = s
        .run(&[
            "query",
            "--engine",
            "sql",
            "DELETE FROM data",
            "rows.csv.gz",
        ])
        .err();
    assert!(err.contains("plugin 'sqlengine'"), "{err}");
}

#[test]
fn all_available_before_use_and_only_the_needed_library_loads() {
    let s = site();
    let listed: serde_json::Value =
        serde_json::from_str(&s.run(&["list-plugins", "--json"]).ok()).unwrap();
    let mut got: Vec<(String, String)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    got.sort();
    let mut want: Vec<(String, String)> = PLUGINS
        .iter()
        .map(|n| (n.to_string(), "available".to_string()))
        .collect();
    want.sort();
    assert_eq!(got, want);

    let trace = s.ld_trace(&["list-plugins"]);
    assert!(
        !trace.contains("libiterable_plugin_"),
        "list-plugins loaded a plugin"
    );
    fs::write(s.path().join("x.ltsv"), "a:1\tb:2\n").unwrap();
    let trace = s.ld_trace(&["cat", "x.ltsv"]);
    assert!(
        trace.contains("libiterable_plugin_ltsv.so"),
        "ltsv was not loaded"
    );
    for other in ["lz4", "sqlite", "idrules", "sqlengine"] {
        assert!(
            !trace.contains(&format!("libiterable_plugin_{other}.so")),
            "{other} was loaded"
        );
    }
}

#[test]
fn one_broken_plugin_does_not_stop_the_others() {
    let s = site();
    let lib = s
        .plugin_dir("sqlengine")
        .join("libiterable_plugin_sqlengine.so");
    fs::write(&lib, b"this is not a shared library").unwrap();

    // The other four work.
    s.run(&["convert", "rows.csv.gz", "out.ltsv.lz4"]).ok();
    assert_eq!(json_lines(&s.run(&["cat", "out.ltsv.lz4"]).ok()).len(), 5);
    let uri = format!("sqlite://{}", s.path().join("b.db").display());
    s.run(&["convert", "rows.csv.gz", &uri, "--table", "t"])
        .ok();
    s.run(&["validate", "rows.csv.gz", "--rule", "iban=id.iban"])
        .ok();

    // The command that needs it fails with one line naming it.
    let err = s
        .run(&["query", "--engine", "sql", "SELECT 1", "rows.csv.gz"])
        .err();
    assert!(
        err.contains("plugin 'sqlengine'") && err.contains("not a loadable library"),
        "{err}"
    );

    // The failure is remembered until the file changes.
    let listed: serde_json::Value =
        serde_json::from_str(&s.run(&["list-plugins", "--json"]).ok()).unwrap();
    let p = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "sqlengine")
        .unwrap();
    assert_eq!(p["status"], "failed");
    let reason = p["error"].as_str().unwrap().to_owned();
    assert!(reason.contains("not a loadable library"), "{reason}");

    // check-plugin says the same and exits non-zero.
    let err = s
        .run(&["check-plugin", s.plugin_dir("sqlengine").to_str().unwrap()])
        .err();
    assert!(err.contains(&reason), "{err} / {reason}");
}

#[test]
fn the_template_plugin_builds_installs_and_loads() {
    let s = site();
    let src = util::workspace().join("plugins-examples/template");
    let lib = plugin_lib("iterable_plugin_template");
    let out = s.run(&["check-plugin", lib.to_str().unwrap()]).ok();
    assert!(out.contains(": ok"), "{out}");
    let out = util::command(
        s.path(),
        &[
            "install",
            src.to_str().unwrap(),
            "--dir",
            "plugins",
            "--library",
            lib.to_str().unwrap(),
        ],
    )
    .output()
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed: serde_json::Value =
        serde_json::from_str(&s.run(&["list-plugins", "--json"]).ok()).unwrap();
    let t = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["library"].as_str().unwrap().contains("template"));
    assert_eq!(t.expect("template listed")["status"], "available");
}

#[test]
fn plugin_records_keep_their_field_order() {
    let s = site();
    fs::write(s.path().join("o.ltsv"), "a:1\tb:2\nb:3\ta:4\na:5\tb:6\n").unwrap();
    let out = s.run(&["cat", "o.ltsv"]).ok();
    assert_eq!(
        out,
        "{\"a\":\"1\",\"b\":\"2\"}\n{\"b\":\"3\",\"a\":\"4\"}\n{\"a\":\"5\",\"b\":\"6\"}\n"
    );
}

/// Every example plugin's `plugin.toml` says exactly what its library says:
/// the metadata, and every provider with its extensions, magic, schemes and
/// descriptions (the host lists and routes from the manifest alone). The
/// template's library is kept minimal on purpose (no descriptions); its own
/// tests check its manifest.
#[test]
fn every_manifest_matches_its_library() {
    let manifest_of = |name: &str| {
        let path = util::workspace()
            .join("plugins-examples")
            .join(name)
            .join("plugin.toml");
        iterable_host::Manifest::parse(&fs::read_to_string(path).unwrap()).unwrap()
    };
    for name in PLUGINS {
        // Magic bytes are compared as bytes, whatever the hex text's spelling.
        let declared = manifest_of(name);
        let lib = plugin_lib(&format!("iterable_plugin_{name}"));
        let found = iterable_host::check_library(
            &lib,
            &util::scanner(),
            iterable_host::scan::DEFAULT_TIMEOUT,
        )
        .unwrap();
        assert_eq!(declared, found, "{name}");
        assert_eq!(
            found.plugin.library,
            format!("libiterable_plugin_{name}.so")
        );
    }
    // What the host routes by, spelled out.
    let ltsv = manifest_of("ltsv");
    assert_eq!(ltsv.formats[0].id, "ltsv");
    assert_eq!(ltsv.formats[0].extensions, ["ltsv"]);
    let lz4 = manifest_of("lz4");
    assert_eq!(lz4.codecs[0].id, "lz4");
    assert_eq!(lz4.codecs[0].magic, [vec![0x04, 0x22, 0x4d, 0x18]]);
    assert_eq!(manifest_of("sqlite").drivers[0].schemes, ["sqlite"]);
}

/// One description, carried whole: what each example plugin's library says
/// of itself (examined in a child process) is what `install` writes, what
/// the host lists before loading anything, and what it uses after loading:
/// every extension, magic, option, level, scheme and description.
#[test]
fn each_plugins_description_survives_from_library_to_listing() {
    let site = tempfile::tempdir().unwrap();
    let dir = site.path();
    let mut libraries = Vec::new();
    let crates = PLUGINS
        .iter()
        .chain(&["audit", "template", "parquet", "xlsx", "xml"])
        .map(|n| format!("iterable_plugin_{n}"))
        .chain(["iterable_testkit".to_owned()]);
    for krate in crates {
        let lib = plugin_lib(&krate);
        util::run(dir, &["install", lib.to_str().unwrap(), "--dir", "plugins"]).ok();
        libraries.push(lib);
    }
    let json = |args: &[&str]| -> Vec<serde_json::Value> {
        let mut all = vec!["--plugin-dir", "plugins"];
        all.extend_from_slice(args);
        let out = util::run(dir, &all).ok();
        serde_json::from_str::<serde_json::Value>(&out)
            .unwrap()
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| {
                e["source"]
                    .as_str()
                    .is_some_and(|s| s.starts_with("plugin:"))
            })
            .cloned()
            .collect()
    };
    let listed: Vec<(String, Vec<serde_json::Value>)> =
        ["formats", "codecs", "drivers", "rules", "engines", "hooks"]
            .iter()
            .map(|k| (k.to_string(), json(&[k, "--json"])))
            .collect();
    let find = |kind: &str, key: &str, id: &str| -> serde_json::Value {
        listed
            .iter()
            .find(|(k, _)| k == kind)
            .unwrap()
            .1
            .iter()
            .find(|e| e[key] == id)
            .unwrap_or_else(|| panic!("{kind} {id} not listed"))
            .clone()
    };
    let options = |o: &[iterable_host::iterable_core::OptionSpec]| -> serde_json::Value {
        json!(
            o.iter()
                .map(
                    |o| json!({"name": o.name, "description": o.description, "default": o.default})
                )
                .collect::<Vec<_>>()
        )
    };
    let mut seen = 0;
    for lib in &libraries {
        let said = iterable_host::check_library(
            lib,
            &util::scanner(),
            iterable_host::scan::DEFAULT_TIMEOUT,
        )
        .unwrap();
        let installed = manifest::Manifest::from_file(
            &dir.join("plugins")
                .join(&said.plugin.name)
                .join("plugin.toml"),
        )
        .unwrap();
        let mut expect = said.clone();
        expect.plugin.library = lib.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(
            installed, expect,
            "{}: install wrote what the library says",
            said.plugin.name
        );
        for f in &said.formats {
            let e = find("formats", "id", &f.id);
            let magic: Vec<String> = f.magic.iter().map(|m| manifest::to_hex(m)).collect();
            assert_eq!(e["extensions"], json!(f.extensions), "{}", f.id);
            assert_eq!(e["magic"], json!(magic), "{}", f.id);
            assert_eq!(
                (
                    e["read"].as_bool(),
                    e["write"].as_bool(),
                    e["reads_paths"].as_bool()
                ),
                (Some(f.can_read), Some(f.can_write), Some(f.reads_paths)),
                "{}",
                f.id
            );
            assert_eq!(e["options"], options(&f.options), "{}", f.id);
            assert_eq!(e["description"], json!(f.description), "{}", f.id);
            seen += 1;
        }
        for c in &said.codecs {
            let e = find("codecs", "id", &c.id);
            let magic: Vec<String> = c.magic.iter().map(|m| manifest::to_hex(m)).collect();
            assert_eq!(e["magic"], json!(magic), "{}", c.id);
            assert_eq!(e["extensions"], json!(c.extensions), "{}", c.id);
            let levels = c
                .levels
                .map(|(min, max, default)| json!({"min": min, "max": max, "default": default}));
            assert_eq!(e["levels"], json!(levels), "{}", c.id);
            if c.id == "xor" {
                assert_eq!(levels, Some(json!({"min": 1, "max": 3, "default": 2})));
            }
            seen += 1;
        }
        for d in &said.drivers {
            let e = find("drivers", "id", &d.id);
            assert_eq!(e["schemes"], json!(d.schemes));
            assert_eq!(e["description"], json!(d.description));
            seen += 1;
        }
        for r in &said.rules {
            assert_eq!(
                find("rules", "name", &r.name)["description"],
                json!(r.description)
            );
            seen += 1;
        }
        for x in &said.engines {
            assert_eq!(
                find("engines", "id", &x.id)["description"],
                json!(x.description)
            );
            seen += 1;
        }
        for h in &said.hooks {
            let e = find("hooks", "id", &h.id);
            assert_eq!(e["options"], options(&h.options));
            assert_eq!(e["description"], json!(h.description));
            seen += 1;
        }
    }
    // ltsv, template, parquet, xlsx, xml: 5 formats; lz4: 1 codec; sqlite:
    // 1 driver; idrules: 7 rules; sqlengine: 1 engine; audit: 1 hook;
    // testkit: 2 of each kind but hooks (1).
    assert_eq!(seen, 16 + 11);
}

/// A hand-written manifest that differs from its library in extensions and
/// read/write: `check-plugin` lists every difference and never says "ok";
/// `list-plugins` flags the plugin once its library has been examined.
#[test]
fn a_manifest_that_differs_from_its_library_is_flagged() {
    let site = tempfile::tempdir().unwrap();
    util::ltsv_with_a_lying_manifest(&site.path().join("plugins/ltsv"));
    let out = util::run(site.path(), &["check-plugin", "plugins/ltsv"]);
    assert_eq!(out.status, 1);
    assert_eq!(
        out.stdout.lines().next().unwrap(),
        "ltsv 0.1.0 (plugin API 1.1): its manifest disagrees with the library on 2 points"
    );
    assert!(!out.stdout.contains(": ok"), "{}", out.stdout);
    let mismatches: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("mismatch"))
        .collect();
    assert_eq!(
        mismatches,
        [
            "mismatch  format 'ltsv': the manifest says extensions [log, ltsv], the library [ltsv]",
            "mismatch  format 'ltsv': the manifest says write = false, the library true",
        ]
    );
    // Once the library has been examined (its first use), the listing says so.
    fs::write(site.path().join("a.ltsv"), "a:1\n").unwrap();
    let _ = util::run(site.path(), &["--plugin-dir", "plugins", "cat", "a.ltsv"]);
    let list: serde_json::Value = serde_json::from_str(
        &util::run(
            site.path(),
            &["--plugin-dir", "plugins", "list-plugins", "--json"],
        )
        .ok(),
    )
    .unwrap();
    let p = &list[0];
    assert_eq!(p["status"], "failed", "{p}");
    assert_eq!(p["error_kind"], "manifest-mismatch", "{p}");
    assert_eq!(
        p["error"],
        "format 'ltsv': the manifest says extensions [log, ltsv], the library [ltsv]"
    );
}

/// The plugin guide as an outsider follows it: the `Cargo.toml` of its
/// step 1 (the dependency taken by path from a checkout, as it says, since
/// the crate is not on crates.io) and the listing of its step 2 build a
/// plugin out of this workspace, which `check-plugin` accepts.
#[test]
fn the_guides_cargo_toml_and_listing_build_a_plugin_out_of_tree() {
    let guide = fs::read_to_string(util::workspace().join("docs/plugin-guide.md")).unwrap();
    let block = |after: &str, lang: &str| -> String {
        let rest = guide
            .split(after)
            .nth(1)
            .unwrap_or_else(|| panic!("the guide has {after:?}"));
        let body = rest
            .split(&format!("```{lang}\n"))
            .nth(1)
            .and_then(|b| b.split("\n```").next())
            .unwrap_or_else(|| panic!("a ```{lang} block after {after:?}"));
        format!("{body}\n")
    };
    let cargo_toml = block("Edit `Cargo.toml`:", "toml");
    let checkout = "../iterabledata-rs/iterable-plugin-api";
    assert!(
        cargo_toml.contains(&format!(
            "iterable-plugin-api = {{ path = \"{checkout}\" }}"
        )),
        "{cargo_toml}"
    );
    // The checkout is this workspace; the crate stands on its own.
    let api = util::workspace().join("iterable-plugin-api");
    let cargo_toml = cargo_toml.replace(checkout, api.to_str().unwrap()) + "\n[workspace]\n";
    let dir = util::fixtures_root().join("guide-myformat");
    fs::create_dir_all(dir.join("src")).unwrap();
    fs::write(dir.join("Cargo.toml"), cargo_toml).unwrap();
    fs::write(dir.join("src/lib.rs"), block("## 2. The code", "rust")).unwrap();
    fs::copy(util::workspace().join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    let target = util::fixtures_root().join("target");
    let out = std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "--quiet", "--manifest-path"])
        .arg(dir.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", &target)
        .env_remove("RUSTFLAGS")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the guide's crate does not build:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lib = target.join("debug/libmyformat.so");
    let site = Site::new();
    let out = site.run(&["check-plugin", lib.to_str().unwrap()]).ok();
    assert!(out.lines().next().unwrap().ends_with(": ok"), "{out}");
}
