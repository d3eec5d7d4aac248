//! Plugins written in C (the C ABI), through the real `iterable-host`: the
//! fwf format plugin listed, loaded lazily, read and written; one of each
//! other kind; plugins that fail in the middle; and plugins built against
//! the 1.0 header and a future one.

mod util;

use std::fs;
use std::path::Path;

use serde_json::json;
use util::{Site, json_lines};

use iterable_test_cplugins::{CFAULTS, CKINDS, FWF, FWF_1_0, FWF_FUTURE};

const FWF_TEXT: &str = "\
name      city      amount
Ann       Paris     12.5
Bob       Lyon
Célia     Nice      7
";

/// A site whose plugins/fwf/ holds the fwf library (built from `fwf_lib`)
/// with its manifest; ckinds and cfaults lie in plugins/ as they are, with
/// no manifest.
fn site(fwf_lib: &str) -> Site {
    let site = Site::new();
    let fwf = site.path().join("plugins/fwf");
    fs::create_dir_all(&fwf).unwrap();
    fs::copy(fwf_lib, fwf.join("libiterable_fwf.so")).unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../plugins-examples/fwf");
    fs::copy(root.join("plugin.toml"), fwf.join("plugin.toml")).unwrap();
    for lib in [CKINDS, CFAULTS] {
        let name = Path::new(lib).file_name().unwrap();
        fs::copy(lib, site.path().join("plugins").join(name)).unwrap();
    }
    fs::write(site.path().join("a.fwf"), FWF_TEXT).unwrap();
    fs::write(
        site.path().join("a.csv"),
        "name,city\nAnn,Paris\nBob,Lyon\nCélia,Nice\n",
    )
    .unwrap();
    site
}

#[test]
fn fwf_is_listed_without_loading_then_read_and_written() {
    let s = site(FWF);
    let fwf = s.listed("fwf");
    assert_eq!(fwf["status"], "available", "{fwf}");

    assert_eq!(
        json_lines(&s.run(&["cat", "a.fwf"]).ok()),
        [
            json!({"name": "Ann", "city": "Paris", "amount": "12.5"}),
            json!({"name": "Bob", "city": "Lyon", "amount": null}),
            json!({"name": "Célia", "city": "Nice", "amount": "7"}),
        ]
    );
    // Typed columns from the column spec.
    assert_eq!(
        json_lines(
            &s.run(&[
                "cat",
                "a.fwf",
                "--option",
                "columns=name:10,city:10,amount:6:float"
            ])
            .ok()
        ),
        [
            json!({"name": "Ann", "city": "Paris", "amount": 12.5}),
            json!({"name": "Bob", "city": "Lyon", "amount": null}),
            json!({"name": "Célia", "city": "Nice", "amount": 7.0}),
        ]
    );
    s.run(&["convert", "a.fwf", "b.csv"]).ok();
    assert_eq!(
        s.read("b.csv"),
        "name,city,amount\nAnn,Paris,12.5\nBob,Lyon,\nCélia,Nice,7\n"
    );
    // Back to fixed width: widths from the values, padded by characters.
    s.run(&["convert", "a.csv", "c.fwf"]).ok();
    assert_eq!(
        s.read("c.fwf"),
        "name   city\nAnn    Paris\nBob    Lyon\nCélia  Nice\n"
    );
    assert_eq!(s.run(&["count", "c.fwf"]).ok().trim(), "3");
    // Typed values from JSON lines (integers, floats, booleans) as text.
    fs::write(
        s.path().join("t.jsonl"),
        "{\"id\":1,\"x\":1.5,\"ok\":true}\n{\"id\":22,\"x\":null,\"ok\":false}\n",
    )
    .unwrap();
    s.run(&["convert", "t.jsonl", "t.fwf"]).ok();
    assert_eq!(
        s.read("t.fwf"),
        "id  x    ok\n1   1.5  true\n22       false\n"
    );
}

#[test]
fn fwf_errors_name_the_plugin_the_line_and_leave_no_output() {
    let s = site(FWF);
    fs::write(s.path().join("bad.fwf"), "id   n\n1    a\nx    b\n").unwrap();
    let err = s
        .run(&[
            "convert",
            "bad.fwf",
            "out.csv",
            "--in-option",
            "columns=id:5:int,n:3",
        ])
        .err();
    assert!(err.contains("plugin 'fwf'"), "{err}");
    assert!(
        err.contains("line 3: column 'id': 'x' is not an integer"),
        "{err}"
    );
    assert!(!s.path().join("out.csv").exists());
    let err = s.run(&["cat", "a.fwf", "--option", "columns=name"]).err();
    assert!(
        err.contains("columns: 'name' is not NAME:WIDTH[:TYPE]"),
        "{err}"
    );
    // A value wider than its column is refused, not cut.
    let err = s
        .run(&[
            "convert",
            "a.csv",
            "d.fwf",
            "--option",
            "columns=name:4,city:6",
        ])
        .err();
    assert!(
        err.contains(
            "record 3: field 'name': a value of 5 characters does not fit its column of width 4"
        ),
        "{err}"
    );
    assert!(!s.path().join("d.fwf").exists());
}

