//! The text form of provider descriptions.
//!
//! [`FormatInfo`](crate::FormatInfo), [`CodecInfo`](crate::CodecInfo) and
//! the other descriptions read and write with serde in one shape, the one a
//! plugin manifest shows (`docs/manifest.md`): magic prefixes as spaced hex
//! (`magic` for the first, `more_magic` for the rest), `read` and `write`,
//! options as a list of `option` tables, codec levels as
//! `{ min, max, default }`. The same description then travels whole
//! through a manifest, a scan cache and a listing.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::options::{OptionSpec, OptionType};

/// Writes bytes as spaced lower-case hex: `04 22 4d 18`.
pub fn to_hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Parses hex bytes such as `"04 22 4D 18"`, `"04224d18"` or `"0x04224d18"`;
/// `None` when it is not an even number of hex digits.
pub fn parse_hex(text: &str) -> Option<Vec<u8>> {
    let digits: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ':')
        .collect();
    let digits = digits.strip_prefix("0x").unwrap_or(&digits);
    if digits.is_empty() || digits.len() % 2 != 0 {
        return None;
    }
    (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).ok())
        .collect()
}

/// Magic prefixes, flattened into their provider as `magic` (the first; a
/// 1.0 host reads only this one) and `more_magic` (the rest).
pub(crate) mod magic {
    use super::*;

    #[derive(Serialize, Deserialize, Default)]
    struct Form {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        magic: Option<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        more_magic: Vec<String>,
    }

    pub fn serialize<S: Serializer>(magics: &[Vec<u8>], s: S) -> Result<S::Ok, S::Error> {
        let mut hex = magics.iter().map(|m| to_hex(m));
        Form {
            magic: hex.next(),
            more_magic: hex.collect(),
        }
        .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<u8>>, D::Error> {
        let form = Form::deserialize(d)?;
        form.magic
            .iter()
            .chain(&form.more_magic)
            .map(|h| {
                parse_hex(h)
                    .ok_or_else(|| D::Error::custom(format!("magic {h:?} is not hex bytes")))
            })
            .collect()
    }
}

/// A codec's levels as `{ min, max, default }`.
pub(crate) mod levels {
    use super::*;

    #[derive(Serialize, Deserialize)]
    struct Form {
        min: i32,
        max: i32,
        default: i32,
    }

    pub fn serialize<S: Serializer>(
        levels: &Option<(i32, i32, i32)>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        levels
            .map(|(min, max, default)| Form { min, max, default })
            .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<(i32, i32, i32)>, D::Error> {
        Ok(Option::<Form>::deserialize(d)?.map(|f| (f.min, f.max, f.default)))
    }
}

/// An option as text: `choices` for a choice; `type` (with `min` and `max`
/// for an integer) for the other kinds than free text.
#[derive(Serialize, Deserialize)]
struct OptionForm {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    choices: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    default: Option<String>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    min: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max: Option<i64>,
}

impl Serialize for OptionSpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (kind, choices, min, max) = match &self.kind {
            OptionType::Text => (None, Vec::new(), None, None),
            OptionType::Choice(c) => (None, c.clone(), None, None),
            OptionType::Char => (Some("char"), Vec::new(), None, None),
            OptionType::Bool => (Some("bool"), Vec::new(), None, None),
            OptionType::Int { min, max } => (Some("int"), Vec::new(), Some(*min), Some(*max)),
        };
        OptionForm {
            name: self.name.clone(),
            description: self.description.clone(),
            choices,
            default: self.default.clone(),
            kind: kind.map(str::to_owned),
            min,
            max,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for OptionSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let f = OptionForm::deserialize(d)?;
        let kind = match (f.kind.as_deref(), f.choices.is_empty()) {
            (None | Some("text" | "choice"), false) => OptionType::Choice(f.choices),
            (None | Some("text"), true) => OptionType::Text,
            (Some("char"), _) => OptionType::Char,
            (Some("bool"), _) => OptionType::Bool,
            (Some("int"), _) => OptionType::Int {
                min: f.min.unwrap_or(i64::MIN),
                max: f.max.unwrap_or(i64::MAX),
            },
            (Some(other), _) => {
                return Err(D::Error::custom(format!(
                    "option '{}': unknown type {other:?} (expected text, char, bool or int)",
                    f.name
                )));
            }
        };
        Ok(OptionSpec {
            name: f.name,
            description: f.description,
            kind,
            default: f.default,
        })
    }
}

pub(crate) fn yes() -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CodecInfo, FormatInfo};

    #[test]
    fn a_format_reads_back_as_it_was_written() {
        let f = FormatInfo {
            id: "x".into(),
            description: "d".into(),
            extensions: vec!["x".into()],
            magic: vec![b"PAR1".to_vec(), vec![0, 1]],
            can_read: true,
            can_write: false,
            reads_paths: true,
            options: vec![
                OptionSpec::new("sep", OptionType::Char, "separator").default_value(";"),
                OptionSpec::new("mode", OptionType::Choice(vec!["a".into()]), "m"),
                OptionSpec::new("n", OptionType::Int { min: 1, max: 9 }, "n"),
                OptionSpec::new("t", OptionType::Text, "t"),
            ],
        };
        let text = serde_json::to_string(&f).unwrap();
        assert!(
            text.contains(r#""magic":"50 41 52 31","more_magic":["00 01"]"#),
            "{text}"
        );
        assert_eq!(serde_json::from_str::<FormatInfo>(&text).unwrap(), f);
    }

    #[test]
    fn defaults_and_bad_hex() {
        let f: FormatInfo = serde_json::from_str(r#"{"id":"x"}"#).unwrap();
        assert!(f.can_read && !f.can_write && f.magic.is_empty());
        let c: CodecInfo =
            serde_json::from_str(r#"{"id":"c","levels":{"min":1,"max":3,"default":2}}"#).unwrap();
        assert_eq!(c.levels, Some((1, 3, 2)));
        let e = serde_json::from_str::<CodecInfo>(r#"{"id":"c","magic":"zz"}"#).unwrap_err();
        assert!(
            e.to_string().contains("magic \"zz\" is not hex bytes"),
            "{e}"
        );
    }
}
