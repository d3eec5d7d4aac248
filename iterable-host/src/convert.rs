//! Conversions between the core's types and the plugin ABI's: errors,
//! values, options, infos, and records ⇄ flat batches.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use iterable_core::Result;
use iterable_plugin_api::abi_stable::std_types::RResult;

use crate::error::{PluginErrorExt, PluginErrorKind};
use iterable_core::{
    Batch, CodecInfo, DriverInfo, EngineInfo, Error, ErrorKind, FieldNames, FormatInfo, HookInfo,
    OptionSpec, OptionType, Options, Position, Record, RuleInfo, RunInfo, RunSummary, Value,
};
use iterable_plugin_api::abi_stable::std_types::{RString, RVec, Tuple2};
use iterable_plugin_api::{
    BatchBuilder, CellRef, RBatch, RError, RErrorKind, ROptions, RValue, abi::roptions, tag,
};

/// Calls into a plugin: its error, or a panic that escaped its guard,
/// becomes an error naming the plugin.
pub(crate) fn call<T>(
    plugin: &str,
    what: &str,
    f: impl FnOnce() -> RResult<T, RError>,
) -> Result<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(RResult::ROk(v)) => Ok(v),
        Ok(RResult::RErr(e)) => Err(error_from_plugin(e, plugin)),
        Err(_) => Err(Error::plugin(
            PluginErrorKind::Panic,
            plugin,
            format!("panicked while {what}"),
        )),
    }
}

/// The Rust ABI's error kinds and the core's, in one table read both ways:
/// a kind reads as the first core kind listed with it; a core kind is sent
/// as the first plugin kind listed with it (`OTHER` when none is).
const KINDS: &[(RErrorKind, &[ErrorKind])] = &[
    (RErrorKind::IO, &[ErrorKind::Io]),
    (RErrorKind::PARSE, &[ErrorKind::Parse]),
    (RErrorKind::ENCODING, &[ErrorKind::Encoding]),
    (RErrorKind::COMPRESSION, &[ErrorKind::Compression]),
    (
        RErrorKind::INVALID_OPTION,
        &[ErrorKind::InvalidOption, ErrorKind::UnknownOption],
    ),
    (RErrorKind::UNSUPPORTED, &[ErrorKind::Unsupported]),
    (RErrorKind::INVALID_INPUT, &[ErrorKind::InvalidInput]),
    (RErrorKind::NOT_FOUND, &[ErrorKind::InvalidInput]),
    (RErrorKind::SCHEMA, &[ErrorKind::Schema]),
    (RErrorKind::DRIVER, &[ErrorKind::Driver]),
    (RErrorKind::ENGINE, &[ErrorKind::Engine]),
];

/// Turns a plugin's error into a core error naming the plugin. A kind this
/// host does not know (from a newer plugin) keeps its number in the error's
/// kind name.
pub fn error_from_plugin(e: RError, plugin: &str) -> Error {
    let message = e.message.to_string();
    let err = match KINDS.iter().find(|(k, _)| *k == e.kind) {
        Some((_, kinds)) => Error::new(kinds[0], message).with_plugin(plugin),
        None if e.kind == RErrorKind::PANIC => {
            Error::plugin(PluginErrorKind::Panic, plugin, message)
        }
        None if e.kind == RErrorKind::OTHER => {
            Error::plugin(PluginErrorKind::CallFailed, plugin, message)
        }
        None => {
            Error::of_kind_named(&format!("rust-code-{}", e.kind.0), message).with_plugin(plugin)
        }
    };
    with_position(err, &e)
}

fn with_position(err: Error, e: &RError) -> Error {
    err.with_position(Position {
        line: e.line.into_option(),
        record: e.record.into_option(),
        byte: None,
    })
}

