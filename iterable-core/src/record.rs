//! Records (named fields in source order) and batches of records.

use std::sync::Arc;

use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::de::{DeError, RecordDeserializer};
use crate::error::{Error, ErrorKind, Result};
use crate::value::Value;

/// Field names shared by many records: readers hand the same `Arc` to every
/// record with the same header, so names are stored once, not per row.
pub type FieldNames = Arc<Vec<String>>;

/// One record: named fields in source order.
///
/// ```
/// use iterable_core::{Record, Value};
/// let mut r = Record::new();
/// r.push("id", 1);
/// r.push("name", "Ann");
/// assert_eq!(r.get("name"), Some(&Value::from("Ann")));
/// assert_eq!(r.names(), ["id", "name"]);
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Record {
    names: FieldNames,
    values: Vec<Value>,
}

impl Record {
    /// An empty record.
    pub fn new() -> Self {
        Record::default()
    }

    /// A record from shared names and values. Missing values are `Null`;
    /// extra values get positional names.
    pub fn from_parts(names: FieldNames, mut values: Vec<Value>) -> Self {
        let mut names = names;
        if values.len() < names.len() {
            values.resize(names.len(), Value::Null);
        } else if values.len() > names.len() {
            let n = Arc::make_mut(&mut names);
            for i in n.len()..values.len() {
                n.push((i + 1).to_string());
            }
        }
        Record { names, values }
    }

    /// A record from (name, value) pairs.
    pub fn from_pairs<K: Into<String>, V: Into<Value>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        let mut r = Record::new();
        for (k, v) in pairs {
            r.push(k, v);
        }
        r
    }

    /// The number of fields.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// True when the record has no fields.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The field names, in order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The shared field-name list.
    pub fn field_names(&self) -> &FieldNames {
        &self.names
    }

    /// The values, in field order.
    pub fn values(&self) -> &[Value] {
        &self.values
    }

    /// Mutable access to the values (the names stay as they are).
    pub fn values_mut(&mut self) -> &mut [Value] {
        &mut self.values
    }

    /// The value of a field.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.index_of(name).map(|i| &self.values[i])
    }

    /// The position of a field.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// Sets a field, replacing its value or appending it.
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<Value>) {
        let name = name.into();
        match self.index_of(&name) {
            Some(i) => self.values[i] = value.into(),
            None => self.push(name, value),
        }
    }

    /// Appends a field (without checking for a duplicate name).
    pub fn push(&mut self, name: impl Into<String>, value: impl Into<Value>) {
        Arc::make_mut(&mut self.names).push(name.into());
        self.values.push(value.into());
    }

    /// Removes a field and returns its value.
    pub fn remove(&mut self, name: &str) -> Option<Value> {
        let i = self.index_of(name)?;
        Arc::make_mut(&mut self.names).remove(i);
        Some(self.values.remove(i))
    }

    /// Iterates over (name, value) pairs.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.names
            .iter()
            .map(String::as_str)
            .zip(self.values.iter())
    }

    /// Turns the record into owned pairs.
    pub fn into_pairs(self) -> Vec<(String, Value)> {
        self.names.iter().cloned().zip(self.values).collect()
    }

    /// Prepares the record to be refilled by a reader with `names`, keeping
    /// the value slots (and their string buffers) for reuse.
    pub fn reset(&mut self, names: &FieldNames) {
        if !Arc::ptr_eq(&self.names, names) {
            self.names = Arc::clone(names);
        }
        self.values.resize(names.len(), Value::Null);
    }

    /// Moves the values out, leaving the record empty; readers use it to
    /// refill a record while keeping the vector's capacity.
    pub fn take_values(&mut self) -> Vec<Value> {
        static EMPTY: std::sync::LazyLock<FieldNames> =
            std::sync::LazyLock::new(FieldNames::default);
        self.names = Arc::clone(&EMPTY);
        std::mem::take(&mut self.values)
    }

    /// Replaces names and values at once.
    pub fn set_parts(&mut self, names: FieldNames, values: Vec<Value>) {
        *self = Record::from_parts(names, values);
    }

    /// The string buffer in slot `i`, emptied, reusing its capacity when the
    /// slot already held a string. Readers fill it in place.
    ///
    /// # Panics
    /// When `i` is out of range (after [`Record::reset`] it is not).
    pub fn string_slot(&mut self, i: usize) -> &mut String {
        let slot = &mut self.values[i];
        if !matches!(slot, Value::String(_)) {
            *slot = Value::String(String::new());
        }
        match slot {
            Value::String(s) => {
                s.clear();
                s
            }
            _ => unreachable!("set to a string just above"),
        }
    }

    /// Deserializes the record into a user type through serde. String values
    /// are parsed when a field of the type is a number or a bool, and empty
    /// strings become `None`.
    ///
    /// ```
    /// #[derive(serde::Deserialize)]
    /// struct Row { id: u32, name: String, score: Option<f64> }
    /// let r = iterable_core::Record::from_pairs([("id", "7"), ("name", "Ann"), ("score", "")]);
    /// let row: Row = r.deserialize().unwrap();
    /// assert_eq!((row.id, row.name.as_str(), row.score), (7, "Ann", None));
    /// ```
    pub fn deserialize<T: serde::de::DeserializeOwned>(&self) -> Result<T> {
        let fields: Vec<(&str, &Value)> = self.iter().collect();
        T::deserialize(RecordDeserializer { fields: &fields }).map_err(|e: DeError| {
            Error::new(ErrorKind::Schema, format!("cannot deserialize record: {e}"))
        })
    }

    /// Converts the record to a JSON object, keeping field order.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Object(
            self.iter()
                .map(|(k, v)| (k.to_owned(), v.to_json()))
                .collect(),
        )
    }

    /// Builds a record from a JSON object.
    pub fn from_json(value: serde_json::Value) -> Result<Self> {
        match Value::from(value) {
            Value::Map(m) => Ok(Record::from_pairs(m)),
            other => Err(Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "a record must be a JSON object, found {}",
                    other.type_name()
                ),
            )),
        }
    }

    /// Builds a record from any serializable struct or map.
    pub fn from_serialize<T: Serialize>(value: &T) -> Result<Self> {
        let json = serde_json::to_value(value).map_err(|e| {
            Error::new(
                ErrorKind::InvalidInput,
                format!("cannot serialize record: {e}"),
            )
        })?;
        Record::from_json(json)
    }
}

