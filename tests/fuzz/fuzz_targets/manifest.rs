//! The plugin manifest parser: any text parses or fails with a one-line
//! error, and a manifest that parses survives `to_toml` unchanged.
#![no_main]

use iterable_host::manifest::{Manifest, first_missing};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Manifest::parse(text) {
        Ok(m) => {
            let _ = m.provides();
            let _ = m.library_path(std::path::Path::new("dir/plugin.toml"));
            assert_eq!(first_missing(&m, &m), None);
            let again = Manifest::parse(&m.to_toml()).expect("a rendered manifest parses");
            assert_eq!(again.to_toml(), m.to_toml(), "to_toml is not stable");
        }
        Err(e) => iterable_fuzz::assert_one_line(&e),
    }
});
