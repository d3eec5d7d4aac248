//! Writing a batch: [`BatchBuilder`].

use std::fmt;

use super::read::{CellRef, read_cell_opt};
use super::{BATCH_SOFT_LIMIT_BYTES, RBatch, tag};
use crate::abi::error::{RError, RErrorKind};
use crate::abi::value::RValue;

/// Appends rows to an [`RBatch`]; the only way plugin code writes cells.
///
/// Cells are pushed left to right with the `push_*` methods (each returns
/// `&mut Self` so calls chain), or by name with [`key`](Self::key). A row is
/// completed by [`end_row`](Self::end_row), which pads missing trailing cells
/// with `ABSENT` (the reader adapter also ends an open row for you).
///
/// * Pushing more cells than there are fields adds a field named
///   `field_<n>` (1-based position).
/// * [`add_field`](Self::add_field) / [`key`](Self::key) with a new name
///   appends a field; rows already in the batch get `ABSENT` for it.
/// * The builder never panics. Limits (4 GiB of cell data, `u32::MAX` rows
///   or nested values) turn the offending cell into `ABSENT` and record an
///   error, available from [`take_error`](Self::take_error) (the adapters
///   report it).
pub struct BatchBuilder<'a> {
    batch: &'a mut RBatch,
    cells: usize,
    cursor: Option<usize>,
    nested_mark: usize,
    error: Option<RError>,
    /// Field indices in the order `key` set them in the open row.
    row_keys: Vec<usize>,
    /// A row held back because its keys came in another order than the
    /// batch's fields; it starts the next batch (see [`BatchBuilder::carry_out_of_order_row`]).
    carried: Option<Vec<(String, RValue)>>,
}

impl fmt::Debug for BatchBuilder<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BatchBuilder")
            .field("rows", &self.batch.rows)
            .field("fields", &self.batch.fields.len())
            .field("open_cells", &self.cells)
            .finish()
    }
}

fn shape_ok(b: &RBatch) -> bool {
    let Some(cells) = (b.rows as usize).checked_mul(b.fields.len()) else {
        return false;
    };
    b.tags.len() == cells
        && b.ends.len() == cells
        && b.ends.last().map_or(0, |&e| e as usize) == b.data.len()
}

impl<'a> BatchBuilder<'a> {
    /// A builder appending rows to `batch`. If `batch` does not have a
    /// consistent shape (tag/end counts, total length) it is cleared first,
    /// so the builder's invariants always hold.
    pub fn new(batch: &'a mut RBatch) -> Self {
        if !shape_ok(batch) {
            batch.clear();
        }
        let nested_mark = batch.nested.len();
        Self {
            batch,
            cells: 0,
            cursor: None,
            nested_mark,
            error: None,
            row_keys: Vec::new(),
            carried: None,
        }
    }

    /// The batch being built (rows of the open row are not counted yet).
    pub fn batch(&self) -> &RBatch {
        self.batch
    }
    /// Completed rows in the batch.
    pub fn row_count(&self) -> usize {
        self.batch.rows as usize
    }
    /// The number of fields.
    pub fn field_count(&self) -> usize {
        self.batch.fields.len()
    }
    /// Cells pushed so far in the open row.
    pub fn open_cells(&self) -> usize {
        self.cells
    }
    /// Whether the batch's data passed [`BATCH_SOFT_LIMIT_BYTES`] (end the batch soon).
    pub fn is_full(&self) -> bool {
        self.batch.data.len() >= BATCH_SOFT_LIMIT_BYTES
    }
    /// Reserves room for `rows` more rows of about `bytes_per_row` data bytes.
    pub fn reserve(&mut self, rows: usize, bytes_per_row: usize) {
        let cells = rows.saturating_mul(self.batch.fields.len());
        self.batch.tags.reserve(cells);
        self.batch.ends.reserve(cells);
        self.batch.data.reserve(rows.saturating_mul(bytes_per_row));
    }
    /// Takes the first limit error the builder recorded, if any.
    pub fn take_error(&mut self) -> Option<RError> {
        self.error.take()
    }

    fn fail(&mut self, msg: &str) {
        if self.error.is_none() {
            self.error = Some(RError::new(RErrorKind::INVALID_INPUT, msg.to_string()));
        }
    }

    /// The index of field `name`.
    pub fn field_index(&self, name: &str) -> Option<usize> {
        // Fast path for keyed rows whose keys come in field order.
        if let Some(f) = self.batch.fields.get(self.cells) {
            if f.as_str() == name {
                return Some(self.cells);
            }
        }
        self.batch.field_index(name)
    }

