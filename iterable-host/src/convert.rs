//! Conversions between the core's types and the plugin ABI's: errors,
//! values, options, infos, and records ⇄ flat batches.

use std::sync::Arc;

use iterable_core::{
    CodecInfo, DriverInfo, EngineInfo, Error, ErrorKind, FieldNames, FormatInfo, OptionSpec,
    OptionType, Options, PluginErrorKind, Position, Record, RuleInfo, Value,
};
use iterable_plugin_api::abi_stable::std_types::{RString, RVec, Tuple2};
use iterable_plugin_api::{
    BatchBuilder, CellRef, RBatch, RError, RErrorKind, ROptions, RValue, host::roptions,
};

/// Turns a plugin's error into a core error naming the plugin.
pub fn error_from_plugin(e: RError, plugin: &str) -> Error {
    let kind = match e.kind {
        RErrorKind::IO => ErrorKind::Io,
        RErrorKind::PARSE => ErrorKind::Parse,
        RErrorKind::ENCODING => ErrorKind::Encoding,
        RErrorKind::COMPRESSION => ErrorKind::Compression,
        RErrorKind::INVALID_OPTION => ErrorKind::InvalidOption,
        RErrorKind::UNSUPPORTED => ErrorKind::Unsupported,
        RErrorKind::NOT_FOUND | RErrorKind::INVALID_INPUT => ErrorKind::InvalidInput,
        RErrorKind::PANIC => ErrorKind::Plugin(PluginErrorKind::Panic),
        RErrorKind::SCHEMA => ErrorKind::Schema,
        RErrorKind::DRIVER => ErrorKind::Driver,
        RErrorKind::ENGINE => ErrorKind::Engine,
        _ => ErrorKind::Plugin(PluginErrorKind::CallFailed),
    };
    let pos = Position {
        line: e.line.into_option(),
        record: e.record.into_option(),
        byte: None,
    };
    Error::new(kind, e.message.to_string())
        .with_position(pos)
        .with_plugin(plugin)
}

/// Turns a core error into a plugin-ABI error (for host callbacks).
pub fn error_to_plugin(e: &Error) -> RError {
    let kind = match e.kind() {
        ErrorKind::Io => RErrorKind::IO,
        ErrorKind::Parse => RErrorKind::PARSE,
        ErrorKind::Encoding => RErrorKind::ENCODING,
        ErrorKind::Compression => RErrorKind::COMPRESSION,
        ErrorKind::InvalidOption | ErrorKind::UnknownOption => RErrorKind::INVALID_OPTION,
        ErrorKind::Unsupported => RErrorKind::UNSUPPORTED,
        ErrorKind::Schema => RErrorKind::SCHEMA,
        ErrorKind::Driver => RErrorKind::DRIVER,
        ErrorKind::Engine => RErrorKind::ENGINE,
        ErrorKind::InvalidInput => RErrorKind::INVALID_INPUT,
        _ => RErrorKind::OTHER,
    };
    let mut r = RError::new(kind, e.to_string());
    if let Some(l) = e.position().line {
        r = r.with_line(l);
    }
    r
}

/// Converts options for a plugin call.
pub fn options_to_plugin(o: &Options) -> ROptions {
    roptions(o.iter())
}

fn option_specs(specs: &RVec<iterable_plugin_api::OptionSpec>) -> Vec<OptionSpec> {
    specs
        .iter()
        .map(|s| OptionSpec {
            name: s.name.to_string(),
            description: s.description.to_string(),
            kind: if s.choices.is_empty() {
                OptionType::Text
            } else {
                OptionType::Choice(s.choices.iter().map(|c| c.to_string()).collect())
            },
            default: s.default.as_ref().map(|d| d.to_string()).into_option(),
        })
        .collect()
}

fn strings(v: &RVec<RString>) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// A plugin format's description, as the core knows it.
pub fn format_info(i: &iterable_plugin_api::FormatInfo) -> FormatInfo {
    FormatInfo {
        id: i.id.to_string(),
        description: i.description.to_string(),
        extensions: i
            .extensions
            .iter()
            .map(|e| e.to_ascii_lowercase())
            .collect(),
        magic: i.magic.iter().map(|m| m.to_vec()).collect(),
        can_read: i.can_read,
        can_write: i.can_write,
        options: option_specs(&i.options),
    }
}

