//! The schema text of `--out-option schema=…`, and the schema a writer
//! infers from the first batch.
//!
//! A schema is a comma-separated list of `name: type`. Types:
//!
//! | text | Arrow type |
//! |---|---|
//! | `bool` | `Boolean` |
//! | `int8` … `int64`, `uint8` … `uint64` | the integer of that width |
//! | `float32`, `float64` | the float of that width |
//! | `string`, `binary` | `Utf8`, `Binary` |
//! | `date` | `Date32` |
//! | `time[s|ms|us|ns]` | `Time32`/`Time64` |
//! | `timestamp[unit]`, `timestamp[unit, tz]` | `Timestamp(unit, tz)` |
//! | `decimal(p, s)` | `Decimal128(p, s)` |
//! | `list<type>` | `List` |
//! | `struct<name: type, …>` | `Struct` |
//! | `map<key, value>` | `Map` |
//! | `null` | `Null` |
//!
//! A name that is not a plain word may be quoted: `"first name": string`.

use std::sync::Arc;

use arrow_schema::{DataType, Field, Fields, Schema, TimeUnit};

/// Parses schema text into an Arrow schema (every field nullable).
pub fn parse(text: &str) -> Result<Schema, String> {
    let mut p = Parser {
        s: text.as_bytes(),
        at: 0,
    };
    let fields = p.fields(None)?;
    p.ws();
    if p.at != p.s.len() {
        return Err(p.error("unexpected text"));
    }
    if fields.is_empty() {
        return Err("the schema names no field".into());
    }
    Ok(Schema::new(fields))
}

/// The text of a type, as [`parse`] reads it.
pub fn type_text(t: &DataType) -> String {
    match t {
        DataType::Null => "null".into(),
        DataType::Boolean => "bool".into(),
        DataType::Int8 => "int8".into(),
        DataType::Int16 => "int16".into(),
        DataType::Int32 => "int32".into(),
        DataType::Int64 => "int64".into(),
        DataType::UInt8 => "uint8".into(),
        DataType::UInt16 => "uint16".into(),
        DataType::UInt32 => "uint32".into(),
        DataType::UInt64 => "uint64".into(),
        DataType::Float16 | DataType::Float32 => "float32".into(),
        DataType::Float64 => "float64".into(),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "string".into(),
        DataType::Binary
        | DataType::LargeBinary
        | DataType::BinaryView
        | DataType::FixedSizeBinary(_) => "binary".into(),
        DataType::Date32 | DataType::Date64 => "date".into(),
        DataType::Time32(u) | DataType::Time64(u) => format!("time[{}]", unit_text(*u)),
        DataType::Timestamp(u, None) => format!("timestamp[{}]", unit_text(*u)),
        DataType::Timestamp(u, Some(tz)) => format!("timestamp[{}, {tz}]", unit_text(*u)),
        DataType::Decimal128(p, s) | DataType::Decimal256(p, s) => format!("decimal({p}, {s})"),
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
            format!("list<{}>", type_text(f.data_type()))
        }
        DataType::Struct(fields) => format!("struct<{}>", fields_text(fields)),
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(kv) if kv.len() == 2 => format!(
                "map<{}, {}>",
                type_text(kv[0].data_type()),
                type_text(kv[1].data_type())
            ),
            other => type_text(other),
        },
        DataType::Dictionary(_, v) => type_text(v),
        other => format!("{other}"),
    }
}

/// The text of a schema, as [`parse`] reads it.
pub fn schema_text(s: &Schema) -> String {
    fields_text(s.fields())
}

fn fields_text(fields: &Fields) -> String {
    fields
        .iter()
        .map(|f| format!("{}: {}", name_text(f.name()), type_text(f.data_type())))
        .collect::<Vec<_>>()
        .join(", ")
}

fn name_text(n: &str) -> String {
    if !n.is_empty() && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        n.to_owned()
    } else {
        format!("{n:?}")
    }
}

