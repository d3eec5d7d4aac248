//! Loading one plugin library, with every failure classified.
//!
//! This is the only module that touches abi_stable's loader, so another
//! stable-ABI layer could replace it. Each file is loaded on its own
//! (`lib_header_from_path` + `init_root_module`), never through abi_stable's
//! per-type cache, which would hand back the first plugin for every path.
//! Libraries are never unloaded: restart the process to reload a plugin.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use iterable_core::Error;
use iterable_plugin_api::abi::capability::{CAPABILITY_MAGIC, CapabilityHeader};
use iterable_plugin_api::abi::files::{FILES_SYMBOL, FilesModule_Ref, PathFormatBox};
use iterable_plugin_api::abi::hooks::{HOOKS_SYMBOL, HooksModule_Ref};
use iterable_plugin_api::abi_stable::StableAbi;
use iterable_plugin_api::abi_stable::abi_stability::abi_checking::check_layout_compatibility;
use iterable_plugin_api::abi_stable::library::{
    LibraryError, RootModuleError, lib_header_from_path,
};
use iterable_plugin_api::abi_stable::std_types::RResult;
use iterable_plugin_api::{
    ABI_MAJOR, ABI_VERSION, CodecProviderBox, DriverProviderBox, EngineProviderBox,
    FormatProviderBox, HookProviderBox, PluginModule_Ref, RError, RuleProviderBox,
};

use crate::catalog::manifest::{Abi, Manifest, PluginSection};
use crate::convert;
use crate::error::{PluginErrorExt, PluginErrorKind};

/// A library's hooks, each with its description.
pub type Hooks = Vec<(iterable_core::HookInfo, HookProviderBox)>;

/// A loaded plugin library and the providers it made.
pub struct Library {
    /// The library file.
    pub path: PathBuf,
    /// Its self-description, in manifest form.
    pub description: Manifest,
    /// Its providers, in the flavour of ABI it speaks.
    pub(crate) flavour: Flavour,
    /// The name it goes by, for errors.
    name: String,
    /// Whether it knows the registered extension types (dates, times,
    /// timestamps, decimals): ABI 1.1 or later, or any C plugin (Arrow
    /// carries them).
    pub typed: bool,
    /// For a plugin that runs out of process, what its runner's sandbox
    /// could do (as the first runner reported it).
    pub sandbox: Option<crate::policy::SandboxReport>,
}

/// How a library's providers are reached: through abi_stable's objects,
/// bridged by the adapters (Rust plugins), or as objects that implement the
/// core's traits themselves (C plugins, ADBC drivers).
pub(crate) enum Flavour {
    /// A library built with `export_plugin!`.
    Rust(RustLib),
    /// A C plugin (`iterabledata_plugin_entry`) or an ADBC driver.
    Native(crate::cabi::Native),
}

/// A Rust plugin's providers, in the order it lists them.
pub(crate) struct RustLib {
    pub formats: Vec<FormatProviderBox>,
    pub codecs: Vec<CodecProviderBox>,
    pub drivers: Vec<DriverProviderBox>,
    pub rules: Vec<RuleProviderBox>,
    pub engines: Vec<EngineProviderBox>,
    /// Its hooks, looked up the first time they are asked for (the
    /// capability's layout check costs more than the rest of a load);
    /// `None` when the library predates hooks (ABI 1.0).
    hooks: std::sync::OnceLock<Result<Option<Hooks>, (PluginErrorKind, String)>>,
    /// Its formats that read files by path (the files capability, 1.1),
    /// looked up the first time one is asked for; empty without it.
    path_formats: std::sync::OnceLock<Vec<PathFormatBox>>,
}

impl std::fmt::Debug for Library {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Library")
            .field("path", &self.path)
            .field("name", &self.description.plugin.name)
            .finish()
    }
}

/// Runs a call into a plugin (see [`convert::call`]). An error the plugin
/// returns is prefixed with what the call was; a panic that escaped its
/// guard says so already ("panicked while listing formats").
fn guarded<T>(
    plugin: &str,
    what: &str,
    f: impl FnOnce() -> RResult<T, RError>,
) -> Result<T, Error> {
    convert::call(plugin, what, || {
        f().map_err(|mut e| {
            e.message = format!("{what}: {}", e.message).into();
            e
        })
    })
}

