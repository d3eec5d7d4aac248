//! The CSV writer.

use std::sync::Arc;

use crate::error::{Error, ErrorKind, Position, Result};
use crate::io::BoxSink;
use crate::provider::RecordWriter;
use crate::record::{FieldNames, Record};
use crate::value::Value;

fn csv_error(e: ::csv::Error) -> Error {
    let pos = e.position().map(|p| Position {
        line: Some(p.line()),
        record: None,
        byte: Some(p.byte()),
    });
    let err = match e.into_kind() {
        ::csv::ErrorKind::Io(io) => Error::from_io(io),
        ::csv::ErrorKind::Utf8 { err, .. } => {
            Error::new(ErrorKind::Encoding, format!("invalid UTF-8: {err}"))
        }
        ::csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => Error::new(
            ErrorKind::Parse,
            format!("row has {len} fields but the header has {expected_len}"),
        ),
        other => Error::new(ErrorKind::Parse, format!("{other:?}")),
    };
    match pos {
        Some(p) => err.with_position(p),
        None => err,
    }
}

pub(super) struct CsvWriter {
    pub(super) wtr: Option<::csv::Writer<BoxSink>>,
    pub(super) header: bool,
    pub(super) strict: bool,
    pub(super) names: Option<FieldNames>,
    pub(super) cell: String,
    pub(super) count: u64,
}

impl CsvWriter {
    fn wtr(&mut self) -> Result<&mut ::csv::Writer<BoxSink>> {
        self.wtr
            .as_mut()
            .ok_or_else(|| Error::new(ErrorKind::Other, "CSV writer already finished"))
    }
}

impl RecordWriter for CsvWriter {
    fn write_record(&mut self, record: &Record) -> Result<()> {
        self.count += 1;
        let names = match &self.names {
            Some(n) => Arc::clone(n),
            None => {
                let n = Arc::clone(record.field_names());
                if self.header {
                    let header: Vec<&str> = n.iter().map(String::as_str).collect();
                    self.wtr()?.write_record(&header).map_err(csv_error)?;
                }
                self.names = Some(Arc::clone(&n));
                n
            }
        };
        let same = Arc::ptr_eq(&names, record.field_names()) || names[..] == record.names()[..];
        let mut cell = std::mem::take(&mut self.cell);
        let result = (|| {
            if same {
                let wtr = self.wtr()?;
                for v in record.values() {
                    write_cell(wtr, v, &mut cell)?;
                }
            } else if self.strict {
                return Err(Error::new(
                    ErrorKind::Schema,
                    format!(
                        "record has fields [{}] but the CSV header is [{}]; use --option strict=false to match fields by name",
                        record.names().join(", "),
                        names.join(", ")
                    ),
                )
                .with_position(Position::record(self.count)));
            } else {
                let wtr = self.wtr()?;
                for n in names.iter() {
                    write_cell(wtr, record.get(n).unwrap_or(&Value::Null), &mut cell)?;
                }
            }
            self.wtr()?.write_record(None::<&[u8]>).map_err(csv_error)
        })();
        self.cell = cell;
        result
    }

    fn finish(mut self: Box<Self>) -> Result<()> {
        let wtr = self
            .wtr
            .take()
            .ok_or_else(|| Error::new(ErrorKind::Other, "CSV writer already finished"))?;
        let sink = wtr
            .into_inner()
            .map_err(|e| Error::from_io(e.into_error()))?;
        sink.finish()?;
        Ok(())
    }
}

fn write_cell(wtr: &mut ::csv::Writer<BoxSink>, v: &Value, buf: &mut String) -> Result<()> {
    match v {
        Value::String(s) => wtr.write_field(s.as_bytes()),
        other => {
            buf.clear();
            other.write_text(buf);
            wtr.write_field(buf.as_bytes())
        }
    }
    .map_err(csv_error)
}
