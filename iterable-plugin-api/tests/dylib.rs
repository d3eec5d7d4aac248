//! Loads the example plugins as real shared libraries (built by `cargo test`
//! from `examples/`), the way the host does, and drives them.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use iterable_plugin_api::abi::roptions;
use iterable_plugin_api::abi_stable::library::{LibraryError, lib_header_from_path};
use iterable_plugin_api::abi_stable::std_types::{RResult, RString, RVec};
use iterable_plugin_api::{
    ByteSinkBox, ByteSourceBox, CellRef, PluginModule_Ref, RBatch, RError, RErrorKind, ROptions,
};

/// Loads one library per path, the way the host does (never through
/// abi_stable's per-type cache).
fn load_module(path: &Path) -> Result<PluginModule_Ref, LibraryError> {
    lib_header_from_path(path).and_then(|h| h.init_root_module::<PluginModule_Ref>())
}

/// `unwrap_err` for `RResult`s whose `Ok` type (a boundary object) is not `Debug`.
trait ExpectRErr {
    fn expect_rerr(self) -> RError;
}

impl<T> ExpectRErr for iterable_plugin_api::abi_stable::std_types::RResult<T, RError> {
    fn expect_rerr(self) -> RError {
        self.into_result()
            .err()
            .unwrap_or_else(|| panic!("expected an error"))
    }
}

