//! Reading: the input is kept in a temporary file (Parquet's footer is at
//! the end, and the host hands over a stream), then read row group by row
//! group, a batch of rows at a time, so memory holds one row group's
//! columns, not the file.

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;

use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, TimeUnit};
use iterable_plugin_api::abi_stable::std_types::{RString, RVec, Tuple2};
use iterable_plugin_api::prelude::*;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};

/// Rows per Arrow batch read from a row group.
const ARROW_BATCH_ROWS: usize = 8192;

/// Reads a Parquet file's records.
pub struct ParquetReader {
    batches: ParquetRecordBatchReader,
    names: Vec<String>,
    current: Option<RecordBatch>,
    row: usize,
    /// Rows delivered so far (for errors).
    rows: u64,
    /// The rows of each row group, for messages.
    rows_per_group: Vec<i64>,
}

/// Copies `input` into an anonymous temporary file.
fn spool(mut input: Input) -> Result<File> {
    let mut file = tempfile::tempfile().map_err(|e| {
        Error::io(std::io::Error::new(
            e.kind(),
            format!("cannot create a temporary file for the Parquet input: {e}"),
        ))
    })?;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = input.read(&mut buf)?;
        if n == 0 {
            break;
        }
        file.write_all(&buf[..n])?;
    }
    Ok(file)
}

/// The schema of the Parquet file at `path`, as `schema=` text (only the
/// footer is read).
pub fn schema_of(path: &Path) -> Result<String> {
    let file = File::open(path)?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| Error::parse(format!("not a readable Parquet file: {e}")))?;
    Ok(crate::schema::schema_text(builder.schema()))
}

impl ParquetReader {
    /// Opens `input`: spools it, reads the footer and the schema.
    pub fn open(input: Input) -> Result<Self> {
        Self::from_file(spool(input)?)
    }

    /// Opens the file at `path` directly (no copy).
    pub fn open_path(path: &Path) -> Result<Self> {
        Self::from_file(File::open(path)?)
    }

    fn from_file(file: File) -> Result<Self> {
        let builder = ParquetRecordBatchReaderBuilder::try_new(file)
            .map_err(|e| Error::parse(format!("not a readable Parquet file: {e}")))?;
        let meta = builder.metadata().clone();
        let names = builder
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        let batches = builder
            .with_batch_size(ARROW_BATCH_ROWS)
            .build()
            .map_err(|e| Error::parse(format!("cannot read the Parquet file: {e}")))?;
        Ok(ParquetReader {
            batches,
            names,
            current: None,
            row: 0,
            rows: 0,
            rows_per_group: meta.row_groups().iter().map(|g| g.num_rows()).collect(),
        })
    }

    /// The row group holding record `n` (0-based), for messages.
    fn group_of(&self, n: u64) -> usize {
        let mut end = 0u64;
        for (i, rows) in self.rows_per_group.iter().enumerate() {
            end += (*rows).max(0) as u64;
            if n < end {
                return i;
            }
        }
        self.rows_per_group.len().saturating_sub(1)
    }

    fn next_arrow_batch(&mut self) -> Result<bool> {
        match self.batches.next() {
            None => Ok(false),
            Some(Ok(b)) => {
                self.current = Some(flatten_dictionaries(b)?);
                self.row = 0;
                Ok(true)
            }
            Some(Err(e)) => Err(Error::parse(format!(
                "row group {} of {}: {e}",
                self.group_of(self.rows) + 1,
                self.rows_per_group.len()
            ))
            .with_record(self.rows + 1)),
        }
    }
}

impl RowReader for ParquetReader {
    fn read_row(&mut self, row: &mut BatchBuilder<'_>) -> Result<bool> {
        // Rows come in bulk through read_batch; this path serves single rows.
        let more = self.read_batch(row, row.row_count() + 1)?;
        Ok(more)
    }

    fn read_batch(&mut self, out: &mut BatchBuilder<'_>, max_rows: usize) -> Result<bool> {
        if out.field_count() == 0 && out.row_count() == 0 {
            out.set_fields(&self.names);
        }
        while out.row_count() < max_rows && !out.is_full() {
            let exhausted = self
                .current
                .as_ref()
                .is_none_or(|b| self.row >= b.num_rows());
            if exhausted && !self.next_arrow_batch()? {
                return Ok(false);
            }
            let Some(batch) = self.current.as_ref() else {
                return Ok(false);
            };
            let take = (batch.num_rows() - self.row).min(max_rows - out.row_count());
            for r in self.row..self.row + take {
                for col in batch.columns() {
                    push_cell(out, col.as_ref(), r);
                }
                out.end_row();
            }
            self.row += take;
            self.rows += take as u64;
        }
        Ok(true)
    }
}

