//! From a candidate on the search path to a listed plugin: manifests read,
//! what can be checked without loading checked, libraries without a
//! manifest examined once (then cached); and the providers a plugin adds.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use iterable_core::{Error, ProviderSource, Registry};

use crate::adapters;
use crate::catalog::cache::{self, Outcome};
use crate::catalog::config::Config;
use crate::catalog::discovery::{Candidate, CandidateKind};
use crate::catalog::manifest::{self, Manifest};
use crate::catalog::trust::{self, Perms, Trust};
use crate::context::Context;
use crate::error::{PluginErrorExt, PluginErrorKind, plugin_origin};
use crate::plugin::{Plugin, Status};
use crate::scan;

/// What a candidate is, for safe mode: manifests are read, nothing loaded.
pub(crate) fn describe_without_loading(cand: &Candidate, ctx: &Arc<Context>) -> Arc<Plugin> {
    let name = cand.provisional_name();
    let path = cand.path().to_path_buf();
    let (manifest, library, has_file) = match &cand.kind {
        CandidateKind::Manifest(m) => match Manifest::from_file(m) {
            Ok(man) => {
                let lib = man.library_path(m);
                (Some(man), lib, true)
            }
            Err(_) => (None, m.clone(), true),
        },
        CandidateKind::Library(l) => {
            let known = ctx.cache.lock().ok().and_then(|c| match c.lookup(l) {
                Some(Outcome::Scanned { manifest }) => Some((**manifest).clone()),
                _ => None,
            });
            (known, l.clone(), false)
        }
        CandidateKind::Unreadable(p, _) => (None, p.clone(), false),
    };
    let name = manifest
        .as_ref()
        .map(|m| m.plugin.name.clone())
        .unwrap_or(name);
    Arc::new(Plugin::new(
        name,
        path,
        library,
        cand.dir.clone(),
        cand.origin.clone(),
        manifest,
        has_file,
        Arc::clone(ctx),
    ))
}

/// Examines a candidate: reads its manifest and checks what can be checked
/// without loading; a library with no manifest is loaded once to learn
/// what it provides, and the answer is cached.
pub(crate) fn examine(cand: &Candidate, ctx: &Arc<Context>, config: &Config) -> Arc<Plugin> {
    let provisional = cand.provisional_name();
    let make = |name: String, library: PathBuf, manifest: Option<Manifest>, has_file: bool| {
        Arc::new(Plugin::new(
            name,
            cand.path().to_path_buf(),
            library,
            cand.dir.clone(),
            cand.origin.clone(),
            manifest,
            has_file,
            Arc::clone(ctx),
        ))
    };
    match &cand.kind {
        CandidateKind::Unreadable(p, why) => {
            let plugin = make(provisional.clone(), p.clone(), None, false);
            plugin.set_failed(&Error::plugin(
                PluginErrorKind::LoadFailed,
                &provisional,
                format!("cannot read {}: {why}", p.display()),
            ));
            plugin
        }
        CandidateKind::Manifest(mpath) => {
            let (manifest, manifest_meta) = match Manifest::read(mpath) {
                Ok(m) => m,
                Err(e) => {
                    let plugin = make(provisional.clone(), mpath.clone(), None, true);
                    plugin.set_failed(&e);
                    return plugin;
                }
            };
            let lib = manifest.library_path(mpath);
            let name = manifest.plugin.name.clone();
            let failure = manifest_failure(&manifest, mpath, &manifest_meta, &lib, ctx, config);
            let plugin = make(name, lib, Some(manifest), true);
            if let Some(e) = failure {
                plugin.set_failed(&e);
            }
            plugin
        }
        CandidateKind::Library(lib) => {
            if let Some(e) = check_trust(config, &[(lib.as_path(), None)], false, &provisional) {
                let plugin = make(provisional.clone(), lib.clone(), None, false);
                plugin.set_failed(&e);
                return plugin;
            }
            let cached = ctx.cache.lock().ok().and_then(|c| c.lookup(lib).cloned());
            let outcome = match cached {
                Some(o) => o,
                None => {
                    // Examined once (in a child process when a scanner is
                    // available); the answer is cached until the file changes.
                    let scanned = match ctx.scanner() {
                        Some(s) => scan::scan(s, lib, &provisional, ctx.timeout),
                        None => Err(scan::no_scanner(lib, &provisional)),
                    };
                    let o = match &scanned {
                        Ok(m) => Outcome::Scanned {
                            manifest: Box::new(m.clone()),
                        },
                        Err(e) => Outcome::failed(e),
                    };
                    if let Ok(mut c) = ctx.cache.lock() {
                        c.store(lib, o.clone());
                    }
                    o
                }
            };
            match outcome {
                Outcome::Scanned { manifest } => make(
                    manifest.plugin.name.clone(),
                    lib.clone(),
                    Some(*manifest),
                    false,
                ),
                failed @ Outcome::Failed { .. } => {
                    let plugin = make(provisional.clone(), lib.clone(), None, false);
                    if let Some(e) = failed.as_error(&provisional) {
                        plugin.set_failed(&e);
                    }
                    plugin
                }
            }
        }
    }
}

