//! `~/.iterabledata/config.toml` and the plugin search path.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use iterable_core::{Error, ErrorKind};

use crate::catalog::trust::Trust;

pub use crate::policy::PluginConfig;

/// The environment variable with extra plugin directories (a path list).
pub const ENV_PLUGIN_PATH: &str = "ITERABLEDATA_PLUGIN_PATH";
/// The environment variable that disables every plugin when set to `1`.
pub const ENV_NO_PLUGINS: &str = "ITERABLEDATA_NO_PLUGINS";
/// The environment variable that moves the per-user directory
/// (`~/.iterabledata` by default).
pub const ENV_HOME: &str = "ITERABLEDATA_HOME";

/// The user's configuration. Every key is optional.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Extra plugin directories, searched after the command line and the
    /// environment, before `~/.iterabledata/plugins`.
    pub plugin_dirs: Vec<PathBuf>,
    /// Ids of built-in (or registered) providers that plugins may replace.
    pub allow_override: Vec<String>,
    /// Names of plugins not to use.
    pub disabled: Vec<String>,
    /// Which plugins may be loaded: `any` (default) or `hashed` (only those
    /// whose manifest pins the library's sha256).
    pub trust: Trust,
    /// Refuse plugin files and directories that group or others can write,
    /// or that belong to another user who is not root (default true).
    pub check_permissions: bool,
    /// Hooks that observe every run of the command line, by id (added to
    /// those given with `--hook`).
    pub hooks: Vec<String>,
    /// Run every plugin out of process, in a sandboxed runner (as
    /// `--isolate-plugins` and `ITERABLEDATA_ISOLATE=1`).
    pub isolate: bool,
    /// How long an isolated plugin may take to answer one call, in seconds
    /// (`0` for no limit; default 120).
    pub plugin_timeout: Option<f64>,
    /// The memory limit of each isolated plugin's runner (`512MiB`, `2GiB`).
    pub memory_limit: Option<String>,
    /// Settings of one plugin, by name: `[plugins.NAME]`.
    pub plugins: std::collections::BTreeMap<String, PluginConfig>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            plugin_dirs: Vec::new(),
            allow_override: Vec::new(),
            disabled: Vec::new(),
            trust: Trust::Any,
            check_permissions: true,
            hooks: Vec::new(),
            isolate: false,
            plugin_timeout: None,
            memory_limit: None,
            plugins: Default::default(),
        }
    }
}

impl Config {
    /// Reads a configuration file; a missing file is the default
    /// configuration, a broken one is an error naming the file.
    pub fn load(path: &Path) -> Result<Config, Error> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
            Err(e) => return Err(Error::io("cannot read the configuration", e).with_path(path)),
        };
        let mut cfg: Config = toml::from_str(&text).map_err(|e| {
            Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "invalid configuration: {}",
                    e.message().lines().next().unwrap_or("invalid TOML")
                ),
            )
            .with_path(path)
        })?;
        let bad = |what: String| {
            Error::new(
                ErrorKind::InvalidInput,
                format!("invalid configuration: {what}"),
            )
            .with_path(path)
        };
        let sizes = std::iter::once(("memory_limit".to_owned(), &cfg.memory_limit)).chain(
            cfg.plugins
                .iter()
                .map(|(n, p)| (format!("plugins.{n}.memory_limit"), &p.memory_limit)),
        );
        for (key, v) in sizes {
            if let Some(v) = v
                && crate::policy::parse_bytes(v).is_none()
            {
                return Err(bad(format!(
                    "{key} = {v:?} is not a size (say 512MiB or 2GiB)"
                )));
            }
        }
        let times = std::iter::once(("plugin_timeout".to_owned(), cfg.plugin_timeout)).chain(
            cfg.plugins
                .iter()
                .map(|(n, p)| (format!("plugins.{n}.timeout"), p.timeout)),
        );
        for (key, t) in times {
            if t.is_some_and(|t| !t.is_finite() || t < 0.0) {
                return Err(bad(format!("{key} must be a number of seconds, 0 or more")));
            }
        }
        // Relative plugin directories are relative to the file's directory.
        let base = path.parent().unwrap_or(Path::new("."));
        for d in &mut cfg.plugin_dirs {
            if d.is_relative() {
                *d = base.join(&*d);
            }
        }
        Ok(cfg)
    }
}

/// The per-user directory as the `iterable-host` command sees it:
/// `$ITERABLEDATA_HOME`, else `~/.iterabledata`.
pub fn user_dir() -> Option<PathBuf> {
    user_dir_with(true)
}

/// The per-user directory: `$ITERABLEDATA_HOME` when `environment` says the
/// `ITERABLEDATA_*` variables are read, else `~/.iterabledata`.
pub fn user_dir_with(environment: bool) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(ENV_HOME).filter(|p| environment && !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    dirs::home_dir().map(|h| h.join(".iterabledata"))
}

/// Where the scan cache lives: the user's cache directory.
pub fn default_cache_file() -> Option<PathBuf> {
    // One file per cache format: hosts of different releases on one
    // machine each keep their own, rather than discarding each other's.
    dirs::cache_dir().map(|c| c.join("iterabledata").join("plugin-scan-cache-v2.json"))
}

/// True when `ITERABLEDATA_NO_PLUGINS` asks for no plugins.
pub fn plugins_disabled_by_env() -> bool {
    std::env::var(ENV_NO_PLUGINS)
        .is_ok_and(|v| !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false"))
}

/// The directories in `ITERABLEDATA_PLUGIN_PATH`.
pub fn env_plugin_dirs() -> Vec<PathBuf> {
    std::env::var_os(ENV_PLUGIN_PATH)
        .map(|v| {
            std::env::split_paths(&v)
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// Where a plugin directory on the search path came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DirOrigin {
    /// Given in code or with `--plugin-dir`.
    Explicit,
    /// From `ITERABLEDATA_PLUGIN_PATH`.
    Environment,
    /// From `plugin_dirs` in the configuration.
    Config,
    /// `~/.iterabledata/plugins`.
    UserDefault,
}

impl std::fmt::Display for DirOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DirOrigin::Explicit => "explicit",
            DirOrigin::Environment => "environment",
            DirOrigin::Config => "config",
            DirOrigin::UserDefault => "user",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_parses_and_resolves_relative_dirs() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("config.toml");
        std::fs::write(
            &p,
            "plugin_dirs = [\"more\", \"/abs\"]\nallow_override = [\"csv\"]\n",
        )
        .unwrap();
        let c = Config::load(&p).unwrap();
        assert_eq!(
            c.plugin_dirs,
            [d.path().join("more"), PathBuf::from("/abs")]
        );
        assert_eq!(c.allow_override, ["csv"]);
        assert_eq!(
            Config::load(&d.path().join("none.toml")).unwrap(),
            Config::default()
        );
        std::fs::write(&p, "plugin_dirs = 3").unwrap();
        let e = Config::load(&p).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert!(e.to_string().contains("config.toml"));
    }
}
