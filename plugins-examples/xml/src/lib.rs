//! XML as an IterableData format plugin: every element named by
//! `tagname` is one record, read as a stream (quick-xml), so memory holds
//! one record, not the file.
//!
//! # Reading
//!
//! The convention of IterableData's own XML reader:
//!
//! * child elements become keys, and repeated children a list;
//! * attributes become `@name`;
//! * text beside attributes or children becomes `#text`; an element with
//!   text only is that text; an empty element is null;
//! * namespace prefixes are stripped from names (`prefix_strip=false`
//!   keeps them, and the `xmlns` declarations as attributes).
//!
//! Without `tagname`, the error lists the elements found under the root,
//! with their counts, to choose from.
//!
//! # Writing
//!
//! `<root>` (option `root`, default `root`) holding one `<item>` (option
//! `tagname`, default `item`) per record: `@name` keys become attributes,
//! `#text` the text, maps child elements, lists repeated elements, nulls
//! empty elements; dates, times, timestamps and decimals their ISO-8601 or
//! plain text.

use iterable_plugin_api::prelude::*;

mod read;
mod write;

/// The XML format (see the [crate docs](crate)).
#[derive(Clone, Copy, Debug, Default)]
pub struct Xml;

impl Format for Xml {
    fn info(&self) -> FormatSpec {
        FormatSpec::new("xml")
            .description("XML: one record per element named by tagname (streamed); written under a root element")
            .extensions(["xml"])
            .option(
                "tagname",
                "the element that is one record (required to read; `item` when writing)",
            )
            .option_choices(
                "prefix_strip",
                "strip namespace prefixes from names (false keeps them and the xmlns attributes)",
                &["true", "false"],
                "true",
            )
            .option_default("root", "the root element when writing", "root")
            .read_write()
    }

    fn reader(&self, input: Input, options: &Options) -> Result<Box<dyn RowReader>> {
        let strip = options.get_bool("prefix_strip", true)?;
        Ok(Box::new(read::XmlReader::new(
            input,
            options.get("tagname").map(str::to_owned),
            strip,
        )))
    }

    fn writer(&self, output: Output, options: &Options) -> Result<Box<dyn RowWriter>> {
        write::XmlWriter::new(
            output,
            options.get_or("root", "root"),
            options.get_or("tagname", "item"),
        )
        .map(|w| Box::new(w) as Box<dyn RowWriter>)
    }
}

export_plugin! {
    name: "xml",
    version: env!("CARGO_PKG_VERSION"),
    description: "XML format: records from repeated elements, streamed; write under a root element",
    author: "IterableData for Rust contributors",
    license: "MIT OR Apache-2.0",
    homepage: "https://example.invalid/iterabledata-rs",
    formats: [Xml],
}
