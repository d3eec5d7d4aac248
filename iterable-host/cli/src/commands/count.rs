//! `count`: the number of records.

use std::io::Write;

use iterable_core::Record;

use crate::args::InputArgs;
use crate::output::{CliResult, stdout};

use super::Session;
use super::open_args;

/// Runs `count`.
pub fn run(s: &Session<'_>, a: &InputArgs) -> CliResult {
    let reader = open_args(s.registry, a)?;
    let (mut reader, run) = s.start("count", reader, None)?;
    let mut progress = s.progress(&reader);
    let result = (|| {
        let mut rec = Record::new();
        let mut n: u64 = 0;
        while reader.read_record(&mut rec)? {
            progress.record();
            n += 1;
        }
        let mut out = stdout();
        writeln!(out, "{n}")?;
        out.flush()?;
        Ok(())
    })();
    progress.finish();
    s.finish(run, result)
}
