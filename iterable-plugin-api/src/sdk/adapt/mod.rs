//! Adapters: author traits exposed as wire objects, one file per kind,
//! every method panic-guarded.

mod codec;
mod driver;
mod engine;
mod format;
mod hook;
mod records;
mod rule;

pub use codec::codec_provider;
pub use driver::driver_provider;
pub use engine::engine_provider;
pub use format::{format_provider, path_format_provider};
pub use hook::hook_provider;
pub use records::{reader_source, writer_sink};
pub use rule::rule_provider;
