//! The flat batch: builder/view round trips and validation of malformed batches.

use iterable_plugin_api::abi_stable::std_types::{RString, RVec};
use iterable_plugin_api::{BatchBuilder, CellRef, RBatch, RErrorKind, RValue, tag};

fn nested_list() -> RValue {
    RValue::list([RValue::Int(1), RValue::from("two"), RValue::Null])
}

fn nested_map() -> RValue {
    RValue::map([("k", RValue::Bool(true)), ("n", RValue::Float(1.5))])
}

fn full_row(b: &mut BatchBuilder<'_>) {
    b.set_fields(&[
        "absent", "null", "f", "t", "int", "float", "str", "bytes", "list", "map", "ext",
    ]);
    b.push_absent()
        .push_null()
        .push_bool(false)
        .push_bool(true)
        .push_int(-42)
        .push_float(6.25)
        .push_str("héllo ✓ 日本")
        .push_bytes(&[0, 159, 255])
        .push_value(nested_list())
        .push_value(nested_map())
        .push_value(RValue::ext("decimal", b"12.50"));
    b.end_row();
}

fn check_full_row(batch: &RBatch, row: usize) {
    for view in [batch.view(), batch.validated().unwrap()] {
        let r = view.row(row).unwrap();
        assert_eq!(r.get(0), CellRef::Absent);
        assert_eq!(r.get(1), CellRef::Null);
        assert_eq!(r.get(2), CellRef::Bool(false));
        assert_eq!(r.get(3), CellRef::Bool(true));
        assert_eq!(r.get(4), CellRef::Int(-42));
        assert_eq!(r.get(5), CellRef::Float(6.25));
        assert_eq!(r.get(6), CellRef::Str("héllo ✓ 日本"));
        assert_eq!(r.get(7), CellRef::Bytes(&[0, 159, 255]));
        assert_eq!(r.get(8), CellRef::Nested(&nested_list()));
        assert_eq!(r.get(9), CellRef::Nested(&nested_map()));
        assert_eq!(
            r.get(10),
            CellRef::Nested(&RValue::ext("decimal", b"12.50"))
        );
        assert_eq!(r.get(11), CellRef::Absent, "out of range reads as absent");
        assert_eq!(r.get_by_name("int").as_i64(), Some(-42));
        assert_eq!(r.get_by_name("nope"), CellRef::Absent);
        assert_eq!(r.present().count(), 10);
    }
}

#[test]
fn every_tag_round_trips() {
    let mut batch = RBatch::new();
    let mut b = batch.builder();
    full_row(&mut b);
    full_row(&mut b);
    assert_eq!(b.row_count(), 2);
    assert!(b.take_error().is_none());
    drop(b);
    assert_eq!(batch.rows, 2);
    assert_eq!(batch.tags.len(), 22);
    assert_eq!(
        &batch.tags.as_slice()[..11],
        &[
            tag::ABSENT,
            tag::NULL,
            tag::FALSE,
            tag::TRUE,
            tag::INT,
            tag::FLOAT,
            tag::STR,
            tag::BYTES,
            tag::NESTED,
            tag::NESTED,
            tag::NESTED
        ]
    );
    // Only lists/maps/ext go to `nested`: three per row.
    assert_eq!(batch.nested.len(), 6);
    batch.validate().unwrap();
    check_full_row(&batch, 0);
    check_full_row(&batch, 1);
    assert!(batch.row(2).is_none());
    assert_eq!(batch.iter().count(), 2);
}

#[test]
fn push_value_keeps_scalars_flat() {
    let mut batch = RBatch::new();
    let mut b = batch.builder();
    b.set_fields(&["a", "b", "c", "d"]);
    b.push_value(RValue::Int(7))
        .push_value(RValue::from("s"))
        .push_value(RValue::Null)
        .push_value(RValue::Bytes(RVec::from(vec![1u8])));
    b.end_row();
    assert_eq!(
        batch.tags.as_slice(),
        &[tag::INT, tag::STR, tag::NULL, tag::BYTES]
    );
    assert!(batch.nested.is_empty());
}

