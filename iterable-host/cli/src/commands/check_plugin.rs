//! `check-plugin PATH`: examine one plugin library in a child process and
//! compare it with its manifest.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::json;

use iterable_core::Error;
use iterable_host::Manifest;
use iterable_host::manifest::MANIFEST_FILE;

use crate::args::CheckArgs;
use crate::output::{CliResult, Failure, print_json, stdout};

use super::plugin_view::{provides_json, provides_text};
use iterable_host::{PluginErrorExt, PluginErrorKind};

/// Resolves a path given to check-plugin or install: a library, a plugin
/// directory, or its manifest.
pub(super) fn resolve(path: &Path) -> Result<(PathBuf, Option<(PathBuf, Manifest)>), Error> {
    let manifest_path = if path.is_dir() {
        Some(path.join(MANIFEST_FILE))
    } else if path.file_name().is_some_and(|n| n == MANIFEST_FILE) {
        Some(path.to_path_buf())
    } else {
        None
    };
    match manifest_path {
        Some(mp) => {
            let m = Manifest::from_file(&mp)?;
            let lib = m.library_path(&mp);
            if !lib.is_file() {
                return Err(Error::plugin(
                    PluginErrorKind::MissingLibrary,
                    &m.plugin.name,
                    format!(
                        "the manifest names library {}, which does not exist",
                        lib.display()
                    ),
                ));
            }
            Ok((lib, Some((mp, m))))
        }
        None => Ok((path.to_path_buf(), None)),
    }
}

/// `check-plugin PATH`.
pub fn run(a: &CheckArgs, scanner: &iterable_host::Scanner) -> CliResult {
    let (lib, manifest) = resolve(&a.path)?;
    if let Some(pinned) = manifest.as_ref().and_then(|(_, m)| m.plugin.sha256.clone()) {
        iterable_host::trust::verify_sha256(
            &lib,
            &pinned,
            &manifest
                .as_ref()
                .map(|(_, m)| m.plugin.name.clone())
                .unwrap_or_default(),
        )?;
    }
    let found = iterable_host::check_library(&lib, scanner, iterable_host::scan::DEFAULT_TIMEOUT)?;
    let problems = manifest
        .as_ref()
        .map(|(_, m)| iterable_host::manifest::differences(m, &found).0)
        .unwrap_or_default();
    if a.json {
        print_json(&json!({
            "ok": problems.is_empty(),
            "library": lib,
            "name": found.plugin.name,
            "version": found.plugin.version,
            "api_version": found.plugin.api_version,
            "abi": found.plugin.abi.as_str(),
            "description": found.plugin.description,
            "provides": provides_json(&found.provides()),
            "problems": problems,
        }))?;
    } else {
        let mut out = stdout();
        let verdict = match problems.len() {
            0 => "ok".to_owned(),
            1 => "its manifest disagrees with the library".to_owned(),
            n => format!("its manifest disagrees with the library on {n} points"),
        };
        let abi = match found.plugin.abi {
            iterable_host::manifest::Abi::C => "C ABI",
            iterable_host::manifest::Abi::Rust => "plugin API",
            iterable_host::manifest::Abi::Adbc => "ADBC API",
        };
        writeln!(
            out,
            "{} {} ({abi} {}): {verdict}",
            found.plugin.name, found.plugin.version, found.plugin.api_version
        )?;
        writeln!(out, "library   {}", lib.display())?;
        writeln!(out, "provides  {}", provides_text(&found.provides()))?;
        for p in &problems {
            writeln!(out, "mismatch  {p}")?;
        }
        out.flush()?;
    }
    if let Some(first) = problems.first() {
        return Err(Failure::Error(Error::plugin(
            PluginErrorKind::ManifestMismatch,
            &found.plugin.name,
            first.clone(),
        )));
    }
    Ok(())
}
