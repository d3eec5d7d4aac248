//! Writing: each batch of records becomes Arrow arrays under one schema
//! (given with `schema=…`, or inferred from the first batch), handed to the
//! Parquet writer, which closes a row group every `row_group_size` rows.

use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use iterable_plugin_api::prelude::*;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, GzipLevel, ZstdLevel};
use parquet::file::properties::WriterProperties;

use crate::arrays::{Misfit, V, arrow_unit, build};
use crate::schema::{list_type, schema_text};

/// The type that holds `values`, seen in the first batch.
fn infer(values: &[V<'_>]) -> DataType {
    let mut t: Option<DataType> = None;
    for v in values {
        let here = match v {
            V::Null => continue,
            V::Bool(_) => DataType::Boolean,
            V::Int(_) => DataType::Int64,
            V::Float(_) => DataType::Float64,
            V::Str(_) => DataType::Utf8,
            V::Bytes(_) => DataType::Binary,
            V::R(RValue::List(items)) => {
                let items: Vec<V<'_>> = items.iter().map(V::of).collect();
                list_type(infer(&items))
            }
            V::R(RValue::Map(_)) => {
                // A struct over every key seen in this column.
                let mut names: Vec<&str> = Vec::new();
                for v in values {
                    if let V::R(RValue::Map(pairs)) = v {
                        for p in pairs.iter() {
                            if !names.contains(&p.0.as_str()) {
                                names.push(p.0.as_str());
                            }
                        }
                    }
                }
                let fields: Vec<Field> = names
                    .iter()
                    .map(|n| {
                        let col: Vec<V<'_>> = values
                            .iter()
                            .map(|v| match v {
                                V::R(RValue::Map(pairs)) => pairs
                                    .iter()
                                    .rev()
                                    .find(|p| p.0.as_str() == *n)
                                    .map_or(V::Null, |p| V::of(&p.1)),
                                _ => V::Null,
                            })
                            .collect();
                        Field::new(*n, infer(&col), true)
                    })
                    .collect();
                DataType::Struct(Fields::from(fields))
            }
            V::R(r) => match Typed::from_rvalue(r) {
                Some(Typed::Date(_)) => DataType::Date32,
                Some(Typed::Time { unit, .. }) => match arrow_unit(unit) {
                    u @ (TimeUnit::Second | TimeUnit::Millisecond) => DataType::Time32(u),
                    u => DataType::Time64(u),
                },
                Some(Typed::Timestamp { unit, tz, .. }) => {
                    DataType::Timestamp(arrow_unit(unit), tz.map(Arc::from))
                }
                Some(Typed::Decimal {
                    precision, scale, ..
                }) => DataType::Decimal128(precision.clamp(1, 38), scale),
                None => DataType::Binary,
            },
        };
        t = Some(match (t, here) {
            (None, h) => h,
            (Some(a), b) if a == b => a,
            (Some(DataType::Int64), DataType::Float64)
            | (Some(DataType::Float64), DataType::Int64) => DataType::Float64,
            // Values of different kinds: text holds them all.
            _ => DataType::Utf8,
        });
    }
    t.unwrap_or(DataType::Utf8)
}

impl Drop for Encoder {
    /// A writer dropped unfinished (a failed conversion) waits for its
    /// encoder, so that nothing writes after it is gone.
    fn drop(&mut self) {
        if self.worker.is_some() {
            let _ = self.join();
        }
    }
}

/// Writes records as Parquet.
pub struct ParquetWriter {
    out: Option<Output>,
    encoder: Option<Encoder>,
    schema: Option<SchemaRef>,
    props: Option<WriterProperties>,
    written: u64,
}

/// The Parquet encoder on a thread of its own: batches of Arrow arrays go
/// in (two at most in flight), and the column chunks are encoded and
/// compressed beside the building of the next batch.
struct Encoder {
    tx: Option<std::sync::mpsc::SyncSender<RecordBatch>>,
    worker: Option<std::thread::JoinHandle<std::result::Result<Output, String>>>,
}

impl Encoder {
    fn start(w: ArrowWriter<Output>) -> Result<Encoder> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<RecordBatch>(2);
        let worker = std::thread::Builder::new()
            .name("parquet-encoder".into())
            .spawn(move || {
                let mut w = w;
                for rb in rx {
                    w.write(&rb).map_err(|e| e.to_string())?;
                }
                w.into_inner().map_err(|e| e.to_string())
            })
            .map_err(Error::io)?;
        Ok(Encoder {
            tx: Some(tx),
            worker: Some(worker),
        })
    }

    /// Hands a batch over; the encoder's own error if it stopped.
    fn send(&mut self, rb: RecordBatch) -> Result<()> {
        let sent = self.tx.as_ref().map(|tx| tx.send(rb));
        match sent {
            Some(Ok(())) => Ok(()),
            // The worker is gone: its error says why.
            _ => Err(self
                .join()
                .err()
                .unwrap_or_else(|| Error::other("the Parquet encoder stopped"))),
        }
    }

    /// Ends the input and waits for the footer: the output, or the
    /// encoder's error.
    fn join(&mut self) -> Result<Output> {
        self.tx = None;
        let worker = self
            .worker
            .take()
            .ok_or_else(|| Error::other("the Parquet encoder already stopped"))?;
        match worker.join() {
            Ok(Ok(out)) => Ok(out),
            Ok(Err(e)) => Err(Error::io(std::io::Error::other(e))),
            Err(_) => Err(Error::other("the Parquet encoder panicked")),
        }
    }
}

