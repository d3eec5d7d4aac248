//! The JSON lines reader.
#![no_main]

use iterable_core::OpenOptions;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    iterable_fuzz::read_all(data, &OpenOptions::new().format("jsonl"));
});
