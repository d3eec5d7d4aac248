//! The rules through the rlib: the author-level `Rule` impls with published
//! valid identifiers and broken variants (exact messages), and once through
//! the test harness, which drives the objects a host uses after loading the
//! `.so`.

use iterable_plugin_api::prelude::*;
use iterable_plugin_api::testing::{PluginTest, Value};
use iterable_plugin_idrules::{IdRule, plugin_exports};

/// Checks a text value with `rule`.
fn check(rule: IdRule, text: &str) -> std::result::Result<(), String> {
    rule.check(CellRef::Str(text))
}

/// Asserts every value passes `rule`.
fn assert_valid(rule: IdRule, values: &[&str]) {
    for v in values {
        assert_eq!(
            check(rule, v),
            Ok(()),
            "{} should accept {v:?}",
            rule.name()
        );
    }
}

/// Asserts each `(value, message)` fails `rule` with exactly `message`.
fn assert_invalid(rule: IdRule, cases: &[(&str, &str)]) {
    for (v, message) in cases {
        assert_eq!(
            check(rule, v),
            Err(message.to_string()),
            "{} on {v:?}",
            rule.name()
        );
    }
}

#[test]
fn iban_accepts_published_examples_in_any_form() {
    assert_valid(
        IdRule::IBAN,
        &[
            "GB82 WEST 1234 5698 7654 32",
            "GB82WEST12345698765432",
            "gb82 west 1234 5698 7654 32",
            "DE89 3704 0044 0532 0130 00",
            "  DE89370400440532013000\t",
            "FR76 3000 6000 0112 3456 7890 189",
            "NL91 ABNA 0417 1643 00",
            "BE71 0961 2345 6769",
            "CH93 0076 2011 6238 5295 7",
            "NO93 8601 1117 947",
            "AT61 1904 3002 3457 3201",
            "SE45 5000 0000 0583 9825 7466",
            "ES91 2100 0418 4502 0005 1332",
            "IT60 X054 2811 1010 0000 0123 456",
            "PL61 1090 1014 0000 0712 1981 2874",
            "TR33 0006 1005 1978 6457 8413 26",
            "MT84 MALT 0110 0001 2345 MTLC AST0 01S",
        ],
    );
}

#[test]
fn iban_failures_say_what_is_wrong() {
    assert_invalid(
        IdRule::IBAN,
        &[
            ("GB82 WEST 1234 5698 7654 33", "IBAN checksum mismatch"),
            // Two digits swapped.
            ("DE89 3704 0044 0532 0103 00", "IBAN checksum mismatch"),
            (
                "DE89 3704 0044 0532 0130 0",
                "IBAN for DE must have 22 characters, found 21",
            ),
            (
                "NO93 8601 1117 9470",
                "IBAN for NO must have 15 characters, found 16",
            ),
            (
                "GB82#WEST12345698765432",
                "IBAN contains invalid character '#'",
            ),
            ("GB82-WEST-1234", "IBAN contains invalid character '-'"),
            ("DÉ89", "IBAN contains invalid character 'É'"),
            (
                "1282 WEST 1234 5698 7654 32",
                "IBAN must start with a two-letter country code, found '12'",
            ),
            (
                "G",
                "IBAN must start with a two-letter country code, found 'G'",
            ),
            // Unknown country: only the general length range is checked.
            (
                "ZZ12 3456 7890",
                "IBAN must have 15 to 34 characters, found 12",
            ),
            (
                "GBXX WEST 1234 5698 7654 32",
                "IBAN check digits must be digits, found 'XX'",
            ),
            (
                "GB01 WEST 1234 5698 7654 32",
                "IBAN check digits must be between 02 and 98, found '01'",
            ),
        ],
    );
}

#[test]
fn isbn10_checks_the_mod_11_digit() {
    assert_valid(
        IdRule::ISBN10,
        &[
            "0-306-40615-2",
            "0306406152",
            "0 306 40615 2",
            "0-8044-2957-X",
            "080442957x",
        ],
    );
    assert_invalid(
        IdRule::ISBN10,
        &[
            ("0-306-40615-3", "ISBN-10 checksum mismatch"),
            ("0-306-40615", "ISBN-10 must have 10 digits, found 9"),
            ("0-306-40615-22", "ISBN-10 must have 10 digits, found 11"),
            (
                "X-306-40615-2",
                "ISBN-10 allows 'X' only as the last character",
            ),
            ("0-306-40615_2", "ISBN-10 contains invalid character '_'"),
        ],
    );
}