#[test]
fn heterogeneous_rows_backfill_absent() {
    let mut batch = RBatch::new();
    let mut b = batch.builder();
    // row 0: a, b
    b.key("a").push_int(1);
    b.key("b").push_str("x");
    b.end_row();
    // row 1: b, c (c is new: row 0 gets ABSENT for it)
    b.key("b").push_str("y");
    b.key("c").push_bool(true);
    b.end_row();
    // row 2: c then a (out of field order), then a again (last wins, longer payload)
    b.key("c").push_str("zz");
    b.key("a").push_str("first");
    b.key("a").push_str("second value");
    // open row, ended by end_row_if_open
    b.end_row_if_open();
    // row 3: brand new field mid-batch while earlier rows exist
    b.key("d").push_float(0.5);
    b.end_row();
    drop(b);

    batch.validate().unwrap();
    let v = batch.validated().unwrap();
    assert_eq!(v.field_names().collect::<Vec<_>>(), ["a", "b", "c", "d"]);
    let cells: Vec<Vec<CellRef<'_>>> = v
        .iter()
        .map(|r| (0..4).map(|j| r.get(j)).collect())
        .collect();
    use CellRef::*;
    assert_eq!(cells[0], [Int(1), Str("x"), Absent, Absent]);
    assert_eq!(cells[1], [Absent, Str("y"), Bool(true), Absent]);
    assert_eq!(cells[2], [Str("second value"), Absent, Str("zz"), Absent]);
    assert_eq!(cells[3], [Absent, Absent, Absent, Float(0.5)]);
}

#[test]
fn replacing_a_cell_keeps_later_cells_intact() {
    let mut batch = RBatch::new();
    let mut b = batch.builder();
    b.set_fields(&["a", "b", "c"]);
    b.push_str("x").push_str("yyyy").push_str("z");
    b.key("a").push_str("a much longer value");
    b.key("b").push_str("");
    b.end_row();
    drop(b);
    batch.validate().unwrap();
    let r = batch.row(0).unwrap();
    assert_eq!(r.get(0).as_str(), Some("a much longer value"));
    assert_eq!(r.get(1).as_str(), Some(""));
    assert_eq!(r.get(2).as_str(), Some("z"));
}

#[test]
fn extra_positional_cells_add_fields() {
    let mut batch = RBatch::new();
    let mut b = batch.builder();
    b.set_fields(&["a"]);
    b.push_int(1).end_row();
    b.push_int(2).push_int(3).end_row();
    drop(b);
    batch.validate().unwrap();
    assert_eq!(batch.field_names().collect::<Vec<_>>(), ["a", "field_2"]);
    assert_eq!(batch.cell(0, 1), CellRef::Absent);
    assert_eq!(batch.cell(1, 1), CellRef::Int(3));
}

/// The rows of a batch as text cells (`None` for absent ones).
fn text_rows(batch: &RBatch) -> Vec<Vec<Option<&str>>> {
    let view = batch.validated().unwrap();
    view.iter()
        .map(|r| (0..r.len()).map(|j| r.get(j).as_str()).collect())
        .collect()
}

#[test]
fn push_text_row_appends_whole_rows() {
    let mut batch = RBatch::new();
    let mut b = batch.builder();
    b.set_fields(&["id", "city", "note"]);
    b.push_text_row("1Zürich", &[1, 8, 8]);
    // Shorter rows are padded, longer ones add positional fields.
    b.push_text_row("2", &[1]);
    b.push_text_row("3São Pauloxy", &[1, 11, 11, 13]);
    // The text may go on past the last end; it is not copied.
    b.push_text_row("4 unused", &[1, 1, 1]);
    assert!(b.take_error().is_none());
    drop(b);
    assert_eq!(
        batch.field_names().collect::<Vec<_>>(),
        ["id", "city", "note", "field_4"]
    );
    assert_eq!(
        text_rows(&batch),
        [
            vec![Some("1"), Some("Zürich"), Some(""), None],
            vec![Some("2"), None, None, None],
            vec![Some("3"), Some("São Paulo"), Some(""), Some("xy")],
            vec![Some("4"), Some(""), Some(""), None],
        ]
    );
}

#[test]
fn push_text_row_refuses_bad_ends_and_follows_open_cells() {
    let mut batch = RBatch::new();
    let mut b = batch.builder();
    b.set_fields(&["a", "b", "c"]);
    // 2 splits the 'ü'; 9 is past the text; 1 after 3 goes backwards.
    for ends in [&[1, 2, 4][..], &[1, 9], &[3, 1]] {
        b.push_text_row("xüyz", ends);
        let err = b.take_error().expect("an error");
        assert_eq!(err.kind, RErrorKind::INVALID_INPUT);
        assert!(err.message.as_str().contains("push_text_row"), "{err:?}");
    }
    // Cells pushed before it come first.
    b.push_str("first");
    b.push_text_row("bc", &[1, 2]);
    drop(b);
    assert_eq!(
        text_rows(&batch),
        [
            // The cell after a bad end starts where the bad cell started.
            vec![Some("x"), None, Some("üy")],
            vec![Some("x"), None, None],
            vec![Some("xü"), None, None],
            vec![Some("first"), Some("b"), Some("c")],
        ]
    );
}