/// The `compression` option.
pub fn compression(name: &str) -> Result<Compression> {
    Ok(match name {
        "zstd" => Compression::ZSTD(ZstdLevel::default()),
        "snappy" => Compression::SNAPPY,
        "gzip" => Compression::GZIP(GzipLevel::default()),
        "none" | "uncompressed" => Compression::UNCOMPRESSED,
        other => {
            return Err(Error::invalid_option(
                "compression",
                format!("unknown compression `{other}` (zstd, snappy, gzip or none)"),
            ));
        }
    })
}

impl ParquetWriter {
    /// A writer into `out`: `schema` is the given schema (or `None` to
    /// infer it from the first batch).
    pub fn new(
        out: Output,
        schema: Option<Schema>,
        compression: Compression,
        row_group_size: usize,
    ) -> Self {
        let props = WriterProperties::builder()
            .set_compression(compression)
            .set_max_row_group_row_count(Some(row_group_size))
            .build();
        ParquetWriter {
            out: Some(out),
            encoder: None,
            schema: schema.map(Arc::new),
            props: Some(props),
            written: 0,
        }
    }

    fn ensure_writer(&mut self, batch: &BatchView<'_>) -> Result<SchemaRef> {
        let schema = match &self.schema {
            Some(s) => Arc::clone(s),
            None => {
                let fields: Vec<Field> = batch
                    .field_names()
                    .enumerate()
                    .map(|(j, name)| {
                        let col: Vec<V<'_>> = batch.iter().map(|r| V::of_cell(r.get(j))).collect();
                        Field::new(name, infer(&col), true)
                    })
                    .collect();
                let s = Arc::new(Schema::new(fields));
                self.schema = Some(Arc::clone(&s));
                s
            }
        };
        if self.encoder.is_none() {
            let out = self
                .out
                .take()
                .ok_or_else(|| Error::other("the Parquet writer is already finished"))?;
            let w =
                ArrowWriter::try_new(out, Arc::clone(&schema), self.props.take()).map_err(|e| {
                    Error::schema(format!(
                        "cannot write this schema ({}): {e}",
                        schema_text(&schema)
                    ))
                })?;
            self.encoder = Some(Encoder::start(w)?);
        }
        Ok(schema)
    }
}

impl RowWriter for ParquetWriter {
    fn write_row(&mut self, _row: RowView<'_>) -> Result<()> {
        Err(Error::other("the Parquet writer takes whole batches"))
    }

    fn write_batch(&mut self, batch: BatchView<'_>) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let schema = self.ensure_writer(&batch)?;
        if let Some(extra) = batch
            .field_names()
            .find(|n| schema.field_with_name(n).is_err())
        {
            return Err(Error::schema(format!(
                "field `{extra}` is not in the schema ({}); give the whole schema with --out-option schema=…",
                schema_text(&schema)
            ))
            .with_record(self.written + 1));
        }
        let mut columns = Vec::with_capacity(schema.fields().len());
        for f in schema.fields() {
            let values: Vec<V<'_>> = match batch.field_index(f.name()) {
                Some(j) => batch.iter().map(|r| V::of_cell(r.get(j))).collect(),
                None => vec![V::Null; batch.len()],
            };
            let array = build(&values, f.data_type()).map_err(|Misfit(i, m)| {
                Error::schema(format!("field `{}`: {m}", f.name()))
                    .with_record(self.written + i as u64 + 1)
            })?;
            columns.push(array);
        }
        let rb = RecordBatch::try_new(Arc::clone(&schema), columns)
            .map_err(|e| Error::schema(e.to_string()).with_record(self.written + 1))?;
        let encoder = self
            .encoder
            .as_mut()
            .ok_or_else(|| Error::other("the Parquet writer is already finished"))?;
        encoder.send(rb)?;
        self.written += batch.len() as u64;
        Ok(())
    }

    fn finish(&mut self) -> Result<()> {
        let mut out = match self.encoder.take() {
            Some(mut encoder) => encoder.join()?,
            None => {
                // No record at all: a file with the given schema, or none.
                let Some(out) = self.out.take() else {
                    return Ok(());
                };
                let schema = self
                    .schema
                    .clone()
                    .unwrap_or_else(|| Arc::new(Schema::empty()));
                let w = ArrowWriter::try_new(out, schema, self.props.take())
                    .map_err(|e| Error::schema(e.to_string()))?;
                w.into_inner()
                    .map_err(|e| Error::io(std::io::Error::other(e.to_string())))?
            }
        };
        // The adapter finishes the host's sink once the Output is dropped.
        out.flush()?;
        Ok(())
    }
}
