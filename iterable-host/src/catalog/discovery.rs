//! Finding plugins in directories, without loading anything.
//!
//! Inside a plugin directory, a plugin is either a library file with the
//! platform's suffix (`.so`, `.dll`, `.dylib`) on its own, or a
//! subdirectory holding `plugin.toml` and the library.

use std::path::{Path, PathBuf};

use crate::catalog::config::DirOrigin;
use crate::catalog::manifest::MANIFEST_FILE;

/// One plugin found on disk, not yet examined.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// The plugin directory it was found in.
    pub dir: PathBuf,
    /// Where that directory came from.
    pub origin: DirOrigin,
    /// What was found.
    pub kind: CandidateKind,
}

/// What a candidate is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CandidateKind {
    /// A subdirectory with a manifest.
    Manifest(PathBuf),
    /// A library file with no manifest.
    Library(PathBuf),
    /// Something that looks like a plugin but cannot even be looked at (a
    /// symlink loop, an unreadable entry); the reason is kept.
    Unreadable(PathBuf, String),
}

impl Candidate {
    /// The path shown in listings.
    pub fn path(&self) -> &Path {
        match &self.kind {
            CandidateKind::Manifest(p)
            | CandidateKind::Library(p)
            | CandidateKind::Unreadable(p, _) => p,
        }
    }

    /// A name to show before the plugin's own is known: the library's stem
    /// without `lib`, or the subdirectory's name.
    pub fn provisional_name(&self) -> String {
        let p = self.path();
        let stem = match &self.kind {
            CandidateKind::Manifest(m) => m.parent().and_then(Path::file_name),
            _ => p.file_name(),
        };
        let stem = stem
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let stem = stem
            .strip_suffix(std::env::consts::DLL_SUFFIX)
            .unwrap_or(&stem);
        stem.strip_prefix(std::env::consts::DLL_PREFIX)
            .filter(|s| !s.is_empty())
            .unwrap_or(stem)
            .to_owned()
    }
}

/// A name for a library file before it says its own: its file name
/// without `lib` and the platform's suffix.
pub fn provisional_name_of(lib: &Path) -> String {
    strip_lib_affixes(
        &lib.file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
    )
}

fn strip_lib_affixes(name: &str) -> String {
    let stem = name
        .strip_suffix(std::env::consts::DLL_SUFFIX)
        .unwrap_or(name);
    stem.strip_prefix(std::env::consts::DLL_PREFIX)
        .filter(|s| !s.is_empty())
        .unwrap_or(stem)
        .to_owned()
}

/// True when `name` has the platform's shared-library suffix.
pub fn is_library_name(name: &str) -> bool {
    name.ends_with(std::env::consts::DLL_SUFFIX) && name.len() > std::env::consts::DLL_SUFFIX.len()
}

/// Lists the plugins in one directory, sorted by name so the order (and so
/// who wins a conflict) does not depend on the file system.
pub fn scan_dir(dir: &Path, origin: &DirOrigin) -> Vec<Candidate> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(dir = %dir.display(), error = %e, "cannot read plugin directory");
            } else {
                tracing::debug!(dir = %dir.display(), "plugin directory does not exist");
            }
            return Vec::new();
        }
    };
    // The entry's type comes with it from the directory listing; only a
    // symbolic link needs a stat to see what it points to.
    let mut names: Vec<(PathBuf, Option<std::fs::FileType>)> = entries
        .filter_map(|e| e.ok().map(|e| (e.path(), e.file_type().ok())))
        .collect();
    names.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = Vec::new();
    for (path, file_type) in names {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.starts_with('.') {
            continue;
        }
        let is_dir = match file_type {
            Some(t) if !t.is_symlink() => Ok(t.is_dir()),
            _ => std::fs::metadata(&path).map(|m| m.is_dir()),
        };
        let kind = match is_dir {
            Ok(true) => {
                let manifest = path.join(MANIFEST_FILE);
                // Present, even as a dangling link (reported when read).
                if std::fs::symlink_metadata(&manifest).is_ok() {
                    CandidateKind::Manifest(manifest)
                } else {
                    tracing::debug!(dir = %path.display(), "subdirectory without plugin.toml; skipped");
                    continue;
                }
            }
            Ok(false) if is_library_name(&name) => CandidateKind::Library(path.clone()),
            Ok(false) => continue,
            Err(e) if is_library_name(&name) => {
                CandidateKind::Unreadable(path.clone(), e.to_string())
            }
            Err(e) => {
                tracing::debug!(path = %path.display(), error = %e, "skipping unreadable entry");
                continue;
            }
        };
        out.push(Candidate {
            dir: dir.to_path_buf(),
            origin: origin.clone(),
            kind,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_libraries_and_manifest_dirs_in_name_order() {
        let d = tempfile::tempdir().unwrap();
        let suffix = std::env::consts::DLL_SUFFIX;
        std::fs::write(d.path().join(format!("libzeta{suffix}")), b"").unwrap();
        std::fs::write(d.path().join("notes.txt"), b"").unwrap();
        std::fs::create_dir(d.path().join("alpha")).unwrap();
        std::fs::write(d.path().join("alpha").join(MANIFEST_FILE), b"").unwrap();
        std::fs::create_dir(d.path().join("empty")).unwrap();
        let found = scan_dir(d.path(), &DirOrigin::Explicit);
        assert_eq!(found.len(), 2);
        assert_eq!(
            found[0].kind,
            CandidateKind::Manifest(d.path().join("alpha").join(MANIFEST_FILE))
        );
        assert_eq!(found[0].provisional_name(), "alpha");
        assert_eq!(found[1].provisional_name(), "zeta");
        assert!(scan_dir(&d.path().join("missing"), &DirOrigin::Explicit).is_empty());
    }
}
