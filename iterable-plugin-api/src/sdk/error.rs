//! The author-level error: what plugin code returns.

use std::fmt;
use std::io;

use abi_stable::std_types::RString;

use crate::abi::error::fmt_error;
use crate::abi::{RError, RErrorKind};

/// The author-level result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What class of error an [`Error`] is, for an author's own code and tests
/// ([`Error::kind`]): the SDK's word for it, not the wire's.
///
/// ```
/// use iterable_plugin_api::prelude::*;
/// let e = Error::parse("no ':' in `a`").with_line(3);
/// assert_eq!(e.kind(), ErrorKind::Parse);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Anything else.
    Other,
    /// An I/O error.
    Io,
    /// The input is not well-formed.
    Parse,
    /// The input is not valid text in its encoding.
    Encoding,
    /// Compressed input is corrupt or truncated.
    Compression,
    /// An option's value is not valid.
    InvalidOption,
    /// The operation is not supported.
    Unsupported,
    /// Something named (a table, a file) does not exist.
    NotFound,
    /// The plugin panicked (the SDK caught it).
    Panic,
    /// A record does not fit the shape the writer fixed.
    Schema,
    /// A database driver failed.
    Driver,
    /// An engine failed.
    Engine,
    /// The caller passed something invalid.
    InvalidInput,
    /// A kind this SDK does not know (from a newer host or plugin): its
    /// number, kept.
    Unknown(u32),
}

impl ErrorKind {
    fn of(kind: RErrorKind) -> ErrorKind {
        match kind.0 {
            0 => ErrorKind::Other,
            1 => ErrorKind::Io,
            2 => ErrorKind::Parse,
            3 => ErrorKind::Encoding,
            4 => ErrorKind::Compression,
            5 => ErrorKind::InvalidOption,
            6 => ErrorKind::Unsupported,
            7 => ErrorKind::NotFound,
            8 => ErrorKind::Panic,
            9 => ErrorKind::Schema,
            10 => ErrorKind::Driver,
            11 => ErrorKind::Engine,
            12 => ErrorKind::InvalidInput,
            n => ErrorKind::Unknown(n),
        }
    }
}

/// The author-level error: what plugin code returns.
///
/// Converts to and from [`RError`] losslessly. Build it with the
/// kind-named constructors ([`Error::parse`], [`Error::unsupported`], ...),
/// from a `String`/`&str` (kind OTHER), or from an [`io::Error`] with `?`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    /// The class of the error.
    pub kind: RErrorKind,
    /// Human-readable text, without the kind label.
    pub message: String,
    /// 1-based line number in the input, when known.
    pub line: Option<u64>,
    /// 1-based record number, when known (the reader adapter fills it in if unset).
    pub record: Option<u64>,
}

impl Error {
    /// An error of `kind` with `message`.
    pub fn new(kind: RErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            line: None,
            record: None,
        }
    }
    /// Kind [`RErrorKind::OTHER`].
    pub fn other(message: impl Into<String>) -> Self {
        Self::new(RErrorKind::OTHER, message)
    }
    /// Kind [`RErrorKind::IO`] from an I/O error (keeps an embedded [`Error`] if there is one).
    pub fn io(e: io::Error) -> Self {
        Self::from(e)
    }
    /// Kind [`RErrorKind::PARSE`].
    pub fn parse(message: impl Into<String>) -> Self {
        Self::new(RErrorKind::PARSE, message)
    }
    /// Kind [`RErrorKind::ENCODING`].
    pub fn encoding(message: impl Into<String>) -> Self {
        Self::new(RErrorKind::ENCODING, message)
    }
    /// Kind [`RErrorKind::COMPRESSION`].
    pub fn compression(message: impl Into<String>) -> Self {
        Self::new(RErrorKind::COMPRESSION, message)
    }
    /// Kind [`RErrorKind::INVALID_OPTION`]; the message names the option.
    pub fn invalid_option(option: &str, message: impl fmt::Display) -> Self {
        Self::new(
            RErrorKind::INVALID_OPTION,
            format!("option `{option}`: {message}"),
        )
    }
    /// Kind [`RErrorKind::UNSUPPORTED`].
    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::new(RErrorKind::UNSUPPORTED, message)
    }
    /// Kind [`RErrorKind::NOT_FOUND`].
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(RErrorKind::NOT_FOUND, message)
    }
    /// Kind [`RErrorKind::SCHEMA`].
    pub fn schema(message: impl Into<String>) -> Self {
        Self::new(RErrorKind::SCHEMA, message)
    }
    /// Kind [`RErrorKind::DRIVER`].
    pub fn driver(message: impl Into<String>) -> Self {
        Self::new(RErrorKind::DRIVER, message)
    }
    /// Kind [`RErrorKind::ENGINE`].
    pub fn engine(message: impl Into<String>) -> Self {
        Self::new(RErrorKind::ENGINE, message)
    }
    /// Kind [`RErrorKind::INVALID_INPUT`].
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(RErrorKind::INVALID_INPUT, message)
    }
    /// The class of the error, as the SDK names it.
    pub fn kind(&self) -> ErrorKind {
        ErrorKind::of(self.kind)
    }
    /// Sets the 1-based line number.
    pub fn with_line(mut self, line: u64) -> Self {
        self.line = Some(line);
        self
    }
    /// Sets the 1-based record number.
    pub fn with_record(mut self, record: u64) -> Self {
        self.record = Some(record);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_error(f, self.kind, &self.message, self.line, self.record)
    }
}

