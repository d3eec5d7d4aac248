//! Reading: a pull parser over the stream; each element named `tagname`
//! becomes a record, built from its subtree only.

use std::collections::BTreeMap;

use iterable_plugin_api::abi_stable::std_types::{RString, Tuple2};
use iterable_plugin_api::prelude::*;
use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

/// How many elements are looked at to suggest a `tagname`.
const SUGGEST_SCAN: usize = 10_000;

pub struct XmlReader {
    reader: Reader<Input>,
    buf: Vec<u8>,
    tag: Option<String>,
    strip: bool,
    /// The depth of the element the next event is in (0 outside the root).
    depth: usize,
    done: bool,
}

/// An element being built: its attributes, children and text.
#[derive(Default)]
struct Node {
    attrs: Vec<(String, String)>,
    children: Vec<(String, RValue)>,
    text: String,
}

impl Node {
    /// The element as a value: its text alone when it has nothing else,
    /// null when it is empty, else a map of `@attributes`, children (a list
    /// when repeated) and `#text`.
    fn into_value(self) -> RValue {
        let text = self.text.trim();
        if self.attrs.is_empty() && self.children.is_empty() {
            return if text.is_empty() {
                RValue::Null
            } else {
                RValue::Str(text.into())
            };
        }
        RValue::Map(self.into_pairs().into())
    }

    /// The element's keys and values, as a record's fields.
    fn into_pairs(self) -> Vec<Tuple2<RString, RValue>> {
        let mut out: Vec<Tuple2<RString, RValue>> = self
            .attrs
            .into_iter()
            .map(|(k, v)| Tuple2(format!("@{k}").into(), RValue::Str(v.into())))
            .collect();
        // Repeated children become one list, at the place of the first.
        let mut at: BTreeMap<String, usize> = BTreeMap::new();
        for (name, value) in self.children {
            match at.get(&name) {
                Some(&i) => match &mut out[i].1 {
                    RValue::List(items) => items.push(value),
                    first => {
                        let first = std::mem::replace(first, RValue::Null);
                        out[i].1 = RValue::List(vec![first, value].into());
                    }
                },
                None => {
                    at.insert(name.clone(), out.len());
                    out.push(Tuple2(name.into(), value));
                }
            }
        }
        let text = self.text.trim();
        if !text.is_empty() {
            out.push(Tuple2("#text".into(), RValue::Str(text.into())));
        }
        out
    }
}

/// An element or attribute name, without its namespace prefix when `strip`.
fn name_of(raw: &str, strip: bool) -> String {
    let name = match raw.split_once(':') {
        Some((_, local)) if strip => local,
        _ => raw,
    };
    name.to_owned()
}

impl XmlReader {
    pub fn new(input: Input, tag: Option<String>, strip: bool) -> Self {
        let mut reader = Reader::from_reader(input);
        reader.config_mut().trim_text(false);
        XmlReader {
            reader,
            buf: Vec::new(),
            tag,
            strip,
            depth: 0,
            done: false,
        }
    }

    fn malformed(&self, e: impl std::fmt::Display) -> Error {
        Error::parse(format!(
            "not well-formed XML at byte {}: {e}",
            self.reader.error_position()
        ))
    }

    fn name_of(&self, raw: &str) -> String {
        name_of(raw, self.strip)
    }

