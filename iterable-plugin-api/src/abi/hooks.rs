//! ABI 1.1: hooks, the sixth kind of provider, exported as the optional
//! capability [`HOOKS_SYMBOL`] (see [`super::capability`]).
//!
//! A hook observes the record stream of a run (`cat`, `convert`,
//! `validate`, `query`): it is opened with what the run reads and writes,
//! sees every batch read-only, is told of errors, and is closed with the
//! counts. An error it returns stops the run and names the hook.

// `HooksModule_Ref`, following abi_stable's naming.
#![allow(non_camel_case_types)]

use abi_stable::StableAbi;
use abi_stable::sabi_trait;
use abi_stable::std_types::{RBox, RResult, RStr, RString, RVec};

use super::batch::RBatch;
use super::capability::CapabilityHeader;
use super::describe::{OptionSpec, RExtra, ROptions};
use super::error::RError;

/// The name of the exported symbol that holds a [`HooksHeader`].
pub const HOOKS_SYMBOL: &str = "iterable_plugin_hooks_v1";

/// What a hook declares about itself.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq, Default)]
pub struct HookInfo {
    /// The hook id (`"audit"`), unique among hooks.
    pub id: RString,
    /// One line of description.
    pub description: RString,
    /// The options it accepts (`--hook-option ID.KEY=VALUE`).
    pub options: RVec<OptionSpec>,
    /// Future keys.
    pub extra: RExtra,
}

/// What a run is, given to a hook when it opens.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq, Default)]
pub struct RunInfo {
    /// The command (`"cat"`, `"convert"`, `"validate"`, `"query"`).
    pub command: RString,
    /// What is read: a path, `-`, or a URI.
    pub source: RString,
    /// What is written (empty when the run writes only to stdout).
    pub target: RString,
    /// The format being read.
    pub format: RString,
    /// Future keys.
    pub extra: RExtra,
}

/// How a run ended, given to a hook when it closes.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq, Default)]
pub struct RunSummary {
    /// Records read.
    pub records: u64,
    /// Bytes of input read (before decompression), 0 when unknown.
    pub bytes_read: u64,
    /// Whether the run succeeded.
    pub ok: bool,
    /// Future keys.
    pub extra: RExtra,
}

/// One run, as a hook sees it.
#[sabi_trait]
pub trait RunObserver: Send {
    /// The next batch of records read (read-only). An error stops the run.
    fn batch(&mut self, batch: &RBatch) -> RResult<(), RError>;
    /// The run failed with this message (called at most once, before `close`).
    fn error(&mut self, message: RStr<'_>) -> RResult<(), RError>;
    /// The run is over. Called once.
    // last_prefix_field: the last method of 1.1; later methods go below it.
    #[sabi(last_prefix_field)]
    fn close(&mut self, summary: &RunSummary) -> RResult<(), RError>;
}

/// An owned [`RunObserver`] object.
pub type RunObserverBox = RunObserver_TO<'static, RBox<()>>;

/// A hook.
#[sabi_trait]
pub trait HookProvider: Send + Sync {
    /// The hook's description.
    fn info(&self) -> HookInfo;
    /// Starts observing a run. Unknown options are an `INVALID_OPTION` error.
    // last_prefix_field: the last method of 1.1; later methods go below it.
    #[sabi(last_prefix_field)]
    fn open(&self, run: &RunInfo, options: ROptions) -> RResult<RunObserverBox, RError>;
}

/// An owned [`HookProvider`] object.
pub type HookProviderBox = HookProvider_TO<'static, RBox<()>>;

/// The hooks capability's module.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = HooksModule_Ref)))]
#[sabi(missing_field(panic))]
pub struct HooksModule {
    /// The hooks this plugin provides.
    // last_prefix_field: the last field of 1.1; later minors add capabilities
    // of their own rather than fields here.
    #[sabi(last_prefix_field)]
    pub hooks: extern "C" fn() -> RResult<RVec<HookProviderBox>, RError>,
}

/// What [`HOOKS_SYMBOL`] holds.
pub type HooksHeader = CapabilityHeader<HooksModule_Ref>;
