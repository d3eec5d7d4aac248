//! Where plugins run and what they may reach: the isolation mode, a
//! runner's limits and grants, a plugin's own settings (`[plugins.NAME]`)
//! and the policy that combines them with the builder, the environment and
//! the configuration. Plain data, low in the tree: the catalog
//! (configuration, plugins), the loader and both sides of isolation import
//! it, and it imports none of them. [`crate::isolate`] re-exports it.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Sizes in settings (`memory_limit`), read as plugins read theirs.
pub use iterable_plugin_api::parse_bytes;

/// The environment variable that runs every plugin out of process when set
/// to `1` (as `--isolate-plugins` and `isolate = true` in the configuration).
pub const ENV_ISOLATE: &str = "ITERABLEDATA_ISOLATE";
/// The environment variable with the per-call deadline of isolated plugins,
/// in seconds (`0` for none).
pub const ENV_PLUGIN_TIMEOUT: &str = "ITERABLEDATA_PLUGIN_TIMEOUT";

/// How long an isolated plugin may take to answer one call (a batch, a
/// check, the opening of a reader) before it counts as hung and is killed.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(120);

/// Where a plugin runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Isolation {
    /// In the host's process (the default): fastest, and a crash of the
    /// plugin is a crash of the host.
    #[default]
    None,
    /// In a runner process of its own, sandboxed on Linux.
    Process,
}

impl Isolation {
    /// The word used in configuration and listings.
    pub fn as_str(self) -> &'static str {
        match self {
            Isolation::None => "none",
            Isolation::Process => "process",
        }
    }
}

impl std::fmt::Display for Isolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an isolated plugin's runner is allowed and how long it may take.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The deadline of one call; `None` for none.
    pub timeout: Option<Duration>,
    /// The runner's address-space limit in bytes; `None` for none.
    pub memory_limit: Option<u64>,
    /// Whether it may open network sockets (a database driver needs to).
    pub network: bool,
    /// Whether to sandbox it (Linux: Landlock and seccomp).
    pub sandbox: bool,
    /// What else it may read (files or directories), besides the system's
    /// libraries, its own directory and its inputs.
    pub read: Vec<PathBuf>,
    /// What it may write (files or directories), besides its scratch
    /// directory.
    pub write: Vec<PathBuf>,
    /// Where these settings are changed, which a denial's hint names.
    pub settings: SettingsFrom,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: Some(DEFAULT_CALL_TIMEOUT),
            memory_limit: None,
            network: false,
            sandbox: true,
            read: Vec::new(),
            write: Vec::new(),
            settings: SettingsFrom::ConfigFile,
        }
    }
}

/// Where a host takes plugins' settings from: what a hint tells the user
/// to change when the sandbox denies a plugin something.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SettingsFrom {
    /// A configuration file (`[plugins.NAME]` in `config.toml`), as the
    /// `iterable-host` command reads it.
    #[default]
    ConfigFile,
    /// The application's code
    /// ([`HostBuilder::plugin_settings`](crate::HostBuilder::plugin_settings)):
    /// the host reads no configuration file.
    Builder,
}

impl Limits {
    /// How to let the plugin `name` reach more: what a denial's hint says.
    pub fn grant_hint(&self, name: &str) -> String {
        match self.settings {
            SettingsFrom::ConfigFile => format!(
                "grant it in config.toml: [plugins.{name}] with read = [...], write = [...] or network = true"
            ),
            SettingsFrom::Builder => format!(
                "grant it with HostBuilder::plugin_settings(\"{name}\", PluginConfig {{ read, write or network, .. }})"
            ),
        }
    }

    /// How to let the plugin `name` use the network.
    pub fn network_hint(&self, name: &str) -> String {
        match self.settings {
            SettingsFrom::ConfigFile => format!("[plugins.{name}] network = true in config.toml"),
            SettingsFrom::Builder => format!(
                "HostBuilder::plugin_settings(\"{name}\", PluginConfig {{ network: true, .. }})"
            ),
        }
    }
}

/// What a runner's sandbox could do, as the runner reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SandboxReport {
    /// Whether a sandbox was asked for.
    pub requested: bool,
    /// File-system rules: `enforced`, `partial`, or why not.
    pub files: String,
    /// Network rules: `enforced`, `granted` (the plugin may connect), or why not.
    pub network: String,
}

