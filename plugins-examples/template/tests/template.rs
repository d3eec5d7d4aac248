//! Drives the template plugin in-process through the test harness: the same
//! wire-level objects the host uses after loading the `.so`, with none of
//! them in sight.

use iterable_plugin_api::prelude::*;
use iterable_plugin_api::testing::{PluginTest, Value, record};
use iterable_plugin_template::plugin_exports;

fn plugin() -> PluginTest {
    PluginTest::new(plugin_exports())
}

/// Reads `input` with the `lines` format: the `line` of every record.
fn read(input: &[u8]) -> Result<Vec<String>> {
    let records = plugin().read("lines", input, &[])?;
    Ok(records
        .into_iter()
        .map(|r| match r.as_slice() {
            [(name, Value::Str(s))] if name == "line" => s.clone(),
            other => panic!("expected one text field `line`, got {other:?}"),
        })
        .collect())
}

/// Writes records of one field `field` with the `lines` format; the text.
fn write(field: &str, values: &[&str]) -> Result<String> {
    let records: Vec<_> = values.iter().map(|v| record([(field, *v)])).collect();
    let bytes = plugin().write("lines", &records, &[])?;
    Ok(String::from_utf8(bytes).unwrap())
}

#[test]
fn metadata_and_format_description() {
    let about = plugin().about().unwrap();
    assert_eq!(about.name, "template");
    assert_eq!(about.version, env!("CARGO_PKG_VERSION"));
    assert_eq!(about.abi_version, iterable_plugin_api::API_VERSION);
    let info = plugin().format_about("lines").unwrap();
    assert_eq!(info.id, "lines");
    assert_eq!(info.extensions, ["txt"]);
    assert!(info.read && info.write);
    assert!(info.options.is_empty());
    assert_eq!(plugin().provides().unwrap().formats, ["lines"]);
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
    assert_eq!(e.line, Some(2));
    assert_eq!(e.record, Some(2));
    assert!(e.message.starts_with("invalid UTF-8"), "{e}");
}

#[test]
fn writes_the_line_field() {
    let text = write("line", &["a", "", "b c"]).unwrap();
    assert_eq!(text, "a\n\nb c\n");
    // Round trip.
    let back = read(text.as_bytes()).unwrap();
    assert_eq!(back, ["a", "", "b c"]);
}

#[test]
fn refuses_to_write_a_line_break_inside_a_value() {
    for bad in ["two\nlines", "carriage\rreturn"] {
        let e = write("line", &["fine", bad]).unwrap_err();
        assert_eq!(e.kind, RErrorKind::INVALID_INPUT);
        assert_eq!(e.message, "a line cannot contain a line break");
    }
}

#[test]
fn takes_no_options() {
    let e = plugin()
        .read("lines", b"x\n", &[("delimiter", ";")])
        .expect_err("an unknown option is refused");
    assert_eq!(e.kind, RErrorKind::INVALID_OPTION);
    assert_eq!(
        e.message,
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
