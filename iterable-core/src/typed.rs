//! Typed scalar values: dates, times of day, timestamps and exact decimals.
//!
//! Each keeps what Arrow and Parquet keep, so a value read from a typed
//! format and written to another keeps its meaning exactly: a timestamp's
//! unit and time zone, a decimal's precision and scale. Text forms are
//! ISO-8601 (dates, times, timestamps) and plain decimal notation.

use std::fmt;
use std::sync::Arc;

use jiff::tz::TimeZone;

/// The unit of a time of day or a timestamp.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TimeUnit {
    /// Seconds.
    Second,
    /// Milliseconds.
    Millisecond,
    /// Microseconds.
    Microsecond,
    /// Nanoseconds.
    Nanosecond,
}

impl TimeUnit {
    /// How many of this unit make a second.
    pub fn per_second(self) -> i64 {
        match self {
            TimeUnit::Second => 1,
            TimeUnit::Millisecond => 1_000,
            TimeUnit::Microsecond => 1_000_000,
            TimeUnit::Nanosecond => 1_000_000_000,
        }
    }

    /// The number of fractional digits of a second this unit has.
    pub fn digits(self) -> usize {
        match self {
            TimeUnit::Second => 0,
            TimeUnit::Millisecond => 3,
            TimeUnit::Microsecond => 6,
            TimeUnit::Nanosecond => 9,
        }
    }

    /// The short name: `s`, `ms`, `us`, `ns`.
    pub fn name(self) -> &'static str {
        match self {
            TimeUnit::Second => "s",
            TimeUnit::Millisecond => "ms",
            TimeUnit::Microsecond => "us",
            TimeUnit::Nanosecond => "ns",
        }
    }

    /// The unit of a short name (`s`, `ms`, `us`, `ns`).
    pub fn from_name(name: &str) -> Option<TimeUnit> {
        Some(match name {
            "s" => TimeUnit::Second,
            "ms" => TimeUnit::Millisecond,
            "us" => TimeUnit::Microsecond,
            "ns" => TimeUnit::Nanosecond,
            _ => return None,
        })
    }
}

/// Writes `n` units of a second as `.fff` with the unit's digits, trailing
/// zeros removed, or nothing when it is zero.
fn write_fraction(f: &mut fmt::Formatter<'_>, n: i64, unit: TimeUnit) -> fmt::Result {
    if n == 0 {
        return Ok(());
    }
    let digits = format!("{n:0width$}", width = unit.digits());
    write!(f, ".{}", digits.trim_end_matches('0'))
}

/// A calendar date: days since 1970-01-01 (Arrow's `date32`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Date(pub i32);

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match jiff::Timestamp::from_second(i64::from(self.0) * 86_400) {
            Ok(ts) => write!(f, "{}", ts.to_zoned(TimeZone::UTC).date()),
            // Outside years -9999..=9999: the day number itself.
            Err(_) => write!(f, "{} days after 1970-01-01", self.0),
        }
    }
}

/// A time of day: units since midnight (Arrow's `time32`/`time64`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Time {
    /// Units since midnight.
    pub value: i64,
    /// The unit.
    pub unit: TimeUnit,
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let per = self.unit.per_second();
        let (secs, frac) = (self.value.div_euclid(per), self.value.rem_euclid(per));
        write!(
            f,
            "{:02}:{:02}:{:02}",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        )?;
        write_fraction(f, frac, self.unit)
    }
}

/// A point in time: units since 1970-01-01T00:00:00 UTC, with the time zone
/// it is shown in (Arrow's `timestamp(unit, tz)`). Without a time zone it is
/// a wall-clock date and time, shown as it is.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Timestamp {
    /// Units since the epoch.
    pub value: i64,
    /// The unit.
    pub unit: TimeUnit,
    /// An IANA name (`Europe/Paris`), `UTC`, or an offset (`+02:00`).
    pub tz: Option<Arc<str>>,
}

impl Timestamp {
    fn instant(&self) -> Option<jiff::Timestamp> {
        let per = self.unit.per_second();
        let (secs, frac) = (self.value.div_euclid(per), self.value.rem_euclid(per));
        let nanos = frac * (1_000_000_000 / per);
        jiff::Timestamp::new(secs, nanos as i32).ok()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(instant) = self.instant() else {
            return write!(f, "{} {} after 1970-01-01", self.value, self.unit.name());
        };
        let per = self.unit.per_second();
        let frac = self.value.rem_euclid(per);
        let Some(tz) = &self.tz else {
            let dt = instant.to_zoned(TimeZone::UTC).datetime();
            write!(f, "{}", dt.strftime("%Y-%m-%dT%H:%M:%S"))?;
            return write_fraction(f, frac, self.unit);
        };
        let zone = zone_of(tz);
        let zoned = instant.to_zoned(zone);
        write!(f, "{}", zoned.strftime("%Y-%m-%dT%H:%M:%S"))?;
        write_fraction(f, frac, self.unit)?;
        let offset = zoned.offset().seconds();
        if offset == 0 {
            f.write_str("Z")
        } else {
            let sign = if offset < 0 { '-' } else { '+' };
            let o = offset.abs();
            write!(f, "{sign}{:02}:{:02}", o / 3600, o / 60 % 60)
        }
    }
}