#[test]
fn install_writes_a_c_manifest_and_a_bare_library_is_recognised_by_its_symbol() {
    let s = site(FWF);
    s.run(&["install", FWF, "--dir", "more"]).ok();
    let manifests: Vec<_> = walk(&s.path().join("more"), "plugin.toml");
    assert_eq!(manifests.len(), 1, "{manifests:?}");
    let text = fs::read_to_string(&manifests[0]).unwrap();
    assert!(text.contains("abi = \"c\""), "{text}");
    assert!(text.contains("id = \"fwf\""), "{text}");
    let checked = s.run(&["check-plugin", CKINDS]).ok();
    assert!(
        checked.starts_with("ckinds 0.2.0 (C ABI 1.1): ok"),
        "{checked}"
    );
    // ckinds has no manifest: the scan recognises it by its entry symbol.
    let ckinds = s.listed("ckinds");
    let provides = ckinds["provides"].to_string();
    for id in ["cxor", "cmem", "c.short", "c.union", "c.tally"] {
        assert!(provides.contains(id), "{id}: {ckinds}");
    }
}

fn walk(dir: &Path, name: &str) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p, name));
        } else if p.file_name().is_some_and(|f| f == name) {
            out.push(p);
        }
    }
    out
}

#[test]
fn a_codec_in_c_round_trips() {
    let s = site(FWF);
    s.run(&["convert", "a.csv", "a.jsonl.cxor"]).ok();
    let raw = fs::read(s.path().join("a.jsonl.cxor")).unwrap();
    assert!(!raw.starts_with(b"{\"name\""));
    assert_eq!(
        json_lines(&s.run(&["cat", "a.jsonl.cxor"]).ok()),
        [
            json!({"name": "Ann", "city": "Paris"}),
            json!({"name": "Bob", "city": "Lyon"}),
            json!({"name": "Célia", "city": "Nice"}),
        ]
    );
    // It declares no levels: a level is refused before the plugin is asked.
    let err = s
        .run(&["convert", "a.csv", "b.jsonl.cxor", "--option", "level=3"])
        .err();
    assert!(err.contains("unknown option 'level'"), "{err}");
}

#[test]
fn a_driver_in_c_reads_tables_and_reports_its_errors() {
    let s = site(FWF);
    assert_eq!(
        json_lines(&s.run(&["cat", "cmem://db", "--table", "numbers"]).ok()),
        [
            json!({"id": 1, "name": "one"}),
            json!({"id": 2, "name": "two"}),
            json!({"id": 3, "name": null}),
        ]
    );
    let err = s.run(&["cat", "cmem://db", "--query", "SELECT 1"]).err();
    assert!(
        err.contains("plugin 'ckinds'") && err.contains("cmem runs no queries: SELECT 1"),
        "{err}"
    );
    let err = s.run(&["cat", "cmem://db", "--table", "nope"]).err();
    assert!(err.contains("no such table: nope"), "{err}");
    let err = s.run(&["cat", "cmem://fail", "--table", "numbers"]).err();
    assert!(
        err.contains("cannot connect to cmem://fail: refused"),
        "{err}"
    );
    s.run(&["convert", "a.csv", "cmem://db", "--table", "written"])
        .ok();
    let err = s
        .run(&["convert", "a.csv", "cmem://db", "--table", "numbers"])
        .err();
    assert!(err.contains("table numbers is read-only"), "{err}");
}

