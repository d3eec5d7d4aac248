//! Test values and records, and their way into and out of flat batches.

use std::fmt;

use abi_stable::std_types::{RString, RVec, Tuple2};

use crate::abi::typed::Typed;
use crate::abi::{BatchBuilder, CellRef, RBatch, RValue, RecordSourceBox};
use crate::sdk::error::Result;

use super::Batch;

/// A value in a test record: what a host would make of a cell.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// An explicit null.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// Text.
    Str(String),
    /// Raw bytes.
    Bytes(Vec<u8>),
    /// A list.
    List(Vec<Value>),
    /// A map, in order.
    Map(Vec<(String, Value)>),
    /// A date, time, timestamp or decimal (a registered extension type).
    Typed(Typed),
    /// A value of an extension type this SDK does not register: its name
    /// and payload.
    Ext(String, Vec<u8>),
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Str(v.to_owned())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Str(v)
    }
}
impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Float(v)
    }
}
impl From<Typed> for Value {
    fn from(v: Typed) -> Self {
        Value::Typed(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", to_rvalue(self))
    }
}

/// A record: fields in order. Fields a row lacks are simply not there.
pub type Record = Vec<(String, Value)>;

/// An input as a host would serve it: batches in order, where an `Err` is
/// what the input fails with at that point.
pub type Batches = Vec<Result<Vec<Record>>>;

/// Builds a record from `(name, value)` pairs.
pub fn record<K: Into<String>, V: Into<Value>>(pairs: impl IntoIterator<Item = (K, V)>) -> Record {
    pairs
        .into_iter()
        .map(|(k, v)| (k.into(), v.into()))
        .collect()
}

/// Calls `each` with every record as the row view an author's
/// `RowWriter::write_row` receives, to test an author-level writer directly.
pub fn with_rows(
    records: &[Record],
    mut each: impl FnMut(crate::abi::RowView<'_>) -> Result<()>,
) -> Result<()> {
    let mut batch = RBatch::new();
    fill(&mut batch, records);
    for row in batch.validated()? {
        each(row)?;
    }
    Ok(())
}

pub(super) fn from_rvalue(v: &RValue) -> Value {
    match v {
        RValue::Null => Value::Null,
        RValue::Bool(b) => Value::Bool(*b),
        RValue::Int(i) => Value::Int(*i),
        RValue::Float(x) => Value::Float(*x),
        RValue::Str(s) => Value::Str(s.to_string()),
        RValue::Bytes(b) => Value::Bytes(b.to_vec()),
        RValue::List(l) => Value::List(l.iter().map(from_rvalue).collect()),
        RValue::Map(m) => Value::Map(
            m.iter()
                .map(|p| (p.0.to_string(), from_rvalue(&p.1)))
                .collect(),
        ),
        RValue::Ext(name, payload) => match Typed::decode(name, payload) {
            Some(t) => Value::Typed(t),
            None => Value::Ext(name.to_string(), payload.to_vec()),
        },
    }
}

pub(super) fn to_rvalue(v: &Value) -> RValue {
    match v {
        Value::Null => RValue::Null,
        Value::Bool(b) => RValue::Bool(*b),
        Value::Int(i) => RValue::Int(*i),
        Value::Float(x) => RValue::Float(*x),
        Value::Str(s) => RValue::Str(s.as_str().into()),
        Value::Bytes(b) => RValue::Bytes(RVec::from_slice(b)),
        Value::List(l) => RValue::List(l.iter().map(to_rvalue).collect()),
        Value::Map(m) => RValue::Map(
            m.iter()
                .map(|(k, v)| Tuple2(RString::from(k.as_str()), to_rvalue(v)))
                .collect(),
        ),
        Value::Typed(t) => t.to_rvalue(),
        Value::Ext(name, payload) => RValue::ext(name, payload),
    }
}

pub(super) fn from_cell(c: CellRef<'_>) -> Option<Value> {
    Some(match c {
        CellRef::Absent => return None,
        CellRef::Null => Value::Null,
        CellRef::Bool(b) => Value::Bool(b),
        CellRef::Int(i) => Value::Int(i),
        CellRef::Float(x) => Value::Float(x),
        CellRef::Str(s) => Value::Str(s.to_owned()),
        CellRef::Bytes(b) => Value::Bytes(b.to_vec()),
        CellRef::Nested(v) => from_rvalue(v),
    })
}

pub(super) fn push(b: &mut BatchBuilder<'_>, v: &Value) {
    match v {
        Value::Null => b.push_null(),
        Value::Bool(x) => b.push_bool(*x),
        Value::Int(i) => b.push_int(*i),
        Value::Float(x) => b.push_float(*x),
        Value::Str(s) => b.push_str(s),
        Value::Bytes(x) => b.push_bytes(x),
        other => b.push_value(to_rvalue(other)),
    };
}

/// Fills `batch` with `records` (one row each, by key).
pub(super) fn fill(batch: &mut RBatch, records: &[Record]) {
    batch.clear();
    let mut b = batch.builder();
    for r in records {
        for (k, v) in r {
            b.key(k);
            push(&mut b, v);
        }
        b.end_row();
    }
}

/// The records of a checked batch: present cells only.
pub(super) fn records_of(batch: &RBatch) -> Result<Batch> {
    let view = batch.validated()?;
    let fields: Vec<String> = view.field_names().map(str::to_owned).collect();
    let records = view
        .iter()
        .map(|row| {
            fields
                .iter()
                .enumerate()
                .filter_map(|(j, n)| from_cell(row.get(j)).map(|v| (n.clone(), v)))
                .collect()
        })
        .collect();
    Ok(Batch { fields, records })
}

/// Reads every batch of `source` (at most `max` rows each) into records,
/// checking each batch.
pub(super) fn drain(mut source: RecordSourceBox, max: u32) -> Result<Vec<Record>> {
    let mut out = Vec::new();
    let mut batch = RBatch::new();
    while source.read_batch(&mut batch, max).into_result()? {
        out.extend(records_of(&batch)?.records);
    }
    Ok(out)
}

/// A source that hands `batches` over in order, each as one batch (split
/// where the reader asks for fewer rows, skipped when empty); an `Err` is
/// what the source fails with at that point.
pub(super) fn source_of_batches(batches: Batches) -> RecordSourceBox {
    let mut left = batches.into_iter();
    let mut pending: Vec<Record> = Vec::new();
    RecordSourceBox::from_fn(move |batch, max| {
        while pending.is_empty() {
            match left.next() {
                Some(Ok(rs)) => pending = rs,
                Some(Err(e)) => return Err(e.into()),
                None => return Ok(false),
            }
        }
        let rest = pending.split_off(pending.len().min(max.max(1) as usize));
        fill(batch, &pending);
        pending = rest;
        Ok(true)
    })
}
