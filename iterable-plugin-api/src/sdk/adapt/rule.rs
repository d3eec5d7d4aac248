//! Rules.

use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{RNone, ROption, RResult, RSome, RString, RVec};

use crate::abi::RBatch;
use crate::abi::RError;
use crate::abi::{RuleInfo, RuleProvider, RuleProvider_TO, RuleProviderBox};
use crate::sdk::error::Result;
use crate::sdk::guard::{catch, guard};
use crate::sdk::traits::Rule;

struct RuleAdapter<R> {
    rule: R,
    info: RuleInfo,
}

impl<R: Rule> RuleProvider for RuleAdapter<R> {
    fn info(&self) -> RuleInfo {
        self.info.clone()
    }
    fn check_batch(
        &self,
        values: &RBatch,
        out: &mut RVec<ROption<RString>>,
    ) -> RResult<(), RError> {
        let result = guard(|| {
            out.clear();
            let view = values.validated()?;
            if view.field_count() == 0 && !view.is_empty() {
                return Err(RError::invalid_input(
                    "a rule batch needs one field (the values to check)",
                ));
            }
            out.reserve(view.len());
            for row in view {
                out.push(match self.rule.check(row.get(0)) {
                    Ok(()) => RNone,
                    Err(msg) => RSome(msg.into()),
                });
            }
            Ok(())
        });
        if result.is_err() {
            out.clear();
        }
        result.into()
    }
}

/// Exposes a [`Rule`] as a wire provider.
pub fn rule_provider<R: Rule>(rule: R) -> Result<RuleProviderBox, RError> {
    let info = catch(|| rule.info())?.into_info();
    Ok(RuleProvider_TO::from_value(
        RuleAdapter { rule, info },
        TD_Opaque,
    ))
}
