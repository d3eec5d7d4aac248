//! The CSV reader, with default options and headerless/flexible.
#![no_main]

use iterable_core::OpenOptions;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    iterable_fuzz::read_all(data, &OpenOptions::new().format("csv"));
    iterable_fuzz::read_all(
        data,
        &OpenOptions::new()
            .format("csv")
            .option("header", "false")
            .option("flexible", "true"),
    );
});