fn example_library(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/<test binary> -> target/<profile>/examples/<lib>
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target directory layout");
    let path = profile_dir.join("examples").join(format!(
        "{}{name}{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    ));
    assert!(
        path.exists(),
        "{} is missing: run `cargo test -p iterable-plugin-api` (which builds the examples) \
         or `cargo build -p iterable-plugin-api --examples` first",
        path.display()
    );
    path
}

fn load(name: &str) -> PluginModule_Ref {
    let path = example_library(name);
    match load_module(&path) {
        Ok(m) => m,
        Err(e) => panic!("loading {}: {e}", path.display()),
    }
}

#[test]
fn loads_the_ltsv_example_and_round_trips() {
    let m = load("ltsv_plugin");
    let meta = (m.metadata())().unwrap();
    assert_eq!(meta.name.as_str(), "ltsv");
    assert_eq!(meta.api_version.as_str(), iterable_plugin_api::API_VERSION);
    assert_eq!(meta.api_version.as_str(), iterable_plugin_api::ABI_VERSION);

    let formats = (m.formats())().unwrap();
    assert_eq!(formats.len(), 1);
    let info = formats[0].info();
    assert_eq!(info.id.as_str(), "ltsv");
    assert!(info.can_read && info.can_write);

    let input =
        ByteSourceBox::from_reader(&b"host:127.0.0.1\tstatus:200\nstatus:404\tua:curl\n"[..]);
    let mut reader = formats[0]
        .open_reader(input, roptions::<&str, &str>([]))
        .unwrap();
    let mut batch = RBatch::new();
    assert!(reader.read_batch(&mut batch, 1024).unwrap());
    let view = batch.validated().unwrap();
    assert_eq!(
        view.field_names().collect::<Vec<_>>(),
        ["host", "status", "ua"]
    );
    let r1 = view.row(1).unwrap();
    assert_eq!(r1.get(0), CellRef::Absent);
    assert_eq!(r1.get(1), CellRef::Str("404"));
    assert_eq!(r1.get(2), CellRef::Str("curl"));
    assert!(!reader.read_batch(&mut batch, 1024).unwrap());

    // Options are strict: the ltsv example declares none.
    let e = formats[0]
        .open_reader(ByteSourceBox::from_reader(&b""[..]), roptions([("x", "1")]))
        .expect_rerr();
    assert_eq!(e.kind, RErrorKind::INVALID_OPTION);

    // Parse errors carry the record number.
    let mut reader = formats[0]
        .open_reader(
            ByteSourceBox::from_reader(&b"a:1\nbroken\n"[..]),
            roptions::<&str, &str>([]),
        )
        .unwrap();
    assert!(reader.read_batch(&mut batch, 1024).unwrap());
    let e = reader.read_batch(&mut batch, 1024).expect_rerr();
    assert_eq!(e.kind, RErrorKind::PARSE);
    assert_eq!(e.line.into_option(), Some(2));
    assert_eq!(e.record.into_option(), Some(2));
    assert!(e.to_string().contains("no ':' in `broken`"), "{e}");

    // Writing: rows back to LTSV (absent fields skipped), sink finished.
    let out = Arc::new(Mutex::new(Vec::new()));
    let out2 = out.clone();
    let sink = ByteSinkBox::from_writer_with_finish(Vec::new(), move |bytes: Vec<u8>| {
        *out2.lock().unwrap() = bytes;
        Ok(())
    });
    let mut writer = formats[0].open_writer(sink, ROptions::new()).unwrap();
    let mut batch = RBatch::new();
    let mut b = batch.builder();
    b.key("a").push_str("1");
    b.key("b").push_int(2);
    b.end_row();
    b.key("b").push_str("x");
    b.end_row();
    drop(b);
    writer.write_batch(&batch).unwrap();
    writer.finish().unwrap();
    assert_eq!(
        String::from_utf8(out.lock().unwrap().clone()).unwrap(),
        "a:1\tb:2\nb:x\n"
    );
}

#[test]
fn panics_inside_a_loaded_plugin_do_not_kill_the_host() {
    let m = load("test_plugin");
    let formats = (m.formats())().unwrap();
    let mut reader = formats[0]
        .open_reader(
            ByteSourceBox::from_reader(&b"one\npanic\nthree\n"[..]),
            roptions::<&str, &str>([]),
        )
        .unwrap();
    let mut batch = RBatch::new();
    // The record read before the panic is delivered first, then the panic
    // comes as an error numbered with its record, as a returned error would.
    assert!(matches!(
        reader.read_batch(&mut batch, 10),
        RResult::ROk(true)
    ));
    assert_eq!(batch.rows, 1);
    let e = reader.read_batch(&mut batch, 10).expect_rerr();
    assert_eq!(e.kind, RErrorKind::PANIC);
    assert_eq!(e.record, abi_stable::std_types::RSome(2));
    // The message and location come from the panic hook inside the plugin's own std.
    assert!(
        e.message.contains("plugin panicked on purpose"),
        "{}",
        e.message
    );
    assert!(e.message.contains("test_plugin.rs:"), "{}", e.message);
    // Poisoned from now on.
    let e = reader.read_batch(&mut batch, 10).expect_rerr();
    assert_eq!(e.kind, RErrorKind::PANIC);

    let rules = (m.rules())().unwrap();
    let mut values = RBatch::new();
    let mut b = values.builder();
    b.set_fields(&["v"]);
    b.push_str("fine").end_row();
    b.push_str("panic").end_row();
    drop(b);
    let mut out: RVec<_> = RVec::new();
    let e = rules[0].check_batch(&values, &mut out).expect_rerr();
    assert_eq!(e.kind, RErrorKind::PANIC);
    assert!(
        e.message.contains("rule panicked on purpose"),
        "{}",
        e.message
    );

    let e = (m.engines())().expect_rerr();
    assert_eq!(e.kind, RErrorKind::PANIC);
    assert!(
        e.message.contains("engine constructor panicked"),
        "{}",
        e.message
    );

    // The host is alive and the plugin keeps working for new objects.
    let mut reader = formats[0]
        .open_reader(ByteSourceBox::from_reader(&b"ok\n"[..]), RVec::new())
        .unwrap();
    assert!(reader.read_batch(&mut batch, 10).unwrap());
    assert_eq!(batch.cell(0, 0).as_str(), Some("ok"));
    let _ = RString::new();
}

#[test]
fn loading_twice_returns_the_same_module_and_bad_files_fail_cleanly() {
    let a = load("ltsv_plugin");
    let b = load("ltsv_plugin");
    assert_eq!(
        (a.metadata())().unwrap().name,
        (b.metadata())().unwrap().name
    );

    let dir = std::env::temp_dir().join(format!("iterable-plugin-api-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bogus = dir.join("libbogus.so");
    std::fs::write(&bogus, b"not a library").unwrap();
    let e = load_module(&bogus)
        .err()
        .expect("loading garbage must fail");
    assert!(matches!(e, LibraryError::OpenError { .. }), "{e}");
    assert!(e.to_string().contains("libbogus.so"), "{e}");
    let e = load_module(&dir.join("missing.so"))
        .err()
        .expect("loading a missing file must fail");
    assert!(matches!(e, LibraryError::OpenError { .. }), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}
