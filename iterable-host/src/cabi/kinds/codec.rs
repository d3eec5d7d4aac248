//! Codecs: byte streams through a C plugin.

use super::*;

/// A C plugin's codec.
pub(crate) struct CCodec {
    info: CodecInfo,
    raw: Raw<abi::IdpCodec>,
}

impl CCodec {
    pub fn new(info: CodecInfo, raw: Raw<abi::IdpCodec>) -> Self {
        CCodec { info, raw }
    }
}

impl Codec for CCodec {
    fn info(&self) -> &CodecInfo {
        &self.info
    }

    fn decoder(&self, input: BoxRead) -> Result<BoxRead> {
        self.sized_decoder(input, None)
    }

    fn sized_decoder(&self, input: BoxRead, size: Option<u64>) -> Result<BoxRead> {
        let plugin = &*self.raw.plugin;
        let decoder = function(self.raw.raw.decoder, plugin, "this codec cannot decode")?;
        let mut source = HostSource::new(input, size);
        let mut out: IdpByteSource = zeroed();
        call(plugin, "starting to decode", |e| {
            // SAFETY: the plugin's function; the source outlives `out`.
            unsafe { decoder(self.raw.raw.data, source.as_ptr(), &mut out, e) }
        })
        .map_err(|e| source.take_error().unwrap_or(e))?;
        // SAFETY: the plugin filled `out` as the header says.
        Ok(Box::new(unsafe { PluginSource::new(out, plugin, source) }))
    }

    fn encoder(&self, output: BoxSink, level: Option<i32>) -> Result<BoxSink> {
        let plugin = &*self.raw.plugin;
        let encoder = function(self.raw.raw.encoder, plugin, "this codec cannot encode")?;
        let mut sink = HostSink::new(output);
        let mut out: IdpByteSink = zeroed();
        call(plugin, "starting to encode", |e| {
            // SAFETY: the plugin's function; the sink outlives `out`.
            unsafe {
                encoder(
                    self.raw.raw.data,
                    sink.as_ptr(),
                    level.unwrap_or(IDP_LEVEL_DEFAULT),
                    &mut out,
                    e,
                )
            }
        })
        .map_err(|e| sink.take_error().unwrap_or(e))?;
        // SAFETY: the plugin filled `out` as the header says.
        Ok(Box::new(unsafe { PluginSink::new(out, plugin, sink) }))
    }
}
