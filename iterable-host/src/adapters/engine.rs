//! Engines.

use iterable_core::{BoxReader, Engine, EngineInfo, Options, Result};
use iterable_plugin_api::RecordSourceBox;
use iterable_plugin_api::abi_stable::std_types::{RStr, RString, RVec, Tuple2};

use crate::convert;

use super::records::*;
use super::*;
// Engines

/// A plugin engine, loaded on first use.
pub type LazyEngine = Lazy<EngineInfo>;

impl Engine for LazyEngine {
    fn info(&self) -> &EngineInfo {
        self.current()
    }

    fn execute(
        &self,
        query: &str,
        inputs: Vec<(String, BoxReader)>,
        options: &Options,
    ) -> Result<BoxReader> {
        let (lib, i) = self.provider()?;
        let rust = match which(&lib, i, |c| &c.engines) {
            Which::Native(e) => return e.execute(query, inputs, options),
            Which::Rust(r) => r,
        };
        let name = self.plugin.name();
        let inputs: RVec<Tuple2<RString, RecordSourceBox>> = inputs
            .into_iter()
            .map(|(n, r)| Tuple2(RString::from(n), record_source(r, lib.typed)))
            .collect();
        let opts = convert::options_to_plugin(options);
        let out = convert::call(name, "running a query", || {
            rust.engines[i].execute(RStr::from_str(query), inputs, opts)
        })?;
        Ok(Box::new(PluginReader::new(name, out, Some(lib))))
    }
}
