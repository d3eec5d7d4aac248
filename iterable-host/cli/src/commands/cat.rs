//! `cat`: records as JSON lines.

use std::io::Write;

use iterable_core::{Record, Registry};

use crate::args::CatArgs;
use crate::output::{CliResult, stdout, write_json_line};

use super::open_args;

/// Runs `cat`.
pub fn run(registry: &Registry, a: &CatArgs) -> CliResult {
    let mut reader = open_args(registry, &a.input)?;
    let mut out = stdout();
    let mut rec = Record::new();
    let mut n = 0;
    while a.limit.is_none_or(|l| n < l) && reader.read_record(&mut rec)? {
        write_json_line(&mut out, &rec)?;
        n += 1;
    }
    out.flush()?;
    Ok(())
}
