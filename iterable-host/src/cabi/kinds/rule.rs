//! Rules: a C plugin's checks, a batch at a time.

use super::*;

/// A C plugin's rule.
pub(crate) struct CRule {
    info: RuleInfo,
    raw: Raw<abi::IdpRule>,
}

impl CRule {
    pub fn new(info: RuleInfo, raw: Raw<abi::IdpRule>) -> Self {
        CRule { info, raw }
    }
}

impl Rule for CRule {
    fn info(&self) -> &RuleInfo {
        &self.info
    }

    fn check(&self, value: &Value) -> std::result::Result<(), String> {
        iterable_core::check_as_batch(self, value)
    }

    fn check_batch(&self, values: &[&Value], out: &mut Vec<Option<String>>) -> Result<()> {
        let plugin = &*self.raw.plugin;
        let check = function(self.raw.raw.check, plugin, "the rule has no check function")?;
        let array = crate::arrow::array_of(values, false)
            .map_err(|e| Error::new(ErrorKind::Other, format!("values to Arrow: {e}")))?;
        let data = array.into_data();
        let mut schema = FFI_ArrowSchema::try_from(data.data_type())
            .map_err(|e| Error::new(ErrorKind::Other, format!("values to Arrow: {e}")))?;
        let mut array = FFI_ArrowArray::new(&data);
        let mut verdicts = FFI_ArrowArray::empty();
        let result = call(plugin, "checking values", |e| {
            // SAFETY: the plugin's function; the schema and array are its to
            // release or move; what it leaves is released when they drop.
            unsafe {
                check(
                    self.raw.raw.data,
                    schema_ptr(&mut schema),
                    array_ptr(&mut array),
                    array_ptr(&mut verdicts),
                    e,
                )
            }
        });
        drop((schema, array));
        result?;
        let bad = |e: &dyn std::fmt::Display| bad_arrow(plugin, "reading a rule's verdicts", e);
        if verdicts.is_released() {
            return Err(bad(&"no verdicts were returned"));
        }
        // SAFETY: the plugin filled `verdicts`; it is validated before use.
        let data =
            unsafe { from_ffi_and_data_type(verdicts, DataType::Utf8) }.map_err(|e| bad(&e))?;
        data.validate_full().map_err(|e| bad(&e))?;
        if data.len() != values.len() {
            return Err(bad(&format!(
                "{} verdicts for {} values",
                data.len(),
                values.len()
            )));
        }
        let strings = arrow_array::make_array(data);
        let strings = strings.as_string::<i32>();
        out.clear();
        out.extend(
            (0..strings.len()).map(|i| (!strings.is_null(i)).then(|| strings.value(i).to_owned())),
        );
        Ok(())
    }
}