/// The time zone a timestamp names: an offset (`+02:00`), a name from the
/// system's database, or UTC when neither is known.
fn zone_of(tz: &str) -> TimeZone {
    if tz.eq_ignore_ascii_case("utc") || tz == "Z" {
        return TimeZone::UTC;
    }
    if let Some(offset) = parse_offset(tz) {
        if let Ok(o) = jiff::tz::Offset::from_seconds(offset) {
            return TimeZone::fixed(o);
        }
    }
    TimeZone::get(tz).unwrap_or(TimeZone::UTC)
}

/// `+HH:MM`, `-HH:MM` or `+HHMM` as seconds.
fn parse_offset(tz: &str) -> Option<i32> {
    let (sign, rest) = match tz.as_bytes().first()? {
        b'+' => (1, &tz[1..]),
        b'-' => (-1, &tz[1..]),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let h: i32 = digits[..2].parse().ok()?;
    let m: i32 = digits[2..].parse().ok()?;
    Some(sign * (h * 3600 + m * 60))
}

/// An exact decimal: `value × 10^-scale`, with at most `precision` digits
/// (Arrow's `decimal128(precision, scale)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Decimal {
    /// The unscaled value.
    pub value: i128,
    /// The number of significant digits the type holds (1..=38).
    pub precision: u8,
    /// Digits after the decimal point; negative scales multiply by 10.
    pub scale: i8,
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.value.unsigned_abs().to_string();
        if self.value < 0 {
            f.write_str("-")?;
        }
        let scale = i32::from(self.scale);
        if scale <= 0 {
            f.write_str(&digits)?;
            if digits != "0" {
                for _ in 0..-scale {
                    f.write_str("0")?;
                }
            }
            return Ok(());
        }
        let scale = scale as usize;
        if digits.len() > scale {
            let (int, frac) = digits.split_at(digits.len() - scale);
            write!(f, "{int}.{frac}")
        } else {
            write!(f, "0.{}{digits}", "0".repeat(scale - digits.len()))
        }
    }
}

impl Decimal {
    /// The nearest `f64` (for targets that want a float).
    pub fn to_f64(&self) -> f64 {
        self.to_string().parse().unwrap_or(f64::NAN)
    }

    /// `Some(())` when the float `f` prints back as exactly `d`'s digits.
    pub(crate) fn from_f64_text(f: f64, d: &Decimal) -> Option<()> {
        let shown = format!("{f:.prec$}", prec = d.scale.max(0) as usize);
        (shown == d.to_string()).then_some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_text_forms() {
        assert_eq!(Date(0).to_string(), "1970-01-01");
        assert_eq!(Date(19_723).to_string(), "2024-01-01");
        assert_eq!(Date(-1).to_string(), "1969-12-31");
        let t = Time {
            value: 13 * 3600 + 5 * 60 + 7,
            unit: TimeUnit::Second,
        };
        assert_eq!(t.to_string(), "13:05:07");
        let t = Time {
            value: 45_296_789_000,
            unit: TimeUnit::Microsecond,
        };
        assert_eq!(t.to_string(), "12:34:56.789");
        let ts = |value, unit, tz: Option<&str>| {
            Timestamp {
                value,
                unit,
                tz: tz.map(Arc::from),
            }
            .to_string()
        };
        let us = 1_704_103_200_123_456; // 2024-01-01T10:00:00.123456Z
        assert_eq!(
            ts(us, TimeUnit::Microsecond, None),
            "2024-01-01T10:00:00.123456"
        );
        assert_eq!(
            ts(us, TimeUnit::Microsecond, Some("UTC")),
            "2024-01-01T10:00:00.123456Z"
        );
        assert_eq!(
            ts(us, TimeUnit::Microsecond, Some("+02:00")),
            "2024-01-01T12:00:00.123456+02:00"
        );
        assert_eq!(
            ts(1_704_103_200, TimeUnit::Second, Some("-05:30")),
            "2024-01-01T04:30:00-05:30"
        );
        assert_eq!(
            ts(-1, TimeUnit::Millisecond, None),
            "1969-12-31T23:59:59.999"
        );
    }

    #[test]
    fn decimals_are_exact() {
        let d = |value, scale| {
            Decimal {
                value,
                precision: 38,
                scale,
            }
            .to_string()
        };
        assert_eq!(d(12_345, 2), "123.45");
        assert_eq!(d(-5, 3), "-0.005");
        assert_eq!(d(0, 2), "0.00");
        assert_eq!(d(7, 0), "7");
        assert_eq!(d(12, -3), "12000");
        assert_eq!(d(i128::MAX, 10), "17014118346046923173168730371.5884105727");
    }
}
