//! The error type of the core, with a kind and optional context.
//!
//! Context is added by wrapping ([`Error::with_path`], [`Error::with_position`],
//! [`Error::with_origin`]) rather than by formatting it into every message, so
//! that callers can inspect the kind and the place separately.

use std::borrow::Cow;
use std::fmt;
use std::path::{Path, PathBuf};

/// A convenient alias for results whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Declares [`ErrorKind`] and its stable names from one table, so that a
/// name is written once: every boundary that carries a kind (the isolated
/// runners' wire, the scan cache, listings) uses [`ErrorKind::name`] and
/// [`ErrorKind::from_name`], never `Debug` text.
macro_rules! error_kinds {
    ($($(#[$doc:meta])* $kind:ident = $name:literal,)*) => {
        /// What went wrong, independent of where. Each kind has a stable
        /// name ([`ErrorKind::name`]) that every boundary carries.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorKind {
            $($(#[$doc])* $kind,)*
        }

        impl ErrorKind {
            /// Every kind, in declaration order.
            pub const ALL: &'static [ErrorKind] = &[$(ErrorKind::$kind),*];

            /// The kind's stable name (`"parse"`, `"unknown-format"`).
            pub const fn name(self) -> &'static str {
                match self {
                    $(ErrorKind::$kind => $name,)*
                }
            }

            /// The kind of a stable name; `None` for a name this version
            /// does not know (see [`Error::with_kind_name`]).
            pub fn from_name(name: &str) -> Option<ErrorKind> {
                match name {
                    $($name => Some(ErrorKind::$kind),)*
                    _ => None,
                }
            }
        }
    };
}

error_kinds! {
    /// An I/O error from the operating system.
    Io = "io",
    /// The input is not well-formed for its format (an unterminated quote, bad JSON).
    Parse = "parse",
    /// The input is not valid text in the expected encoding.
    Encoding = "encoding",
    /// Compressed input is corrupt or truncated.
    Compression = "compression",
    /// No format with that id, or no format recognised the input.
    UnknownFormat = "unknown-format",
    /// No codec with that id.
    UnknownCodec = "unknown-codec",
    /// No driver handles that URI scheme.
    UnknownDriver = "unknown-driver",
    /// No rule with that name.
    UnknownRule = "unknown-rule",
    /// No engine with that id.
    UnknownEngine = "unknown-engine",
    /// No hook with that id.
    UnknownHook = "unknown-hook",
    /// A hook stopped the run.
    Hook = "hook",
    /// An option that no component accepts.
    UnknownOption = "unknown-option",
    /// An option whose value is not valid.
    InvalidOption = "invalid-option",
    /// The provider does not support the operation (writing a read-only format).
    Unsupported = "unsupported",
    /// A record does not fit the shape the writer fixed (CSV header).
    Schema = "schema",
    /// Two providers claim the same id and no override was allowed.
    Conflict = "conflict",
    /// A database driver failed.
    Driver = "driver",
    /// A processing engine failed.
    Engine = "engine",
    /// The caller passed something invalid (a bad URI, a missing table name).
    InvalidInput = "invalid-input",
    /// A provider from outside the core (a plugin, say) failed;
    /// [`Error::failure`] says how, in the terms of whoever added it, and
    /// [`Error::origin`] says which.
    Provider = "provider",
    /// Anything else, including a kind this version does not know (its
    /// name is kept: [`Error::kind_name`]).
    Other = "other",
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl serde::Serialize for ErrorKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// Where an error comes from, when a provider added from outside the core
/// raised it: a kind of origin (`"plugin"`) and its name. It prints as
/// `plugin 'ltsv': `.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Origin {
    /// What provided it, as a word (`"plugin"`).
    pub kind: &'static str,
    /// Its name.
    pub name: String,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} '{}'", self.kind, self.name)
    }
}

/// Where in the input an error happened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Position {
    /// 1-based line number, when the format has lines.
    pub line: Option<u64>,
    /// 1-based record number.
    pub record: Option<u64>,
    /// Byte offset in the (decompressed) input.
    pub byte: Option<u64>,
}

impl Position {
    /// A position that knows only its line.
    pub fn line(line: u64) -> Self {
        Position {
            line: Some(line),
            ..Position::default()
        }
    }

