//! The C ABI: the Rust side of `include/iterabledata_plugin.h`.
//!
//! A plugin in any language implements the header; the host reads it
//! through these definitions. Each `#[repr(C)]` type here has the layout of
//! the C struct of the same name (checked field by field against the C
//! compiler's own `sizeof` and `offsetof` by `tests/cplugins`). The header's
//! comments are the contract; this module repeats only what a Rust reader
//! needs. Nothing here depends on abi_stable.
//!
//! Versioning: [`C_ABI_MAJOR`] and [`C_ABI_MINOR`]. Structs that can grow
//! start with `struct_size`; read a field only when [`has_field`] says the
//! struct is long enough to hold it.

#![allow(missing_docs)] // the fields are documented in the header

use std::ffi::{c_char, c_int, c_void};

/// The C ABI's major version: a host loads C plugins of its own major.
pub const C_ABI_MAJOR: u32 = 1;
/// The C ABI's minor version: grows when fields are added.
pub const C_ABI_MINOR: u32 = 1;
/// The C ABI version as text, `MAJOR.MINOR`.
pub const C_ABI_VERSION: &str = "1.1";
/// The one symbol a C plugin exports (the header's `IDP_ENTRY_SYMBOL`).
pub const C_ENTRY_SYMBOL: &str = "iterabledata_plugin_entry";

/// The header itself, for tools that write it out for plugin authors.
pub const HEADER: &str = include_str!("../include/iterabledata_plugin.h");

/// Whether a struct of `struct_size` bytes (as its author compiled it)
/// holds a field at `offset` of `size` bytes.
pub const fn has_field(struct_size: u32, offset: usize, size: usize) -> bool {
    struct_size as usize >= offset + size
}

/// `IdpStatus`: `IDP_OK` or an error code.
pub type IdpStatus = i32;
/// Success.
pub const IDP_OK: IdpStatus = 0;
pub const IDP_ERR_IO: IdpStatus = 1;
pub const IDP_ERR_PARSE: IdpStatus = 2;
pub const IDP_ERR_INVALID_OPTION: IdpStatus = 3;
pub const IDP_ERR_UNSUPPORTED: IdpStatus = 4;
pub const IDP_ERR_SCHEMA: IdpStatus = 5;
pub const IDP_ERR_DRIVER: IdpStatus = 6;
pub const IDP_ERR_ENGINE: IdpStatus = 7;
pub const IDP_ERR_INVALID_INPUT: IdpStatus = 8;
pub const IDP_ERR_HOOK: IdpStatus = 9;
pub const IDP_ERR_OTHER: IdpStatus = 10;

/// `IDP_FORMAT_WRITE_TEXT` (1.1): the writer wants every column as text.
pub const IDP_FORMAT_WRITE_TEXT: u32 = 1;
/// `IDP_LEVEL_DEFAULT`: no compression level given.
pub const IDP_LEVEL_DEFAULT: i32 = i32::MIN;
/// `IDP_READ_TABLE`.
pub const IDP_READ_TABLE: i32 = 1;
/// `IDP_READ_QUERY`.
pub const IDP_READ_QUERY: i32 = 2;

/// The Arrow C data interface's schema.
#[repr(C)]
#[derive(Debug)]
pub struct ArrowSchema {
    pub format: *const c_char,
    pub name: *const c_char,
    pub metadata: *const c_char,
    pub flags: i64,
    pub n_children: i64,
    pub children: *mut *mut ArrowSchema,
    pub dictionary: *mut ArrowSchema,
    pub release: Option<unsafe extern "C" fn(*mut ArrowSchema)>,
    pub private_data: *mut c_void,
}

/// The Arrow C data interface's array.
#[repr(C)]
#[derive(Debug)]
pub struct ArrowArray {
    pub length: i64,
    pub null_count: i64,
    pub offset: i64,
    pub n_buffers: i64,
    pub n_children: i64,
    pub buffers: *mut *const c_void,
    pub children: *mut *mut ArrowArray,
    pub dictionary: *mut ArrowArray,
    pub release: Option<unsafe extern "C" fn(*mut ArrowArray)>,
    pub private_data: *mut c_void,
}

