//! Plugins out of process: a plugin whose isolation is
//! [`Isolation::Process`] is never loaded into the host. A *runner*, a
//! child process (the scanner program in another mode), loads it, applies
//! a sandbox on Linux, and serves its calls over a pair of pipes: records
//! cross as Arrow IPC batches, bytes as they are, one frame per batch.
//!
//! When a runner dies or stops answering in the middle of a call, the call
//! fails with an error of kind [`PluginErrorKind::Died`] that names the
//! plugin, the call (`read`, `write`, `decode`, `encode`, `check`, `query`,
//! `hook`) and the cause: the signal, the exit status, `no answer within N
//! s` (the runner is killed), or `out of memory`. The host goes on; the next
//! call starts a new runner. A writer that fails leaves no output (files
//! are written to a temporary name and renamed at the end).
//!
//! A runner that ends a call cleanly is kept for the next call of the same
//! plugin (at most [`IDLE_RUNNERS`] wait); one that failed is killed.
//!
//! [`PluginErrorKind::Died`]: crate::PluginErrorKind::Died

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

mod proxy;
mod runner;
mod sandbox;
mod serve;
pub(crate) mod wire;

pub use crate::policy::{
    DEFAULT_CALL_TIMEOUT, ENV_ISOLATE, ENV_PLUGIN_TIMEOUT, Isolation, Limits, SandboxReport,
    SettingsFrom, parse_bytes, seconds,
};
pub(crate) use proxy::{Plan, library};
pub use serve::serve;

pub use crate::proc::SERVE_ARG;

/// How many runners of one plugin wait for the next call.
pub const IDLE_RUNNERS: usize = 2;

/// How a runner is started and what it is told: one JSON argument.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Spec {
    /// The plugin's name, for messages.
    pub name: String,
    /// The library to load.
    pub library: PathBuf,
    /// The manifest, for a plugin that needs it to load (ADBC).
    pub manifest: Option<PathBuf>,
    /// Whether to describe hooks (costs a capability lookup).
    pub hooks: bool,
    /// Limits, as the runner applies them.
    pub memory_limit: Option<u64>,
    pub network: bool,
    pub sandbox: bool,
    /// What it may read besides the system's libraries: its own directory,
    /// what the configuration grants, and, for a runner that reads one file
    /// by path, that file.
    pub read: Vec<PathBuf>,
    /// What it may write: what the configuration grants, and, for a
    /// driver's file database, that file's directory.
    pub write: Vec<PathBuf>,
    /// A scratch directory it may write in (removed afterwards).
    pub scratch: Option<PathBuf>,
}