    /// A position that knows only its record number.
    pub fn record(record: u64) -> Self {
        Position {
            record: Some(record),
            ..Position::default()
        }
    }

    fn is_empty(&self) -> bool {
        self.line.is_none() && self.record.is_none() && self.byte.is_none()
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(l) = self.line {
            parts.push(format!("line {l}"));
        }
        if let Some(r) = self.record {
            parts.push(format!("record {r}"));
        }
        if let Some(b) = self.byte {
            parts.push(format!("byte {b}"));
        }
        f.write_str(&parts.join(", "))
    }
}

struct Inner {
    kind: ErrorKind,
    message: String,
    path: Option<PathBuf>,
    position: Position,
    origin: Option<Origin>,
    failure: Option<Cow<'static, str>>,
    /// The name of a kind this version does not know (from a newer plugin
    /// or peer); `kind` is then [`ErrorKind::Other`].
    unknown_kind: Option<Box<str>>,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

/// An error with a kind, a message, and optional context: the file, the
/// position in it, and where it comes from (a plugin, for example).
///
/// It displays on one line: `plugin 'ltsv': data.ltsv: line 3: message`.
pub struct Error(Box<Inner>);

impl Error {
    /// A new error of `kind` with a message.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error(Box::new(Inner {
            kind,
            message: message.into(),
            path: None,
            position: Position::default(),
            origin: None,
            failure: None,
            unknown_kind: None,
            source: None,
        }))
    }

    /// An error whose kind comes by its stable name from elsewhere (a
    /// plugin, another process): a name this version does not know is kept
    /// ([`Error::kind_name`]) and shown, with [`ErrorKind::Other`] as the
    /// kind, rather than lost.
    pub fn of_kind_named(name: &str, message: impl Into<String>) -> Self {
        match ErrorKind::from_name(name) {
            Some(kind) => Error::new(kind, message),
            None => {
                let mut e = Error::new(ErrorKind::Other, message);
                e.0.unknown_kind = Some(name.into());
                e
            }
        }
    }

    /// A parse error at a position.
    pub fn parse(message: impl Into<String>, position: Position) -> Self {
        Error::new(ErrorKind::Parse, message).with_position(position)
    }

    /// An I/O error with a short description of what was being done.
    pub fn io(context: impl Into<String>, err: std::io::Error) -> Self {
        Error::from_io(err).context(context)
    }

    /// A failure of a provider from outside the core: `failure` is its
    /// class in the terms of whoever added the provider (a stable word such
    /// as `"abi-mismatch"`), `origin` where it comes from.
    pub fn provider(
        failure: impl Into<Cow<'static, str>>,
        origin: Origin,
        message: impl Into<String>,
    ) -> Self {
        let mut e = Error::new(ErrorKind::Provider, message);
        e.0.failure = Some(failure.into());
        e.0.origin = Some(origin);
        e
    }

    /// Converts an I/O error, recovering an [`Error`] that was wrapped in it
    /// (codecs and formats pass errors through `std::io::Read`).
    pub fn from_io(err: std::io::Error) -> Self {
        if err.get_ref().is_some_and(|e| e.is::<Error>()) {
            let inner = err.into_inner().expect("checked above");
            return *inner.downcast::<Error>().expect("checked above");
        }
        let kind = match err.kind() {
            std::io::ErrorKind::InvalidData => ErrorKind::Parse,
            _ => ErrorKind::Io,
        };
        let message = err.to_string();
        Error::new(kind, message)
    }

    /// Wraps this error into an `std::io::Error`, so it can travel through
    /// `Read`/`Write` and come back out intact with [`Error::from_io`].
    pub fn into_io(self) -> std::io::Error {
        std::io::Error::other(self)
    }

    /// The kind of error.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// For a provider's failure ([`ErrorKind::Provider`]), its class.
    pub fn failure(&self) -> Option<&str> {
        self.0.failure.as_deref()
    }

    /// The kind's stable name: [`ErrorKind::name`], or the name of a kind
    /// this version does not know, as it came ([`Error::of_kind_named`]).
    pub fn kind_name(&self) -> &str {
        self.0.unknown_kind.as_deref().unwrap_or(self.0.kind.name())
    }

    /// The message, without context.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The file the error is about, if known.
    pub fn path(&self) -> Option<&Path> {
        self.0.path.as_deref()
    }

    /// The position in the input, if known.
    pub fn position(&self) -> Position {
        self.0.position
    }

    /// Where the error comes from, when a provider added from outside the
    /// core raised it.
    pub fn origin(&self) -> Option<&Origin> {
        self.0.origin.as_ref()
    }

    /// Adds the file, unless one is already set (the innermost file wins).
    pub fn with_path(mut self, path: impl AsRef<Path>) -> Self {
        if self.0.path.is_none() {
            self.0.path = Some(path.as_ref().to_path_buf());
        }
        self
    }

    /// Sets position fields that are not already known.
    pub fn with_position(mut self, pos: Position) -> Self {
        let p = &mut self.0.position;
        p.line = p.line.or(pos.line);
        p.record = p.record.or(pos.record);
        p.byte = p.byte.or(pos.byte);
        self
    }

    /// Says where the error comes from, unless that is already said.
    pub fn with_origin(mut self, origin: Origin) -> Self {
        if self.0.origin.is_none() {
            self.0.origin = Some(origin);
        }
        self
    }

    /// Prefixes the message with what was being done.
    pub fn context(mut self, what: impl Into<String>) -> Self {
        let what = what.into();
        if !what.is_empty() {
            self.0.message = format!("{what}: {}", self.0.message);
        }
        self
    }

    /// Adds a note after the message, in parentheses: what the reader can
    /// do about it, say. The kind and the context stay.
    pub fn with_note(mut self, note: impl fmt::Display) -> Self {
        self.0.message = format!("{} ({note})", self.0.message);
        self
    }

    /// Attaches an underlying error, kept for `source()` but not printed twice.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.0.source = Some(Box::new(source));
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(o) = &self.0.origin {
            write!(f, "{o}: ")?;
        }
        if let Some(path) = &self.0.path {
            write!(f, "{}: ", path.display())?;
        }
        if !self.0.position.is_empty() {
            write!(f, "{}: ", self.0.position)?;
        }
        f.write_str(&self.0.message)?;
        if let Some(kind) = &self.0.unknown_kind {
            write!(
                f,
                " (an error of kind '{kind}', which this version does not know)"
            )?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.0.kind)
            .field("message", &self.0.message)
            .field("path", &self.0.path)
            .field("position", &self.0.position)
            .field("origin", &self.0.origin)
            .field("failure", &self.0.failure)
            .field("unknown_kind", &self.0.unknown_kind)
            .finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0
            .source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl From<std::io::Error> for Error {
    fn from(err: std::io::Error) -> Self {
        Error::from_io(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_has_all_context_on_one_line() {
        let e = Error::parse("unterminated quote", Position::line(3))
            .with_path("a.csv")
            .with_origin(Origin {
                kind: "plugin",
                name: "ltsv".into(),
            });
        assert_eq!(
            e.to_string(),
            "plugin 'ltsv': a.csv: line 3: unterminated quote"
        );
        assert_eq!(e.kind(), ErrorKind::Parse);
    }

    #[test]
    fn every_kind_has_one_stable_name_and_unknown_names_are_kept() {
        for &k in ErrorKind::ALL {
            assert_eq!(ErrorKind::from_name(k.name()), Some(k));
            assert_eq!(Error::of_kind_named(k.name(), "m").kind(), k);
        }
        let names: std::collections::BTreeSet<&str> =
            ErrorKind::ALL.iter().map(|k| k.name()).collect();
        assert_eq!(names.len(), ErrorKind::ALL.len());
        let e = Error::of_kind_named("quota-exceeded", "too much");
        assert_eq!(e.kind(), ErrorKind::Other);
        assert_eq!(e.kind_name(), "quota-exceeded");
        assert_eq!(
            e.to_string(),
            "too much (an error of kind 'quota-exceeded', which this version does not know)"
        );
        assert_eq!(
            serde_json::to_string(&ErrorKind::UnknownFormat).unwrap(),
            "\"unknown-format\""
        );
    }

    #[test]
    fn errors_survive_a_trip_through_io() {
        let e = Error::new(ErrorKind::Schema, "bad").with_position(Position::record(2));
        let back = Error::from_io(e.into_io());
        assert_eq!(back.kind(), ErrorKind::Schema);
        assert_eq!(back.position().record, Some(2));
    }
}
