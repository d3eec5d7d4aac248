//! Reading a batch: cells, rows and views, bounds-checked and panic-free.

use std::fmt;

use abi_stable::std_types::RVec;

use super::{RBatch, tag};
use crate::abi::typed::Typed;
use crate::abi::value::RValue;

fn cell_start(batch: &RBatch, k: usize) -> Option<usize> {
    if k == 0 {
        Some(0)
    } else {
        batch.ends.get(k - 1).map(|&e| e as usize)
    }
}

pub(super) fn read_cell(batch: &RBatch, row: usize, j: usize, trusted: bool) -> CellRef<'_> {
    read_cell_opt(batch, row, j, trusted).unwrap_or(CellRef::Absent)
}

pub(super) fn read_cell_opt(
    batch: &RBatch,
    row: usize,
    j: usize,
    trusted: bool,
) -> Option<CellRef<'_>> {
    let nf = batch.fields.len();
    if j >= nf || row >= batch.rows as usize {
        return None;
    }
    let k = row.checked_mul(nf)?.checked_add(j)?;
    let t = *batch.tags.get(k)?;
    let end = *batch.ends.get(k)? as usize;
    let start = cell_start(batch, k)?;
    let bytes = batch.data.as_slice().get(start..end)?;
    Some(match t {
        tag::ABSENT => CellRef::Absent,
        tag::NULL => CellRef::Null,
        tag::FALSE => CellRef::Bool(false),
        tag::TRUE => CellRef::Bool(true),
        tag::INT => CellRef::Int(i64::from_le_bytes(bytes.try_into().ok()?)),
        tag::FLOAT => CellRef::Float(f64::from_bits(u64::from_le_bytes(bytes.try_into().ok()?))),
        tag::STR => {
            if trusted {
                // SAFETY: `trusted` views are only created by `RBatch::validated`,
                // which checked that this exact byte range (same `ends`, same
                // `data`) is valid UTF-8; the view borrows the batch immutably,
                // so it cannot have changed since.
                CellRef::Str(unsafe { std::str::from_utf8_unchecked(bytes) })
            } else {
                CellRef::Str(std::str::from_utf8(bytes).ok()?)
            }
        }
        tag::BYTES => CellRef::Bytes(bytes),
        tag::NESTED => {
            let idx = u32::from_le_bytes(bytes.try_into().ok()?);
            CellRef::Nested(batch.nested.get(idx as usize)?)
        }
        _ => return None,
    })
}

/// A borrowed cell value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum CellRef<'a> {
    /// The row has no value for this field (or the cell is malformed / out of range).
    Absent,
    /// An explicit null.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// Text.
    Str(&'a str),
    /// Raw bytes.
    Bytes(&'a [u8]),
    /// A nested value (list, map, extension).
    Nested(&'a RValue),
}

impl<'a> CellRef<'a> {
    /// Whether the cell is [`CellRef::Absent`].
    pub fn is_absent(&self) -> bool {
        matches!(self, CellRef::Absent)
    }
    /// Whether the cell is [`CellRef::Null`].
    pub fn is_null(&self) -> bool {
        matches!(self, CellRef::Null)
    }
    /// The text of a `Str` cell.
    pub fn as_str(&self) -> Option<&'a str> {
        match *self {
            CellRef::Str(s) => Some(s),
            _ => None,
        }
    }
    /// The bytes of a `Str` or `Bytes` cell.
    pub fn as_bytes(&self) -> Option<&'a [u8]> {
        match *self {
            CellRef::Str(s) => Some(s.as_bytes()),
            CellRef::Bytes(b) => Some(b),
            _ => None,
        }
    }
    /// The value of a `Bool` cell.
    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            CellRef::Bool(b) => Some(b),
            _ => None,
        }
    }
    /// The value of an `Int` cell.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            CellRef::Int(i) => Some(i),
            _ => None,
        }
    }
    /// The value of a `Float` cell, or an `Int` cell converted.
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            CellRef::Float(f) => Some(f),
            CellRef::Int(i) => Some(i as f64),
            _ => None,
        }
    }
    /// The date, time, timestamp or decimal of a `Nested` cell holding one
    /// of the registered extension types ([`crate::abi::typed`]).
    pub fn as_typed(&self) -> Option<crate::abi::typed::Typed> {
        match *self {
            CellRef::Nested(v) => crate::abi::typed::Typed::from_rvalue(v),
            _ => None,
        }
    }
    /// An owned [`RValue`]; `None` for `Absent`.
    pub fn to_value(&self) -> Option<RValue> {
        Some(match *self {
            CellRef::Absent => return None,
            CellRef::Null => RValue::Null,
            CellRef::Bool(b) => RValue::Bool(b),
            CellRef::Int(i) => RValue::Int(i),
            CellRef::Float(f) => RValue::Float(f),
            CellRef::Str(s) => RValue::Str(s.into()),
            CellRef::Bytes(b) => RValue::Bytes(RVec::from_slice(b)),
            CellRef::Nested(v) => v.clone(),
        })
    }
}

