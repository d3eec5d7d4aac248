//! The plugin template: the `lines` format, one record `{"line": ...}` per line of text.
use iterable_plugin_api::prelude::*;

struct Lines;
impl Format for Lines {
    fn info(&self) -> FormatSpec {
        FormatSpec::new("lines")
            .description("text, one record {\"line\": ...} per line")
            .extensions(["txt"])
            .read_write()
    }
    fn reader(&self, input: Input, _options: &Options) -> Result<Box<dyn RowReader>> {
        Ok(input.line_reader(|line, row| {
            row.key("line").push_str(line);
            Ok(())
        }))
    }
    fn writer(&self, output: Output, _options: &Options) -> Result<Box<dyn RowWriter>> {
        Ok(output.row_writer(|out, row| {
            let line = row.get_by_name("line").to_string();
            if line.contains(['\n', '\r']) {
                return Err(Error::invalid_input("a line cannot contain a line break"));
            }
            Ok(writeln!(out, "{line}")?)
        }))
    }
}

export_plugin! {
    name: "template",
    version: env!("CARGO_PKG_VERSION"),
    formats: [Lines],
}
