//! Writing: `<root>` holding one `<tagname>` element per record.

use iterable_plugin_api::prelude::*;
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

pub struct XmlWriter {
    out: Writer<Output>,
    root: String,
    tag: String,
    /// Records written (for errors).
    written: u64,
}

fn io(e: impl std::fmt::Display) -> Error {
    Error::io(std::io::Error::other(e.to_string()))
}

/// Whether `name` can be an element or attribute name.
fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
        && !name.to_ascii_lowercase().starts_with("xml")
}

fn check_name(name: &str, what: &str) -> Result<()> {
    if valid_name(name) {
        Ok(())
    } else {
        Err(Error::schema(format!(
            "{what} `{name}` is not a valid XML name"
        )))
    }
}

/// A value's text (scalars and typed values).
fn text(v: &RValue) -> Option<String> {
    Some(match v {
        RValue::Null => String::new(),
        RValue::Bool(b) => b.to_string(),
        RValue::Int(i) => i.to_string(),
        RValue::Float(f) => f.to_string(),
        RValue::Str(s) => s.to_string(),
        RValue::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        RValue::Ext(..) => match Typed::from_rvalue(v) {
            Some(t) => t.to_string(),
            None => return None,
        },
        RValue::List(_) | RValue::Map(_) => return None,
    })
}

impl XmlWriter {
    pub fn new(output: Output, root: &str, tag: &str) -> Result<Self> {
        check_name(root, "the root element")
            .map_err(|e| Error::invalid_option("root", e.message))?;
        check_name(tag, "the record element")
            .map_err(|e| Error::invalid_option("tagname", e.message))?;
        let mut out = Writer::new_with_indent(output, b' ', 2);
        out.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))
            .map_err(io)?;
        out.write_event(Event::Start(BytesStart::new(root)))
            .map_err(io)?;
        Ok(XmlWriter {
            out,
            root: root.to_owned(),
            tag: tag.to_owned(),
            written: 0,
        })
    }

    /// Writes element `name` holding `value`.
    fn element(&mut self, name: &str, value: &RValue) -> Result<()> {
        match value {
            RValue::List(items) => {
                for item in items.iter() {
                    self.element(name, item)?;
                }
                Ok(())
            }
            RValue::Map(pairs) => {
                check_name(name, "the field")?;
                let mut start = BytesStart::new(name);
                let mut text_value = None;
                for p in pairs.iter() {
                    if let Some(attr) = p.0.strip_prefix('@') {
                        check_name(attr, "the attribute")?;
                        let t = text(&p.1).unwrap_or_default();
                        start.push_attribute((attr, t.as_str()));
                    } else if p.0.as_str() == "#text" {
                        text_value = text(&p.1);
                    }
                }
                self.out.write_event(Event::Start(start)).map_err(io)?;
                if let Some(t) = text_value {
                    self.out
                        .write_event(Event::Text(BytesText::new(&t)))
                        .map_err(io)?;
                }
                for p in pairs.iter() {
                    if !p.0.starts_with('@') && p.0.as_str() != "#text" {
                        self.element(p.0.as_str(), &p.1)?;
                    }
                }
                self.out
                    .write_event(Event::End(BytesEnd::new(name)))
                    .map_err(io)
            }
            RValue::Null => {
                check_name(name, "the field")?;
                self.out
                    .write_event(Event::Empty(BytesStart::new(name)))
                    .map_err(io)
            }
            scalar => {
                check_name(name, "the field")?;
                let t = text(scalar).unwrap_or_default();
                self.out
                    .create_element(name)
                    .write_text_content(BytesText::new(&t))
                    .map(|_| ())
                    .map_err(io)
            }
        }
    }
}

impl RowWriter for XmlWriter {
    fn write_row(&mut self, row: RowView<'_>) -> Result<()> {
        self.written += 1;
        // The record as one map, so fields, attributes and text follow the
        // same rules as any nested element.
        let record = RValue::map(
            row.present()
                .map(|(k, c)| (k.to_owned(), c.to_value().unwrap_or(RValue::Null))),
        );
        let tag = self.tag.clone();
        self.element(&tag, &record)
    }

    fn finish(&mut self) -> Result<()> {
        let root = self.root.clone();
        self.out
            .write_event(Event::End(BytesEnd::new(root)))
            .map_err(io)?;
        self.out.get_mut().write_all(b"\n")?;
        self.out.get_mut().flush()?;
        Ok(())
    }
}