    /// Declares the field names. Cheap to call for every row: if the batch
    /// already has exactly these fields it is a comparison and nothing else.
    /// On an empty batch it sets the list; otherwise names not yet present
    /// are appended (with `ABSENT` back-filled) and existing ones keep their
    /// position.
    pub fn set_fields<S: AsRef<str>>(&mut self, names: &[S]) {
        let same = names.len() == self.batch.fields.len()
            && names
                .iter()
                .zip(self.batch.fields.iter())
                .all(|(a, b)| a.as_ref() == b.as_str());
        if same {
            return;
        }
        if self.batch.rows == 0 && self.cells == 0 {
            self.batch.fields.clear();
            for n in names {
                if self.batch.field_index(n.as_ref()).is_none() {
                    self.batch.fields.push(n.as_ref().into());
                }
            }
        } else {
            for n in names {
                self.add_field(n.as_ref());
            }
        }
    }

    /// The index of field `name`, adding it (with `ABSENT` back-filled for
    /// the rows already in the batch) if it is new.
    pub fn add_field(&mut self, name: &str) -> usize {
        if let Some(j) = self.field_index(name) {
            return j;
        }
        let nf = self.batch.fields.len();
        let rows = self.batch.rows as usize;
        if rows > 0 {
            let old_tags = self.batch.tags.as_slice().to_vec();
            let old_ends = self.batch.ends.as_slice().to_vec();
            let b = &mut *self.batch;
            b.tags.clear();
            b.ends.clear();
            b.tags.reserve(old_tags.len() + rows);
            b.ends.reserve(old_ends.len() + rows);
            for r in 0..rows {
                let s = r * nf;
                b.tags.extend_from_copy_slice(&old_tags[s..s + nf]);
                b.ends.extend_from_copy_slice(&old_ends[s..s + nf]);
                let last = b.ends.last().copied().unwrap_or(0);
                b.tags.push(tag::ABSENT);
                b.ends.push(last);
            }
            let s = rows * nf;
            b.tags.extend_from_copy_slice(&old_tags[s..]);
            b.ends.extend_from_copy_slice(&old_ends[s..]);
        }
        self.batch.fields.push(name.into());
        nf
    }

    /// Positions the next push at field `name` (added if new), so keyed rows
    /// (JSON lines, LTSV) can push in any order: `row.key("a").push_str(v)`.
    /// Skipped fields become `ABSENT`; pushing to a field already set in
    /// this row replaces its value (the last one wins).
    pub fn key(&mut self, name: &str) -> &mut Self {
        let j = self.add_field(name);
        self.row_keys.push(j);
        if j >= self.cells {
            while self.cells < j {
                self.put(tag::ABSENT, &[]);
            }
            self.cursor = None;
        } else {
            self.cursor = Some(j);
        }
        self
    }

    fn put(&mut self, t: u8, bytes: &[u8]) {
        if let Some(j) = self.cursor.take() {
            if j < self.cells {
                self.replace(j, t, bytes);
                return;
            }
        }
        if self.cells >= self.batch.fields.len() {
            let mut n = self.batch.fields.len() + 1;
            let mut name = format!("field_{n}");
            while self.batch.field_index(&name).is_some() {
                n += 1;
                name = format!("field_{n}");
            }
            self.add_field(&name);
        }
        let (t, bytes) = if self.batch.data.len().saturating_add(bytes.len()) > u32::MAX as usize {
            self.fail("batch cell data exceeds 4 GiB");
            (tag::ABSENT, &[][..])
        } else {
            (t, bytes)
        };
        let b = &mut *self.batch;
        b.tags.push(t);
        b.data.extend_from_copy_slice(bytes);
        b.ends.push(b.data.len() as u32);
        self.cells += 1;
    }

    fn replace(&mut self, j: usize, t: u8, bytes: &[u8]) {
        let nf = self.batch.fields.len();
        let base = self.batch.rows as usize * nf;
        let k = base + j;
        let start = if k == 0 {
            0
        } else {
            self.batch.ends[k - 1] as usize
        };
        let end = self.batch.ends[k] as usize;
        let new_total = self.batch.data.len() - (end - start) + bytes.len();
        if new_total > u32::MAX as usize {
            self.fail("batch cell data exceeds 4 GiB");
            return;
        }
        let b = &mut *self.batch;
        let tail = b.data.as_slice()[end..].to_vec();
        b.data.truncate(start);
        b.data.extend_from_copy_slice(bytes);
        b.data.extend_from_copy_slice(&tail);
        b.tags.as_mut_slice()[k] = t;
        let ends = b.ends.as_mut_slice();
        ends[k] = (start + bytes.len()) as u32;
        // The later cells of the open row move by (new length - old length);
        // their ends are all >= `end` (non-decreasing), so this cannot underflow.
        for e in ends.iter_mut().take(base + self.cells).skip(k + 1) {
            *e = (*e as usize - end + start + bytes.len()) as u32;
        }
    }

