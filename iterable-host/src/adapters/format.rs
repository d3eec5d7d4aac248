//! Formats.

use iterable_core::io::{BoxRead, BoxSink};
use iterable_core::{BoxReader, BoxWriter, Format, FormatInfo, Options, Result};
use iterable_plugin_api::{ByteSourceBox, RBatch};

use crate::convert;

use super::records::*;
use super::*;
// Formats

/// A plugin format, loaded on first use.
pub type LazyFormat = Lazy<FormatInfo>;

impl Format for LazyFormat {
    fn info(&self) -> &FormatInfo {
        self.current()
    }

    fn prepare(&self) -> Result<()> {
        self.provider().map(|_| ())
    }

    fn reader(&self, input: BoxRead, options: &Options) -> Result<BoxReader> {
        let (lib, i) = self.provider()?;
        let name = self.plugin.name();
        let source = ByteSourceBox::from_reader(input);
        let opts = convert::options_to_plugin(options);
        let records = convert::call(name, "opening a reader", || {
            lib.formats[i].1.open_reader(source, opts)
        })?;
        Ok(Box::new(PluginReader::new(name, records, Some(lib))))
    }

    fn writer(&self, output: BoxSink, options: &Options) -> Result<BoxWriter> {
        let (lib, i) = self.provider()?;
        let name = self.plugin.name();
        let shared = SharedSink::new(output);
        let opts = convert::options_to_plugin(options);
        let sink = convert::call(name, "opening a writer", || {
            lib.formats[i].1.open_writer(shared.proxy(), opts)
        })?;
        Ok(Box::new(PluginWriter {
            plugin: name.to_owned(),
            sink: Some(sink),
            batch: RBatch::new(),
            names: None,
            bytes: Some(shared),
            written: 0,
            _lib: Some(lib),
        }))
    }
}
