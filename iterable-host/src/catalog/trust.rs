//! What the host trusts enough to load.
//!
//! * Permissions, like ssh's `StrictModes`: a plugin file, or the directory
//!   holding it, that group or others can write, or that belongs to another
//!   user who is not root, is refused. `check_permissions = false` in
//!   `config.toml` relaxes this.
//! * Integrity: when a manifest pins `sha256`, the library is hashed and
//!   compared before it is loaded.
//! * `trust = "hashed"` in `config.toml` loads only plugins whose manifest
//!   pins a sha256.

use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{PluginErrorExt, PluginErrorKind};
use iterable_core::Error;

/// Which plugins may be loaded at all.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Trust {
    /// Any plugin that passes the other checks.
    #[default]
    Any,
    /// Only plugins whose manifest pins the library's sha256.
    Hashed,
}

fn untrusted(name: &str, msg: String) -> Error {
    Error::plugin(PluginErrorKind::Untrusted, name, msg)
}

/// A file's permission bits and owner: what the trust check looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Perms {
    /// The permission bits (`st_mode & 0o7777`); 0 where there are none.
    pub mode: u32,
    /// The owner's user id; 0 where there is none.
    pub uid: u32,
}

impl Perms {
    /// The permissions in `meta`.
    #[cfg(unix)]
    pub fn of(meta: &std::fs::Metadata) -> Perms {
        use std::os::unix::fs::MetadataExt;
        Perms {
            mode: meta.mode() & 0o7777,
            uid: meta.uid(),
        }
    }
    /// The permissions in `meta` (none are checked on this system).
    #[cfg(not(unix))]
    pub fn of(_meta: &std::fs::Metadata) -> Perms {
        Perms { mode: 0, uid: 0 }
    }
}

/// Refuses files, or the directories holding them, that others could have
/// changed. Each directory is looked at once, however many files it holds.
pub fn check_permissions(files: &[&Path], name: &str) -> Result<(), Error> {
    let known: Vec<(&Path, Option<Perms>)> = files.iter().map(|f| (*f, None)).collect();
    check_permissions_known(&known, name)
}

/// [`check_permissions`], with the permissions of some files already known
/// (one `stat` fewer each, for every plugin of a listing).
pub fn check_permissions_known(files: &[(&Path, Option<Perms>)], name: &str) -> Result<(), Error> {
    let mut dirs: Vec<&Path> = Vec::new();
    for (f, known) in files {
        let f = *f;
        match known {
            Some(perms) => check_perms(f, *perms, name, "")?,
            None => check_one(f, name, "")?,
        }
        if let Some(dir) = f.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !dirs.contains(&dir) {
                dirs.push(dir);
            }
        }
    }
    for dir in dirs {
        check_one(dir, name, "the directory ")?;
    }
    Ok(())
}

fn check_one(path: &Path, name: &str, what: &str) -> Result<(), Error> {
    match std::fs::metadata(path) {
        Ok(m) => check_perms(path, Perms::of(&m), name, what),
        // A missing file is reported by the checks that need it.
        Err(_) => Ok(()),
    }
}

#[cfg(not(unix))]
fn check_perms(_path: &Path, _perms: Perms, _name: &str, _what: &str) -> Result<(), Error> {
    Ok(())
}

#[cfg(unix)]
fn check_perms(path: &Path, perms: Perms, name: &str, what: &str) -> Result<(), Error> {
    let mode = perms.mode;
    let fix = "(or set check_permissions = false in ~/.iterabledata/config.toml)";
    if mode & 0o022 != 0 {
        return Err(untrusted(
            name,
            format!(
                "{what}{} is writable by group or others (mode {mode:04o}); run chmod go-w on it {fix}",
                path.display()
            ),
        ));
    }
    let me = current_uid();
    if perms.uid != 0 && perms.uid != me {
        return Err(untrusted(
            name,
            format!(
                "{what}{} belongs to another user (uid {}), not to you (uid {me}) or root {fix}",
                path.display(),
                perms.uid
            ),
        ));
    }
    Ok(())
}

/// The effective user id, read from `/proc/self` (no libc needed): the owner
/// of the process's own status entry.
#[cfg(unix)]
fn current_uid() -> u32 {
    use std::os::unix::fs::MetadataExt;
    // Asked once per process, not once per file of every plugin.
    static UID: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *UID.get_or_init(|| {
        std::fs::metadata("/proc/self")
            .map(|m| m.uid())
            .unwrap_or(0)
    })
}

/// The hex sha256 of a file.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// Compares a library with the sha256 its manifest pins.
pub fn verify_sha256(lib: &Path, pinned: &str, name: &str) -> Result<(), Error> {
    let actual = sha256_file(lib).map_err(|e| {
        Error::plugin(
            PluginErrorKind::MissingLibrary,
            name,
            format!("cannot hash {}: {e}", lib.display()),
        )
    })?;
    let pinned = pinned.trim().to_ascii_lowercase();
    if actual != pinned {
        return Err(Error::plugin(
            PluginErrorKind::HashMismatch,
            name,
            format!(
                "{} has sha256 {actual}, but the manifest pins {pinned}; refusing to load it",
                lib.display()
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_checked() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("lib.so");
        std::fs::write(&f, b"abc").unwrap();
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(sha256_file(&f).unwrap(), abc);
        verify_sha256(&f, &abc.to_uppercase(), "x").unwrap();
        let e = verify_sha256(&f, &"0".repeat(64), "x").unwrap_err();
        assert_eq!(e.plugin_kind(), Some(PluginErrorKind::HashMismatch));
    }

    #[cfg(unix)]
    #[test]
    fn world_writable_files_are_refused() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("lib.so");
        std::fs::write(&f, b"x").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
        check_permissions(&[&f], "x").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o666)).unwrap();
        let e = check_permissions(&[&f], "x").unwrap_err();
        assert_eq!(e.plugin_kind(), Some(PluginErrorKind::Untrusted));
        assert!(e.message().contains("mode 0666"), "{e}");
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        let e = check_permissions(&[&f], "x").unwrap_err();
        assert!(e.message().starts_with("the directory "), "{e}");
        std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    }
}
