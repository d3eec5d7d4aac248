//! Reader and writer options, and their declared specifications.
//!
//! Every provider declares the options it takes ([`OptionSpec`]). The registry
//! checks the options a caller passes against those declarations before it
//! opens anything, so an unknown option or a bad value is an error that names
//! the option and the valid choices, never silently dropped.

use crate::error::{Error, ErrorKind, Result};

/// What an option accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OptionType {
    /// Any text.
    Text,
    /// A single character (a delimiter or quote); `\t` and `tab` mean a tab.
    Char,
    /// `true`/`false` (also `yes`/`no`, `on`/`off`, `1`/`0`).
    Bool,
    /// An integer within a range.
    Int {
        /// Smallest value allowed.
        min: i64,
        /// Largest value allowed.
        max: i64,
    },
    /// One of a fixed list of values.
    Choice(Vec<String>),
}

/// The declaration of one option. Its text form (serde) is a manifest's
/// `[[format.option]]` table; see [`crate::describe`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OptionSpec {
    /// The key, as given with `--option KEY=VALUE`.
    pub name: String,
    /// What the option does.
    pub description: String,
    /// What values are accepted.
    pub kind: OptionType,
    /// The default, shown in help.
    pub default: Option<String>,
}

impl OptionSpec {
    /// A new option declaration.
    pub fn new(name: &str, kind: OptionType, description: &str) -> Self {
        OptionSpec {
            name: name.to_owned(),
            description: description.to_owned(),
            kind,
            default: None,
        }
    }

    /// Sets the default shown in help.
    pub fn default_value(mut self, d: &str) -> Self {
        self.default = Some(d.to_owned());
        self
    }

    /// Checks a value against the declaration.
    pub fn check(&self, value: &str) -> Result<()> {
        let bad = |expected: String| {
            Error::new(
                ErrorKind::InvalidOption,
                format!(
                    "invalid value {value:?} for option '{}': expected {expected}",
                    self.name
                ),
            )
        };
        match &self.kind {
            OptionType::Text => Ok(()),
            OptionType::Char => parse_char(value)
                .map(|_| ())
                .ok_or_else(|| bad("a single character (or \\t)".into())),
            OptionType::Bool => parse_bool(value)
                .map(|_| ())
                .ok_or_else(|| bad("true or false".into())),
            OptionType::Int { min, max } => match value.trim().parse::<i64>() {
                Ok(n) if (*min..=*max).contains(&n) => Ok(()),
                _ => Err(bad(format!("an integer from {min} to {max}"))),
            },
            OptionType::Choice(choices) => {
                if choices.iter().any(|c| c.eq_ignore_ascii_case(value)) {
                    Ok(())
                } else {
                    Err(bad(format!("one of {}", choices.join(", "))))
                }
            }
        }
    }
}

/// Parses a character option: one char, or `\t`, `tab`, `\\t`.
pub fn parse_char(value: &str) -> Option<char> {
    match value {
        "\\t" | "tab" | "TAB" => Some('\t'),
        "\\n" => Some('\n'),
        "pipe" => Some('|'),
        "comma" => Some(','),
        "semicolon" => Some(';'),
        "space" => Some(' '),
        _ => {
            let mut chars = value.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => Some(c),
                _ => None,
            }
        }
    }
}

/// Parses a boolean option value.
pub fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Some(true),
        "false" | "no" | "off" | "0" => Some(false),
        _ => None,
    }
}

/// Options given to a reader or writer: ordered `key=value` pairs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    pairs: Vec<(String, String)>,
}

impl Options {
    /// No options.
    pub fn new() -> Self {
        Options::default()
    }

