//! The plugin commands: list-plugins, info, check-plugin, install.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{Value as Json, json};

use iterable_core::{Error, ErrorKind, PluginErrorKind};
use iterable_host::manifest::MANIFEST_FILE;
use iterable_host::{Host, Manifest, Plugin, Provides};

use super::{CheckArgs, CliResult, Failure, InstallArgs, stdout};

fn provides_json(p: &Provides) -> Json {
    json!({
        "formats": p.formats, "codecs": p.codecs, "drivers": p.drivers,
        "rules": p.rules, "engines": p.engines,
    })
}

fn plugin_json(p: &Plugin) -> Json {
    let m = p.manifest();
    let meta = m.map(|m| &m.plugin);
    let error = p.error();
    json!({
        "name": p.name(),
        "version": meta.map(|m| m.version.as_str()),
        "api_version": meta.map(|m| m.api_version.as_str()),
        "path": p.path(),
        "library": p.library_path(),
        "source": p.origin().to_string(),
        "dir": p.dir(),
        "manifest": p.has_manifest(),
        "status": p.status(),
        "error": error.as_ref().map(|e| e.message().to_owned()).or_else(|| if p.status() == iterable_host::Status::Failed { p.reason() } else { None }),
        "error_kind": error.as_ref().and_then(|e| e.plugin_kind()).map(PluginErrorKind::as_str),
        "reason": p.reason(),
        "provides": provides_json(&p.provides()),
        "description": meta.map(|m| m.description.as_str()),
        "author": meta.map(|m| m.author.as_str()),
        "license": meta.map(|m| m.license.as_str()),
        "homepage": meta.map(|m| m.homepage.as_str()),
        "dependencies": meta.map(|m| m.dependencies.clone()).unwrap_or_default(),
        "sha256": meta.and_then(|m| m.sha256.clone()),
        "warnings": p.warnings(),
    })
}

fn print_json(v: &Json) -> CliResult {
    let mut out = stdout();
    serde_json::to_writer_pretty(&mut out, v)
        .map_err(|e| Error::new(ErrorKind::Other, e.to_string()))?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(())
}

fn provides_text(p: &Provides) -> String {
    let mut parts = Vec::new();
    for (kind, ids) in [
        ("format", &p.formats),
        ("codec", &p.codecs),
        ("driver", &p.drivers),
        ("rule", &p.rules),
        ("engine", &p.engines),
    ] {
        if !ids.is_empty() {
            parts.push(format!("{kind} {}", ids.join(",")));
        }
    }
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join("; ")
    }
}

/// `list-plugins`: exits 0 even when some plugins failed.
pub fn list(host: &Host, as_json: bool) -> CliResult {
    if as_json {
        return print_json(&Json::Array(
            host.plugins().iter().map(|p| plugin_json(p)).collect(),
        ));
    }
    let mut out = stdout();
    if host.plugins().is_empty() {
        writeln!(out, "no plugins found; searched:")?;
        for (d, origin) in host.search_path() {
            writeln!(out, "  {} ({origin})", d.display())?;
        }
        out.flush()?;
        return Ok(());
    }
    let rows: Vec<[String; 5]> = host
        .plugins()
        .iter()
        .map(|p| {
            [
                p.name().to_owned(),
                p.manifest()
                    .map(|m| m.plugin.version.clone())
                    .unwrap_or_else(|| "-".into()),
                p.status().to_string(),
                provides_text(&p.provides()),
                p.path().display().to_string(),
            ]
        })
        .collect();
    let header = ["NAME", "VERSION", "STATUS", "PROVIDES", "PATH"];
    let mut w = header.map(str::len);
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let line = |cells: [&str; 5]| {
        format!(
            "{:<w0$}  {:<w1$}  {:<w2$}  {:<w3$}  {}",
            cells[0],
            cells[1],
            cells[2],
            cells[3],
            cells[4],
            w0 = w[0],
            w1 = w[1],
            w2 = w[2],
            w3 = w[3]
        )
    };
    writeln!(out, "{}", line(header).trim_end())?;
    for (r, p) in rows.iter().zip(host.plugins()) {
        writeln!(
            out,
            "{}",
            line([&r[0], &r[1], &r[2], &r[3], &r[4]]).trim_end()
        )?;
        if let Some(reason) = p.reason() {
            writeln!(out, "    {}: {reason}", p.status())?;
        }
        for warning in p.warnings() {
            writeln!(out, "    warning: {warning}")?;
        }
    }
    out.flush()?;
    Ok(())
}

