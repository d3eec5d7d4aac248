//! Arrow ↔ records: what crosses the C ABI, turned into the core's values
//! and back.
//!
//! Every Arrow type a record can hold maps to a [`Value`]: integers of every
//! width (a `uint64` above `i64::MAX` becomes an exact decimal), floats,
//! booleans, UTF-8 and large UTF-8 (and views), binary, dates, times,
//! timestamps with their unit and time zone, decimals, lists, structs and
//! maps (as maps), null, and dictionary-encoded values (as their values).
//! Records map back to Arrow with types inferred per column and batch
//! ([`record_batch`]); a column whose values disagree becomes text.
//!
//! [`read`] turns Arrow into records; [`write`] turns records into Arrow.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{
    Array, ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array, Float64Array,
    Int64Array, ListArray, NullArray, PrimitiveArray, RecordBatch, RecordBatchOptions, StringArray,
    StructArray, Time32MillisecondArray, Time32SecondArray, Time64MicrosecondArray,
    Time64NanosecondArray,
};
use arrow_buffer::{NullBuffer, OffsetBuffer};
use arrow_schema::{ArrowError, DataType, Field, Fields, Schema, TimeUnit as ArrowUnit};

use iterable_core::typed::{Date, Decimal, Time, TimeUnit, Timestamp};
use iterable_core::{Record, Value};

mod read;
mod write;

pub use read::{fill_record, flatten_dictionaries, names, value};
pub(crate) use write::{Gather, RecordsToArrow, Rows};
pub use write::{array_of, exact_batch, record_batch};

fn unit(u: ArrowUnit) -> TimeUnit {
    match u {
        ArrowUnit::Second => TimeUnit::Second,
        ArrowUnit::Millisecond => TimeUnit::Millisecond,
        ArrowUnit::Microsecond => TimeUnit::Microsecond,
        ArrowUnit::Nanosecond => TimeUnit::Nanosecond,
    }
}

fn arrow_unit(u: TimeUnit) -> ArrowUnit {
    match u {
        TimeUnit::Second => ArrowUnit::Second,
        TimeUnit::Millisecond => ArrowUnit::Millisecond,
        TimeUnit::Microsecond => ArrowUnit::Microsecond,
        TimeUnit::Nanosecond => ArrowUnit::Nanosecond,
    }
}

#[cfg(test)]
mod tests;