/// Dictionary-encoded columns, decoded once per batch (not per value).
fn flatten_dictionaries(b: RecordBatch) -> Result<RecordBatch> {
    if !b
        .columns()
        .iter()
        .any(|c| matches!(c.data_type(), DataType::Dictionary(..)))
    {
        return Ok(b);
    }
    let mut fields = Vec::new();
    let mut columns = Vec::new();
    for (f, c) in b.schema().fields().iter().zip(b.columns()) {
        match c.data_type() {
            DataType::Dictionary(_, v) => {
                let flat = arrow_cast::cast(c, v).map_err(|e| Error::parse(e.to_string()))?;
                fields.push(f.as_ref().clone().with_data_type(v.as_ref().clone()));
                columns.push(flat);
            }
            _ => {
                fields.push(f.as_ref().clone());
                columns.push(c.clone());
            }
        }
    }
    RecordBatch::try_new(
        std::sync::Arc::new(arrow_schema::Schema::new(fields)),
        columns,
    )
    .map_err(|e| Error::parse(e.to_string()))
}

fn unit(u: TimeUnit) -> Unit {
    match u {
        TimeUnit::Second => Unit::Second,
        TimeUnit::Millisecond => Unit::Millisecond,
        TimeUnit::Microsecond => Unit::Microsecond,
        TimeUnit::Nanosecond => Unit::Nanosecond,
    }
}

/// Pushes the value at `row` of `col` as the next cell. Text and bytes go
/// straight into the batch; every other value through [`value`] (numbers,
/// bools and nulls become flat cells there without allocating).
fn push_cell(b: &mut BatchBuilder<'_>, col: &dyn Array, row: usize) {
    if col.is_null(row) {
        b.push_null();
        return;
    }
    match col.data_type() {
        DataType::Utf8 => b.push_str(col.as_string::<i32>().value(row)),
        DataType::LargeUtf8 => b.push_str(col.as_string::<i64>().value(row)),
        DataType::Utf8View => b.push_str(col.as_string_view().value(row)),
        DataType::Binary => b.push_bytes(col.as_binary::<i32>().value(row)),
        DataType::LargeBinary => b.push_bytes(col.as_binary::<i64>().value(row)),
        DataType::BinaryView => b.push_bytes(col.as_binary_view().value(row)),
        DataType::FixedSizeBinary(_) => b.push_bytes(col.as_fixed_size_binary().value(row)),
        _ => b.push_value(value(col, row)),
    };
}

