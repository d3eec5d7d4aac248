//! Errors: the wire-level [`RError`] / [`RErrorKind`] and the author-level [`Error`].
//!
//! Every fallible call across the plugin boundary returns `RResult<_, RError>`.
//! Plugin authors never build an [`RError`] themselves: they return the
//! Rust-native [`Error`] (with [`Result`]), and the adapters convert it.

use std::fmt;
use std::io;

use abi_stable::StableAbi;
use abi_stable::std_types::{RNone, ROption, RSome, RString};

/// The class of an error, as a `u32` code.
///
/// This is deliberately **not** an enum: new kinds may be added in any 1.x
/// release without breaking older peers. A code a peer does not know must be
/// treated as [`RErrorKind::OTHER`] (see [`RErrorKind::normalized`]).
// repr(transparent): same ABI as a bare u32. derive(StableAbi): abi_stable
// records the layout and compares it with the peer's at load time.
#[repr(transparent)]
#[derive(StableAbi, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct RErrorKind(pub u32);

impl RErrorKind {
    /// Anything else (also the meaning of every unknown code).
    pub const OTHER: Self = Self(0);
    /// An I/O error (reading or writing bytes).
    pub const IO: Self = Self(1);
    /// Malformed input that could not be parsed.
    pub const PARSE: Self = Self(2);
    /// Bytes that are not valid in the expected text encoding.
    pub const ENCODING: Self = Self(3);
    /// A (de)compression failure.
    pub const COMPRESSION: Self = Self(4);
    /// An option that is unknown or has an invalid value.
    pub const INVALID_OPTION: Self = Self(5);
    /// The operation is not supported by this provider (or by an older peer).
    pub const UNSUPPORTED: Self = Self(6);
    /// A file, table or other named thing does not exist.
    pub const NOT_FOUND: Self = Self(7);
    /// Code panicked; the panic was caught at the boundary.
    pub const PANIC: Self = Self(8);
    /// The records do not match an expected schema.
    pub const SCHEMA: Self = Self(9);
    /// A database driver failure.
    pub const DRIVER: Self = Self(10);
    /// A processing-engine failure.
    pub const ENGINE: Self = Self(11);
    /// An argument or a batch received from a peer is invalid.
    pub const INVALID_INPUT: Self = Self(12);

    /// The highest code known to this version of the crate.
    pub const MAX_KNOWN: u32 = 12;

    /// Whether this version of the crate knows the code.
    pub const fn is_known(self) -> bool {
        self.0 <= Self::MAX_KNOWN
    }

    /// The kind itself if known, [`RErrorKind::OTHER`] otherwise.
    pub const fn normalized(self) -> Self {
        if self.is_known() { self } else { Self::OTHER }
    }

    /// A short lowercase identifier (`"parse"`, `"io"`, ...); `"other"` for unknown codes.
    pub const fn name(self) -> &'static str {
        match self.0 {
            1 => "io",
            2 => "parse",
            3 => "encoding",
            4 => "compression",
            5 => "invalid_option",
            6 => "unsupported",
            7 => "not_found",
            8 => "panic",
            9 => "schema",
            10 => "driver",
            11 => "engine",
            12 => "invalid_input",
            _ => "other",
        }
    }

    /// A human label used by `Display` of errors (`"parse error"`, `"panic"`, ...).
    pub const fn label(self) -> &'static str {
        match self.0 {
            1 => "I/O error",
            2 => "parse error",
            3 => "encoding error",
            4 => "compression error",
            5 => "invalid option",
            6 => "unsupported",
            7 => "not found",
            8 => "panic",
            9 => "schema error",
            10 => "driver error",
            11 => "engine error",
            12 => "invalid input",
            _ => "error",
        }
    }

    /// The closest [`io::ErrorKind`].
    pub fn to_io_kind(self) -> io::ErrorKind {
        match self {
            Self::NOT_FOUND => io::ErrorKind::NotFound,
            Self::UNSUPPORTED => io::ErrorKind::Unsupported,
            Self::INVALID_INPUT | Self::INVALID_OPTION => io::ErrorKind::InvalidInput,
            Self::PARSE | Self::ENCODING | Self::COMPRESSION | Self::SCHEMA => {
                io::ErrorKind::InvalidData
            }
            _ => io::ErrorKind::Other,
        }
    }

    /// The closest kind for an [`io::ErrorKind`].
    pub fn from_io_kind(kind: io::ErrorKind) -> Self {
        match kind {
            io::ErrorKind::NotFound => Self::NOT_FOUND,
            io::ErrorKind::Unsupported => Self::UNSUPPORTED,
            io::ErrorKind::InvalidInput => Self::INVALID_INPUT,
            io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof => Self::PARSE,
            _ => Self::IO,
        }
    }
}

impl fmt::Debug for RErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_known() {
            write!(f, "RErrorKind::{}", self.name().to_ascii_uppercase())
        } else {
            write!(f, "RErrorKind({})", self.0)
        }
    }
}

impl fmt::Display for RErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

pub(crate) fn fmt_error(
    f: &mut fmt::Formatter<'_>,
    kind: RErrorKind,
    message: &str,
    line: Option<u64>,
    record: Option<u64>,
) -> fmt::Result {
    f.write_str(kind.label())?;
    match (line, record) {
        (Some(l), Some(r)) => write!(f, " at line {l} (record {r})")?,
        (Some(l), None) => write!(f, " at line {l}")?,
        (None, Some(r)) => write!(f, " at record {r}")?,
        (None, None) => {}
    }
    write!(f, ": {message}")
}

/// The error that crosses the plugin boundary.
///
/// `Display` renders `"<label>[ at line L][ (record R)]: <message>"`, e.g.
/// `parse error at line 3: missing ':'`.
// repr(C): C field order and padding. derive(StableAbi): layout checked at load.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq)]
pub struct RError {
    /// The class of the error (unknown codes mean [`RErrorKind::OTHER`]).
    pub kind: RErrorKind,
    /// Human-readable text, without the kind label.
    pub message: RString,
    /// 1-based line number in the input, when known.
    pub line: ROption<u64>,
    /// 1-based record (row) number in the stream, when known.
    pub record: ROption<u64>,
}

impl RError {
    /// An error of `kind` with `message`.
    pub fn new(kind: RErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: RString::from(message.into()),
            line: RNone,
            record: RNone,
        }
    }

    /// A [`RErrorKind::PANIC`] error.
    pub fn panic(message: impl Into<String>) -> Self {
        Self::new(RErrorKind::PANIC, message)
    }

    /// A [`RErrorKind::UNSUPPORTED`] error.
    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::new(RErrorKind::UNSUPPORTED, message)
    }

    /// A [`RErrorKind::INVALID_INPUT`] error.
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(RErrorKind::INVALID_INPUT, message)
    }

    /// Sets the 1-based line number.
    pub fn with_line(mut self, line: u64) -> Self {
        self.line = RSome(line);
        self
    }

    /// Sets the 1-based record number.
    pub fn with_record(mut self, record: u64) -> Self {
        self.record = RSome(record);
        self
    }
}

impl fmt::Display for RError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_error(
            f,
            self.kind,
            self.message.as_str(),
            self.line.into_option(),
            self.record.into_option(),
        )
    }
}

impl std::error::Error for RError {}
