//! Deserializing records into user types.
//!
//! CSV values are strings, so, like the `csv` crate, the deserializer parses a
//! string when the target asks for a number or a bool, and treats an empty
//! string as `None` for an `Option`.

use serde::de::{
    self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Visitor,
};
use std::fmt;

use crate::value::Value;

/// The error of [`crate::Record::deserialize`].
#[derive(Debug, Clone, PartialEq)]
pub struct DeError(String);

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError(msg.to_string())
    }
}

/// A record, seen as a map from field names to values.
pub(crate) struct RecordDeserializer<'a> {
    pub(crate) fields: &'a [(&'a str, &'a Value)],
}

impl<'de, 'a> Deserializer<'de> for RecordDeserializer<'a> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_map(FieldsAccess {
            iter: self.fields.iter(),
            value: None,
        })
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_seq(ValuesAccess {
            iter: self
                .fields
                .iter()
                .map(|(_, v)| *v)
                .collect::<Vec<_>>()
                .into_iter(),
        })
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct
        tuple_struct map struct enum identifier ignored_any
    }
}

struct FieldsAccess<'a> {
    iter: std::slice::Iter<'a, (&'a str, &'a Value)>,
    value: Option<&'a Value>,
}

impl<'de, 'a> MapAccess<'de> for FieldsAccess<'a> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        match self.iter.next() {
            Some((k, v)) => {
                self.value = Some(v);
                seed.deserialize((*k).into_deserializer()).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, DeError> {
        let v = self
            .value
            .take()
            .ok_or_else(|| DeError("value asked before key".into()))?;
        seed.deserialize(ValueDeserializer(v))
    }
}

struct ValuesAccess<'a> {
    iter: std::vec::IntoIter<&'a Value>,
}

impl<'de, 'a> SeqAccess<'de> for ValuesAccess<'a> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        match self.iter.next() {
            Some(v) => seed.deserialize(ValueDeserializer(v)).map(Some),
            None => Ok(None),
        }
    }
}

struct MapEntries<'a> {
    iter: std::slice::Iter<'a, (String, Value)>,
    value: Option<&'a Value>,
}

impl<'de, 'a> MapAccess<'de> for MapEntries<'a> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        match self.iter.next() {
            Some((k, v)) => {
                self.value = Some(v);
                seed.deserialize(k.as_str().into_deserializer()).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, DeError> {
        let v = self
            .value
            .take()
            .ok_or_else(|| DeError("value asked before key".into()))?;
        seed.deserialize(ValueDeserializer(v))
    }
}

/// One value; strings are parsed when the target wants a number or a bool.
pub(crate) struct ValueDeserializer<'a>(pub(crate) &'a Value);

macro_rules! parse_num {
    ($($method:ident => $visit:ident : $t:ty),* $(,)?) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            match self.0 {
                Value::String(s) => {
                    let n: $t = s.trim().parse().map_err(|_| {
                        DeError(format!("cannot parse {:?} as {}", s, stringify!($t)))
                    })?;
                    visitor.$visit(n)
                }
                Value::Decimal(d) => {
                    let text = d.to_string();
                    let n: $t = text.parse().map_err(|_| {
                        DeError(format!("cannot take decimal {} as {}", text, stringify!($t)))
                    })?;
                    visitor.$visit(n)
                }
                _ => self.deserialize_any(visitor),
            }
        })*
    };
}

impl<'de, 'a> Deserializer<'de> for ValueDeserializer<'a> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.0 {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Int(i) => visitor.visit_i64(*i),
            Value::Float(f) => visitor.visit_f64(*f),
            Value::String(s) => visitor.visit_str(s),
            Value::Bytes(b) => visitor.visit_bytes(b),
            Value::List(l) => visitor.visit_seq(ValuesAccess {
                iter: l.iter().collect::<Vec<_>>().into_iter(),
            }),
            Value::Map(m) => visitor.visit_map(MapEntries {
                iter: m.iter(),
                value: None,
            }),
            // ISO-8601 and plain decimal text: what chrono, jiff, time and
            // rust_decimal read their types from.
            Value::Date(_) | Value::Time(_) | Value::Timestamp(_) | Value::Decimal(_) => {
                visitor.visit_string(self.0.to_string())
            }
        }
    }

    parse_num! {
        deserialize_i8 => visit_i8: i8, deserialize_i16 => visit_i16: i16,
        deserialize_i32 => visit_i32: i32, deserialize_i64 => visit_i64: i64,
        deserialize_u8 => visit_u8: u8, deserialize_u16 => visit_u16: u16,
        deserialize_u32 => visit_u32: u32, deserialize_u64 => visit_u64: u64,
        deserialize_f32 => visit_f32: f32, deserialize_f64 => visit_f64: f64,
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.0 {
            Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => visitor.visit_bool(true),
                "false" | "0" | "no" => visitor.visit_bool(false),
                _ => Err(DeError(format!("cannot parse {s:?} as bool"))),
            },
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if self.0.is_empty() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match self.0 {
            Value::String(s) => visitor.visit_enum(s.as_str().into_deserializer()),
            other => Err(DeError(format!(
                "expected a string for an enum, found {}",
                other.type_name()
            ))),
        }
    }

    serde::forward_to_deserialize_any! {
        i128 u128 char str string bytes byte_buf unit unit_struct
        seq tuple tuple_struct map struct identifier ignored_any
    }
}
