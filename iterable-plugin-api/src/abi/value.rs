//! Self-describing values ([`RValue`]): the payload of nested batch cells.

use abi_stable::StableAbi;
use abi_stable::std_types::{RString, RVec, Tuple2};

/// A self-describing value, used for the nested cells of a batch
/// ([`crate::abi::tag::NESTED`]) — lists, maps and extension values.
/// Scalars normally travel as flat tagged cells instead.
///
/// The variant set is frozen for 1.x: `abi_stable` rejects a peer whose enum
/// has a different number of variants, and `NonExhaustive` enums only help a
/// newer plugin in an older host (the wrong direction). New value types
/// therefore arrive through [`RValue::Ext`].
// `repr(C, u8)`: a C-compatible tagged union with a one-byte discriminant,
// required by `StableAbi` for data-carrying enums.
#[repr(C, u8)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
pub enum RValue {
    /// An explicit null.
    Null,
    /// A boolean.
    Bool(bool),
    /// A signed 64-bit integer.
    Int(i64),
    /// A 64-bit float.
    Float(f64),
    /// A UTF-8 string.
    Str(RString),
    /// Raw bytes.
    Bytes(RVec<u8>),
    /// An ordered list.
    List(RVec<RValue>),
    /// An ordered map (key order is kept; duplicate keys are allowed on the wire).
    Map(RVec<Tuple2<RString, RValue>>),
    /// The reserved extension variant: a type name (e.g. `"decimal"`,
    /// `"timestamp"`) and its payload. Peers that do not know the type name
    /// must pass it through or treat it as opaque bytes.
    Ext(RString, RVec<u8>),
}

impl RValue {
    /// Builds an [`RValue::Ext`].
    pub fn ext(type_name: &str, payload: &[u8]) -> Self {
        RValue::Ext(type_name.into(), RVec::from_slice(payload))
    }
    /// Builds an [`RValue::Map`] from pairs.
    pub fn map<K: Into<String>>(pairs: impl IntoIterator<Item = (K, RValue)>) -> Self {
        RValue::Map(
            pairs
                .into_iter()
                .map(|(k, v)| Tuple2(RString::from(k.into()), v))
                .collect(),
        )
    }
    /// Builds an [`RValue::List`].
    pub fn list(items: impl IntoIterator<Item = RValue>) -> Self {
        RValue::List(items.into_iter().collect())
    }
    /// The string, for [`RValue::Str`].
    pub fn as_str(&self) -> Option<&str> {
        match self {
            RValue::Str(s) => Some(s.as_str()),
            _ => None,
        }
    }
}

impl From<bool> for RValue {
    fn from(v: bool) -> Self {
        RValue::Bool(v)
    }
}
impl From<i64> for RValue {
    fn from(v: i64) -> Self {
        RValue::Int(v)
    }
}
impl From<f64> for RValue {
    fn from(v: f64) -> Self {
        RValue::Float(v)
    }
}
impl From<&str> for RValue {
    fn from(v: &str) -> Self {
        RValue::Str(v.into())
    }
}
impl From<String> for RValue {
    fn from(v: String) -> Self {
        RValue::Str(v.into())
    }
}
impl From<Vec<u8>> for RValue {
    fn from(v: Vec<u8>) -> Self {
        RValue::Bytes(v.into())
    }
}
