//! [`Options`]: what the user passed to a provider, checked and defaulted.

use std::fmt;
use std::str::FromStr;

use abi_stable::std_types::RSome;

use crate::abi::{OptionSpec, ROptions};
use crate::abi::{RError, RErrorKind};
use crate::sdk::error::{Error, Result};

/// Options given to a provider, as ordered key/value pairs.
///
/// For formats, the adapter has already rejected unknown keys and values
/// outside declared choices, and filled in declared defaults, so
/// `options.get("delimiter")` returns the default when the user gave none.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options(Vec<(String, String)>);

impl Options {
    /// No options.
    pub fn new() -> Self {
        Self::default()
    }
    /// Options from pairs (order kept).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
    pub(crate) fn from_roptions(options: &ROptions) -> Self {
        Self(
            options
                .iter()
                .map(|p| (p.0.to_string(), p.1.to_string()))
                .collect(),
        )
    }
    /// Sets `key` (replacing an earlier value).
    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) {
        let key = key.into();
        let value = value.into();
        self.0.retain(|(k, _)| *k != key);
        self.0.push((key, value));
    }
    /// The value of `key` (the last one if given twice).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
    /// Whether `key` was given.
    pub fn contains(&self, key: &str) -> bool {
        self.get(key).is_some()
    }
    /// The value of `key`, or `default`.
    pub fn get_or<'a>(&'a self, key: &str, default: &'a str) -> &'a str {
        self.get(key).unwrap_or(default)
    }
    /// A single character (`","`), an escape (`"\t"`, `"\n"`, `"\r"`, `"\0"`, `"\\"`)
    /// or a name (`tab`, `space`, `comma`, `semicolon`, `pipe`); `default` if absent.
    pub fn get_char(&self, key: &str, default: char) -> Result<char> {
        let Some(v) = self.get(key) else {
            return Ok(default);
        };
        let named = match v {
            "\\t" | "tab" => Some('\t'),
            "\\n" => Some('\n'),
            "\\r" => Some('\r'),
            "\\0" => Some('\0'),
            "\\\\" => Some('\\'),
            "space" => Some(' '),
            "comma" => Some(','),
            "semicolon" => Some(';'),
            "pipe" => Some('|'),
            _ => None,
        };
        if let Some(c) = named {
            return Ok(c);
        }
        let mut chars = v.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => Ok(c),
            _ => Err(Error::invalid_option(
                key,
                format!(
                    "expected a single character (or \\t, tab, space, comma, semicolon, pipe), got `{v}`"
                ),
            )),
        }
    }
    /// A boolean: `true/false`, `yes/no`, `on/off`, `1/0` (any case); `default` if absent.
    pub fn get_bool(&self, key: &str, default: bool) -> Result<bool> {
        let Some(v) = self.get(key) else {
            return Ok(default);
        };
        match v.to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" | "1" => Ok(true),
            "false" | "no" | "off" | "0" => Ok(false),
            _ => Err(Error::invalid_option(
                key,
                format!("expected true/false, yes/no, on/off or 1/0, got `{v}`"),
            )),
        }
    }
    /// Parses the value with `FromStr`; `Ok(None)` if absent.
    pub fn get_parse<T>(&self, key: &str) -> Result<Option<T>>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|e| Error::invalid_option(key, format!("invalid value `{v}`: {e}"))),
        }
    }
    /// One of `choices`; `default` if absent; an error listing the choices otherwise.
    pub fn get_choice<'a>(
        &'a self,
        key: &str,
        choices: &[&'a str],
        default: &'a str,
    ) -> Result<&'a str> {
        let Some(v) = self.get(key) else {
            return Ok(default);
        };
        match choices.iter().find(|c| **c == v) {
            Some(c) => Ok(c),
            None => Err(Error::invalid_option(
                key,
                format!(
                    "invalid value `{v}` (choose one of: {})",
                    choices.join(", ")
                ),
            )),
        }
    }
    /// The pairs, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
    /// The number of pairs.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// Whether there are no options.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Options {
    /// Checks `raw` against the `declared` options of the provider `id` of
    /// `kind` (`"format"`, `"hook"`): an undeclared key or a value outside
    /// the declared choices is an `INVALID_OPTION` error, unless `lenient`.
    /// Declared defaults are filled in.
    pub(crate) fn checked(
        raw: &ROptions,
        declared: &[OptionSpec],
        kind: &str,
        id: &str,
        lenient: bool,
    ) -> Result<Options, RError> {
        let mut opts = Options::from_roptions(raw);
        if !lenient {
            for (key, value) in opts.iter() {
                let Some(spec) = declared.iter().find(|o| o.name.as_str() == key) else {
                    let valid = if declared.is_empty() {
                        format!("this {kind} takes no options")
                    } else {
                        let names: Vec<&str> = declared.iter().map(|o| o.name.as_str()).collect();
                        format!("valid options: {}", names.join(", "))
                    };
                    return Err(RError::new(
                        RErrorKind::INVALID_OPTION,
                        format!("unknown option `{key}` for {kind} `{id}` ({valid})"),
                    ));
                };
                if !spec.choices.is_empty() && !spec.choices.iter().any(|c| c.as_str() == value) {
                    let choices: Vec<&str> = spec.choices.iter().map(|c| c.as_str()).collect();
                    return Err(RError::new(
                        RErrorKind::INVALID_OPTION,
                        format!(
                            "option `{key}`: invalid value `{value}` (choose one of: {})",
                            choices.join(", ")
                        ),
                    ));
                }
            }
        }
        for spec in declared {
            if let RSome(default) = &spec.default {
                if !opts.contains(spec.name.as_str()) {
                    opts.0.push((spec.name.to_string(), default.to_string()));
                }
            }
        }
        Ok(opts)
    }
}

/// Parses a size as users write one in an option or a setting: `512MiB`,
/// `2 GiB`, `1g`, `1.5k`, `100000000` (units of 1024, case-insensitive; a
/// size must be more than zero). The host reads its own sizes (a runner's
/// `memory_limit`) with it too, so a plugin that takes one reads it alike.
///
/// ```
/// use iterable_plugin_api::parse_bytes;
/// assert_eq!(parse_bytes("512M"), Some(512 << 20));
/// assert_eq!(parse_bytes("lots"), None);
/// ```
pub fn parse_bytes(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let num: f64 = num.parse().ok()?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        _ => return None,
    };
    (num.is_finite() && num > 0.0).then_some((num * mult as f64) as u64)
}

#[cfg(test)]
mod size_tests {
    use super::parse_bytes;

    #[test]
    fn sizes_parse_with_their_units() {
        assert_eq!(parse_bytes("512MiB"), Some(512 << 20));
        assert_eq!(parse_bytes("512M"), Some(512 << 20));
        assert_eq!(parse_bytes("2 GiB"), Some(2 << 30));
        assert_eq!(parse_bytes("2G"), Some(2 << 30));
        assert_eq!(parse_bytes("1g"), Some(1 << 30));
        assert_eq!(parse_bytes("1000"), Some(1000));
        assert_eq!(parse_bytes("1.5k"), Some(1536));
        assert_eq!(parse_bytes("lots"), None);
        assert_eq!(parse_bytes("0"), None);
    }
}