/// `info NAME`.
pub fn info(host: &Host, name: &str, as_json: bool) -> CliResult {
    let Some(p) = host.plugin(name) else {
        let names: Vec<&str> = host.plugins().iter().map(|p| p.name()).collect();
        return Err(Error::new(
            ErrorKind::InvalidInput,
            format!(
                "no plugin named '{name}'; plugins: {}",
                if names.is_empty() {
                    "none".into()
                } else {
                    names.join(", ")
                }
            ),
        )
        .into());
    };
    let j = plugin_json(p);
    if as_json {
        return print_json(&j);
    }
    let mut out = stdout();
    for key in [
        "name",
        "version",
        "api_version",
        "status",
        "reason",
        "description",
        "author",
        "license",
        "homepage",
        "source",
        "dir",
        "path",
        "library",
        "sha256",
    ] {
        match &j[key] {
            Json::Null => {}
            Json::String(s) if s.is_empty() => {}
            Json::String(s) => writeln!(out, "{key:<13} {s}")?,
            other => writeln!(out, "{key:<13} {other}")?,
        }
    }
    let deps = p
        .manifest()
        .map(|m| m.plugin.dependencies.join(", "))
        .unwrap_or_default();
    if !deps.is_empty() {
        writeln!(out, "{:<13} {deps}", "dependencies")?;
    }
    if let Some(m) = p.manifest() {
        for f in &m.formats {
            let magic = f
                .magic
                .as_deref()
                .map(|m| format!(", magic {m}"))
                .unwrap_or_default();
            writeln!(
                out,
                "format        {} (.{}{magic}) {}",
                f.id,
                f.extensions.join(", ."),
                f.description
            )?;
        }
        for c in &m.codecs {
            let magic = c
                .magic
                .as_deref()
                .map(|m| format!(", magic {m}"))
                .unwrap_or_default();
            writeln!(
                out,
                "codec         {} (.{}{magic}) {}",
                c.id,
                c.extensions.join(", ."),
                c.description
            )?;
        }
        for d in &m.drivers {
            writeln!(
                out,
                "driver        {} (schemes {}) {}",
                d.id,
                d.schemes.join(", "),
                d.description
            )?;
        }
        for r in &m.rules {
            writeln!(out, "rule          {} {}", r.name, r.description)?;
        }
        for e in &m.engines {
            writeln!(out, "engine        {} {}", e.id, e.description)?;
        }
    }
    for w in p.warnings() {
        writeln!(out, "warning       {w}")?;
    }
    out.flush()?;
    Ok(())
}

/// Resolves a path given to check-plugin or install: a library, a plugin
/// directory, or its manifest.
fn resolve(path: &Path) -> Result<(PathBuf, Option<(PathBuf, Manifest)>), Error> {
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
pub fn check(a: &CheckArgs, scanner: &iterable_host::Scanner) -> CliResult {
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
            "description": found.plugin.description,
            "provides": provides_json(&found.provides()),
            "problems": problems,
        }))?;
    } else {
        let mut out = stdout();
        writeln!(
            out,
            "{} {} (plugin API {}): ok",
            found.plugin.name, found.plugin.version, found.plugin.api_version
        )?;
        writeln!(out, "library   {}", lib.display())?;
        writeln!(out, "provides  {}", provides_text(&found.provides()))?;
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

/// `install PATH`: copies the manifest and the library into
/// `<dir>/<name>/`, checking the manifest first. Files are written under a
/// temporary name and renamed, so a failed install leaves nothing half-done.
pub fn install(plugin_dirs: &[PathBuf], a: &InstallArgs) -> CliResult {
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