/// Loads the library at `path`. `name` names the plugin in errors until the
/// library says its own name.
pub fn load(path: &Path, name: &str) -> Result<Library, Error> {
    // dlopen searches the system's library path for a name without a slash;
    // a plugin file is always meant as a path.
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let path = absolute.as_path();
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => {}
        Ok(_) => {
            return Err(Error::plugin(
                PluginErrorKind::MissingLibrary,
                name,
                format!("{} is not a regular file", path.display()),
            ));
        }
        Err(e) => {
            return Err(Error::plugin(
                PluginErrorKind::MissingLibrary,
                name,
                format!("library {} cannot be read: {e}", path.display()),
            ));
        }
    }
    tracing::debug!(plugin = name, path = %path.display(), "loading plugin library");
    let file_name = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    // SAFETY: loading a plugin runs its initialisers; that is what a plugin
    // is trusted to do once it passed discovery's checks (the scan runs
    // it in a child process first). Libraries are never unloaded.
    let opened = unsafe { libloading::Library::new(path) }.map_err(|e| {
        Error::plugin(
            PluginErrorKind::NotALibrary,
            name,
            format!(
                "{} is not a loadable library: {}",
                path.display(),
                first_line(&e.to_string()).replace(&format!("{}: ", path.display()), "")
            ),
        )
    })?;
    let opened: &'static libloading::Library = Box::leak(Box::new(opened));
    if let Some(entry) = crate::cabi::entry(opened) {
        let (description, lib) = crate::cabi::load(entry, name, &file_name)?;
        return Ok(native(path, description, lib));
    }
    load_rust(path, name, file_name)
}

/// A library made of providers that stand behind the core's traits
/// themselves (a C plugin's, an ADBC driver), described by `description`.
pub(crate) fn native(
    path: &Path,
    description: Manifest,
    providers: crate::cabi::Native,
) -> Library {
    Library {
        path: path.to_path_buf(),
        name: description.plugin.name.clone(),
        description,
        flavour: Flavour::Native(providers),
        typed: true,
        sandbox: None,
    }
}

/// Loads a Rust (abi_stable) plugin library.
fn load_rust(path: &Path, name: &str, file_name: String) -> Result<Library, Error> {
    let module = match catch_unwind(AssertUnwindSafe(|| load_module(path))) {
        Ok(Ok(m)) => m,
        Ok(Err(e)) => return Err(classify(&e, name, path)),
        Err(_) => {
            return Err(Error::plugin(
                PluginErrorKind::Panic,
                name,
                "the plugin panicked while initialising",
            ));
        }
    };
    let meta = guarded(name, "reading metadata", || (module.metadata())())?;
    let real_name = if meta.name.is_empty() {
        name.to_owned()
    } else {
        meta.name.to_string()
    };
    let name = real_name.as_str();
    check_api_version(&meta.api_version, name)?;
    let formats: Vec<_> = guarded(name, "listing formats", || (module.formats())())?
        .into_iter()
        .map(|p| (convert::format_info(&p.info()), p))
        .collect();
    let codecs: Vec<_> = guarded(name, "listing codecs", || (module.codecs())())?
        .into_iter()
        .map(|p| (convert::codec_info(&p.info()), p))
        .collect();
    let drivers: Vec<_> = guarded(name, "listing drivers", || (module.drivers())())?
        .into_iter()
        .map(|p| (convert::driver_info(&p.info()), p))
        .collect();
    let rules: Vec<_> = guarded(name, "listing rules", || (module.rules())())?
        .into_iter()
        .map(|p| (convert::rule_info(&p.info()), p))
        .collect();
    let engines: Vec<_> = guarded(name, "listing engines", || (module.engines())())?
        .into_iter()
        .map(|p| (convert::engine_info(&p.info()), p))
        .collect();
    let description = Manifest {
        plugin: PluginSection {
            name: name.to_owned(),
            version: meta.version.to_string(),
            api_version: meta.api_version.to_string(),
            library: file_name,
            description: meta.description.to_string(),
            author: meta.author.to_string(),
            license: meta.license.to_string(),
            homepage: meta.homepage.to_string(),
            dependencies: meta.dependencies.iter().map(|d| d.to_string()).collect(),
            sha256: None,
            abi: Abi::Rust,
            isolation: None,
        },
        formats: formats.iter().map(|(i, _)| i.clone()).collect(),
        codecs: codecs.iter().map(|(i, _)| i.clone()).collect(),
        drivers: drivers.iter().map(|(i, _)| i.clone()).collect(),
        rules: rules.iter().map(|(i, _)| i.clone()).collect(),
        engines: engines.iter().map(|(i, _)| i.clone()).collect(),
        // Filled in by `Library::description_with_hooks`.
        hooks: Vec::new(),
        adbc: None,
    };
    tracing::debug!(plugin = name, "plugin library loaded");
    Ok(Library {
        path: path.to_path_buf(),
        description,
        flavour: Flavour::Rust(RustLib {
            formats: formats.into_iter().map(|(_, p)| p).collect(),
            codecs: codecs.into_iter().map(|(_, p)| p).collect(),
            drivers: drivers.into_iter().map(|(_, p)| p).collect(),
            rules: rules.into_iter().map(|(_, p)| p).collect(),
            engines: engines.into_iter().map(|(_, p)| p).collect(),
            hooks: std::sync::OnceLock::new(),
            path_formats: std::sync::OnceLock::new(),
        }),
        sandbox: None,
        name: name.to_owned(),
        typed: parse_api_version(&meta.api_version).is_some_and(|v| v >= (1, 1)),
    })
}

