//! Records' values into Arrow arrays of a given type: typed values as
//! they are, text parsed (a CSV's cells), nested lists, structs and maps
//! built from their children.

use std::sync::Arc;

use arrow_array::builder::{BinaryBuilder, BooleanBuilder, PrimitiveBuilder, StringBuilder};
use arrow_array::types::*;
use arrow_array::{
    Array, ArrayRef, ArrowPrimitiveType, ListArray, MapArray, NullArray, StructArray,
};
use arrow_buffer::{NullBuffer, OffsetBuffer};
use arrow_cast::parse::{Parser, parse_decimal, string_to_timestamp_nanos};
use arrow_schema::{DataType, TimeUnit};
use iterable_plugin_api::prelude::*;

/// One value on its way into an Arrow array.
#[derive(Clone, Copy, Debug)]
pub(crate) enum V<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(&'a str),
    Bytes(&'a [u8]),
    /// A list, a map, or a typed value.
    R(&'a RValue),
}

impl<'a> V<'a> {
    pub(crate) fn of_cell(c: CellRef<'a>) -> V<'a> {
        match c {
            CellRef::Absent | CellRef::Null => V::Null,
            CellRef::Bool(b) => V::Bool(b),
            CellRef::Int(i) => V::Int(i),
            CellRef::Float(f) => V::Float(f),
            CellRef::Str(s) => V::Str(s),
            CellRef::Bytes(b) => V::Bytes(b),
            CellRef::Nested(r) => V::of(r),
        }
    }

    pub(crate) fn of(r: &'a RValue) -> V<'a> {
        match r {
            RValue::Null => V::Null,
            RValue::Bool(b) => V::Bool(*b),
            RValue::Int(i) => V::Int(*i),
            RValue::Float(f) => V::Float(*f),
            RValue::Str(s) => V::Str(s.as_str()),
            RValue::Bytes(b) => V::Bytes(b.as_slice()),
            other => V::R(other),
        }
    }

    fn is_null(&self) -> bool {
        matches!(self, V::Null)
    }

    pub(crate) fn typed(&self) -> Option<Typed> {
        match self {
            V::R(r) => Typed::from_rvalue(r),
            _ => None,
        }
    }

    /// The value as text, for a string column.
    fn text(&self) -> String {
        match self {
            V::Null => String::new(),
            V::Bool(b) => b.to_string(),
            V::Int(i) => i.to_string(),
            V::Float(f) => f.to_string(),
            V::Str(s) => (*s).to_owned(),
            V::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
            V::R(r) => match Typed::from_rvalue(r) {
                Some(t) => typed_text(&t),
                None => r.to_string(),
            },
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            V::Null => "null",
            V::Bool(_) => "a bool",
            V::Int(_) => "an integer",
            V::Float(_) => "a float",
            V::Str(_) => "text",
            V::Bytes(_) => "bytes",
            V::R(RValue::List(_)) => "a list",
            V::R(RValue::Map(_)) => "a map",
            V::R(r) => match Typed::from_rvalue(r) {
                Some(Typed::Date(_)) => "a date",
                Some(Typed::Time { .. }) => "a time",
                Some(Typed::Timestamp { .. }) => "a timestamp",
                Some(Typed::Decimal { .. }) => "a decimal",
                None => "a value of an unknown type",
            },
        }
    }
}

/// ISO-8601 / plain decimal text of a typed value, for string columns.
pub(crate) fn typed_text(t: &Typed) -> String {
    // The host's text forms are the reference; here a simple rendering that
    // Arrow parses back.
    match t {
        Typed::Date(d) => {
            let a = arrow_array::Date32Array::from(vec![*d]);
            fmt_one(&a)
        }
        Typed::Time { unit, value } => {
            let a: ArrayRef = match unit {
                Unit::Second => Arc::new(arrow_array::Time32SecondArray::from(vec![*value as i32])),
                Unit::Millisecond => Arc::new(arrow_array::Time32MillisecondArray::from(vec![
                    *value as i32,
                ])),
                Unit::Microsecond => {
                    Arc::new(arrow_array::Time64MicrosecondArray::from(vec![*value]))
                }
                Unit::Nanosecond => {
                    Arc::new(arrow_array::Time64NanosecondArray::from(vec![*value]))
                }
            };
            fmt_one(a.as_ref())
        }
        Typed::Timestamp { unit, value, tz } => {
            let a = timestamp_array(vec![Some(*value)], arrow_unit(*unit), tz.as_deref());
            fmt_one(a.as_ref())
        }
        Typed::Decimal {
            value,
            precision,
            scale,
        } => Decimal128Type::format_decimal(*value, *precision, *scale),
    }
}

fn fmt_one(a: &dyn Array) -> String {
    arrow_cast::display::ArrayFormatter::try_new(a, &Default::default())
        .map(|f| f.value(0).to_string())
        .unwrap_or_default()
}

pub(crate) fn arrow_unit(u: Unit) -> TimeUnit {
    match u {
        Unit::Second => TimeUnit::Second,
        Unit::Millisecond => TimeUnit::Millisecond,
        Unit::Microsecond => TimeUnit::Microsecond,
        Unit::Nanosecond => TimeUnit::Nanosecond,
    }
}

fn per_second(u: TimeUnit) -> i128 {
    match u {
        TimeUnit::Second => 1,
        TimeUnit::Millisecond => 1_000,
        TimeUnit::Microsecond => 1_000_000,
        TimeUnit::Nanosecond => 1_000_000_000,
    }
}

/// `value` in unit `from`, converted to unit `to` (exactly, or an error when
/// it would lose digits or not fit).
fn rescale_time(value: i64, from: TimeUnit, to: TimeUnit) -> Result<i64, String> {
    let (f, t) = (per_second(from), per_second(to));
    let v = i128::from(value);
    let out = if t >= f {
        v * (t / f)
    } else if v % (f / t) == 0 {
        v / (f / t)
    } else {
        return Err(format!(
            "{value} is finer than the column's unit ({to:?}) allows"
        ));
    };
    i64::try_from(out).map_err(|_| format!("{value} does not fit the column's unit ({to:?})"))
}

fn timestamp_array(values: Vec<Option<i64>>, unit: TimeUnit, tz: Option<&str>) -> ArrayRef {
    let tz: Option<Arc<str>> = tz.map(Arc::from);
    match unit {
        TimeUnit::Second => {
            Arc::new(arrow_array::TimestampSecondArray::from(values).with_timezone_opt(tz))
        }
        TimeUnit::Millisecond => {
            Arc::new(arrow_array::TimestampMillisecondArray::from(values).with_timezone_opt(tz))
        }
        TimeUnit::Microsecond => {
            Arc::new(arrow_array::TimestampMicrosecondArray::from(values).with_timezone_opt(tz))
        }
        TimeUnit::Nanosecond => {
            Arc::new(arrow_array::TimestampNanosecondArray::from(values).with_timezone_opt(tz))
        }
    }
}

/// A value that does not fit its column: which value (its index in the
/// slice being built) and why.
pub(crate) struct Misfit(pub(crate) usize, pub(crate) String);

pub(crate) type Built = std::result::Result<ArrayRef, Misfit>;

/// An Arrow array of type `dt` from `values`. Empty text is a null in a
/// column of any type but text and bytes (a CSV's empty cell).
pub(crate) fn build(values: &[V<'_>], dt: &DataType) -> Built {
    let blank = |v: &V<'_>| matches!(v, V::Str(s) if s.trim().is_empty());
    if !matches!(dt, DataType::Utf8 | DataType::Binary) && values.iter().any(blank) {
        let cleaned: Vec<V<'_>> = values
            .iter()
            .map(|v| if blank(v) { V::Null } else { *v })
            .collect();
        return build_typed(&cleaned, dt);
    }
    build_typed(values, dt)
}

fn build_typed(values: &[V<'_>], dt: &DataType) -> Built {
    let bad = |i: usize, v: &V<'_>| {
        Misfit(
            i,
            format!(
                "{} does not fit type {}",
                v.kind(),
                crate::schema::type_text(dt)
            ),
        )
    };
    match dt {
        DataType::Null => {
            if let Some(i) = values.iter().position(|v| !v.is_null()) {
                return Err(bad(i, &values[i]));
            }
            Ok(Arc::new(NullArray::new(values.len())))
        }
        DataType::Boolean => {
            let mut b = BooleanBuilder::with_capacity(values.len());
            for (i, v) in values.iter().enumerate() {
                match v {
                    V::Null => b.append_null(),
                    V::Bool(x) => b.append_value(*x),
                    V::Str(s) => match s.trim().to_ascii_lowercase().as_str() {
                        "true" | "1" | "yes" => b.append_value(true),
                        "false" | "0" | "no" => b.append_value(false),
                        "" => b.append_null(),
                        _ => return Err(Misfit(i, format!("`{s}` is not a bool"))),
                    },
                    other => return Err(bad(i, other)),
                }
            }
            Ok(Arc::new(b.finish()))
        }
        DataType::Int8 => ints::<Int8Type>(values, dt),
        DataType::Int16 => ints::<Int16Type>(values, dt),
        DataType::Int32 => ints::<Int32Type>(values, dt),
        DataType::Int64 => ints::<Int64Type>(values, dt),
        DataType::UInt8 => ints::<UInt8Type>(values, dt),
        DataType::UInt16 => ints::<UInt16Type>(values, dt),
        DataType::UInt32 => ints::<UInt32Type>(values, dt),
        DataType::UInt64 => ints::<UInt64Type>(values, dt),
        DataType::Float32 => floats::<Float32Type>(values, |f| f as f32),
        DataType::Float64 => floats::<Float64Type>(values, |f| f),
        DataType::Utf8 => {
            let mut b = StringBuilder::with_capacity(values.len(), values.len() * 8);
            for v in values {
                match v {
                    V::Null => b.append_null(),
                    V::Str(s) => b.append_value(s),
                    other => b.append_value(other.text()),
                }
            }
            Ok(Arc::new(b.finish()))
        }
        DataType::Binary => {
            let mut b = BinaryBuilder::with_capacity(values.len(), values.len() * 8);
            for (i, v) in values.iter().enumerate() {
                match v {
                    V::Null => b.append_null(),
                    V::Bytes(x) => b.append_value(x),
                    V::Str(s) => b.append_value(s.as_bytes()),
                    other => return Err(bad(i, other)),
                }
            }
            Ok(Arc::new(b.finish()))
        }
        DataType::Date32 => {
            let mut b = PrimitiveBuilder::<Date32Type>::with_capacity(values.len());
            for (i, v) in values.iter().enumerate() {
                match (v, v.typed()) {
                    (V::Null, _) => b.append_null(),
                    (_, Some(Typed::Date(d))) => b.append_value(d),
                    (V::Str(s), _) => match Date32Type::parse(s.trim()) {
                        Some(d) => b.append_value(d),
                        None => return Err(Misfit(i, format!("`{s}` is not a date (YYYY-MM-DD)"))),
                    },
                    (other, _) => return Err(bad(i, other)),
                }
            }
            Ok(Arc::new(b.finish()))
        }
        DataType::Time32(u) | DataType::Time64(u) => {
            let mut out = Vec::with_capacity(values.len());
            for (i, v) in values.iter().enumerate() {
                out.push(match (v, v.typed()) {
                    (V::Null, _) => None,
                    (_, Some(Typed::Time { unit, value })) => {
                        Some(rescale_time(value, arrow_unit(unit), *u).map_err(|m| Misfit(i, m))?)
                    }
                    (V::Str(s), _) => {
                        let parsed = match u {
                            TimeUnit::Second => Time32SecondType::parse(s).map(i64::from),
                            TimeUnit::Millisecond => Time32MillisecondType::parse(s).map(i64::from),
                            TimeUnit::Microsecond => Time64MicrosecondType::parse(s),
                            TimeUnit::Nanosecond => Time64NanosecondType::parse(s),
                        };
                        Some(
                            parsed
                                .ok_or_else(|| Misfit(i, format!("`{s}` is not a time of day")))?,
                        )
                    }
                    (other, _) => return Err(bad(i, other)),
                });
            }
            Ok(match u {
                TimeUnit::Second => Arc::new(arrow_array::Time32SecondArray::from(
                    out.into_iter()
                        .map(|v| v.map(|x| x as i32))
                        .collect::<Vec<_>>(),
                )),
                TimeUnit::Millisecond => Arc::new(arrow_array::Time32MillisecondArray::from(
                    out.into_iter()
                        .map(|v| v.map(|x| x as i32))
                        .collect::<Vec<_>>(),
                )),
                TimeUnit::Microsecond => Arc::new(arrow_array::Time64MicrosecondArray::from(out)),
                TimeUnit::Nanosecond => Arc::new(arrow_array::Time64NanosecondArray::from(out)),
            })
        }
        DataType::Timestamp(u, tz) => {
            let mut out = Vec::with_capacity(values.len());
            for (i, v) in values.iter().enumerate() {
                out.push(match (v, v.typed()) {
                    (V::Null, _) => None,
                    (_, Some(Typed::Timestamp { unit, value, .. })) => {
                        Some(rescale_time(value, arrow_unit(unit), *u).map_err(|m| Misfit(i, m))?)
                    }
                    (V::Int(n), _) => Some(*n),
                    (V::Str(s), _) => {
                        let ns = string_to_timestamp_nanos(s.trim())
                            .map_err(|e| Misfit(i, format!("`{s}` is not a timestamp: {e}")))?;
                        Some(rescale_time(ns, TimeUnit::Nanosecond, *u).map_err(|m| Misfit(i, m))?)
                    }
                    (other, _) => return Err(bad(i, other)),
                });
            }
            Ok(timestamp_array(out, *u, tz.as_deref()))
        }
        DataType::Decimal128(p, s) => {
            let mut out = Vec::with_capacity(values.len());
            for (i, v) in values.iter().enumerate() {
                let text = match (v, v.typed()) {
                    (V::Null, _) => {
                        out.push(None);
                        continue;
                    }
                    (
                        _,
                        Some(Typed::Decimal {
                            value,
                            precision,
                            scale,
                        }),
                    ) => Decimal128Type::format_decimal(value, precision, scale),
                    (V::Int(n), _) => n.to_string(),
                    (V::Float(f), _) => f.to_string(),
                    (V::Str(x), _) => x.trim().to_owned(),
                    (other, _) => return Err(bad(i, other)),
                };
                let d = parse_decimal::<Decimal128Type>(&text, *p, *s).map_err(|e| {
                    Misfit(i, format!("`{text}` does not fit decimal({p}, {s}): {e}"))
                })?;
                out.push(Some(d));
            }
            let a = arrow_array::Decimal128Array::from(out)
                .with_precision_and_scale(*p, *s)
                .map_err(|e| Misfit(0, e.to_string()))?;
            Ok(Arc::new(a))
        }
        DataType::List(item) => {
            let mut lens = Vec::with_capacity(values.len());
            let mut valid = Vec::with_capacity(values.len());
            let mut children = Vec::new();
            for (i, v) in values.iter().enumerate() {
                match v {
                    V::Null => {
                        lens.push(0);
                        valid.push(false);
                    }
                    V::R(RValue::List(items)) => {
                        lens.push(items.len());
                        valid.push(true);
                        children.extend(items.iter().map(V::of));
                    }
                    other => return Err(bad(i, other)),
                }
            }
            let child = build(&children, item.data_type())
                .map_err(|Misfit(_, m)| Misfit(0, format!("a list item: {m}")))?;
            Ok(Arc::new(ListArray::new(
                item.clone(),
                OffsetBuffer::from_lengths(lens),
                child,
                Some(NullBuffer::from(valid)),
            )))
        }
        DataType::Struct(fields) => {
            let mut valid = Vec::with_capacity(values.len());
            let mut columns: Vec<Vec<V<'_>>> = vec![Vec::with_capacity(values.len()); fields.len()];
            for (i, v) in values.iter().enumerate() {
                match v {
                    V::Null => {
                        valid.push(false);
                        columns.iter_mut().for_each(|c| c.push(V::Null));
                    }
                    V::R(RValue::Map(pairs)) => {
                        valid.push(true);
                        for (f, c) in fields.iter().zip(columns.iter_mut()) {
                            let found = pairs.iter().rev().find(|p| p.0.as_str() == f.name());
                            c.push(found.map_or(V::Null, |p| V::of(&p.1)));
                        }
                        if let Some(extra) = pairs
                            .iter()
                            .find(|p| !fields.iter().any(|f| f.name() == p.0.as_str()))
                        {
                            return Err(Misfit(
                                i,
                                format!(
                                    "key `{}` is not a field of {}",
                                    extra.0,
                                    crate::schema::type_text(dt)
                                ),
                            ));
                        }
                    }
                    other => return Err(bad(i, other)),
                }
            }
            let mut arrays = Vec::with_capacity(fields.len());
            for (f, c) in fields.iter().zip(&columns) {
                arrays.push(
                    build(c, f.data_type())
                        .map_err(|Misfit(i, m)| Misfit(i, format!("key `{}`: {m}", f.name())))?,
                );
            }
            let s = StructArray::try_new(fields.clone(), arrays, Some(NullBuffer::from(valid)))
                .map_err(|e| Misfit(0, e.to_string()))?;
            Ok(Arc::new(s))
        }
        DataType::Map(entries, sorted) => {
            let DataType::Struct(kv) = entries.data_type() else {
                return Err(Misfit(0, "a map's entries must be a struct".into()));
            };
            let mut lens = Vec::with_capacity(values.len());
            let mut valid = Vec::with_capacity(values.len());
            let (mut keys, mut vals) = (Vec::new(), Vec::new());
            for (i, v) in values.iter().enumerate() {
                match v {
                    V::Null => {
                        lens.push(0);
                        valid.push(false);
                    }
                    V::R(RValue::Map(pairs)) => {
                        lens.push(pairs.len());
                        valid.push(true);
                        for p in pairs.iter() {
                            keys.push(V::Str(p.0.as_str()));
                            vals.push(V::of(&p.1));
                        }
                    }
                    // Non-text keys come as a list of {key, value} maps.
                    V::R(RValue::List(items)) => {
                        lens.push(items.len());
                        valid.push(true);
                        for item in items.iter() {
                            let get = |k: &str| match item {
                                RValue::Map(m) => {
                                    m.iter().find(|p| p.0.as_str() == k).map(|p| V::of(&p.1))
                                }
                                _ => None,
                            };
                            keys.push(get("key").unwrap_or(V::Null));
                            vals.push(get("value").unwrap_or(V::Null));
                        }
                    }
                    other => return Err(bad(i, other)),
                }
            }
            let k = build(&keys, kv[0].data_type())
                .map_err(|Misfit(_, m)| Misfit(0, format!("a map key: {m}")))?;
            let v = build(&vals, kv[1].data_type())
                .map_err(|Misfit(_, m)| Misfit(0, format!("a map value: {m}")))?;
            let entries_array = StructArray::try_new(kv.clone(), vec![k, v], None)
                .map_err(|e| Misfit(0, e.to_string()))?;
            let m = MapArray::try_new(
                entries.clone(),
                OffsetBuffer::from_lengths(lens),
                entries_array,
                Some(NullBuffer::from(valid)),
                *sorted,
            )
            .map_err(|e| Misfit(0, e.to_string()))?;
            Ok(Arc::new(m))
        }
        other => Err(Misfit(
            0,
            format!(
                "cannot write type {other} (see the schema option for the types this writer takes)"
            ),
        )),
    }
}

fn ints<T>(values: &[V<'_>], dt: &DataType) -> Built
where
    T: ArrowPrimitiveType,
    T::Native: TryFrom<i64> + std::str::FromStr,
{
    let mut b = PrimitiveBuilder::<T>::with_capacity(values.len());
    for (i, v) in values.iter().enumerate() {
        let n = match v {
            V::Null => {
                b.append_null();
                continue;
            }
            V::Int(n) => *n,
            V::Bool(x) => i64::from(*x),
            V::Float(f) if f.fract() == 0.0 && f.abs() < 9.2e18 => *f as i64,
            V::Str(s) if s.trim().is_empty() => {
                b.append_null();
                continue;
            }
            V::Str(s) => match s.trim().parse::<T::Native>() {
                Ok(x) => {
                    b.append_value(x);
                    continue;
                }
                Err(_) => return Err(Misfit(i, format!("`{s}` is not an integer that fits {dt}"))),
            },
            V::R(r) => match Typed::from_rvalue(r) {
                Some(Typed::Decimal {
                    value, scale: 0, ..
                }) if T::DATA_TYPE == DataType::UInt64 => {
                    match u64::try_from(value).ok().and_then(|x| {
                        <T::Native as std::str::FromStr>::from_str(&x.to_string()).ok()
                    }) {
                        Some(x) => {
                            b.append_value(x);
                            continue;
                        }
                        None => return Err(Misfit(i, format!("{value} does not fit {dt}"))),
                    }
                }
                _ => return Err(Misfit(i, format!("{} does not fit type {dt}", v.kind()))),
            },
            other => {
                return Err(Misfit(
                    i,
                    format!("{} does not fit type {dt}", other.kind()),
                ));
            }
        };
        match T::Native::try_from(n) {
            Ok(x) => b.append_value(x),
            Err(_) => return Err(Misfit(i, format!("{n} does not fit {dt}"))),
        }
    }
    Ok(Arc::new(b.finish()))
}

fn floats<T: ArrowPrimitiveType>(values: &[V<'_>], conv: impl Fn(f64) -> T::Native) -> Built {
    let mut b = PrimitiveBuilder::<T>::with_capacity(values.len());
    for (i, v) in values.iter().enumerate() {
        match v {
            V::Null => b.append_null(),
            V::Float(f) => b.append_value(conv(*f)),
            V::Int(n) => b.append_value(conv(*n as f64)),
            V::Str(s) if s.trim().is_empty() => b.append_null(),
            V::Str(s) => match s.trim().parse::<f64>() {
                Ok(f) => b.append_value(conv(f)),
                Err(_) => return Err(Misfit(i, format!("`{s}` is not a number"))),
            },
            V::R(r) => match Typed::from_rvalue(r) {
                Some(t @ Typed::Decimal { .. }) => {
                    b.append_value(conv(typed_text(&t).parse().unwrap_or(f64::NAN)))
                }
                _ => return Err(Misfit(i, format!("{} is not a number", v.kind()))),
            },
            other => return Err(Misfit(i, format!("{} is not a number", other.kind()))),
        }
    }
    Ok(Arc::new(b.finish()))
}
