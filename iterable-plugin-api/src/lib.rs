//! The stable plugin interface of IterableData: the only dependency a plugin
//! author needs.
//!
//! A plugin is a `cdylib` that exports exactly one root module (with
//! [`export_plugin!`]) describing its metadata and any number of providers of
//! five kinds: **formats** (bytes ⇄ records), **codecs** (bytes ⇄ bytes),
//! **drivers** (databases), **rules** (value validation) and **engines**
//! (queries over record streams).
//!
//! # Layers
//!
//! * **Author level** ([`author`], re-exported in [`prelude`]): implement
//!   [`Format`], [`Codec`], [`Driver`]/[`Connection`], [`Rule`] or [`Engine`]
//!   with plain Rust types, and list them in [`export_plugin!`]. Every entry
//!   point is panic-guarded for you: a panic becomes an error of kind
//!   [`RErrorKind::PANIC`] instead of killing the host.
//! * **Batches** ([`batch`]): records cross the boundary in flat,
//!   host-owned, reused batches ([`RBatch`]); authors write rows with a
//!   [`BatchBuilder`] and read them with [`RowView`] / [`CellRef`].
//! * **Wire level** ([`abi`]): the `#[repr(C)]` `StableAbi` types and
//!   `#[sabi_trait]` objects, frozen for 1.x except for growth at the end.
//! * **Host level** ([`host`]): callback objects over std types, std
//!   adapters over plugin objects, version checks, loading.
//!
//! # Versioning
//!
//! The package version of this crate is the ABI version ([`API_VERSION`]).
//! abi_stable compares it when a library is loaded: the major must match,
//! any minor loads. See `docs/abi-policy.md` in the repository.
//!
//! # A complete format plugin
//!
//! `Cargo.toml` of the plugin: `crate-type = ["cdylib", "rlib"]` and one
//! dependency, `iterable-plugin-api = "1"`. The `main` below drives the
//! plugin in-process through the same objects a host uses after dlopen.
//!
//! ```
//! use iterable_plugin_api::prelude::*;
//!
//! /// LTSV: one record per line, `label:value` pairs separated by tabs.
//! struct Ltsv;
//!
//! impl Format for Ltsv {
//!     fn info(&self) -> FormatSpec {
//!         FormatSpec::new("ltsv")
//!             .description("Labeled Tab-separated Values")
//!             .extensions(["ltsv"])
//!     }
//!     fn reader(&self, input: Input, _options: &Options) -> Result<Box<dyn RowReader>> {
//!         // One call per line; a blank line pushes nothing and is skipped.
//!         Ok(input.line_reader(|line, row| {
//!             for pair in line.split('\t').filter(|p| !p.is_empty()) {
//!                 let (label, value) = pair
//!                     .split_once(':')
//!                     .ok_or_else(|| Error::parse(format!("no ':' in `{pair}`")))?;
//!                 // Keyed push: new labels become fields, missing ones read as Absent.
//!                 row.key(label).push_str(value);
//!             }
//!             Ok(())
//!         }))
//!     }
//! }
//!
//! export_plugin! {
//!     name: "ltsv",
//!     version: "0.1.0",
//!     description: "LTSV format",
//!     formats: [Ltsv],
//! }
//!
//! fn main() {
//!     use iterable_plugin_api::{ByteSourceBox, RBatch, ROptions};
//!     let module = get_library();
//!     assert_eq!((module.metadata())().unwrap().api_version.as_str(), iterable_plugin_api::API_VERSION);
//!     let formats = (module.formats())().unwrap();
//!     let input = ByteSourceBox::from_reader(&b"a:1\tb:x\n\nb:y\n"[..]);
//!     let mut reader = formats[0].open_reader(input, ROptions::new()).unwrap();
//!     let mut batch = RBatch::new();
//!     assert!(reader.read_batch(&mut batch, 1024).unwrap());
//!     assert_eq!(batch.rows, 2); // the blank line was skipped
//!     let view = batch.validated().unwrap();
//!     assert_eq!(view.field_names().collect::<Vec<_>>(), ["a", "b"]);
//!     assert_eq!(view.row(1).unwrap().get(0), CellRef::Absent);
//!     assert_eq!(view.row(1).unwrap().get_by_name("b").as_str(), Some("y"));
//!     assert!(!reader.read_batch(&mut batch, 1024).unwrap());
//! }
//! ```

