//! Detection: compound case-insensitive extensions, codec magic bytes for
//! files without an extension, and content sniffing inside the codec.

mod common;

use common::{fixture, gzip, jrec, read_all, srec, zstd};
use iterable_core::{ErrorKind, OpenOptions, Record, Registry};

fn expected_ab() -> Vec<Record> {
    vec![
        srec(&[("a", "1"), ("b", "x"), ("c", "p")]),
        srec(&[("a", "2"), ("b", "y"), ("c", "q")]),
    ]
}

/// Opens `path` with nothing given and returns (format, codec, records).
fn detect(path: &std::path::Path) -> (String, Option<String>, Vec<Record>) {
    let reader = Registry::with_builtins()
        .open(path, &OpenOptions::new())
        .unwrap();
    let format = reader.format().to_owned();
    let codec = reader.codec().map(str::to_owned);
    let records = reader.collect::<Result<_, _>>().unwrap();
    (format, codec, records)
}

#[test]
fn gzip_without_extension_is_detected_and_its_content_sniffed() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[u8], &str, Vec<Record>); 6] = [
        ("csv", b"a,b,c\n1,x,p\n2,y,q\n", "csv", expected_ab()),
        ("tsv", b"a\tb\tc\n1\tx\tp\n2\ty\tq\n", "tsv", expected_ab()),
        ("psv", b"a|b|c\n1|x|p\n2|y|q\n", "psv", expected_ab()),
        (
            "json array",
            b"[\n {\"a\": 1, \"b\": {\"c\": [1, 2]}},\n {\"a\": 2, \"b\": null}\n]\n",
            "json",
            vec![
                jrec(r#"{"a":1,"b":{"c":[1,2]}}"#),
                jrec(r#"{"a":2,"b":null}"#),
            ],
        ),
        (
            "compact json array",
            b"[{\"a\":1,\"b\":2},{\"a\":3,\"b\":4}]",
            "json",
            vec![jrec(r#"{"a":1,"b":2}"#), jrec(r#"{"a":3,"b":4}"#)],
        ),
        (
            "json lines",
            b"{\"a\":1,\"b\":\"x,y\"}\n{\"a\":2,\"b\":\"z\"}\n",
            "jsonl",
            vec![jrec(r#"{"a":1,"b":"x,y"}"#), jrec(r#"{"a":2,"b":"z"}"#)],
        ),
    ];
    for (what, content, format, expected) in cases {
        for (codec, bytes) in [("gzip", gzip(content)), ("zstd", zstd(content))] {
            let path = fixture(dir.path(), "blob", &bytes);
            let (f, c, records) = detect(&path);
            assert_eq!(f, format, "{what} in {codec}");
            assert_eq!(c.as_deref(), Some(codec), "{what} in {codec}");
            assert_eq!(records, expected, "{what} in {codec}");
        }
        // Uncompressed, without an extension, too.
        let path = fixture(dir.path(), "plain-blob", content);
        let (f, c, records) = detect(&path);
        assert_eq!((f.as_str(), c), (format, None), "{what} uncompressed");
        assert_eq!(records, expected, "{what} uncompressed");
    }
}

#[test]
fn sniffing_a_csv_with_a_bom_and_crlf() {
    let dir = tempfile::tempdir().unwrap();
    let path = fixture(
        dir.path(),
        "blob",
        &gzip("\u{FEFF}a,b,c\r\n1,x,p\r\n2,y,q\r\n".as_bytes()),
    );
    let (f, _, records) = detect(&path);
    assert_eq!(f, "csv");
    assert_eq!(records, expected_ab());
}

#[test]
fn compound_case_insensitive_extensions() {
    let dir = tempfile::tempdir().unwrap();
    let csv = b"a,b,c\n1,x,p\n2,y,q\n";
    let jsonl = b"{\"a\":\"1\",\"b\":\"x\",\"c\":\"p\"}\n{\"a\":\"2\",\"b\":\"y\",\"c\":\"q\"}\n";
    let cases: [(&str, Vec<u8>, &str, Option<&str>); 7] = [
        ("data.CSV.GZ", gzip(csv), "csv", Some("gzip")),
        ("Data.Csv.Gzip", gzip(csv), "csv", Some("gzip")),
        ("my.data.jsonl.zst", zstd(jsonl), "jsonl", Some("zstd")),
        ("MY.DATA.JSONL.ZSTD", zstd(jsonl), "jsonl", Some("zstd")),
        (
            "x.tsv",
            b"a\tb\tc\n1\tx\tp\n2\ty\tq\n".to_vec(),
            "tsv",
            None,
        ),
        (
            "x.TAB",
            b"a\tb\tc\n1\tx\tp\n2\ty\tq\n".to_vec(),
            "tsv",
            None,
        ),
        (
            "v1.2.psv.gz",
            gzip(b"a|b|c\n1|x|p\n2|y|q\n"),
            "psv",
            Some("gzip"),
        ),
    ];
    for (name, bytes, format, codec) in cases {
        let path = fixture(dir.path(), name, &bytes);
        let (f, c, records) = detect(&path);
        assert_eq!((f.as_str(), c.as_deref()), (format, codec), "{name}");
        assert_eq!(records, expected_ab(), "{name}");
    }
}

#[test]
fn magic_bytes_win_over_a_name_without_a_codec_extension() {
    // A gzip file named .csv: the codec is found by its magic bytes.
    let dir = tempfile::tempdir().unwrap();
    let path = fixture(
        dir.path(),
        "really-gzip.csv",
        &gzip(b"a,b,c\n1,x,p\n2,y,q\n"),
    );
    let (f, c, records) = detect(&path);
    assert_eq!((f.as_str(), c.as_deref()), ("csv", Some("gzip")));
    assert_eq!(records, expected_ab());
}

#[test]
fn the_extension_wins_over_content() {
    // Comma-separated content in a .tsv file is read as TSV: one column.
    let dir = tempfile::tempdir().unwrap();
    let path = fixture(dir.path(), "commas.tsv", b"a,b\n1,2\n");
    assert_eq!(
        read_all(&path, &OpenOptions::new()).unwrap(),
        vec![srec(&[("a,b", "1,2")])]
    );
}

#[test]
fn an_explicit_format_wins_over_the_extension() {
    let dir = tempfile::tempdir().unwrap();
    let path = fixture(dir.path(), "lines.csv", b"{\"a\":1}\n");
    let got = read_all(&path, &OpenOptions::new().format("JSONL")).unwrap();
    assert_eq!(got, vec![jrec(r#"{"a":1}"#)]);
}

#[test]
fn undetectable_content_is_unknown_format() {
    let dir = tempfile::tempdir().unwrap();
    let path = fixture(dir.path(), "blob", &gzip(b"just some words\n"));
    let err = Registry::with_builtins()
        .open(&path, &OpenOptions::new())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownFormat);
    assert_eq!(err.path(), Some(path.as_path()));
    assert!(err.message().contains("(inside gzip)"), "{err}");
    assert!(
        err.message()
            .contains("known formats: csv, tsv, psv, jsonl, ndjson, json"),
        "{err}"
    );
}

#[test]
fn open_stream_detects_by_name_or_content() {
    let registry = Registry::with_builtins();
    let bytes = zstd(b"a|b|c\n1|x|p\n2|y|q\n");
    // By name.
    let r = registry
        .open_stream(
            Box::new(std::io::Cursor::new(bytes.clone())),
            Some("in.psv.zst"),
            &OpenOptions::new(),
        )
        .unwrap();
    assert_eq!((r.format(), r.codec()), ("psv", Some("zstd")));
    assert_eq!(r.collect::<Result<Vec<_>, _>>().unwrap(), expected_ab());
    // Without a name (stdin).
    let r = registry
        .open_stream(
            Box::new(std::io::Cursor::new(bytes)),
            None,
            &OpenOptions::new(),
        )
        .unwrap();
    assert_eq!((r.format(), r.codec()), ("psv", Some("zstd")));
    assert_eq!(r.collect::<Result<Vec<_>, _>>().unwrap(), expected_ab());
}

#[test]
fn output_format_and_codec_come_from_the_name() {
    let registry = Registry::with_builtins();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("OUT.TSV.ZST");
    let mut w = registry.create(&path, &OpenOptions::new()).unwrap();
    for r in expected_ab() {
        w.write(&r).unwrap();
    }
    w.finish().unwrap();
    assert_eq!(
        common::unzstd(&std::fs::read(&path).unwrap()),
        b"a\tb\tc\n1\tx\tp\n2\ty\tq\n"
    );
    // No extension and no --format: an error that lists the formats.
    let err = registry
        .create(dir.path().join("noext"), &OpenOptions::new())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownFormat);
    assert!(
        err.message()
            .contains("known formats: csv, tsv, psv, jsonl, ndjson, json"),
        "{err}"
    );
    assert!(!dir.path().join("noext").exists());
}

/// A well-known extension that nothing provides is named, never read as
/// something else: a codec's at the codec step, a format's (or an archive
/// left where the format's extension stands) at the format step, for
/// reading and for writing.
#[test]
fn well_known_extensions_without_a_provider_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let r = Registry::with_builtins();
    let cases: [(&str, ErrorKind, &str); 4] = [
        ("x.csv.br", ErrorKind::UnknownCodec, "'.br' is Brotli"),
        ("x.csv.XZ", ErrorKind::UnknownCodec, "'.xz' is XZ"),
        ("x.yaml", ErrorKind::UnknownFormat, "'.yaml' is YAML"),
        (
            "x.tar.gz",
            ErrorKind::UnknownFormat,
            "'.tar' is a tar archive",
        ),
    ];
    for (name, kind, said) in cases {
        let path = dir.path().join(name);
        let body = if name.ends_with(".gz") {
            gzip(b"a,b\n1,2\n")
        } else {
            b"a,b\n1,2\n".to_vec()
        };
        std::fs::write(&path, body).unwrap();
        let e = r.open(&path, &OpenOptions::new()).unwrap_err();
        assert_eq!(e.kind(), kind, "{name}: {e}");
        assert!(e.message().starts_with(said), "{name}: {e}");
        let out = dir.path().join(format!("out-{name}"));
        let e = r.create(&out, &OpenOptions::new()).unwrap_err();
        assert!(e.message().starts_with(said), "{name}: {e}");
        assert!(!out.exists());
    }
    // Named explicitly, the bytes are read as asked.
    let n = r
        .open(
            dir.path().join("x.csv.br"),
            &OpenOptions::new().codec("none").format("csv"),
        )
        .unwrap()
        .count();
    assert_eq!(n, 1);
}

/// While a source from outside has unknown claims, no input is sniffed:
/// the error names it. A name or magic bytes that a known provider claims,
/// or a format given by the caller, still decides.
#[test]
fn unknown_claims_stop_content_sniffing_and_name_their_source() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = Registry::with_builtins();
    r.add_unknown_claims(
        iterable_core::Origin {
            kind: "plugin",
            name: "mystery".into(),
        },
        "crashed while loading",
    );
    let data = dir.path().join("data");
    std::fs::write(&data, "a,b\n1,2\n").unwrap();
    let e = r.open(&data, &OpenOptions::new()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::UnknownFormat);
    assert_eq!(e.origin().map(|o| o.name.as_str()), Some("mystery"));
    assert!(
        e.to_string().starts_with("plugin 'mystery': ")
            && e.message()
                .contains("failed before it said what it provides (crashed while loading)"),
        "{e}"
    );
    let csv = dir.path().join("data.csv");
    std::fs::write(&csv, "a,b\n1,2\n").unwrap();
    assert_eq!(r.open(&csv, &OpenOptions::new()).unwrap().count(), 1);
    assert_eq!(
        r.open(&data, &OpenOptions::new().format("csv"))
            .unwrap()
            .count(),
        1
    );
}
