//! What every command shares: how a command fails, and writing to stdout.

use std::io::{self, BufWriter, Write};

use iterable_core::{Error, ErrorKind};

/// Why a command stopped.
pub enum Failure {
    /// An error to print on one line.
    Error(Error),
    /// The reader of our stdout went away: stop quietly.
    BrokenPipe,
    /// Exit with this status, having printed what there was to print.
    Exit(u8),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Error(e)
    }
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::BrokenPipe {
            Failure::BrokenPipe
        } else {
            Failure::Error(Error::from_io(e))
        }
    }
}

pub type CliResult<T = ()> = Result<T, Failure>;

pub fn stdout() -> BufWriter<io::StdoutLock<'static>> {
    BufWriter::with_capacity(256 * 1024, io::stdout().lock())
}

pub fn write_json_line(out: &mut impl Write, value: &impl serde::Serialize) -> CliResult {
    serde_json::to_writer(&mut *out, value).map_err(|e| match e.io_error_kind() {
        Some(kind) => Failure::from(io::Error::from(kind)),
        None => Failure::Error(Error::new(ErrorKind::Other, e.to_string())),
    })?;
    out.write_all(b"\n")?;
    Ok(())
}

/// Prints one pretty JSON document and a newline.
pub fn print_json(value: &impl serde::Serialize) -> CliResult {
    let mut out = stdout();
    serde_json::to_writer_pretty(&mut out, value)
        .map_err(|e| Error::new(ErrorKind::Other, e.to_string()))?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(())
}
