//! Codecs read concatenated gzip members and zstd frames in full.

mod common;

use common::{fixture, gzip, read_all, srec, zstd};
use iterable_core::{OpenOptions, Record};

fn rows(from: usize, to: usize) -> Vec<Record> {
    (from..to)
        .map(|i| srec(&[("n", &i.to_string()), ("sq", &(i * i).to_string())]))
        .collect()
}

fn body(from: usize, to: usize) -> String {
    (from..to).map(|i| format!("{i},{}\n", i * i)).collect()
}

#[test]
fn multi_member_gzip_reads_every_member() {
    let dir = tempfile::tempdir().unwrap();
    // Member one: the header and rows 0..1000; member two: rows 1000..2500.
    let mut bytes = gzip(format!("n,sq\n{}", body(0, 1000)).as_bytes());
    bytes.extend(gzip(body(1000, 2500).as_bytes()));
    // With an extension, and without one (magic bytes and sniffing).
    for name in ["two.csv.gz", "two-members"] {
        let path = fixture(dir.path(), name, &bytes);
        let opts = if name.contains('.') {
            OpenOptions::new()
        } else {
            OpenOptions::new().format("csv")
        };
        let got = read_all(&path, &opts).unwrap();
        assert_eq!(got.len(), 2500, "{name}");
        assert_eq!(got, rows(0, 2500), "{name}");
    }
}

#[test]
fn multi_member_gzip_with_a_member_boundary_inside_a_row() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!("n,sq\n{}", body(0, 50));
    let cut = text.len() / 2 + 1; // somewhere inside a row
    let mut bytes = gzip(&text.as_bytes()[..cut]);
    bytes.extend(gzip(&text.as_bytes()[cut..]));
    let path = fixture(dir.path(), "split.csv.gz", &bytes);
    assert_eq!(read_all(&path, &OpenOptions::new()).unwrap(), rows(0, 50));
}

#[test]
fn multi_frame_zstd_reads_every_frame() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = zstd(format!("n,sq\n{}", body(0, 1000)).as_bytes());
    bytes.extend(zstd(body(1000, 2500).as_bytes()));
    let path = fixture(dir.path(), "two.csv.zst", &bytes);
    let got = read_all(&path, &OpenOptions::new()).unwrap();
    assert_eq!(got.len(), 2500);
    assert_eq!(got, rows(0, 2500));
}

#[test]
fn multi_frame_zstd_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = zstd(b"{\"a\":1}\n{\"a\":2}\n");
    bytes.extend(zstd(b"{\"a\":3}\n"));
    bytes.extend(zstd(b"{\"a\":4}\n"));
    let path = fixture(dir.path(), "three.jsonl.zst", &bytes);
    let got: Vec<i64> = read_all(&path, &OpenOptions::new())
        .unwrap()
        .iter()
        .map(|r| r.get("a").and_then(|v| v.as_i64()).unwrap())
        .collect();
    assert_eq!(got, [1, 2, 3, 4]);
}

#[test]
fn codec_given_by_id_overrides_the_name() {
    let dir = tempfile::tempdir().unwrap();
    // A gzip file misnamed .zst: `--codec gzip` reads it.
    let path = fixture(dir.path(), "wrong.csv.zst", &gzip(b"a\n1\n"));
    let got = read_all(&path, &OpenOptions::new().codec("gzip")).unwrap();
    assert_eq!(got, vec![srec(&[("a", "1")])]);
    // `--codec none` reads a plain file whose name says .gz.
    let path = fixture(dir.path(), "plain.csv.gz", b"a\n2\n");
    let got = read_all(&path, &OpenOptions::new().codec("none")).unwrap();
    assert_eq!(got, vec![srec(&[("a", "2")])]);
    // `--codec gzip` on a name that agrees still takes the format from the name.
    let path = fixture(dir.path(), "agree.csv.gz", &gzip(b"a\n3\n"));
    let got = read_all(&path, &OpenOptions::new().codec("gzip")).unwrap();
    assert_eq!(got, vec![srec(&[("a", "3")])]);
}

#[test]
fn codec_given_by_id_when_writing() {
    let registry = iterable_core::Registry::with_builtins();
    let dir = tempfile::tempdir().unwrap();
    let rec = srec(&[("a", "1")]);
    // `--codec zstd` on out.csv.gz: zstd bytes, CSV inside.
    let path = dir.path().join("out.csv.gz");
    let mut w = registry
        .create(&path, &OpenOptions::new().codec("zstd"))
        .unwrap();
    w.write(&rec).unwrap();
    w.finish().unwrap();
    assert_eq!(common::unzstd(&std::fs::read(&path).unwrap()), b"a\n1\n");
    // `--codec none` on plain.csv.gz: plain CSV.
    let path = dir.path().join("plain.csv.gz");
    let mut w = registry
        .create(&path, &OpenOptions::new().codec("none"))
        .unwrap();
    w.write(&rec).unwrap();
    w.finish().unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"a\n1\n");
}
