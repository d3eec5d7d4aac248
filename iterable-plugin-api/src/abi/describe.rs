//! What a plugin says about itself and its providers, and the options
//! handed to them.

use abi_stable::StableAbi;
use abi_stable::std_types::{ROption, RString, RVec, Tuple2};

/// Key/value options passed to providers, in the order the user gave them.
pub type ROptions = RVec<Tuple2<RString, RString>>;

/// Extra key/value pairs every description carries for keys added after 1.0.
pub type RExtra = RVec<Tuple2<RString, RString>>;

// All description structs below: repr(C) (C layout) + derive(StableAbi)
// (layout recorded and compared at load). They are frozen for 1.x; new keys
// go into `extra`.

/// One option a format accepts.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq, Default)]
pub struct OptionSpec {
    /// The option key.
    pub name: RString,
    /// One line for `list-plugins` / help output.
    pub description: RString,
    /// Allowed values; empty means free text.
    pub choices: RVec<RString>,
    /// The value used when the option is not given.
    pub default: ROption<RString>,
}

/// What a format provider declares about itself.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq, Default)]
pub struct FormatInfo {
    /// The format id (`"ltsv"`), unique among formats.
    pub id: RString,
    /// One line of description.
    pub description: RString,
    /// File extensions without the dot (`"ltsv"`), used for detection by name.
    pub extensions: RVec<RString>,
    /// Byte prefixes a file of this format starts with, used for content sniffing.
    pub magic: RVec<RVec<u8>>,
    /// Whether `open_reader` is implemented.
    pub can_read: bool,
    /// Whether `open_writer` is implemented.
    pub can_write: bool,
    /// The options the reader/writer accept.
    pub options: RVec<OptionSpec>,
    /// Future keys.
    pub extra: RExtra,
}

/// What a codec provider declares about itself.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq, Default)]
pub struct CodecInfo {
    /// The codec id (`"zstd"`).
    pub id: RString,
    /// One line of description.
    pub description: RString,
    /// File extensions without the dot (`"zst"`).
    pub extensions: RVec<RString>,
    /// Byte prefixes of compressed streams, for sniffing.
    pub magic: RVec<RVec<u8>>,
    /// Lowest accepted compression level.
    pub level_min: i32,
    /// Highest accepted compression level.
    pub level_max: i32,
    /// Level used when none is given.
    pub level_default: i32,
    /// Future keys.
    pub extra: RExtra,
}

/// What a database driver declares about itself.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq, Default)]
pub struct DriverInfo {
    /// The driver id (`"sqlite"`).
    pub id: RString,
    /// One line of description.
    pub description: RString,
    /// URI schemes handled (`"sqlite"` for `sqlite://...`).
    pub schemes: RVec<RString>,
    /// Future keys.
    pub extra: RExtra,
}

/// What a validation rule declares about itself.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq, Default)]
pub struct RuleInfo {
    /// The rule name (`"common.email"`).
    pub name: RString,
    /// One line of description.
    pub description: RString,
    /// Future keys.
    pub extra: RExtra,
}

/// What a processing engine declares about itself.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq, Default)]
pub struct EngineInfo {
    /// The engine id (`"sql"`).
    pub id: RString,
    /// One line of description.
    pub description: RString,
    /// Future keys.
    pub extra: RExtra,
}

/// The plugin's self-description.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq, Default)]
pub struct PluginMetadata {
    /// Plugin name.
    pub name: RString,
    /// Plugin version (the plugin's own package version).
    pub version: RString,
    /// The `iterable-plugin-api` version the plugin was built against ([`crate::API_VERSION`]).
    pub api_version: RString,
    /// One line of description.
    pub description: RString,
    /// Author(s).
    pub author: RString,
    /// License expression.
    pub license: RString,
    /// Homepage URL.
    pub homepage: RString,
    /// Names of other plugins this one needs.
    pub dependencies: RVec<RString>,
    /// Future keys.
    pub extra: RExtra,
}

/// Builds [`ROptions`] from key/value pairs (order kept).
pub fn roptions<K: AsRef<str>, V: AsRef<str>>(pairs: impl IntoIterator<Item = (K, V)>) -> ROptions {
    pairs
        .into_iter()
        .map(|(k, v)| Tuple2(RString::from(k.as_ref()), RString::from(v.as_ref())))
        .collect()
}

/// Converts [`ROptions`] to owned pairs.
pub fn options_to_vec(options: &ROptions) -> Vec<(String, String)> {
    options
        .iter()
        .map(|p| (p.0.to_string(), p.1.to_string()))
        .collect()
}
