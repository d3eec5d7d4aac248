//! # iterable-host
//!
//! The IterableData plugin host. It finds plugins (native libraries behind
//! the stable ABI of `iterable-plugin-api`), reads their manifests without
//! loading them, and puts their providers behind the core's traits so that
//! files open exactly as with built-ins. A plugin's library is loaded only
//! when one of its providers is first used; a broken plugin is reported
//! with its reason and everything else keeps working.
//!
//! Plugin directories are searched in this order:
//! 1. directories given in code ([`HostBuilder::plugin_dir`]) or with `--plugin-dir`;
//! 2. `ITERABLEDATA_PLUGIN_PATH` (a path list);
//! 3. `plugin_dirs` in `~/.iterabledata/config.toml`;
//! 4. `~/.iterabledata/plugins`.
//!
//! Built-ins come first, then providers registered in code, then plugins
//! (the earlier directory wins between plugins).
//!
//! ```
//! use iterable_core::{OpenOptions, Record};
//! use iterable_host::Host;
//!
//! let dir = tempfile::tempdir()?;
//! let host = Host::builder()
//!     .plugin_dir(dir.path().join("plugins")) // plugins of this application
//!     .default_dirs(false)                    // not the user's directories
//!     .cache_file(None)                       // keep the scan cache in memory
//!     .build()?;
//!
//! let path = dir.path().join("out.csv.gz");
//! let mut w = host.create(&path, &OpenOptions::new())?;
//! w.write(&Record::from_pairs([("a", "1")]))?;
//! w.finish()?;
//! let records: Vec<Record> = host.open(&path, &OpenOptions::new())?.collect::<Result<_, _>>()?;
//! assert_eq!(records.len(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! This crate emits `tracing` events and never installs a subscriber; only
//! the binary does.

#![deny(missing_docs)]

// The plugin side of the boundary (abi_stable types) stays inside this
// crate: loading, and the adapters and conversions between plugin objects
// and the core's traits.
mod adapters;
pub mod cache;
pub mod config;
mod convert;
pub mod discovery;
mod loader;
pub mod manifest;
mod plugin;
pub mod scan;
pub mod trust;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use iterable_core;
use iterable_core::{
    CodecInfo, DriverInfo, EngineInfo, Error, FormatInfo, HookInfo, OpenOptions, PluginErrorKind,
    Provider, ProviderSource, Reader, Registry, Result, RuleInfo, Writer,
};

pub use cache::ScanCache;
pub use config::{Config, DirOrigin};
pub use manifest::{Manifest, Provides};
pub use plugin::{Plugin, Status};
pub use scan::Scanner;
pub use trust::Trust;

use crate::cache::Outcome;
use crate::discovery::{Candidate, CandidateKind};

/// What every plugin of a host shares: the scan cache and how to examine
/// and trust libraries.
#[derive(Debug)]
pub(crate) struct Context {
    pub(crate) cache: Mutex<ScanCache>,
    /// The scanner given to the builder; for a host in the user's
    /// environment, otherwise looked for ([`Scanner::find`], a PATH search)
    /// the first time one is needed.
    scanner: std::sync::OnceLock<Option<Scanner>>,
    find_scanner: bool,
    pub(crate) timeout: Duration,
}

impl Context {
    /// How libraries are examined.
    pub(crate) fn scanner(&self) -> Option<&Scanner> {
        self.scanner
            .get_or_init(|| {
                if self.find_scanner {
                    Scanner::find()
                } else {
                    None
                }
            })
            .as_ref()
    }
}

/// Where the configuration comes from.
#[derive(Clone, Debug, Default)]
enum ConfigSource {
    User,
    File(PathBuf),
    #[default]
    None,
}

/// Builds a [`Host`]. It uses only what it is told: no plugin directory,
/// environment variable, configuration file, cache file or scanner that
/// it is not given. [`HostBuilder::user_environment`] opts into all of the
/// user's at once, as the `iterable-host` command does.
#[derive(Clone)]
pub struct HostBuilder {
    plugin_dirs: Vec<PathBuf>,
    no_default_dirs: bool,
    no_env: bool,
    no_plugins: bool,
    config: ConfigSource,
    cache_file: Option<Option<PathBuf>>,
    registered: Vec<(Provider, bool)>,
    allow_override: Vec<String>,
    scanner: Option<Scanner>,
    scan_timeout: Option<Duration>,
}