/// The Arrow C stream interface.
#[repr(C)]
#[derive(Debug)]
pub struct ArrowArrayStream {
    pub get_schema: Option<unsafe extern "C" fn(*mut ArrowArrayStream, *mut ArrowSchema) -> c_int>,
    pub get_next: Option<unsafe extern "C" fn(*mut ArrowArrayStream, *mut ArrowArray) -> c_int>,
    pub get_last_error: Option<unsafe extern "C" fn(*mut ArrowArrayStream) -> *const c_char>,
    pub release: Option<unsafe extern "C" fn(*mut ArrowArrayStream)>,
    pub private_data: *mut c_void,
}

/// `IdpError` (frozen).
#[repr(C)]
#[derive(Debug)]
pub struct IdpError {
    pub code: i32,
    pub message: *const c_char,
    pub release: Option<unsafe extern "C" fn(*mut IdpError)>,
    pub private_data: *mut c_void,
}

impl IdpError {
    /// A zeroed error, as the host passes it.
    pub const fn empty() -> Self {
        IdpError {
            code: 0,
            message: std::ptr::null(),
            release: None,
            private_data: std::ptr::null_mut(),
        }
    }
}

/// `IdpOption` (frozen).
#[repr(C)]
#[derive(Debug)]
pub struct IdpOption {
    pub key: *const c_char,
    pub value: *const c_char,
}

/// `IdpOptions` (frozen).
#[repr(C)]
#[derive(Debug)]
pub struct IdpOptions {
    pub count: usize,
    pub items: *const IdpOption,
}

/// `IdpByteSource`.
#[repr(C)]
#[derive(Debug)]
pub struct IdpByteSource {
    pub struct_size: u32,
    pub read:
        Option<unsafe extern "C" fn(*mut IdpByteSource, *mut u8, usize, *mut IdpError) -> i64>,
    pub release: Option<unsafe extern "C" fn(*mut IdpByteSource)>,
    pub private_data: *mut c_void,
    /// Since 1.1.
    pub size_hint: i64,
}

/// `IdpByteSink`.
#[repr(C)]
#[derive(Debug)]
pub struct IdpByteSink {
    pub struct_size: u32,
    pub write: Option<
        unsafe extern "C" fn(*mut IdpByteSink, *const u8, usize, *mut IdpError) -> IdpStatus,
    >,
    pub finish: Option<unsafe extern "C" fn(*mut IdpByteSink, *mut IdpError) -> IdpStatus>,
    pub release: Option<unsafe extern "C" fn(*mut IdpByteSink)>,
    pub private_data: *mut c_void,
}

/// `IdpBatchWriter`.
#[repr(C)]
#[derive(Debug)]
pub struct IdpBatchWriter {
    pub struct_size: u32,
    pub write: Option<
        unsafe extern "C" fn(
            *mut IdpBatchWriter,
            *mut ArrowSchema,
            *mut ArrowArray,
            *mut IdpError,
        ) -> IdpStatus,
    >,
    pub finish: Option<unsafe extern "C" fn(*mut IdpBatchWriter, *mut IdpError) -> IdpStatus>,
    pub release: Option<unsafe extern "C" fn(*mut IdpBatchWriter)>,
    pub private_data: *mut c_void,
}

/// `IdpFormat`.
#[repr(C)]
#[derive(Debug)]
pub struct IdpFormat {
    pub struct_size: u32,
    pub id: *const c_char,
    pub data: *mut c_void,
    pub open_reader: Option<
        unsafe extern "C" fn(
            *mut c_void,
            *mut IdpByteSource,
            *const IdpOptions,
            *mut ArrowArrayStream,
            *mut IdpError,
        ) -> IdpStatus,
    >,
    pub open_writer: Option<
        unsafe extern "C" fn(
            *mut c_void,
            *mut IdpByteSink,
            *const IdpOptions,
            *mut IdpBatchWriter,
            *mut IdpError,
        ) -> IdpStatus,
    >,
    /// Since 1.1.
    pub flags: u32,
}

