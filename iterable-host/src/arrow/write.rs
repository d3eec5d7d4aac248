//! Records to Arrow: types inferred per column and batch, exact where a
//! column's values disagree (unions), gathered into batches of rows that
//! share their names.

use super::*;

/// What a column's values have in common.
#[derive(Clone, Debug, PartialEq)]
enum Kind {
    Null,
    Bool,
    Int,
    Float,
    Text,
    Bytes,
    Date,
    Time(TimeUnit),
    Timestamp(TimeUnit, Option<Arc<str>>),
    Decimal(u8, i8),
    List,
    Map,
    /// Values that disagree: their text.
    Mixed,
}

fn kind_of(v: &Value) -> Kind {
    match v {
        Value::Null => Kind::Null,
        Value::Bool(_) => Kind::Bool,
        Value::Int(_) => Kind::Int,
        Value::Float(_) => Kind::Float,
        Value::String(_) => Kind::Text,
        Value::Bytes(_) => Kind::Bytes,
        Value::Date(_) => Kind::Date,
        Value::Time(t) => Kind::Time(t.unit),
        Value::Timestamp(t) => Kind::Timestamp(t.unit, t.tz.clone()),
        Value::Decimal(d) => Kind::Decimal(d.precision, d.scale),
        Value::List(_) => Kind::List,
        Value::Map(_) => Kind::Map,
    }
}

fn infer(values: &[&Value]) -> Kind {
    let mut kind = Kind::Null;
    for v in values {
        let k = kind_of(v);
        kind = match (kind, k) {
            (a, Kind::Null) => a,
            (Kind::Null, b) => b,
            (Kind::Int, Kind::Float) | (Kind::Float, Kind::Int) => Kind::Float,
            (a, b) if a == b => a,
            _ => return Kind::Mixed,
        };
    }
    kind
}

fn validity(values: &[&Value]) -> Option<NullBuffer> {
    values
        .iter()
        .any(|v| v.is_null())
        .then(|| NullBuffer::from(values.iter().map(|v| !v.is_null()).collect::<Vec<_>>()))
}

fn text_of(v: &Value) -> Option<String> {
    if v.is_null() {
        return None;
    }
    let mut s = String::new();
    v.write_text(&mut s);
    Some(s)
}