/// `push_text_row` builds the batch that one `push_str` per cell builds,
/// whatever the ends (valid or not) and the widths, on random rows.
#[test]
fn push_text_row_matches_pushing_cell_by_cell() {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    let pieces = ["a", "bc", "", "é", "日本", ",", "\"", "\u{1F600}"];
    for _ in 0..2000 {
        let (mut fast, mut slow) = (RBatch::new(), RBatch::new());
        let (mut f, mut s) = (fast.builder(), slow.builder());
        let fields: Vec<String> = (0..next(4)).map(|i| format!("f{i}")).collect();
        f.set_fields(&fields);
        s.set_fields(&fields);
        for _ in 0..next(5) {
            let text: String = (0..next(6)).map(|_| pieces[next(pieces.len())]).collect();
            let mut ends: Vec<usize> = (0..next(6)).map(|_| next(text.len() + 2)).collect();
            if next(4) > 0 {
                ends.sort_unstable();
            }
            f.push_text_row(&text, &ends);
            let mut from = 0;
            let mut bad = false;
            for &e in &ends {
                match text.get(from..e) {
                    Some(cell) => {
                        s.push_str(cell);
                        from = e;
                    }
                    None => {
                        bad = true;
                        s.push_absent();
                    }
                }
            }
            s.end_row();
            assert_eq!(f.take_error().is_some(), bad, "{text:?} {ends:?}");
        }
        drop((f, s));
        fast.validate().unwrap();
        assert_eq!(fast, slow);
    }
}

#[test]
fn set_fields_is_idempotent_and_end_row_pads() {
    let mut batch = RBatch::new();
    let mut b = batch.builder();
    for i in 0..3 {
        b.set_fields(&["x", "y"]);
        b.push_int(i);
        b.end_row();
    }
    b.set_fields(&["x", "y", "z"]);
    b.push_int(9).push_int(8).push_int(7).end_row();
    drop(b);
    batch.validate().unwrap();
    assert_eq!(batch.field_count(), 3);
    assert_eq!(batch.cell(0, 1), CellRef::Absent);
    assert_eq!(batch.cell(2, 2), CellRef::Absent);
    assert_eq!(batch.cell(3, 2), CellRef::Int(7));
}

#[test]
fn discard_row_drops_the_open_row() {
    let mut batch = RBatch::new();
    let mut b = batch.builder();
    b.set_fields(&["a", "b"]);
    b.push_str("keep").push_value(nested_list()).end_row();
    b.push_str("drop").push_value(nested_map());
    b.discard_row();
    assert_eq!(b.open_cells(), 0);
    drop(b);
    batch.validate().unwrap();
    assert_eq!(batch.rows, 1);
    assert_eq!(batch.nested.len(), 1);
    assert_eq!(batch.cell(0, 0).as_str(), Some("keep"));
}

#[test]
fn clear_keeps_capacity() {
    let mut batch = RBatch::new();
    let mut b = batch.builder();
    for i in 0..100 {
        b.set_fields(&["a", "b"]);
        b.push_int(i).push_str("some text").end_row();
    }
    drop(b);
    let caps = (
        batch.tags.capacity(),
        batch.ends.capacity(),
        batch.data.capacity(),
        batch.fields.capacity(),
    );
    assert!(caps.2 >= 100 * 17);
    batch.clear();
    assert_eq!(batch.rows, 0);
    assert!(batch.fields.is_empty() && batch.tags.is_empty() && batch.data.is_empty());
    assert_eq!(
        caps,
        (
            batch.tags.capacity(),
            batch.ends.capacity(),
            batch.data.capacity(),
            batch.fields.capacity()
        )
    );
    let data_ptr = batch.data.as_ptr();
    let mut b = batch.builder();
    b.set_fields(&["a"]);
    b.push_str("reuse").end_row();
    drop(b);
    assert_eq!(batch.data.as_ptr(), data_ptr, "no reallocation after clear");
    batch.validate().unwrap();
}

fn good_batch() -> RBatch {
    let mut batch = RBatch::new();
    let mut b = batch.builder();
    b.set_fields(&["s", "i", "n"]);
    b.push_str("ab")
        .push_int(5)
        .push_value(nested_list())
        .end_row();
    b.push_str("cd")
        .push_int(6)
        .push_value(nested_map())
        .end_row();
    drop(b);
    batch.validate().unwrap();
    batch
}

fn assert_invalid(batch: &RBatch, needle: &str) {
    let e = batch.validate().unwrap_err();
    assert_eq!(e.kind, RErrorKind::INVALID_INPUT);
    assert!(
        e.message.contains(needle),
        "`{}` should mention `{needle}`",
        e.message
    );
    assert!(batch.validated().is_err());
    // Reading a malformed batch never panics.
    for row in batch.iter() {
        for j in 0..batch.field_count() + 2 {
            let _ = row.get(j);
        }
    }
    for r in 0..batch.rows as usize + 2 {
        for j in 0..batch.field_count() + 2 {
            let _ = batch.cell(r, j);
        }
    }
}

