//! Conversions through the registry keep data exactly: csv.gz → jsonl.zst →
//! csv is byte-identical, and jsonl → json → jsonl is identical.

mod common;

use common::{fixture, gunzip, gzip, unzstd};
use iterable_core::{OpenOptions, Record, Registry};
use std::path::Path;

/// Copies every record of `from` into `to`, both detected from their names.
fn convert(registry: &Registry, from: &Path, to: &Path) -> u64 {
    let mut reader = registry.open(from, &OpenOptions::new()).unwrap();
    let mut writer = registry.create(to, &OpenOptions::new()).unwrap();
    let n = writer.copy_from(&mut reader).unwrap();
    assert_eq!(writer.finish().unwrap(), n);
    n
}

/// Canonical CSV (LF endings, quotes only where needed), with columns in
/// an order that is not alphabetical, quoted delimiters, doubled quotes,
/// embedded newlines, empty cells and non-ASCII text.
const CSV: &str = "zeta,alpha,mid,empty\n\
1,Ann,plain,\n\
2,\"Smith, John\",\"say \"\"hi\"\"\",x\n\
3,Bjørn,\"two\nlines\",\n\
4,日本語 🎉,a\tb,y\n";

#[test]
fn csv_gz_to_jsonl_zst_to_csv_is_byte_identical() {
    let registry = Registry::with_builtins();
    let dir = tempfile::tempdir().unwrap();
    let src = fixture(dir.path(), "in.csv.gz", &gzip(CSV.as_bytes()));
    let mid = dir.path().join("mid.jsonl.zst");
    let out = dir.path().join("out.csv");

    assert_eq!(convert(&registry, &src, &mid), 4);
    // The intermediate file is zstd-compressed JSON lines, keys in column order.
    let jsonl = String::from_utf8(unzstd(&std::fs::read(&mid).unwrap())).unwrap();
    assert_eq!(
        jsonl,
        "{\"zeta\":\"1\",\"alpha\":\"Ann\",\"mid\":\"plain\",\"empty\":\"\"}\n\
         {\"zeta\":\"2\",\"alpha\":\"Smith, John\",\"mid\":\"say \\\"hi\\\"\",\"empty\":\"x\"}\n\
         {\"zeta\":\"3\",\"alpha\":\"Bjørn\",\"mid\":\"two\\nlines\",\"empty\":\"\"}\n\
         {\"zeta\":\"4\",\"alpha\":\"日本語 🎉\",\"mid\":\"a\\tb\",\"empty\":\"y\"}\n"
    );

    assert_eq!(convert(&registry, &mid, &out), 4);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), CSV);
}

#[test]
fn csv_to_csv_gz_is_identical_after_decompression() {
    let registry = Registry::with_builtins();
    let dir = tempfile::tempdir().unwrap();
    let src = fixture(dir.path(), "in.csv", CSV.as_bytes());
    let out = dir.path().join("out.csv.gz");
    convert(&registry, &src, &out);
    assert_eq!(gunzip(&std::fs::read(&out).unwrap()), CSV.as_bytes());
}

/// Compact JSON lines as serde_json writes them: nesting, every JSON type,
/// escapes, non-ASCII text, keys in non-alphabetical order, and records with
/// different keys.
const JSONL: &str = r#"{"id":1,"name":"Ann","tags":["a","b"],"geo":{"lat":59.91,"lon":10.75,"alt":null},"ok":true}
{"id":-2,"name":"Bjørn \"B\"\n","tags":[],"geo":{"z":{"y":{"x":[1,[2,[3,{"w":false}]]]}}},"ok":false}
{"zz":"only","aa":1.5,"big":9007199254740993,"neg":-0.25,"empty":{}}
"#;

#[test]
fn jsonl_to_json_to_jsonl_is_identical() {
    let registry = Registry::with_builtins();
    let dir = tempfile::tempdir().unwrap();
    let src = fixture(dir.path(), "in.jsonl", JSONL.as_bytes());
    let mid = dir.path().join("mid.json");
    let out = dir.path().join("out.jsonl");

    assert_eq!(convert(&registry, &src, &mid), 3);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&mid).unwrap()).unwrap();
    let elements = json.as_array().expect("the json output is an array");
    assert_eq!(elements.len(), 3);
    assert_eq!(elements[0]["geo"]["lat"], serde_json::json!(59.91));

    assert_eq!(convert(&registry, &mid, &out), 3);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), JSONL);

    // And the records themselves are equal, read from either file.
    let a: Vec<Record> = registry
        .open(&src, &OpenOptions::new())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let b: Vec<Record> = registry
        .open(&mid, &OpenOptions::new())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(a, b);
}

#[test]
fn json_under_a_key_round_trips() {
    let registry = Registry::with_builtins();
    let dir = tempfile::tempdir().unwrap();
    let src = fixture(dir.path(), "in.jsonl", JSONL.as_bytes());
    let mid = dir.path().join("mid.json.gz");
    let opts = OpenOptions::new().option("key", "items");

    let mut reader = registry.open(&src, &OpenOptions::new()).unwrap();
    let mut writer = registry.create(&mid, &opts).unwrap();
    writer.copy_from(&mut reader).unwrap();
    writer.finish().unwrap();

    let text = String::from_utf8(gunzip(&std::fs::read(&mid).unwrap())).unwrap();
    assert!(text.starts_with("{\"items\":["), "{text}");
    let back: Vec<Record> = registry
        .open(&mid, &opts)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let orig: Vec<Record> = registry
        .open(&src, &OpenOptions::new())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(back, orig);
}

#[test]
fn writing_an_empty_json_array_and_reading_it_back() {
    let registry = Registry::with_builtins();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.json");
    assert_eq!(
        registry
            .create(&path, &OpenOptions::new())
            .unwrap()
            .finish()
            .unwrap(),
        0
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "[]\n");
    assert_eq!(
        registry.open(&path, &OpenOptions::new()).unwrap().count(),
        0
    );
}