/// One column of values as an Arrow array. With `text`, every value is
/// given as its text (what a writer that only reads text asks for).
pub fn array_of(values: &[&Value], text: bool) -> Result<ArrayRef, ArrowError> {
    let kind = if text { Kind::Mixed } else { infer(values) };
    Ok(match kind {
        Kind::Null => Arc::new(NullArray::new(values.len())),
        Kind::Bool => Arc::new(BooleanArray::from(
            values
                .iter()
                .map(|v| match v {
                    Value::Bool(b) => Some(*b),
                    _ => None,
                })
                .collect::<Vec<_>>(),
        )),
        Kind::Int => Arc::new(Int64Array::from(
            values.iter().map(|v| v.as_i64()).collect::<Vec<_>>(),
        )),
        Kind::Float => Arc::new(Float64Array::from(
            values
                .iter()
                .map(|v| match v {
                    Value::Float(f) => Some(*f),
                    Value::Int(i) => Some(*i as f64),
                    _ => None,
                })
                .collect::<Vec<_>>(),
        )),
        Kind::Text => Arc::new(StringArray::from_iter(values.iter().map(|v| v.as_str()))),
        Kind::Mixed => Arc::new(StringArray::from_iter(values.iter().map(|v| text_of(v)))),
        Kind::Bytes => Arc::new(BinaryArray::from_iter(values.iter().map(|v| match v {
            Value::Bytes(b) => Some(b.as_slice()),
            _ => None,
        }))),
        Kind::Date => Arc::new(Date32Array::from(
            values
                .iter()
                .map(|v| match v {
                    Value::Date(d) => Some(d.0),
                    _ => None,
                })
                .collect::<Vec<_>>(),
        )),
        Kind::Time(u) => {
            let units = values.iter().map(|v| match v {
                Value::Time(t) => Some(t.value),
                _ => None,
            });
            match u {
                TimeUnit::Second => Arc::new(Time32SecondArray::from(
                    units.map(|v| v.map(|v| v as i32)).collect::<Vec<_>>(),
                )),
                TimeUnit::Millisecond => Arc::new(Time32MillisecondArray::from(
                    units.map(|v| v.map(|v| v as i32)).collect::<Vec<_>>(),
                )),
                TimeUnit::Microsecond => {
                    Arc::new(Time64MicrosecondArray::from(units.collect::<Vec<_>>()))
                }
                TimeUnit::Nanosecond => {
                    Arc::new(Time64NanosecondArray::from(units.collect::<Vec<_>>()))
                }
            }
        }
        Kind::Timestamp(u, tz) => {
            let v: Vec<Option<i64>> = values
                .iter()
                .map(|v| match v {
                    Value::Timestamp(t) => Some(t.value),
                    _ => None,
                })
                .collect();
            let tz: Option<Arc<str>> = tz;
            match arrow_unit(u) {
                ArrowUnit::Second => {
                    Arc::new(PrimitiveArray::<TimestampSecondType>::from(v).with_timezone_opt(tz))
                }
                ArrowUnit::Millisecond => Arc::new(
                    PrimitiveArray::<TimestampMillisecondType>::from(v).with_timezone_opt(tz),
                ) as ArrayRef,
                ArrowUnit::Microsecond => Arc::new(
                    PrimitiveArray::<TimestampMicrosecondType>::from(v).with_timezone_opt(tz),
                ),
                ArrowUnit::Nanosecond => Arc::new(
                    PrimitiveArray::<TimestampNanosecondType>::from(v).with_timezone_opt(tz),
                ),
            }
        }
        Kind::Decimal(p, s) => Arc::new(
            Decimal128Array::from(
                values
                    .iter()
                    .map(|v| match v {
                        Value::Decimal(d) => Some(d.value),
                        _ => None,
                    })
                    .collect::<Vec<_>>(),
            )
            .with_precision_and_scale(p, s)?,
        ),
        Kind::List => list_of(values, |items| array_of(items, false))?,
        Kind::Map => {
            // A struct over every key, in the order keys first appear.
            let mut keys: Vec<&str> = Vec::new();
            for v in values {
                if let Value::Map(m) = v {
                    for (k, _) in m {
                        if !keys.contains(&k.as_str()) {
                            keys.push(k);
                        }
                    }
                }
            }
            let mut fields = Vec::with_capacity(keys.len());
            let mut columns = Vec::with_capacity(keys.len());
            for k in &keys {
                let col: Vec<&Value> = values.iter().map(|v| v.get(k).unwrap_or(&NULL)).collect();
                let array = array_of(&col, false)?;
                fields.push(Field::new(*k, array.data_type().clone(), true));
                columns.push(array);
            }
            if keys.is_empty() {
                Arc::new(StructArray::new_empty_fields(
                    values.len(),
                    validity(values),
                ))
            } else {
                Arc::new(StructArray::try_new(
                    Fields::from(fields),
                    columns,
                    validity(values),
                )?)
            }
        }
    })
}

static NULL: Value = Value::Null;

/// Rows of records as one Arrow batch: a column per name, each typed by
/// what its values have in common (see [`array_of`]).
pub fn record_batch(
    names: &[String],
    rows: &[Vec<Value>],
    text: bool,
) -> Result<RecordBatch, ArrowError> {
    batch_of(names, rows, |col| array_of(col, text))
}

/// Rows of records as one Arrow batch that gives back exactly the same
/// values (the runner's wire): like [`record_batch`], except that a column
/// whose values disagree is a dense union with a child per kind of value,
/// lists and maps nest the same way, and maps are Arrow maps (each keeps
/// its own keys, in order).
pub fn exact_batch(names: &[String], rows: &[Vec<Value>]) -> Result<RecordBatch, ArrowError> {
    batch_of(names, rows, exact_array)
}

