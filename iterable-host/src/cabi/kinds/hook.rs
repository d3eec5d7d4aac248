//! Hooks: a C plugin observing a run.

use super::*;

/// A C plugin's hook.
pub(crate) struct CHook {
    info: HookInfo,
    raw: Raw<abi::IdpHook>,
}

impl CHook {
    pub fn new(info: HookInfo, raw: Raw<abi::IdpHook>) -> Self {
        CHook { info, raw }
    }
}

impl Hook for CHook {
    fn info(&self) -> &HookInfo {
        &self.info
    }

    fn open(&self, run: &RunInfo, options: &Options) -> Result<Box<dyn RunObserver>> {
        let plugin = &*self.raw.plugin;
        let open = function(self.raw.raw.open, plugin, "the hook cannot open")?;
        // Lent to the observer: the run info and the options stay valid (at
        // these addresses) until the observer is released.
        let lent = LentRun::new(run, options);
        let mut out: IdpObserver = zeroed();
        call(plugin, "opening the hook", |e| {
            // SAFETY: the plugin's function; the run info and options live in
            // `lent`, which the observer keeps until after its release.
            unsafe {
                open(
                    self.raw.raw.data,
                    &lent.info,
                    lent.options.as_ptr(),
                    &mut out,
                    e,
                )
            }
        })?;
        Ok(Box::new(CObserver {
            raw: out,
            plugin: plugin.to_owned(),
            _lent: lent,
        }))
    }
}

/// What a hook's `open` is lent: the run info (pointing into the strings
/// kept beside it) and the options, boxed so that they never move.
struct LentRun {
    info: IdpRunInfo,
    options: Box<COptions>,
    _strings: [CString; 3],
    _target: Option<CString>,
}

impl LentRun {
    fn new(run: &RunInfo, options: &Options) -> Box<LentRun> {
        let strings = [
            cstring(&run.command),
            cstring(&run.source),
            cstring(&run.format),
        ];
        let target = run.target.as_deref().map(cstring);
        // A CString's bytes live on the heap: moving the CString (into the
        // box below) does not move them.
        let info = IdpRunInfo {
            struct_size: size_of::<IdpRunInfo>() as u32,
            command: strings[0].as_ptr(),
            source: strings[1].as_ptr(),
            target: target.as_ref().map_or(std::ptr::null(), |t| t.as_ptr()),
            format: strings[2].as_ptr(),
        };
        Box::new(LentRun {
            info,
            options: COptions::new(options),
            _strings: strings,
            _target: target,
        })
    }
}

// SAFETY: the raw pointers point into the strings the struct owns.
unsafe impl Send for LentRun {}

/// A C plugin's observer. Its fields drop after `Drop::drop` has released
/// the observer, so what it was lent outlives it.
struct CObserver {
    raw: IdpObserver,
    plugin: String,
    _lent: Box<LentRun>,
}

// SAFETY: the plugin's observer is used from one thread at a time.
unsafe impl Send for CObserver {}

impl RunObserver for CObserver {
    fn batch(&mut self, batch: &Batch) -> Result<()> {
        let Some(f) = self.raw.batch else {
            return Ok(());
        };
        let (mut schema, mut array) = stream::export_batch(batch.names(), batch.rows(), false)?;
        let raw = &mut self.raw;
        let result = call(&self.plugin, "observing records", |e| {
            // SAFETY: the plugin's observer; the batch is its to release or
            // move; what it leaves is released when it drops.
            unsafe { f(raw, schema_ptr(&mut schema), array_ptr(&mut array), e) }
        });
        drop((schema, array));
        result.map_err(|e| {
            if e.kind() == ErrorKind::Other {
                Error::new(ErrorKind::Hook, e.message().to_owned()).with_plugin(&self.plugin)
            } else {
                e
            }
        })
    }

    fn error(&mut self, error: &Error) -> Result<()> {
        let Some(f) = self.raw.failed else {
            return Ok(());
        };
        let text = cstring(&error.to_string());
        let raw = &mut self.raw;
        call(&self.plugin, "observing an error", |e| {
            // SAFETY: the plugin's observer.
            unsafe { f(raw, text.as_ptr(), e) }
        })
    }

    fn close(&mut self, summary: &RunSummary) -> Result<()> {
        let Some(f) = self.raw.close else {
            return Ok(());
        };
        let s = IdpRunSummary {
            struct_size: size_of::<IdpRunSummary>() as u32,
            records: summary.records,
            bytes_read: summary.bytes_read,
            ok: i32::from(summary.ok),
        };
        let raw = &mut self.raw;
        call(&self.plugin, "closing the hook", |e| {
            // SAFETY: the plugin's observer.
            unsafe { f(raw, &s, e) }
        })
    }
}

impl Drop for CObserver {
    fn drop(&mut self) {
        release(&mut self.raw);
    }
}
