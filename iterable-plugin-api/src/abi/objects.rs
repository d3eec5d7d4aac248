//! The objects that cross the boundary: byte and record streams the host
//! lends to plugins, and the providers plugins hand back.

use abi_stable::sabi_trait;
use abi_stable::std_types::{
    RBox, ROption, RResult, RSlice, RSliceMut, RStr, RString, RVec, Tuple2,
};

use super::batch::RBatch;
use super::describe::{CodecInfo, DriverInfo, EngineInfo, FormatInfo, ROptions, RuleInfo};
use super::error::RError;

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
