//! Drivers: a C plugin's connections, tables and queries.

use super::format::CWriter;
use super::*;

/// A C plugin's driver.
pub(crate) struct CDriver {
    info: DriverInfo,
    raw: Raw<abi::IdpDriver>,
}

impl CDriver {
    pub fn new(info: DriverInfo, raw: Raw<abi::IdpDriver>) -> Self {
        CDriver { info, raw }
    }
}

impl Driver for CDriver {
    fn info(&self) -> &DriverInfo {
        &self.info
    }

    fn connect(&self, uri: &str, options: &Options) -> Result<Box<dyn Connection>> {
        let plugin = &*self.raw.plugin;
        let connect = function(self.raw.raw.connect, plugin, "the driver cannot connect")?;
        let uri = cstring(uri);
        let opts = COptions::new(options);
        let mut out: IdpConnection = zeroed();
        call(plugin, "connecting", |e| {
            // SAFETY: the plugin's function.
            unsafe { connect(self.raw.raw.data, uri.as_ptr(), opts.as_ptr(), &mut out, e) }
        })?;
        Ok(Box::new(CConnection {
            raw: out,
            plugin: plugin.to_owned(),
        }))
    }
}

struct CConnection {
    raw: IdpConnection,
    plugin: String,
}

// SAFETY: the plugin's connection is used from one thread at a time.
unsafe impl Send for CConnection {}

/// What a driver's stream is lent: its options.
struct OptionsLent(#[allow(dead_code)] Box<COptions>);

impl Lent for OptionsLent {}

impl Connection for CConnection {
    fn list_tables(&mut self) -> Result<Vec<String>> {
        let list = function(
            self.raw.list_tables,
            &self.plugin,
            "the driver cannot list tables",
        )?;
        let mut out = FFI_ArrowArrayStream::empty();
        let raw = &mut self.raw;
        call(&self.plugin, "listing tables", |e| {
            // SAFETY: the plugin's connection.
            unsafe { list(raw, stream_ptr(&mut out), e) }
        })?;
        // SAFETY: the plugin filled `out`.
        stream::strings(unsafe { CStream::new(out, &self.plugin, None) }?)
    }

    fn read(&mut self, source: &Source, options: &Options) -> Result<BoxReader> {
        let read = function(self.raw.read, &self.plugin, "the driver cannot read")?;
        let (what, text, doing) = match source {
            Source::Table(t) => (IDP_READ_TABLE, t, "reading a table"),
            Source::Query(q) => (IDP_READ_QUERY, q, "running a query"),
        };
        let text = cstring(text);
        let opts = COptions::new(options);
        let mut out = FFI_ArrowArrayStream::empty();
        let raw = &mut self.raw;
        call(&self.plugin, doing, |e| {
            // SAFETY: the plugin's connection.
            unsafe {
                read(
                    raw,
                    what,
                    text.as_ptr(),
                    opts.as_ptr(),
                    stream_ptr(&mut out),
                    e,
                )
            }
        })?;
        // SAFETY: the plugin filled `out`.
        let stream = unsafe { CStream::new(out, &self.plugin, Some(Box::new(OptionsLent(opts)))) }?;
        Ok(Box::new(StreamReader::new(stream)?))
    }

    fn write(&mut self, table: &str, options: &Options) -> Result<BoxWriter> {
        let write = function(self.raw.write, &self.plugin, "the driver cannot write")?;
        let table = cstring(table);
        let opts = COptions::new(options);
        let mut out: IdpBatchWriter = zeroed();
        let raw = &mut self.raw;
        call(&self.plugin, "opening a table for writing", |e| {
            // SAFETY: the plugin's connection.
            unsafe { write(raw, table.as_ptr(), opts.as_ptr(), &mut out, e) }
        })?;
        Ok(Box::new(CWriter::new(out, &self.plugin, false, None, opts)))
    }
}

impl Drop for CConnection {
    fn drop(&mut self) {
        release(&mut self.raw);
    }
}
