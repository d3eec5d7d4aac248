//! End-to-end tests of the data commands of `iterable-host` with the
//! built-in formats and codecs (no plugins).

mod util;

use serde_json::json;
use std::fs;
use util::{gzip, json_lines, run, run_stdin};

const PEOPLE: &str =
    "id,name,city\n1,Ann,\"Oslo, NO\"\n2,\"Bo \"\"B\"\"\",Riga\n3,Cé,\"multi\nline\"\n";

fn people_json() -> Vec<serde_json::Value> {
    vec![
        json!({"id": "1", "name": "Ann", "city": "Oslo, NO"}),
        json!({"id": "2", "name": "Bo \"B\"", "city": "Riga"}),
        json!({"id": "3", "name": "Cé", "city": "multi\nline"}),
    ]
}

#[test]
fn cat_prints_json_lines_in_field_order() {
    let d = tempfile::tempdir().unwrap();
    fs::write(d.path().join("p.csv"), PEOPLE).unwrap();
    let out = run(d.path(), &["cat", "p.csv"]).ok();
    assert_eq!(json_lines(&out), people_json());
    assert!(out.starts_with(r#"{"id":"1","name":"Ann","city":"Oslo, NO"}"#));
    let limited = run(d.path(), &["cat", "p.csv", "--limit", "1"]).ok();
    assert_eq!(json_lines(&limited), people_json()[..1]);
    assert_eq!(run(d.path(), &["count", "p.csv"]).ok(), "3\n");
}

#[test]
fn convert_round_trip_csv_gz_jsonl_zst_csv_is_identical() {
    let d = tempfile::tempdir().unwrap();
    fs::write(d.path().join("rows.csv.gz"), gzip(PEOPLE.as_bytes())).unwrap();
    run(d.path(), &["convert", "rows.csv.gz", "rows.jsonl.zst"]).ok();
    let raw = zstd::decode_all(&fs::read(d.path().join("rows.jsonl.zst")).unwrap()[..]).unwrap();
    assert_eq!(
        json_lines(std::str::from_utf8(&raw).unwrap()),
        people_json()
    );
    run(d.path(), &["convert", "rows.jsonl.zst", "back.csv"]).ok();
    assert_eq!(
        fs::read_to_string(d.path().join("back.csv")).unwrap(),
        PEOPLE
    );
}

#[test]
fn tsv_extension_and_delimiter_option() {
    let d = tempfile::tempdir().unwrap();
    fs::write(d.path().join("x.tsv"), "a\tb\n1,2\t3\n").unwrap();
    assert_eq!(
        json_lines(&run(d.path(), &["cat", "x.tsv"]).ok()),
        vec![json!({"a": "1,2", "b": "3"})]
    );
    fs::write(d.path().join("s.csv"), "a;b\n1;2\n").unwrap();
    let out = run(d.path(), &["cat", "s.csv", "--option", "delimiter=;"]).ok();
    assert_eq!(json_lines(&out), vec![json!({"a": "1", "b": "2"})]);
    // Without the option the semicolon is data.
    let out = run(d.path(), &["cat", "s.csv"]).ok();
    assert_eq!(json_lines(&out), vec![json!({"a;b": "1;2"})]);
}

#[test]
fn a_tab_separated_csv_is_read_with_a_tab() {
    let d = tempfile::tempdir().unwrap();
    // A header with tabs and no comma: a tab-separated file named .csv.
    fs::write(d.path().join("t.csv"), "a\tb c\n1,5\t2\n").unwrap();
    assert_eq!(
        json_lines(&run(d.path(), &["cat", "t.csv"]).ok()),
        vec![json!({"a": "1,5", "b c": "2"})]
    );
    // A comma in the header keeps the comma.
    fs::write(d.path().join("c.csv"), "a,b\tc\n1,2\t3\n").unwrap();
    assert_eq!(
        json_lines(&run(d.path(), &["cat", "c.csv"]).ok()),
        vec![json!({"a": "1", "b\tc": "2\t3"})]
    );
    // A delimiter given wins.
    let out = run(d.path(), &["cat", "t.csv", "--option", "delimiter=;"]).ok();
    assert_eq!(json_lines(&out), vec![json!({"a\tb c": "1,5\t2"})]);
}

#[test]
fn unterminated_quote_fails_with_line_and_leaves_no_output() {
    let d = tempfile::tempdir().unwrap();
    fs::write(d.path().join("bad.csv"), "a,b\n1,2\n3,\"open\n4,5\n").unwrap();
    let err = run(d.path(), &["convert", "bad.csv", "out.jsonl"]).err();
    assert!(err.contains("bad.csv"), "{err}");
    assert!(err.contains("line 3"), "{err}");
    assert!(err.contains("unterminated"), "{err}");
    let left: Vec<_> = fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        left,
        vec![std::ffi::OsString::from("bad.csv")],
        "no output, no temp file"
    );
}

#[test]
fn failed_convert_keeps_the_old_output() {
    let d = tempfile::tempdir().unwrap();
    fs::write(d.path().join("bad.csv"), "a,b\n1,2,3\n").unwrap();
    fs::write(d.path().join("out.jsonl"), "old\n").unwrap();
    let err = run(d.path(), &["convert", "bad.csv", "out.jsonl"]).err();
    assert!(err.contains("line 2"), "{err}");
    assert_eq!(
        fs::read_to_string(d.path().join("out.jsonl")).unwrap(),
        "old\n"
    );
}

#[test]
fn truncated_gzip_and_zstd_are_clear_errors() {
    let d = tempfile::tempdir().unwrap();
    let gz = gzip(PEOPLE.as_bytes());
    fs::write(d.path().join("t.csv.gz"), &gz[..gz.len() / 2]).unwrap();
    let err = run(d.path(), &["cat", "t.csv.gz"]).err();
    assert!(
        err.contains("t.csv.gz") && err.contains("gzip: truncated"),
        "{err}"
    );
    let zst = zstd::encode_all(PEOPLE.as_bytes(), 3).unwrap();
    fs::write(d.path().join("t.csv.zst"), &zst[..zst.len() - 5]).unwrap();
    let err = run(d.path(), &["count", "t.csv.zst"]).err();
    assert!(err.contains("zstd"), "{err}");
}

#[test]
fn gzip_without_extension_is_detected() {
    let d = tempfile::tempdir().unwrap();
    fs::write(d.path().join("blob"), gzip(PEOPLE.as_bytes())).unwrap();
    assert_eq!(
        json_lines(&run(d.path(), &["cat", "blob"]).ok()),
        people_json()
    );
}

#[test]
fn stdin_and_stdout_with_dash() {
    let d = tempfile::tempdir().unwrap();
    let out = run_stdin(
        d.path(),
        &["convert", "-", "-", "--in-format", "csv", "--format", "tsv"],
        PEOPLE.as_bytes(),
    )
    .ok();
    assert_eq!(
        out,
        "id\tname\tcity\n1\tAnn\tOslo, NO\n2\t\"Bo \"\"B\"\"\"\tRiga\n3\tCé\t\"multi\nline\"\n"
    );
    let err = run_stdin(
        d.path(),
        &["convert", "-", "-", "--in-format", "csv"],
        PEOPLE.as_bytes(),
    )
    .err();
    assert!(err.contains("needs --format"), "{err}");
    let out = run_stdin(
        d.path(),
        &["cat", "-", "--format", "csv"],
        PEOPLE.as_bytes(),
    )
    .ok();
    assert_eq!(json_lines(&out), people_json());
}

#[test]
fn options_and_formats_are_checked() {
    let d = tempfile::tempdir().unwrap();
    fs::write(d.path().join("p.csv"), PEOPLE).unwrap();
    let err = run(d.path(), &["cat", "p.csv", "--option", "delimeter=;"]).err();
    assert!(
        err.contains("unknown option 'delimeter'") && err.contains("valid options: delimiter"),
        "{err}"
    );
    let err = run(d.path(), &["cat", "p.csv", "--option", "header=maybe"]).err();
    assert!(
        err.contains("'header'") && err.contains("true or false"),
        "{err}"
    );
    let err = run(d.path(), &["cat", "p.csv", "--format", "xml"]).err();
    assert!(
        err.contains("unknown format 'xml'") && err.contains("csv, tsv, psv, jsonl"),
        "{err}"
    );
    let err = run(
        d.path(),
        &["convert", "p.csv", "out.gz", "--option", "level=99"],
    )
    .err();
    assert!(err.contains("cannot tell the output format"), "{err}");
    let err = run(
        d.path(),
        &["convert", "p.csv", "out.csv.gz", "--option", "level=99"],
    )
    .err();
    assert!(err.contains("'level'") && err.contains("0 to 9"), "{err}");
    run(
        d.path(),
        &["convert", "p.csv", "out.csv.gz", "--option", "level=1"],
    )
    .ok();
    assert_eq!(
        json_lines(&run(d.path(), &["cat", "out.csv.gz"]).ok()),
        people_json()
    );
}

#[test]
fn validate_modes() {
    let d = tempfile::tempdir().unwrap();
    fs::write(
        d.path().join("v.csv"),
        "email,inn,ogrn\nann@example.com,7707083893,1027700132195\nbad,7707083894,\n,500100732259,1027700132194\n",
    )
    .unwrap();
    let args = [
        "validate",
        "v.csv",
        "--rule",
        "email=required",
        "--rule",
        "email=common.email",
        "--rule",
        "inn=ru.org.inn",
        "--rule",
        "ogrn=ru.org.ogrn",
    ];
    let stats: serde_json::Value = serde_json::from_str(&run(d.path(), &args).ok()).unwrap();
    assert_eq!(
        stats,
        json!({"total": 3, "valid": 1, "invalid": 2, "checks": [
            {"field": "email", "rule": "required", "failed": 1},
            {"field": "email", "rule": "common.email", "failed": 1},
            {"field": "inn", "rule": "ru.org.inn", "failed": 1},
            {"field": "ogrn", "rule": "ru.org.ogrn", "failed": 1},
        ]})
    );
    let mut inv = args.to_vec();
    inv.extend(["--mode", "invalid"]);
    let reports = json_lines(&run(d.path(), &inv).ok());
    assert_eq!(reports.len(), 2);
    assert_eq!(reports[0]["index"], 2);
    assert_eq!(
        reports[0]["errors"][1],
        json!({"field": "inn", "rule": "ru.org.inn", "message": "INN checksum mismatch"})
    );
    assert_eq!(reports[1]["index"], 3);
    assert_eq!(reports[1]["errors"][0]["rule"], "required");
    let mut valid = args.to_vec();
    valid.extend(["--mode", "valid"]);
    assert_eq!(
        json_lines(&run(d.path(), &valid).ok()),
        vec![json!({"email": "ann@example.com", "inn": "7707083893", "ogrn": "1027700132195"})]
    );
    let mut failing = args.to_vec();
    failing.push("--fail-on-invalid");
    assert_eq!(run(d.path(), &failing).status, 3);
    let err = run(
        d.path(),
        &["validate", "v.csv", "--rule", "email=common.emial"],
    )
    .err();
    assert!(
        err.contains("unknown rule 'common.emial'") && err.contains("common.email"),
        "{err}"
    );
}

#[test]
fn listings_as_json() {
    let d = tempfile::tempdir().unwrap();
    let formats: serde_json::Value =
        serde_json::from_str(&run(d.path(), &["formats", "--json"]).ok()).unwrap();
    let ids: Vec<&str> = formats
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["csv", "tsv", "psv", "jsonl", "ndjson", "json"]);
    assert!(
        formats
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["source"] == "builtin" && f["status"] == "active")
    );
    let codecs: serde_json::Value =
        serde_json::from_str(&run(d.path(), &["codecs", "--json"]).ok()).unwrap();
    assert_eq!(codecs[0]["id"], "gzip");
    assert_eq!(codecs[0]["magic"], json!(["1f 8b"]));
    assert_eq!(codecs[1]["extensions"], json!(["zst", "zstd"]));
    let rules = run(d.path(), &["rules"]).ok();
    for r in [
        "required",
        "common.email",
        "common.url",
        "ru.org.inn",
        "ru.org.ogrn",
    ] {
        assert!(rules.contains(r), "{rules}");
    }
}

