//! A record batch as a plugin might return it, well-formed or not, through
//! the checks and the host's conversion to records.
//!
//! Properties: nothing panics; `BatchReader::start` accepts exactly what
//! `RBatch::validate` accepts; an accepted batch yields one record per row,
//! and those records survive a round trip through new batches built the way
//! the host builds them (fields, values and field order).
#![no_main]

use arbitrary::Arbitrary;
use iterable_core::Record;
use iterable_host::__fuzz::{BatchReader, keeps_field_order, push_record};
use iterable_plugin_api::abi_stable::std_types::{RString, RVec, Tuple2};
use iterable_plugin_api::{RBatch, RValue, tag};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    fields: Vec<String>,
    rows: u32,
    /// Make `tags` and `ends` exactly `rows × fields` long.
    fix_counts: bool,
    /// Lay out payloads that fit their tags (most batches then validate).
    fix_payloads: bool,
    cells: Vec<Cell>,
    data: Vec<u8>,
    nested: Vec<Nested>,
}

#[derive(Arbitrary, Debug)]
struct Cell {
    tag: u8,
    /// Payload length of a STR or BYTES cell (with `fix_payloads`).
    len: u8,
    /// The raw end offset (without `fix_payloads`), or a nested index.
    end: u32,
}

#[derive(Arbitrary, Debug)]
enum Nested {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    List(Vec<Nested>),
    Map(Vec<(String, Nested)>),
    Ext(String, Vec<u8>),
}

fn rvalue(n: &Nested) -> RValue {
    match n {
        Nested::Null => RValue::Null,
        Nested::Bool(b) => RValue::Bool(*b),
        Nested::Int(i) => RValue::Int(*i),
        Nested::Float(f) => RValue::Float(*f),
        Nested::Str(s) => RValue::Str(RString::from(s.as_str())),
        Nested::Bytes(b) => RValue::Bytes(RVec::from_slice(b)),
        Nested::List(l) => RValue::List(l.iter().map(rvalue).collect()),
        Nested::Map(m) => RValue::Map(
            m.iter()
                .map(|(k, v)| Tuple2(RString::from(k.as_str()), rvalue(v)))
                .collect(),
        ),
        Nested::Ext(name, payload) => RValue::ext(name, payload),
    }
}

/// Takes `n` bytes from the front of `pool`, cycling; zeros when it is empty.
fn take(pool: &[u8], at: &mut usize, n: usize) -> Vec<u8> {
    (0..n)
        .map(|_| {
            let b = pool.get(*at % pool.len().max(1)).copied().unwrap_or(0);
            *at += 1;
            b
        })
        .collect()
}

fn build(input: &Input) -> RBatch {
    let mut batch = RBatch::new();
    batch.fields = input
        .fields
        .iter()
        .take(16)
        .map(|f| RString::from(f.as_str()))
        .collect();
    batch.nested = input.nested.iter().take(8).map(rvalue).collect();
    let nf = batch.fields.len();
    let cells: &[Cell] = if input.fix_counts {
        let rows = input
            .cells
            .len()
            .checked_div(nf)
            .unwrap_or((input.rows % 8) as usize);
        batch.rows = rows as u32;
        &input.cells[..rows * nf]
    } else {
        // Few rows when there are no fields: a huge count of empty rows is
        // valid, and only slow.
        batch.rows = if nf == 0 { input.rows % 8 } else { input.rows };
        &input.cells
    };
    if !input.fix_payloads {
        batch.tags = cells.iter().map(|c| c.tag).collect();
        batch.ends = cells.iter().map(|c| c.end).collect();
        batch.data = RVec::from_slice(&input.data);
        return batch;
    }
    let mut at = 0;
    let mut data = Vec::new();
    for c in cells {
        // 9 is one past the last tag: still a malformed cell now and then.
        let t = c.tag % (tag::MAX + 2);
        let payload = match t {
            tag::INT | tag::FLOAT => take(&input.data, &mut at, 8),
            tag::NESTED => (c.end % (batch.nested.len() as u32 + 1))
                .to_le_bytes()
                .to_vec(),
            tag::STR => String::from_utf8_lossy(&take(&input.data, &mut at, c.len.into()))
                .into_owned()
                .into_bytes(),
            tag::BYTES => take(&input.data, &mut at, c.len.into()),
            _ => Vec::new(),
        };
        data.extend_from_slice(&payload);
        batch.tags.push(t);
        batch.ends.push(data.len() as u32);
    }
    batch.data = RVec::from(data);
    batch
}

/// Reads the cells of the first rows through the unvalidated view, in every
/// way it offers (a malformed batch may claim billions of rows).
fn touch(batch: &RBatch) {
    let nf = batch.field_count();
    for row in batch.iter().take(64) {
        for (_, cell) in row.iter() {
            let _ = format!("{cell}");
            let _ = cell.to_value();
            let _ = (cell.as_str(), cell.as_bytes(), cell.as_i64(), cell.as_f64());
        }
        let _ = row.present().count();
        let _ = row.get(nf);
        if let Some(name) = batch.field_names().next() {
            let _ = row.get_by_name(name);
        }
    }
    let _ = batch.cell(batch.row_count(), 0);
    let _ = batch.cell(0, nf);
}

/// Converts a batch the way the host does; `None` when it is rejected.
fn records(batch: RBatch) -> Option<Vec<Record>> {
    let mut reader = BatchReader::default();
    *reader.batch_mut() = batch;
    reader.start("fuzz").ok()?;
    let mut out = Vec::new();
    let mut rec = Record::new();
    while reader.next_into(&mut rec) {
        out.push(rec.clone());
    }
    Some(out)
}

fuzz_target!(|input: Input| {
    let batch = build(&input);
    let valid = batch.validate();
    touch(&batch);
    let rows = batch.row_count();
    let got = records(batch);
    assert_eq!(
        got.is_some(),
        valid.is_ok(),
        "start and validate disagree: {valid:?}"
    );
    let Some(recs) = got else { return };
    assert_eq!(recs.len(), rows);
    // Back into batches, as the host sends records to a plugin writer: a
    // record whose field order the batch cannot keep starts a new one.
    let mut back = Vec::new();
    let mut again = RBatch::new();
    for r in &recs {
        if !keeps_field_order(&again, r) {
            back.extend(reread(std::mem::take(&mut again)));
        }
        push_record(&mut again.builder(), r);
    }
    back.extend(reread(again));
    // Debug, not ==: NaN floats are equal to themselves only in text.
    assert_eq!(format!("{back:?}"), format!("{recs:?}"));
});

/// The records of a batch the host built, which must be well-formed.
fn reread(batch: RBatch) -> Vec<Record> {
    if let Err(e) = batch.validate() {
        panic!("a batch built from records is malformed: {e:?}");
    }
    records(batch).expect("validated")
}
