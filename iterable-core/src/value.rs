//! Field values: null, bool, int, float, string, bytes, list and map, and
//! the typed scalars of [`crate::typed`]: date, time, timestamp and decimal.

use std::fmt;

use base64::Engine as _;
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

use crate::typed::{Date, Decimal, Time, Timestamp};

/// An ordered map of string keys to values; keys keep their source order.
pub type Map = Vec<(String, Value)>;

/// One field value. Maps keep their keys in source order, and nest to any depth.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Value {
    /// No value (JSON `null`).
    #[default]
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A 64-bit signed integer.
    Int(i64),
    /// A 64-bit float.
    Float(f64),
    /// UTF-8 text.
    String(String),
    /// Raw bytes. JSON output writes them as standard base64.
    Bytes(Vec<u8>),
    /// A list of values.
    List(Vec<Value>),
    /// A map with ordered keys.
    Map(Map),
    /// A calendar date. Text and JSON show it as ISO-8601 (`2024-01-31`).
    Date(Date),
    /// A time of day, with its unit (`13:05:07.25`).
    Time(Time),
    /// A point in time, with its unit and time zone
    /// (`2024-01-31T13:05:07.25Z`; without a zone, `2024-01-31T13:05:07.25`).
    /// Boxed, like [`Value::Decimal`], so that a value stays 32 bytes.
    Timestamp(Box<Timestamp>),
    /// An exact decimal, with its precision and scale. Text shows it in
    /// plain notation (`123.45`), JSON as that exact number.
    Decimal(Box<Decimal>),
}

impl Value {
    /// The string, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The integer, if this is an integer.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// True for `Null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// True for null and for the empty string: what `required` rejects.
    pub fn is_empty(&self) -> bool {
        match self {
            Value::Null => true,
            Value::String(s) => s.is_empty(),
            _ => false,
        }
    }

    /// A short name of the value's type, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::String(_) => "string",
            Value::Bytes(_) => "bytes",
            Value::List(_) => "list",
            Value::Map(_) => "map",
            Value::Date(_) => "date",
            Value::Time(_) => "time",
            Value::Timestamp(_) => "timestamp",
            Value::Decimal(_) => "decimal",
        }
    }

    /// Looks a key up in a map value.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Map(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Writes the value as plain text, as a CSV cell shows it: strings as they
    /// are, null as nothing, lists and maps as compact JSON.
    pub fn write_text(&self, out: &mut String) {
        use std::fmt::Write as _;
        match self {
            Value::Null => {}
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Value::Float(f) => {
                let _ = write!(out, "{f}");
            }
            Value::String(s) => out.push_str(s),
            Value::Bytes(b) => out.push_str(&base64::engine::general_purpose::STANDARD.encode(b)),
            Value::List(_) | Value::Map(_) => {
                // Serializing our own Value to JSON cannot fail.
                out.push_str(&serde_json::to_string(self).unwrap_or_default());
            }
            Value::Date(d) => {
                let _ = write!(out, "{d}");
            }
            Value::Time(t) => {
                let _ = write!(out, "{t}");
            }
            Value::Timestamp(t) => {
                let _ = write!(out, "{t}");
            }
            Value::Decimal(d) => {
                let _ = write!(out, "{d}");
            }
        }
    }

    /// Converts to a `serde_json::Value`. Bytes become base64 strings, dates,
    /// times and timestamps ISO-8601 strings, and a decimal a number when a
    /// float holds it exactly, else its text.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Value::String(s) => J::String(s.clone()),
            Value::Bytes(b) => J::String(base64::engine::general_purpose::STANDARD.encode(b)),
            Value::List(l) => J::Array(l.iter().map(Value::to_json).collect()),
            Value::Map(m) => J::Object(m.iter().map(|(k, v)| (k.clone(), v.to_json())).collect()),
            Value::Date(_) | Value::Time(_) | Value::Timestamp(_) => J::String(self.to_string()),
            Value::Decimal(d) => {
                let text = d.to_string();
                let exact = text
                    .parse::<f64>()
                    .ok()
                    .filter(|f| Decimal::from_f64_text(*f, d).is_some())
                    .and_then(serde_json::Number::from_f64);
                exact.map_or(J::String(text), J::Number)
            }
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        self.write_text(&mut s);
        f.write_str(&s)
    }
}

