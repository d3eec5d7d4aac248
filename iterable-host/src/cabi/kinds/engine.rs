//! Engines: a C plugin's queries over the host's record streams.

use super::*;

/// A C plugin's engine.
pub(crate) struct CEngine {
    info: EngineInfo,
    raw: Raw<abi::IdpEngine>,
}

impl CEngine {
    pub fn new(info: EngineInfo, raw: Raw<abi::IdpEngine>) -> Self {
        CEngine { info, raw }
    }
}

/// What an engine's result is lent: its input streams (each the engine's
/// to release; those it leaves are released after the result), their
/// names, and the options.
struct EngineLent {
    inputs: Vec<FFI_ArrowArrayStream>,
    _names: Vec<std::ffi::CString>,
    _name_ptrs: Vec<*const std::ffi::c_char>,
    _options: Box<COptions>,
}

// SAFETY: the pointers point into `_names`, owned here; the streams are Send.
unsafe impl Send for EngineLent {}

impl Lent for EngineLent {}

impl Drop for EngineLent {
    fn drop(&mut self) {
        // Inputs the engine neither released nor moved are released here
        // (each FFI_ArrowArrayStream releases itself once when dropped).
        self.inputs.clear();
    }
}

impl Engine for CEngine {
    fn info(&self) -> &EngineInfo {
        &self.info
    }

    fn execute(
        &self,
        query: &str,
        inputs: Vec<(String, BoxReader)>,
        options: &Options,
    ) -> Result<BoxReader> {
        let plugin = &*self.raw.plugin;
        let execute = function(
            self.raw.raw.execute,
            plugin,
            "the engine cannot run queries",
        )?;
        let names: Vec<std::ffi::CString> = inputs.iter().map(|(n, _)| cstring(n)).collect();
        let name_ptrs: Vec<*const std::ffi::c_char> = names.iter().map(|n| n.as_ptr()).collect();
        let streams: Vec<FFI_ArrowArrayStream> = inputs
            .into_iter()
            .map(|(_, r)| stream::export_reader(r))
            .collect();
        let mut lent = Box::new(EngineLent {
            inputs: streams,
            _names: names,
            _name_ptrs: name_ptrs,
            _options: COptions::new(options),
        });
        let query = cstring(query);
        let mut out = FFI_ArrowArrayStream::empty();
        let n = lent.inputs.len();
        let inputs_ptr = if n == 0 {
            std::ptr::null_mut()
        } else {
            lent.inputs.as_mut_ptr().cast::<abi::ArrowArrayStream>()
        };
        let names_ptr = lent._name_ptrs.as_ptr();
        let opts = lent._options.as_ptr();
        call(plugin, "running a query", |e| {
            // SAFETY: the plugin's function; the inputs, names and options
            // stay alive until the result stream is released.
            unsafe {
                execute(
                    self.raw.raw.data,
                    query.as_ptr(),
                    n,
                    names_ptr,
                    inputs_ptr,
                    opts,
                    stream_ptr(&mut out),
                    e,
                )
            }
        })?;
        // SAFETY: the plugin filled `out`.
        let stream = unsafe { CStream::new(out, plugin, Some(lent)) }?;
        Ok(Box::new(StreamReader::new(stream)?))
    }
}
