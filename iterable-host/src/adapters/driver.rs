//! Drivers and their connections.

use std::sync::Arc;

use iterable_core::{
    BoxReader, BoxWriter, Connection, Driver, DriverInfo, Options, Result, Source,
};
use iterable_plugin_api::abi_stable::std_types::RStr;
use iterable_plugin_api::{ConnectionBox, RBatch};

use crate::convert;
use crate::loader::Library;

use super::records::*;
use super::*;
// Drivers

/// A plugin driver, loaded on first use.
pub type LazyDriver = Lazy<DriverInfo>;

impl Driver for LazyDriver {
    fn info(&self) -> &DriverInfo {
        self.current()
    }

    fn connect(&self, uri: &str, options: &Options) -> Result<Box<dyn Connection>> {
        let (lib, i) = self.provider()?;
        let rust = match which(&lib, i, |c| &c.drivers) {
            Which::Native(d) => return d.connect(uri, options),
            Which::Rust(r) => r,
        };
        let name = self.plugin.name();
        let opts = convert::options_to_plugin(options);
        let conn = convert::call(name, "connecting", || {
            rust.drivers[i].connect(RStr::from_str(uri), opts)
        })?;
        Ok(Box::new(PluginConnection {
            plugin: name.to_owned(),
            conn,
            lib,
        }))
    }
}

struct PluginConnection {
    plugin: String,
    conn: ConnectionBox,
    lib: Arc<Library>,
}

impl Connection for PluginConnection {
    fn list_tables(&mut self) -> Result<Vec<String>> {
        let conn = &mut self.conn;
        let tables = convert::call(&self.plugin, "listing tables", || conn.list_tables())?;
        Ok(tables.into_iter().map(|t| t.to_string()).collect())
    }

    fn read(&mut self, source: &Source, options: &Options) -> Result<BoxReader> {
        let opts = convert::options_to_plugin(options);
        let conn = &mut self.conn;
        let records = match source {
            Source::Table(t) => convert::call(&self.plugin, "reading a table", || {
                conn.read_table(RStr::from_str(t), opts)
            })?,
            Source::Query(q) => convert::call(&self.plugin, "running a query", || {
                conn.read_query(RStr::from_str(q), opts)
            })?,
        };
        Ok(Box::new(PluginReader::new(
            &self.plugin,
            records,
            Some(Arc::clone(&self.lib)),
        )))
    }

    fn write(&mut self, table: &str, options: &Options) -> Result<BoxWriter> {
        let opts = convert::options_to_plugin(options);
        let conn = &mut self.conn;
        let sink = convert::call(&self.plugin, "opening a table for writing", || {
            conn.write_table(RStr::from_str(table), opts)
        })?;
        Ok(Box::new(PluginWriter {
            plugin: self.plugin.clone(),
            sink: Some(sink),
            batch: RBatch::new(),
            names: None,
            bytes: None,
            written: 0,
            _lib: Some(Arc::clone(&self.lib)),
        }))
    }
}
