//! The audit hook through the author test harness: no wire types here.

use iterable_plugin_api::testing::{PluginTest, Value, record};
use iterable_plugin_api::{RunInfo, RunSummary};
use iterable_plugin_audit::plugin_exports;

fn run() -> RunInfo {
    RunInfo {
        command: "convert".into(),
        source: "in.csv".into(),
        target: "out.jsonl".into(),
        format: "csv".into(),
        ..RunInfo::default()
    }
}

fn summary(records: u64, ok: bool) -> RunSummary {
    RunSummary {
        records,
        bytes_read: 120,
        ok,
        ..RunSummary::default()
    }
}

#[test]
fn profiles_fields_across_batches_with_exact_counts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("profile.json");
    let path_text = path.to_str().unwrap();
    let t = PluginTest::new(plugin_exports());
    let first = vec![
        record([("name", Value::from("Ann")), ("city", "Oslo".into())]),
        record([("name", Value::from("")), ("city", Value::Null)]),
    ];
    // A later batch with another field and without `city`.
    let second = vec![record([
        ("name", Value::from("Céline")),
        ("age", 41i64.into()),
    ])];
    t.observe(
        "audit",
        &run(),
        &[("path", path_text)],
        &[first, second],
        None,
        &summary(3, true),
    )
    .unwrap();
    let p: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(
        p,
        serde_json::json!({
            "command": "convert", "source": "in.csv", "target": "out.jsonl", "format": "csv",
            "ok": true, "error": null, "records": 3, "bytes_read": 120,
            "fields": {
                "name": {"nulls": 0, "empties": 1, "min_length": 0, "max_length": 6},
                "city": {"nulls": 2, "empties": 0, "min_length": 4, "max_length": 4},
                "age": {"nulls": 2, "empties": 0, "min_length": 2, "max_length": 2},
            }
        })
    );
}

#[test]
fn a_failed_run_is_profiled_with_its_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.json");
    let t = PluginTest::new(plugin_exports());
    t.observe(
        "audit",
        &run(),
        &[("path", path.to_str().unwrap())],
        &[vec![record([("a", "1")])]],
        Some("in.csv: parse error at line 3"),
        &summary(1, false),
    )
    .unwrap();
    let p: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(p["ok"], false);
    assert_eq!(p["error"], "in.csv: parse error at line 3");
}

#[test]
fn path_is_required_and_unknown_options_are_refused() {
    let t = PluginTest::new(plugin_exports());
    let e = t
        .observe("audit", &run(), &[], &[], None, &summary(0, true))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid option: option `path`: missing; give it with --hook-option audit.path=FILE"
    );
    let e = t
        .observe(
            "audit",
            &run(),
            &[("path", "x"), ("colour", "red")],
            &[],
            None,
            &summary(0, true),
        )
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid option: unknown option `colour` for hook `audit` (valid options: path)"
    );
}

#[test]
fn a_profile_that_cannot_be_written_is_an_error_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no/such/dir/p.json");
    let t = PluginTest::new(plugin_exports());
    let e = t
        .observe(
            "audit",
            &run(),
            &[("path", path.to_str().unwrap())],
            &[],
            None,
            &summary(0, true),
        )
        .unwrap_err();
    assert!(e.to_string().contains("cannot write"), "{e}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}
