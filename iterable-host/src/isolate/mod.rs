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
//! This module is the host's side: the proxies that stand behind the core's
//! traits, and the runner processes they lease. The child's side is
//! [`crate::runner`]; both speak [`crate::wire`].
//!
//! [`PluginErrorKind::Died`]: crate::PluginErrorKind::Died

mod process;
mod proxy;

pub use crate::policy::{
    DEFAULT_CALL_TIMEOUT, ENV_ISOLATE, ENV_PLUGIN_TIMEOUT, Isolation, Limits, SandboxReport,
    SettingsFrom, parse_bytes, seconds,
};
pub(crate) use proxy::{Plan, library};

pub use crate::proc::SERVE_ARG;

/// How many runners of one plugin wait for the next call.
pub const IDLE_RUNNERS: usize = 2;