/// A plugin codec's description, as the core knows it.
pub fn codec_info(i: &iterable_plugin_api::CodecInfo) -> CodecInfo {
    CodecInfo {
        id: i.id.to_string(),
        description: i.description.to_string(),
        extensions: i
            .extensions
            .iter()
            .map(|e| e.to_ascii_lowercase())
            .collect(),
        magic: i.magic.iter().map(|m| m.to_vec()).collect(),
        levels: (i.level_min <= i.level_max && (i.level_min, i.level_max) != (0, 0)).then_some((
            i.level_min,
            i.level_max,
            i.level_default,
        )),
    }
}

/// A plugin driver's description, as the core knows it.
pub fn driver_info(i: &iterable_plugin_api::DriverInfo) -> DriverInfo {
    DriverInfo {
        id: i.id.to_string(),
        description: i.description.to_string(),
        schemes: strings(&i.schemes),
    }
}

/// A plugin rule's description, as the core knows it.
pub fn rule_info(i: &iterable_plugin_api::RuleInfo) -> RuleInfo {
    RuleInfo {
        name: i.name.to_string(),
        description: i.description.to_string(),
    }
}

/// A plugin engine's description, as the core knows it.
pub fn engine_info(i: &iterable_plugin_api::EngineInfo) -> EngineInfo {
    EngineInfo {
        id: i.id.to_string(),
        description: i.description.to_string(),
    }
}

/// Converts a nested ABI value.
pub fn value_from_rvalue(v: &RValue) -> Value {
    match v {
        RValue::Null => Value::Null,
        RValue::Bool(b) => Value::Bool(*b),
        RValue::Int(i) => Value::Int(*i),
        RValue::Float(f) => Value::Float(*f),
        RValue::Str(s) => Value::String(s.to_string()),
        RValue::Bytes(b) => Value::Bytes(b.to_vec()),
        RValue::List(l) => Value::List(l.iter().map(value_from_rvalue).collect()),
        RValue::Map(m) => Value::Map(
            m.iter()
                .map(|p| (p.0.to_string(), value_from_rvalue(&p.1)))
                .collect(),
        ),
        // An extension type this host does not know: keep its bytes.
        RValue::Ext(_, payload) => Value::Bytes(payload.to_vec()),
    }
}

/// Converts a value into a nested ABI value.
pub fn value_to_rvalue(v: &Value) -> RValue {
    match v {
        Value::Null => RValue::Null,
        Value::Bool(b) => RValue::Bool(*b),
        Value::Int(i) => RValue::Int(*i),
        Value::Float(f) => RValue::Float(*f),
        Value::String(s) => RValue::Str(RString::from(s.as_str())),
        Value::Bytes(b) => RValue::Bytes(RVec::from_slice(b)),
        Value::List(l) => RValue::List(l.iter().map(value_to_rvalue).collect()),
        Value::Map(m) => RValue::Map(
            m.iter()
                .map(|(k, v)| Tuple2(RString::from(k.as_str()), value_to_rvalue(v)))
                .collect(),
        ),
    }
}

/// Converts one present cell into a value, reusing a string slot when the
/// cell is text.
fn cell_into(cell: CellRef<'_>, slot: &mut Value) {
    match cell {
        CellRef::Str(s) => {
            if let Value::String(buf) = slot {
                buf.clear();
                buf.push_str(s);
            } else {
                *slot = Value::String(s.to_owned());
            }
        }
        CellRef::Absent | CellRef::Null => *slot = Value::Null,
        CellRef::Bool(b) => *slot = Value::Bool(b),
        CellRef::Int(i) => *slot = Value::Int(i),
        CellRef::Float(f) => *slot = Value::Float(f),
        CellRef::Bytes(b) => *slot = Value::Bytes(b.to_vec()),
        CellRef::Nested(v) => *slot = value_from_rvalue(v),
    }
}