/// Turns a core error into a plugin-ABI error (for host callbacks).
pub fn error_to_plugin(e: &Error) -> RError {
    let kind = KINDS
        .iter()
        .find(|(_, kinds)| kinds.contains(&e.kind()))
        .map_or(RErrorKind::OTHER, |(k, _)| *k);
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
        reads_paths: i.extra.iter().any(|p| {
            p.0.as_str() == iterable_plugin_api::sdk::spec::READS_PATHS && p.1.as_str() == "true"
        }),
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
        reads_paths: i.extra.iter().any(|p| {
            p.0.as_str() == iterable_plugin_api::sdk::spec::READS_PATHS && p.1.as_str() == "true"
        }),
    }
}

/// A plugin hook's description, as the core knows it.
pub fn hook_info(i: &iterable_plugin_api::HookInfo) -> HookInfo {
    HookInfo {
        id: i.id.to_string(),
        description: i.description.to_string(),
        options: option_specs(&i.options),
    }
}

/// What a run is, for a plugin hook.
pub fn run_info_to_plugin(r: &RunInfo) -> iterable_plugin_api::RunInfo {
    iterable_plugin_api::RunInfo {
        command: r.command.as_str().into(),
        source: r.source.as_str().into(),
        target: r.target.as_deref().unwrap_or("").into(),
        format: r.format.as_str().into(),
        extra: RVec::new(),
    }
}

/// How a run ended, for a plugin hook.
pub fn run_summary_to_plugin(s: &RunSummary) -> iterable_plugin_api::RunSummary {
    iterable_plugin_api::RunSummary {
        records: s.records,
        bytes_read: s.bytes_read,
        ok: s.ok,
        extra: RVec::new(),
    }
}

