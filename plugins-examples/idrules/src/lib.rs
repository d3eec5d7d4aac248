//! Validation rules for identifiers with real check digits:
//!
//! | rule        | what                                                        |
//! |-------------|-------------------------------------------------------------|
//! | `id.iban`   | IBAN (ISO 13616): mod-97 check, length per country          |
//! | `id.isbn10` | ISBN-10: weights 10..1, mod 11, `X` = 10 as the check digit |
//! | `id.isbn13` | ISBN-13: prefix 978/979, weights 1,3, mod 10                |
//! | `id.isbn`   | either ISBN form, chosen by the number of digits            |
//! | `id.ean13`  | EAN-13 (GTIN-13): weights 1,3, mod 10                       |
//! | `id.luhn`   | any Luhn-checked number (at least 2 digits)                 |
//! | `id.card`   | a payment card number: 12 to 19 digits, Luhn-checked        |
//!
//! Print forms are accepted: spaces in an IBAN (any case), spaces and
//! hyphens in the others. Leading and trailing whitespace is ignored.
//!
//! Empty values pass (absent, null, `""`, blanks): whether a value must be
//! there is the built-in `required` rule's job, so rules compose. Integers
//! are checked by their decimal digits (so an ISBN-10 that starts with 0
//! must be text); other types fail with `expected text, found <type>`.
//!
//! The checks are also plain functions ([`check_iban`], [`check_isbn10`],
//! ...), usable without the plugin machinery.

use iterable_plugin_api::RValue;
use iterable_plugin_api::prelude::*;

mod gtin;
mod iban;
mod luhn;

pub use gtin::{check_ean13, check_isbn, check_isbn10, check_isbn13};
pub use iban::{check_iban, iban_length};
pub use luhn::{check_card, check_luhn, luhn_valid};

/// One validation rule: a dotted name, a description and a check on the
/// (trimmed, non-empty) text of a value.
#[derive(Clone, Copy, Debug)]
pub struct IdRule {
    name: &'static str,
    description: &'static str,
    check: fn(&str) -> std::result::Result<(), String>,
}

impl IdRule {
    /// `id.iban`.
    pub const IBAN: IdRule = IdRule {
        name: "id.iban",
        description: "an IBAN (ISO 13616): mod-97 checksum and length per country; spaces allowed",
        check: check_iban,
    };
    /// `id.isbn10`.
    pub const ISBN10: IdRule = IdRule {
        name: "id.isbn10",
        description: "an ISBN-10 with its mod-11 check digit (0-9 or X); hyphens allowed",
        check: check_isbn10,
    };
    /// `id.isbn13`.
    pub const ISBN13: IdRule = IdRule {
        name: "id.isbn13",
        description: "an ISBN-13 (978/979) with its mod-10 check digit; hyphens allowed",
        check: check_isbn13,
    };
    /// `id.isbn`.
    pub const ISBN: IdRule = IdRule {
        name: "id.isbn",
        description: "an ISBN-10 or ISBN-13 with its check digit; hyphens allowed",
        check: check_isbn,
    };
    /// `id.ean13`.
    pub const EAN13: IdRule = IdRule {
        name: "id.ean13",
        description: "an EAN-13 (GTIN-13) barcode number with its check digit",
        check: check_ean13,
    };
    /// `id.luhn`.
    pub const LUHN: IdRule = IdRule {
        name: "id.luhn",
        description: "a number with a Luhn (mod 10) check digit; spaces and hyphens allowed",
        check: check_luhn,
    };
    /// `id.card`.
    pub const CARD: IdRule = IdRule {
        name: "id.card",
        description: "a payment card number: 12 to 19 digits with a Luhn check digit",
        check: check_card,
    };
    /// Every rule, in the order the plugin exports them.
    pub const ALL: [IdRule; 7] = [
        Self::IBAN,
        Self::ISBN10,
        Self::ISBN13,
        Self::ISBN,
        Self::EAN13,
        Self::LUHN,
        Self::CARD,
    ];

    /// The rule's dotted name.
    pub fn name(&self) -> &'static str {
        self.name
    }
}

/// A short name of a value's type, for messages.
fn type_name(value: &CellRef<'_>) -> String {
    match value {
        CellRef::Absent => "nothing".into(),
        CellRef::Null => "null".into(),
        CellRef::Bool(_) => "bool".into(),
        CellRef::Int(_) => "int".into(),
        CellRef::Float(_) => "float".into(),
        CellRef::Str(_) => "string".into(),
        CellRef::Bytes(_) => "bytes".into(),
        CellRef::Nested(RValue::List(_)) => "list".into(),
        CellRef::Nested(RValue::Map(_)) => "map".into(),
        CellRef::Nested(RValue::Ext(name, _)) => name.to_string(),
        CellRef::Nested(_) => "nested value".into(),
    }
}

impl Rule for IdRule {
    fn info(&self) -> RuleSpec {
        RuleSpec::new(self.name).description(self.description)
    }

    fn check(&self, value: CellRef<'_>) -> std::result::Result<(), String> {
        match value {
            CellRef::Absent | CellRef::Null => Ok(()),
            CellRef::Str(s) if s.trim().is_empty() => Ok(()),
            CellRef::Str(s) => (self.check)(s.trim()),
            CellRef::Int(i) if i < 0 => Err(format!("expected text, found negative int {i}")),
            CellRef::Int(i) => (self.check)(&i.to_string()),
            other => Err(format!("expected text, found {}", type_name(&other))),
        }
    }
}

/// The decimal digits of `text`, skipping spaces and hyphens; `what` names
/// the identifier in the error for any other character.
pub(crate) fn digits(text: &str, what: &str) -> std::result::Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars().filter(|c| !matches!(c, ' ' | '-')) {
        match c.to_digit(10) {
            Some(d) => out.push(d as u8),
            None => return Err(format!("{what} contains invalid character {c:?}")),
        }
    }
    Ok(out)
}

export_plugin! {
    name: "idrules",
    version: env!("CARGO_PKG_VERSION"),
    description: "Validation rules for IBAN, ISBN, EAN-13 and Luhn-checked numbers",
    author: "IterableData for Rust contributors",
    license: "MIT OR Apache-2.0",
    homepage: "https://example.invalid/iterabledata-rs",
    rules: [
        IdRule::IBAN,
        IdRule::ISBN10,
        IdRule::ISBN13,
        IdRule::ISBN,
        IdRule::EAN13,
        IdRule::LUHN,
        IdRule::CARD,
    ],
}