/// `IdpCodec`.
#[repr(C)]
#[derive(Debug)]
pub struct IdpCodec {
    pub struct_size: u32,
    pub id: *const c_char,
    pub data: *mut c_void,
    pub decoder: Option<
        unsafe extern "C" fn(
            *mut c_void,
            *mut IdpByteSource,
            *mut IdpByteSource,
            *mut IdpError,
        ) -> IdpStatus,
    >,
    pub encoder: Option<
        unsafe extern "C" fn(
            *mut c_void,
            *mut IdpByteSink,
            i32,
            *mut IdpByteSink,
            *mut IdpError,
        ) -> IdpStatus,
    >,
}

/// `IdpConnection`.
#[repr(C)]
#[derive(Debug)]
pub struct IdpConnection {
    pub struct_size: u32,
    pub list_tables: Option<
        unsafe extern "C" fn(*mut IdpConnection, *mut ArrowArrayStream, *mut IdpError) -> IdpStatus,
    >,
    pub read: Option<
        unsafe extern "C" fn(
            *mut IdpConnection,
            i32,
            *const c_char,
            *const IdpOptions,
            *mut ArrowArrayStream,
            *mut IdpError,
        ) -> IdpStatus,
    >,
    pub write: Option<
        unsafe extern "C" fn(
            *mut IdpConnection,
            *const c_char,
            *const IdpOptions,
            *mut IdpBatchWriter,
            *mut IdpError,
        ) -> IdpStatus,
    >,
    pub release: Option<unsafe extern "C" fn(*mut IdpConnection)>,
    pub private_data: *mut c_void,
}

/// `IdpDriver`.
#[repr(C)]
#[derive(Debug)]
pub struct IdpDriver {
    pub struct_size: u32,
    pub id: *const c_char,
    pub data: *mut c_void,
    pub connect: Option<
        unsafe extern "C" fn(
            *mut c_void,
            *const c_char,
            *const IdpOptions,
            *mut IdpConnection,
            *mut IdpError,
        ) -> IdpStatus,
    >,
}

/// `IdpRule`.
#[repr(C)]
#[derive(Debug)]
pub struct IdpRule {
    pub struct_size: u32,
    pub name: *const c_char,
    pub data: *mut c_void,
    pub check: Option<
        unsafe extern "C" fn(
            *mut c_void,
            *mut ArrowSchema,
            *mut ArrowArray,
            *mut ArrowArray,
            *mut IdpError,
        ) -> IdpStatus,
    >,
}

/// `IdpEngine`.
#[repr(C)]
#[derive(Debug)]
pub struct IdpEngine {
    pub struct_size: u32,
    pub id: *const c_char,
    pub data: *mut c_void,
    #[allow(clippy::type_complexity)]
    pub execute: Option<
        unsafe extern "C" fn(
            *mut c_void,
            *const c_char,
            usize,
            *const *const c_char,
            *mut ArrowArrayStream,
            *const IdpOptions,
            *mut ArrowArrayStream,
            *mut IdpError,
        ) -> IdpStatus,
    >,
}

/// `IdpRunInfo`.
#[repr(C)]
#[derive(Debug)]
pub struct IdpRunInfo {
    pub struct_size: u32,
    pub command: *const c_char,
    pub source: *const c_char,
    pub target: *const c_char,
    pub format: *const c_char,
}

/// `IdpRunSummary`.
#[repr(C)]
#[derive(Debug)]
pub struct IdpRunSummary {
    pub struct_size: u32,
    pub records: u64,
    pub bytes_read: u64,
    pub ok: i32,
}