/// Text rendering for text formats: `Absent`/`Null` → empty, `Str` as is,
/// numbers and booleans in Rust's notation, `Bytes` as lossy UTF-8, dates,
/// times and timestamps as ISO-8601 and decimals in plain notation (as the
/// host writes them in CSV), other nested values as compact JSON.
///
/// ```
/// use iterable_plugin_api::abi::typed::{Typed, Unit};
/// use iterable_plugin_api::CellRef;
/// let day = Typed::Date(19_753).to_rvalue();
/// assert_eq!(CellRef::Nested(&day).to_string(), "2024-01-31");
/// let price = Typed::Decimal { value: 250, precision: 5, scale: 2 }.to_rvalue();
/// assert_eq!(CellRef::Nested(&price).to_string(), "2.50");
/// let at = Typed::Timestamp { unit: Unit::Second, value: 1_706_702_400, tz: Some("UTC".into()) }.to_rvalue();
/// assert_eq!(CellRef::Nested(&at).to_string(), "2024-01-31T12:00:00Z");
/// ```
impl fmt::Display for CellRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            CellRef::Absent | CellRef::Null => Ok(()),
            CellRef::Bool(b) => write!(f, "{b}"),
            CellRef::Int(i) => write!(f, "{i}"),
            CellRef::Float(x) => write!(f, "{x}"),
            CellRef::Str(s) => f.write_str(s),
            CellRef::Bytes(b) => f.write_str(&String::from_utf8_lossy(b)),
            CellRef::Nested(v) => match Typed::from_rvalue(v) {
                Some(t) => write!(f, "{t}"),
                None => write!(f, "{v}"),
            },
        }
    }
}

fn write_json_str(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_str("\"")?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            c if (c as u32) < 0x20 => write!(f, "\\u{:04x}", c as u32)?,
            c => write!(f, "{c}")?,
        }
    }
    f.write_str("\"")
}

/// Compact JSON: bytes render as a lossy UTF-8 string; dates, times and
/// timestamps as ISO-8601 strings and decimals as exact numbers (as the
/// host writes them in JSON); another `Ext` as
/// `{"$ext":"<type>","len":<payload length>}`; non-finite floats as `null`.
impl fmt::Display for RValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RValue::Null => f.write_str("null"),
            RValue::Bool(b) => write!(f, "{b}"),
            RValue::Int(i) => write!(f, "{i}"),
            RValue::Float(x) if x.is_finite() => write!(f, "{x}"),
            RValue::Float(_) => f.write_str("null"),
            RValue::Str(s) => write_json_str(f, s.as_str()),
            RValue::Bytes(b) => write_json_str(f, &String::from_utf8_lossy(b)),
            RValue::List(items) => {
                f.write_str("[")?;
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
            RValue::Map(pairs) => {
                f.write_str("{")?;
                for (i, pair) in pairs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write_json_str(f, pair.0.as_str())?;
                    write!(f, ":{}", pair.1)?;
                }
                f.write_str("}")
            }
            RValue::Ext(name, payload) => match Typed::decode(name.as_str(), payload.as_slice()) {
                Some(t @ Typed::Decimal { .. }) => write!(f, "{t}"),
                Some(t) => write_json_str(f, &t.to_string()),
                None => {
                    f.write_str("{\"$ext\":")?;
                    write_json_str(f, name.as_str())?;
                    write!(f, ",\"len\":{}}}", payload.len())
                }
            },
        }
    }
}

/// A read view over a batch: either unvalidated (every read checked) or
/// validated by [`RBatch::validated`].
#[derive(Clone, Copy, Debug)]
pub struct BatchView<'a> {
    pub(super) batch: &'a RBatch,
    pub(super) trusted: bool,
    /// Records in the stream before this batch's first row.
    pub(super) before: u64,
}

