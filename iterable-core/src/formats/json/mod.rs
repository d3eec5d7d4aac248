//! JSON lines (`jsonl`, `ndjson`) and JSON arrays (`json`).
//!
//! Both keep native JSON types and nesting. A JSON array is streamed element
//! by element: only one element is in memory at a time, however large the
//! file.

use std::fmt;
use std::sync::Arc;

use serde::de::{DeserializeSeed, MapAccess, Visitor};

use crate::error::{Error, ErrorKind, Position};
use crate::record::{FieldNames, Record};
use crate::value::Value;

pub use crate::formats::text::MAX_ELEMENT_BYTES;

mod array;
mod lines;
mod writer;

pub use array::JsonFormat;
pub use lines::JsonLinesFormat;

// ---------------------------------------------------------------------------
// Parsing one object into a record, reusing the previous record's names.

/// Parses one JSON object into `record`. When its keys are the same as
/// `names` (the previous record's), the shared name list is reused, so a
/// file of uniform objects allocates its keys once.
fn parse_object(
    bytes: &[u8],
    names: &mut FieldNames,
    record: &mut Record,
) -> std::result::Result<(), serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let mut values = record.take_values();
    values.clear();
    let seed = ObjectSeed {
        expected: names,
        values: &mut values,
        new_names: None,
    };
    let new_names = seed.deserialize(&mut de)?;
    de.end()?;
    if let Some(n) = new_names {
        *names = Arc::new(n);
    }
    record.set_parts(Arc::clone(names), values);
    Ok(())
}

struct ObjectSeed<'a> {
    expected: &'a FieldNames,
    values: &'a mut Vec<Value>,
    new_names: Option<Vec<String>>,
}

impl<'de> DeserializeSeed<'de> for ObjectSeed<'_> {
    type Value = Option<Vec<String>>;

    fn deserialize<D: serde::Deserializer<'de>>(
        self,
        d: D,
    ) -> std::result::Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ObjectSeed<'_> {
    type Value = Option<Vec<String>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(
        mut self,
        mut map: A,
    ) -> std::result::Result<Self::Value, A::Error> {
        let mut i = 0;
        while let Some(key) = map.next_key_seed(KeySeed {
            expected: if self.new_names.is_none() {
                self.expected.get(i).map(String::as_str)
            } else {
                None
            },
        })? {
            match key {
                Key::Same => {}
                Key::New(k) => {
                    let names = self.new_names.get_or_insert_with(|| {
                        self.expected[..i.min(self.expected.len())].to_vec()
                    });
                    names.push(k);
                }
            }
            self.values.push(map.next_value::<Value>()?);
            i += 1;
        }
        if self.new_names.is_none() && i != self.expected.len() {
            // Fewer keys than the previous record: a new, shorter list.
            self.new_names = Some(self.expected[..i].to_vec());
        }
        Ok(self.new_names)
    }
}

enum Key {
    Same,
    New(String),
}

struct KeySeed<'a> {
    expected: Option<&'a str>,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Key;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> std::result::Result<Key, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Key;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E>(self, v: &str) -> std::result::Result<Key, E> {
        Ok(if self.expected == Some(v) {
            Key::Same
        } else {
            Key::New(v.to_owned())
        })
    }
}

fn json_error(e: serde_json::Error, line: u64, what: &str) -> Error {
    let kind = match e.classify() {
        serde_json::error::Category::Io => ErrorKind::Io,
        serde_json::error::Category::Eof => ErrorKind::Parse,
        _ if e.to_string().contains("unicode") || e.to_string().contains("UTF-8") => {
            ErrorKind::Encoding
        }
        _ => ErrorKind::Parse,
    };
    let msg = e.to_string();
    // serde_json appends "at line L column C" relative to the piece parsed.
    let msg = msg.split(" at line ").next().unwrap_or(&msg).to_owned();
    Error::new(kind, format!("{what}: {msg} (column {})", e.column()))
        .with_position(Position::line(line))
}

#[cfg(test)]
mod tests {
    use super::writer::{all_plain, plain, write_json_str};
    use super::*;
    use crate::options::Options;
    use crate::provider::Format;

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let mut all: String = (0u8..128).map(char::from).collect();
        all.push_str("é日本\u{1F600}\u{7f}");
        // Every position of a special byte relative to the 16-byte blocks.
        let mut cases = vec![all.clone(), String::new(), "plain".into()];
        for i in 0..40 {
            cases.push(format!("{}\"{}\\\n", "x".repeat(i), "é".repeat(i % 5)));
        }
        for s in cases {
            let mut ours = Vec::new();
            write_json_str(&mut ours, &s);
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                serde_json::to_string(&s).unwrap()
            );
        }
    }

    #[test]
    fn all_plain_finds_every_byte_to_escape_at_every_place() {
        // Bytes next to the bounds of the word tests, and UTF-8 bytes.
        let probes = [
            0x00, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x5b, 0x5c, 0x5d, 0x7f, 0x80, 0xa2, 0xff,
        ];
        for len in 0..=24 {
            for fill in [b'a', 0xc3] {
                let mut bytes = vec![fill; len];
                assert!(all_plain(&bytes), "{bytes:?}");
                for at in 0..len {
                    for &p in &probes {
                        bytes[at] = p;
                        assert_eq!(all_plain(&bytes), plain(p), "{p:#x} at {at} of {len}");
                        bytes[at] = fill;
                    }
                }
            }
        }
    }

    #[test]
    fn records_are_written_as_serde_json_writes_them() {
        use crate::io::WriteSink;
        let recs = [
            Record::from_pairs([
                ("a", Value::from("x\"y")),
                ("b\n", Value::Int(-3)),
                ("c", Value::Float(2.5)),
                ("d", Value::Null),
                ("e", Value::Bool(false)),
            ]),
            Record::from_pairs([(
                "m",
                Value::Map(vec![("k".into(), Value::List(vec![Value::Bool(true)]))]),
            )]),
            Record::new(),
        ];
        let mut expected = String::new();
        for r in &recs {
            expected.push_str(&serde_json::to_string(r).unwrap());
            expected.push('\n');
        }
        let out = crate::io::MemorySink::default();
        let mut w = JsonLinesFormat::jsonl()
            .writer(Box::new(WriteSink(out.clone())), &Options::new())
            .unwrap();
        for r in &recs {
            w.write_record(r).unwrap();
        }
        w.finish().unwrap();
        assert_eq!(String::from_utf8(out.contents()).unwrap(), expected);
    }
}
