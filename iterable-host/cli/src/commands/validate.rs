//! `validate`: fields checked against rules.

use std::io::Write;

use iterable_core::{Error, ErrorKind, Reader, ValidationMode, Validator};

use crate::args::{Mode, ValidateArgs};
use crate::output::{CliResult, Failure, stdout, write_json_line};

use super::{Session, open_args};

/// Runs `validate`.
pub fn run(s: &Session<'_>, a: &ValidateArgs) -> CliResult {
    let registry = s.registry;
    let mut pairs = Vec::new();
    for r in &a.rules {
        let (field, rule) = r.split_once('=').ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidInput,
                format!("--rule {r:?} is not of the form FIELD=RULE"),
            )
        })?;
        pairs.push((field.trim(), rule.trim()));
    }
    let validator = Validator::from_pairs(registry, pairs)?;
    let reader = open_args(registry, &a.input)?;
    let (reader, run) = s.start("validate", reader, None)?;
    let progress = s.progress(&reader);
    let result = report(validator, reader, a);
    progress.finish();
    s.finish(run, result)
}

fn report(validator: Validator, reader: Reader, a: &ValidateArgs) -> CliResult {
    let mut out = stdout();
    let invalid = if a.mode == Mode::Stats {
        let stats = validator.stats(reader)?;
        serde_json::to_writer_pretty(&mut out, &stats)
            .map_err(|e| Error::new(ErrorKind::Other, e.to_string()))?;
        out.write_all(b"\n")?;
        stats.invalid
    } else {
        let mode = match a.mode {
            Mode::Valid => ValidationMode::Valid,
            Mode::Invalid => ValidationMode::Invalid,
            _ => ValidationMode::All,
        };
        let mut v = validator.validate(reader, mode);
        for report in v.by_ref() {
            let report = report?;
            if a.mode == Mode::Valid {
                write_json_line(&mut out, &report.record)?;
            } else {
                write_json_line(&mut out, &report)?;
            }
        }
        v.stats().invalid
    };
    out.flush()?;
    if a.fail_on_invalid && invalid > 0 {
        return Err(Failure::Exit(3));
    }
    Ok(())
}