fn unit_text(u: TimeUnit) -> &'static str {
    match u {
        TimeUnit::Second => "s",
        TimeUnit::Millisecond => "ms",
        TimeUnit::Microsecond => "us",
        TimeUnit::Nanosecond => "ns",
    }
}

/// The data type of a map with these key and value types, as Arrow and
/// Parquet lay it out.
pub fn map_type(key: DataType, value: DataType) -> DataType {
    let entries = Field::new(
        "entries",
        DataType::Struct(Fields::from(vec![
            Field::new("key", key, false),
            Field::new("value", value, true),
        ])),
        false,
    );
    DataType::Map(Arc::new(entries), false)
}

/// The data type of a list of `item`.
pub fn list_type(item: DataType) -> DataType {
    DataType::List(Arc::new(Field::new("item", item, true)))
}

struct Parser<'a> {
    s: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn error(&self, what: &str) -> String {
        let rest = String::from_utf8_lossy(&self.s[self.at.min(self.s.len())..]);
        let rest: String = rest.chars().take(20).collect();
        format!("{what} at byte {} (`{rest}`)", self.at)
    }

    fn ws(&mut self) {
        while self.s.get(self.at).is_some_and(u8::is_ascii_whitespace) {
            self.at += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        if self.s.get(self.at) == Some(&c) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: u8) -> Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(self.error(&format!("expected `{}`", c as char)))
        }
    }

    fn word(&mut self) -> Result<String, String> {
        self.ws();
        if self.s.get(self.at) == Some(&b'"') {
            self.at += 1;
            let start = self.at;
            while self.s.get(self.at).is_some_and(|&b| b != b'"') {
                self.at += 1;
            }
            let w = String::from_utf8_lossy(&self.s[start..self.at]).into_owned();
            self.expect(b'"')?;
            return Ok(w);
        }
        let start = self.at;
        while self
            .s
            .get(self.at)
            .is_some_and(|&b| b.is_ascii_alphanumeric() || b"_./+-:".contains(&b))
        {
            // A `:` ends a field name, but belongs to a time zone offset.
            if self.s[self.at] == b':' && !self.in_tz() {
                break;
            }
            self.at += 1;
        }
        if start == self.at {
            return Err(self.error("expected a name"));
        }
        Ok(String::from_utf8_lossy(&self.s[start..self.at]).into_owned())
    }

    /// Whether the word being read is a time zone offset (`+02:00`).
    fn in_tz(&self) -> bool {
        let before = &self.s[..self.at];
        before
            .iter()
            .rposition(|b| !b.is_ascii_digit())
            .is_some_and(|i| matches!(before[i], b'+' | b'-'))
    }

    fn number(&mut self) -> Result<i64, String> {
        let w = self.word()?;
        w.parse().map_err(|_| self.error("expected a number"))
    }

    /// `name: type, …` until `close` (or the end).
    fn fields(&mut self, close: Option<u8>) -> Result<Vec<Field>, String> {
        let mut out = Vec::new();
        loop {
            self.ws();
            if self.at == self.s.len() || close.is_some_and(|c| self.s.get(self.at) == Some(&c)) {
                return Ok(out);
            }
            let name = self.word()?;
            self.expect(b':')?;
            let t = self.data_type()?;
            if out.iter().any(|f: &Field| f.name() == &name) {
                return Err(format!("field `{name}` is named twice"));
            }
            out.push(Field::new(name, t, true));
            if !self.eat(b',') {
                return Ok(out);
            }
        }
    }

    fn unit(&mut self) -> Result<TimeUnit, String> {
        Ok(match self.word()?.as_str() {
            "s" => TimeUnit::Second,
            "ms" => TimeUnit::Millisecond,
            "us" => TimeUnit::Microsecond,
            "ns" => TimeUnit::Nanosecond,
            _ => return Err(self.error("expected a unit: s, ms, us or ns")),
        })
    }

    fn data_type(&mut self) -> Result<DataType, String> {
        let name = self.word()?.to_ascii_lowercase();
        Ok(match name.as_str() {
            "null" => DataType::Null,
            "bool" | "boolean" => DataType::Boolean,
            "int8" => DataType::Int8,
            "int16" => DataType::Int16,
            "int32" => DataType::Int32,
            "int64" | "int" => DataType::Int64,
            "uint8" => DataType::UInt8,
            "uint16" => DataType::UInt16,
            "uint32" => DataType::UInt32,
            "uint64" => DataType::UInt64,
            "float32" | "float" => DataType::Float32,
            "float64" | "double" => DataType::Float64,
            "string" | "utf8" => DataType::Utf8,
            "binary" | "bytes" => DataType::Binary,
            "date" => DataType::Date32,
            "time" => {
                let unit = if self.eat(b'[') {
                    let u = self.unit()?;
                    self.expect(b']')?;
                    u
                } else {
                    TimeUnit::Microsecond
                };
                match unit {
                    TimeUnit::Second | TimeUnit::Millisecond => DataType::Time32(unit),
                    _ => DataType::Time64(unit),
                }
            }
            "timestamp" => {
                let (mut unit, mut tz) = (TimeUnit::Microsecond, None);
                if self.eat(b'[') {
                    unit = self.unit()?;
                    if self.eat(b',') {
                        tz = Some(Arc::from(self.word()?));
                    }
                    self.expect(b']')?;
                }
                DataType::Timestamp(unit, tz)
            }
            "decimal" => {
                self.expect(b'(')?;
                let p = self.number()?;
                self.expect(b',')?;
                let s = self.number()?;
                self.expect(b')')?;
                if !(1..=38).contains(&p) || !(-38..=38).contains(&s) {
                    return Err(format!(
                        "decimal({p}, {s}): precision must be 1 to 38, scale -38 to 38"
                    ));
                }
                DataType::Decimal128(p as u8, s as i8)
            }
            "list" => {
                self.expect(b'<')?;
                let item = self.data_type()?;
                self.expect(b'>')?;
                list_type(item)
            }
            "struct" => {
                self.expect(b'<')?;
                let fields = self.fields(Some(b'>'))?;
                self.expect(b'>')?;
                DataType::Struct(Fields::from(fields))
            }
            "map" => {
                self.expect(b'<')?;
                let key = self.data_type()?;
                self.expect(b',')?;
                let value = self.data_type()?;
                self.expect(b'>')?;
                map_type(key, value)
            }
            other => {
                return Err(format!(
                    "unknown type `{other}` (bool, int8…int64, uint8…uint64, float32, float64, \
                     string, binary, date, time[unit], timestamp[unit, tz], decimal(p, s), \
                     list<t>, struct<name: t, …>, map<k, v>, null)"
                ));
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_text_round_trips() {
        let text = "id: int32, \"first name\": string, at: timestamp[ms, +02:00], \
                    price: decimal(10, 2), tags: list<string>, \
                    pos: struct<x: float64, y: float64>, attrs: map<string, int64>, \
                    day: date, t: time[ns], u: uint64, f: float32, raw: binary, ok: bool";
        let s = parse(text).unwrap();
        assert_eq!(s.fields().len(), 13);
        assert_eq!(
            s.field(2).data_type(),
            &DataType::Timestamp(TimeUnit::Millisecond, Some("+02:00".into()))
        );
        assert_eq!(parse(&schema_text(&s)).unwrap(), s);
        for (bad, says) in [
            ("a int32", "expected `:`"),
            ("a: int33", "unknown type `int33`"),
            ("a: decimal(40, 2)", "precision must be 1 to 38"),
            ("a: int8, a: int8", "named twice"),
            ("", "names no field"),
            ("a: list<int8", "expected `>`"),
        ] {
            let e = parse(bad).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }
}
