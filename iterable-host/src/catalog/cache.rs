//! The scan cache: what examining or loading a plugin library found out,
//! keyed by the library's path, size and modification time.
//!
//! A library with no manifest is examined once and its self-description is
//! kept here, so later runs stay lazy. A failure is kept too, *with its
//! reason*, and is retried only when the file changes. The file is written
//! atomically; a corrupt or unreadable cache is rebuilt, never trusted.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};

use iterable_core::Error;

use crate::catalog::manifest::Manifest;
use crate::error::{PluginErrorExt, PluginErrorKind};

/// 2: descriptions carry every magic, option and level, and hooks (1.1).
const CACHE_VERSION: u32 = 2;

/// The identity of a file's content, as cheaply as it can be known.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileStamp {
    /// Size in bytes.
    pub size: u64,
    /// Modification time, nanoseconds since the epoch.
    pub mtime_ns: u128,
}

impl FileStamp {
    /// Reads the stamp of a file.
    pub fn of(path: &Path) -> std::io::Result<FileStamp> {
        Ok(FileStamp::from_metadata(&std::fs::metadata(path)?))
    }

    /// The stamp of a file whose metadata is known.
    pub fn from_metadata(m: &std::fs::Metadata) -> FileStamp {
        let mtime_ns = m
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        FileStamp {
            size: m.len(),
            mtime_ns,
        }
    }
}

/// What is known about one library.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Outcome {
    /// Examined: it describes itself as this manifest would.
    Scanned {
        /// The self-description.
        manifest: Box<Manifest>,
    },
    /// Examining or loading it failed.
    Failed {
        /// The failure class.
        kind: PluginErrorKind,
        /// The reason, one line.
        message: String,
    },
}

impl Outcome {
    /// A failure outcome from a plugin error.
    pub fn failed(err: &Error) -> Outcome {
        Outcome::Failed {
            kind: err.plugin_kind().unwrap_or(PluginErrorKind::LoadFailed),
            message: err.message().to_owned(),
        }
    }

