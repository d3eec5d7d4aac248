//! Records are serde-friendly: into user structs (parsing CSV strings), to and
//! from JSON with field order kept, and `Reader::deserialize`.

mod common;

use common::{fixture, jrec, srec};
use iterable_core::{ErrorKind, OpenOptions, Record, Registry, Value};
use serde::{Deserialize, Serialize};

#[derive(Debug, PartialEq, Deserialize, Serialize)]
struct Person {
    id: u32,
    name: String,
    score: Option<f64>,
    active: bool,
    rank: Option<i64>,
}

const CSV: &str = "id,name,score,active,rank\n1,Ann,9.5,true,-3\n2,Bob,,false,\n3, Cid ,0,1, 7 \n";

fn people() -> Vec<Person> {
    vec![
        Person {
            id: 1,
            name: "Ann".into(),
            score: Some(9.5),
            active: true,
            rank: Some(-3),
        },
        Person {
            id: 2,
            name: "Bob".into(),
            score: None,
            active: false,
            rank: None,
        },
        Person {
            id: 3,
            name: " Cid ".into(),
            score: Some(0.0),
            active: true,
            rank: Some(7),
        },
    ]
}

#[test]
fn record_deserialize_parses_csv_strings() {
    let r = srec(&[
        ("id", "1"),
        ("name", "Ann"),
        ("score", "9.5"),
        ("active", "true"),
        ("rank", "-3"),
    ]);
    assert_eq!(r.deserialize::<Person>().unwrap(), people().remove(0));
    // Empty strings become None.
    let r = srec(&[
        ("id", "2"),
        ("name", "Bob"),
        ("score", ""),
        ("active", "no"),
        ("rank", ""),
    ]);
    assert_eq!(r.deserialize::<Person>().unwrap(), people().remove(1));
}

#[test]
fn reader_deserialize_from_csv() {
    let dir = tempfile::tempdir().unwrap();
    let path = fixture(dir.path(), "people.csv.gz", &common::gzip(CSV.as_bytes()));
    let reader = Registry::with_builtins()
        .open(&path, &OpenOptions::new())
        .unwrap();
    let got: Vec<Person> = reader.deserialize().collect::<Result<_, _>>().unwrap();
    assert_eq!(got, people());
}

#[test]
fn reader_deserialize_from_json_with_nesting() {
    #[derive(Debug, PartialEq, Deserialize)]
    struct Geo {
        lat: f64,
        lon: f64,
    }
    #[derive(Debug, PartialEq, Deserialize)]
    struct Place {
        name: String,
        geo: Geo,
        tags: Vec<String>,
        pop: Option<u64>,
        #[serde(default)]
        missing: Option<String>,
    }
    let dir = tempfile::tempdir().unwrap();
    let path = fixture(
        dir.path(),
        "places.json",
        br#"[{"name":"Oslo","geo":{"lat":59.9,"lon":10.75},"tags":["a","b"],"pop":709000},
             {"name":"Nowhere","geo":{"lon":0,"lat":-1.5},"tags":[],"pop":null,"extra":true}]"#,
    );
    let got: Vec<Place> = Registry::with_builtins()
        .open(&path, &OpenOptions::new())
        .unwrap()
        .deserialize()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        got,
        vec![
            Place {
                name: "Oslo".into(),
                geo: Geo {
                    lat: 59.9,
                    lon: 10.75
                },
                tags: vec!["a".into(), "b".into()],
                pop: Some(709_000),
                missing: None,
            },
            Place {
                name: "Nowhere".into(),
                geo: Geo {
                    lat: -1.5,
                    lon: 0.0
                },
                tags: vec![],
                pop: None,
                missing: None,
            },
        ]
    );
}

#[test]
fn a_bad_value_is_a_schema_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = fixture(
        dir.path(),
        "bad.csv",
        b"id,name,score,active,rank\n1,A,1,true,2\nx,B,1,true,2\n",
    );
    let mut it = Registry::with_builtins()
        .open(&path, &OpenOptions::new())
        .unwrap()
        .deserialize::<Person>();
    assert!(it.next().unwrap().is_ok());
    let err = it.next().unwrap().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Schema);
    assert!(err.message().contains("\"x\""), "{err}");
    // A missing field.
    let err = srec(&[("id", "1")]).deserialize::<Person>().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Schema);
    assert!(err.message().contains("name"), "{err}");
}

