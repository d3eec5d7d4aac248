//! The C ABI in process: memory handed over is released exactly once,
//! whatever happens; malformed Arrow is refused; a failed C plugin leaves
//! the host working; driver writes are transactional.

use std::fs;
use std::path::{Path, PathBuf};

use iterable_host::iterable_core::{Options, Record, Source, Value};
use iterable_host::{Host, PluginErrorExt, PluginErrorKind, Scanner};

/// A host over a plugin directory holding the given C libraries, as they
/// are (no manifest: recognised by their symbol, examined in this process).
fn host(dir: &Path, libs: &[&str]) -> Host {
    let plugins = dir.join("plugins");
    fs::create_dir_all(&plugins).unwrap();
    for lib in libs {
        fs::copy(lib, plugins.join(Path::new(lib).file_name().unwrap())).unwrap();
    }
    Host::builder()
        .plugin_dir(&plugins)
        .cache_file(None)
        // SAFETY: the test's own C plugins; examining them in this process
        // is what the tests want.
        .scanner(unsafe { Scanner::in_process() })
        .build()
        .unwrap()
}

fn copied(dir: &Path, lib: &str) -> PathBuf {
    dir.join("plugins")
        .join(Path::new(lib).file_name().unwrap())
}

/// Reads a counter the C plugin exports (the library is already loaded,
/// so this is the same instance the host uses).
fn counter(lib: &Path, symbol: &str) -> i64 {
    // SAFETY: the test plugins export these as `int64_t f(void)`.
    unsafe {
        let l = libloading::Library::new(lib).unwrap();
        let f = l
            .get::<unsafe extern "C" fn() -> i64>(symbol.as_bytes())
            .unwrap();
        let v = f();
        std::mem::forget(l);
        v
    }
}

fn read_all(host: &Host, path: &Path) -> Result<Vec<Record>, iterable_host::iterable_core::Error> {
    host.open(path, &Default::default())?.collect()
}

#[test]
fn every_arrow_struct_is_released_exactly_once() {
    let d = tempfile::tempdir().unwrap();
    let h = host(d.path(), &[iterable_test_cplugins::CFAULTS]);
    let lib = copied(d.path(), iterable_test_cplugins::CFAULTS);
    let data = d.path().join("x.ccount");
    fs::write(&data, "").unwrap();

    // Read to the end: three batches of two rows.
    let records = read_all(&h, &data).unwrap();
    assert_eq!(records.len(), 6);
    assert_eq!(records[2].get("id"), Some(&Value::Int(3)));
    assert_eq!(records[2].get("name"), Some(&Value::from("é")));
    assert_eq!(records[3].get("name"), Some(&Value::Null));
    assert_eq!(counter(&lib, "idp_test_live"), 0);

    // Stop after one record: the stream and what it made are released.
    let mut r = h.open(&data, &Default::default()).unwrap();
    assert!(r.next().is_some());
    drop(r);
    assert_eq!(counter(&lib, "idp_test_live"), 0);

    // An error in the middle of the stream.
    let bad = d.path().join("x.cerror");
    fs::write(&bad, "").unwrap();
    let e = read_all(&h, &bad).unwrap_err();
    assert!(e.to_string().contains("line 3: broken on purpose"), "{e}");
    assert_eq!(counter(&lib, "idp_test_live"), 0);

    // Malformed batches are refused, and released all the same.
    let cbad = d.path().join("x.cbad");
    fs::write(&cbad, "").unwrap();
    for how in ["offsets", "utf8", "children", "length"] {
        let opts = iterable_host::iterable_core::OpenOptions {
            options: Options::new().with("how", how),
            ..Default::default()
        };
        let e = h
            .open(&cbad, &opts)
            .and_then(|r| r.collect::<Result<Vec<_>, _>>())
            .unwrap_err();
        assert_eq!(
            e.plugin_kind(),
            Some(PluginErrorKind::BadArrow),
            "{how}: {e}"
        );
        assert!(e.to_string().contains("plugin 'cfaults'"), "{how}: {e}");
        assert!(
            e.to_string().contains("malformed Arrow data, refused"),
            "{how}: {e}"
        );
        assert_eq!(counter(&lib, "idp_test_live"), 0, "{how}");
    }
    assert_eq!(counter(&lib, "idp_test_double_release"), 0);

    // The host and its built-ins keep working.
    let csv = d.path().join("a.csv");
    fs::write(&csv, "a\n1\n").unwrap();
    assert_eq!(read_all(&h, &csv).unwrap().len(), 1);
}

#[test]
fn a_batch_without_a_release_callback_is_refused_not_taken_for_the_end() {
    let d = tempfile::tempdir().unwrap();
    let h = host(d.path(), &[iterable_test_cplugins::CFAULTS]);
    let data = d.path().join("x.cnorel");
    fs::write(&data, "").unwrap();
    let e = read_all(&h, &data).unwrap_err();
    assert_eq!(e.plugin_kind(), Some(PluginErrorKind::BadArrow), "{e}");
    assert!(e.to_string().contains("no release callback"), "{e}");
}

