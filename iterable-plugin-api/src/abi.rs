//! The wire level: every type that crosses the plugin boundary.
//!
//! Everything here is `#[repr(C)]` + `#[derive(StableAbi)]` (or a
//! `#[sabi_trait]` object), and is frozen for the whole 1.x series except
//! where a comment says a type may grow at its end. See `docs/abi-policy.md`.
//!
//! Plugin authors normally never touch this module: they implement the
//! traits in [`crate::author`] and call [`crate::export_plugin!`]. Hosts use
//! it together with [`crate::host`].

// `PluginModule_Ref` (the name the spec fixes, following abi_stable's convention).
#![allow(non_camel_case_types)]

use abi_stable::library::RootModule;
use abi_stable::sabi_trait;
use abi_stable::sabi_types::VersionStrings;
use abi_stable::std_types::{
    RBox, ROption, RResult, RSlice, RSliceMut, RStr, RString, RVec, Tuple2,
};
use abi_stable::{StableAbi, declare_root_module_statics, package_version_strings};

use crate::batch::RBatch;
use crate::error::RError;

// ---------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------

/// A self-describing value, used for the nested cells of a batch
/// ([`crate::batch::tag::NESTED`]) — lists, maps and extension values.
/// Scalars normally travel as flat tagged cells instead.
///
/// The variant set is frozen for 1.x: `abi_stable` rejects a peer whose enum
/// has a different number of variants, and `NonExhaustive` enums only help a
/// newer plugin in an older host (the wrong direction). New value types
/// therefore arrive through [`RValue::Ext`].
// `repr(C, u8)`: a C-compatible tagged union with a one-byte discriminant,
// required by `StableAbi` for data-carrying enums.
#[repr(C, u8)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
pub enum RValue {
    /// An explicit null.
    Null,
    /// A boolean.
    Bool(bool),
    /// A signed 64-bit integer.
    Int(i64),
    /// A 64-bit float.
    Float(f64),
    /// A UTF-8 string.
    Str(RString),
    /// Raw bytes.
    Bytes(RVec<u8>),
    /// An ordered list.
    List(RVec<RValue>),
    /// An ordered map (key order is kept; duplicate keys are allowed on the wire).
    Map(RVec<Tuple2<RString, RValue>>),
    /// The reserved extension variant: a type name (e.g. `"decimal"`,
    /// `"timestamp"`) and its payload. Peers that do not know the type name
    /// must pass it through or treat it as opaque bytes.
    Ext(RString, RVec<u8>),
}

impl RValue {
    /// Builds an [`RValue::Ext`].
    pub fn ext(type_name: &str, payload: &[u8]) -> Self {
        RValue::Ext(type_name.into(), RVec::from_slice(payload))
    }
    /// Builds an [`RValue::Map`] from pairs.
    pub fn map<K: Into<String>>(pairs: impl IntoIterator<Item = (K, RValue)>) -> Self {
        RValue::Map(
            pairs
                .into_iter()
                .map(|(k, v)| Tuple2(RString::from(k.into()), v))
                .collect(),
        )
    }
    /// Builds an [`RValue::List`].
    pub fn list(items: impl IntoIterator<Item = RValue>) -> Self {
        RValue::List(items.into_iter().collect())
    }
    /// The string, for [`RValue::Str`].
    pub fn as_str(&self) -> Option<&str> {
        match self {
            RValue::Str(s) => Some(s.as_str()),
            _ => None,
        }
    }
}

impl From<bool> for RValue {
    fn from(v: bool) -> Self {
        RValue::Bool(v)
    }
}
impl From<i64> for RValue {
    fn from(v: i64) -> Self {
        RValue::Int(v)
    }
}
impl From<f64> for RValue {
    fn from(v: f64) -> Self {
        RValue::Float(v)
    }
}
impl From<&str> for RValue {
    fn from(v: &str) -> Self {
        RValue::Str(v.into())
    }
}
impl From<String> for RValue {
    fn from(v: String) -> Self {
        RValue::Str(v.into())
    }
}
impl From<Vec<u8>> for RValue {
    fn from(v: Vec<u8>) -> Self {
        RValue::Bytes(v.into())
    }
}