impl<'a> BatchView<'a> {
    /// The same view, its rows numbered in the stream after `records`
    /// earlier records ([`RowView::record`]). The writer adapter does this
    /// for every batch a writer gets.
    pub fn numbered_after(mut self, records: u64) -> Self {
        self.before = records;
        self
    }
    /// The underlying batch.
    pub fn batch(&self) -> &'a RBatch {
        self.batch
    }
    /// Whether this view came from [`RBatch::validated`].
    pub fn is_validated(&self) -> bool {
        self.trusted
    }
    /// The number of rows.
    pub fn len(&self) -> usize {
        self.batch.rows as usize
    }
    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.batch.rows == 0
    }
    /// The number of fields.
    pub fn field_count(&self) -> usize {
        self.batch.fields.len()
    }
    /// The field names, in order.
    pub fn field_names(&self) -> impl ExactSizeIterator<Item = &'a str> + 'a {
        self.batch.fields.iter().map(|f| f.as_str())
    }
    /// The index of field `name`.
    pub fn field_index(&self, name: &str) -> Option<usize> {
        self.batch.field_index(name)
    }
    /// Row `i`, `None` if out of range.
    pub fn row(&self, i: usize) -> Option<RowView<'a>> {
        (i < self.len()).then_some(RowView {
            batch: self.batch,
            row: i,
            trusted: self.trusted,
            before: self.before,
        })
    }
    /// Iterates the rows.
    pub fn iter(&self) -> Rows<'a> {
        Rows {
            view: *self,
            next: 0,
        }
    }
}

impl<'a> IntoIterator for BatchView<'a> {
    type Item = RowView<'a>;
    type IntoIter = Rows<'a>;
    fn into_iter(self) -> Rows<'a> {
        self.iter()
    }
}

/// Iterator over the rows of a [`BatchView`].
#[derive(Clone, Debug)]
pub struct Rows<'a> {
    view: BatchView<'a>,
    next: usize,
}

impl<'a> Iterator for Rows<'a> {
    type Item = RowView<'a>;
    fn next(&mut self) -> Option<RowView<'a>> {
        let row = self.view.row(self.next)?;
        self.next += 1;
        Some(row)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.view.len().saturating_sub(self.next);
        (n, Some(n))
    }
}

impl ExactSizeIterator for Rows<'_> {}

/// One row of a batch.
#[derive(Clone, Copy, Debug)]
pub struct RowView<'a> {
    batch: &'a RBatch,
    row: usize,
    trusted: bool,
    before: u64,
}

impl<'a> RowView<'a> {
    /// The row's index in its batch.
    pub fn index(&self) -> usize {
        self.row
    }
    /// The row's 1-based record number in the stream: in a writer, the
    /// number of the record being written (the records of earlier batches
    /// count); in a view of a lone batch, its index + 1. The default
    /// [`RowWriter::write_batch`](crate::sdk::RowWriter::write_batch) puts
    /// it on a row's error, so the host reports the record that failed.
    pub fn record(&self) -> u64 {
        self.before + self.row as u64 + 1
    }
    /// The number of fields (cells, including `Absent` ones).
    pub fn len(&self) -> usize {
        self.batch.fields.len()
    }
    /// Whether the batch has no fields.
    pub fn is_empty(&self) -> bool {
        self.batch.fields.is_empty()
    }
    /// Cell `j` (`Absent` when out of range or malformed).
    pub fn get(&self, j: usize) -> CellRef<'a> {
        read_cell(self.batch, self.row, j, self.trusted)
    }
    /// The cell of field `name` (`Absent` when there is no such field).
    pub fn get_by_name(&self, name: &str) -> CellRef<'a> {
        match self.batch.field_index(name) {
            Some(j) => self.get(j),
            None => CellRef::Absent,
        }
    }
    /// All `(field name, cell)` pairs, including `Absent` cells.
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, CellRef<'a>)> + 'a {
        let row = *self;
        self.batch
            .fields
            .iter()
            .enumerate()
            .map(move |(j, name)| (name.as_str(), row.get(j)))
    }
    /// The `(field name, cell)` pairs of the fields this row has (skips `Absent`).
    pub fn present(&self) -> impl Iterator<Item = (&'a str, CellRef<'a>)> + 'a {
        self.iter().filter(|(_, c)| !c.is_absent())
    }
}