#[test]
fn to_json_and_from_json_keep_field_order() {
    let r = jrec(r#"{"zeta":1,"alpha":{"z":[1,2.5,"x",null,true],"a":{}},"mid":"m"}"#);
    let j = r.to_json();
    assert_eq!(
        serde_json::to_string(&j).unwrap(),
        r#"{"zeta":1,"alpha":{"z":[1,2.5,"x",null,true],"a":{}},"mid":"m"}"#
    );
    let back = Record::from_json(j).unwrap();
    assert_eq!(back, r);
    assert_eq!(back.names(), ["zeta", "alpha", "mid"]);
    // From parsed text, too.
    let parsed: serde_json::Value = serde_json::from_str(r#"{"b":1,"a":2}"#).unwrap();
    assert_eq!(Record::from_json(parsed).unwrap().names(), ["b", "a"]);
    // Only objects are records.
    let err = Record::from_json(serde_json::json!([1, 2])).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[test]
fn record_serializes_and_deserializes_with_serde() {
    let r = Record::from_pairs([
        ("b", Value::Int(1)),
        ("a", Value::String("x".into())),
        ("bytes", Value::Bytes(vec![0, 255])),
    ]);
    assert_eq!(
        serde_json::to_string(&r).unwrap(),
        r#"{"b":1,"a":"x","bytes":"AP8="}"#
    );
    let back: Record = serde_json::from_str(r#"{"b":1,"a":"x"}"#).unwrap();
    assert_eq!(
        back,
        Record::from_pairs([("b", Value::Int(1)), ("a", Value::from("x"))])
    );
    // From a user struct.
    let p = Record::from_serialize(&people()[0]).unwrap();
    assert_eq!(
        p,
        jrec(r#"{"id":1,"name":"Ann","score":9.5,"active":true,"rank":-3}"#)
    );
    // And back into it.
    assert_eq!(p.deserialize::<Person>().unwrap(), people()[0]);
}

#[test]
fn structs_written_through_a_writer() {
    let registry = Registry::with_builtins();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("people.csv");
    let mut w = registry.create(&out, &OpenOptions::new()).unwrap();
    for p in people() {
        w.write(&Record::from_serialize(&p).unwrap()).unwrap();
    }
    w.finish().unwrap();
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "id,name,score,active,rank\n1,Ann,9.5,true,-3\n2,Bob,,false,\n3, Cid ,0,true,7\n"
    );
    // And read back into the same structs.
    let back: Vec<Person> = registry
        .open(&out, &OpenOptions::new())
        .unwrap()
        .deserialize()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(back, people());
}

/// Dates, timestamps and decimals deserialize into chrono-like fields (from
/// their ISO-8601 text), and a decimal into a float or an integer; JSON
/// shows them as ISO strings and exact numbers.
#[test]
fn typed_values_deserialize_into_date_and_time_fields() {
    use iterable_core::{Date, Decimal, TimeUnit, Timestamp};

    #[derive(Debug, PartialEq, Deserialize)]
    struct Order {
        day: chrono::NaiveDate,
        at: chrono::DateTime<chrono::FixedOffset>,
        local: chrono::NaiveDateTime,
        price: f64,
        qty: i64,
        exact: String,
    }
    let dec = |value, scale| {
        Value::Decimal(Box::new(Decimal {
            value,
            precision: 10,
            scale,
        }))
    };
    let ts = |tz: Option<&str>| {
        Value::Timestamp(Box::new(Timestamp {
            value: 1_704_103_200_123_456,
            unit: TimeUnit::Microsecond,
            tz: tz.map(Into::into),
        }))
    };
    let r = Record::from_pairs([
        ("day", Value::Date(Date(19_753))),
        ("at", ts(Some("+02:00"))),
        ("local", ts(None)),
        ("price", dec(1_050, 2)),
        ("qty", dec(3, 0)),
        ("exact", dec(-5, 3)),
    ]);
    let o: Order = r.deserialize().unwrap();
    assert_eq!(o.day, chrono::NaiveDate::from_ymd_opt(2024, 1, 31).unwrap());
    assert_eq!(o.at.to_rfc3339(), "2024-01-01T12:00:00.123456+02:00");
    assert_eq!(o.local.to_string(), "2024-01-01 10:00:00.123456");
    assert_eq!((o.price, o.qty, o.exact.as_str()), (10.5, 3, "-0.005"));
    assert_eq!(
        serde_json::to_string(&r).unwrap(),
        r#"{"day":"2024-01-31","at":"2024-01-01T12:00:00.123456+02:00","local":"2024-01-01T10:00:00.123456","price":10.50,"qty":3,"exact":-0.005}"#
    );
}
