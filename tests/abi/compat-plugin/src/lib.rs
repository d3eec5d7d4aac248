//! A plugin written against the 1.0 interface, built outside the workspace
//! by tests/abi_compat.rs against the 1.0 release of iterable-plugin-api, taken
//! from this repository's history (and
//! against generated variants of it).

use iterable_plugin_api::prelude::*;

/// Each line is one record with the field `line`.
pub struct Lines;

impl Format for Lines {
    fn info(&self) -> FormatSpec {
        FormatSpec::new("compat").description("lines, from a 1.0 plugin").extensions(["compat"])
    }

    fn reader(&self, input: Input, _options: &Options) -> Result<Box<dyn RowReader>> {
        Ok(input.line_reader(|line, row| {
            row.key("line").push_str(line);
            Ok(())
        }))
    }
}

export_plugin! {
    name: "compat",
    version: "1.0.0",
    formats: [Lines],
}
