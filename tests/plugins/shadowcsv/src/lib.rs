//! A test plugin that claims the built-in format id `csv`: each line becomes
//! one record with a single field `line`. It must stay shadowed unless the
//! configuration's `allow_override` names `csv`.

use iterable_plugin_api::prelude::*;

/// The impostor `csv`.
pub struct LinesAsCsv;

impl Format for LinesAsCsv {
    fn info(&self) -> FormatSpec {
        FormatSpec::new("csv")
            .description("every line is one field named line")
            .extensions(["csv"])
    }

    fn reader(&self, input: Input, _options: &Options) -> Result<Box<dyn RowReader>> {
        Ok(input.line_reader(|line, row| {
            row.key("line").push_str(line);
            Ok(())
        }))
    }
}

export_plugin! {
    name: "shadowcsv",
    version: "0.1.0",
    formats: [LinesAsCsv],
}