impl Library {
    /// The library's hooks, as Rust providers (looked up once): `None` when
    /// it predates them or is a C plugin.
    pub fn hooks(&self) -> Result<Option<&Hooks>, Error> {
        let Flavour::Rust(rust) = &self.flavour else {
            return Ok(None);
        };
        let found = rust.hooks.get_or_init(|| {
            let look = || -> Result<Option<Hooks>, Error> {
                match capability::<HooksModule_Ref>(&self.path, HOOKS_SYMBOL, &self.name)? {
                    None => Ok(None),
                    Some(module) => Ok(Some(
                        guarded(&self.name, "listing hooks", || (module.hooks())())?
                            .into_iter()
                            .map(|p| (convert::hook_info(&p.info()), p))
                            .collect(),
                    )),
                }
            };
            look().map_err(|e| {
                (
                    e.plugin_kind().unwrap_or(PluginErrorKind::LoadFailed),
                    e.message().to_owned(),
                )
            })
        });
        match found {
            Ok(h) => Ok(h.as_ref()),
            Err((kind, message)) => Err(Error::plugin(*kind, &self.name, message.clone())),
        }
    }

    /// The file-path entry points of its format `id`, if it has them (the
    /// files capability). A library without the capability, or whose
    /// capability fails, has none: the host streams its files, as in 1.0.
    pub fn path_format(&self, id: &str) -> Option<&PathFormatBox> {
        let Flavour::Rust(rust) = &self.flavour else {
            return None;
        };
        let all = rust.path_formats.get_or_init(|| {
            let look = || -> Result<Vec<PathFormatBox>, Error> {
                match capability::<FilesModule_Ref>(&self.path, FILES_SYMBOL, &self.name)? {
                    None => Ok(Vec::new()),
                    Some(module) => Ok(guarded(&self.name, "listing file formats", || {
                        (module.formats())()
                    })?
                    .into_iter()
                    .collect()),
                }
            };
            look().unwrap_or_else(|e| {
                tracing::warn!(plugin = %self.name, error = %e, "files capability unusable; streaming instead");
                Vec::new()
            })
        });
        all.iter().find(|p| p.id().as_str() == id)
    }

    /// Which ABI it speaks.
    pub fn abi(&self) -> Abi {
        match self.flavour {
            Flavour::Rust(_) => Abi::Rust,
            Flavour::Native(_) => self.description.plugin.abi,
        }
    }

    /// The descriptions of its hooks.
    pub fn hook_infos(&self) -> Result<Vec<&iterable_core::HookInfo>, Error> {
        match &self.flavour {
            Flavour::Native(_) => Ok(self.description.hooks.iter().collect()),
            Flavour::Rust(_) => Ok(self
                .hooks()?
                .into_iter()
                .flatten()
                .map(|(i, _)| i)
                .collect()),
        }
    }

    /// Its whole self-description, hooks included.
    pub fn description_with_hooks(&self) -> Result<Manifest, Error> {
        if let Flavour::Native(_) = self.flavour {
            return Ok(self.description.clone());
        }
        let mut d = self.description.clone();
        d.hooks = self
            .hooks()?
            .into_iter()
            .flatten()
            .map(|(i, _)| i.clone())
            .collect();
        Ok(d)
    }
}

/// Loads the plugin library at `path` and returns its root module; abi_stable
/// checks the ABI version (same major) and the layout of every type
/// reachable from the root module. Loads per path (never through
/// abi_stable's per-type `load_from_*` cache, which returns the first module
/// for every path); loading the same path twice returns the same module.
/// Libraries are never unloaded (restart to reload).
fn load_module(path: &Path) -> Result<PluginModule_Ref, LibraryError> {
    lib_header_from_path(path).and_then(|header| header.init_root_module::<PluginModule_Ref>())
}