impl std::fmt::Debug for HostBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostBuilder")
            .field("plugin_dirs", &self.plugin_dirs)
            .field("no_plugins", &self.no_plugins)
            .finish()
    }
}

impl Default for HostBuilder {
    fn default() -> Self {
        HostBuilder {
            plugin_dirs: Vec::new(),
            no_default_dirs: true,
            no_env: true,
            no_plugins: false,
            config: ConfigSource::None,
            cache_file: None,
            registered: Vec::new(),
            allow_override: Vec::new(),
            scanner: None,
            scan_timeout: None,
        }
    }
}

impl HostBuilder {
    /// A hermetic builder: built-ins only, until told more.
    pub fn new() -> Self {
        HostBuilder::default()
    }

    /// Opts into the user's environment, as the `iterable-host` command
    /// does: `ITERABLEDATA_PLUGIN_PATH`, `ITERABLEDATA_NO_PLUGINS`,
    /// `ITERABLEDATA_SCAN_TIMEOUT` and `ITERABLEDATA_SCANNER`;
    /// `~/.iterabledata/config.toml` and its `plugin_dirs`;
    /// `~/.iterabledata/plugins`; the scan cache under the user's cache
    /// directory; and, when no scanner is given, a scanner program found
    /// there ([`Scanner::find`]). Settings made before or after this call
    /// win over it.
    pub fn user_environment(mut self) -> Self {
        self.no_default_dirs = false;
        self.no_env = false;
        if matches!(self.config, ConfigSource::None) {
            self.config = ConfigSource::User;
        }
        if self.cache_file.is_none() {
            self.cache_file = Some(config::default_cache_file());
        }
        self
    }

