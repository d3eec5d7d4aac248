//! The parquet plugin's reader (through the author test harness, which
//! drives it as the host does): any bytes read or fail with an error,
//! never a panic or a hang.
#![no_main]

use iterable_plugin_api::testing::PluginTest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let t = PluginTest::new(iterable_plugin_parquet::plugin_exports());
    if let Ok(reader) = t.reader("parquet", std::io::Cursor::new(data.to_vec()), &[]) {
        let _ = reader.read_all();
    }
});
