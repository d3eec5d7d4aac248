//! [`HostBuilder`]: a hermetic host, told what to use.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use iterable_core::{Error, Provider, Registry, Result};

use crate::catalog::cache::ScanCache;
use crate::catalog::config::{self, Config, DirOrigin};
use crate::catalog::discovery::{self, Candidate};
use crate::context::Context;
use crate::error::plugin_origin;
use crate::plugin::Plugin;
use crate::scan::{self, Scanner};

use crate::examine::{add_providers, describe_without_loading, examine, mark_fully_shadowed};
use crate::host::Host;

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
    isolate: Option<bool>,
    plugin_timeout: Option<Option<Duration>>,
    memory_limit: Option<u64>,
    plugin_settings: Vec<(String, crate::catalog::config::PluginConfig)>,
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
            isolate: None,
            plugin_timeout: None,
            memory_limit: None,
            plugin_settings: Vec::new(),
        }
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
    /// [`HostBuilder::user_environment`]). The environment variables among
    /// them (`ITERABLEDATA_PLUGIN_PATH`, and `ITERABLEDATA_HOME` in place of
    /// `~/.iterabledata`) are read only with [`HostBuilder::environment`].
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

    /// Runs every plugin out of process, each in a sandboxed runner (the
    /// scanner program in its runner mode): a plugin that crashes, hangs or
    /// runs out of memory in the middle of a call fails that call with an
    /// error, and the application goes on. Over `ITERABLEDATA_ISOLATE` and
    /// the configuration's `isolate`.
    pub fn isolate_plugins(mut self, yes: bool) -> Self {
        self.isolate = Some(yes);
        self
    }

    /// How long an isolated plugin may take to answer one call before it is
    /// killed (default 120 s); `None` for no limit.
    pub fn plugin_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.plugin_timeout = Some(timeout);
        self
    }

    /// The memory limit (address space, in bytes) of each isolated plugin's
    /// runner.
    pub fn runner_memory_limit(mut self, bytes: u64) -> Self {
        self.memory_limit = Some(bytes);
        self
    }

    /// One plugin's settings, as `[plugins.NAME]` in the configuration
    /// would give them (and over them): where it runs, its limits, whether
    /// it may use the network.
    pub fn plugin_settings(
        mut self,
        name: impl Into<String>,
        settings: crate::catalog::config::PluginConfig,
    ) -> Self {
        self.plugin_settings.push((name.into(), settings));
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
        scan::refuse_to_run_as_scanner_child();
        let config = match &self.config {
            ConfigSource::User => match config::user_dir_with(!self.no_env) {
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
            if let Some(u) = config::user_dir_with(!self.no_env) {
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
            isolation: self.policy(&config),
        });

        let disabled_all = self.no_plugins || (!self.no_env && config::plugins_disabled_by_env());
        let mut plugins: Vec<Arc<Plugin>> = Vec::new();
        let candidates: Vec<Candidate> = search
            .iter()
            .flat_map(|(dir, origin)| discovery::scan_dir(dir, origin))
            .collect();
        // Examining is reading a manifest and a few stats per plugin (and,
        // for a library without one that the cache does not know, a scan in
        // a child process): independent work, spread over the cores. What
        // wins a conflict is decided after, in search order.
        let examined = map_in_order(&candidates, |cand| {
            if disabled_all {
                // Safe mode: look at manifests only, load nothing.
                let p = describe_without_loading(cand, &ctx);
                p.set_disabled("plugins are disabled (--no-plugins or ITERABLEDATA_NO_PLUGINS)");
                p
            } else {
                examine(cand, &ctx, &config)
            }
        });
        for plugin in &examined {
            if !disabled_all && config.disabled.contains(&plugin.name) {
                plugin.set_disabled("disabled in config.toml");
            }
        }
        // The first plugin of each name serves, and stands behind its claims
        // whatever its state: a failed or disabled one's files, rule ids,
        // schemes, engines and hooks are refused with its name and reason,
        // never handed to something else. (Falling back to a later plugin
        // of the same name would change answers once the scan cache knows
        // that the first one fails.)
        let mut serving: HashMap<&str, &Plugin> = HashMap::new();
        for plugin in &examined {
            if let Some(first) = serving.get(plugin.name.as_str()) {
                plugin.set_shadowed(format!(
                    "a plugin named '{}' comes earlier on the search path ({})",
                    plugin.name,
                    first.path.display()
                ));
                continue;
            }
            serving.insert(&plugin.name, plugin);
            if plugin.manifest().is_some() {
                add_providers(&mut registry, plugin);
            } else if let Some(e) = plugin.error() {
                // What it provides is unknown: detection will not guess
                // past it.
                registry.add_unknown_claims(plugin_origin(&plugin.name), e.message());
            }
        }
        plugins.extend(examined);
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

impl HostBuilder {
    /// Where plugins run: the builder's settings, then the environment
    /// (when read), then the configuration.
    fn policy(&self, config: &Config) -> crate::policy::Policy {
        use crate::policy;
        let env = !self.no_env;
        let mut plugins = config.plugins.clone();
        for (name, s) in &self.plugin_settings {
            plugins.insert(name.clone(), s.clone());
        }
        policy::Policy {
            force: self
                .isolate
                .unwrap_or_else(|| env && policy::isolate_from_env()),
            config_isolate: config.isolate,
            timeout: self
                .plugin_timeout
                .or_else(|| {
                    if env {
                        policy::timeout_from_env()
                    } else {
                        None
                    }
                })
                .or_else(|| config.plugin_timeout.map(policy::seconds))
                .unwrap_or(Some(policy::DEFAULT_CALL_TIMEOUT)),
            memory_limit: self
                .memory_limit
                .or_else(|| config.memory_limit.as_deref().and_then(policy::parse_bytes)),
            plugins,
            settings: match self.config {
                ConfigSource::None => policy::SettingsFrom::Builder,
                ConfigSource::User | ConfigSource::File(_) => policy::SettingsFrom::ConfigFile,
            },
        }
    }
}

/// `items.iter().map(f)`, on up to one thread per core when there are
/// enough items to be worth it; the results keep the items' order.
fn map_in_order<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    const WORTH_A_THREAD: usize = 64;
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(items.len() / WORTH_A_THREAD)
        .min(8);
    if threads < 2 {
        return items.iter().map(f).collect();
    }
    let f = &f;
    std::thread::scope(|scope| {
        let parts: Vec<_> = items
            .chunks(items.len().div_ceil(threads))
            .map(|part| scope.spawn(move || part.iter().map(f).collect::<Vec<R>>()))
            .collect();
        parts
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::map_in_order;

    #[test]
    fn parallel_examination_keeps_the_search_order() {
        let items: Vec<usize> = (0..1000).collect();
        let out = map_in_order(&items, |i| i * 2);
        assert_eq!(out, (0..1000).map(|i| i * 2).collect::<Vec<_>>());
        // A handful of items stays on the caller's thread.
        let few = map_in_order(&items[..3], |_| std::thread::current().id());
        assert_eq!(few, vec![std::thread::current().id(); 3]);
    }
}
