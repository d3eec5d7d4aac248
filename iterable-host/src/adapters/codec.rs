//! Codecs.

use std::io::{self, Write};
use std::sync::Arc;

use iterable_core::io::{BoxRead, BoxSink, ByteSink};
use iterable_core::{Codec, CodecInfo, Error, Result};
use iterable_plugin_api::ByteSourceBox;
use iterable_plugin_api::sdk::streams::{SinkWriter, SourceReader};

use crate::convert;
use crate::loader::Library;

use super::records::*;
use super::*;
// Codecs

/// A plugin codec, loaded on first use.
pub type LazyCodec = Lazy<CodecInfo>;

impl Codec for LazyCodec {
    fn info(&self) -> &CodecInfo {
        self.current()
    }

    fn prepare(&self) -> Result<()> {
        self.provider().map(|_| ())
    }

    fn decoder(&self, input: BoxRead) -> Result<BoxRead> {
        self.sized_decoder(input, None)
    }

    fn sized_decoder(&self, input: BoxRead, size: Option<u64>) -> Result<BoxRead> {
        let (lib, i) = self.provider()?;
        let rust = match which(&lib, i, |c| &c.codecs) {
            Which::Native(c) => return c.sized_decoder(input, size),
            Which::Rust(r) => r,
        };
        let name = self.plugin.name();
        let source = ByteSourceBox::from_reader(input);
        let decoded = convert::call(name, "starting to decode", || {
            rust.codecs[i].decoder(source)
        })?;
        Ok(Box::new(PluginRead {
            plugin: name.to_owned(),
            inner: SourceReader::new(decoded),
        }))
    }

    fn encoder(&self, output: BoxSink, level: Option<i32>) -> Result<BoxSink> {
        let (lib, i) = self.provider()?;
        let rust = match which(&lib, i, |c| &c.codecs) {
            Which::Native(c) => return c.encoder(output, level),
            Which::Rust(r) => r,
        };
        let name = self.plugin.name();
        let shared = SharedSink::new(output);
        let level = level.into();
        let enc = convert::call(name, "starting to encode", || {
            rust.codecs[i].encoder(shared.proxy(), level)
        })?;
        Ok(Box::new(PluginEncoder {
            plugin: name.to_owned(),
            inner: SinkWriter::new(enc),
            shared: Some(shared),
            _lib: lib,
        }))
    }
}

/// A plugin's encoder as a core byte sink.
struct PluginEncoder {
    plugin: String,
    inner: SinkWriter,
    shared: Option<SharedSink>,
    _lib: Arc<Library>,
}

impl Write for PluginEncoder {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let inner = &mut self.inner;
        call_io(&self.plugin, "encoding", || inner.write_all(buf)).map(|()| buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        let inner = &mut self.inner;
        call_io(&self.plugin, "flushing", || inner.flush())
    }
}

impl ByteSink for PluginEncoder {
    fn finish(mut self: Box<Self>) -> io::Result<()> {
        let inner = &mut self.inner;
        call_io(&self.plugin, "finishing the stream", || {
            inner.finish().map_err(io::Error::from)
        })?;
        match self.shared.take() {
            Some(s) => s.finish().map_err(Error::into_io),
            None => Ok(()),
        }
    }
}