#[test]
fn isbn13_checks_prefix_and_mod_10_digit() {
    assert_valid(
        IdRule::ISBN13,
        &["978-0-306-40615-7", "9780306406157", "979-10-90636-07-1"],
    );
    assert_invalid(
        IdRule::ISBN13,
        &[
            ("978-0-306-40615-8", "ISBN-13 checksum mismatch"),
            ("978-0-306-40615", "ISBN-13 must have 13 digits, found 12"),
            (
                "123-4-567-89012-8",
                "ISBN-13 must start with 978 or 979, found 123",
            ),
            (
                "978-0-306-4061X-7",
                "ISBN-13 contains invalid character 'X'",
            ),
        ],
    );
}

#[test]
fn isbn_accepts_either_form() {
    assert_valid(
        IdRule::ISBN,
        &["978-0-306-40615-7", "0-306-40615-2", "0-8044-2957-X"],
    );
    assert_invalid(
        IdRule::ISBN,
        &[
            ("978-0-306-40615-8", "ISBN-13 checksum mismatch"),
            ("0-306-40615-3", "ISBN-10 checksum mismatch"),
            ("978-0-306-4061", "ISBN must have 10 or 13 digits, found 11"),
            ("0-306-4061", "ISBN must have 10 or 13 digits, found 8"),
            ("0-306-4061?", "ISBN contains invalid character '?'"),
            // 10 characters: judged as an ISBN-10.
            ("0-306-40615?", "ISBN-10 contains invalid character '?'"),
        ],
    );
}

#[test]
fn ean13_checks_the_mod_10_digit() {
    assert_valid(
        IdRule::EAN13,
        &["4006381333931", "4 006381 333931", "5901234123457"],
    );
    assert_invalid(
        IdRule::EAN13,
        &[
            ("4006381333932", "EAN-13 checksum mismatch"),
            ("400638133393", "EAN-13 must have 13 digits, found 12"),
            ("4006381333931 7", "EAN-13 must have 13 digits, found 14"),
            ("40063813339O1", "EAN-13 contains invalid character 'O'"),
        ],
    );
}

#[test]
fn luhn_and_card() {
    assert_valid(
        IdRule::LUHN,
        &[
            "79927398713",
            "4539 3195 0343 6467",
            "4111-1111-1111-1111",
            "18",
        ],
    );
    assert_invalid(
        IdRule::LUHN,
        &[
            ("79927398710", "Luhn checksum mismatch"),
            ("4539 3195 0343 6468", "Luhn checksum mismatch"),
            ("0", "Luhn number must have at least 2 digits, found 1"),
            (
                "7992 7398 71x",
                "Luhn number contains invalid character 'x'",
            ),
        ],
    );
    assert_valid(
        IdRule::CARD,
        &[
            "4539 3195 0343 6467",
            "4111-1111-1111-1111",
            "378282246310005",
        ],
    );
    assert_invalid(
        IdRule::CARD,
        &[
            ("4539 3195 0343 6468", "Luhn checksum mismatch"),
            // A valid Luhn number, but too short for a card.
            (
                "79927398713",
                "card number must have 12 to 19 digits, found 11",
            ),
            (
                "4539 3195 0343 6467 0000",
                "card number must have 12 to 19 digits, found 20",
            ),
            (
                "4539.3195.0343.6467",
                "card number contains invalid character '.'",
            ),
        ],
    );
}

#[test]
fn empty_values_pass_every_rule() {
    for rule in IdRule::ALL {
        for value in [
            CellRef::Absent,
            CellRef::Null,
            CellRef::Str(""),
            CellRef::Str("   "),
        ] {
            assert_eq!(rule.check(value), Ok(()), "{} on {value:?}", rule.name());
        }
    }
}

