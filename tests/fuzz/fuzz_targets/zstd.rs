//! The zstd decoder, under the CSV and the JSON lines readers.
#![no_main]

use iterable_core::OpenOptions;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for format in ["csv", "jsonl"] {
        iterable_fuzz::read_all(data, &OpenOptions::new().codec("zstd").format(format));
    }
});
