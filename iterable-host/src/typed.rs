//! Dates, times, timestamps and decimals between the core's values and the
//! wire's registered extension types, and their text for plugins built for
//! ABI 1.0, which do not know them.

use std::sync::Arc;

use iterable_core::Value;
use iterable_core::typed::{Date, Decimal, Time, TimeUnit, Timestamp};
use iterable_plugin_api::RBatch;
use iterable_plugin_api::abi::typed::{Typed, Unit};

fn unit_of(u: Unit) -> TimeUnit {
    match u {
        Unit::Second => TimeUnit::Second,
        Unit::Millisecond => TimeUnit::Millisecond,
        Unit::Microsecond => TimeUnit::Microsecond,
        Unit::Nanosecond => TimeUnit::Nanosecond,
    }
}

fn wire_unit(u: TimeUnit) -> Unit {
    match u {
        TimeUnit::Second => Unit::Second,
        TimeUnit::Millisecond => Unit::Millisecond,
        TimeUnit::Microsecond => Unit::Microsecond,
        TimeUnit::Nanosecond => Unit::Nanosecond,
    }
}

/// The core value of a wire typed value.
pub(crate) fn value_of(t: Typed) -> Value {
    match t {
        Typed::Date(d) => Value::Date(Date(d)),
        Typed::Time { unit, value } => Value::Time(Time {
            value,
            unit: unit_of(unit),
        }),
        Typed::Timestamp { unit, value, tz } => Value::Timestamp(Box::new(Timestamp {
            value,
            unit: unit_of(unit),
            tz: tz.map(Arc::from),
        })),
        Typed::Decimal {
            value,
            precision,
            scale,
        } => Value::Decimal(Box::new(Decimal {
            value,
            precision,
            scale,
        })),
    }
}

/// The wire typed value of a core value, if it is a date, time, timestamp
/// or decimal.
pub(crate) fn typed_of(v: &Value) -> Option<Typed> {
    Some(match v {
        Value::Date(d) => Typed::Date(d.0),
        Value::Time(t) => Typed::Time {
            unit: wire_unit(t.unit),
            value: t.value,
        },
        Value::Timestamp(t) => Typed::Timestamp {
            unit: wire_unit(t.unit),
            value: t.value,
            tz: t.tz.as_deref().map(str::to_owned),
        },
        Value::Decimal(d) => Typed::Decimal {
            value: d.value,
            precision: d.precision,
            scale: d.scale,
        },
        _ => return None,
    })
}

/// Rewrites a batch for a plugin built for ABI 1.0: every date, time,
/// timestamp and decimal (at any depth) becomes its text, ISO-8601 or plain
/// decimal. A batch without nested cells is left as it is.
pub(crate) fn downgrade(batch: &mut RBatch) {
    if batch.nested.is_empty() {
        return;
    }
    for v in batch.nested.iter_mut() {
        downgrade_value(v);
    }
    // A typed value at the top of a cell is now a nested string; make it a
    // plain text cell, as a 1.0 plugin would have been sent.
    let rows: Vec<Vec<Option<iterable_plugin_api::RValue>>> = match batch.validated() {
        Ok(view) => view
            .iter()
            .map(|row| {
                (0..view.field_count())
                    .map(|j| row.get(j).to_value())
                    .collect()
            })
            .collect(),
        Err(_) => return,
    };
    let fields: Vec<String> = batch.fields.iter().map(|f| f.to_string()).collect();
    batch.clear();
    let mut b = batch.builder();
    b.set_fields(&fields);
    for row in rows {
        for cell in row {
            match cell {
                Some(v) => b.push_value(v),
                None => b.push_absent(),
            };
        }
        b.end_row();
    }
}

fn downgrade_value(v: &mut iterable_plugin_api::RValue) {
    use iterable_plugin_api::RValue;
    match v {
        RValue::Ext(..) => {
            if let Some(t) = Typed::from_rvalue(v) {
                *v = RValue::Str(value_of(t).to_string().into());
            }
        }
        RValue::List(items) => items.iter_mut().for_each(downgrade_value),
        RValue::Map(pairs) => pairs.iter_mut().for_each(|p| downgrade_value(&mut p.1)),
        _ => {}
    }
}