    fn attributes(&self, e: &BytesStart<'_>) -> Result<Vec<(String, String)>> {
        let mut out = Vec::new();
        for a in e.attributes() {
            let a = a.map_err(|e| self.malformed(e))?;
            let key: &str = a.key.as_ref();
            let is_ns = key == "xmlns" || key.starts_with("xmlns:");
            if is_ns && self.strip {
                continue;
            }
            let value = a
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|e| self.malformed(e))?;
            out.push((self.name_of(key), value.into_owned()));
        }
        Ok(out)
    }

    /// Reads the rest of an element whose start was just read, into a node.
    fn element(&mut self, start: &BytesStart<'_>) -> Result<Node> {
        let mut stack = vec![(
            String::new(),
            Node {
                attrs: self.attributes(start)?,
                ..Node::default()
            },
        )];
        // A buffer of its own: the events borrow it, not the reader.
        let mut buf = Vec::new();
        loop {
            buf.clear();
            let event = self
                .reader
                .read_event_into(&mut buf)
                .map_err(|e| self.malformed(e))?;
            match event {
                Event::Start(e) => {
                    let node = Node {
                        attrs: self.attributes(&e)?,
                        ..Node::default()
                    };
                    stack.push((self.name_of(e.name().as_ref()), node));
                }
                Event::Empty(e) => {
                    let node = Node {
                        attrs: self.attributes(&e)?,
                        ..Node::default()
                    };
                    let name = self.name_of(e.name().as_ref());
                    if let Some((_, parent)) = stack.last_mut() {
                        parent.children.push((name, node.into_value()));
                    }
                }
                Event::End(_) => {
                    let (name, node) = stack.pop().unwrap_or_default();
                    match stack.last_mut() {
                        Some((_, parent)) => parent.children.push((name, node.into_value())),
                        None => return Ok(node),
                    }
                }
                Event::Text(t) => {
                    if let Some((_, n)) = stack.last_mut() {
                        n.text.push_str(&t.xml10_content());
                    }
                }
                Event::CData(c) => {
                    if let Some((_, n)) = stack.last_mut() {
                        n.text.push_str(&c.into_inner());
                    }
                }
                Event::GeneralRef(r) => {
                    let ch = match r.resolve_char_ref().map_err(|e| self.malformed(e))? {
                        Some(c) => c.to_string(),
                        None => match &*r {
                            "lt" => "<".into(),
                            "gt" => ">".into(),
                            "amp" => "&".into(),
                            "apos" => "'".into(),
                            "quot" => "\"".into(),
                            other => {
                                return Err(self.malformed(format!("unknown entity &{other};")));
                            }
                        },
                    };
                    if let Some((_, n)) = stack.last_mut() {
                        n.text.push_str(&ch);
                    }
                }
                Event::Eof => {
                    return Err(self.malformed("the document ends inside an element"));
                }
                Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
            }
        }
    }

    /// The error for a missing `tagname`: the elements under the root,
    /// with their counts.
    fn no_tagname(&mut self) -> Error {
        let strip = self.strip;
        let mut root: Option<String> = None;
        let mut seen: Vec<(String, usize)> = Vec::new();
        let mut depth = 0usize;
        for _ in 0..SUGGEST_SCAN {
            self.buf.clear();
            // A child of the root: a start at depth 2, an empty element at 1.
            let child = match self.reader.read_event_into(&mut self.buf) {
                Ok(Event::Start(e)) => {
                    depth += 1;
                    let name = name_of(e.name().as_ref(), strip);
                    match depth {
                        1 => {
                            root = Some(name);
                            None
                        }
                        2 => Some(name),
                        _ => None,
                    }
                }
                Ok(Event::Empty(e)) => {
                    let name = name_of(e.name().as_ref(), strip);
                    match depth {
                        0 => {
                            root = Some(name);
                            None
                        }
                        1 => Some(name),
                        _ => None,
                    }
                }
                Ok(Event::End(_)) => {
                    depth = depth.saturating_sub(1);
                    None
                }
                Ok(Event::Eof) | Err(_) => break,
                Ok(_) => None,
            };
            if let Some(name) = child {
                match seen.iter_mut().find(|(n, _)| *n == name) {
                    Some((_, c)) => *c += 1,
                    None => seen.push((name, 1)),
                }
            }
        }
        let found = if seen.is_empty() {
            "no element under the root".to_owned()
        } else {
            let list: Vec<String> = seen.iter().map(|(n, c)| format!("{n} ({c})")).collect();
            format!(
                "found under <{}>: {}",
                root.unwrap_or_default(),
                list.join(", ")
            )
        };
        Error::invalid_option(
            "tagname",
            format!("name the element that is one record, as --option tagname=NAME ({found})"),
        )
    }
}

impl RowReader for XmlReader {
    fn read_row(&mut self, row: &mut BatchBuilder<'_>) -> Result<bool> {
        if self.done {
            return Ok(false);
        }
        let Some(tag) = self.tag.clone() else {
            self.done = true;
            return Err(self.no_tagname());
        };
        let mut buf = std::mem::take(&mut self.buf);
        let read = self.next_record(row, &tag, &mut buf);
        self.buf = buf;
        read
    }
}

impl XmlReader {
    /// Reads up to the next record element and pushes its fields.
    fn next_record(
        &mut self,
        row: &mut BatchBuilder<'_>,
        tag: &str,
        buf: &mut Vec<u8>,
    ) -> Result<bool> {
        loop {
            buf.clear();
            let event = match self.reader.read_event_into(buf) {
                Ok(e) => e,
                Err(e) => {
                    self.done = true;
                    return Err(self.malformed(e));
                }
            };
            match event {
                Event::Start(e) => {
                    if self.name_of(e.name().as_ref()) == tag {
                        let node = self.element(&e)?;
                        for Tuple2(k, v) in node.into_pairs() {
                            row.key(&k).push_value(v);
                        }
                        return Ok(true);
                    }
                    self.depth += 1;
                }
                Event::Empty(e) if self.name_of(e.name().as_ref()) == tag => {
                    let node = Node {
                        attrs: self.attributes(&e)?,
                        ..Node::default()
                    };
                    for Tuple2(k, v) in node.into_pairs() {
                        row.key(&k).push_value(v);
                    }
                    return Ok(true);
                }
                Event::End(_) => self.depth = self.depth.saturating_sub(1),
                Event::Eof => {
                    self.done = true;
                    if self.depth > 0 {
                        return Err(self.malformed("the document ends inside an element"));
                    }
                    return Ok(false);
                }
                _ => {}
            }
        }
    }
}
