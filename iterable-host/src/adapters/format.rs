//! Formats.

use iterable_core::io::{BoxRead, BoxSink};
use iterable_core::{BoxReader, BoxWriter, Format, FormatInfo, Options, Result};
use iterable_plugin_api::abi_stable::std_types::{RNone, RSome, RStr};
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

    fn path_reader(&self, path: &std::path::Path, options: &Options) -> Option<Result<BoxReader>> {
        // Only a format that says it reads paths is asked (asking costs a
        // capability lookup, and loads the library).
        if !self.info().reads_paths {
            return None;
        }
        let (lib, i) = match self.provider() {
            Ok(p) => p,
            Err(e) => return Some(Err(e)),
        };
        let path_text = path.to_str()?;
        let id = lib.formats[i].0.id.clone();
        let entry = lib.path_format(&id)?;
        let name = self.plugin.name();
        let opts = convert::options_to_plugin(options);
        let opened = convert::call(name, "opening a file", || {
            entry.open_path(RStr::from_str(path_text), opts)
        });
        match opened {
            Ok(RSome(records)) => Some(Ok(Box::new(PluginReader::new(name, records, Some(lib))))),
            Ok(RNone) => None,
            Err(e) => Some(Err(e)),
        }
    }

    fn path_schema(&self, path: &std::path::Path, options: &Options) -> Option<Result<String>> {
        if !self.info().reads_paths {
            return None;
        }
        let (lib, i) = self.provider().ok()?;
        let path_text = path.to_str()?;
        let id = lib.formats[i].0.id.clone();
        let entry = lib.path_format(&id)?;
        let opts = convert::options_to_plugin(options);
        match convert::call(self.plugin.name(), "reading a file's schema", || {
            entry.schema_of_path(RStr::from_str(path_text), opts)
        }) {
            Ok(RSome(s)) => Some(Ok(s.into_string())),
            Ok(RNone) => None,
            Err(e) => Some(Err(e)),
        }
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