impl SandboxReport {
    /// True when every rule asked for is in force.
    pub fn complete(&self) -> bool {
        !self.requested
            || (self.files == "enforced" && matches!(self.network.as_str(), "enforced" | "granted"))
    }
}

/// Where each plugin runs and within what limits, from the builder, the
/// environment and the configuration.
#[derive(Clone, Debug, Default)]
pub(crate) struct Policy {
    /// Every plugin out of process (`--isolate-plugins`, the environment,
    /// [`HostBuilder::isolate_plugins`](crate::HostBuilder::isolate_plugins)).
    pub force: bool,
    /// `isolate = true` in the configuration.
    pub config_isolate: bool,
    /// The per-call deadline; `None` for none.
    pub timeout: Option<Duration>,
    /// The memory limit of a runner.
    pub memory_limit: Option<u64>,
    /// `[plugins.NAME]` settings.
    pub plugins: std::collections::BTreeMap<String, PluginConfig>,
    /// Where they come from.
    pub settings: SettingsFrom,
}

impl Policy {
    /// Where the plugin `name` runs: forced out of process, else its own
    /// configuration, else the configuration's `isolate`, else what its
    /// manifest declares (`declared`).
    pub fn isolation(&self, name: &str, declared: Option<Isolation>) -> Isolation {
        if self.force {
            return Isolation::Process;
        }
        if let Some(i) = self.plugins.get(name).and_then(|c| c.isolation) {
            return i;
        }
        if self.config_isolate {
            return Isolation::Process;
        }
        declared.unwrap_or_default()
    }

    /// The limits of the plugin `name`'s runners.
    pub fn limits(&self, name: &str) -> Limits {
        let own = self.plugins.get(name);
        Limits {
            timeout: match own.and_then(|c| c.timeout) {
                Some(t) => seconds(t),
                None => self.timeout,
            },
            memory_limit: own
                .and_then(|c| c.memory_limit.as_deref())
                .and_then(parse_bytes)
                .or(self.memory_limit),
            network: own.is_some_and(|c| c.network),
            sandbox: own.and_then(|c| c.sandbox).unwrap_or(true),
            read: own
                .map(|c| c.read.iter().map(|p| expand(p)).collect())
                .unwrap_or_default(),
            write: own
                .map(|c| c.write.iter().map(|p| expand(p)).collect())
                .unwrap_or_default(),
            settings: self.settings,
        }
    }
}

/// `~/x` as the home directory's `x`.
fn expand(p: &std::path::Path) -> PathBuf {
    match (p.strip_prefix("~"), dirs::home_dir()) {
        (Ok(rest), Some(home)) => home.join(rest),
        _ => p.to_path_buf(),
    }
}

/// A deadline in seconds; 0 (or less) for none.
pub fn seconds(s: f64) -> Option<Duration> {
    (s.is_finite() && s > 0.0).then(|| Duration::from_secs_f64(s))
}

/// The deadline in `ITERABLEDATA_PLUGIN_TIMEOUT`: `Some(None)` for `0`.
pub(crate) fn timeout_from_env() -> Option<Option<Duration>> {
    std::env::var(ENV_PLUGIN_TIMEOUT)
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(seconds)
}

/// True when `ITERABLEDATA_ISOLATE` asks for every plugin out of process.
pub(crate) fn isolate_from_env() -> bool {
    std::env::var(ENV_ISOLATE)
        .is_ok_and(|v| !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false"))
}

/// A plugin's own settings: `[plugins.NAME]` in `config.toml`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PluginConfig {
    /// Where it runs: `"process"` (a sandboxed runner of its own) or
    /// `"none"` (in the host). Wins over the manifest and over `isolate`.
    pub isolation: Option<Isolation>,
    /// Its runner's memory limit (`512MiB`), over the global one.
    pub memory_limit: Option<String>,
    /// Its per-call deadline in seconds, over the global one.
    pub timeout: Option<f64>,
    /// Whether its runner may use the network (a database driver needs
    /// it); default no.
    pub network: bool,
    /// Whether its runner is sandboxed (default yes).
    pub sandbox: Option<bool>,
    /// Files or directories its sandboxed runner may also read (`~/` is the
    /// home directory).
    pub read: Vec<PathBuf>,
    /// Files or directories its sandboxed runner may write (a hook's report,
    /// say).
    pub write: Vec<PathBuf>,
}