#![deny(missing_docs)]
// `#[sabi_trait]` expands to impls inside generated modules, which rustc's
// `non_local_definitions` lint flags; the code is fine.
#![allow(non_local_definitions)]

/// The abi_stable crate, re-exported so plugins need no direct dependency on it.
pub use abi_stable;

pub mod abi;
pub mod author;
pub mod batch;
pub mod error;
pub mod host;
mod macros;
mod panic_guard;

#[doc(hidden)]
pub use macros::__private;

pub use abi::{
    ByteSink, ByteSinkBox, ByteSource, ByteSourceBox, CodecInfo, CodecProvider, CodecProviderBox,
    ConnectionBox, DriverInfo, DriverProvider, DriverProviderBox, EngineInfo, EngineProvider,
    EngineProviderBox, FormatInfo, FormatProvider, FormatProviderBox, OptionSpec, PluginMetadata,
    PluginModule, PluginModule_Ref, RExtra, ROptions, RValue, RecordSink, RecordSinkBox,
    RecordSource, RecordSourceBox, RuleInfo, RuleProvider, RuleProviderBox,
};
pub use author::{
    Codec, CodecSpec, Connection, Driver, DriverSpec, Encoder, Engine, EngineSpec, Format,
    FormatSpec, Input, Options, Output, RowReader, RowSource, RowWriter, Rule, RuleSpec,
};
pub use batch::{BatchBuilder, BatchView, CellRef, RBatch, RowView, Rows, tag};
pub use error::{Error, RError, RErrorKind, Result};
pub use panic_guard::install_panic_hook;

/// The wire-level connection trait (named `Connection` in [`abi`]; the
/// author-level trait [`Connection`] is what plugins implement).
pub use abi::Connection as ConnectionObject;

/// This crate's version, which is the plugin ABI version.
pub const API_VERSION: &str = env!("CARGO_PKG_VERSION");
/// The major part of [`API_VERSION`]: plugins load only into hosts with the same major.
pub const API_MAJOR: u32 = parse_u32(env!("CARGO_PKG_VERSION_MAJOR"));
/// The minor part of [`API_VERSION`].
pub const API_MINOR: u32 = parse_u32(env!("CARGO_PKG_VERSION_MINOR"));

const fn parse_u32(s: &str) -> u32 {
    let b = s.as_bytes();
    let mut i = 0;
    let mut n: u32 = 0;
    while i < b.len() {
        assert!(b[i].is_ascii_digit(), "version part is not a number");
        n = n * 10 + (b[i] - b'0') as u32;
        i += 1;
    }
    n
}

/// Everything a plugin author needs: `use iterable_plugin_api::prelude::*;`.
///
/// Also brings the `std::io::{BufRead, Read, Write}` methods into scope.
pub mod prelude {
    pub use crate::author::{
        Codec, CodecSpec, Connection, Driver, DriverSpec, Encoder, Engine, EngineSpec, Format,
        FormatSpec, Input, Options, Output, RowReader, RowSource, RowWriter, Rule, RuleSpec,
    };
    pub use crate::batch::{BatchBuilder, BatchView, CellRef, RowView};
    pub use crate::error::{Error, RErrorKind, Result};
    pub use crate::{RValue, export_plugin};
    pub use std::io::{BufRead as _, Read as _, Write as _};
}

#[cfg(test)]
mod tests {
    #[test]
    fn version_consts_match_package_version() {
        assert_eq!(super::API_VERSION, "1.0.0");
        assert_eq!(
            format!("{}.{}", super::API_MAJOR, super::API_MINOR),
            super::API_VERSION
                .split('.')
                .take(2)
                .collect::<Vec<_>>()
                .join(".")
        );
    }
}