#[test]
fn integers_are_checked_by_their_digits_other_types_fail() {
    assert_eq!(IdRule::EAN13.check(CellRef::Int(4006381333931)), Ok(()));
    assert_eq!(IdRule::LUHN.check(CellRef::Int(79927398713)), Ok(()));
    assert_eq!(
        IdRule::LUHN.check(CellRef::Int(79927398710)),
        Err("Luhn checksum mismatch".into())
    );
    // A leading zero is lost in an integer: ISBN-10s with one must be text.
    assert_eq!(
        IdRule::ISBN10.check(CellRef::Int(306406152)),
        Err("ISBN-10 must have 10 digits, found 9".into())
    );
    assert_eq!(
        IdRule::LUHN.check(CellRef::Int(-79927398713)),
        Err("expected text, found negative int -79927398713".into())
    );
    let list = RValue::List(Default::default());
    let ext = RValue::ext("decimal", b"12");
    for (value, found) in [
        (CellRef::Float(1.5), "float"),
        (CellRef::Bool(true), "bool"),
        (CellRef::Bytes(b"4006381333931"), "bytes"),
        (CellRef::Nested(&list), "list"),
        (CellRef::Nested(&ext), "decimal"),
    ] {
        for rule in IdRule::ALL {
            assert_eq!(
                rule.check(value),
                Err(format!("expected text, found {found}")),
                "{}",
                rule.name()
            );
        }
    }
}

/// The rules' names, in the order the plugin exports them.
const NAMES: [&str; 7] = [
    "id.iban",
    "id.isbn10",
    "id.isbn13",
    "id.isbn",
    "id.ean13",
    "id.luhn",
    "id.card",
];

#[test]
fn rules_are_named_and_described() {
    let names: Vec<String> = IdRule::ALL
        .iter()
        .map(|r| r.info().into_info().name.to_string())
        .collect();
    assert_eq!(names, NAMES);
    for rule in IdRule::ALL {
        assert!(!rule.info().into_info().description.is_empty());
    }
}

#[test]
fn the_library_checks_a_whole_batch_in_one_call() {
    let t = PluginTest::new(plugin_exports());
    let meta = t.metadata().unwrap();
    assert_eq!(meta.name.as_str(), "idrules");
    assert_eq!(meta.license.as_str(), "MIT OR Apache-2.0");
    assert_eq!(t.provides().unwrap().rules, NAMES);
    let got = t
        .check(
            "id.iban",
            &[
                Value::from("GB82 WEST 1234 5698 7654 32"),
                Value::from("GB82 WEST 1234 5698 7654 33"),
                Value::Null,
                Value::from("DE89 3704 0044 0532 0130 0"),
                Value::Float(2.5),
                Value::from("de89370400440532013000"),
            ],
        )
        .unwrap();
    assert_eq!(
        got,
        [
            None,
            Some("IBAN checksum mismatch".to_owned()),
            None,
            Some("IBAN for DE must have 22 characters, found 21".to_owned()),
            Some("expected text, found float".to_owned()),
            None,
        ]
    );
}

#[test]
fn manifest_declares_every_rule_the_library_provides() {
    let manifest = include_str!("../plugin.toml");
    let value = |line: &str, key: &str| -> Option<String> {
        let v = line.strip_prefix(key)?.strip_prefix(" = \"")?;
        Some(v.strip_suffix('"')?.to_string())
    };
    // Each [[rule]] table: its name line, then its description line.
    let lines: Vec<&str> = manifest.lines().collect();
    let declared: Vec<(String, String)> = lines
        .windows(3)
        .filter(|w| w[0] == "[[rule]]")
        .map(|w| {
            (
                value(w[1], "name").unwrap(),
                value(w[2], "description").unwrap(),
            )
        })
        .collect();
    let provided: Vec<(String, String)> = IdRule::ALL
        .iter()
        .map(|r| {
            let info = r.info().into_info();
            (info.name.to_string(), info.description.to_string())
        })
        .collect();
    assert_eq!(declared, provided);
    assert!(manifest.contains("\nname = \"idrules\"\n"));
    assert!(manifest.contains(&format!("\nversion = \"{}\"\n", env!("CARGO_PKG_VERSION"))));
    assert!(manifest.contains("\napi_version = \"1.1\"\n"));
    assert!(manifest.contains("\nlibrary = \"libiterable_plugin_idrules.so\"\n"));
}