/// Rows over `names` as a batch, each column made by `column`.
fn batch_of(
    names: &[String],
    rows: &[Vec<Value>],
    column: impl Fn(&[&Value]) -> Result<ArrayRef, ArrowError>,
) -> Result<RecordBatch, ArrowError> {
    let mut fields = Vec::with_capacity(names.len());
    let mut columns = Vec::with_capacity(names.len());
    let mut col: Vec<&Value> = Vec::with_capacity(rows.len());
    for (i, name) in names.iter().enumerate() {
        col.clear();
        col.extend(rows.iter().map(|r| r.get(i).unwrap_or(&NULL)));
        let array = column(&col)?;
        fields.push(Field::new(name, array.data_type().clone(), true));
        columns.push(array);
    }
    RecordBatch::try_new_with_options(
        Arc::new(Schema::new(fields)),
        columns,
        &RecordBatchOptions::new().with_row_count(Some(rows.len())),
    )
}

/// A column of lists (a null for any other value) as a list array whose
/// items are made by `items`.
fn list_of(
    values: &[&Value],
    items: impl FnOnce(&[&Value]) -> Result<ArrayRef, ArrowError>,
) -> Result<ArrayRef, ArrowError> {
    let empty = Vec::new();
    let lists: Vec<&Vec<Value>> = values
        .iter()
        .map(|v| match v {
            Value::List(l) => l,
            _ => &empty,
        })
        .collect();
    let flat: Vec<&Value> = lists.iter().flat_map(|l| l.iter()).collect();
    let child = items(&flat)?;
    let field = Arc::new(Field::new("item", child.data_type().clone(), true));
    Ok(Arc::new(ListArray::try_new(
        field,
        OffsetBuffer::from_lengths(lists.iter().map(|l| l.len())),
        child,
        validity(values),
    )?))
}

/// One column as an array that gives back exactly its values.
fn exact_array(values: &[&Value]) -> Result<ArrayRef, ArrowError> {
    // Ints and floats stay apart: an int read back as a float is not the
    // value that was written.
    let mut kind = Kind::Null;
    for v in values {
        kind = match (kind, kind_of(v)) {
            (a, Kind::Null) => a,
            (Kind::Null, b) => b,
            (a, b) if a == b => a,
            _ => {
                kind = Kind::Mixed;
                break;
            }
        };
    }
    match kind {
        Kind::Mixed => union_of(values),
        Kind::List => list_of(values, exact_array),
        Kind::Map => {
            let no_map = Vec::new();
            let maps: Vec<&iterable_core::Map> = values
                .iter()
                .map(|v| match v {
                    Value::Map(m) => m,
                    _ => &no_map,
                })
                .collect();
            let keys =
                StringArray::from_iter_values(maps.iter().flat_map(|m| m.iter().map(|(k, _)| k)));
            let vals: Vec<&Value> = maps.iter().flat_map(|m| m.iter().map(|(_, v)| v)).collect();
            let vals = exact_array(&vals)?;
            let entries = StructArray::try_new(
                Fields::from(vec![
                    Field::new("key", DataType::Utf8, false),
                    Field::new("value", vals.data_type().clone(), true),
                ]),
                vec![Arc::new(keys), vals],
                None,
            )?;
            let field = Arc::new(Field::new("entries", entries.data_type().clone(), false));
            Ok(Arc::new(arrow_array::MapArray::try_new(
                field,
                OffsetBuffer::from_lengths(maps.iter().map(|m| m.len())),
                entries,
                validity(values),
                false,
            )?))
        }
        _ => array_of(values, false),
    }
}

/// Records appended straight into Arrow builders, one per column, for rows
/// that share their field names: the same batch as [`exact_batch`] without
/// moving each row's values out of its record (the record's buffers are
/// reused by the reader). A column keeps a typed builder while its values
/// agree (text, ints, floats, bools); the first value of another kind turns
/// it into plain values, encoded exactly at the end.
pub(crate) struct RecordsToArrow {
    names: Option<iterable_core::FieldNames>,
    columns: Vec<Column>,
    rows: usize,
}

