//! # iterable-host
//!
//! The IterableData plugin host. It finds plugins (native libraries behind
//! the stable ABI of `iterable-plugin-api`), reads their manifests without
//! loading them, and puts their providers behind the core's traits so that
//! files open exactly as with built-ins. A plugin's library is loaded only
//! when one of its providers is first used; a broken plugin is reported
//! with its reason and everything else keeps working.
//!
//! Plugin directories are searched in this order:
//! 1. directories given in code ([`HostBuilder::plugin_dir`]) or with `--plugin-dir`;
//! 2. `ITERABLEDATA_PLUGIN_PATH` (a path list);
//! 3. `plugin_dirs` in `~/.iterabledata/config.toml`;
//! 4. `~/.iterabledata/plugins`.
//!
//! Built-ins come first, then providers registered in code, then plugins
//! (the earlier directory wins between plugins).
//!
//! An application needs this crate alone: the core's types it works with
//! (records, values, options, readers and writers, errors, the provider
//! traits) are re-exported here, and the whole core is [`iterable_core`].
//!
//! ```
//! use iterable_host::{Host, OpenOptions, Record};
//!
//! let dir = std::env::temp_dir().join(format!("iterable-host-doc-{}", std::process::id()));
//! let host = Host::builder()
//!     .plugin_dir(dir.join("plugins")) // plugins of this application
//!     .default_dirs(false)             // not the user's directories
//!     .cache_file(None)                // keep the scan cache in memory
//!     .build()?;
//!
//! std::fs::create_dir_all(&dir)?;
//! let path = dir.join("out.csv.gz");
//! let mut w = host.create(&path, &OpenOptions::new())?;
//! w.write(&Record::from_pairs([("a", "1")]))?;
//! w.finish()?;
//! let records: Vec<Record> = host.open(&path, &OpenOptions::new())?.collect::<Result<_, _>>()?;
//! assert_eq!(records.len(), 1);
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! This crate emits `tracing` events and never installs a subscriber; only
//! the binary does.

#![deny(missing_docs)]

// The plugin side of the boundary (abi_stable types) stays private to this
// crate: `loader` (loading), `adapters` and `convert` (between plugin
// objects and the core's traits).
mod adapters;
mod adbc;
pub mod arrow;
mod builder;
mod cabi;
mod catalog;
mod context;
mod convert;
mod error;
mod examine;
mod host;
pub mod isolate;
mod loader;
mod plugin;
mod policy;
mod proc;
mod runner;
pub mod scan;
mod typed;
mod wire;

pub use catalog::{cache, config, discovery, manifest, trust};
pub use iterable_core;
pub use iterable_core::{
    Batch, Codec, CodecInfo, Connection, Driver, DriverInfo, Engine, EngineInfo, Error, ErrorKind,
    Format, FormatInfo, Hook, HookInfo, Map, OpenOptions, Options, Origin, Position, Provider,
    Reader, Record, RecordReader, RecordWriter, Registry, Result, Rule, RuleInfo, RunInfo,
    Validator, Value, Writer,
};

pub use adbc::describe_driver as describe_adbc_driver;
pub use builder::HostBuilder;
pub use cache::ScanCache;
pub use config::{Config, DirOrigin};
pub use error::{PluginErrorExt, PluginErrorKind, plugin_origin};
pub use host::{Host, check_library, run_as_child, run_scanner_if_requested};
pub use manifest::{Manifest, Provides};
pub use plugin::{Plugin, Status};
pub use scan::Scanner;
pub use trust::Trust;

/// Internals the fuzz targets exercise (not an API: no stability promise).
#[doc(hidden)]
pub mod __fuzz {
    pub use crate::convert::{BatchReader, keeps_field_order, push_record};
}
