//! The six kinds of a C plugin behind the core's traits.

use std::ffi::CString;
use std::mem::{offset_of, size_of};

use arrow_array::Array;
use arrow_array::cast::AsArray;
use arrow_array::ffi::{FFI_ArrowArray, FFI_ArrowSchema, from_ffi_and_data_type};
use arrow_array::ffi_stream::FFI_ArrowArrayStream;
use arrow_schema::DataType;

use crate::error::PluginErrorExt;
use iterable_core::io::{BoxRead, BoxSink};
use iterable_core::{
    Batch, BoxReader, BoxWriter, Codec, CodecInfo, Connection, Driver, DriverInfo, Engine,
    EngineInfo, Error, ErrorKind, Format, FormatInfo, Hook, HookInfo, Options, Record,
    RecordWriter, Result, Rule, RuleInfo, RunInfo, RunObserver, RunSummary, Source, Value,
};
use iterable_plugin_api::c::{
    self as abi, IDP_FORMAT_WRITE_TEXT, IDP_LEVEL_DEFAULT, IDP_READ_QUERY, IDP_READ_TABLE,
    IdpBatchWriter, IdpByteSink, IdpByteSource, IdpConnection, IdpObserver, IdpRunInfo,
    IdpRunSummary,
};

use super::bytes::{HostSink, HostSource, PluginSink, PluginSource};
use super::stream::{self, BATCH_ROWS, CStream, Lent, StreamReader};
use super::{COptions, Raw, bad_arrow, call, cstring, function, release};

/// A zeroed struct for a plugin to fill: what it leaves out (fields of a
/// later minor, a release it does not set) stays null.
fn zeroed<T>() -> T {
    // SAFETY: used only for the header's structs, whose every field is an
    // integer, a raw pointer or an optional function pointer: all-zero is
    // valid for each.
    unsafe { std::mem::zeroed() }
}

fn schema_ptr(s: &mut FFI_ArrowSchema) -> *mut abi::ArrowSchema {
    (s as *mut FFI_ArrowSchema).cast()
}

fn array_ptr(a: &mut FFI_ArrowArray) -> *mut abi::ArrowArray {
    (a as *mut FFI_ArrowArray).cast()
}

fn stream_ptr(s: &mut FFI_ArrowArrayStream) -> *mut abi::ArrowArrayStream {
    (s as *mut FFI_ArrowArrayStream).cast()
}

mod codec;
mod driver;
mod engine;
mod format;
mod hook;
mod rule;

pub(crate) use codec::CCodec;
pub(crate) use driver::CDriver;
pub(crate) use engine::CEngine;
pub(crate) use format::CFormat;
pub(crate) use hook::CHook;
pub(crate) use rule::CRule;
