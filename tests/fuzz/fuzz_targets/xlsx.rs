//! The xlsx plugin's reader (workbooks: zip archives and OLE files): any
//! bytes read or fail with an error, never a panic or a hang.
#![no_main]

use iterable_plugin_api::testing::PluginTest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let t = PluginTest::new(iterable_plugin_xlsx::plugin_exports());
    if let Ok(reader) = t.reader("xlsx", std::io::Cursor::new(data.to_vec()), &[]) {
        let _ = reader.read_all();
    }
});
