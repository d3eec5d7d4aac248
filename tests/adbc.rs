//! ADBC drivers used as driver plugins, as they are: the SQLite and
//! PostgreSQL drivers of the PyPI wheels (`scripts/pytools.sh` installs them
//! into target/pytools), installed with `install --adbc`, then read and
//! written with `cat`, `convert` and `count`. SQLite results are checked
//! against Python's sqlite3.

#[path = "util/pytools.rs"]
mod pytools;
mod util;

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::json;
use util::{Site, json_lines};

/// The driver library a wheel carries (`adbc_driver_NAME/libadbc_driver_NAME.so`).
fn driver(py: &Path, name: &str) -> PathBuf {
    let dir = pytools::run_py(
        py,
        &format!(
            "import adbc_driver_{name}, os; print(os.path.dirname(adbc_driver_{name}.__file__))"
        ),
        &[],
    );
    let lib = Path::new(dir.trim()).join(format!("libadbc_driver_{name}.so"));
    assert!(lib.is_file(), "{}", lib.display());
    lib
}

/// A site with the SQLite driver installed for the scheme `adbcsqlite`, and
/// the PostgreSQL one for `postgresql`; `None` without the tools venv.
fn site() -> Option<(Site, PathBuf)> {
    let py = pytools::python()?;
    let s = Site::new();
    for (name, scheme) in [("sqlite", "adbcsqlite"), ("postgresql", "postgresql")] {
        let lib = driver(&py, name);
        s.run(&[
            "install",
            "--adbc",
            lib.to_str().unwrap(),
            "--scheme",
            scheme,
            "--dir",
            "plugins",
        ])
        .ok();
    }
    fs::write(
        s.path().join("people.csv"),
        "id,name,city\n1,Ann,Oslo\n2,Bö,\n3,Cé,\"Riga, LV\"\n",
    )
    .unwrap();
    Some((s, py))
}

/// big.csv: 10,000 good rows (more than one batch is ingested), then a
/// broken one.
fn broken_csv(s: &Site) {
    let mut big = String::from("id,name,city\n");
    for i in 0..10_000 {
        big.push_str(&format!("{i},n{i},c\n"));
    }
    big.push_str("\"broken\n");
    fs::write(s.path().join("big.csv"), big).unwrap();
}

fn uri(s: &Site) -> String {
    format!("adbcsqlite://{}", s.path().join("a.db").display())
}

#[test]
fn install_writes_a_manifest_and_the_driver_is_listed_with_its_version() {
    let Some((s, _)) = site() else { return };
    let text = s.read("plugins/adbc-sqlite/plugin.toml");
    let m = iterable_host::Manifest::parse(&text).unwrap();
    assert_eq!(m.plugin.abi, iterable_host::manifest::Abi::Adbc);
    assert_eq!(m.plugin.version, "1.13.0");
    assert_eq!(m.drivers[0].schemes, ["adbcsqlite"]);
    assert!(m.drivers[0].description.contains("SQLite"), "{text}");
    let p = s.listed("adbc-sqlite");
    assert_eq!(p["status"], "available", "{p}");
    assert_eq!(p["version"], "1.13.0", "{p}");
    assert_eq!(p["abi"], "adbc", "{p}");
    // The wheel's version, for a driver that needs a server to say its own.
    assert_eq!(s.listed("adbc-postgresql")["version"], "1.13.0");
}

#[test]
fn csv_to_a_sqlite_table_and_back_as_python_s_sqlite3_sees_it() {
    let Some((s, py)) = site() else { return };
    let uri = uri(&s);
    s.run(&["convert", "people.csv", &uri, "--table", "people"])
        .ok();
    let rows = json!([
        {"id": "1", "name": "Ann", "city": "Oslo"},
        {"id": "2", "name": "Bö", "city": ""},
        {"id": "3", "name": "Cé", "city": "Riga, LV"},
    ]);
    assert_eq!(
        json_lines(&s.run(&["cat", &uri, "--table", "people"]).ok()),
        rows.as_array().unwrap().clone()
    );
    let seen = pytools::run_py(
        &py,
        "import sqlite3, sys, json; c = sqlite3.connect(sys.argv[1]); \
         print(json.dumps(c.execute('select id, name, city from people order by id').fetchall(), ensure_ascii=False))",
        &[&s.path().join("a.db")],
    );
    assert_eq!(
        seen.trim(),
        r#"[["1", "Ann", "Oslo"], ["2", "Bö", ""], ["3", "Cé", "Riga, LV"]]"#
    );
    assert_eq!(
        json_lines(
            &s.run(&[
                "cat",
                &uri,
                "--query",
                "SELECT count(*) AS n, max(name) AS m FROM people"
            ])
            .ok()
        ),
        [json!({"n": 3, "m": "Cé"})]
    );
    assert_eq!(
        s.run(&["count", &uri, "--table", "people"]).ok().trim(),
        "3"
    );
    // And out again, to a file.
    s.run(&["convert", &uri, "back.csv", "--table", "people"])
        .ok();
    assert_eq!(s.read("back.csv"), s.read("people.csv"));
}

