//! The JSON array reader, on a top-level array and under a key.
#![no_main]

use iterable_core::OpenOptions;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    iterable_fuzz::read_all(data, &OpenOptions::new().format("json"));
    iterable_fuzz::read_all(
        data,
        &OpenOptions::new().format("json").option("key", "data"),
    );
});
