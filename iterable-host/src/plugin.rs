//! One discovered plugin: what is known about it, and its lazy load.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use serde::Serialize;

use iterable_core::Error;

use crate::catalog::cache::Outcome;
use crate::catalog::config::DirOrigin;
use crate::catalog::manifest::{Abi, Manifest, Provides};
use crate::context::Context;
use crate::error::{PluginErrorExt, PluginErrorKind};
use crate::loader::{self, Library};

/// A plugin's state, as `list-plugins` shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Known from its manifest (or the scan cache), not loaded yet.
    Available,
    /// Its library is loaded.
    Loaded,
    /// It cannot be used; the error says why.
    Failed,
    /// Turned off by `--no-plugins`, `ITERABLEDATA_NO_PLUGINS` or the configuration.
    Disabled,
    /// Everything it provides is provided by something of higher priority,
    /// or a plugin of the same name comes earlier on the search path.
    Shadowed,
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Status::Available => "available",
            Status::Loaded => "loaded",
            Status::Failed => "failed",
            Status::Disabled => "disabled",
            Status::Shadowed => "shadowed",
        })
    }
}

enum State {
    Available,
    Loaded(Arc<Library>),
    Failed(PluginErrorKind, String),
    Disabled(String),
    Shadowed(String),
}

/// One plugin found on the search path.
pub struct Plugin {
    pub(crate) name: String,
    pub(crate) path: PathBuf,
    pub(crate) library: PathBuf,
    pub(crate) dir: PathBuf,
    pub(crate) origin: DirOrigin,
    pub(crate) manifest: Option<Manifest>,
    pub(crate) has_manifest_file: bool,
    state: Mutex<State>,
    warnings: Mutex<Vec<String>>,
    ctx: Arc<Context>,
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("name", &self.name)
            .field("path", &self.path)
            .field("status", &self.status())
            .finish()
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding one of these locks leaves plain data behind;
    // carry on with it rather than poisoning every later call.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Plugin {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        name: String,
        path: PathBuf,
        library: PathBuf,
        dir: PathBuf,
        origin: DirOrigin,
        manifest: Option<Manifest>,
        has_manifest_file: bool,
        ctx: Arc<Context>,
    ) -> Plugin {
        Plugin {
            name,
            path,
            library,
            dir,
            origin,
            manifest,
            has_manifest_file,
            state: Mutex::new(State::Available),
            warnings: Mutex::new(Vec::new()),
            ctx,
        }
    }

    /// A plugin whose library is loaded already (in a runner process),
    /// described by the library itself.
    pub(crate) fn preloaded(lib: Library, name: &str) -> Arc<Plugin> {
        let ctx = Arc::new(Context {
            cache: Mutex::new(crate::catalog::cache::ScanCache::in_memory()),
            scanner: std::sync::OnceLock::from(None),
            find_scanner: false,
            timeout: crate::scan::DEFAULT_TIMEOUT,
            isolation: Default::default(),
        });
        let dir = lib.path.parent().map(Path::to_path_buf).unwrap_or_default();
        let plugin = Plugin::new(
            name.to_owned(),
            lib.path.clone(),
            lib.path.clone(),
            dir,
            DirOrigin::Explicit,
            Some(lib.description.clone()),
            true,
            ctx,
        );
        *lock(&plugin.state) = State::Loaded(Arc::new(lib));
        Arc::new(plugin)
    }

    /// The plugin's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The manifest, or the library itself when it has none.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The library file.
    pub fn library_path(&self) -> &Path {
        &self.library
    }

    /// The plugin directory it was found in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where that directory came from.
    pub fn origin(&self) -> &DirOrigin {
        &self.origin
    }

    /// What the plugin declares (from `plugin.toml`, or from examining it).
    pub fn manifest(&self) -> Option<&Manifest> {
        self.manifest.as_ref()
    }

    /// True when it came with a `plugin.toml` (rather than examined).
    pub fn has_manifest(&self) -> bool {
        self.has_manifest_file
    }

    /// What it provides, per kind.
    pub fn provides(&self) -> Provides {
        self.manifest
            .as_ref()
            .map(Manifest::provides)
            .unwrap_or_default()
    }

    /// Where the plugin runs: in the host, or in a runner process of its
    /// own (see [`crate::isolate`]).
    pub fn isolation(&self) -> crate::policy::Isolation {
        self.ctx.isolation.isolation(
            &self.name,
            self.manifest.as_ref().and_then(|m| m.plugin.isolation),
        )
    }

    /// The limits of its runners, when it runs out of process.
    pub fn limits(&self) -> crate::policy::Limits {
        self.ctx.isolation.limits(&self.name)
    }

    /// For a plugin that runs out of process and has started, what its
    /// runner's sandbox actually enforces (Landlock and seccomp need a
    /// kernel that has them): check [`SandboxReport::complete`] before
    /// relying on it. `None` before the plugin's first use, and for a
    /// plugin that runs in this process.
    ///
    /// [`SandboxReport::complete`]: crate::policy::SandboxReport::complete
    pub fn sandbox(&self) -> Option<crate::policy::SandboxReport> {
        match &*lock(&self.state) {
            State::Loaded(lib) => lib.sandbox.clone(),
            _ => None,
        }
    }

    /// The current status.
    pub fn status(&self) -> Status {
        match &*lock(&self.state) {
            State::Available => Status::Available,
            State::Loaded(_) => Status::Loaded,
            State::Failed(..) => Status::Failed,
            State::Disabled(_) => Status::Disabled,
            State::Shadowed(_) => Status::Shadowed,
        }
    }

    /// Why the plugin failed, is disabled, or is shadowed.
    pub fn reason(&self) -> Option<String> {
        match &*lock(&self.state) {
            State::Failed(_, m) | State::Disabled(m) | State::Shadowed(m) => Some(m.clone()),
            _ => None,
        }
    }

    /// The failure, as an error naming the plugin.
    pub fn error(&self) -> Option<Error> {
        match &*lock(&self.state) {
            State::Failed(k, m) => Some(Error::plugin(*k, &self.name, m.clone())),
            _ => None,
        }
    }

    /// Notes about a loaded plugin that contradicts its manifest.
    pub fn warnings(&self) -> Vec<String> {
        lock(&self.warnings).clone()
    }

    pub(crate) fn set_failed(&self, err: &Error) {
        let kind = err.plugin_kind().unwrap_or(PluginErrorKind::LoadFailed);
        *lock(&self.state) = State::Failed(kind, err.message().to_owned());
    }

    pub(crate) fn set_disabled(&self, why: &str) {
        *lock(&self.state) = State::Disabled(why.to_owned());
    }

    pub(crate) fn set_shadowed(&self, why: String) {
        let mut s = lock(&self.state);
        if matches!(*s, State::Available) {
            *s = State::Shadowed(why);
        }
    }

    /// The loaded library, loading it on first use. A failure is kept (and
    /// cached with its reason until the file changes) and returned again.
    pub fn library(&self) -> Result<Arc<Library>, Error> {
        let mut state = lock(&self.state);
        match &*state {
            State::Loaded(lib) => return Ok(Arc::clone(lib)),
            State::Failed(k, m) => return Err(Error::plugin(*k, &self.name, m.clone())),
            State::Disabled(m) => {
                return Err(Error::plugin(
                    PluginErrorKind::LoadFailed,
                    &self.name,
                    format!("the plugin is disabled: {m}"),
                ));
            }
            State::Available | State::Shadowed(_) => {}
        }
        let loaded = self
            .load()
            .and_then(|lib| self.check_abi(lib))
            .and_then(|lib| self.check_against_manifest(lib));
        match loaded {
            Ok(lib) => {
                let lib = Arc::new(lib);
                *state = State::Loaded(Arc::clone(&lib));
                Ok(lib)
            }
            Err(e) => {
                // The caller gets the error; logging it too would say it twice.
                tracing::debug!(plugin = %self.name, error = %e, "plugin failed to load");
                *state = State::Failed(
                    e.plugin_kind().unwrap_or(PluginErrorKind::LoadFailed),
                    e.message().to_owned(),
                );
                let mut cache = lock(&self.ctx.cache);
                cache.store(&self.library, Outcome::failed(&e));
                cache.save();
                Err(e.with_plugin(&self.name))
            }
        }
    }

    /// Verifies, then loads: the pinned sha256 first; then, unless this
    /// very file was examined before, a scan in a child process, so that a
    /// library that crashes while loading takes down the scanner, not us.
    fn load(&self) -> Result<Library, Error> {
        if let Some(pinned) = self
            .manifest
            .as_ref()
            .and_then(|m| m.plugin.sha256.as_deref())
        {
            crate::catalog::trust::verify_sha256(&self.library, pinned, &self.name)?;
        }
        if self.isolation() == crate::policy::Isolation::Process {
            return self.load_isolated();
        }
        if let Some(m) = self.manifest.as_ref().filter(|m| m.plugin.abi == Abi::Adbc) {
            // An ADBC driver is described by its manifest alone; the driver
            // manager loads it (it exports no IterableData symbol to scan).
            return crate::adbc::load(&self.library, m);
        }
        let known = matches!(
            lock(&self.ctx.cache).lookup(&self.library),
            Some(Outcome::Scanned { .. })
        );
        let scanner = match self.ctx.scanner() {
            Some(s) => s,
            None if known => return loader::load(&self.library, &self.name),
            None => return Err(crate::scan::no_scanner(&self.library, &self.name)),
        };
        if !known && !scanner.is_in_process() {
            let manifest = crate::scan::scan(scanner, &self.library, &self.name, self.ctx.timeout)?;
            let mut cache = lock(&self.ctx.cache);
            cache.store(
                &self.library,
                Outcome::Scanned {
                    manifest: Box::new(manifest),
                },
            );
            cache.save();
        }
        loader::load(&self.library, &self.name)
    }

    /// Starts the plugin's first runner process, which loads the library
    /// (it is never loaded here) and says what it provides.
    fn load_isolated(&self) -> Result<Library, Error> {
        let program = self
            .ctx
            .scanner()
            .and_then(|s| s.command())
            .ok_or_else(|| {
                Error::plugin(
                    PluginErrorKind::LoadFailed,
                    &self.name,
                    "it is to run out of process, and this host has no scanner program to run it in: \
                     call HostBuilder::scan_with_current_exe() or give HostBuilder::scanner a program",
                )
            })?;
        let adbc = self
            .manifest
            .as_ref()
            .is_some_and(|m| m.plugin.abi == Abi::Adbc);
        crate::isolate::library(crate::isolate::Plan {
            name: &self.name,
            library: &self.library,
            dir: &self.dir,
            manifest_file: (adbc && self.has_manifest_file).then(|| self.path.clone()),
            declared: self.manifest.as_ref().filter(|_| self.has_manifest_file),
            program,
            limits: self.ctx.isolation.limits(&self.name),
        })
    }

    /// A library whose flavour is not the one its manifest declares is
    /// refused: the manifest's other claims (its api_version) were read
    /// for the other flavour.
    fn check_abi(&self, lib: Library) -> Result<Library, Error> {
        let declared = self.manifest.as_ref().map(|m| m.plugin.abi);
        match declared {
            Some(abi) if self.has_manifest_file && abi != lib.abi() => Err(Error::plugin(
                PluginErrorKind::ManifestMismatch,
                &self.name,
                format!(
                    "the manifest says abi = \"{}\" but the library speaks the {} ABI",
                    abi.as_str(),
                    match lib.abi() {
                        crate::catalog::manifest::Abi::Rust => "Rust (abi_stable)",
                        crate::catalog::manifest::Abi::C => "C",
                        crate::catalog::manifest::Abi::Adbc => "ADBC",
                    }
                ),
            )),
            _ => Ok(lib),
        }
    }

    /// Compares a loaded library with its manifest. What the manifest
    /// claims and the library does not do is a failure
    /// ([`PluginErrorKind::ManifestMismatch`]), on the first load as on
    /// every later run (which finds it from the scan cache without
    /// loading): a claim that only held until the cache was warm would
    /// change answers. What the library provides beyond its manifest is a
    /// note ([`Plugin::warnings`]): nothing routes to it.
    fn check_against_manifest(&self, lib: Library) -> Result<Library, Error> {
        let Some(declared) = self.manifest.as_ref().filter(|_| self.has_manifest_file) else {
            return Ok(lib);
        };
        // Hooks are looked up only when the manifest declares some (the
        // lookup costs more than the rest of a load).
        let found = if declared.hooks.is_empty() {
            lib.description.clone()
        } else {
            lib.description_with_hooks()
                .map_err(|e| e.with_plugin(&self.name))?
        };
        let (wrong, undeclared) = crate::catalog::manifest::differences(declared, &found);
        let first = wrong.first().cloned();
        let notes: Vec<String> = wrong.into_iter().chain(undeclared).collect();
        for n in &notes {
            tracing::info!(plugin = %self.name, "{n}");
        }
        *lock(&self.warnings) = notes;
        match first {
            Some(first) => Err(Error::plugin(
                PluginErrorKind::ManifestMismatch,
                &self.name,
                first,
            )),
            None => Ok(lib),
        }
    }
}
