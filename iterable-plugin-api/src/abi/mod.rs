//! The frozen wire: every type that crosses the plugin boundary, and
//! nothing else.
//!
//! Everything here is `#[repr(C)]` + `#[derive(StableAbi)]` (or a
//! `#[sabi_trait]` object) and is frozen for the whole 1.x series. abi_stable
//! 0.11 refuses a peer whose prefix types have fewer fields than the host's,
//! so nothing is appended to the 1.0 root module or vtables: each later
//! capability comes as an optional exported symbol of its own
//! ([`capability`], [`hooks`]). See `docs/abi-policy.md`.
//!
//! Plugin authors normally never touch this module: they implement the
//! traits in [`crate::sdk`] and call [`crate::export_plugin!`].
//!
//! | module | what |
//! |---|---|
//! | [`module`] | the root module a library exports, and the ABI version |
//! | [`describe`] | plugin metadata, provider descriptions, options |
//! | [`objects`] | byte and record streams, provider objects |
//! | [`batch`] | the flat record batch and its reader and builder |
//! | [`value`] | self-describing nested values |
//! | [`error`] | the wire error |
//! | [`capability`] | 1.1: how optional capabilities are exported and found |
//! | [`hooks`] | 1.1: hook providers, the first optional capability |

pub mod batch;
pub mod capability;
pub mod describe;
pub mod error;
pub mod files;
pub mod hooks;
pub mod module;
pub mod objects;
pub mod typed;
pub mod value;

pub use batch::{
    BATCH_SOFT_LIMIT_BYTES, BatchBuilder, BatchView, CellRef, DEFAULT_BATCH_ROWS, RBatch, RowView,
    Rows, tag,
};
pub use describe::{
    CodecInfo, DriverInfo, EngineInfo, FormatInfo, OptionSpec, PluginMetadata, RExtra, ROptions,
    RuleInfo, options_to_vec, roptions,
};
pub use error::{RError, RErrorKind};
pub use module::{ABI_MAJOR, ABI_MINOR, ABI_VERSION, PluginModule, PluginModule_Ref};
pub use objects::*;
pub use value::RValue;
