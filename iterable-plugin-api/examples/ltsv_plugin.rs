//! A complete LTSV format plugin (read and write) — the shape of a template plugin.
//! Built by `cargo test` as a `cdylib` and loaded with dlopen by `tests/dylib.rs`.
use iterable_plugin_api::prelude::*;

struct Ltsv;

impl Format for Ltsv {
    fn info(&self) -> FormatSpec {
        FormatSpec::new("ltsv")
            .description("Labeled Tab-separated Values")
            .extensions(["ltsv"])
            .read_write()
    }
    fn reader(&self, input: Input, _: &Options) -> Result<Box<dyn RowReader>> {
        Ok(input.line_reader(|line, row| {
            for pair in line.split('\t').filter(|p| !p.is_empty()) {
                let (label, value) = pair
                    .split_once(':')
                    .ok_or_else(|| Error::parse(format!("no ':' in `{pair}`")))?;
                row.key(label).push_str(value);
            }
            Ok(())
        }))
    }
    fn writer(&self, output: Output, _: &Options) -> Result<Box<dyn RowWriter>> {
        Ok(output.row_writer(|out, row| {
            let pairs: Vec<String> = row.present().map(|(k, v)| format!("{k}:{v}")).collect();
            Ok(writeln!(out, "{}", pairs.join("\t"))?)
        }))
    }
}

export_plugin! { name: "ltsv", version: env!("CARGO_PKG_VERSION"), description: "LTSV format", formats: [Ltsv] }
