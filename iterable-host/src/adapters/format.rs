//! Formats.

use iterable_core::io::{BoxRead, BoxSink};
use iterable_core::{BoxReader, BoxWriter, Format, FormatInfo, Options, Result};
use std::sync::Arc;

use iterable_plugin_api::abi::files::PathFormatBox;
use iterable_plugin_api::abi_stable::std_types::{RNone, ROption, RResult, RSome, RStr};
use iterable_plugin_api::{ByteSourceBox, RBatch, RError, ROptions};

use crate::loader::Library;

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
        self.sized_reader(input, None, options)
    }

    fn sized_reader(
        &self,
        input: BoxRead,
        size: Option<u64>,
        options: &Options,
    ) -> Result<BoxReader> {
        match self.open(input, size, options)? {
            Opened::Batches(r) => Ok(r),
            Opened::Records(r) => Ok(r),
        }
    }

    fn path_reader(&self, path: &std::path::Path, options: &Options) -> Option<Result<BoxReader>> {
        if let Some(native) = self.native(options) {
            return match native {
                Ok((lib, i)) => match which(&lib, i, |c| &c.formats) {
                    Which::Native(f) => f.path_reader(path, options),
                    Which::Rust(_) => None,
                },
                Err(e) => Some(Err(e)),
            };
        }
        let name = self.plugin.name();
        self.call_path(path, options, "opening a file", |entry, path, opts| {
            entry.open_path(path, opts)
        })
        .map(|r| {
            r.map(|(records, lib)| {
                Box::new(PluginReader::new(name, records, Some(lib))) as BoxReader
            })
        })
    }

    fn path_schema(&self, path: &std::path::Path, options: &Options) -> Option<Result<String>> {
        if let Some(native) = self.native(options) {
            return match native {
                Ok((lib, i)) => match which(&lib, i, |c| &c.formats) {
                    Which::Native(f) => f.path_schema(path, options),
                    Which::Rust(_) => None,
                },
                Err(e) => Some(Err(e)),
            };
        }
        self.call_path(
            path,
            options,
            "reading a file's schema",
            |entry, path, opts| entry.schema_of_path(path, opts),
        )
        .map(|r| r.map(|(schema, _)| schema.into_string()))
    }

    fn writer(&self, output: BoxSink, options: &Options) -> Result<BoxWriter> {
        let (lib, i) = self.provider()?;
        let rust = match which(&lib, i, |c| &c.formats) {
            Which::Native(f) => return f.writer(output, options),
            Which::Rust(r) => r,
        };
        let name = self.plugin.name();
        let shared = SharedSink::new(output);
        let opts = convert::options_to_plugin(options);
        let sink = convert::call(name, "opening a writer", || {
            rust.formats[i].open_writer(shared.proxy(), opts)
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

/// A reader as the format opened it: a Rust plugin's, whose batches can
/// be taken as they are, or any other.
pub(crate) enum Opened {
    /// A Rust plugin's reader ([`PluginReader::next_batch`] gives its
    /// batches whole).
    Batches(Box<PluginReader>),
    /// Records from anything else.
    Records(BoxReader),
}

impl LazyFormat {
    /// Opens a reader (see [`Opened`]).
    pub(crate) fn open(
        &self,
        input: BoxRead,
        size: Option<u64>,
        options: &Options,
    ) -> Result<Opened> {
        let (lib, i) = self.provider()?;
        let rust = match which(&lib, i, |c| &c.formats) {
            Which::Native(f) => return f.sized_reader(input, size, options).map(Opened::Records),
            Which::Rust(r) => r,
        };
        let name = self.plugin.name();
        let source = ByteSourceBox::from_reader(input);
        let opts = convert::options_to_plugin(options);
        let records = convert::call(name, "opening a reader", || {
            rust.formats[i].open_reader(source, opts)
        })?;
        Ok(Opened::Batches(Box::new(PluginReader::new(
            name,
            records,
            Some(lib),
        ))))
    }

    /// For a format that reads paths and whose library's providers stand
    /// behind the core's traits themselves (an isolated plugin's, a C
    /// plugin's): the library and the index, to ask the provider itself.
    fn native(&self, _options: &Options) -> Option<Result<(Arc<Library>, usize)>> {
        if !self.info().reads_paths {
            return None;
        }
        match self.provider() {
            Ok((lib, i)) if matches!(lib.flavour, crate::loader::Flavour::Native(_)) => {
                Some(Ok((lib, i)))
            }
            Ok(_) => None,
            Err(e) => Some(Err(e)),
        }
    }

    /// Calls one of the format's file-path entry points (the files
    /// capability) on `path`: `None` when the format does not declare that it
    /// reads paths, the path is not UTF-8, the library lacks the capability,
    /// or the entry point declines; the host then streams the file.
    fn call_path<T>(
        &self,
        path: &std::path::Path,
        options: &Options,
        what: &str,
        f: impl FnOnce(&PathFormatBox, RStr<'_>, ROptions) -> RResult<ROption<T>, RError>,
    ) -> Option<Result<(T, Arc<Library>)>> {
        // Only a format that says it reads paths is asked (asking costs a
        // capability lookup, and loads the library).
        if !self.info().reads_paths {
            return None;
        }
        let (lib, i) = match self.provider() {
            Ok(p) => p,
            Err(e) => return Some(Err(e)),
        };
        let path = path.to_str()?;
        let entry = lib.path_format(&lib.description.formats[i].id)?;
        let opts = convert::options_to_plugin(options);
        match convert::call(self.plugin.name(), what, || {
            f(entry, RStr::from_str(path), opts)
        }) {
            Ok(RSome(v)) => Some(Ok((v, lib))),
            Ok(RNone) => None,
            Err(e) => Some(Err(e)),
        }
    }
}
