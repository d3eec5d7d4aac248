//! The text of typed values: ISO-8601 dates, times and timestamps, plain
//! decimals (what the host shows in CSV and JSON, too).

use std::fmt;

use jiff::tz::TimeZone;

use crate::abi::typed::{Typed, Unit};

fn per_second(u: Unit) -> i64 {
    match u {
        Unit::Second => 1,
        Unit::Millisecond => 1_000,
        Unit::Microsecond => 1_000_000,
        Unit::Nanosecond => 1_000_000_000,
    }
}

fn digits(u: Unit) -> usize {
    match u {
        Unit::Second => 0,
        Unit::Millisecond => 3,
        Unit::Microsecond => 6,
        Unit::Nanosecond => 9,
    }
}

/// `.fff` for `n` units of a second, trailing zeros removed; nothing for 0.
fn fraction(f: &mut fmt::Formatter<'_>, n: i64, unit: Unit) -> fmt::Result {
    if n == 0 {
        return Ok(());
    }
    let d = format!("{n:0width$}", width = digits(unit));
    write!(f, ".{}", d.trim_end_matches('0'))
}

fn zone(tz: &str) -> TimeZone {
    if tz.eq_ignore_ascii_case("utc") || tz == "Z" {
        return TimeZone::UTC;
    }
    let offset = tz
        .strip_prefix('+')
        .map(|r| (1, r))
        .or_else(|| tz.strip_prefix('-').map(|r| (-1, r)))
        .and_then(|(sign, r)| {
            let d: String = r.chars().filter(|c| *c != ':').collect();
            let h: i32 = d.get(..2)?.parse().ok()?;
            let m: i32 = d.get(2..4)?.parse().ok()?;
            jiff::tz::Offset::from_seconds(sign * (h * 3600 + m * 60)).ok()
        });
    match offset {
        Some(o) => TimeZone::fixed(o),
        None => TimeZone::get(tz).unwrap_or(TimeZone::UTC),
    }
}

/// ISO-8601 for dates (`2024-01-31`), times (`13:05:07.25`) and timestamps
/// (`2024-01-31T13:05:07.25+01:00`, or without a zone when it has none);
/// plain notation for decimals (`123.45`).
impl fmt::Display for Typed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Typed::Date(d) => match jiff::Timestamp::from_second(i64::from(*d) * 86_400) {
                Ok(ts) => write!(f, "{}", ts.to_zoned(TimeZone::UTC).date()),
                Err(_) => write!(f, "{d} days after 1970-01-01"),
            },
            Typed::Time { unit, value } => {
                let per = per_second(*unit);
                let (s, frac) = (value.div_euclid(per), value.rem_euclid(per));
                write!(f, "{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)?;
                fraction(f, frac, *unit)
            }
            Typed::Timestamp { unit, value, tz } => {
                let per = per_second(*unit);
                let (s, frac) = (value.div_euclid(per), value.rem_euclid(per));
                let Ok(at) = jiff::Timestamp::new(s, (frac * (1_000_000_000 / per)) as i32) else {
                    return write!(f, "{value} units after 1970-01-01");
                };
                let zoned = at.to_zoned(tz.as_deref().map_or(TimeZone::UTC, zone));
                write!(f, "{}", zoned.strftime("%Y-%m-%dT%H:%M:%S"))?;
                fraction(f, frac, *unit)?;
                if tz.is_none() {
                    return Ok(());
                }
                match zoned.offset().seconds() {
                    0 => f.write_str("Z"),
                    o => write!(
                        f,
                        "{}{:02}:{:02}",
                        if o < 0 { '-' } else { '+' },
                        o.abs() / 3600,
                        o.abs() / 60 % 60
                    ),
                }
            }
            Typed::Decimal { value, scale, .. } => {
                let digits = value.unsigned_abs().to_string();
                if *value < 0 {
                    f.write_str("-")?;
                }
                let scale = i32::from(*scale);
                if scale <= 0 {
                    f.write_str(&digits)?;
                    if digits != "0" {
                        f.write_str(&"0".repeat(-scale as usize))?;
                    }
                    return Ok(());
                }
                let scale = scale as usize;
                if digits.len() > scale {
                    let (i, d) = digits.split_at(digits.len() - scale);
                    write!(f, "{i}.{d}")
                } else {
                    write!(f, "0.{}{digits}", "0".repeat(scale - digits.len()))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_forms() {
        assert_eq!(Typed::Date(19_753).to_string(), "2024-01-31");
        let ts = |value, tz: Option<&str>| {
            Typed::Timestamp {
                unit: Unit::Microsecond,
                value,
                tz: tz.map(str::to_owned),
            }
            .to_string()
        };
        assert_eq!(
            ts(1_704_103_200_123_456, None),
            "2024-01-01T10:00:00.123456"
        );
        assert_eq!(
            ts(1_704_103_200_000_000, Some("+02:00")),
            "2024-01-01T12:00:00+02:00"
        );
        assert_eq!(ts(0, Some("UTC")), "1970-01-01T00:00:00Z");
        let t = Typed::Time {
            unit: Unit::Millisecond,
            value: 47_107_250,
        };
        assert_eq!(t.to_string(), "13:05:07.25");
        let d = |value, scale| {
            Typed::Decimal {
                value,
                precision: 10,
                scale,
            }
            .to_string()
        };
        assert_eq!(
            (d(12_345, 2), d(-5, 3), d(12, -2)),
            ("123.45".into(), "-0.005".into(), "1200".into())
        );
    }
}
