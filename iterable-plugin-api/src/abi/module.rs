//! The root module every plugin library exports, and the ABI version.

// `PluginModule_Ref` (the name the spec fixes, following abi_stable's convention).
#![allow(non_camel_case_types)]

use abi_stable::library::RootModule;
use abi_stable::sabi_types::VersionStrings;
use abi_stable::std_types::{RResult, RVec};
use abi_stable::{StableAbi, declare_root_module_statics};

/// The version of the plugin ABI this crate speaks, `MAJOR.MINOR`.
///
/// It is a constant of its own, not the crate's package version: the SDK
/// may add helpers in any release without touching the wire. A plugin
/// reports it in [`PluginMetadata::api_version`]. A host loads plugins of
/// the same major and any minor; what a minor added is found at run time
/// (an optional symbol per capability), never assumed.
///
/// | ABI | added |
/// |---|---|
/// | 1.0 | the root module: formats, codecs, drivers, rules, engines |
/// | 1.1 | hooks, as the optional capability [`crate::abi::hooks`] |
pub const ABI_VERSION: &str = "1.1";
/// The major part of [`ABI_VERSION`]: plugins load only into hosts of the same major.
pub const ABI_MAJOR: u32 = 1;
/// The minor part of [`ABI_VERSION`].
pub const ABI_MINOR: u32 = 1;

use super::describe::PluginMetadata;
use super::error::RError;
use super::objects::{
    CodecProviderBox, DriverProviderBox, EngineProviderBox, FormatProviderBox, RuleProviderBox,
};

/// The one root module a plugin library exports (through [`crate::export_plugin!`]).
///
/// Each function may be called any number of times; each call builds fresh
/// provider objects. All of them are panic-guarded by the export macro.
#[repr(C)]
#[derive(StableAbi)]
// kind(Prefix): makes this a "prefix type": it is only ever handled through
// `PluginModule_Ref` (a pointer to a prefix of the struct plus field
// accessibility metadata), which lets later 1.x versions append fields.
#[sabi(kind(Prefix(prefix_ref = PluginModule_Ref)))]
// missing_field(panic): applies only to fields declared AFTER
// `last_prefix_field`, and there are none: abi_stable 0.11 refuses a plugin
// whose root module has fewer fields than the host's ("too many fields",
// measured), so no field is appended within 1.x (docs/abi-policy.md).
#[sabi(missing_field(panic))]
pub struct PluginModule {
    /// The plugin's metadata.
    pub metadata: extern "C" fn() -> RResult<PluginMetadata, RError>,
    /// The file formats this plugin provides.
    pub formats: extern "C" fn() -> RResult<RVec<FormatProviderBox>, RError>,
    /// The compression codecs this plugin provides.
    pub codecs: extern "C" fn() -> RResult<RVec<CodecProviderBox>, RError>,
    /// The database drivers this plugin provides.
    pub drivers: extern "C" fn() -> RResult<RVec<DriverProviderBox>, RError>,
    /// The validation rules this plugin provides.
    pub rules: extern "C" fn() -> RResult<RVec<RuleProviderBox>, RError>,
    /// The processing engines this plugin provides.
    // last_prefix_field: the last field of 1.0, and of every 1.x (see the
    // note on `missing_field` above); the attribute stays here until 2.0.
    #[sabi(last_prefix_field)]
    pub engines: extern "C" fn() -> RResult<RVec<EngineProviderBox>, RError>,
}

impl RootModule for PluginModule_Ref {
    // Declares the per-type statics abi_stable's loader uses (its
    // load_from_* cache; hosts should load per path with
    // `lib_header_from_path(..).init_root_module::<PluginModule_Ref>()` instead).
    declare_root_module_statics! {PluginModule_Ref}
    const BASE_NAME: &'static str = "iterable_plugin";
    const NAME: &'static str = "iterable_plugin";
    // The ABI version (not the package version), compared at load: the
    // major must be equal, any minor is accepted. The layout check also
    // compares the package version of the crate that defines each wire type
    // by its major only, so the SDK can release 1.x minors freely.
    const VERSION_STRINGS: VersionStrings = VersionStrings::new("1.1.0");
}