#[test]
fn a_failed_convert_leaves_the_table_as_it_was() {
    let Some((s, _)) = site() else { return };
    let uri = uri(&s);
    s.run(&["convert", "people.csv", &uri, "--table", "people"])
        .ok();
    broken_csv(&s);
    let err = s
        .run(&["convert", "big.csv", &uri, "--table", "people"])
        .err();
    assert!(err.contains("unterminated quoted field"), "{err}");
    assert_eq!(
        s.run(&["count", &uri, "--table", "people"]).ok().trim(),
        "3"
    );
    // A table the failed run would have created does not exist.
    s.run(&["convert", "big.csv", &uri, "--table", "fresh"])
        .err();
    let err = s.run(&["cat", &uri, "--table", "fresh"]).err();
    assert!(err.contains("no such table: fresh"), "{err}");
}

#[test]
fn driver_errors_are_one_line_and_name_the_plugin() {
    let Some((s, _)) = site() else { return };
    let uri = uri(&s);
    s.run(&["convert", "people.csv", &uri, "--table", "people"])
        .ok();
    let err = s.run(&["cat", &uri, "--table", "nope"]).err();
    assert!(
        err.contains("plugin 'adbc-sqlite'") && err.contains("no such table: nope"),
        "{err}"
    );
    let err = s.run(&["cat", &uri, "--query", "SELEC 1"]).err();
    assert!(
        err.contains("plugin 'adbc-sqlite'") && err.contains("syntax error"),
        "{err}"
    );
    let err = s
        .run(&["cat", "adbcsqlite://relative.db", "--table", "t"])
        .err();
    assert!(err.contains("expected SCHEME:///absolute/path"), "{err}");
    // No server on that port.
    let err = s
        .run(&["cat", "postgresql://nobody@127.0.0.1:1/x", "--table", "t"])
        .err();
    assert!(
        err.contains("plugin 'adbc-postgresql'") && err.contains("Connection refused"),
        "{err}"
    );
}

/// The throwaway PostgreSQL server of `scripts/pg.sh` (its URI in
/// `ITERABLE_PG_URI`, its psql in `ITERABLE_PSQL`), which `scripts/test.sh`
/// starts; without it these tests say so and pass, unless
/// `ITERABLE_REQUIRE_PG` is set.
fn postgres() -> Option<(String, PathBuf)> {
    match (
        std::env::var("ITERABLE_PG_URI"),
        std::env::var_os("ITERABLE_PSQL"),
    ) {
        (Ok(uri), Some(psql)) => Some((uri, PathBuf::from(psql))),
        _ => {
            assert!(
                std::env::var_os("ITERABLE_REQUIRE_PG").is_none(),
                "ITERABLE_REQUIRE_PG is set but ITERABLE_PG_URI or ITERABLE_PSQL is not"
            );
            eprintln!("note: no PostgreSQL server (scripts/pg.sh start); skipped");
            None
        }
    }
}

