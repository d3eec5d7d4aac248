//! Drives the template plugin in-process through `get_library()`: the same
//! wire-level objects the host uses after loading the `.so`.

use iterable_plugin_api::abi::roptions;
use iterable_plugin_api::sdk::streams::MemorySink;
use iterable_plugin_api::{
    ByteSinkBox, ByteSourceBox, CellRef, FormatProviderBox, RBatch, RError, RErrorKind, ROptions,
};
use iterable_plugin_template::get_library;

fn lines_format() -> FormatProviderBox {
    let mut formats = (get_library().formats())().into_result().unwrap();
    assert_eq!(formats.len(), 1);
    formats.remove(0)
}

/// Reads `input` with the `lines` format: the `line` of every record.
fn read(input: &'static [u8]) -> Result<Vec<String>, RError> {
    let source = ByteSourceBox::from_reader(input);
    let mut reader = lines_format()
        .open_reader(source, ROptions::new())
        .into_result()?;
    let mut batch = RBatch::new();
    let mut lines = Vec::new();
    while reader.read_batch(&mut batch, 2).into_result()? {
        let view = batch.validated()?;
        assert_eq!(view.field_names().collect::<Vec<_>>(), ["line"]);
        for row in view {
            match row.get(0) {
                CellRef::Str(s) => lines.push(s.to_owned()),
                other => panic!("expected text, got {other:?}"),
            }
        }
    }
    Ok(lines)
}

/// Writes one batch with the `lines` format and returns the text.
fn write(batch: &RBatch) -> Result<String, RError> {
    let out = MemorySink::new();
    let sink = ByteSinkBox::from_writer(out.clone());
    let mut writer = lines_format()
        .open_writer(sink, ROptions::new())
        .into_result()?;
    writer.write_batch(batch).into_result()?;
    writer.finish().into_result()?;
    let bytes = out.contents();
    Ok(String::from_utf8(bytes).unwrap())
}

fn batch_of(field: &str, values: &[&str]) -> RBatch {
    let mut batch = RBatch::new();
    let mut b = batch.builder();
    for v in values {
        b.key(field).push_str(v);
        b.end_row();
    }
    drop(b);
    batch
}

#[test]
fn metadata_and_format_description() {
    let module = get_library();
    let meta = (module.metadata())().into_result().unwrap();
    assert_eq!(meta.name.as_str(), "template");
    assert_eq!(meta.version.as_str(), env!("CARGO_PKG_VERSION"));
    assert_eq!(meta.api_version.as_str(), iterable_plugin_api::API_VERSION);
    let info = lines_format().info();
    assert_eq!(info.id.as_str(), "lines");
    assert_eq!(
        info.extensions
            .iter()
            .map(|e| e.as_str())
            .collect::<Vec<_>>(),
        ["txt"]
    );
    assert!(info.can_read && info.can_write);
    assert!(info.options.is_empty());
}

#[test]
fn reads_one_record_per_line_in_batches() {
    let lines = read(b"\xef\xbb\xbffirst\n\nthird\r\nlast").unwrap();
    assert_eq!(lines, ["first", "", "third", "last"]);
    assert_eq!(read(b"").unwrap(), Vec::<String>::new());
}

#[test]
fn invalid_utf8_is_an_encoding_error_with_its_line() {
    let e = read(b"ok\nbad \xff\n").unwrap_err();
    assert_eq!(e.kind, RErrorKind::ENCODING);
    assert_eq!(e.line.into_option(), Some(2));
    assert_eq!(e.record.into_option(), Some(2));
    assert!(e.message.starts_with("invalid UTF-8"), "{e}");
}

#[test]
fn writes_the_line_field() {
    let text = write(&batch_of("line", &["a", "", "b c"])).unwrap();
    assert_eq!(text, "a\n\nb c\n");
    // Round trip.
    let back = read(Box::leak(text.into_bytes().into_boxed_slice())).unwrap();
    assert_eq!(back, ["a", "", "b c"]);
}

#[test]
fn refuses_to_write_a_line_break_inside_a_value() {
    for bad in ["two\nlines", "carriage\rreturn"] {
        let e = write(&batch_of("line", &["fine", bad])).unwrap_err();
        assert_eq!(e.kind, RErrorKind::INVALID_INPUT);
        assert_eq!(e.message.as_str(), "a line cannot contain a line break");
    }
}

#[test]
fn takes_no_options() {
    let source = ByteSourceBox::from_reader(&b"x\n"[..]);
    let e = lines_format()
        .open_reader(source, roptions([("delimiter", ";")]))
        .into_result()
        .err()
        .expect("an unknown option is refused");
    assert_eq!(e.kind, RErrorKind::INVALID_OPTION);
    assert_eq!(
        e.message.as_str(),
        "unknown option `delimiter` for format `lines` (this format takes no options)"
    );
}

#[test]
fn manifest_matches_the_library() {
    let manifest = include_str!("../plugin.toml");
    assert!(manifest.contains("\nname = \"template\"\n"));
    assert!(manifest.contains(&format!("\nversion = \"{}\"\n", env!("CARGO_PKG_VERSION"))));
    assert!(manifest.contains("\napi_version = \"1.1\"\n"));
    assert!(manifest.contains("\nlibrary = \"libiterable_plugin_template.so\"\n"));
    assert!(manifest.contains("\n[[format]]\nid = \"lines\"\nextensions = [\"txt\"]\n"));
}