/// `IdpObserver`.
#[repr(C)]
#[derive(Debug)]
pub struct IdpObserver {
    pub struct_size: u32,
    pub batch: Option<
        unsafe extern "C" fn(
            *mut IdpObserver,
            *mut ArrowSchema,
            *mut ArrowArray,
            *mut IdpError,
        ) -> IdpStatus,
    >,
    pub failed:
        Option<unsafe extern "C" fn(*mut IdpObserver, *const c_char, *mut IdpError) -> IdpStatus>,
    pub close: Option<
        unsafe extern "C" fn(*mut IdpObserver, *const IdpRunSummary, *mut IdpError) -> IdpStatus,
    >,
    pub release: Option<unsafe extern "C" fn(*mut IdpObserver)>,
    pub private_data: *mut c_void,
}

/// `IdpHook`.
#[repr(C)]
#[derive(Debug)]
pub struct IdpHook {
    pub struct_size: u32,
    pub id: *const c_char,
    pub data: *mut c_void,
    pub open: Option<
        unsafe extern "C" fn(
            *mut c_void,
            *const IdpRunInfo,
            *const IdpOptions,
            *mut IdpObserver,
            *mut IdpError,
        ) -> IdpStatus,
    >,
}

/// `IdpPlugin`.
#[repr(C)]
#[derive(Debug)]
pub struct IdpPlugin {
    pub struct_size: u32,
    pub abi_major: u32,
    pub abi_minor: u32,
    pub description: *const c_char,
    pub n_formats: usize,
    pub formats: *const *const IdpFormat,
    pub n_codecs: usize,
    pub codecs: *const *const IdpCodec,
    pub n_drivers: usize,
    pub drivers: *const *const IdpDriver,
    pub n_rules: usize,
    pub rules: *const *const IdpRule,
    pub n_engines: usize,
    pub engines: *const *const IdpEngine,
    pub n_hooks: usize,
    pub hooks: *const *const IdpHook,
}

/// `IdpEntryFn`: the type of the exported entry point.
pub type IdpEntryFn = unsafe extern "C" fn(u32, u32) -> *const IdpPlugin;

/// The size of every struct of the header and the offset of every field,
/// as Rust lays them out: `("IdpFormat", 48)`, `("IdpFormat.flags", 40)`.
/// `tests/cplugins` compares this table with the C compiler's.
pub fn layout() -> Vec<(String, usize)> {
    let mut out = Vec::new();
    macro_rules! layout {
        ($($t:ident { $($f:ident),* $(,)? })*) => {$(
            out.push((stringify!($t).to_owned(), std::mem::size_of::<$t>()));
            $(out.push((
                concat!(stringify!($t), ".", stringify!($f)).to_owned(),
                std::mem::offset_of!($t, $f),
            ));)*
        )*};
    }
    layout! {
        ArrowSchema { format, name, metadata, flags, n_children, children, dictionary, release, private_data }
        ArrowArray { length, null_count, offset, n_buffers, n_children, buffers, children, dictionary, release, private_data }
        ArrowArrayStream { get_schema, get_next, get_last_error, release, private_data }
        IdpError { code, message, release, private_data }
        IdpOption { key, value }
        IdpOptions { count, items }
        IdpByteSource { struct_size, read, release, private_data, size_hint }
        IdpByteSink { struct_size, write, finish, release, private_data }
        IdpBatchWriter { struct_size, write, finish, release, private_data }
        IdpFormat { struct_size, id, data, open_reader, open_writer, flags }
        IdpCodec { struct_size, id, data, decoder, encoder }
        IdpConnection { struct_size, list_tables, read, write, release, private_data }
        IdpDriver { struct_size, id, data, connect }
        IdpRule { struct_size, name, data, check }
        IdpEngine { struct_size, id, data, execute }
        IdpRunInfo { struct_size, command, source, target, format }
        IdpRunSummary { struct_size, records, bytes_read, ok }
        IdpObserver { struct_size, batch, failed, close, release, private_data }
        IdpHook { struct_size, id, data, open }
        IdpPlugin { struct_size, abi_major, abi_minor, description, n_formats, formats, n_codecs, codecs, n_drivers, drivers, n_rules, rules, n_engines, engines, n_hooks, hooks }
    }
    out
}
