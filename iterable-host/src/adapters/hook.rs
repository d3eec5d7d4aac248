//! Hooks.

use std::sync::Arc;

use iterable_core::{
    Batch, Error, Hook, HookInfo, Options, Result, RunInfo, RunObserver, RunSummary,
};
use iterable_plugin_api::abi_stable::std_types::RStr;
use iterable_plugin_api::{RBatch, RunObserverBox};

use crate::convert;
use crate::loader::Library;

use super::*;
// Hooks

/// A plugin hook, loaded on first use.
pub type LazyHook = Lazy<HookInfo>;

impl Hook for LazyHook {
    fn info(&self) -> &HookInfo {
        self.current()
    }

    fn prepare(&self) -> Result<()> {
        self.provider().map(|_| ())
    }

    fn open(&self, run: &RunInfo, options: &Options) -> Result<Box<dyn RunObserver>> {
        let (lib, i) = self.provider()?;
        if let Which::Native(h) = which(&lib, i, |c| &c.hooks) {
            return h.open(run, options);
        }
        let name = self.plugin.name();
        let hooks = lib.hooks()?.map(Vec::as_slice).unwrap_or_default();
        let info = convert::run_info_to_plugin(run);
        let opts = convert::options_to_plugin(options);
        let observer = convert::call(name, "opening the hook", || hooks[i].1.open(&info, opts))?;
        Ok(Box::new(PluginObserver {
            plugin: name.to_owned(),
            observer,
            batch: RBatch::new(),
            _lib: lib,
        }))
    }
}

/// A run, as a plugin hook observes it.
struct PluginObserver {
    plugin: String,
    observer: RunObserverBox,
    /// Reused for every batch.
    batch: RBatch,
    /// Keeps the library's objects alive as long as the observer.
    _lib: Arc<Library>,
}

impl RunObserver for PluginObserver {
    fn batch(&mut self, batch: &Batch) -> Result<()> {
        convert::batch_to_plugin(batch, &mut self.batch);
        let b = &self.batch;
        convert::call(&self.plugin, "observing records", || self.observer.batch(b))
    }

    fn error(&mut self, error: &Error) -> Result<()> {
        let text = error.to_string();
        convert::call(&self.plugin, "observing an error", || {
            self.observer.error(RStr::from_str(&text))
        })
    }

    fn close(&mut self, summary: &RunSummary) -> Result<()> {
        let s = convert::run_summary_to_plugin(summary);
        convert::call(&self.plugin, "closing the hook", || self.observer.close(&s))
    }
}