#[test]
fn errors_are_one_line_and_never_panic() {
    let d = tempfile::tempdir().unwrap();
    let err = run(d.path(), &["cat", "missing.csv"]).err();
    assert_eq!(err, "iterable-host: error: missing.csv: no such file");
    fs::write(d.path().join("a.csv"), "a\n1\n").unwrap();
    let err = run(d.path(), &["convert", "a.csv", "no/such/dir/a.jsonl"]).err();
    assert_eq!(
        err,
        "iterable-host: error: no/such/dir/a.jsonl: cannot create it: no folder no/such/dir"
    );
    fs::write(d.path().join("bin.dat"), [0u8, 159, 146, 150, 1, 2, 3]).unwrap();
    let err = run(d.path(), &["cat", "bin.dat"]).err();
    assert!(err.contains("cannot tell the format"), "{err}");
    fs::write(d.path().join("l.jsonl"), "{\"a\":1}\n{\"a\":\n").unwrap();
    let err = run(d.path(), &["cat", "l.jsonl"]).err();
    assert!(err.contains("line 2"), "{err}");
}

#[test]
fn help_explains_itself() {
    let d = tempfile::tempdir().unwrap();
    let help = run(d.path(), &["--help"]).ok();
    for cmd in [
        "cat", "count", "convert", "validate", "formats", "codecs", "rules",
    ] {
        assert!(help.contains(cmd), "{help}");
    }
    let help = run(d.path(), &["convert", "--help"]).ok();
    assert!(
        help.contains("--in-format") && help.contains("temporary file"),
        "{help}"
    );
}