/// The value at `row` of `col`, for nested and typed values.
fn value(col: &dyn Array, row: usize) -> RValue {
    if col.is_null(row) {
        return RValue::Null;
    }
    let typed = |t: Typed| t.to_rvalue();
    match col.data_type() {
        DataType::Null => RValue::Null,
        DataType::Boolean => RValue::Bool(col.as_boolean().value(row)),
        DataType::Int8 => RValue::Int(col.as_primitive::<Int8Type>().value(row).into()),
        DataType::Int16 => RValue::Int(col.as_primitive::<Int16Type>().value(row).into()),
        DataType::Int32 => RValue::Int(col.as_primitive::<Int32Type>().value(row).into()),
        DataType::Int64 => RValue::Int(col.as_primitive::<Int64Type>().value(row)),
        DataType::UInt8 => RValue::Int(col.as_primitive::<UInt8Type>().value(row).into()),
        DataType::UInt16 => RValue::Int(col.as_primitive::<UInt16Type>().value(row).into()),
        DataType::UInt32 => RValue::Int(col.as_primitive::<UInt32Type>().value(row).into()),
        DataType::UInt64 => {
            let v = col.as_primitive::<UInt64Type>().value(row);
            // Above i64::MAX, the exact value as a decimal of scale 0.
            i64::try_from(v).map_or_else(
                |_| {
                    typed(Typed::Decimal {
                        value: i128::from(v),
                        precision: 20,
                        scale: 0,
                    })
                },
                RValue::Int,
            )
        }
        DataType::Float16 => RValue::Float(col.as_primitive::<Float16Type>().value(row).to_f64()),
        DataType::Float32 => RValue::Float(col.as_primitive::<Float32Type>().value(row).into()),
        DataType::Float64 => RValue::Float(col.as_primitive::<Float64Type>().value(row)),
        DataType::Utf8 => RValue::Str(col.as_string::<i32>().value(row).into()),
        DataType::LargeUtf8 => RValue::Str(col.as_string::<i64>().value(row).into()),
        DataType::Utf8View => RValue::Str(col.as_string_view().value(row).into()),
        DataType::Binary => RValue::Bytes(RVec::from_slice(col.as_binary::<i32>().value(row))),
        DataType::LargeBinary => RValue::Bytes(RVec::from_slice(col.as_binary::<i64>().value(row))),
        DataType::BinaryView => RValue::Bytes(RVec::from_slice(col.as_binary_view().value(row))),
        DataType::FixedSizeBinary(_) => {
            RValue::Bytes(RVec::from_slice(col.as_fixed_size_binary().value(row)))
        }
        DataType::Date32 => typed(Typed::Date(col.as_primitive::<Date32Type>().value(row))),
        DataType::Date64 => {
            let ms = col.as_primitive::<Date64Type>().value(row);
            typed(Typed::Date(ms.div_euclid(86_400_000) as i32))
        }
        DataType::Time32(u) => {
            let v = match u {
                TimeUnit::Second => col.as_primitive::<Time32SecondType>().value(row),
                _ => col.as_primitive::<Time32MillisecondType>().value(row),
            };
            typed(Typed::Time {
                unit: unit(*u),
                value: v.into(),
            })
        }
        DataType::Time64(u) => {
            let v = match u {
                TimeUnit::Nanosecond => col.as_primitive::<Time64NanosecondType>().value(row),
                _ => col.as_primitive::<Time64MicrosecondType>().value(row),
            };
            typed(Typed::Time {
                unit: unit(*u),
                value: v,
            })
        }
        DataType::Timestamp(u, tz) => {
            let v = match u {
                TimeUnit::Second => col.as_primitive::<TimestampSecondType>().value(row),
                TimeUnit::Millisecond => col.as_primitive::<TimestampMillisecondType>().value(row),
                TimeUnit::Microsecond => col.as_primitive::<TimestampMicrosecondType>().value(row),
                TimeUnit::Nanosecond => col.as_primitive::<TimestampNanosecondType>().value(row),
            };
            typed(Typed::Timestamp {
                unit: unit(*u),
                value: v,
                tz: tz.as_deref().map(str::to_owned),
            })
        }
        DataType::Decimal128(p, s) => typed(Typed::Decimal {
            value: col.as_primitive::<Decimal128Type>().value(row),
            precision: *p,
            scale: *s,
        }),
        DataType::Decimal256(p, s) => {
            let v = col.as_primitive::<Decimal256Type>().value(row);
            match v.to_i128() {
                Some(value) => typed(Typed::Decimal {
                    value,
                    precision: (*p).min(38),
                    scale: *s,
                }),
                // Wider than 128 bits: the exact digits as text.
                None => RValue::Str(Decimal256Type::format_decimal(v, *p, *s).into()),
            }
        }
        DataType::List(_) => list(col.as_list::<i32>().value(row)),
        DataType::LargeList(_) => list(col.as_list::<i64>().value(row)),
        DataType::FixedSizeList(..) => list(col.as_fixed_size_list().value(row)),
        DataType::Struct(fields) => {
            let s = col.as_struct();
            RValue::Map(
                fields
                    .iter()
                    .zip(s.columns())
                    .map(|(f, c)| Tuple2(RString::from(f.name().as_str()), value(c.as_ref(), row)))
                    .collect(),
            )
        }
        DataType::Map(..) => {
            let entries = col.as_map().value(row);
            let (keys, values) = (entries.column(0), entries.column(1));
            let string_keys = matches!(
                keys.data_type(),
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
            );
            if string_keys {
                RValue::Map(
                    (0..entries.len())
                        .map(|i| {
                            let k = match value(keys.as_ref(), i) {
                                RValue::Str(s) => s,
                                _ => RString::new(),
                            };
                            Tuple2(k, value(values.as_ref(), i))
                        })
                        .collect(),
                )
            } else {
                // Keys that are not text: a list of {key, value} pairs.
                RValue::List(
                    (0..entries.len())
                        .map(|i| {
                            RValue::map([
                                ("key", value(keys.as_ref(), i)),
                                ("value", value(values.as_ref(), i)),
                            ])
                        })
                        .collect(),
                )
            }
        }
        DataType::Dictionary(..) => {
            let dict = col.as_any_dictionary();
            let key = dict.normalized_keys()[row];
            value(dict.values().as_ref(), key)
        }
        DataType::Duration(u) => {
            let v = match u {
                TimeUnit::Second => col.as_primitive::<DurationSecondType>().value(row),
                TimeUnit::Millisecond => col.as_primitive::<DurationMillisecondType>().value(row),
                TimeUnit::Microsecond => col.as_primitive::<DurationMicrosecondType>().value(row),
                TimeUnit::Nanosecond => col.as_primitive::<DurationNanosecondType>().value(row),
            };
            RValue::Int(v)
        }
        // Anything else (intervals, unions): its text, as Arrow prints it.
        _ => RValue::Str(
            arrow_cast::display::ArrayFormatter::try_new(col, &Default::default())
                .map(|f| f.value(row).to_string())
                .unwrap_or_default()
                .into(),
        ),
    }
}

fn list(items: ArrayRef) -> RValue {
    RValue::List((0..items.len()).map(|i| value(items.as_ref(), i)).collect())
}