/// Parses `"MAJOR.MINOR[.PATCH...]"` into `(major, minor)`.
pub fn parse_api_version(version: &str) -> Option<(u32, u32)> {
    let mut parts = version.trim().split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// Checks the ABI version a plugin reports against this host's: the major
/// must be equal, any minor loads (what a minor added is looked up, never
/// assumed). The error says both versions and what to do.
pub fn check_api_version(plugin_api_version: &str, name: &str) -> Result<(), Error> {
    let mismatch = |msg: String| Error::plugin(PluginErrorKind::VersionMismatch, name, msg);
    let Some((major, _minor)) = parse_api_version(plugin_api_version) else {
        return Err(mismatch(format!(
            "invalid plugin API version `{plugin_api_version}`"
        )));
    };
    if major != ABI_MAJOR {
        return Err(mismatch(format!(
            "plugin built for plugin API {plugin_api_version}, this host provides {ABI_VERSION} \
             (major versions differ); rebuild the plugin against iterable-plugin-api {ABI_MAJOR}.x"
        )));
    }
    Ok(())
}

/// Looks up the optional capability `symbol` of the library at `path`
/// (already loaded) and returns its module, after checking the header and
/// the layout of `M` against this host's. `Ok(None)`: the library does not
/// export it (built for an older minor), which is not an error.
fn capability<M: StableAbi + Copy + 'static>(
    path: &Path,
    symbol: &str,
    name: &str,
) -> Result<Option<M>, Error> {
    let mismatch = |what: String| {
        Error::plugin(
            PluginErrorKind::AbiMismatch,
            name,
            format!(
                "ABI mismatch in its capability {symbol}: {what}; rebuild it against iterable-plugin-api {ABI_MAJOR}.x"
            ),
        )
    };
    // SAFETY: the library is already loaded and initialised (by
    // abi_stable, which never unloads it); this only takes another
    // reference to it, which is leaked below for the same reason.
    let lib = unsafe { libloading::Library::new(path) }.map_err(|e| {
        Error::plugin(
            PluginErrorKind::LoadFailed,
            name,
            format!("cannot look up {symbol}: {e}"),
        )
    })?;
    let lib: &'static libloading::Library = Box::leak(Box::new(lib));
    // SAFETY: a symbol of this name is, by the plugin ABI's definition, a
    // static `CapabilityHeader<M>`; its magic is checked before anything
    // else is read, and `M`'s layout before `module` is called.
    let header: &'static CapabilityHeader<M> = unsafe {
        match lib.get::<*const CapabilityHeader<M>>(symbol.as_bytes()) {
            Ok(sym) => match (*sym).as_ref() {
                Some(h) => h,
                None => return Err(mismatch("the symbol is null".into())),
            },
            Err(_) => return Ok(None),
        }
    };
    if header.magic != CAPABILITY_MAGIC {
        return Err(mismatch("it is not a capability header".into()));
    }
    if header.abi_major != ABI_MAJOR {
        return Err(mismatch(format!(
            "built for ABI {}.{}, this host has {ABI_VERSION}",
            header.abi_major, header.abi_minor
        )));
    }
    if let Err(e) = check_layout_compatibility(<M as StableAbi>::LAYOUT, header.layout) {
        let summary = summarize_load_error(&e.to_string());
        let what = summary
            .lines()
            .map(str::trim)
            .find(|l| l.starts_with("Error:"))
            .map(|l| l.trim_start_matches("Error:").trim().to_owned())
            .unwrap_or_else(|| "the type layouts differ".into());
        return Err(mismatch(what));
    }
    match catch_unwind(|| (header.module)()) {
        Ok(m) => Ok(Some(m)),
        Err(_) => Err(Error::plugin(
            PluginErrorKind::Panic,
            name,
            format!("the plugin panicked while initialising {symbol}"),
        )),
    }
}

/// Shortens abi_stable's load-error text (a layout mismatch prints hundreds
/// of lines): keeps each line starting with `Error:` plus the 3 after it,
/// or else the first 5 lines; at most 40 lines.
pub fn summarize_load_error(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut keep: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim_start().starts_with("Error:") {
            keep.extend(lines[i..(i + 4).min(lines.len())].iter().copied());
            i += 4;
        } else {
            i += 1;
        }
    }
    if keep.is_empty() {
        keep = lines.iter().take(5).copied().collect();
    }
    keep.truncate(40);
    keep.join("\n")
}