    /// Pushes an `ABSENT` cell.
    pub fn push_absent(&mut self) -> &mut Self {
        self.put(tag::ABSENT, &[]);
        self
    }
    /// Pushes a null.
    pub fn push_null(&mut self) -> &mut Self {
        self.put(tag::NULL, &[]);
        self
    }
    /// Pushes a boolean.
    pub fn push_bool(&mut self, v: bool) -> &mut Self {
        self.put(if v { tag::TRUE } else { tag::FALSE }, &[]);
        self
    }
    /// Pushes an integer.
    pub fn push_int(&mut self, v: i64) -> &mut Self {
        self.put(tag::INT, &v.to_le_bytes());
        self
    }
    /// Pushes a float.
    pub fn push_float(&mut self, v: f64) -> &mut Self {
        self.put(tag::FLOAT, &v.to_bits().to_le_bytes());
        self
    }
    /// Pushes text.
    pub fn push_str(&mut self, v: &str) -> &mut Self {
        self.put(tag::STR, v.as_bytes());
        self
    }
    /// Pushes raw bytes.
    pub fn push_bytes(&mut self, v: &[u8]) -> &mut Self {
        self.put(tag::BYTES, v);
        self
    }
    /// Pushes a date, time, timestamp or decimal (a `NESTED` cell holding its
    /// registered extension value, [`crate::abi::typed`]).
    pub fn push_typed(&mut self, v: &crate::abi::typed::Typed) -> &mut Self {
        self.push_value(v.to_rvalue())
    }
    /// Pushes any value: scalars become flat cells, lists/maps/`Ext` become `NESTED` cells.
    pub fn push_value(&mut self, v: RValue) -> &mut Self {
        match v {
            RValue::Null => self.push_null(),
            RValue::Bool(b) => self.push_bool(b),
            RValue::Int(i) => self.push_int(i),
            RValue::Float(f) => self.push_float(f),
            RValue::Str(s) => self.push_str(s.as_str()),
            RValue::Bytes(b) => self.push_bytes(b.as_slice()),
            nested => {
                let idx = self.batch.nested.len();
                if idx >= u32::MAX as usize {
                    self.fail("too many nested values in one batch");
                    return self.push_absent();
                }
                self.batch.nested.push(nested);
                self.put(tag::NESTED, &(idx as u32).to_le_bytes());
                self
            }
        }
    }
    /// Pushes a borrowed cell (e.g. copied from another batch).
    pub fn push_cell(&mut self, c: CellRef<'_>) -> &mut Self {
        match c {
            CellRef::Absent => self.push_absent(),
            CellRef::Null => self.push_null(),
            CellRef::Bool(b) => self.push_bool(b),
            CellRef::Int(i) => self.push_int(i),
            CellRef::Float(f) => self.push_float(f),
            CellRef::Str(s) => self.push_str(s),
            CellRef::Bytes(b) => self.push_bytes(b),
            CellRef::Nested(v) => self.push_value(v.clone()),
        }
    }

