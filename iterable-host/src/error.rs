//! How a plugin failed, in the host's terms, carried by the core's error.
//!
//! The core knows an error's origin and a failure class only as words; the
//! host names its classes ([`PluginErrorKind`]) and reads them back
//! ([`PluginErrorExt::plugin_kind`]).

use iterable_core::{Error, ErrorKind, Origin};

/// Declares [`PluginErrorKind`] and its stable names from one table (the
/// name is written once; listings, the scan cache, the scanner's report and
/// the runners' wire all carry it).
macro_rules! plugin_error_kinds {
    ($($(#[$doc:meta])* $kind:ident = $name:literal,)*) => {
        /// How a plugin failed. Tests and tools match on these exactly.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum PluginErrorKind {
            $($(#[$doc])* $kind,)*
        }

        impl PluginErrorKind {
            /// Every kind, in declaration order.
            pub const ALL: &'static [PluginErrorKind] = &[$(PluginErrorKind::$kind),*];

            /// A short stable name, used in listings and the scan cache.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(PluginErrorKind::$kind => $name,)*
                }
            }

            /// The inverse of [`PluginErrorKind::as_str`].
            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $($name => Some(PluginErrorKind::$kind),)*
                    _ => None,
                }
            }
        }
    };
}

plugin_error_kinds! {
    /// The file is not a loadable shared library.
    NotALibrary = "not-a-library",
    /// The library does not export the plugin root symbol.
    MissingSymbol = "missing-symbol",
    /// The library was built against an incompatible layout of the plugin ABI.
    AbiMismatch = "abi-mismatch",
    /// The library was built for another major version of the plugin API.
    VersionMismatch = "version-mismatch",
    /// The manifest is not valid TOML or lacks required keys.
    BadManifest = "bad-manifest",
    /// The manifest names a library file that does not exist.
    MissingLibrary = "missing-library",
    /// The plugin panicked; the panic was contained.
    Panic = "panic",
    /// The plugin crashed while being examined in a child process.
    Crashed = "crashed",
    /// The library does not match the sha256 its manifest pins.
    HashMismatch = "hash-mismatch",
    /// The file or its directory has unsafe permissions or ownership.
    Untrusted = "untrusted",
    /// The plugin provides something other than what its manifest declares.
    ManifestMismatch = "manifest-mismatch",
    /// The plugin returned an error from a call.
    CallFailed = "call-failed",
    /// The plugin handed over Arrow data that fails validation (C ABI).
    BadArrow = "bad-arrow",
    /// An isolated plugin's runner process died or stopped answering in
    /// the middle of a call (the message says which call and why).
    Died = "died",
    /// The host could not examine the plugin: it has no scanner, or its
    /// scanner program did not act as one (an application run as its own
    /// scanner whose `main` does not call `run_scanner_if_requested`).
    /// The host's fault, not the plugin's: never kept in the scan cache.
    Scanner = "scanner",
    /// Any other load failure.
    LoadFailed = "load-failed",
}

impl std::fmt::Display for PluginErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for PluginErrorKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A name this version does not know is the newer peer's: it reads as
/// [`PluginErrorKind::LoadFailed`] (the message still says what happened).
impl<'de> serde::Deserialize<'de> for PluginErrorKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Ok(PluginErrorKind::parse(&name).unwrap_or(PluginErrorKind::LoadFailed))
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
        for &k in PluginErrorKind::ALL {
            assert_eq!(PluginErrorKind::parse(k.as_str()), Some(k));
            let json = serde_json::to_string(&k).unwrap();
            assert_eq!(json, format!("\"{}\"", k.as_str()));
            assert_eq!(serde_json::from_str::<PluginErrorKind>(&json).unwrap(), k);
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