impl std::error::Error for Error {}

impl From<Error> for RError {
    fn from(e: Error) -> Self {
        RError {
            kind: e.kind,
            message: RString::from(e.message),
            line: e.line.into(),
            record: e.record.into(),
        }
    }
}

impl From<RError> for Error {
    fn from(e: RError) -> Self {
        Error {
            kind: e.kind,
            message: e.message.into_string(),
            line: e.line.into_option(),
            record: e.record.into_option(),
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        let kind = e.kind();
        if e.get_ref().is_some_and(|inner| inner.is::<Error>()) {
            if let Some(inner) = e.into_inner() {
                if let Ok(err) = inner.downcast::<Error>() {
                    return *err;
                }
            }
            return Error::new(RErrorKind::IO, "I/O error");
        }
        if e.get_ref().is_some_and(|inner| inner.is::<RError>()) {
            if let Some(inner) = e.into_inner() {
                if let Ok(err) = inner.downcast::<RError>() {
                    return Error::from(*err);
                }
            }
            return Error::new(RErrorKind::IO, "I/O error");
        }
        Error::new(RErrorKind::from_io_kind(kind), e.to_string())
    }
}

impl From<Error> for io::Error {
    fn from(e: Error) -> Self {
        io::Error::new(e.kind.to_io_kind(), e)
    }
}

impl From<String> for Error {
    fn from(message: String) -> Self {
        Error::other(message)
    }
}

impl From<&str> for Error {
    fn from(message: &str) -> Self {
        Error::other(message)
    }
}

impl From<std::str::Utf8Error> for Error {
    fn from(e: std::str::Utf8Error) -> Self {
        Error::encoding(e.to_string())
    }
}

impl From<std::string::FromUtf8Error> for Error {
    fn from(e: std::string::FromUtf8Error) -> Self {
        Error::encoding(e.to_string())
    }
}

impl From<std::num::ParseIntError> for Error {
    fn from(e: std::num::ParseIntError) -> Self {
        Error::parse(e.to_string())
    }
}

impl From<std::num::ParseFloatError> for Error {
    fn from(e: std::num::ParseFloatError) -> Self {
        Error::parse(e.to_string())
    }
}

// Through the author-level error, which knows how an I/O error's kind maps
// onto the wire's kinds (the wire itself knows nothing of the SDK).
impl From<io::Error> for RError {
    fn from(e: io::Error) -> Self {
        Error::from(e).into()
    }
}

impl From<RError> for io::Error {
    fn from(e: RError) -> Self {
        Error::from(e).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_round_trip() {
        let e = Error::parse("missing ':'").with_line(3);
        assert_eq!(e.to_string(), "parse error at line 3: missing ':'");
        let r: RError = e.clone().into();
        assert_eq!(r.to_string(), "parse error at line 3: missing ':'");
        assert_eq!(Error::from(r), e);
        let r = RError::panic("boom").with_record(2);
        assert_eq!(r.to_string(), "panic at record 2: boom");
    }

    #[test]
    fn io_round_trip_keeps_kind() {
        let e = Error::schema("bad").with_record(7);
        let io: io::Error = e.clone().into();
        assert_eq!(Error::from(io), e);
        let r = RError::new(RErrorKind::DRIVER, "x");
        let io: io::Error = r.clone().into();
        assert_eq!(RError::from(io), r);
        let nf = io::Error::new(io::ErrorKind::NotFound, "nope");
        assert_eq!(Error::from(nf).kind, RErrorKind::NOT_FOUND);
    }

    #[test]
    fn unknown_kinds_are_other() {
        let k = RErrorKind(999);
        assert!(!k.is_known());
        assert_eq!(k.normalized(), RErrorKind::OTHER);
        assert_eq!(k.name(), "other");
        assert_eq!(format!("{k:?}"), "RErrorKind(999)");
        assert_eq!(format!("{:?}", RErrorKind::PARSE), "RErrorKind::PARSE");
    }
}