enum Column {
    /// Only nulls so far: how many.
    Nulls(usize),
    Text(arrow_array::builder::StringBuilder),
    Int(arrow_array::builder::Int64Builder),
    Float(arrow_array::builder::Float64Builder),
    Bool(arrow_array::builder::BooleanBuilder),
    /// Values of several kinds, or of a kind with no builder here.
    Values(Vec<Value>),
}

impl Column {
    fn push(&mut self, v: &Value) {
        use arrow_array::builder::*;
        match (&mut *self, v) {
            (Column::Nulls(n), Value::Null) => *n += 1,
            (Column::Nulls(n), _) => {
                let n = *n;
                *self = match v {
                    Value::String(_) => Column::Text(StringBuilder::new()),
                    Value::Int(_) => Column::Int(Int64Builder::new()),
                    Value::Float(_) => Column::Float(Float64Builder::new()),
                    Value::Bool(_) => Column::Bool(BooleanBuilder::new()),
                    _ => Column::Values(Vec::new()),
                };
                for _ in 0..n {
                    self.push(&Value::Null);
                }
                self.push(v);
            }
            (Column::Text(b), Value::String(s)) => b.append_value(s),
            (Column::Text(b), Value::Null) => b.append_null(),
            (Column::Int(b), Value::Int(i)) => b.append_value(*i),
            (Column::Int(b), Value::Null) => b.append_null(),
            (Column::Float(b), Value::Float(f)) => b.append_value(*f),
            (Column::Float(b), Value::Null) => b.append_null(),
            (Column::Bool(b), Value::Bool(x)) => b.append_value(*x),
            (Column::Bool(b), Value::Null) => b.append_null(),
            (Column::Values(vals), _) => vals.push(v.clone()),
            // A value of another kind: the column so far as values, then it.
            (_, _) => {
                let so_far = self.finish();
                let mut vals: Vec<Value> = (0..so_far.len())
                    .map(|i| value(so_far.as_ref(), i))
                    .collect();
                vals.push(v.clone());
                *self = Column::Values(vals);
            }
        }
    }

    /// The column as an array; the column is left empty.
    fn finish(&mut self) -> ArrayRef {
        match std::mem::replace(self, Column::Nulls(0)) {
            Column::Nulls(n) => Arc::new(NullArray::new(n)),
            Column::Text(mut b) => Arc::new(b.finish()),
            Column::Int(mut b) => Arc::new(b.finish()),
            Column::Float(mut b) => Arc::new(b.finish()),
            Column::Bool(mut b) => Arc::new(b.finish()),
            Column::Values(vals) => {
                let refs: Vec<&Value> = vals.iter().collect();
                // Only a bug could fail here (values of known kinds); say so
                // as text rather than lose the rows.
                exact_array(&refs).unwrap_or_else(|e| {
                    Arc::new(StringArray::from_iter(
                        refs.iter().map(|_| Some(format!("unencodable: {e}"))),
                    ))
                })
            }
        }
    }
}

impl RecordsToArrow {
    pub fn new() -> RecordsToArrow {
        RecordsToArrow {
            names: None,
            columns: Vec::new(),
            rows: 0,
        }
    }

    /// Whether rows over `names` can join the rows gathered so far (the
    /// same names, or none gathered).
    pub fn fits(&self, names: &iterable_core::FieldNames) -> bool {
        match &self.names {
            None => true,
            Some(n) => Arc::ptr_eq(n, names) || **n == **names,
        }
    }

    /// Appends a row over `names` (which [`RecordsToArrow::fits`]).
    pub fn push(&mut self, names: &iterable_core::FieldNames, values: &[Value]) {
        if self.names.is_none() {
            self.names = Some(Arc::clone(names));
            self.columns = (0..names.len()).map(|_| Column::Nulls(0)).collect();
        }
        for (i, c) in self.columns.iter_mut().enumerate() {
            c.push(values.get(i).unwrap_or(&Value::Null));
        }
        self.rows += 1;
    }

    /// Rows gathered.
    pub fn len(&self) -> usize {
        self.rows
    }