#[test]
fn a_writer_that_leaves_its_batches_gets_them_released_by_the_host() {
    let d = tempfile::tempdir().unwrap();
    let h = host(d.path(), &[iterable_test_cplugins::CFAULTS]);
    let lib = copied(d.path(), iterable_test_cplugins::CFAULTS);
    let out = d.path().join("out.ccount");
    let mut w = h.create(&out, &Default::default()).unwrap();
    for i in 0..10_000 {
        w.write(&Record::from_pairs([("i", Value::Int(i))]))
            .unwrap();
    }
    w.finish().unwrap();
    assert_eq!(fs::read_to_string(&out).unwrap(), "rows=10000\n");
    assert_eq!(counter(&lib, "idp_test_rows_written"), 10_000);
}

#[test]
fn driver_writes_commit_on_finish_and_roll_back_otherwise() {
    let d = tempfile::tempdir().unwrap();
    let h = host(d.path(), &[iterable_test_cplugins::CKINDS]);
    let lib = copied(d.path(), iterable_test_cplugins::CKINDS);
    let driver = h.registry().driver_for_scheme("cmem").unwrap();
    let mut conn = driver.connect("cmem://db", &Options::new()).unwrap();
    assert_eq!(conn.list_tables().unwrap(), ["numbers", "written"]);
    let rows: Vec<Record> = {
        let mut r = conn
            .read(&Source::Table("numbers".into()), &Options::new())
            .unwrap();
        let mut out = Vec::new();
        let mut rec = Record::new();
        while r.read_record(&mut rec).unwrap() {
            out.push(rec.clone());
        }
        out
    };
    assert_eq!(
        rows,
        [
            Record::from_pairs([("id", Value::Int(1)), ("name", Value::from("one"))]),
            Record::from_pairs([("id", Value::Int(2)), ("name", Value::from("two"))]),
            Record::from_pairs([("id", Value::Int(3)), ("name", Value::Null)]),
        ]
    );
    let before = counter(&lib, "idp_test_committed");
    // Dropped without finish: rolled back.
    let mut w = conn.write("written", &Options::new()).unwrap();
    for i in 0..5000 {
        w.write_record(&Record::from_pairs([("i", Value::Int(i))]))
            .unwrap();
    }
    drop(w);
    assert_eq!(counter(&lib, "idp_test_committed"), before);
    // Finished: committed.
    let mut w = conn.write("written", &Options::new()).unwrap();
    for i in 0..5000 {
        w.write_record(&Record::from_pairs([("i", Value::Int(i))]))
            .unwrap();
    }
    w.finish().unwrap();
    assert_eq!(counter(&lib, "idp_test_committed"), before + 5000);
    assert_eq!(counter(&lib, "idp_test_live"), 0);
}

#[test]
fn the_benchmark_csv_plugin_reads_what_the_built_in_reads() {
    let d = tempfile::tempdir().unwrap();
    let h = host(d.path(), &[iterable_test_cplugins::CCSV]);
    // Quotes, doubled quotes, a line break and a comma inside quotes, CRLF,
    // an empty field, non-ASCII, and a chunk boundary far away.
    let mut text =
        String::from("id,note,city\r\n1,\"a \"\"q\"\" b\",\"São, Paulo\"\r\n2,,\"two\nlines\"\r\n");
    for i in 3..60_000 {
        text.push_str(&format!("{i},n{i},\"c,{i}\"\n"));
    }
    fs::write(d.path().join("x.csv"), &text).unwrap();
    fs::write(d.path().join("x.ccsv"), &text).unwrap();
    let builtin = read_all(&h, &d.path().join("x.csv")).unwrap();
    let c = read_all(&h, &d.path().join("x.ccsv")).unwrap();
    assert_eq!(c.len(), 59_999);
    assert_eq!(c, builtin);
    assert_eq!(c[0].get("note"), Some(&Value::from("a \"q\" b")));
    assert_eq!(c[1].get("city"), Some(&Value::from("two\nlines")));
}

#[test]
fn the_guide_s_c_example_compiles_and_loads() {
    let d = tempfile::tempdir().unwrap();
    let h = host(d.path(), &[iterable_test_cplugins::GUIDE]);
    let p = h
        .plugin("fwf")
        .expect("the guide's plugin is listed as fwf");
    assert_eq!(p.provides().formats, ["fwf"]);
    let data = d.path().join("x.fwf");
    fs::write(&data, "a\n").unwrap();
    let e = read_all(&h, &data).unwrap_err();
    assert!(
        e.to_string().contains("the guide's example reads nothing"),
        "{e}"
    );
}