#[test]
fn a_rule_an_engine_and_a_hook_in_c() {
    let s = site(FWF);
    fs::copy(s.path().join("a.fwf"), s.path().join("b.fwf")).unwrap();
    let out = s.run(&["validate", "a.csv", "--rule", "name=c.short"]).ok();
    let stats: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(stats["total"], 3, "{stats}");
    assert_eq!(stats["invalid"], 0, "{stats}");
    let out = s
        .run(&[
            "validate",
            "a.csv",
            "--rule",
            "city=c.short",
            "--mode",
            "invalid",
        ])
        .ok();
    let invalid = json_lines(&out);
    assert_eq!(invalid.len(), 0, "{out}");
    fs::write(s.path().join("long.csv"), "w\nshort\nmuch longer\n").unwrap();
    let out = s
        .run(&[
            "validate",
            "long.csv",
            "--rule",
            "w=c.short",
            "--mode",
            "invalid",
        ])
        .ok();
    let invalid = json_lines(&out);
    assert_eq!(invalid.len(), 1, "{out}");
    assert_eq!(
        invalid[0]["errors"][0]["message"],
        "longer than 5 characters"
    );

    // c.union says it reads files by their paths, so the host offers it
    // a.csv and b.csv without opening them; it reads the streams anyway,
    // and the host opens each on its first read.
    fs::copy(s.path().join("a.csv"), s.path().join("b.csv")).unwrap();
    let rows = json_lines(
        &s.run(&["query", "--engine", "c.union", "union", "a.csv", "b.csv"])
            .ok(),
    );
    let names: Vec<&str> = rows.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Ann", "Bob", "Célia", "Ann", "Bob", "Célia"]);
    // A file opened that late still fails as itself, with its name.
    fs::write(s.path().join("bad.csv"), b"name\n\xff\xfe\n").unwrap();
    let err = s
        .run(&["query", "--engine", "c.union", "union", "a.csv", "bad.csv"])
        .err();
    assert!(err.contains("bad.csv") && err.contains("line 2"), "{err}");
    // Inputs of other shapes: the engine passes the second under the
    // first's schema, and the host refuses the mismatch.
    let err = s
        .run(&["query", "--engine", "c.union", "union", "a.csv", "b.fwf"])
        .err();
    assert!(
        err.contains("plugin 'ckinds'") && err.contains("malformed Arrow data"),
        "{err}"
    );
    let err = s
        .run(&["query", "--engine", "c.union", "select", "a.csv"])
        .err();
    assert!(
        err.contains("plugin 'ckinds'") && err.contains("c.union only runs 'union', not: select"),
        "{err}"
    );

    s.run(&[
        "convert",
        "a.csv",
        "b.jsonl",
        "--hook",
        "c.tally",
        "--hook-option",
        "c.tally.out=t.txt",
    ])
    .ok();
    assert_eq!(
        s.read("t.txt"),
        "command=convert source=a.csv count=rows rows=3 batches=1 records=3 ok=1\n"
    );
    let err = s
        .run(&[
            "convert",
            "a.csv",
            "c.jsonl",
            "--hook",
            "c.tally",
            "--hook-option",
            "c.tally.stop_at=2",
        ])
        .err();
    assert!(err.contains("stopped after 3 rows"), "{err}");
    assert!(!s.path().join("c.jsonl").exists());
}

#[test]
fn c_plugins_that_fail_are_reported_with_their_name_and_leave_no_output() {
    let s = site(FWF);
    for f in ["x.cerror", "x.cbad", "x.cnorel", "x.ccount"] {
        fs::write(s.path().join(f), "").unwrap();
    }
    let err = s.run(&["convert", "x.cerror", "out.csv"]).err();
    assert!(
        err.contains("plugin 'cfaults'") && err.contains("line 3: broken on purpose"),
        "{err}"
    );
    assert!(!s.path().join("out.csv").exists());
    let err = s.run(&["cat", "x.cerror", "--option", "at=open"]).err();
    assert!(err.contains("refused to open: broken on purpose"), "{err}");
    for how in ["offsets", "utf8", "children", "length"] {
        let err = s
            .run(&[
                "convert",
                "x.cbad",
                "out.csv",
                "--in-option",
                &format!("how={how}"),
            ])
            .err();
        assert!(
            err.contains("plugin 'cfaults'") && err.contains("malformed Arrow data, refused"),
            "{how}: {err}"
        );
        assert!(!s.path().join("out.csv").exists());
    }
    let err = s.run(&["cat", "x.cnorel"]).err();
    assert!(err.contains("no release callback"), "{err}");
    // The host and the other plugins are fine afterwards.
    assert_eq!(json_lines(&s.run(&["cat", "x.ccount"]).ok()).len(), 6);
}