/// Turns abi_stable's load error into a short, classified one. A layout
/// mismatch prints hundreds of lines; only its first `Error:` line is kept.
fn classify(e: &LibraryError, name: &str, path: &Path) -> Error {
    let rebuild = format!("rebuild it against iterable-plugin-api {ABI_MAJOR}.x");
    let (kind, msg) = match e {
        LibraryError::OpenError { err, .. } => (
            PluginErrorKind::NotALibrary,
            format!(
                "{} is not a loadable library: {}",
                path.display(),
                first_line(&err.to_string()).replace(&format!("{}: ", path.display()), "")
            ),
        ),
        LibraryError::GetSymbolError { .. } => (
            PluginErrorKind::MissingSymbol,
            format!(
                "{} is a library but not an IterableData plugin: it exports no plugin root module (use export_plugin!) and no {} (the C ABI)",
                path.display(),
                iterable_plugin_api::c::C_ENTRY_SYMBOL
            ),
        ),
        LibraryError::IncompatibleVersionNumber {
            expected_version,
            actual_version,
            ..
        } => (
            PluginErrorKind::VersionMismatch,
            format!(
                "built against iterable-plugin-api {actual_version}, this host has {expected_version}; {rebuild}"
            ),
        ),
        LibraryError::ParseVersionError(v) => (
            PluginErrorKind::VersionMismatch,
            format!("its plugin API version cannot be read ({v}); {rebuild}"),
        ),
        LibraryError::RootModule {
            err: RootModuleError::Unwound,
            ..
        } => (
            PluginErrorKind::Panic,
            "the plugin panicked while initialising".to_owned(),
        ),
        LibraryError::RootModule {
            err: RootModuleError::Returned(err),
            ..
        } => (
            PluginErrorKind::LoadFailed,
            format!("initialisation failed: {}", first_line(&err.to_string())),
        ),
        LibraryError::AbiInstability(err) => {
            let summary = summarize_load_error(&err.to_string());
            let what = summary
                .lines()
                .map(str::trim)
                .find(|l| l.starts_with("Error:"))
                .map(|l| l.trim_start_matches("Error:").trim().to_owned())
                .unwrap_or_else(|| "the type layouts differ".into());
            (
                PluginErrorKind::AbiMismatch,
                format!(
                    "ABI mismatch: its iterable-plugin-api types differ from this host's ({ABI_VERSION}): {what}; {rebuild}"
                ),
            )
        }
        LibraryError::InvalidAbiHeader(h) => (
            PluginErrorKind::AbiMismatch,
            format!("ABI mismatch: built with an incompatible abi_stable ({h:?}); {rebuild}"),
        ),
        LibraryError::InvalidCAbi { .. } => (
            PluginErrorKind::AbiMismatch,
            format!("ABI mismatch: built with an incompatible C ABI; {rebuild}"),
        ),
        LibraryError::Many(errs) => match errs.first() {
            Some(first) => return classify(first, name, path),
            None => (PluginErrorKind::LoadFailed, "load failed".to_owned()),
        },
    };
    Error::plugin(kind, name, msg)
}

fn first_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_versions() {
        assert!(check_api_version("1.0.0", "p").is_ok());
        assert!(check_api_version("1.7.2", "p").is_ok());
        let e = check_api_version("2.0.0", "p").unwrap_err();
        assert_eq!(e.plugin_kind(), Some(PluginErrorKind::VersionMismatch));
        assert!(e.to_string().contains("2.0.0") && e.to_string().contains(ABI_VERSION));
        assert!(check_api_version("x", "p").is_err());
        assert_eq!(parse_api_version("1.2.3"), Some((1, 2)));
    }

    #[test]
    fn summarize() {
        let text = "noise\nmore\nError: field `x` differs\n expected a\n found b\n detail\n zzz\n";
        let s = summarize_load_error(text);
        assert!(s.starts_with("Error: field `x` differs"));
        assert!(!s.contains("zzz") && s.contains("detail"));
        assert_eq!(summarize_load_error("a\nb"), "a\nb");
    }

    #[test]
    fn garbage_is_not_a_library_and_missing_is_missing() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("libjunk.so");
        std::fs::write(&p, b"this is not an ELF file").unwrap();
        let e = load(&p, "junk").unwrap_err();
        assert_eq!(e.plugin_kind(), Some(PluginErrorKind::NotALibrary), "{e}");
        assert!(e.to_string().starts_with("plugin 'junk': "), "{e}");
        let e = load(&d.path().join("libnone.so"), "none").unwrap_err();
        assert_eq!(
            e.plugin_kind(),
            Some(PluginErrorKind::MissingLibrary),
            "{e}"
        );
    }
}
