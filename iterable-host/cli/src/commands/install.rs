//! `install PATH`: put a built plugin into a plugin directory.

use std::io::Write;
use std::path::PathBuf;

use iterable_core::{Error, ErrorKind};
use iterable_host::Manifest;
use iterable_host::manifest::MANIFEST_FILE;

use crate::args::InstallArgs;
use crate::output::{CliResult, stdout};

use super::check_plugin::resolve;

/// `install PATH`: copies the manifest and the library into
/// `<dir>/<name>/`, checking the manifest first. Files are written under a
/// temporary name and renamed, so a failed install leaves nothing half-done.
pub fn run(plugin_dirs: &[PathBuf], a: &InstallArgs) -> CliResult {
    let (lib, manifest) = match &a.library {
        Some(lib) => {
            let mp = if a.path.is_dir() {
                a.path.join(MANIFEST_FILE)
            } else {
                a.path.clone()
            };
            let m = Manifest::from_file(&mp)?;
            if !lib.is_file() {
                return Err(Error::new(
                    ErrorKind::InvalidInput,
                    format!("{} is not a file", lib.display()),
                )
                .into());
            }
            (lib.clone(), Some((mp, m)))
        }
        None => resolve(&a.path)?,
    };
    let Some((_, manifest)) = manifest else {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            format!(
                "{} has no {MANIFEST_FILE}; install a plugin directory holding {MANIFEST_FILE} and its library",
                a.path.display()
            ),
        )
        .into());
    };
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
        std::fs::write(staging.join(MANIFEST_FILE), manifest.to_toml())
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
