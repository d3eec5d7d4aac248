//! The stable plugin interface of IterableData: the only dependency a plugin
//! author needs.
//!
//! A plugin is a `cdylib` that exports one root module (with
//! [`export_plugin!`]) describing its metadata and any number of providers of
//! six kinds: **formats** (bytes ⇄ records), **codecs** (bytes ⇄ bytes),
//! **drivers** (databases), **rules** (value validation), **engines**
//! (queries over record streams) and **hooks** (observers of a run).
//!
//! # Roles
//!
//! * [`sdk`], re-exported in [`prelude`]: what an author implements
//!   ([`Format`], [`Codec`], [`Driver`]/[`Connection`], [`Rule`], [`Engine`],
//!   [`Hook`]) with plain Rust types, and [`export_plugin!`]. Every entry
//!   point is panic-guarded for you: a panic becomes an error of kind
//!   [`RErrorKind::PANIC`] instead of killing the host.
//! * [`abi`]: the frozen wire, and nothing else: `#[repr(C)]` `StableAbi`
//!   types and `#[sabi_trait]` objects. Records cross it in flat, reused
//!   batches ([`RBatch`]), written with a [`BatchBuilder`] and read with
//!   [`RowView`] / [`CellRef`].
//! * `testing` (feature `testing`): runs a plugin's providers in-process
//!   through the real wire, so an author's tests never touch wire types.
//!
//! Loading libraries is the host's business (the `iterable-host` crate).
//!
//! # Versioning
//!
//! [`ABI_VERSION`] is the version of the wire, a constant of its own; the
//! crate's package version is the SDK's. A host loads plugins of the same
//! ABI major and any minor; capabilities that a minor added are optional
//! symbols it looks up (see [`abi::capability`]). See `docs/abi-policy.md`.
//!
//! # A complete format plugin
//!
//! `Cargo.toml` of the plugin: `crate-type = ["cdylib", "rlib"]` and one
//! dependency, this crate. It is not on crates.io yet: take it from a
//! checkout of the repository, `iterable-plugin-api = { path =
//! "../iterabledata-rs/iterable-plugin-api" }`, or as a git dependency
//! (`docs/plugin-guide.md`, "Create the crate"). The `main` below drives the
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
pub mod c;
pub mod sdk;
#[cfg(feature = "testing")]
pub mod testing;

#[doc(hidden)]
pub use sdk::export::__private;

pub use abi::hooks::{
    HookInfo, HookProvider, HookProviderBox, RunInfo, RunObserver, RunObserverBox, RunSummary,
};
pub use abi::{
    ABI_MAJOR, ABI_MINOR, ABI_VERSION, BatchBuilder, BatchView, ByteSink, ByteSinkBox, ByteSource,
    ByteSourceBox, CellRef, CodecInfo, CodecProvider, CodecProviderBox, ConnectionBox, DriverInfo,
    DriverProvider, DriverProviderBox, EngineInfo, EngineProvider, EngineProviderBox, FormatInfo,
    FormatProvider, FormatProviderBox, OptionSpec, PluginMetadata, PluginModule, PluginModule_Ref,
    RBatch, RError, RErrorKind, RExtra, ROptions, RValue, RecordSink, RecordSinkBox, RecordSource,
    RecordSourceBox, RowView, Rows, RuleInfo, RuleProvider, RuleProviderBox, tag,
};
pub use sdk::error::{Error, Result};
pub use sdk::guard::install_panic_hook;
pub use sdk::io::{Encoder, Input, Output};
pub use sdk::options::{Options, parse_bytes};
pub use sdk::spec::{CodecSpec, DriverSpec, EngineSpec, FormatSpec, HookSpec, RuleSpec};
pub use sdk::streams::MemorySink;
pub use sdk::traits::{
    Codec, Connection, Driver, Engine, Format, Hook, RowReader, RowSource, RowWriter, Rule,
    RunWatcher,
};

/// The wire-level connection trait (named `Connection` in [`abi`]; the
/// author-level trait [`Connection`] is what plugins implement).
pub use abi::Connection as ConnectionObject;

/// The ABI version a plugin reports, `MAJOR.MINOR` (the same as [`ABI_VERSION`]).
pub const API_VERSION: &str = ABI_VERSION;
/// The same as [`ABI_MAJOR`].
pub const API_MAJOR: u32 = ABI_MAJOR;
/// The same as [`ABI_MINOR`].
pub const API_MINOR: u32 = ABI_MINOR;

/// Everything a plugin author needs: `use iterable_plugin_api::prelude::*;`.
///
/// Also brings the `std::io::{BufRead, Read, Write}` methods into scope.
pub mod prelude {
    pub use crate::abi::typed::{Typed, Unit};
    pub use crate::abi::{BatchBuilder, BatchView, CellRef, RowView};
    pub use crate::sdk::error::{Error, ErrorKind, Result};
    pub use crate::sdk::io::{Encoder, Input, Output};
    pub use crate::sdk::options::Options;
    pub use crate::sdk::spec::{CodecSpec, DriverSpec, EngineSpec, FormatSpec, HookSpec, RuleSpec};
    pub use crate::sdk::traits::{
        Codec, Connection, Driver, Engine, Format, Hook, RowReader, RowSource, RowWriter, Rule,
        RunWatcher,
    };
    pub use crate::{RErrorKind, RValue, RunInfo, RunSummary, export_plugin};
    pub use std::io::{BufRead as _, Read as _, Write as _};
}

#[cfg(test)]
mod tests {
    #[test]
    fn abi_version_is_its_own_constant() {
        assert_eq!(super::ABI_VERSION, "1.1");
        assert_eq!(
            format!("{}.{}", super::ABI_MAJOR, super::ABI_MINOR),
            super::ABI_VERSION
        );
        // The package (SDK) version moves on its own; only its major is tied
        // to the wire (abi_stable compares it in every type's layout).
        assert_eq!(
            env!("CARGO_PKG_VERSION_MAJOR"),
            super::ABI_MAJOR.to_string()
        );
    }
}