/// psql's unaligned output of `sql` (fields separated by `|`).
fn psql(psql: &Path, uri: &str, sql: &str) -> String {
    let out = std::process::Command::new(psql)
        .args([uri, "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "psql failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn postgresql_csv_to_table_to_json_lines_as_psql_sees_it() {
    let Some((uri, ps)) = postgres() else { return };
    let Some((s, _)) = site() else { return };
    psql(&ps, &uri, "DROP TABLE IF EXISTS t_round");
    s.run(&["convert", "people.csv", &uri, "--table", "t_round"])
        .ok();
    assert_eq!(
        psql(&ps, &uri, "SELECT id, name, city FROM t_round ORDER BY id"),
        "1|Ann|Oslo\n2|Bö|\n3|Cé|Riga, LV\n"
    );
    s.run(&["convert", &uri, "out.jsonl", "--table", "t_round"])
        .ok();
    assert_eq!(
        json_lines(&s.read("out.jsonl")),
        [
            json!({"id": "1", "name": "Ann", "city": "Oslo"}),
            json!({"id": "2", "name": "Bö", "city": ""}),
            json!({"id": "3", "name": "Cé", "city": "Riga, LV"}),
        ]
    );
    assert_eq!(
        s.run(&["count", &uri, "--table", "t_round"]).ok().trim(),
        "3"
    );
}

#[test]
fn postgresql_types_come_back_typed() {
    let Some((uri, ps)) = postgres() else { return };
    let Some((s, _)) = site() else { return };
    psql(
        &ps,
        &uri,
        "DROP TABLE IF EXISTS t_types; \
         CREATE TABLE t_types (i int, b bigint, n numeric(10, 2), t timestamptz, s text, f double precision); \
         INSERT INTO t_types VALUES (1, 9007199254740993, 12.34, '2024-01-31 13:05:07.5+01', 'Zürich ✓', 0.5), \
                                    (NULL, NULL, NULL, NULL, NULL, NULL)",
    );
    assert_eq!(
        json_lines(&s.run(&["cat", &uri, "--table", "t_types"]).ok()),
        [
            json!({"i": 1, "b": 9007199254740993_i64, "n": "12.34",
                   "t": "2024-01-31T12:05:07.5Z", "s": "Zürich ✓", "f": 0.5}),
            json!({"i": null, "b": null, "n": null, "t": null, "s": null, "f": null}),
        ]
    );
    assert_eq!(
        json_lines(
            &s.run(&[
                "cat",
                &uri,
                "--query",
                "SELECT 1 AS one, 'é' AS s, NULL::text AS z"
            ])
            .ok()
        ),
        [json!({"one": 1, "s": "é", "z": null})]
    );
}

#[test]
fn postgresql_errors_are_one_line_and_writes_are_transactional() {
    let Some((uri, ps)) = postgres() else { return };
    let Some((s, _)) = site() else { return };
    let err = s.run(&["cat", &uri, "--table", "no_such_table"]).err();
    assert!(
        err.contains("plugin 'adbc-postgresql'")
            && err.contains("\"no_such_table\" does not exist"),
        "{err}"
    );
    let wrong = uri.replacen(":secret@", ":wrong@", 1);
    let err = s.run(&["cat", &wrong, "--table", "t"]).err();
    assert!(err.contains("password authentication failed"), "{err}");
    // A failed convert leaves the table as it was.
    psql(&ps, &uri, "DROP TABLE IF EXISTS t_tx");
    s.run(&["convert", "people.csv", &uri, "--table", "t_tx"])
        .ok();
    broken_csv(&s);
    s.run(&["convert", "big.csv", &uri, "--table", "t_tx"])
        .err();
    assert_eq!(psql(&ps, &uri, "SELECT count(*) FROM t_tx"), "3\n");
}

#[test]
fn adbc_drivers_run_isolated_with_the_network_only_when_granted() {
    let Some((s, _)) = site() else { return };
    let uri = uri(&s);
    let iso = |args: &[&str]| {
        let mut all = vec!["--isolate-plugins"];
        all.extend_from_slice(args);
        s.run(&all)
    };
    // A file database: the runner may write in its directory, nowhere else.
    iso(&["convert", "people.csv", &uri, "--table", "people"]).ok();
    assert_eq!(
        json_lines(&iso(&["cat", &uri, "--table", "people"]).ok()),
        [
            json!({"id": "1", "name": "Ann", "city": "Oslo"}),
            json!({"id": "2", "name": "Bö", "city": ""}),
            json!({"id": "3", "name": "Cé", "city": "Riga, LV"}),
        ]
    );
    let Some((pg, ps)) = postgres() else { return };
    psql(&ps, &pg, "DROP TABLE IF EXISTS t_isolated");
    let e = iso(&["convert", "people.csv", &pg, "--table", "t_isolated"]).err();
    assert!(
        e.starts_with("iterable-host: error: plugin 'adbc-postgresql': ")
            && e.ends_with(
                "(isolated plugins have no network unless it is granted: [plugins.adbc-postgresql] network = true in config.toml)"
            ),
        "{e}"
    );
    fs::create_dir_all(s.path().join("home/.iterabledata")).unwrap();
    fs::write(
        s.path().join("home/.iterabledata/config.toml"),
        "[plugins.adbc-postgresql]\nnetwork = true\n",
    )
    .unwrap();
    iso(&["convert", "people.csv", &pg, "--table", "t_isolated"]).ok();
    assert_eq!(
        psql(
            &ps,
            &pg,
            "SELECT id, name, city FROM t_isolated ORDER BY id"
        ),
        "1|Ann|Oslo\n2|Bö|\n3|Cé|Riga, LV\n"
    );
}
