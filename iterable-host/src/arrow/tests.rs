use super::*;

fn round_trip(rows: Vec<Vec<Value>>) -> Vec<Vec<Value>> {
    let names: Vec<String> = (0..rows[0].len()).map(|i| format!("c{i}")).collect();
    let batch = record_batch(&names, &rows, false).unwrap();
    let n = super::names(&batch.schema());
    let mut r = Record::new();
    (0..batch.num_rows())
        .map(|i| {
            fill_record(&batch, &n, i, &mut r);
            r.values().to_vec()
        })
        .collect()
}

#[test]
fn typed_values_survive_a_round_trip() {
    let ts = Value::Timestamp(Box::new(Timestamp {
        value: 1_700_000_000_123,
        unit: TimeUnit::Millisecond,
        tz: Some(Arc::from("Europe/Paris")),
    }));
    let dec = Value::Decimal(Box::new(Decimal {
        value: -12345,
        precision: 9,
        scale: 2,
    }));
    let rows = vec![
        vec![
            Value::Int(1),
            Value::from("é"),
            Value::Date(Date(19000)),
            ts.clone(),
            dec.clone(),
            Value::List(vec![Value::Int(1), Value::Int(2)]),
            Value::Map(vec![("a".into(), Value::Bool(true))]),
            Value::Bytes(vec![0, 255]),
            Value::Time(Time {
                value: 3_600_000_001,
                unit: TimeUnit::Microsecond,
            }),
        ],
        vec![
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
            Value::List(vec![]),
            Value::Null,
            Value::Null,
            Value::Null,
        ],
    ];
    assert_eq!(round_trip(rows.clone()), rows);
}

#[test]
fn exact_batches_give_back_every_value_as_it_was() {
    let rows = vec![
        vec![
            Value::Int(1),
            Value::Map(vec![
                ("b".into(), Value::Int(1)),
                ("a".into(), Value::from("x")),
            ]),
            Value::List(vec![Value::Int(1), Value::from("two"), Value::Null]),
            Value::Float(1.0),
        ],
        vec![
            Value::from("x"),
            Value::Map(vec![("c".into(), Value::List(vec![]))]),
            Value::Null,
            Value::Null,
        ],
        vec![
            Value::Float(2.5),
            Value::Map(vec![]),
            Value::List(vec![Value::Map(vec![("k".into(), Value::Bytes(vec![1]))])]),
            Value::Bool(true),
        ],
        vec![Value::Null, Value::Null, Value::Null, Value::Int(7)],
    ];
    let names: Vec<String> = (0..4).map(|i| format!("c{i}")).collect();
    let batch = exact_batch(&names, &rows).unwrap();
    let n = super::names(&batch.schema());
    let mut r = Record::new();
    let back: Vec<Vec<Value>> = (0..batch.num_rows())
        .map(|i| {
            fill_record(&batch, &n, i, &mut r);
            r.values().to_vec()
        })
        .collect();
    assert_eq!(back, rows);
}

#[test]
fn disagreeing_values_become_text_and_ints_widen_to_floats() {
    let rows = vec![
        vec![Value::Int(1), Value::Int(2)],
        vec![Value::from("x"), Value::Float(2.5)],
    ];
    assert_eq!(
        round_trip(rows),
        vec![
            vec![Value::from("1"), Value::Float(2.0)],
            vec![Value::from("x"), Value::Float(2.5)]
        ]
    );
}

#[test]
fn arrow_maps_large_text_and_wide_integers_read_as_values() {
    use arrow_array::builder::{Int64Builder, MapBuilder, StringBuilder};
    use arrow_array::{LargeStringArray, UInt64Array};
    let mut m = MapBuilder::new(None, StringBuilder::new(), Int64Builder::new());
    m.keys().append_value("a");
    m.values().append_value(1);
    m.append(true).unwrap();
    m.append(false).unwrap();
    let batch = RecordBatch::try_from_iter([
        ("m", Arc::new(m.finish()) as ArrayRef),
        (
            "t",
            Arc::new(LargeStringArray::from(vec![Some("x"), None])) as ArrayRef,
        ),
        (
            "u",
            Arc::new(UInt64Array::from(vec![u64::MAX, 7])) as ArrayRef,
        ),
    ])
    .unwrap();
    let n = names(&batch.schema());
    let mut r = Record::new();
    fill_record(&batch, &n, 0, &mut r);
    assert_eq!(
        r.values(),
        [
            Value::Map(vec![("a".into(), Value::Int(1))]),
            Value::from("x"),
            Value::Decimal(Box::new(Decimal {
                value: i128::from(u64::MAX),
                precision: 20,
                scale: 0
            })),
        ]
    );
    fill_record(&batch, &n, 1, &mut r);
    assert_eq!(r.values(), [Value::Null, Value::Null, Value::Int(7)]);
}

#[test]
fn gathered_rows_split_where_the_names_change_and_at_the_limit() {
    let a: iterable_core::FieldNames = Arc::new(vec!["a".into()]);
    let b: iterable_core::FieldNames = Arc::new(vec!["b".into()]);
    let mut g = Gather::new(2);
    let row = |i| vec![Value::Int(i)];
    assert!(g.add(&a, [row(1)]).is_empty());
    let ready = g.add(&a, [row(2), row(3)]);
    assert_eq!(ready.len(), 1);
    assert_eq!(ready[0].1, [row(1), row(2)]);
    let ready = g.add(&b, [row(4)]);
    assert_eq!(
        (ready[0].0.as_slice(), ready[0].1.as_slice()),
        (a.as_slice(), &[row(3)][..])
    );
    let (names, rows) = g.take().unwrap();
    assert_eq!((names, rows), (b, vec![row(4)]));
    assert!(g.take().is_none());
}

#[test]
fn dictionaries_read_as_their_values() {
    use arrow_array::DictionaryArray;
    let dict: DictionaryArray<Int32Type> = vec!["a", "b", "a"].into_iter().collect();
    let batch = RecordBatch::try_from_iter([("k", Arc::new(dict) as ArrayRef)]).unwrap();
    let flat = flatten_dictionaries(batch.clone()).unwrap();
    assert_eq!(flat.column(0).data_type(), &DataType::Utf8);
    for b in [batch, flat] {
        let n = names(&b.schema());
        let mut r = Record::new();
        fill_record(&b, &n, 2, &mut r);
        assert_eq!(r.values(), [Value::from("a")]);
    }
}