impl From<serde_json::Value> for Value {
    fn from(j: serde_json::Value) -> Self {
        use serde_json::Value as J;
        match j {
            J::Null => Value::Null,
            J::Bool(b) => Value::Bool(b),
            J::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            J::String(s) => Value::String(s),
            J::Array(a) => Value::List(a.into_iter().map(Value::from).collect()),
            J::Object(o) => Value::Map(o.into_iter().map(|(k, v)| (k, Value::from(v))).collect()),
        }
    }
}

macro_rules! from_impl {
    ($($t:ty => $variant:ident as $conv:ty),* $(,)?) => {
        $(impl From<$t> for Value {
            fn from(v: $t) -> Self {
                Value::$variant(<$conv>::from(v))
            }
        })*
    };
}

from_impl! {
    bool => Bool as bool,
    i8 => Int as i64, i16 => Int as i64, i32 => Int as i64, i64 => Int as i64,
    u8 => Int as i64, u16 => Int as i64, u32 => Int as i64,
    f32 => Float as f64, f64 => Float as f64,
    String => String as String, &str => String as String,
    Vec<u8> => Bytes as Vec<u8>,
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Int(i) => s.serialize_i64(*i),
            Value::Float(f) => s.serialize_f64(*f),
            Value::String(v) => s.serialize_str(v),
            Value::Bytes(b) => {
                s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(b))
            }
            Value::List(l) => {
                let mut seq = s.serialize_seq(Some(l.len()))?;
                for v in l {
                    seq.serialize_element(v)?;
                }
                seq.end()
            }
            Value::Map(m) => {
                let mut map = s.serialize_map(Some(m.len()))?;
                for (k, v) in m {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
            Value::Date(_) | Value::Time(_) | Value::Timestamp(_) => s.collect_str(self),
            // The exact digits, as a JSON number (to a JSON serializer;
            // other serializers see a raw-value struct).
            Value::Decimal(d) => match serde_json::value::RawValue::from_string(d.to_string()) {
                Ok(raw) => raw.serialize(s),
                Err(_) => s.collect_str(d),
            },
        }
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any value")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(i64::try_from(v).map_or(Value::Float(v as f64), Value::Int))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_bytes<E>(self, v: &[u8]) -> Result<Value, E> {
        Ok(Value::Bytes(v.to_vec()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(v) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::List(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Vec::with_capacity(map.size_hint().unwrap_or(0).min(4096));
        while let Some((k, v)) = map.next_entry::<String, Value>()? {
            out.push((k, v));
        }
        Ok(Value::Map(out))
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_stays_small() {
        // Every record holds its values inline: 32 bytes, not 48.
        assert_eq!(std::mem::size_of::<Value>(), 32);
    }

    #[test]
    fn json_round_trip_keeps_key_order_and_types() {
        let text = r#"{"z":1,"a":[true,null,2.5,"x"],"m":{"k":-3}}"#;
        let v: Value = serde_json::from_str(text).unwrap();
        assert_eq!(serde_json::to_string(&v).unwrap(), text);
        assert_eq!(v.get("z"), Some(&Value::Int(1)));
    }

    #[test]
    fn text_form_of_values() {
        let mut s = String::new();
        Value::List(vec![Value::Int(1), Value::Null]).write_text(&mut s);
        assert_eq!(s, "[1,null]");
        assert_eq!(Value::Null.to_string(), "");
        assert_eq!(Value::Float(2.5).to_string(), "2.5");
    }

    #[test]
    fn converts_to_and_from_serde_json() {
        let j = serde_json::json!({"a": 1, "b": [1.5, "x"]});
        let v = Value::from(j.clone());
        assert_eq!(v.to_json(), j);
    }
}