    /// The rows gathered as one batch, if any; starts again empty.
    pub fn take(&mut self) -> Result<Option<RecordBatch>, ArrowError> {
        let Some(names) = self.names.take() else {
            return Ok(None);
        };
        let rows = std::mem::take(&mut self.rows);
        let mut fields = Vec::with_capacity(names.len());
        let mut arrays = Vec::with_capacity(names.len());
        for (name, c) in names.iter().zip(self.columns.iter_mut()) {
            let a = c.finish();
            fields.push(Field::new(name, a.data_type().clone(), true));
            arrays.push(a);
        }
        self.columns.clear();
        RecordBatch::try_new_with_options(
            Arc::new(Schema::new(fields)),
            arrays,
            &RecordBatchOptions::new().with_row_count(Some(rows)),
        )
        .map(Some)
    }
}

/// Values of several kinds as a dense union: a child per kind, in the order
/// the kinds first appear.
fn union_of(values: &[&Value]) -> Result<ArrayRef, ArrowError> {
    let mut kinds: Vec<Kind> = Vec::new();
    let mut groups: Vec<Vec<&Value>> = Vec::new();
    let mut type_ids: Vec<i8> = Vec::with_capacity(values.len());
    let mut offsets: Vec<i32> = Vec::with_capacity(values.len());
    for v in values {
        let k = kind_of(v);
        let i = match kinds.iter().position(|x| *x == k) {
            Some(i) => i,
            None => {
                kinds.push(k);
                groups.push(Vec::new());
                kinds.len() - 1
            }
        };
        let id = i8::try_from(i)
            .map_err(|_| ArrowError::InvalidArgumentError("too many kinds of values".into()))?;
        type_ids.push(id);
        offsets.push(groups[i].len() as i32);
        groups[i].push(v);
    }
    let children: Vec<ArrayRef> = groups
        .iter()
        .map(|g| exact_array(g))
        .collect::<Result<_, _>>()?;
    let fields = arrow_schema::UnionFields::try_new(
        (0..children.len() as i8).collect::<Vec<_>>(),
        children
            .iter()
            .enumerate()
            .map(|(i, c)| Field::new(format!("k{i}"), c.data_type().clone(), true)),
    )?;
    Ok(Arc::new(arrow_array::UnionArray::try_new(
        fields,
        type_ids.into(),
        Some(offsets.into()),
        children,
    )?))
}

/// Rows that share their field names, ready to become one Arrow batch.
pub(crate) type Rows = (iterable_core::FieldNames, Vec<Vec<Value>>);

/// Records gathered into batches of rows that share their field names, for
/// a writer that hands batches on: a batch is ready when the names change
/// and when `limit` rows are gathered.
pub(crate) struct Gather {
    names: Option<iterable_core::FieldNames>,
    rows: Vec<Vec<Value>>,
    limit: usize,
}

impl Gather {
    /// Batches of at most `limit` rows.
    pub fn new(limit: usize) -> Gather {
        Gather {
            names: None,
            rows: Vec::new(),
            limit: limit.max(1),
        }
    }

    /// Adds rows over `names`; returns the batches this made ready, in order.
    pub fn add(
        &mut self,
        names: &iterable_core::FieldNames,
        rows: impl IntoIterator<Item = Vec<Value>>,
    ) -> Vec<Rows> {
        let mut ready = Vec::new();
        let same = self
            .names
            .as_ref()
            .is_some_and(|n| Arc::ptr_eq(n, names) || n == names);
        if !same {
            ready.extend(self.take());
            self.names = Some(Arc::clone(names));
        }
        for row in rows {
            self.rows.push(row);
            if self.rows.len() >= self.limit {
                ready.extend(self.take());
            }
        }
        ready
    }

    /// The rows gathered so far, if any.
    pub fn take(&mut self) -> Option<Rows> {
        match &self.names {
            Some(n) if !self.rows.is_empty() => {
                Some((Arc::clone(n), std::mem::take(&mut self.rows)))
            }
            _ => None,
        }
    }
}
