//! Atomic output files: written beside the target, renamed into place when
//! finished, deleted when abandoned.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, ErrorKind, Result};

use super::ByteSink;

/// A sink that writes into a temporary file beside the target and renames
/// it over the target only when finished. A failure, or a kill, leaves the
/// old target untouched (or no target), never a truncated one.
pub struct AtomicFile {
    target: PathBuf,
    file: Option<BufWriter<tempfile::NamedTempFile>>,
}

impl AtomicFile {
    /// Starts writing `target`.
    pub fn create(target: impl AsRef<Path>) -> Result<Self> {
        let target = target.as_ref().to_path_buf();
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "output".into());
        let tmp = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".partial")
            .tempfile_in(&dir)
            .map_err(|e| create_error(&dir, e).with_path(&target))?;
        Ok(AtomicFile {
            target,
            file: Some(BufWriter::with_capacity(256 * 1024, tmp)),
        })
    }

    fn file(&mut self) -> io::Result<&mut BufWriter<tempfile::NamedTempFile>> {
        self.file
            .as_mut()
            .ok_or_else(|| io::Error::other("output already finished"))
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file()?.write(buf)
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.file()?.write_all(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.file()?.flush()
    }
}

impl ByteSink for AtomicFile {
    fn finish(mut self: Box<Self>) -> io::Result<()> {
        let file = self
            .file
            .take()
            .ok_or_else(|| io::Error::other("output already finished"))?;
        let tmp = file.into_inner().map_err(|e| e.into_error())?;
        tmp.as_file().sync_all()?;
        // Keep the permissions a plain create would give, not the 0600 of a temp file.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = match std::fs::metadata(&self.target) {
                Ok(m) => m.permissions().mode(),
                Err(_) => 0o666 & !current_umask(),
            };
            let _ = tmp
                .as_file()
                .set_permissions(std::fs::Permissions::from_mode(mode));
        }
        tmp.persist(&self.target).map_err(|e| e.error)?;
        Ok(())
    }
}

/// Why an output in `dir` cannot be started, without the name of the
/// temporary file (which the user never asked for).
fn create_error(dir: &Path, e: io::Error) -> Error {
    if e.kind() == io::ErrorKind::NotFound {
        return Error::new(
            ErrorKind::Io,
            format!("cannot create it: no folder {}", dir.display()),
        );
    }
    let cause = e
        .raw_os_error()
        .map(io::Error::from_raw_os_error)
        .unwrap_or(e);
    Error::io(format!("cannot create it in {}", dir.display()), cause)
}

#[cfg(unix)]
fn current_umask() -> u32 {
    // There is no way to read the umask without setting it; 0o022 is the
    // common default, and a stricter mode is never less safe.
    0o022
}
