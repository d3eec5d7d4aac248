//! Arrow to records: every Arrow type a record can hold, as a [`Value`].

use super::*;

/// The value at `row` of `col`.
pub fn value(col: &dyn Array, row: usize) -> Value {
    if col.is_null(row) {
        return Value::Null;
    }
    match col.data_type() {
        DataType::Null => Value::Null,
        DataType::Boolean => Value::Bool(col.as_boolean().value(row)),
        DataType::Int8 => Value::Int(col.as_primitive::<Int8Type>().value(row).into()),
        DataType::Int16 => Value::Int(col.as_primitive::<Int16Type>().value(row).into()),
        DataType::Int32 => Value::Int(col.as_primitive::<Int32Type>().value(row).into()),
        DataType::Int64 => Value::Int(col.as_primitive::<Int64Type>().value(row)),
        DataType::UInt8 => Value::Int(col.as_primitive::<UInt8Type>().value(row).into()),
        DataType::UInt16 => Value::Int(col.as_primitive::<UInt16Type>().value(row).into()),
        DataType::UInt32 => Value::Int(col.as_primitive::<UInt32Type>().value(row).into()),
        DataType::UInt64 => {
            let v = col.as_primitive::<UInt64Type>().value(row);
            // Above i64::MAX: the exact value, as a decimal of scale 0.
            i64::try_from(v).map_or_else(
                |_| {
                    Value::Decimal(Box::new(Decimal {
                        value: i128::from(v),
                        precision: 20,
                        scale: 0,
                    }))
                },
                Value::Int,
            )
        }
        DataType::Float16 => Value::Float(col.as_primitive::<Float16Type>().value(row).to_f64()),
        DataType::Float32 => Value::Float(col.as_primitive::<Float32Type>().value(row).into()),
        DataType::Float64 => Value::Float(col.as_primitive::<Float64Type>().value(row)),
        DataType::Utf8 => Value::String(col.as_string::<i32>().value(row).to_owned()),
        DataType::LargeUtf8 => Value::String(col.as_string::<i64>().value(row).to_owned()),
        DataType::Utf8View => Value::String(col.as_string_view().value(row).to_owned()),
        DataType::Binary => Value::Bytes(col.as_binary::<i32>().value(row).to_vec()),
        DataType::LargeBinary => Value::Bytes(col.as_binary::<i64>().value(row).to_vec()),
        DataType::BinaryView => Value::Bytes(col.as_binary_view().value(row).to_vec()),
        DataType::FixedSizeBinary(_) => {
            Value::Bytes(col.as_fixed_size_binary().value(row).to_vec())
        }
        DataType::Date32 => Value::Date(Date(col.as_primitive::<Date32Type>().value(row))),
        DataType::Date64 => {
            let ms = col.as_primitive::<Date64Type>().value(row);
            Value::Date(Date(ms.div_euclid(86_400_000) as i32))
        }
        DataType::Time32(u) => {
            let v = match u {
                ArrowUnit::Second => col.as_primitive::<Time32SecondType>().value(row),
                _ => col.as_primitive::<Time32MillisecondType>().value(row),
            };
            Value::Time(Time {
                value: v.into(),
                unit: unit(*u),
            })
        }
        DataType::Time64(u) => {
            let v = match u {
                ArrowUnit::Nanosecond => col.as_primitive::<Time64NanosecondType>().value(row),
                _ => col.as_primitive::<Time64MicrosecondType>().value(row),
            };
            Value::Time(Time {
                value: v,
                unit: unit(*u),
            })
        }
        DataType::Timestamp(u, tz) => {
            let v = match u {
                ArrowUnit::Second => col.as_primitive::<TimestampSecondType>().value(row),
                ArrowUnit::Millisecond => col.as_primitive::<TimestampMillisecondType>().value(row),
                ArrowUnit::Microsecond => col.as_primitive::<TimestampMicrosecondType>().value(row),
                ArrowUnit::Nanosecond => col.as_primitive::<TimestampNanosecondType>().value(row),
            };
            Value::Timestamp(Box::new(Timestamp {
                value: v,
                unit: unit(*u),
                tz: tz.as_deref().map(Arc::from),
            }))
        }
        DataType::Decimal128(p, s) => Value::Decimal(Box::new(Decimal {
            value: col.as_primitive::<Decimal128Type>().value(row),
            precision: *p,
            scale: *s,
        })),
        DataType::Decimal256(p, s) => {
            let v = col.as_primitive::<Decimal256Type>().value(row);
            match v.to_i128() {
                Some(value) => Value::Decimal(Box::new(Decimal {
                    value,
                    precision: (*p).min(38),
                    scale: *s,
                })),
                // Wider than 128 bits: the exact digits, as text.
                None => Value::String(Decimal256Type::format_decimal(v, *p, *s)),
            }
        }
        DataType::List(_) => list(col.as_list::<i32>().value(row)),
        DataType::LargeList(_) => list(col.as_list::<i64>().value(row)),
        DataType::FixedSizeList(..) => list(col.as_fixed_size_list().value(row)),
        DataType::Struct(fields) => {
            let s = col.as_struct();
            Value::Map(
                fields
                    .iter()
                    .zip(s.columns())
                    .map(|(f, c)| (f.name().clone(), value(c.as_ref(), row)))
                    .collect(),
            )
        }
        DataType::Map(..) => {
            let entries = col.as_map().value(row);
            let (keys, values) = (entries.column(0), entries.column(1));
            let pairs: Vec<(Value, Value)> = (0..entries.len())
                .map(|i| (value(keys.as_ref(), i), value(values.as_ref(), i)))
                .collect();
            if pairs.iter().all(|(k, _)| matches!(k, Value::String(_))) {
                Value::Map(
                    pairs
                        .into_iter()
                        .map(|(k, v)| match k {
                            Value::String(k) => (k, v),
                            _ => unreachable!("checked above: every key is text"),
                        })
                        .collect(),
                )
            } else {
                // Keys that are not text: a list of {key, value} maps.
                Value::List(
                    pairs
                        .into_iter()
                        .map(|(k, v)| Value::Map(vec![("key".into(), k), ("value".into(), v)]))
                        .collect(),
                )
            }
        }
        DataType::Dictionary(..) => {
            let dict = col.as_any_dictionary();
            match value(dict.keys(), row) {
                Value::Int(k) => usize::try_from(k)
                    .ok()
                    .filter(|k| *k < dict.values().len())
                    .map_or(Value::Null, |k| value(dict.values().as_ref(), k)),
                Value::Decimal(d) => usize::try_from(d.value)
                    .ok()
                    .filter(|k| *k < dict.values().len())
                    .map_or(Value::Null, |k| value(dict.values().as_ref(), k)),
                _ => Value::Null,
            }
        }
        DataType::Duration(u) => Value::Int(match u {
            ArrowUnit::Second => col.as_primitive::<DurationSecondType>().value(row),
            ArrowUnit::Millisecond => col.as_primitive::<DurationMillisecondType>().value(row),
            ArrowUnit::Microsecond => col.as_primitive::<DurationMicrosecondType>().value(row),
            ArrowUnit::Nanosecond => col.as_primitive::<DurationNanosecondType>().value(row),
        }),
        DataType::Union(..) => {
            let u = col.as_union();
            let child = u.child(u.type_id(row));
            value(child.as_ref(), u.value_offset(row))
        }
        // Anything else (intervals, run ends): its text, as Arrow prints it.
        _ => Value::String(
            arrow_cast::display::ArrayFormatter::try_new(col, &Default::default())
                .map(|f| f.value(row).to_string())
                .unwrap_or_default(),
        ),
    }
}

