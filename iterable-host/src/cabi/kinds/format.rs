//! Formats: a C plugin's readers (Arrow streams) and writers (batches).

use super::*;

/// A C plugin's format.
pub(crate) struct CFormat {
    info: FormatInfo,
    raw: Raw<abi::IdpFormat>,
}

impl CFormat {
    pub fn new(info: FormatInfo, raw: Raw<abi::IdpFormat>) -> Self {
        CFormat { info, raw }
    }

    /// The 1.1 flags, or none for a 1.0 plugin.
    fn flags(&self) -> u32 {
        if abi::has_field(
            self.raw.size,
            offset_of!(abi::IdpFormat, flags),
            size_of::<u32>(),
        ) {
            self.raw.raw.flags
        } else {
            0
        }
    }
}

impl Format for CFormat {
    fn info(&self) -> &FormatInfo {
        &self.info
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
        let plugin = &*self.raw.plugin;
        let open = function(
            self.raw.raw.open_reader.filter(|_| self.info.can_read),
            plugin,
            format!("format '{}' cannot read", self.info.id),
        )?;
        let mut lent = Box::new(ReaderLent {
            source: HostSource::new(input, size),
            _options: COptions::new(options),
        });
        let mut out = FFI_ArrowArrayStream::empty();
        call(plugin, "opening a reader", |e| {
            // SAFETY: the plugin's function, with a source and options that
            // stay alive until the stream is released (the stream keeps them).
            unsafe {
                open(
                    self.raw.raw.data,
                    lent.source.as_ptr(),
                    lent._options.as_ptr(),
                    stream_ptr(&mut out),
                    e,
                )
            }
        })
        .map_err(|e| lent.source.take_error().unwrap_or(e))?;
        // SAFETY: the plugin filled `out` as the stream interface says.
        let stream = unsafe { CStream::new(out, plugin, Some(lent)) }?;
        Ok(Box::new(StreamReader::new(stream)?))
    }

    fn writer(&self, output: BoxSink, options: &Options) -> Result<BoxWriter> {
        let plugin = &*self.raw.plugin;
        let open = function(
            self.raw.raw.open_writer.filter(|_| self.info.can_write),
            plugin,
            format!("format '{}' cannot write", self.info.id),
        )?;
        let mut sink = HostSink::new(output);
        let opts = COptions::new(options);
        let mut out: IdpBatchWriter = zeroed();
        call(plugin, "opening a writer", |e| {
            // SAFETY: the plugin's function, with a sink and options that
            // stay alive until the writer is released (the writer keeps them).
            unsafe { open(self.raw.raw.data, sink.as_ptr(), opts.as_ptr(), &mut out, e) }
        })
        .map_err(|e| sink.take_error().unwrap_or(e))?;
        Ok(Box::new(CWriter::new(
            out,
            plugin,
            self.flags() & IDP_FORMAT_WRITE_TEXT != 0,
            Some(sink),
            opts,
        )))
    }
}

/// What a format's reader is lent: its input and its options.
struct ReaderLent {
    source: HostSource,
    _options: Box<COptions>,
}

impl Lent for ReaderLent {
    fn cause(&mut self) -> Option<Error> {
        self.source.take_error()
    }
}

/// A plugin's batch writer as a core record writer: records are gathered
/// into Arrow batches of [`BATCH_ROWS`] rows, one call per batch. Finished
/// by `finish` (a driver commits); dropped unfinished, it is released and
/// the output abandoned (a driver rolls back).
pub(super) struct CWriter {
    raw: IdpBatchWriter,
    plugin: String,
    /// Every column as text (IDP_FORMAT_WRITE_TEXT).
    text: bool,
    gather: crate::arrow::Gather,
    /// The host's output, for a format's writer.
    sink: Option<HostSink>,
    _options: Box<COptions>,
}

// SAFETY: the plugin's writer is used from one thread at a time.
unsafe impl Send for CWriter {}

impl CWriter {
    pub(super) fn new(
        raw: IdpBatchWriter,
        plugin: &str,
        text: bool,
        sink: Option<HostSink>,
        options: Box<COptions>,
    ) -> CWriter {
        CWriter {
            raw,
            plugin: plugin.to_owned(),
            text,
            gather: crate::arrow::Gather::new(BATCH_ROWS),
            sink,
            _options: options,
        }
    }

    fn flush(&mut self) -> Result<()> {
        match self.gather.take() {
            Some((names, rows)) => self.send(&names, &rows),
            None => Ok(()),
        }
    }

    fn send(&mut self, names: &[String], rows: &[Vec<Value>]) -> Result<()> {
        let (mut schema, mut array) = stream::export_batch(names, rows, self.text)
            .map_err(|e| e.with_plugin(&self.plugin))?;
        let write = function(
            self.raw.write,
            &self.plugin,
            "the writer has no write function",
        )?;
        let raw = &mut self.raw;
        let result = call(&self.plugin, "writing records", |e| {
            // SAFETY: the plugin's writer; the schema and array are its to
            // release or move; what it leaves is released when they drop.
            unsafe { write(raw, schema_ptr(&mut schema), array_ptr(&mut array), e) }
        });
        drop((schema, array));
        result.map_err(|e| {
            self.sink
                .as_mut()
                .and_then(HostSink::take_error)
                .unwrap_or(e)
        })
    }
}

impl RecordWriter for CWriter {
    fn write_record(&mut self, record: &Record) -> Result<()> {
        for (names, rows) in self
            .gather
            .add(record.field_names(), [record.values().to_vec()])
        {
            self.send(&names, &rows)?;
        }
        Ok(())
    }

    fn write_batch(&mut self, batch: &Batch) -> Result<()> {
        // A whole batch goes as it is, after what was gathered before it.
        self.flush()?;
        if batch.is_empty() {
            return Ok(());
        }
        self.send(batch.names(), batch.rows())
    }

    fn finish(mut self: Box<Self>) -> Result<()> {
        self.flush()?;
        if let Some(finish) = self.raw.finish {
            let raw = &mut self.raw;
            call(&self.plugin, "finishing the output", |e| {
                // SAFETY: the plugin's writer.
                unsafe { finish(raw, e) }
            })
            .map_err(|e| {
                self.sink
                    .as_mut()
                    .and_then(HostSink::take_error)
                    .unwrap_or(e)
            })?;
        }
        // The plugin is done with the output: release it, then complete
        // the host's side.
        release(&mut self.raw);
        match self.sink.take() {
            Some(s) => s.finish(),
            None => Ok(()),
        }
    }
}

impl Drop for CWriter {
    fn drop(&mut self) {
        release(&mut self.raw);
        // Then the host's output, unfinished: abandoned.
        self.sink.take();
    }
}