    /// Adds a plugin directory, searched before the environment, the
    /// configuration and the user's directory (in the order added).
    pub fn plugin_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.plugin_dirs.push(dir.into());
        self
    }

    /// Whether to search `ITERABLEDATA_PLUGIN_PATH`, the configuration's
    /// `plugin_dirs` and `~/.iterabledata/plugins` (default: no, unless
    /// [`HostBuilder::user_environment`]).
    pub fn default_dirs(mut self, yes: bool) -> Self {
        self.no_default_dirs = !yes;
        self
    }

    /// Whether to read the `ITERABLEDATA_*` environment variables
    /// (default: no, unless [`HostBuilder::user_environment`]).
    pub fn environment(mut self, yes: bool) -> Self {
        self.no_env = !yes;
        self
    }

    /// Disables every plugin: they are listed as `disabled` and never loaded.
    pub fn no_plugins(mut self, yes: bool) -> Self {
        self.no_plugins = yes;
        self
    }

    /// Reads the configuration from this file.
    pub fn config_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.config = ConfigSource::File(path.into());
        self
    }

    /// Uses no configuration file at all.
    pub fn no_config(mut self) -> Self {
        self.config = ConfigSource::None;
        self
    }

    /// Where the scan cache lives; `None` keeps it in memory only (the
    /// default, unless [`HostBuilder::user_environment`]).
    pub fn cache_file(mut self, path: Option<PathBuf>) -> Self {
        self.cache_file = Some(path);
        self
    }

    /// How libraries are examined before they are first loaded (in a
    /// child process, so that one that crashes cannot take the application
    /// down). With none, a library that must be examined is an error that
    /// says how to give one.
    pub fn scanner(mut self, scanner: Scanner) -> Self {
        self.scanner = Some(scanner);
        self
    }

    /// Examines libraries by running this application's own executable,
    /// whose `main` must begin with [`run_scanner_if_requested`]: crash
    /// containment with no separate scanner program to ship.
    ///
    /// ```no_run
    /// fn main() -> Result<(), Box<dyn std::error::Error>> {
    ///     iterable_host::run_scanner_if_requested(); // first line of main
    ///     let host = iterable_host::Host::builder()
    ///         .plugin_dir("plugins")
    ///         .scan_with_current_exe()?
    ///         .build()?;
    ///     # let _ = host;
    ///     Ok(())
    /// }
    /// ```
    pub fn scan_with_current_exe(self) -> Result<Self> {
        let scanner = Scanner::current_exe().map_err(|e| {
            Error::io(
                "cannot find this program to run it as the plugin scanner",
                e,
            )
        })?;
        Ok(self.scanner(scanner))
    }

    /// How long a scan may take before the library counts as hung
    /// (default 10 s).
    pub fn scan_timeout(mut self, timeout: Duration) -> Self {
        self.scan_timeout = Some(timeout);
        self
    }

    /// Registers a provider from code. It stands after the built-ins and
    /// before every plugin; a duplicate id is an error when building.
    pub fn register(mut self, provider: Provider) -> Self {
        self.registered.push((provider, false));
        self
    }

    /// Registers a provider that replaces a registered one of the same id
    /// (a built-in only when [`HostBuilder::allow_override`] names it).
    pub fn register_override(mut self, provider: Provider) -> Self {
        self.registered.push((provider, true));
        self
    }

    /// Lets plugins and overriding registrations replace these built-in ids
    /// (added to the configuration's `allow_override`).
    pub fn allow_override<I: IntoIterator<Item = S>, S: Into<String>>(mut self, ids: I) -> Self {
        self.allow_override.extend(ids.into_iter().map(Into::into));
        self
    }

    /// Builds the host: reads the configuration and every manifest, loads
    /// nothing that has a manifest, and examines (once, then from the
    /// cache) libraries that have none.
    pub fn build(self) -> Result<Host> {
        let config = match &self.config {
            ConfigSource::User => match config::user_dir() {
                Some(d) => Config::load(&d.join("config.toml"))?,
                None => Config::default(),
            },
            ConfigSource::File(p) => Config::load(p)?,
            ConfigSource::None => Config::default(),
        };

        let mut registry = Registry::with_builtins();
        let mut allow = config.allow_override.clone();
        allow.extend(self.allow_override.iter().cloned());
        if !allow.is_empty() {
            registry.allow_override(allow);
        }
        for (p, replace) in self.registered.iter().cloned() {
            if replace {
                registry.register_override(p)?;
            } else {
                registry.register(p)?;
            }
        }

        let mut search: Vec<(PathBuf, DirOrigin)> = self
            .plugin_dirs
            .iter()
            .map(|d| (d.clone(), DirOrigin::Explicit))
            .collect();
        if !self.no_default_dirs {
            if !self.no_env {
                search.extend(
                    config::env_plugin_dirs()
                        .into_iter()
                        .map(|d| (d, DirOrigin::Environment)),
                );
            }
            search.extend(
                config
                    .plugin_dirs
                    .iter()
                    .map(|d| (d.clone(), DirOrigin::Config)),
            );
            if let Some(u) = config::user_dir() {
                search.push((u.join("plugins"), DirOrigin::UserDefault));
            }
        }
        // The same directory twice would only shadow itself.
        let mut seen = Vec::new();
        search.retain(|(d, _)| {
            let key = std::fs::canonicalize(d).unwrap_or_else(|_| d.clone());
            if seen.contains(&key) {
                false
            } else {
                seen.push(key);
                true
            }
        });

        let cache_path = self.cache_file.clone().flatten();
        let ctx = Arc::new(Context {
            cache: Mutex::new(match cache_path {
                Some(p) => ScanCache::load(p),
                None => ScanCache::in_memory(),
            }),
            scanner: match &self.scanner {
                Some(s) => std::sync::OnceLock::from(Some(s.clone())),
                None => std::sync::OnceLock::new(),
            },
            find_scanner: !self.no_env,
            timeout: self
                .scan_timeout
                .or_else(|| {
                    if self.no_env {
                        None
                    } else {
                        scan::timeout_from_env()
                    }
                })
                .unwrap_or(scan::DEFAULT_TIMEOUT),
        });

        let disabled_all = self.no_plugins || (!self.no_env && config::plugins_disabled_by_env());
        let mut plugins: Vec<Arc<Plugin>> = Vec::new();
        let mut by_name: HashMap<String, PathBuf> = HashMap::new();
        for (dir, origin) in &search {
            for cand in discovery::scan_dir(dir, origin) {
                let plugin = if disabled_all {
                    // Safe mode: look at manifests only, load nothing.
                    let p = describe_without_loading(&cand, &ctx);
                    p.set_disabled(
                        "plugins are disabled (--no-plugins or ITERABLEDATA_NO_PLUGINS)",
                    );
                    p
                } else {
                    examine(&cand, &ctx, &config)
                };
                if !disabled_all && config.disabled.contains(&plugin.name) {
                    plugin.set_disabled("disabled in config.toml");
                } else if let Some(first) = by_name.get(&plugin.name) {
                    plugin.set_shadowed(format!(
                        "a plugin named '{}' comes earlier on the search path ({})",
                        plugin.name,
                        first.display()
                    ));
                } else if matches!(plugin.status(), Status::Available | Status::Loaded) {
                    by_name.insert(plugin.name.clone(), plugin.path.clone());
                    add_providers(&mut registry, &plugin);
                }
                plugins.push(plugin);
            }
        }
        if let Ok(mut c) = ctx.cache.lock() {
            c.save();
        }
        mark_fully_shadowed(&registry, &plugins);
        Ok(Host {
            registry,
            plugins,
            search,
            hooks: config.hooks.clone(),
        })
    }
}

