//! The validation API: exact reports and counts for the built-in rules.

mod common;

use common::srec;
use iterable_core::{
    CheckStats, ErrorKind, FieldError, OpenOptions, Reader, Registry, Stats, ValidationMode,
    Validator,
};

const CSV: &str = "\
name,email,site,inn,ogrn
Ann,ann@example.com,https://example.com/a?b=c,7707083893,1027700132195
,bob@example,ftp://files.example.org,500100732259,304500116000157
Cid,not-an-email,example.com,7707083894,1027700132194
Dee,,,,
Eve,eve@example.org,mailto:eve@example.org,12345,304500116000158
";

fn reader(registry: &Registry) -> Reader {
    registry
        .open_stream(
            Box::new(std::io::Cursor::new(CSV)),
            Some("people.csv"),
            &OpenOptions::new(),
        )
        .unwrap()
}

fn validator(registry: &Registry) -> Validator {
    Validator::from_pairs(
        registry,
        [
            ("name", "required"),
            ("email", "common.email"),
            ("site", "common.url"),
            ("inn", "ru.org.inn"),
            ("ogrn", "ru.org.ogrn"),
        ],
    )
    .unwrap()
}

fn fe(field: &str, rule: &str, message: &str) -> FieldError {
    FieldError {
        field: field.into(),
        rule: rule.into(),
        message: message.into(),
    }
}

/// The failures of records 2, 3 and 5, exactly.
fn expected_errors() -> Vec<(u64, Vec<FieldError>)> {
    vec![
        (
            2,
            vec![
                fe("name", "required", "value is required"),
                fe(
                    "email",
                    "common.email",
                    "invalid e-mail address: the domain has no dot",
                ),
            ],
        ),
        (
            3,
            vec![
                fe(
                    "email",
                    "common.email",
                    "invalid e-mail address: Missing separator character '@'.",
                ),
                fe(
                    "site",
                    "common.url",
                    "invalid URL: relative URL without a base",
                ),
                fe("inn", "ru.org.inn", "INN checksum mismatch"),
                fe("ogrn", "ru.org.ogrn", "OGRN checksum mismatch"),
            ],
        ),
        (
            5,
            vec![
                fe(
                    "site",
                    "common.url",
                    "invalid URL: scheme 'mailto' is not http, https or ftp",
                ),
                fe(
                    "inn",
                    "ru.org.inn",
                    "INN must have 10 or 12 digits, found 5",
                ),
                fe("ogrn", "ru.org.ogrn", "OGRN checksum mismatch"),
            ],
        ),
    ]
}

fn expected_stats() -> Stats {
    let check = |field: &str, rule: &str, failed| CheckStats {
        field: field.into(),
        rule: rule.into(),
        failed,
    };
    Stats {
        total: 5,
        valid: 2,
        invalid: 3,
        checks: vec![
            check("name", "required", 1),
            check("email", "common.email", 2),
            check("site", "common.url", 2),
            check("inn", "ru.org.inn", 2),
            check("ogrn", "ru.org.ogrn", 2),
        ],
    }
}

#[test]
fn mode_invalid_yields_exact_failures() {
    let registry = Registry::with_builtins();
    let got: Vec<(u64, Vec<FieldError>)> = validator(&registry)
        .validate(reader(&registry), ValidationMode::Invalid)
        .map(|r| r.map(|r| (r.index, r.errors)))
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(got, expected_errors());
}

#[test]
fn mode_valid_yields_the_valid_records() {
    let registry = Registry::with_builtins();
    let got: Vec<_> = validator(&registry)
        .validate(reader(&registry), ValidationMode::Valid)
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let idx: Vec<u64> = got.iter().map(|r| r.index).collect();
    assert_eq!(idx, [1, 4]);
    assert!(got.iter().all(|r| r.is_valid() && r.errors.is_empty()));
    assert_eq!(
        got[0].record,
        srec(&[
            ("name", "Ann"),
            ("email", "ann@example.com"),
            ("site", "https://example.com/a?b=c"),
            ("inn", "7707083893"),
            ("ogrn", "1027700132195"),
        ])
    );
    assert_eq!(
        got[1].record,
        srec(&[
            ("name", "Dee"),
            ("email", ""),
            ("site", ""),
            ("inn", ""),
            ("ogrn", "")
        ])
    );
}

#[test]
fn mode_all_yields_every_record_in_order() {
    let registry = Registry::with_builtins();
    let mut v = validator(&registry).validate(reader(&registry), ValidationMode::All);
    let got: Vec<_> = v.by_ref().collect::<Result<Vec<_>, _>>().unwrap();
    assert_eq!(
        got.iter().map(|r| r.index).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );
    assert_eq!(
        got.iter().map(|r| r.is_valid()).collect::<Vec<_>>(),
        [true, false, false, true, false]
    );
    let invalid: Vec<(u64, Vec<FieldError>)> = got
        .into_iter()
        .filter(|r| !r.is_valid())
        .map(|r| (r.index, r.errors))
        .collect();
    assert_eq!(invalid, expected_errors());
    // The running stats are complete once the stream has ended.
    assert_eq!(v.stats(), &expected_stats());
}

