//! Hooks (ABI 1.1): an author [`Hook`] as a wire [`HookProvider`].

use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{RResult, RStr};

use crate::abi::hooks::{
    HookInfo, HookProvider, HookProvider_TO, HookProviderBox, RunInfo, RunObserver, RunObserver_TO,
    RunObserverBox, RunSummary,
};
use crate::abi::{RBatch, RError, ROptions};
use crate::sdk::guard::{Poison, catch, drop_guarded};
use crate::sdk::options::Options;
use crate::sdk::traits::{Hook, RunWatcher};

struct WatcherAdapter {
    watcher: Option<Box<dyn RunWatcher>>,
    poison: Poison,
}

impl WatcherAdapter {
    fn call(
        &mut self,
        f: impl FnOnce(&mut dyn RunWatcher) -> crate::Result<()>,
    ) -> RResult<(), RError> {
        let Some(w) = self.watcher.as_mut() else {
            return RResult::RErr(RError::invalid_input("the run is closed"));
        };
        self.poison
            .run(|| f(w.as_mut()).map_err(RError::from))
            .into()
    }
}

impl RunObserver for WatcherAdapter {
    fn batch(&mut self, batch: &RBatch) -> RResult<(), RError> {
        let view = match batch.validated() {
            Ok(v) => v,
            Err(e) => return RResult::RErr(e),
        };
        self.call(|w| w.batch(view))
    }
    fn error(&mut self, message: RStr<'_>) -> RResult<(), RError> {
        self.call(|w| w.error(message.as_str()))
    }
    fn close(&mut self, summary: &RunSummary) -> RResult<(), RError> {
        let r = self.call(|w| w.close(summary));
        if let Some(w) = self.watcher.take() {
            drop_guarded(w);
        }
        r
    }
}

impl Drop for WatcherAdapter {
    fn drop(&mut self) {
        if let Some(w) = self.watcher.take() {
            drop_guarded(w);
        }
    }
}

struct HookAdapter<H> {
    hook: H,
    info: HookInfo,
}

impl<H: Hook> HookProvider for HookAdapter<H> {
    fn info(&self) -> HookInfo {
        self.info.clone()
    }
    fn open(&self, run: &RunInfo, options: ROptions) -> RResult<RunObserverBox, RError> {
        catch(|| {
            let opts =
                Options::checked(&options, &self.info.options, "hook", &self.info.id, false)?;
            let watcher = self.hook.open(run, &opts).map_err(RError::from)?;
            Ok(RunObserver_TO::from_value(
                WatcherAdapter {
                    watcher: Some(watcher),
                    poison: Poison::default(),
                },
                TD_Opaque,
            ))
        })
        .and_then(|r| r)
        .into()
    }
}

/// Exposes a [`Hook`] as a wire provider.
pub fn hook_provider<H: Hook>(hook: H) -> Result<HookProviderBox, RError> {
    let info = catch(|| hook.info())?.into_info();
    Ok(HookProvider_TO::from_value(
        HookAdapter { hook, info },
        TD_Opaque,
    ))
}