    /// Appends a whole row of text cells in one call: cell `i` is
    /// `text[ends[i - 1]..ends[i]]` (from 0 for the first), in field order,
    /// and the row is ended (missing cells are `ABSENT`, extra ones get
    /// `field_N` names, as with [`BatchBuilder::push_str`]).
    ///
    /// It is the fast way to hand over rows a parser already holds as one
    /// buffer and field ends (as `csv-core` and many tokenizers do): one
    /// copy of the row's bytes instead of one call per cell. An end that is
    /// out of order, past the text or inside a character makes the cell
    /// `ABSENT` and records an error ([`BatchBuilder::take_error`]).
    ///
    /// ```
    /// use iterable_plugin_api::{CellRef, RBatch};
    ///
    /// let mut batch = RBatch::new();
    /// let mut b = batch.builder();
    /// b.set_fields(&["id", "city"]);
    /// b.push_text_row("1Zürich", &[1, 8]);
    /// assert_eq!(batch.validated().unwrap().row(0).unwrap().get(1), CellRef::Str("Zürich"));
    /// ```
    pub fn push_text_row(&mut self, text: &str, ends: &[usize]) {
        let bytes = text.as_bytes();
        let base = self.batch.data.len();
        let used = ends.last().copied().unwrap_or(0);
        let fast = self.cells == 0
            && self.cursor.is_none()
            && ends.len() <= self.batch.fields.len()
            && used <= bytes.len()
            && base.saturating_add(used) <= u32::MAX as usize
            && ends.windows(2).all(|w| w[0] <= w[1])
            && ends.iter().all(|&e| text.is_char_boundary(e));
        if fast {
            const CHUNK: usize = 64;
            const TAGS: [u8; CHUNK] = [tag::STR; CHUNK];
            let b = &mut *self.batch;
            b.data.extend_from_copy_slice(&bytes[..used]);
            // In slices rather than one push per cell: `RVec` copies slices
            // in one go.
            let mut shifted = [0u32; CHUNK];
            for part in ends.chunks(CHUNK) {
                b.tags.extend_from_copy_slice(&TAGS[..part.len()]);
                for (s, &e) in shifted.iter_mut().zip(part) {
                    *s = (base + e) as u32;
                }
                b.ends.extend_from_copy_slice(&shifted[..part.len()]);
            }
            self.cells = ends.len();
        } else {
            let mut from = 0;
            for &e in ends {
                match text.get(from..e) {
                    Some(cell) => {
                        self.push_str(cell);
                        from = e;
                    }
                    None => {
                        self.fail("push_text_row: a field end is out of order, past the text or inside a character");
                        self.push_absent();
                    }
                }
            }
        }
        self.end_row();
    }

    /// Completes the open row, padding missing cells with `ABSENT`.
    pub fn end_row(&mut self) {
        self.cursor = None;
        if self.batch.rows == u32::MAX {
            self.fail("a batch holds at most u32::MAX rows");
            self.discard_row();
            return;
        }
        while self.cells < self.batch.fields.len() {
            self.put(tag::ABSENT, &[]);
        }
        self.batch.rows += 1;
        self.cells = 0;
        self.nested_mark = self.batch.nested.len();
        self.row_keys.clear();
    }

    /// Ends the open row if it has at least one cell (used by the adapters).
    pub fn end_row_if_open(&mut self) {
        if self.cells > 0 {
            self.end_row();
        }
    }

    /// Drops the cells of the open row (e.g. after a parse error mid-row).
    pub fn discard_row(&mut self) {
        let base = self.batch.rows as usize * self.batch.fields.len();
        let b = &mut *self.batch;
        b.tags.truncate(base);
        b.ends.truncate(base);
        let end = b.ends.last().map_or(0, |&e| e as usize);
        b.data.truncate(end);
        b.nested.truncate(self.nested_mark);
        self.cells = 0;
        self.cursor = None;
        self.row_keys.clear();
    }

    /// When the open row set its fields (with [`BatchBuilder::key`]) in
    /// another order than the batch's fields, and rows came before it,
    /// takes the row out of the batch, keeping its fields in the order they
    /// were set, and returns `true`: the batch must end here, and the row
    /// starts the next one ([`BatchBuilder::take_carried`]). A batch has one
    /// field order, so this is how every record keeps its own.
    pub fn carry_out_of_order_row(&mut self) -> bool {
        let in_order = self.row_keys.windows(2).all(|w| w[0] < w[1]);
        if in_order || self.batch.rows == 0 || self.cells == 0 {
            return false;
        }
        let row = self.batch.rows as usize;
        let mut seen = Vec::new();
        let mut cells = Vec::new();
        // The open row is laid out like the ended ones (earlier rows are
        // back-filled when a field is added), so count it while copying it.
        self.batch.rows += 1;
        // A key set twice keeps its last value, at its first place.
        for &j in &self.row_keys {
            if seen.contains(&j) || j >= self.cells {
                continue;
            }
            seen.push(j);
            let name = self
                .batch
                .fields
                .get(j)
                .map(|f| f.to_string())
                .unwrap_or_default();
            if let Some(v) = read_cell_opt(self.batch, row, j, false).and_then(|c| c.to_value()) {
                cells.push((name, v));
            }
        }
        self.batch.rows -= 1;
        self.discard_row();
        self.carried = Some(cells);
        true
    }

    /// The row [`BatchBuilder::carry_out_of_order_row`] held back, if any.
    pub fn take_carried(&mut self) -> Option<Vec<(String, RValue)>> {
        self.carried.take()
    }

    /// Pushes a held-back row as the first row of this batch.
    pub fn push_carried(&mut self, cells: Vec<(String, RValue)>) {
        for (name, v) in cells {
            self.key(&name).push_value(v);
        }
        self.end_row();
    }
}