    /// Sets an option, replacing an earlier value of the same key.
    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) -> &mut Self {
        let key = key.into();
        let value = value.into();
        match self.pairs.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.pairs.push((key, value)),
        }
        self
    }

    /// Builder form of [`Options::set`].
    pub fn with(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.set(key, value);
        self
    }

    /// Parses `KEY=VALUE`.
    pub fn parse_pair(text: &str) -> Result<(String, String)> {
        match text.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_owned(), v.to_owned())),
            _ => Err(Error::new(
                ErrorKind::InvalidOption,
                format!("option {text:?} is not of the form KEY=VALUE"),
            )),
        }
    }

    /// The raw value of an option.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// True when the option is set.
    pub fn contains(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// All pairs, in the order they were set.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// True when no option is set.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// A character option, or its default.
    pub fn char_or(&self, key: &str, default: char) -> Result<char> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => parse_char(v).ok_or_else(|| invalid(key, v, "a single character (or \\t)")),
        }
    }

    /// A boolean option, or its default.
    pub fn bool_or(&self, key: &str, default: bool) -> Result<bool> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => parse_bool(v).ok_or_else(|| invalid(key, v, "true or false")),
        }
    }

    /// An integer option, or its default.
    pub fn int_or(&self, key: &str, default: i64) -> Result<i64> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v.trim().parse().map_err(|_| invalid(key, v, "an integer")),
        }
    }

    /// Keeps only the options whose keys are in `keys`, returning them; the
    /// rest stay in `self`.
    pub fn split_off(&mut self, keys: &[&str]) -> Options {
        let (taken, kept) = std::mem::take(&mut self.pairs)
            .into_iter()
            .partition(|(k, _)| keys.contains(&k.as_str()));
        self.pairs = kept;
        Options { pairs: taken }
    }

    /// Checks every option against the specs of the components that will
    /// receive them. `what` names those components in the error.
    pub fn validate(&self, specs: &[&OptionSpec], what: &str) -> Result<()> {
        for (k, v) in self.iter() {
            match specs.iter().find(|s| s.name == k) {
                Some(spec) => spec.check(v)?,
                None => {
                    let mut names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
                    names.sort_unstable();
                    names.dedup();
                    let valid = if names.is_empty() {
                        "it takes no options".to_owned()
                    } else {
                        format!("valid options: {}", names.join(", "))
                    };
                    return Err(Error::new(
                        ErrorKind::UnknownOption,
                        format!("unknown option '{k}' for {what}; {valid}"),
                    ));
                }
            }
        }
        Ok(())
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Options {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut o = Options::new();
        for (k, v) in iter {
            o.set(k, v);
        }
        o
    }
}

fn invalid(key: &str, value: &str, expected: &str) -> Error {
    Error::new(
        ErrorKind::InvalidOption,
        format!("invalid value {value:?} for option '{key}': expected {expected}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_option_lists_valid_ones() {
        let spec = OptionSpec::new("delimiter", OptionType::Char, "field separator");
        let o = Options::new().with("delimeter", ";");
        let e = o.validate(&[&spec], "format 'csv'").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UnknownOption);
        assert_eq!(
            e.message(),
            "unknown option 'delimeter' for format 'csv'; valid options: delimiter"
        );
    }

    #[test]
    fn bad_values_name_the_choices() {
        let spec = OptionSpec::new("mode", OptionType::Choice(vec!["a".into(), "b".into()]), "");
        let e = Options::new()
            .with("mode", "c")
            .validate(&[&spec], "x")
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidOption);
        assert!(e.message().contains("one of a, b"));
        let int = OptionSpec::new("level", OptionType::Int { min: 1, max: 9 }, "");
        assert!(int.check("10").is_err());
        assert!(int.check("9").is_ok());
    }

    #[test]
    fn chars_and_bools() {
        let o = Options::new().with("d", "\\t").with("h", "off");
        assert_eq!(o.char_or("d", ',').unwrap(), '\t');
        assert!(!o.bool_or("h", true).unwrap());
        assert_eq!(o.char_or("x", ',').unwrap(), ',');
        assert!(Options::parse_pair("novalue").is_err());
        assert_eq!(
            Options::parse_pair("a=b=c").unwrap(),
            ("a".into(), "b=c".into())
        );
    }
}