// ---------------------------------------------------------------------------
// Options and descriptions
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// Host -> plugin callback objects
// ---------------------------------------------------------------------------
//
// `#[sabi_trait]` generates an FFI-safe trait object `Trait_TO<'lt, Ptr>` whose
// vtable is a prefix type. abi_stable 0.11 loads a library whose prefix
// types have MORE fields than the host's, never fewer, so appending a
// method here would make every 1.0 plugin fail to load ("too many fields",
// measured). Within 1.x these vtables and the root module stay as they are;
// new capabilities come through separate optional symbols
// (docs/abi-policy.md).
// `: Send` is required for `Send` holders; objects are owned (`RBox`) and
// `'static` (borrowed objects cannot be held by a reader).

/// A stream of bytes the host gives to a plugin (a file, a decompressor...).
#[sabi_trait]
pub trait ByteSource: Send {
    /// Reads up to `buf.len()` bytes into `buf`; `Ok(0)` means end of stream.
    // last_prefix_field: the last method of 1.0; later methods are appended below it.
    #[sabi(last_prefix_field)]
    fn read(&mut self, buf: RSliceMut<'_, u8>) -> RResult<usize, RError>;
}

/// A sink of bytes the host gives to a plugin.
#[sabi_trait]
pub trait ByteSink: Send {
    /// Writes all of `buf`.
    fn write(&mut self, buf: RSlice<'_, u8>) -> RResult<(), RError>;
    /// Flushes buffered bytes downstream.
    fn flush(&mut self) -> RResult<(), RError>;
    /// Flushes and ends any frame (e.g. a compressor's trailer). Called once;
    /// the host finalises the file itself afterwards. Writing after `finish` is an error.
    // last_prefix_field: the last method of 1.0; later methods are appended below it.
    #[sabi(last_prefix_field)]
    fn finish(&mut self) -> RResult<(), RError>;
}

/// A stream of record batches (a plugin's reader, or host input for engines).
#[sabi_trait]
pub trait RecordSource: Send {
    /// Clears `batch` (keeping its capacity) and fills it with at most
    /// `max_rows` rows (0 is treated as 1).
    ///
    /// `Ok(true)`: `batch` holds the next rows — normally at least one, but an
    /// empty batch is allowed; call again. `Ok(false)`: end of stream, `batch`
    /// is empty. After an `Err` the caller may call again (the source decides
    /// whether it can continue); after a PANIC error every later call fails.
    // last_prefix_field: the last method of 1.0; later methods are appended below it.
    #[sabi(last_prefix_field)]
    fn read_batch(&mut self, batch: &mut RBatch, max_rows: u32) -> RResult<bool, RError>;
}

/// A consumer of record batches (a plugin's writer, a driver's table writer).
#[sabi_trait]
pub trait RecordSink: Send {
    /// Writes all rows of `batch` (the callee validates it; a malformed batch
    /// is an `INVALID_INPUT` error).
    fn write_batch(&mut self, batch: &RBatch) -> RResult<(), RError>;
    /// Completes the output (flush, trailer, commit). Called once.
    // last_prefix_field: the last method of 1.0; later methods are appended below it.
    #[sabi(last_prefix_field)]
    fn finish(&mut self) -> RResult<(), RError>;
}

/// An owned [`ByteSource`] object.
pub type ByteSourceBox = ByteSource_TO<'static, RBox<()>>;
/// An owned [`ByteSink`] object.
pub type ByteSinkBox = ByteSink_TO<'static, RBox<()>>;
/// An owned [`RecordSource`] object.
pub type RecordSourceBox = RecordSource_TO<'static, RBox<()>>;
/// An owned [`RecordSink`] object.
pub type RecordSinkBox = RecordSink_TO<'static, RBox<()>>;

// ---------------------------------------------------------------------------
// Provider objects (plugin -> host)
// ---------------------------------------------------------------------------

/// A file format: bytes <-> records.
#[sabi_trait]
pub trait FormatProvider: Send + Sync {
    /// The format's description.
    fn info(&self) -> FormatInfo;
    /// Opens a reader over `source`. Unknown options are an `INVALID_OPTION` error.
    fn open_reader(
        &self,
        source: ByteSourceBox,
        options: ROptions,
    ) -> RResult<RecordSourceBox, RError>;
    /// Opens a writer into `sink`; the returned sink's `finish` calls `sink.finish()`.
    // last_prefix_field: the last method of 1.0; later methods are appended below it.
    #[sabi(last_prefix_field)]
    fn open_writer(&self, sink: ByteSinkBox, options: ROptions) -> RResult<RecordSinkBox, RError>;
}

/// A compression codec: bytes <-> bytes.
#[sabi_trait]
pub trait CodecProvider: Send + Sync {
    /// The codec's description.
    fn info(&self) -> CodecInfo;
    /// Wraps `source` in a decompressor.
    fn decoder(&self, source: ByteSourceBox) -> RResult<ByteSourceBox, RError>;
    /// Wraps `sink` in a compressor; `level` must be within the declared range.
    // last_prefix_field: the last method of 1.0; later methods are appended below it.
    #[sabi(last_prefix_field)]
    fn encoder(&self, sink: ByteSinkBox, level: ROption<i32>) -> RResult<ByteSinkBox, RError>;
}

/// An open database connection.
#[sabi_trait]
pub trait Connection: Send {
    /// The names of the tables.
    fn list_tables(&mut self) -> RResult<RVec<RString>, RError>;
    /// Reads a whole table.
    fn read_table(
        &mut self,
        table: RStr<'_>,
        options: ROptions,
    ) -> RResult<RecordSourceBox, RError>;
    /// Runs a query and reads its result.
    fn read_query(
        &mut self,
        query: RStr<'_>,
        options: ROptions,
    ) -> RResult<RecordSourceBox, RError>;
    /// Writes into a table. **Atomic:** the rows become visible only when the
    /// returned sink's `finish` succeeds; if the sink is dropped without
    /// `finish` (or `finish` fails) the write is rolled back.
    // last_prefix_field: the last method of 1.0; later methods are appended below it.
    #[sabi(last_prefix_field)]
    fn write_table(&mut self, table: RStr<'_>, options: ROptions)
    -> RResult<RecordSinkBox, RError>;
}

/// An owned [`Connection`] object.
pub type ConnectionBox = Connection_TO<'static, RBox<()>>;

/// A database driver.
#[sabi_trait]
pub trait DriverProvider: Send + Sync {
    /// The driver's description.
    fn info(&self) -> DriverInfo;
    /// Connects to `uri`.
    // last_prefix_field: the last method of 1.0; later methods are appended below it.
    #[sabi(last_prefix_field)]
    fn connect(&self, uri: RStr<'_>, options: ROptions) -> RResult<ConnectionBox, RError>;
}

/// A validation rule.
#[sabi_trait]
pub trait RuleProvider: Send + Sync {
    /// The rule's description.
    fn info(&self) -> RuleInfo;
    /// Checks every row of `values` (a single-field batch; only field 0 is
    /// read). `out` is cleared and receives one entry per row: `RNone` = ok,
    /// `RSome(message)` = the value fails the rule.
    // last_prefix_field: the last method of 1.0; later methods are appended below it.
    #[sabi(last_prefix_field)]
    fn check_batch(&self, values: &RBatch, out: &mut RVec<ROption<RString>>)
    -> RResult<(), RError>;
}

/// A processing engine (e.g. SQL over host inputs).
#[sabi_trait]
pub trait EngineProvider: Send + Sync {
    /// The engine's description.
    fn info(&self) -> EngineInfo;
    /// Runs `query` over the named `inputs` and returns the result stream.
    // last_prefix_field: the last method of 1.0; later methods are appended below it.
    #[sabi(last_prefix_field)]
    fn execute(
        &self,
        query: RStr<'_>,
        inputs: RVec<Tuple2<RString, RecordSourceBox>>,
        options: ROptions,
    ) -> RResult<RecordSourceBox, RError>;
}

/// An owned [`FormatProvider`] object.
pub type FormatProviderBox = FormatProvider_TO<'static, RBox<()>>;
/// An owned [`CodecProvider`] object.
pub type CodecProviderBox = CodecProvider_TO<'static, RBox<()>>;
/// An owned [`DriverProvider`] object.
pub type DriverProviderBox = DriverProvider_TO<'static, RBox<()>>;
/// An owned [`RuleProvider`] object.
pub type RuleProviderBox = RuleProvider_TO<'static, RBox<()>>;
/// An owned [`EngineProvider`] object.
pub type EngineProviderBox = EngineProvider_TO<'static, RBox<()>>;

// ---------------------------------------------------------------------------
// Root module
// ---------------------------------------------------------------------------

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
    // The version of THIS crate (iterable-plugin-api), compared at load:
    // the major must be equal (any minor is accepted).
    const VERSION_STRINGS: VersionStrings = package_version_strings!();
}
