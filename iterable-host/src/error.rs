//! How a plugin failed, in the host's terms, carried by the core's error.
//!
//! The core knows an error's origin and a failure class only as words; the
//! host names its classes ([`PluginErrorKind`]) and reads them back
//! ([`PluginErrorExt::plugin_kind`]).

use iterable_core::{Error, ErrorKind, Origin};

/// How a plugin failed. Tests and tools match on these exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PluginErrorKind {
    /// The file is not a loadable shared library.
    NotALibrary,
    /// The library does not export the plugin root symbol.
    MissingSymbol,
    /// The library was built against an incompatible layout of the plugin ABI.
    AbiMismatch,
    /// The library was built for another major version of the plugin API.
    VersionMismatch,
    /// The manifest is not valid TOML or lacks required keys.
    BadManifest,
    /// The manifest names a library file that does not exist.
    MissingLibrary,
    /// The plugin panicked; the panic was contained.
    Panic,
    /// The plugin crashed while being examined in a child process.
    Crashed,
    /// The library does not match the sha256 its manifest pins.
    HashMismatch,
    /// The file or its directory has unsafe permissions or ownership.
    Untrusted,
    /// The plugin provides something other than what its manifest declares.
    ManifestMismatch,
    /// The plugin returned an error from a call.
    CallFailed,
    /// The plugin handed over Arrow data that fails validation (C ABI).
    BadArrow,
    /// An isolated plugin's runner process died or stopped answering in
    /// the middle of a call (the message says which call and why).
    Died,
    /// The host could not examine the plugin: it has no scanner, or its
    /// scanner program did not act as one (an application run as its own
    /// scanner whose `main` does not call `run_scanner_if_requested`).
    /// The host's fault, not the plugin's: never kept in the scan cache.
    Scanner,
    /// Any other load failure.
    LoadFailed,
}

impl PluginErrorKind {
    /// A short stable name, used in listings and the scan cache.
    pub fn as_str(self) -> &'static str {
        match self {
            PluginErrorKind::NotALibrary => "not-a-library",
            PluginErrorKind::MissingSymbol => "missing-symbol",
            PluginErrorKind::AbiMismatch => "abi-mismatch",
            PluginErrorKind::VersionMismatch => "version-mismatch",
            PluginErrorKind::BadManifest => "bad-manifest",
            PluginErrorKind::MissingLibrary => "missing-library",
            PluginErrorKind::Panic => "panic",
            PluginErrorKind::Crashed => "crashed",
            PluginErrorKind::HashMismatch => "hash-mismatch",
            PluginErrorKind::Untrusted => "untrusted",
            PluginErrorKind::ManifestMismatch => "manifest-mismatch",
            PluginErrorKind::CallFailed => "call-failed",
            PluginErrorKind::BadArrow => "bad-arrow",
            PluginErrorKind::Died => "died",
            PluginErrorKind::Scanner => "scanner",
            PluginErrorKind::LoadFailed => "load-failed",
        }
    }

    /// The inverse of [`PluginErrorKind::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        use PluginErrorKind::*;
        [
            NotALibrary,
            MissingSymbol,
            AbiMismatch,
            VersionMismatch,
            BadManifest,
            MissingLibrary,
            Panic,
            Crashed,
            HashMismatch,
            Untrusted,
            ManifestMismatch,
            CallFailed,
            BadArrow,
            Died,
            Scanner,
            LoadFailed,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// Where a plugin's error comes from: `plugin 'NAME'`.
pub fn plugin_origin(name: impl Into<String>) -> Origin {
    Origin {
        kind: "plugin",
        name: name.into(),
    }
}

/// The plugin side of the core's [`Error`]: building an error of a plugin,
/// and reading back which plugin and how it failed.
pub trait PluginErrorExt: Sized {
    /// A plugin error of the given kind.
    fn plugin(kind: PluginErrorKind, plugin: impl Into<String>, message: impl Into<String>)
    -> Self;
    /// For a plugin's error, how the plugin failed.
    fn plugin_kind(&self) -> Option<PluginErrorKind>;
    /// The plugin involved, if any.
    fn plugin_name(&self) -> Option<&str>;
    /// Names the plugin, unless the error already says where it comes from.
    fn with_plugin(self, plugin: impl Into<String>) -> Self;
}

impl PluginErrorExt for Error {
    fn plugin(
        kind: PluginErrorKind,
        plugin: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Error::provider(kind.as_str(), plugin_origin(plugin), message)
    }
    fn plugin_kind(&self) -> Option<PluginErrorKind> {
        match self.kind() {
            ErrorKind::Provider => self.failure().and_then(PluginErrorKind::parse),
            _ => None,
        }
    }
    fn plugin_name(&self) -> Option<&str> {
        self.origin()
            .filter(|o| o.kind == "plugin")
            .map(|o| o.name.as_str())
    }
    fn with_plugin(self, plugin: impl Into<String>) -> Self {
        self.with_origin(plugin_origin(plugin))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_kind_names_round_trip() {
        for k in [
            PluginErrorKind::NotALibrary,
            PluginErrorKind::Crashed,
            PluginErrorKind::LoadFailed,
        ] {
            assert_eq!(PluginErrorKind::parse(k.as_str()), Some(k));
        }
    }

    #[test]
    fn a_plugin_error_says_which_plugin_and_how() {
        let e = Error::plugin(PluginErrorKind::AbiMismatch, "ltsv", "types differ");
        assert_eq!(e.to_string(), "plugin 'ltsv': types differ");
        assert_eq!(e.plugin_kind(), Some(PluginErrorKind::AbiMismatch));
        assert_eq!(e.plugin_name(), Some("ltsv"));
        assert_eq!(e.kind(), ErrorKind::Provider);
    }
}
