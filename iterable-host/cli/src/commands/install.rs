//! `install PATH`: put a built plugin into a plugin directory, with a
//! manifest written from the library itself.

use std::io::Write;
use std::path::{Path, PathBuf};

use iterable_core::{Error, ErrorKind};
use iterable_host::manifest::{MANIFEST_FILE, differences};
use iterable_host::{Manifest, Scanner};

use crate::args::InstallArgs;
use crate::output::{CliResult, stdout};
use iterable_host::{PluginErrorExt, PluginErrorKind};

/// The library to install and the hand-written manifest beside it, if any.
fn locate(a: &InstallArgs) -> Result<(PathBuf, Option<Manifest>), Error> {
    let manifest_path = if a.path.is_dir() {
        Some(a.path.join(MANIFEST_FILE)).filter(|p| p.is_file())
    } else if a.path.file_name().is_some_and(|n| n == MANIFEST_FILE) {
        Some(a.path.clone())
    } else {
        None
    };
    let manifest = manifest_path
        .as_deref()
        .map(Manifest::from_file)
        .transpose()?;
    let lib = match (&a.library, &manifest_path, &manifest) {
        (Some(lib), _, _) => lib.clone(),
        (None, Some(mp), Some(m)) => m.library_path(mp),
        (None, _, _) if a.path.is_dir() => {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "{} holds no {MANIFEST_FILE}; name the built library with --library FILE",
                    a.path.display()
                ),
            ));
        }
        (None, _, _) => a.path.clone(),
    };
    if !lib.is_file() {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            format!("{} is not a file", lib.display()),
        ));
    }
    Ok((lib, manifest))
}

/// The manifest to install: the library's own description, with the
/// hand-written manifest's pin, and refused when the two disagree.
fn manifest_for(
    lib: &Path,
    written: Option<Manifest>,
    scanner: &Scanner,
) -> Result<Manifest, Error> {
    let mut found =
        iterable_host::check_library(lib, scanner, iterable_host::scan::DEFAULT_TIMEOUT)?;
    if let Some(written) = written {
        if let Some(pinned) = &written.plugin.sha256 {
            iterable_host::trust::verify_sha256(lib, pinned, &written.plugin.name)?;
            found.plugin.sha256 = Some(pinned.clone());
        }
        let problems = differences(&written, &found).0;
        if !problems.is_empty() {
            return Err(Error::plugin(
                PluginErrorKind::ManifestMismatch,
                &found.plugin.name,
                format!(
                    "not installed: its {MANIFEST_FILE} disagrees with the library: {} (fix or delete {MANIFEST_FILE}; install writes one from the library)",
                    problems.join("; ")
                ),
            ));
        }
    }
    // The library keeps its own file name, which every host (1.0 ones
    // included) reads as it is.
    found.plugin.library = lib
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(found)
}

/// `install PATH`: examines the library, then copies it and a manifest
/// written from it into `<dir>/<name>/`. Files are written under a
/// temporary name and renamed, so a failed install leaves nothing half-done.
pub fn run(plugin_dirs: &[PathBuf], a: &InstallArgs, scanner: &Scanner) -> CliResult {
    let (lib, written) = locate(a)?;
    let manifest = manifest_for(&lib, written, scanner)?;
    let root = match a.dir.clone().or_else(|| plugin_dirs.first().cloned()) {
        Some(d) => d,
        None => iterable_host::config::user_dir()
            .map(|u| u.join("plugins"))
            .ok_or_else(|| Error::new(ErrorKind::InvalidInput, "no home directory; give --dir"))?,
    };
    let target = root.join(&manifest.plugin.name);
    if target.exists() && !a.force {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            format!(
                "{} already exists; use --force to replace it",
                target.display()
            ),
        )
        .into());
    }
    let staging = root.join(format!(".{}.installing", manifest.plugin.name));
    let io = |what: &str, e: std::io::Error| Error::io(what.to_owned(), e);
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).map_err(|e| io("cannot create the plugin directory", e))?;
    let result = (|| -> Result<(), Error> {
        std::fs::copy(&lib, staging.join(&manifest.plugin.library))
            .map_err(|e| io("cannot copy the library", e))?;
        let text = format!(
            "# Written by `iterable-host install` from what the library says of itself.\n{}",
            manifest.to_toml()
        );
        std::fs::write(staging.join(MANIFEST_FILE), text)
            .map_err(|e| io("cannot write the manifest", e))?;
        if target.exists() {
            std::fs::remove_dir_all(&target)
                .map_err(|e| io("cannot replace the installed plugin", e))?;
        }
        std::fs::rename(&staging, &target)
            .map_err(|e| io("cannot move the plugin into place", e))?;
        Ok(())
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(e.into());
    }
    let mut out = stdout();
    writeln!(
        out,
        "installed {} {} into {}",
        manifest.plugin.name,
        manifest.plugin.version,
        target.display()
    )?;
    out.flush()?;
    Ok(())
}