fn list(items: ArrayRef) -> Value {
    Value::List((0..items.len()).map(|i| value(items.as_ref(), i)).collect())
}

/// The field names of a batch's schema, shared by its records.
pub fn names(schema: &Schema) -> iterable_core::FieldNames {
    Arc::new(schema.fields().iter().map(|f| f.name().clone()).collect())
}

/// Flattens dictionary-encoded columns into their values, so that reading a
/// row costs no key lookup.
pub fn flatten_dictionaries(batch: RecordBatch) -> Result<RecordBatch, ArrowError> {
    if !batch
        .columns()
        .iter()
        .any(|c| matches!(c.data_type(), DataType::Dictionary(..)))
    {
        return Ok(batch);
    }
    let mut fields = Vec::with_capacity(batch.num_columns());
    let mut columns = Vec::with_capacity(batch.num_columns());
    for (f, c) in batch.schema().fields().iter().zip(batch.columns()) {
        match c.data_type() {
            DataType::Dictionary(_, v) => {
                columns.push(arrow_cast::cast(c, v)?);
                fields.push(Field::new(f.name(), (**v).clone(), true));
            }
            _ => {
                columns.push(Arc::clone(c));
                fields.push((**f).clone());
            }
        }
    }
    RecordBatch::try_new_with_options(
        Arc::new(Schema::new(fields)),
        columns,
        &RecordBatchOptions::new().with_row_count(Some(batch.num_rows())),
    )
}

/// Fills `record` with row `row` of `batch` (whose field names are `names`),
/// reusing the record's string buffers.
pub fn fill_record(
    batch: &RecordBatch,
    names: &iterable_core::FieldNames,
    row: usize,
    record: &mut Record,
) {
    record.reset(names);
    for (i, col) in batch.columns().iter().enumerate() {
        if col.is_null(row) {
            record.values_mut()[i] = Value::Null;
            continue;
        }
        match col.data_type() {
            DataType::Utf8 => record
                .string_slot(i)
                .push_str(col.as_string::<i32>().value(row)),
            DataType::LargeUtf8 => record
                .string_slot(i)
                .push_str(col.as_string::<i64>().value(row)),
            DataType::Int64 => {
                record.values_mut()[i] = Value::Int(col.as_primitive::<Int64Type>().value(row))
            }
            DataType::Float64 => {
                record.values_mut()[i] = Value::Float(col.as_primitive::<Float64Type>().value(row))
            }
            _ => record.values_mut()[i] = value(col.as_ref(), row),
        }
    }
}
