//! Rules.

use iterable_core::{Error, Result, Rule, RuleInfo, Value};
use iterable_plugin_api::RBatch;
use iterable_plugin_api::abi_stable::std_types::{RString, RVec};

use crate::convert;

use super::*;
use crate::error::{PluginErrorExt, PluginErrorKind};
// Rules

/// A plugin rule, loaded on first use.
pub type LazyRule = Lazy<RuleInfo>;

impl Rule for LazyRule {
    fn info(&self) -> &RuleInfo {
        self.current()
    }

    fn check(&self, value: &Value) -> std::result::Result<(), String> {
        iterable_core::check_as_batch(self, value)
    }

    fn check_batch(&self, values: &[&Value], out: &mut Vec<Option<String>>) -> Result<()> {
        let (lib, i) = self.provider()?;
        let rust = match which(&lib, i, |c| &c.rules) {
            Which::Native(r) => return r.check_batch(values, out),
            Which::Rust(r) => r,
        };
        let mut batch = RBatch::new();
        {
            let mut b = batch.builder();
            b.set_fields(&["value"]);
            for v in values {
                convert::push_value(&mut b, v);
                b.end_row();
            }
        }
        if !lib.typed {
            crate::typed::downgrade(&mut batch);
        }
        let mut results: RVec<iterable_plugin_api::abi_stable::std_types::ROption<RString>> =
            RVec::new();
        convert::call(self.plugin.name(), "checking values", || {
            rust.rules[i].check_batch(&batch, &mut results)
        })?;
        if results.len() != values.len() {
            return Err(Error::plugin(
                PluginErrorKind::CallFailed,
                self.plugin.name(),
                format!(
                    "rule '{}' returned {} results for {} values",
                    self.declared.name,
                    results.len(),
                    values.len()
                ),
            ));
        }
        out.clear();
        out.extend(
            results
                .into_iter()
                .map(|r| r.into_option().map(|s| s.to_string())),
        );
        Ok(())
    }
}