/// Fills `out` with the rows of `batch` (one call, no per-record crossing).
pub fn batch_to_plugin(batch: &Batch, out: &mut RBatch) {
    let mut b = out.builder();
    let names: Vec<&str> = batch.names().iter().map(String::as_str).collect();
    b.set_fields(&names);
    for row in batch.rows() {
        for v in row {
            push_value(&mut b, v);
        }
        b.end_row();
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
        RValue::Ext(name, payload) => {
            match iterable_plugin_api::abi::typed::Typed::decode(name, payload) {
                Some(t) => crate::typed::value_of(t),
                // An extension type this host does not know: keep its bytes.
                None => Value::Bytes(payload.to_vec()),
            }
        }
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
        Value::Date(_) | Value::Time(_) | Value::Timestamp(_) | Value::Decimal(_) => {
            crate::typed::typed_of(v).map_or(RValue::Null, |t| t.to_rvalue())
        }
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
///
/// [`BatchReader::start`] checks a freshly filled batch and converts all
/// its rows at once into a pool of records whose string buffers are reused
/// from batch to batch; [`BatchReader::next_into`] then swaps them out one
/// by one (the caller's record goes back into the pool). The checks are
/// those of `RBatch::validate`, done in the same pass as the conversion:
/// UTF-8 once per row of text cells rather than once per cell, and field
/// names once per change of names.
#[derive(Default)]
pub struct BatchReader {
    batch: RBatch,
    records: Vec<Record>,
    next: usize,
    rows: usize,
    names: FieldNames,
}

impl BatchReader {
    /// The batch to fill (cleared by the plugin call). The rows of the
    /// batch before are dropped.
    pub fn batch_mut(&mut self) -> &mut RBatch {
        self.discard();
        &mut self.batch
    }

    /// Drops the rows of the batch not read yet.
    pub fn discard(&mut self) {
        self.rows = 0;
        self.next = 0;
    }

    /// Starts reading a freshly filled batch: validates it (a malformed
    /// batch from a plugin is an error, never undefined behaviour) and
    /// converts its rows.
    pub fn start(&mut self, plugin: &str) -> Result<(), Error> {
        self.rows = 0;
        self.next = 0;
        let invalid = |batch: &RBatch| match batch.validate() {
            Err(e) => error_from_plugin(e, plugin),
            // The checks here are those of `validate`; this cannot happen.
            Ok(()) => Error::plugin(PluginErrorKind::CallFailed, plugin, "malformed batch"),
        };
        if !structure_ok(&self.batch) {
            return Err(invalid(&self.batch));
        }
        let batch = &self.batch;
        let same = batch.fields.len() == self.names.len()
            && batch
                .fields
                .iter()
                .zip(self.names.iter())
                .all(|(a, b)| a.as_str() == b);
        if !same {
            let names: Vec<String> = batch.field_names().map(str::to_owned).collect();
            let mut seen = std::collections::HashSet::with_capacity(names.len());
            if !names.iter().all(|n| seen.insert(n.as_str())) {
                return Err(invalid(batch));
            }
            self.names = Arc::new(names);
        }
        let rows = batch.row_count();
        if self.records.len() < rows {
            self.records.resize_with(rows, Record::new);
        }
        let nf = self.names.len();
        // A batch of text cells only (the usual case) is checked for UTF-8
        // in one call; its cells are then slices of that text.
        let all_text = if batch.tags.iter().all(|&t| t == tag::STR) {
            simdutf8::basic::from_utf8(&batch.data).ok()
        } else {
            None
        };
        for r in 0..rows {
            let first = r * nf;
            let tags = &batch.tags[first..first + nf];
            let ends = &batch.ends[first..first + nf];
            let start = if first == 0 {
                0
            } else {
                batch.ends[first - 1] as usize
            };
            let rec = &mut self.records[r];
            let ok = if let Some(text) = all_text {
                text_cells(text, start, ends, &self.names, rec)
            } else if tags.iter().all(|&t| t == tag::STR) {
                text_row(&batch.data, start, ends, &self.names, rec)
            } else {
                mixed_row(batch, r, &self.names, rec)
            };
            if !ok {
                return Err(invalid(batch));
            }
        }
        self.rows = rows;
        Ok(())
    }

    /// The batch as it was filled.
    pub fn batch(&self) -> &RBatch {
        &self.batch
    }

    /// Fills `record` with the next row; `false` when the batch is used up.
    pub fn next_into(&mut self, record: &mut Record) -> bool {
        if self.next >= self.rows {
            return false;
        }
        std::mem::swap(record, &mut self.records[self.next]);
        self.next += 1;
        true
    }
}

/// Every invariant of the wire format but the UTF-8 of text cells and
/// unique field names: cell counts, end offsets, payload lengths, nested
/// indices and tags.
fn structure_ok(b: &RBatch) -> bool {
    let Some(cells) = (b.rows as usize).checked_mul(b.fields.len()) else {
        return false;
    };
    if b.tags.len() != cells || b.ends.len() != cells || b.data.len() > u32::MAX as usize {
        return false;
    }
    if b.ends.last().map_or(0, |&e| e as usize) != b.data.len() {
        return false;
    }
    // Text and bytes only (the usual case): the ends must not decrease.
    if b.tags.iter().all(|&t| t == tag::STR || t == tag::BYTES) {
        let (mut prev, mut ok) = (0u32, true);
        for &e in b.ends.iter() {
            ok &= e >= prev;
            prev = e;
        }
        return ok;
    }
    let mut start = 0u32;
    for (&t, &end) in b.tags.iter().zip(b.ends.iter()) {
        if end < start {
            return false;
        }
        let len = (end - start) as usize;
        let ok = match t {
            tag::STR | tag::BYTES => true,
            tag::NESTED => {
                len == 4 && {
                    let at = start as usize;
                    let idx = u32::from_le_bytes([
                        b.data[at],
                        b.data[at + 1],
                        b.data[at + 2],
                        b.data[at + 3],
                    ]);
                    (idx as usize) < b.nested.len()
                }
            }
            t => tag::fixed_len(t) == Some(len),
        };
        if !ok {
            return false;
        }
        start = end;
    }
    true
}

/// Copies `s` into a value, reusing its string buffer.
fn set_str(slot: &mut Value, s: &str) {
    if let Value::String(buf) = slot {
        buf.clear();
        buf.push_str(s);
    } else {
        *slot = Value::String(s.to_owned());
    }
}

/// Converts a row of text cells from the batch's text, already checked;
/// `false` when a cell boundary splits a character.
fn text_cells(
    text: &str,
    start: usize,
    ends: &[u32],
    names: &FieldNames,
    rec: &mut Record,
) -> bool {
    rec.reset(names);
    let mut from = start;
    for (slot, &e) in rec.values_mut().iter_mut().zip(ends) {
        let Some(cell) = text.get(from..e as usize) else {
            return false;
        };
        set_str(slot, cell);
        from = e as usize;
    }
    true
}

/// Converts a row whose cells are all text, checking UTF-8 once for the
/// row; `false` when it is not valid.
fn text_row(data: &[u8], start: usize, ends: &[u32], names: &FieldNames, rec: &mut Record) -> bool {
    let end = ends.last().map_or(start, |&e| e as usize);
    let Ok(text) = simdutf8::basic::from_utf8(&data[start..end]) else {
        return false;
    };
    rec.reset(names);
    let mut from = 0;
    for (slot, &e) in rec.values_mut().iter_mut().zip(ends) {
        let to = e as usize - start;
        // A cell boundary inside a character: neither cell is UTF-8.
        let Some(cell) = text.get(from..to) else {
            return false;
        };
        set_str(slot, cell);
        from = to;
    }
    true
}

/// Converts a row with cells of any kind; `false` when a text cell is not
/// UTF-8. A row that lacks some fields gets a name list of its own.
fn mixed_row(batch: &RBatch, r: usize, names: &FieldNames, rec: &mut Record) -> bool {
    let view = batch.view();
    let Some(row) = view.row(r) else {
        return false;
    };
    let nf = names.len();
    let text_ok = |j: usize| batch.tags[r * nf + j] != tag::STR || row.get(j).as_str().is_some();
    if !(0..nf).all(text_ok) {
        return false;
    }
    if (0..nf).any(|j| row.get(j).is_absent()) {
        let mut own = Vec::new();
        let mut values = Vec::new();
        for (name, cell) in row.present() {
            own.push(name.to_owned());
            let mut v = Value::Null;
            cell_into(cell, &mut v);
            values.push(v);
        }
        rec.set_parts(Arc::new(own), values);
    } else {
        rec.reset(names);
        for (j, slot) in rec.values_mut().iter_mut().enumerate() {
            cell_into(row.get(j), slot);
        }
    }
    true
}

/// Whether `record`, appended to `batch` as a row, comes back with its
/// fields in the same order: a batch has one field order for all its rows,
/// so a record whose fields come in another order needs a batch of its own.
pub fn keeps_field_order(batch: &RBatch, record: &Record) -> bool {
    let names = record.names();
    // The usual case: the record's names start the batch's, or extend them.
    if names
        .iter()
        .zip(batch.fields.iter())
        .all(|(a, b)| a == b.as_str())
    {
        return true;
    }
    let nf = batch.field_count();
    let (mut last, mut new) = (None, 0);
    for name in names {
        let j = batch.field_index(name).unwrap_or_else(|| {
            new += 1;
            nf + new
        });
        if last.is_some_and(|l| j <= l) {
            return false;
        }
        last = Some(j);
    }
    true
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
        Value::List(_)
        | Value::Map(_)
        | Value::Date(_)
        | Value::Time(_)
        | Value::Timestamp(_)
        | Value::Decimal(_) => b.push_value(value_to_rvalue(v)),
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
        // Every kind of the table reads and is sent back as itself.
        for (k, kinds) in KINDS {
            let e = error_from_plugin(RError::new(*k, "m"), "x");
            assert_eq!(e.kind(), kinds[0]);
            let back = error_to_plugin(&e).kind;
            assert!(back == *k || KINDS.iter().any(|(b, ks)| *b == back && ks[0] == kinds[0]));
        }
        // A kind from a newer plugin is kept by its number.
        let e = error_from_plugin(RError::new(RErrorKind(77), "new"), "x");
        assert_eq!(e.kind_name(), "rust-code-77");
        assert_eq!(e.plugin_name(), Some("x"));
    }
}
