//! The registered extension types: dates, times, timestamps and decimals on
//! the wire.
//!
//! They travel as [`RValue::Ext`] values (in `NESTED` batch cells), as the
//! ABI policy requires of every value type added after 1.0. The names and
//! payloads below are frozen; every multi-byte number is little-endian.
//!
//! | name | payload | Arrow type |
//! |---|---|---|
//! | `date` | `i32` days since 1970-01-01 (4 bytes) | `date32` |
//! | `time` | unit (1 byte), `i64` units since midnight (8 bytes) | `time32`/`time64` |
//! | `timestamp` | unit (1 byte), `i64` units since 1970-01-01T00:00:00Z (8 bytes), time zone as UTF-8 (the rest; empty for none) | `timestamp(unit, tz)` |
//! | `decimal` | precision (1 byte), scale (1 byte, `i8`), `i128` unscaled value (16 bytes) | `decimal128(p, s)` |
//!
//! Units are `0` seconds, `1` milliseconds, `2` microseconds, `3`
//! nanoseconds. A 1.1 host hands these values to a plugin built for ABI
//! 1.0 as their text (ISO-8601, plain decimals), since such a plugin does
//! not know them.

use crate::abi::value::RValue;

/// The extension type name of dates.
pub const DATE: &str = "date";
/// The extension type name of times of day.
pub const TIME: &str = "time";
/// The extension type name of timestamps.
pub const TIMESTAMP: &str = "timestamp";
/// The extension type name of decimals.
pub const DECIMAL: &str = "decimal";

/// The unit of a time or a timestamp.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Unit {
    /// Seconds (`0`).
    Second,
    /// Milliseconds (`1`).
    Millisecond,
    /// Microseconds (`2`).
    Microsecond,
    /// Nanoseconds (`3`).
    Nanosecond,
}

impl Unit {
    fn code(self) -> u8 {
        match self {
            Unit::Second => 0,
            Unit::Millisecond => 1,
            Unit::Microsecond => 2,
            Unit::Nanosecond => 3,
        }
    }
    fn of(code: u8) -> Option<Unit> {
        Some(match code {
            0 => Unit::Second,
            1 => Unit::Millisecond,
            2 => Unit::Microsecond,
            3 => Unit::Nanosecond,
            _ => return None,
        })
    }
}

/// A value of one of the registered extension types.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Typed {
    /// Days since 1970-01-01.
    Date(i32),
    /// Units since midnight.
    Time {
        /// The unit.
        unit: Unit,
        /// The count.
        value: i64,
    },
    /// Units since 1970-01-01T00:00:00Z, shown in `tz`.
    Timestamp {
        /// The unit.
        unit: Unit,
        /// The count.
        value: i64,
        /// An IANA name, `UTC` or an offset such as `+02:00`; `None` for a
        /// wall-clock time with no zone.
        tz: Option<String>,
    },
    /// `value × 10^-scale`.
    Decimal {
        /// The unscaled value.
        value: i128,
        /// Significant digits of the type (1..=38).
        precision: u8,
        /// Digits after the point.
        scale: i8,
    },
}

impl Typed {
    /// Its extension type name and payload.
    pub fn encode(&self) -> (&'static str, Vec<u8>) {
        match self {
            Typed::Date(days) => (DATE, days.to_le_bytes().to_vec()),
            Typed::Time { unit, value } => {
                let mut p = vec![unit.code()];
                p.extend_from_slice(&value.to_le_bytes());
                (TIME, p)
            }
            Typed::Timestamp { unit, value, tz } => {
                let mut p = vec![unit.code()];
                p.extend_from_slice(&value.to_le_bytes());
                if let Some(tz) = tz {
                    p.extend_from_slice(tz.as_bytes());
                }
                (TIMESTAMP, p)
            }
            Typed::Decimal {
                value,
                precision,
                scale,
            } => {
                let mut p = vec![*precision, *scale as u8];
                p.extend_from_slice(&value.to_le_bytes());
                (DECIMAL, p)
            }
        }
    }

    /// The value of an extension type `name` with `payload`; `None` for a
    /// name that is not registered or a malformed payload.
    pub fn decode(name: &str, payload: &[u8]) -> Option<Typed> {
        let i64_at = |at: usize| -> Option<i64> {
            Some(i64::from_le_bytes(
                payload.get(at..at + 8)?.try_into().ok()?,
            ))
        };
        Some(match name {
            DATE => Typed::Date(i32::from_le_bytes(payload.try_into().ok()?)),
            TIME if payload.len() == 9 => Typed::Time {
                unit: Unit::of(payload[0])?,
                value: i64_at(1)?,
            },
            TIMESTAMP if payload.len() >= 9 => Typed::Timestamp {
                unit: Unit::of(payload[0])?,
                value: i64_at(1)?,
                tz: match &payload[9..] {
                    [] => None,
                    tz => Some(std::str::from_utf8(tz).ok()?.to_owned()),
                },
            },
            DECIMAL if payload.len() == 18 => Typed::Decimal {
                precision: payload[0],
                scale: payload[1] as i8,
                value: i128::from_le_bytes(payload[2..].try_into().ok()?),
            },
            _ => return None,
        })
    }

    /// The value as an [`RValue::Ext`].
    pub fn to_rvalue(&self) -> RValue {
        let (name, payload) = self.encode();
        RValue::ext(name, &payload)
    }

    /// The typed value an [`RValue`] holds, if it is one.
    pub fn from_rvalue(v: &RValue) -> Option<Typed> {
        match v {
            RValue::Ext(name, payload) => Typed::decode(name, payload),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_typed_value_round_trips_and_bad_payloads_are_refused() {
        for t in [
            Typed::Date(-719_162),
            Typed::Time {
                unit: Unit::Nanosecond,
                value: 86_399_999_999_999,
            },
            Typed::Timestamp {
                unit: Unit::Microsecond,
                value: -1,
                tz: Some("Europe/Paris".into()),
            },
            Typed::Timestamp {
                unit: Unit::Second,
                value: 0,
                tz: None,
            },
            Typed::Decimal {
                value: -i128::MAX,
                precision: 38,
                scale: -2,
            },
        ] {
            assert_eq!(Typed::from_rvalue(&t.to_rvalue()), Some(t));
        }
        assert_eq!(Typed::decode(DATE, &[1, 2, 3]), None);
        assert_eq!(Typed::decode(TIME, &[9; 9]), None);
        assert_eq!(
            Typed::decode(TIMESTAMP, &[0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff]),
            None
        );
        assert_eq!(Typed::decode("uuid", &[0; 16]), None);
    }
}
