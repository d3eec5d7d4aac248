//! `count`: the number of records.

use std::io::Write;

use iterable_core::{Record, Registry};

use crate::args::InputArgs;
use crate::output::{CliResult, stdout};

use super::open_args;

/// Runs `count`.
pub fn run(registry: &Registry, a: &InputArgs) -> CliResult {
    let mut reader = open_args(registry, a)?;
    let mut rec = Record::new();
    let mut n: u64 = 0;
    while reader.read_record(&mut rec)? {
        n += 1;
    }
    let mut out = stdout();
    writeln!(out, "{n}")?;
    out.flush()?;
    Ok(())
}