/// Reads a batch's rows into records, sharing field names between rows.
#[derive(Default)]
pub struct BatchReader {
    batch: RBatch,
    next: usize,
    rows: usize,
    names: FieldNames,
}

impl BatchReader {
    /// The batch to fill (cleared by the plugin call).
    pub fn batch_mut(&mut self) -> &mut RBatch {
        &mut self.batch
    }

    /// Starts reading a freshly filled batch: validates it once (a
    /// malformed batch from a plugin is an error, never undefined
    /// behaviour) and refreshes the shared names if they changed.
    pub fn start(&mut self, plugin: &str) -> Result<(), Error> {
        let view = self
            .batch
            .validated()
            .map_err(|e| error_from_plugin(e, plugin))?;
        let same = view.field_count() == self.names.len()
            && view
                .field_names()
                .zip(self.names.iter())
                .all(|(a, b)| a == b);
        if !same {
            self.names = Arc::new(view.field_names().map(str::to_owned).collect());
        }
        self.rows = view.len();
        self.next = 0;
        Ok(())
    }

    /// Fills `record` with the next row; `false` when the batch is used up.
    pub fn next_into(&mut self, record: &mut Record) -> bool {
        if self.next >= self.rows {
            return false;
        }
        // Validated in `start`; the view reads without re-checking.
        let view = self.batch.view();
        let Some(row) = view.row(self.next) else {
            return false;
        };
        self.next += 1;
        let has_absent = (0..row.len()).any(|j| row.get(j).is_absent());
        if !has_absent {
            record.reset(&self.names);
            for (j, slot) in record.values_mut().iter_mut().enumerate() {
                cell_into(row.get(j), slot);
            }
        } else {
            // This row lacks some fields: it gets its own name list.
            let mut names = Vec::new();
            let mut values = Vec::new();
            for (name, cell) in row.present() {
                names.push(name.to_owned());
                let mut v = Value::Null;
                cell_into(cell, &mut v);
                values.push(v);
            }
            record.set_parts(Arc::new(names), values);
        }
        true
    }
}

/// Appends a record to a batch being built, as one row.
pub fn push_record(b: &mut BatchBuilder<'_>, record: &Record) {
    for (name, v) in record.iter() {
        b.key(name);
        push_value(b, v);
    }
    b.end_row();
}

/// Appends one value as the next cell.
pub fn push_value(b: &mut BatchBuilder<'_>, v: &Value) {
    match v {
        Value::Null => b.push_null(),
        Value::Bool(x) => b.push_bool(*x),
        Value::Int(i) => b.push_int(*i),
        Value::Float(f) => b.push_float(*f),
        Value::String(s) => b.push_str(s),
        Value::Bytes(x) => b.push_bytes(x),
        Value::List(_) | Value::Map(_) => b.push_value(value_to_rvalue(v)),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_through_a_batch() {
        let mut batch = RBatch::new();
        let recs = vec![
            Record::from_pairs([("a", Value::Int(1)), ("b", Value::from("x"))]),
            Record::from_pairs([
                ("a", Value::Null),
                ("b", Value::List(vec![Value::Bool(true)])),
            ]),
            Record::from_pairs([("b", Value::Float(2.5))]),
        ];
        {
            let mut b = batch.builder();
            for r in &recs {
                push_record(&mut b, r);
            }
        }
        let mut reader = BatchReader::default();
        *reader.batch_mut() = batch;
        reader.start("t").unwrap();
        let mut out = Vec::new();
        let mut r = Record::new();
        while reader.next_into(&mut r) {
            out.push(r.clone());
        }
        assert_eq!(out, recs);
    }

    #[test]
    fn plugin_errors_keep_kind_position_and_plugin() {
        let e = error_from_plugin(RError::new(RErrorKind::PARSE, "bad").with_line(4), "ltsv");
        assert_eq!(e.kind(), ErrorKind::Parse);
        assert_eq!(e.to_string(), "plugin 'ltsv': line 4: bad");
        let p = error_from_plugin(RError::panic("boom"), "x");
        assert_eq!(p.plugin_kind(), Some(PluginErrorKind::Panic));
    }
}