#[test]
fn fwf_built_against_the_1_0_header_and_a_future_one_both_load() {
    for lib in [FWF_1_0, FWF_FUTURE] {
        let s = site(lib);
        assert_eq!(json_lines(&s.run(&["cat", "a.fwf"]).ok()).len(), 3, "{lib}");
        s.run(&["convert", "a.csv", "c.fwf"]).ok();
        assert_eq!(
            s.read("c.fwf"),
            "name   city\nAnn    Paris\nBob    Lyon\nCélia  Nice\n",
            "{lib}"
        );
    }
    // The 1.1 flag IDP_FORMAT_WRITE_TEXT is read only from a struct long
    // enough to hold it: the current build gets nested values as text, the
    // 1.0 build gets them typed, and says it cannot write them.
    let nested = "{\"k\":\"a\",\"v\":[1,2]}\n";
    let s = site(FWF);
    fs::write(s.path().join("n.jsonl"), nested).unwrap();
    s.run(&["convert", "n.jsonl", "n.fwf"]).ok();
    assert_eq!(s.read("n.fwf"), "k  v\na  [1,2]\n");
    let s = site(FWF_1_0);
    fs::write(s.path().join("n.jsonl"), nested).unwrap();
    let err = s.run(&["convert", "n.jsonl", "n.fwf"]).err();
    assert!(
        err.contains("plugin 'fwf'") && err.contains("not Arrow type '+l'"),
        "{err}"
    );
    assert!(!s.path().join("n.fwf").exists());
    // What each says it was built for.
    let s = site(FWF_1_0);
    let info: serde_json::Value =
        serde_json::from_str(&s.run(&["info", "fwf", "--json"]).ok()).unwrap();
    assert_eq!(info["abi"], "c", "{info}");
    assert_eq!(info["hooks_supported"], true, "{info}");
}

/// A C hook's options are checked by the host against what it declares
/// (an undeclared key, a value outside its choices), and it gets the
/// defaults of those not given; the run info it was lent at open is still
/// valid when it closes (an AddressSanitizer run of these tests,
/// `scripts/asan.sh`, would report a use after free). In process and
/// isolated alike.
#[test]
fn c_hooks_get_checked_options_with_defaults_and_their_run_info_until_close() {
    let s = site(FWF);
    for isolated in [false, true] {
        let _ = fs::remove_file(s.path().join("b.jsonl"));
        let iso: &[&str] = if isolated {
            &["--isolate-plugins"]
        } else {
            &[]
        };
        let run = |extra: &[&str]| {
            let mut args = iso.to_vec();
            args.extend(["convert", "a.csv", "b.jsonl", "--hook", "c.tally"]);
            args.extend(extra);
            s.run(&args)
        };
        let err = run(&["--hook-option", "c.tally.nosuch=1"]).err();
        assert_eq!(
            err,
            "iterable-host: error: unknown option 'nosuch' for hook 'c.tally'; valid options: count, out, stop_at",
            "isolated: {isolated}"
        );
        let err = run(&["--hook-option", "c.tally.count=lines"]).err();
        assert!(
            err.starts_with("iterable-host: error: invalid value \"lines\" for option 'count'"),
            "isolated: {isolated}: {err}"
        );
        assert!(!s.path().join("b.jsonl").exists());
        // The hook fails its open when `count` has no value: the default
        // was filled in. (An isolated hook cannot write t.txt: the sandbox.)
        run(&[]).ok();
        if isolated {
            continue;
        }
        run(&["--hook-option", "c.tally.out=t.txt"]).ok();
        assert_eq!(
            s.read("t.txt"),
            "command=convert source=a.csv count=rows rows=3 batches=1 records=3 ok=1\n",
            "isolated: {isolated}"
        );
        run(&[
            "--hook-option",
            "c.tally.out=t.txt",
            "--hook-option",
            "c.tally.count=batches",
        ])
        .ok();
        assert_eq!(
            s.read("t.txt"),
            "command=convert source=a.csv count=batches rows=3 batches=1 records=3 ok=1\n"
        );
    }
}

/// `IdpByteSource.size_hint` is the file's size for a plain file read
/// without a codec, and -1 when it is not known (through a codec, from
/// stdin), in process and isolated.
#[test]
fn a_c_format_is_told_the_size_of_a_plain_file() {
    let s = site(FWF);
    fs::write(s.path().join("x.csize"), "0123456789").unwrap();
    fs::write(s.path().join("x.csize.gz"), util::gzip(b"0123456789")).unwrap();
    for iso in [&[][..], &["--isolate-plugins"][..]] {
        let cat = |args: &[&str]| {
            let mut all = iso.to_vec();
            all.extend(args);
            json_lines(&s.run(&all).ok())
        };
        assert_eq!(cat(&["cat", "x.csize"]), [json!({"size_hint": 10})]);
        assert_eq!(cat(&["cat", "x.csize.gz"]), [json!({"size_hint": -1})]);
        let mut all = iso.to_vec();
        all.extend(["cat", "-", "--format", "csize"]);
        assert_eq!(
            json_lines(&s.run_stdin(&all, b"0123456789").ok()),
            [json!({"size_hint": -1})]
        );
    }
}