/// Why a plugin with a manifest cannot be used, found without loading it:
/// its library is missing or of another ABI major, it is not trusted, its
/// pinned hash does not match, it failed before, or it was examined before
/// and lacks what the manifest declares.
fn manifest_failure(
    manifest: &Manifest,
    mpath: &Path,
    manifest_meta: &std::fs::Metadata,
    lib: &Path,
    ctx: &Context,
    config: &Config,
) -> Option<Error> {
    let name = &manifest.plugin.name;
    // The library's metadata, read once for the three checks below.
    let lib_meta = std::fs::metadata(lib).ok();
    if let Some(e) = check_manifest_plugin(manifest, lib, lib_meta.as_ref(), name) {
        return Some(e);
    }
    if let Some(e) = check_trust(
        config,
        &[
            (mpath, Some(Perms::of(manifest_meta))),
            (lib, lib_meta.as_ref().map(Perms::of)),
        ],
        manifest.plugin.sha256.is_some(),
        name,
    ) {
        return Some(e);
    }
    // Hashing is not loading: a pinned library that was replaced is
    // reported as soon as it is listed.
    if let Some(pinned) = &manifest.plugin.sha256 {
        if let Err(e) = trust::verify_sha256(lib, pinned, name) {
            return Some(e);
        }
    }
    // A load that failed before stays failed until the file changes; a
    // library examined before must provide what the manifest says.
    let stamp = cache::FileStamp::from_metadata(lib_meta.as_ref()?);
    let cache = ctx.cache.lock().ok()?;
    match cache.lookup_stamped(lib, stamp)? {
        failed @ Outcome::Failed { .. } => failed.as_error(name),
        Outcome::Scanned { manifest: found } => manifest::first_missing(manifest, found)
            .map(|lie| Error::plugin(PluginErrorKind::ManifestMismatch, name, lie)),
    }
}

/// The trust checks that need no loading: permissions (unless relaxed) and
/// `trust = "hashed"`.
fn check_trust(
    config: &Config,
    files: &[(&Path, Option<Perms>)],
    pinned: bool,
    name: &str,
) -> Option<Error> {
    if config.trust == Trust::Hashed && !pinned {
        return Some(Error::plugin(
            PluginErrorKind::Untrusted,
            name,
            "trust = \"hashed\" is set and no manifest pins this library's sha256".to_owned(),
        ));
    }
    if config.check_permissions {
        return trust::check_permissions_known(files, name).err();
    }
    None
}

/// The checks a manifest allows without loading: the library exists and is
/// a regular file, and the API major version is the host's.
fn check_manifest_plugin(
    m: &Manifest,
    lib: &Path,
    lib_meta: Option<&std::fs::Metadata>,
    name: &str,
) -> Option<Error> {
    match lib_meta {
        Some(md) if md.is_file() => {}
        Some(_) => {
            return Some(Error::plugin(
                PluginErrorKind::MissingLibrary,
                name,
                format!(
                    "the manifest names library {}, which is not a regular file",
                    lib.display()
                ),
            ));
        }
        None => {
            return Some(Error::plugin(
                PluginErrorKind::MissingLibrary,
                name,
                format!(
                    "the manifest names library {}, which does not exist",
                    lib.display()
                ),
            ));
        }
    }
    let host_major = iterable_plugin_api::ABI_MAJOR as u64;
    match manifest::parse_version(&m.plugin.api_version) {
        Some((major, _, _)) if major == host_major => None,
        _ => Some(Error::plugin(
            PluginErrorKind::VersionMismatch,
            name,
            format!(
                "built for plugin API {}, this host provides {}; rebuild it against iterable-plugin-api {}.x",
                m.plugin.api_version,
                iterable_plugin_api::ABI_VERSION,
                host_major
            ),
        )),
    }
}

/// Adds every provider `plugin` declares to the registry, lazily.
pub(crate) fn add_providers(registry: &mut Registry, plugin: &Arc<Plugin>) {
    for p in adapters::declared_providers(plugin) {
        registry.add_external(p, plugin_origin(&plugin.name));
    }
}

/// A plugin all of whose providers lose to something else is `shadowed`.
pub(crate) fn mark_fully_shadowed(registry: &Registry, plugins: &[Arc<Plugin>]) {
    // One pass over the entries, grouped by plugin (not one pass per
    // plugin: with a thousand plugins that would be quadratic).
    let mut by_plugin: HashMap<&str, (usize, Vec<String>)> = HashMap::new();
    for e in registry.placements() {
        if let ProviderSource::External(origin) = e.source {
            let (total, shadows) = by_plugin.entry(origin.name.as_str()).or_default();
            *total += 1;
            if let Some(by) = e.shadowed_by {
                shadows.push(format!("'{}' by {by}", e.id));
            }
        }
    }
    for p in plugins {
        if !matches!(p.status(), Status::Available | Status::Loaded) {
            continue;
        }
        let Some((total, shadows)) = by_plugin.get(p.name.as_str()) else {
            continue;
        };
        if *total > 0 && shadows.len() == *total {
            p.set_shadowed(format!(
                "everything it provides is shadowed: {} (allow_override in config.toml lets a plugin replace a built-in)",
                shadows.join(", ")
            ));
        }
    }
}