#[test]
fn validate_rejects_malformed_batches() {
    // Non-monotonic ends.
    let mut b = good_batch();
    b.ends.as_mut_slice()[1] = 0;
    assert_invalid(&b, "out of order");

    // End beyond the data.
    let mut b = good_batch();
    let n = b.ends.len();
    b.ends.as_mut_slice()[n - 1] = 10_000;
    assert_invalid(&b, "out of order");

    // Wrong number of tags.
    let mut b = good_batch();
    b.tags.push(tag::NULL);
    assert_invalid(&b, "tags");

    // Wrong number of ends.
    let mut b = good_batch();
    b.ends.pop();
    assert_invalid(&b, "end offsets");

    // Row count disagrees with the cells.
    let mut b = good_batch();
    b.rows = 3;
    assert_invalid(&b, "tags");

    // Invalid UTF-8 in a STR cell (same length, so offsets stay valid).
    let mut b = good_batch();
    b.data.as_mut_slice()[0] = 0xff;
    assert_invalid(&b, "not UTF-8");
    // The unvalidated view reads the bad cell as Absent, the good ones normally.
    assert_eq!(b.cell(0, 0), CellRef::Absent);
    assert_eq!(b.cell(0, 1), CellRef::Int(5));

    // Unknown tag.
    let mut b = good_batch();
    b.tags.as_mut_slice()[0] = 200;
    assert_invalid(&b, "unknown tag 200");
    assert_eq!(b.cell(0, 0), CellRef::Absent);

    // INT cell with the wrong payload length.
    let mut b = good_batch();
    b.tags.as_mut_slice()[0] = tag::INT; // "ab" is 2 bytes
    assert_invalid(&b, "expected 8");
    assert_eq!(b.cell(0, 0), CellRef::Absent);

    // NESTED index out of range.
    let mut b = good_batch();
    b.nested.pop();
    assert_invalid(&b, "nested index");
    assert_eq!(b.cell(1, 2), CellRef::Absent);

    // Trailing bytes.
    let mut b = good_batch();
    b.data.push(b'x');
    assert_invalid(&b, "trailing");

    // Duplicate field names.
    let mut b = good_batch();
    b.fields.as_mut_slice()[1] = RString::from("s");
    assert_invalid(&b, "duplicate field");

    // Fields without cells.
    let mut b = good_batch();
    b.fields.push("extra".into());
    assert_invalid(&b, "tags");
}

#[test]
fn builder_clears_a_malformed_batch_first() {
    let mut b = good_batch();
    b.tags.push(tag::NULL);
    let mut builder = BatchBuilder::new(&mut b);
    builder.set_fields(&["only"]);
    builder.push_str("fresh").end_row();
    drop(builder);
    b.validate().unwrap();
    assert_eq!(b.rows, 1);
    assert_eq!(b.field_names().collect::<Vec<_>>(), ["only"]);
}

#[test]
fn builder_appends_to_a_valid_batch() {
    let mut b = good_batch();
    let mut builder = b.builder();
    builder.push_str("ef").push_int(7).push_null().end_row();
    drop(builder);
    b.validate().unwrap();
    assert_eq!(b.rows, 3);
    assert_eq!(b.cell(2, 0).as_str(), Some("ef"));
    assert_eq!(b.cell(1, 2), CellRef::Nested(&nested_map()));
}

#[test]
fn display_renders_text_and_json() {
    assert_eq!(CellRef::Str("a").to_string(), "a");
    assert_eq!(CellRef::Absent.to_string(), "");
    assert_eq!(CellRef::Int(-3).to_string(), "-3");
    let v = RValue::map([
        ("a", RValue::list([RValue::Int(1), RValue::Null])),
        ("q", RValue::from("say \"hi\"\n")),
    ]);
    assert_eq!(v.to_string(), r#"{"a":[1,null],"q":"say \"hi\"\n"}"#);
    assert_eq!(CellRef::Nested(&v).to_string(), v.to_string());
    assert_eq!(
        RValue::ext("decimal", b"1.0").to_string(),
        r#"{"$ext":"decimal","len":3}"#
    );
}

#[test]
fn zero_field_rows_are_valid() {
    let mut batch = RBatch::new();
    let mut b = batch.builder();
    b.end_row();
    b.end_row();
    drop(b);
    batch.validate().unwrap();
    assert_eq!(batch.rows, 2);
    assert_eq!(batch.row(1).unwrap().get(0), CellRef::Absent);
}
