//! The xml plugin's streaming reader, with and without namespace prefixes:
//! any bytes read or fail with an error, never a panic or a hang.
#![no_main]

use iterable_plugin_api::testing::PluginTest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let t = PluginTest::new(iterable_plugin_xml::plugin_exports());
    for options in [
        &[("tagname", "item")][..],
        &[("tagname", "a:item"), ("prefix_strip", "false")][..],
        &[][..],
    ] {
        if let Ok(reader) = t.reader("xml", std::io::Cursor::new(data.to_vec()), options) {
            let _ = reader.read_all();
        }
    }
});
