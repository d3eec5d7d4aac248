//! `cat`: records as JSON lines.

use std::io::Write;

use iterable_core::Record;

use crate::args::CatArgs;
use crate::output::{CliResult, stdout, write_json_line};

use super::Session;
use super::open_args;

/// Runs `cat`.
pub fn run(s: &Session<'_>, a: &CatArgs) -> CliResult {
    let reader = open_args(s.registry, &a.input)?;
    let (mut reader, run) = s.start("cat", reader, None)?;
    let mut progress = s.progress(&reader);
    let result = (|| {
        let mut out = stdout();
        let mut rec = Record::new();
        let mut n = 0;
        while a.limit.is_none_or(|l| n < l) && reader.read_record(&mut rec)? {
            write_json_line(&mut out, &rec)?;
            progress.record();
            n += 1;
        }
        out.flush()?;
        Ok(())
    })();
    progress.finish();
    s.finish(run, result)
}
