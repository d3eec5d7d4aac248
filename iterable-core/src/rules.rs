//! Built-in validation rules.
//!
//! Rules other than `required` accept an empty value (null or ""): whether a
//! field must be present is `required`'s job, so rules compose.

use crate::provider::{Rule, RuleInfo};
use crate::value::Value;

/// A rule from a name, a description and a check on text.
struct TextRule {
    info: RuleInfo,
    check: fn(&str) -> Result<(), String>,
}

impl Rule for TextRule {
    fn info(&self) -> &RuleInfo {
        &self.info
    }

    fn check(&self, value: &Value) -> Result<(), String> {
        if value.is_empty() {
            return Ok(());
        }
        match value {
            Value::String(s) => (self.check)(s.trim()),
            Value::Int(i) => (self.check)(&i.to_string()),
            other => Err(format!("expected text, found {}", other.type_name())),
        }
    }
}

/// `required`: the field is present and neither null nor empty.
struct Required {
    info: RuleInfo,
}

impl Rule for Required {
    fn info(&self) -> &RuleInfo {
        &self.info
    }

    fn check(&self, value: &Value) -> Result<(), String> {
        if value.is_empty() {
            Err("value is required".into())
        } else {
            Ok(())
        }
    }
}

fn info(name: &str, description: &str) -> RuleInfo {
    RuleInfo {
        name: name.into(),
        description: description.into(),
    }
}

/// The built-in rules.
pub fn builtin_rules() -> Vec<std::sync::Arc<dyn Rule>> {
    vec![
        std::sync::Arc::new(Required {
            info: info("required", "the value is present and not empty"),
        }),
        std::sync::Arc::new(TextRule {
            info: info("common.email", "an e-mail address (RFC 5322 addr-spec)"),
            check: check_email,
        }),
        std::sync::Arc::new(TextRule {
            info: info(
                "common.url",
                "an absolute http, https or ftp URL with a host",
            ),
            check: check_url,
        }),
        std::sync::Arc::new(TextRule {
            info: info(
                "ru.org.inn",
                "a Russian taxpayer number (INN): 10 or 12 digits with checksum",
            ),
            check: check_inn,
        }),
        std::sync::Arc::new(TextRule {
            info: info(
                "ru.org.ogrn",
                "a Russian state registration number (OGRN 13 digits, OGRNIP 15 digits) with checksum",
            ),
            check: check_ogrn,
        }),
    ]
}

fn check_email(s: &str) -> Result<(), String> {
    let addr: email_address::EmailAddress = s
        .parse()
        .map_err(|e| format!("invalid e-mail address: {e}"))?;
    // Addresses without a dot in the domain are valid RFC-wise but are
    // almost always typos in data; require one.
    if !addr.domain().contains('.') {
        return Err("invalid e-mail address: the domain has no dot".into());
    }
    Ok(())
}

fn check_url(s: &str) -> Result<(), String> {
    let url = url::Url::parse(s).map_err(|e| format!("invalid URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https" | "ftp") {
        return Err(format!(
            "invalid URL: scheme '{}' is not http, https or ftp",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("invalid URL: no host".into());
    }
    Ok(())
}

fn digits(s: &str) -> Option<Vec<u32>> {
    s.chars().map(|c| c.to_digit(10)).collect()
}

fn weighted(d: &[u32], weights: &[u32]) -> u32 {
    let sum: u32 = d.iter().zip(weights).map(|(a, b)| a * b).sum();
    sum % 11 % 10
}

fn check_inn(s: &str) -> Result<(), String> {
    let d = digits(s).ok_or("INN must contain only digits")?;
    match d.len() {
        10 => {
            let c = weighted(&d, &[2, 4, 10, 3, 5, 9, 4, 6, 8]);
            if c == d[9] {
                Ok(())
            } else {
                Err("INN checksum mismatch".into())
            }
        }
        12 => {
            let c11 = weighted(&d, &[7, 2, 4, 10, 3, 5, 9, 4, 6, 8]);
            let c12 = weighted(&d, &[3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8]);
            if c11 == d[10] && c12 == d[11] {
                Ok(())
            } else {
                Err("INN checksum mismatch".into())
            }
        }
        n => Err(format!("INN must have 10 or 12 digits, found {n}")),
    }
}

fn check_ogrn(s: &str) -> Result<(), String> {
    let d = digits(s).ok_or("OGRN must contain only digits")?;
    let (body, modulus) = match d.len() {
        13 => (12, 11u64),
        15 => (14, 13u64),
        n => {
            return Err(format!(
                "OGRN must have 13 (OGRN) or 15 (OGRNIP) digits, found {n}"
            ));
        }
    };
    let number = d[..body].iter().fold(0u64, |acc, &x| acc * 10 + x as u64);
    let check = (number % modulus % 10) as u32;
    if check == d[body] {
        Ok(())
    } else {
        Err("OGRN checksum mismatch".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(name: &str) -> std::sync::Arc<dyn Rule> {
        builtin_rules()
            .into_iter()
            .find(|r| r.info().name == name)
            .unwrap()
    }

    fn ok(name: &str, v: &str) -> bool {
        rule(name).check(&Value::from(v)).is_ok()
    }

    #[test]
    fn inn_checksums() {
        // Published example numbers with valid checksums.
        assert!(ok("ru.org.inn", "7707083893"));
        assert!(ok("ru.org.inn", "500100732259"));
        assert_eq!(
            rule("ru.org.inn").check(&Value::from("7707083894")),
            Err("INN checksum mismatch".into())
        );
        assert!(!ok("ru.org.inn", "500100732258"));
        assert!(!ok("ru.org.inn", "12345"));
        assert!(!ok("ru.org.inn", "77070838x3"));
    }

    #[test]
    fn ogrn_checksums() {
        assert!(ok("ru.org.ogrn", "1027700132195"));
        assert!(ok("ru.org.ogrn", "304500116000157"));
        assert!(!ok("ru.org.ogrn", "1027700132194"));
        assert!(!ok("ru.org.ogrn", "304500116000158"));
        assert!(!ok("ru.org.ogrn", "10277001321"));
    }

    #[test]
    fn email_and_url() {
        assert!(ok("common.email", "ann@example.com"));
        assert!(!ok("common.email", "ann@"));
        assert!(!ok("common.email", "ann@localhost"));
        assert!(!ok("common.email", "not an email"));
        assert!(ok("common.url", "https://example.com/a?b=c"));
        assert!(!ok("common.url", "example.com"));
        assert!(!ok("common.url", "mailto:ann@example.com"));
    }

    #[test]
    fn required_and_empty_values() {
        assert!(!ok("required", ""));
        assert!(rule("required").check(&Value::Null).is_err());
        assert!(ok("required", "x"));
        // Other rules leave emptiness to `required`.
        assert!(ok("common.email", ""));
    }
}
