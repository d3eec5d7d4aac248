//! Byte-level plumbing: sinks that must be finished, atomic output files, and
//! peeking at the head of a stream for detection.

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, ErrorKind, Result};

/// A byte sink that must be finished: codecs write their trailer, files are
/// flushed, synced and renamed into place. Dropping a sink without finishing
/// it abandons the output (an atomic file is deleted).
pub trait ByteSink: Write + Send {
    /// Completes the output. Consumes the sink.
    fn finish(self: Box<Self>) -> io::Result<()>;
}

/// A boxed byte sink.
pub type BoxSink = Box<dyn ByteSink>;

/// A boxed byte source.
pub type BoxRead = Box<dyn Read + Send>;

/// Wraps any writer as a sink whose finish is a flush (stdout, a `Vec`).
pub struct WriteSink<W: Write + Send>(pub W);

impl<W: Write + Send> Write for WriteSink<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.0.write_all(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

impl<W: Write + Send> ByteSink for WriteSink<W> {
    fn finish(mut self: Box<Self>) -> io::Result<()> {
        self.0.flush()
    }
}

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
            .map_err(|e| {
                Error::io("cannot create a temporary output file", e).with_path(&target)
            })?;
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

#[cfg(unix)]
fn current_umask() -> u32 {
    // There is no way to read the umask without setting it; 0o022 is the
    // common default, and a stricter mode is never less safe.
    0o022
}

/// Opens a file for reading with a clear error.
pub fn open_file(path: &Path) -> Result<File> {
    File::open(path).map_err(|e| {
        let what = if e.kind() == io::ErrorKind::NotFound {
            "no such file"
        } else {
            "cannot open"
        };
        Error::new(ErrorKind::Io, format!("{what}: {e}")).with_path(path)
    })
}

/// Reads up to `n` bytes from the head of a stream and returns them with a
/// reader that yields the whole stream again, head included.
pub fn peek(mut inner: BoxRead, n: usize) -> io::Result<(Vec<u8>, BoxRead)> {
    let mut head = Vec::with_capacity(n);
    (&mut inner).take(n as u64).read_to_end(&mut head)?;
    let replay = io::Cursor::new(head.clone()).chain(inner);
    Ok((head, Box::new(replay)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_file_appears_only_when_finished() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.txt");
        let mut f = AtomicFile::create(&target).unwrap();
        f.write_all(b"hello").unwrap();
        assert!(!target.exists());
        Box::new(f).finish().unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "hello");
        // An abandoned write leaves the old content and no temp file.
        let mut g = AtomicFile::create(&target).unwrap();
        g.write_all(b"partial").unwrap();
        drop(g);
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "hello");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn peek_replays_the_head() {
        let (head, mut r) = peek(Box::new(&b"abcdef"[..]), 3).unwrap();
        assert_eq!(head, b"abc");
        let mut all = String::new();
        r.read_to_string(&mut all).unwrap();
        assert_eq!(all, "abcdef");
    }
}
