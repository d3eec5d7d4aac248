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
fn locate(a: &InstallArgs, path: &Path) -> Result<(PathBuf, Option<Manifest>), Error> {
    let manifest_path = if path.is_dir() {
        Some(path.join(MANIFEST_FILE)).filter(|p| p.is_file())
    } else if path.file_name().is_some_and(|n| n == MANIFEST_FILE) {
        Some(path.to_path_buf())
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
        (None, _, _) if path.is_dir() => {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "{} holds no {MANIFEST_FILE}; name the built library with --library FILE",
                    path.display()
                ),
            ));
        }
        (None, _, _) => path.to_path_buf(),
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

/// The manifest of an ADBC driver library: the driver's name and version
/// as it reports them (or, for a driver that needs a server to answer, the
/// version of the wheel it came in), the schemes given, and how to load it.
fn adbc_manifest(lib: &Path, a: &InstallArgs) -> Result<Manifest, Error> {
    use iterable_host::manifest::{Abi, AdbcSection, PluginSection, UriStyle};
    if !lib.is_file() {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            format!("{} is not a file", lib.display()),
        ));
    }
    let file = lib
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    // libadbc_driver_postgresql.so -> postgresql
    let stem = file.split('.').next().unwrap_or_default();
    let short = stem
        .trim_start_matches("lib")
        .trim_start_matches("adbc_driver_")
        .to_owned();
    let name = a.name.clone().unwrap_or_else(|| format!("adbc-{short}"));
    let (driver_name, version) =
        match iterable_host::describe_adbc_driver(lib, a.entrypoint.as_deref()) {
            Ok((n, v)) => (n, v.trim_start_matches('v').to_owned()),
            Err(why) if why.starts_with("not an ADBC driver") => {
                return Err(Error::plugin(PluginErrorKind::LoadFailed, &name, why));
            }
            Err(_) => (
                format!("ADBC {short} driver"),
                wheel_version(lib, &short).unwrap_or_else(|| "unknown".into()),
            ),
        };
    let uri = match a.uri.as_deref() {
        Some("path") => UriStyle::Path,
        Some(_) => UriStyle::AsIs,
        None if matches!(short.as_str(), "sqlite" | "duckdb") => UriStyle::Path,
        None => UriStyle::AsIs,
    };
    let driver = iterable_core::DriverInfo {
        id: name.clone(),
        schemes: a.scheme.clone(),
        description: format!("{driver_name} {version} (ADBC)"),
    };
    Ok(Manifest {
        plugin: PluginSection {
            name: name.clone(),
            version,
            api_version: "1.1.0".into(),
            library: file,
            description: format!("{driver_name}, an ADBC driver used as it is"),
            abi: Abi::Adbc,
            isolation: None,
            ..PluginSection::default()
        },
        drivers: vec![driver],
        adbc: Some(AdbcSection {
            entrypoint: a.entrypoint.clone(),
            uri,
        }),
        ..Manifest::default()
    })
}

/// The version of the Python wheel a driver library came in
/// (`site-packages/adbc_driver_X-1.2.3.dist-info` beside its package).
fn wheel_version(lib: &Path, short: &str) -> Option<String> {
    let site = lib.parent()?.parent()?;
    let prefix = format!("adbc_driver_{short}-");
    std::fs::read_dir(site).ok()?.flatten().find_map(|e| {
        let n = e.file_name().to_string_lossy().into_owned();
        n.strip_prefix(&prefix)?
            .strip_suffix(".dist-info")
            .map(str::to_owned)
    })
}

/// `install PATH`: examines the library, then copies it and a manifest
/// written from it into `<dir>/<name>/`. Files are written under a
/// temporary name and renamed, so a failed install leaves nothing half-done.
pub fn run(plugin_dirs: &[PathBuf], a: &InstallArgs, scanner: &Scanner) -> CliResult {
    let (lib, manifest) = match (&a.adbc, &a.path) {
        (Some(lib), _) => (lib.clone(), adbc_manifest(lib, a)?),
        (None, Some(path)) => {
            let (lib, written) = locate(a, path)?;
            let manifest = manifest_for(&lib, written, scanner)?;
            (lib, manifest)
        }
        (None, None) => {
            return Err(Error::new(ErrorKind::InvalidInput, "give a PATH or --adbc LIB").into());
        }
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
        let text = format!(
            "# Written by `iterable-host install` from what the library says of itself.\n{}",
            manifest.to_toml()
        );
        let text = if a.adbc.is_some() {
            text.replace(
                "from what the library says of itself",
                "for an ADBC driver, used as it is",
            )
        } else {
            text
        };
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