    /// The failure as an error naming the plugin, if this is a failure.
    pub fn as_error(&self, plugin: &str) -> Option<Error> {
        match self {
            Outcome::Failed { kind, message } => {
                Some(Error::plugin(*kind, plugin, message.clone()))
            }
            Outcome::Scanned { .. } => None,
        }
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct CacheFile {
    version: u32,
    entries: BTreeMap<String, Entry>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Entry {
    stamp: FileStamp,
    #[serde(flatten)]
    outcome: Outcome,
}

/// The cache, in memory; [`ScanCache::save`] writes it back.
#[derive(Debug)]
pub struct ScanCache {
    path: Option<PathBuf>,
    file: CacheFile,
    dirty: bool,
    /// The working directory, asked once (for the keys of relative paths).
    cwd: std::sync::OnceLock<Option<PathBuf>>,
}

impl ScanCache {
    /// A cache that is never written (for tests and `--no-cache`).
    pub fn in_memory() -> ScanCache {
        ScanCache {
            path: None,
            file: CacheFile {
                version: CACHE_VERSION,
                entries: BTreeMap::new(),
            },
            dirty: false,
            cwd: std::sync::OnceLock::new(),
        }
    }

    /// Loads the cache at `path`. A missing, unreadable, corrupt or
    /// other-version file gives an empty cache (with a warning), which is
    /// rebuilt on the next save.
    pub fn load(path: PathBuf) -> ScanCache {
        let file = match std::fs::read(&path) {
            Ok(bytes) => match serde_json::from_slice::<CacheFile>(&bytes) {
                Ok(f) if f.version == CACHE_VERSION => f,
                Ok(f) => {
                    tracing::debug!(path = %path.display(), version = f.version, "scan cache of another version; rebuilding");
                    CacheFile::default()
                }
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "scan cache is corrupt; rebuilding it");
                    CacheFile::default()
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => CacheFile::default(),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "cannot read the scan cache; rebuilding it");
                CacheFile::default()
            }
        };
        ScanCache {
            path: Some(path),
            file: CacheFile {
                version: CACHE_VERSION,
                entries: file.entries,
            },
            dirty: false,
            cwd: std::sync::OnceLock::new(),
        }
    }

    /// The entry's key: the library's absolute path as found, symlinks
    /// not resolved. Resolving them (`canonicalize`) costs a `statx` and a
    /// `readlink` per path component, for each of a thousand plugins on
    /// every listing; the stamp already follows the link to the file.
    fn key(&self, lib: &Path) -> String {
        let full = if lib.is_absolute() {
            std::path::absolute(lib)
        } else {
            match self.cwd.get_or_init(|| std::env::current_dir().ok()) {
                Some(cwd) => std::path::absolute(cwd.join(lib)),
                None => std::path::absolute(lib),
            }
        };
        full.unwrap_or_else(|_| lib.to_path_buf())
            .to_string_lossy()
            .into_owned()
    }

    /// What is known about `lib`, if the file has not changed since.
    pub fn lookup(&self, lib: &Path) -> Option<&Outcome> {
        self.lookup_stamped(lib, FileStamp::of(lib).ok()?)
    }

    /// [`ScanCache::lookup`], with the file's stamp already read.
    pub fn lookup_stamped(&self, lib: &Path, stamp: FileStamp) -> Option<&Outcome> {
        if self.file.entries.is_empty() {
            return None;
        }
        let e = self.file.entries.get(&self.key(lib))?;
        (e.stamp == stamp).then_some(&e.outcome)
    }

    /// Records what was found about `lib` now. A failure of the host's own
    /// scanner ([`PluginErrorKind::Scanner`]: no scanner, or a program that
    /// did not act as one) says nothing of the library and is not kept.
    pub fn store(&mut self, lib: &Path, outcome: Outcome) {
        if matches!(
            outcome,
            Outcome::Failed {
                kind: PluginErrorKind::Scanner,
                ..
            }
        ) {
            return;
        }
        let Ok(stamp) = FileStamp::of(lib) else {
            return;
        };
        self.file
            .entries
            .insert(self.key(lib), Entry { stamp, outcome });
        self.dirty = true;
    }

    /// Forgets `lib` (when it loaded fine after all, say).
    pub fn remove(&mut self, lib: &Path) {
        if self.file.entries.remove(&self.key(lib)).is_some() {
            self.dirty = true;
        }
    }

    /// Writes the cache if it changed: to a temporary file, then renamed
    /// over the old one, so a crash never leaves half a cache.
    pub fn save(&mut self) {
        if !self.dirty {
            return;
        }
        let Some(path) = &self.path else {
            self.dirty = false;
            return;
        };
        match write_atomic(
            path,
            &serde_json::to_vec_pretty(&self.file).unwrap_or_default(),
        ) {
            Ok(()) => self.dirty = false,
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "cannot write the scan cache")
            }
        }
    }
}

fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_hold_until_the_file_changes() {
        let d = tempfile::tempdir().unwrap();
        let lib = d.path().join("libx.so");
        std::fs::write(&lib, b"one").unwrap();
        let cache_path = d.path().join("cache").join("scan.json");
        let mut c = ScanCache::load(cache_path.clone());
        c.store(
            &lib,
            Outcome::Failed {
                kind: PluginErrorKind::NotALibrary,
                message: "invalid ELF header".into(),
            },
        );
        c.save();
        let c = ScanCache::load(cache_path.clone());
        let e = c.lookup(&lib).unwrap().as_error("x").unwrap();
        assert_eq!(e.plugin_kind(), Some(PluginErrorKind::NotALibrary));
        assert_eq!(e.to_string(), "plugin 'x': invalid ELF header");
        // A change of size invalidates the entry.
        std::fs::write(&lib, b"longer").unwrap();
        assert!(c.lookup(&lib).is_none());
    }

    #[test]
    fn a_corrupt_cache_is_rebuilt() {
        let d = tempfile::tempdir().unwrap();
        let cache_path = d.path().join("scan.json");
        std::fs::write(&cache_path, b"{not json").unwrap();
        let mut c = ScanCache::load(cache_path.clone());
        let lib = d.path().join("liby.so");
        std::fs::write(&lib, b"x").unwrap();
        assert!(c.lookup(&lib).is_none());
        c.store(
            &lib,
            Outcome::Scanned {
                manifest: Box::default(),
            },
        );
        c.save();
        assert!(ScanCache::load(cache_path).lookup(&lib).is_some());
    }
}