#[test]
fn stats_counts_exactly() {
    let registry = Registry::with_builtins();
    assert_eq!(
        validator(&registry).stats(reader(&registry)).unwrap(),
        expected_stats()
    );
}

#[test]
fn valid_identifiers_pass() {
    let registry = Registry::with_builtins();
    let csv = "inn,ogrn\n7707083893,1027700132195\n500100732259,304500116000157\n 7707083893 ,\n";
    let reader = registry
        .open_stream(
            Box::new(std::io::Cursor::new(csv)),
            None,
            &OpenOptions::new().format("csv"),
        )
        .unwrap();
    let v =
        Validator::from_pairs(&registry, [("inn", "ru.org.inn"), ("ogrn", "ru.org.ogrn")]).unwrap();
    let stats = v.stats(reader).unwrap();
    assert_eq!((stats.total, stats.valid, stats.invalid), (3, 3, 0));
}

#[test]
fn a_missing_field_is_null_and_fails_required_only() {
    let registry = Registry::with_builtins();
    let v =
        Validator::from_pairs(&registry, [("phone", "required"), ("fax", "common.email")]).unwrap();
    let reports: Vec<_> = v
        .validate(reader(&registry), ValidationMode::Invalid)
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    assert_eq!(reports.len(), 5);
    for (i, r) in reports.iter().enumerate() {
        assert_eq!(r.index, i as u64 + 1);
        assert_eq!(r.errors, vec![fe("phone", "required", "value is required")]);
    }
}

#[test]
fn rules_apply_to_json_values() {
    let registry = Registry::with_builtins();
    let jsonl = "{\"inn\":7707083893,\"email\":\"a@b.io\"}\n{\"inn\":null,\"email\":5}\n{\"inn\":[1],\"email\":null}\n";
    let reader = registry
        .open_stream(
            Box::new(std::io::Cursor::new(jsonl)),
            Some("x.jsonl"),
            &OpenOptions::new(),
        )
        .unwrap();
    let v = Validator::from_pairs(
        &registry,
        [("inn", "ru.org.inn"), ("email", "common.email")],
    )
    .unwrap();
    let got: Vec<(u64, Vec<FieldError>)> = v
        .validate(reader, ValidationMode::Invalid)
        .map(|r| r.map(|r| (r.index, r.errors)))
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        got,
        vec![
            // Integers are checked as their digits (an INN is often a JSON number).
            (
                2,
                vec![fe(
                    "email",
                    "common.email",
                    "invalid e-mail address: Missing separator character '@'."
                )]
            ),
            (
                3,
                vec![fe("inn", "ru.org.inn", "expected text, found list")]
            ),
        ]
    );
}

#[test]
fn more_records_than_one_batch() {
    // More records than one batch (BATCH_ROWS), and failures in both.
    let registry = Registry::with_builtins();
    let mut csv = String::from("email\n");
    for i in 0..3000 {
        if i % 1000 == 999 {
            csv.push_str("broken\n");
        } else {
            csv.push_str(&format!("u{i}@example.com\n"));
        }
    }
    let reader = registry
        .open_stream(
            Box::new(std::io::Cursor::new(csv)),
            Some("big.csv"),
            &OpenOptions::new(),
        )
        .unwrap();
    let v = Validator::from_pairs(&registry, [("email", "common.email")]).unwrap();
    let idx: Vec<u64> = v
        .validate(reader, ValidationMode::Invalid)
        .map(|r| r.map(|r| r.index))
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(idx, [1000, 2000, 3000]);
}

#[test]
fn a_read_error_ends_the_validation_with_that_error() {
    let registry = Registry::with_builtins();
    let csv = "email\na@b.io\n\"open\n";
    let reader = registry
        .open_stream(
            Box::new(std::io::Cursor::new(csv)),
            Some("bad.csv"),
            &OpenOptions::new(),
        )
        .unwrap();
    let v = Validator::from_pairs(&registry, [("email", "common.email")]).unwrap();
    let err = v.stats(reader).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Parse);
    assert_eq!(err.position().line, Some(3));
}

#[test]
fn an_unknown_rule_lists_the_known_ones() {
    let registry = Registry::with_builtins();
    let err = Validator::from_pairs(&registry, [("x", "common.phone")]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownRule);
    assert_eq!(
        err.message(),
        "unknown rule 'common.phone'; known rules: required, common.email, common.url, ru.org.inn, ru.org.ogrn"
    );
}
