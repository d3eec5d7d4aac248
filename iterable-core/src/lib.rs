//! # iterable-core
//!
//! The record model and the built-in providers of IterableData: read and
//! write records (rows of named fields) from many formats, through
//! compression codecs, with detection, options that are checked, and
//! validation rules.
//!
//! A short tour:
//! * [`Record`] and [`Value`]: fields in source order; values are null,
//!   bool, int, float, string, bytes, list and map. [`Batch`] is the shape
//!   records take across the plugin boundary: field names once, then rows.
//! * The five kinds of provider, as traits: [`Format`], [`Codec`],
//!   [`Driver`], [`Rule`] and [`Engine`].
//! * [`Registry`]: every provider by priority (built-ins first), looked up
//!   by id, extension, magic bytes or URI scheme. [`Registry::open`] and
//!   [`Registry::create`] are the front doors.
//! * [`Validator`]: rules per field over a stream of records.
//!
//! Data flows one way: path → codec (bytes → bytes) → format (bytes →
//! records) → rules or engine → format → codec → sink. Formats never know
//! about compression, so every format composes with every codec.
//!
//! ```
//! use iterable_core::{OpenOptions, Record, Registry};
//!
//! let registry = Registry::with_builtins();
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("people.csv.gz");
//!
//! let mut out = registry.create(&path, &OpenOptions::new())?;
//! out.write(&Record::from_pairs([("name", "Ann"), ("city", "Oslo")]))?;
//! out.finish()?;
//!
//! let records: Vec<Record> = registry.open(&path, &OpenOptions::new())?.collect::<Result<_, _>>()?;
//! assert_eq!(records[0].get("city").and_then(|v| v.as_str()), Some("Oslo"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! This crate emits `tracing` events and never installs a subscriber.

#![deny(missing_docs)]

mod codecs;
mod de;
pub mod describe;
mod error;
pub mod formats;
pub mod io;
pub mod known;
mod observe;
mod open;
mod options;
mod provider;
mod record;
mod registry;
mod rules;
pub mod typed;
mod validate;

/// How many records cross a boundary at once, at most: a batch handed to
/// rules and hooks, asked of and sent to plugins, and sent to isolated
/// plugins' runners (one constant for all of them).
pub const BATCH_ROWS: usize = 2048;

pub use codecs::{Gzip, Zstd};
pub use de::DeError;
pub use error::{Error, ErrorKind, Origin, Position, Result};
pub use observe::Run;
pub use open::{OpenOptions, Reader, Writer, extensions, uri_scheme};
pub use options::{OptionSpec, OptionType, Options, parse_bool, parse_char};
pub use provider::{
    BoxReader, BoxWriter, Codec, CodecInfo, Connection, Driver, DriverInfo, Engine, EngineInfo,
    Format, FormatInfo, Hook, HookInfo, RecordReader, RecordWriter, Rule, RuleInfo, RunInfo,
    RunObserver, RunSummary, Source, VecReader, check_as_batch,
};
pub use record::{Batch, FieldNames, Record};
pub use registry::{Entry, Placement, Provider, ProviderSource, Registry};
pub use rules::builtin_rules;
pub use typed::{Date, Decimal, Time, TimeUnit, Timestamp};
pub use validate::{CheckStats, FieldError, Report, Stats, Validation, ValidationMode, Validator};
pub use value::{Map, Value};

mod value;

/// Every built-in provider, in the order the registry lists them.
pub fn builtins() -> Vec<Provider> {
    use std::sync::Arc;
    let mut v: Vec<Provider> = vec![
        Provider::Format(Arc::new(formats::DelimitedFormat::csv())),
        Provider::Format(Arc::new(formats::DelimitedFormat::tsv())),
        Provider::Format(Arc::new(formats::DelimitedFormat::psv())),
        Provider::Format(Arc::new(formats::JsonLinesFormat::jsonl())),
        Provider::Format(Arc::new(formats::JsonLinesFormat::ndjson())),
        Provider::Format(Arc::new(formats::JsonFormat::new())),
        Provider::Codec(Arc::new(Gzip::new())),
        Provider::Codec(Arc::new(Zstd::new())),
    ];
    v.extend(rules::builtin_rules().into_iter().map(Provider::Rule));
    v
}