/// What a candidate is, for safe mode: manifests are read, nothing loaded.
fn describe_without_loading(cand: &Candidate, ctx: &Arc<Context>) -> Arc<Plugin> {
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
fn examine(cand: &Candidate, ctx: &Arc<Context>, config: &Config) -> Arc<Plugin> {
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
            let manifest = match Manifest::from_file(mpath) {
                Ok(m) => m,
                Err(e) => {
                    let plugin = make(provisional.clone(), mpath.clone(), None, true);
                    plugin.set_failed(&e);
                    return plugin;
                }
            };
            let lib = manifest.library_path(mpath);
            let name = manifest.plugin.name.clone();
            let plugin = make(name.clone(), lib.clone(), Some(manifest.clone()), true);
            // The library's metadata, read once for the three checks below.
            let lib_meta = std::fs::metadata(&lib);
            if let Some(e) = check_manifest_plugin(&manifest, &lib, lib_meta.as_ref().ok(), &name) {
                plugin.set_failed(&e);
                return plugin;
            }
            if let Some(e) = check_trust(
                config,
                &[(mpath, None), (&lib, lib_meta.as_ref().ok())],
                manifest.plugin.sha256.is_some(),
                &name,
            ) {
                plugin.set_failed(&e);
                return plugin;
            }
            // Hashing is not loading: a pinned library that was replaced is
            // reported as soon as it is listed.
            if let Some(pinned) = &manifest.plugin.sha256 {
                if let Err(e) = trust::verify_sha256(&lib, pinned, &name) {
                    plugin.set_failed(&e);
                    return plugin;
                }
            }
            // A load that failed before stays failed until the file changes;
            // a library examined before must provide what the manifest says.
            let stamp = lib_meta.as_ref().ok().map(cache::FileStamp::from_metadata);
            let cached = ctx
                .cache
                .lock()
                .ok()
                .and_then(|c| stamp.and_then(|s| c.lookup_stamped(&lib, s).cloned()));
            match cached {
                Some(failed @ Outcome::Failed { .. }) => {
                    if let Some(e) = failed.as_error(&name) {
                        plugin.set_failed(&e);
                    }
                }
                Some(Outcome::Scanned { manifest: found }) => {
                    if let Some(lie) = manifest::first_missing(&manifest, &found) {
                        plugin.set_failed(&Error::plugin(
                            PluginErrorKind::ManifestMismatch,
                            &name,
                            lie,
                        ));
                    }
                }
                None => {}
            }
            plugin
        }
        CandidateKind::Library(lib) => {
            if let Some(e) = check_trust(config, &[(lib, None)], false, &provisional) {
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
                    let o = match scanned {
                        Ok(m) => Outcome::Scanned {
                            manifest: Box::new(m),
                        },
                        Err(e) => Outcome::failed(&e),
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

/// The trust checks that need no loading: permissions (unless relaxed) and
/// `trust = "hashed"`.
fn check_trust(
    config: &Config,
    files: &[(&PathBuf, Option<&std::fs::Metadata>)],
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
        let files: Vec<(&Path, Option<&std::fs::Metadata>)> =
            files.iter().map(|(f, m)| (f.as_path(), *m)).collect();
        return trust::check_permissions_known(&files, name).err();
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

fn add_providers(registry: &mut Registry, plugin: &Arc<Plugin>) {
    let Some(m) = plugin.manifest() else { return };
    let name = plugin.name.clone();
    for f in &m.formats {
        let info = FormatInfo {
            id: f.id.to_ascii_lowercase(),
            description: f.description.clone(),
            extensions: f
                .extensions
                .iter()
                .map(|e| e.trim_start_matches('.').to_ascii_lowercase())
                .collect(),
            magic: f
                .magic
                .as_deref()
                .and_then(manifest::parse_hex)
                .into_iter()
                .collect(),
            can_read: f.read,
            can_write: f.write,
            options: Vec::new(),
        };
        registry.add_plugin(
            Provider::Format(Arc::new(adapters::LazyFormat::new(
                Arc::clone(plugin),
                info,
            ))),
            &name,
        );
    }
    for c in &m.codecs {
        let info = CodecInfo {
            id: c.id.to_ascii_lowercase(),
            description: c.description.clone(),
            extensions: c
                .extensions
                .iter()
                .map(|e| e.trim_start_matches('.').to_ascii_lowercase())
                .collect(),
            magic: c
                .magic
                .as_deref()
                .and_then(manifest::parse_hex)
                .into_iter()
                .collect(),
            levels: None,
        };
        registry.add_plugin(
            Provider::Codec(Arc::new(adapters::LazyCodec::new(Arc::clone(plugin), info))),
            &name,
        );
    }
    for d in &m.drivers {
        let info = DriverInfo {
            id: d.id.clone(),
            description: d.description.clone(),
            schemes: d.schemes.clone(),
        };
        registry.add_plugin(
            Provider::Driver(Arc::new(adapters::LazyDriver::new(
                Arc::clone(plugin),
                info,
            ))),
            &name,
        );
    }
    for r in &m.rules {
        let info = RuleInfo {
            name: r.name.clone(),
            description: r.description.clone(),
        };
        registry.add_plugin(
            Provider::Rule(Arc::new(adapters::LazyRule::new(Arc::clone(plugin), info))),
            &name,
        );
    }
    for e in &m.engines {
        let info = EngineInfo {
            id: e.id.clone(),
            description: e.description.clone(),
        };
        registry.add_plugin(
            Provider::Engine(Arc::new(adapters::LazyEngine::new(
                Arc::clone(plugin),
                info,
            ))),
            &name,
        );
    }
    for h in &m.hooks {
        let info = HookInfo {
            id: h.id.clone(),
            description: h.description.clone(),
            options: Vec::new(),
        };
        registry.add_plugin(
            Provider::Hook(Arc::new(adapters::LazyHook::new(Arc::clone(plugin), info))),
            &name,
        );
    }
}

/// A plugin all of whose providers lose to something else is `shadowed`.
fn mark_fully_shadowed(registry: &Registry, plugins: &[Arc<Plugin>]) {
    // One pass over the entries, grouped by plugin (not one pass per
    // plugin: with a thousand plugins that would be quadratic).
    type Tally<'a> = HashMap<&'a str, (usize, Vec<String>)>;
    fn note<'a>(t: &mut Tally<'a>, src: &'a ProviderSource, id: &str, by: &Option<ProviderSource>) {
        if let ProviderSource::Plugin(name) = src {
            let (total, shadows) = t.entry(name.as_str()).or_default();
            *total += 1;
            if let Some(by) = by {
                shadows.push(format!("'{id}' by {by}"));
            }
        }
    }
    let mut by_plugin: Tally<'_> = HashMap::new();
    for e in registry.format_entries() {
        note(&mut by_plugin, &e.source, &e.id, &e.shadowed_by);
    }
    for e in registry.codec_entries() {
        note(&mut by_plugin, &e.source, &e.id, &e.shadowed_by);
    }
    for e in registry.driver_entries() {
        note(&mut by_plugin, &e.source, &e.id, &e.shadowed_by);
    }
    for e in registry.rule_entries() {
        note(&mut by_plugin, &e.source, &e.id, &e.shadowed_by);
    }
    for e in registry.engine_entries() {
        note(&mut by_plugin, &e.source, &e.id, &e.shadowed_by);
    }
    for e in registry.hook_entries() {
        note(&mut by_plugin, &e.source, &e.id, &e.shadowed_by);
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

/// A configured host: the registry every command opens data through, and
/// the plugins found on the search path.
#[derive(Clone)]
pub struct Host {
    registry: Registry,
    plugins: Vec<Arc<Plugin>>,
    search: Vec<(PathBuf, DirOrigin)>,
    hooks: Vec<String>,
}

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Host")
            .field("registry", &self.registry)
            .field("plugins", &self.plugins)
            .finish()
    }
}

impl Host {
    /// A hermetic builder (see [`HostBuilder`]).
    pub fn builder() -> HostBuilder {
        HostBuilder::default()
    }

    /// A host of the user's: the default plugin directories, the
    /// environment and the configuration, as the `iterable-host` command
    /// sees them, examining libraries with a scanner program found there.
    pub fn for_user() -> Result<Host> {
        Host::builder().user_environment().build()
    }

    /// The registry of providers: built-ins, registered ones, then plugins.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Every plugin found, in search order (failed, disabled and shadowed
    /// ones included).
    pub fn plugins(&self) -> &[Arc<Plugin>] {
        &self.plugins
    }

    /// The first plugin with this name.
    pub fn plugin(&self, name: &str) -> Option<&Arc<Plugin>> {
        self.plugins.iter().find(|p| p.name() == name)
    }

    /// The hooks the configuration enables for every run (`hooks` in
    /// `config.toml`), by id.
    pub fn configured_hooks(&self) -> &[String] {
        &self.hooks
    }

    /// The plugin directories, in search order.
    pub fn search_path(&self) -> &[(PathBuf, DirOrigin)] {
        &self.search
    }

    /// Opens a file or URI for reading (see [`Registry::open`]).
    pub fn open(&self, target: impl AsRef<Path>, opts: &OpenOptions) -> Result<Reader> {
        self.registry.open(target, opts)
    }

    /// Creates a file or opens a URI for writing (see [`Registry::create`]).
    pub fn create(&self, target: impl AsRef<Path>, opts: &OpenOptions) -> Result<Writer> {
        self.registry.create(target, opts)
    }
}

/// Examines one library with `scanner` (in a child process, unless it is
/// [`Scanner::in_process`]) and reports what it provides: what
/// `iterable-host check-plugin` does.
pub fn check_library(path: &Path, scanner: &Scanner, timeout: Duration) -> Result<Manifest> {
    scan::scan(
        scanner,
        path,
        &discovery::provisional_name_of(path),
        timeout,
    )
}

/// Internals the fuzz targets exercise (not an API: no stability promise).
#[doc(hidden)]
pub mod __fuzz {
    pub use crate::convert::{BatchReader, keeps_field_order, push_record};
}

/// The first thing an application's `main` does when it lets the host run
/// its own executable as the plugin scanner
/// ([`HostBuilder::scan_with_current_exe`]): when this process was started
/// as a scanner, it examines the library it was given, prints the report
/// and exits; otherwise it returns at once.
pub fn run_scanner_if_requested() {
    let mut args = std::env::args_os().skip(1);
    if args.next().is_some_and(|a| a == scan::SCAN_ARG) {
        let code = match (args.next(), args.next()) {
            (Some(lib), None) => scan::scanner_main(Path::new(&lib)),
            _ => 2,
        };
        std::process::exit(code);
    }
}