impl Serialize for Record {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.len()))?;
        for (k, v) in self.iter() {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de> serde::Deserialize<'de> for Record {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Map(m) => Ok(Record::from_pairs(m)),
            other => Err(serde::de::Error::custom(format!(
                "a record must be a map, found {}",
                other.type_name()
            ))),
        }
    }
}

impl<K: Into<String>, V: Into<Value>> FromIterator<(K, V)> for Record {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Record::from_pairs(iter)
    }
}

/// A batch of rows that share one list of field names.
///
/// This is the shape records take across the plugin boundary: the names once,
/// then the rows as value vectors.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Batch {
    names: FieldNames,
    rows: Vec<Vec<Value>>,
}

impl Batch {
    /// An empty batch with these field names.
    pub fn new(names: FieldNames) -> Self {
        Batch {
            names,
            rows: Vec::new(),
        }
    }

    /// The field names shared by all rows.
    pub fn names(&self) -> &FieldNames {
        &self.names
    }

    /// The rows, each with one value per field name.
    pub fn rows(&self) -> &[Vec<Value>] {
        &self.rows
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True when the batch holds no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Empties the batch and sets new names.
    pub fn clear(&mut self, names: FieldNames) {
        self.names = names;
        self.rows.clear();
    }

    /// Appends a row. Values are padded with nulls or truncated to fit the names.
    pub fn push_row(&mut self, mut values: Vec<Value>) {
        values.resize(self.names.len(), Value::Null);
        self.rows.push(values);
    }

    /// Iterates over the rows as records (cheap: names are shared).
    pub fn records(&self) -> impl Iterator<Item = Record> + '_ {
        self.rows
            .iter()
            .map(|row| Record::from_parts(Arc::clone(&self.names), row.clone()))
    }

    /// Moves the rows out as records.
    pub fn into_records(self) -> impl Iterator<Item = Record> {
        let names = self.names;
        self.rows
            .into_iter()
            .map(move |row| Record::from_parts(Arc::clone(&names), row))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_is_kept_and_set_replaces() {
        let mut r = Record::from_pairs([("b", 1), ("a", 2)]);
        r.set("b", 3);
        r.set("c", 4);
        assert_eq!(r.names(), ["b", "a", "c"]);
        assert_eq!(r.values(), [Value::Int(3), Value::Int(2), Value::Int(4)]);
        assert_eq!(r.remove("a"), Some(Value::Int(2)));
        assert_eq!(r.names(), ["b", "c"]);
    }

    #[test]
    fn shared_names_are_copied_on_write() {
        let names: FieldNames = Arc::new(vec!["x".into()]);
        let a = Record::from_parts(Arc::clone(&names), vec![Value::Int(1)]);
        let mut b = a.clone();
        b.push("y", 2);
        assert_eq!(a.names(), ["x"]);
        assert_eq!(b.names(), ["x", "y"]);
    }

    #[test]
    fn deserialize_reports_bad_numbers() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Row {
            id: u8,
        }
        let err = Record::from_pairs([("id", "300")])
            .deserialize::<Row>()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Schema);
        assert!(err.message().contains("\"300\""), "{err}");
    }

    #[test]
    fn json_conversion_and_serde() {
        let r = Record::from_json(serde_json::json!({"a": 1, "b": {"c": [true]}})).unwrap();
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"a":1,"b":{"c":[true]}}"#
        );
        let back: Record = serde_json::from_str(r#"{"z":null,"a":"x"}"#).unwrap();
        assert_eq!(back.names(), ["z", "a"]);
        assert!(Record::from_json(serde_json::json!([1])).is_err());
    }

    #[test]
    fn batch_rows_become_records() {
        let mut b = Batch::new(Arc::new(vec!["a".into(), "b".into()]));
        b.push_row(vec![Value::Int(1)]);
        let recs: Vec<Record> = b.records().collect();
        assert_eq!(recs[0].get("b"), Some(&Value::Null));
        assert_eq!(b.len(), 1);
    }
}
