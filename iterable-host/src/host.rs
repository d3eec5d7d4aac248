//! [`Host`]: the registry every command opens data through, and the
//! plugins found on the search path.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use iterable_core::{OpenOptions, Reader, Registry, Result, Writer};

use crate::catalog::config::DirOrigin;
use crate::catalog::discovery;
use crate::catalog::manifest::Manifest;
use crate::plugin::Plugin;
use crate::scan::{self, Scanner};

/// A configured host: the registry every command opens data through, and
/// the plugins found on the search path.
#[derive(Clone)]
pub struct Host {
    pub(crate) registry: Registry,
    pub(crate) plugins: Vec<Arc<Plugin>>,
    pub(crate) search: Vec<(PathBuf, DirOrigin)>,
    pub(crate) hooks: Vec<String>,
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

/// The first thing an application's `main` does when it lets the host run
/// its own executable as the plugin scanner
/// ([`HostBuilder::scan_with_current_exe`]): when this process was started
/// as a scanner, it examines the library it was given, prints the report
/// and exits; started as an isolated plugin's runner, it serves that
/// plugin's calls and exits; otherwise it returns at once.
pub fn run_scanner_if_requested() {
    let mut args = std::env::args_os().skip(1);
    if args.next().is_some_and(|a| a == scan::SCAN_ARG) {
        std::process::exit(run_as_child(args).unwrap_or(2));
    }
}

/// Runs this process as the host's child that `rest` asks for (the
/// arguments after the program's own leading ones: `LIBRARY` to examine a
/// library, `--serve SPEC` to serve an isolated plugin) and returns its exit
/// status; `None`, having done nothing, when `rest` is not a child's
/// command line. The scanner programs call it; an application uses
/// [`run_scanner_if_requested`].
pub fn run_as_child(rest: impl IntoIterator<Item = std::ffi::OsString>) -> Option<i32> {
    Some(match crate::proc::role(rest)? {
        crate::proc::Role::Scan(lib) => scan::scanner_main(&lib),
        crate::proc::Role::Serve(spec) => crate::runner::serve(&spec),
    })
}
