//! The error type of the core, with a kind and optional context.
//!
//! Context is added by wrapping ([`Error::with_path`], [`Error::with_position`],
//! [`Error::with_plugin`]) rather than by formatting it into every message, so
//! that callers can inspect the kind and the place separately.

use std::fmt;
use std::path::{Path, PathBuf};

/// A convenient alias for results whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, independent of where.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// An I/O error from the operating system.
    Io,
    /// The input is not well-formed for its format (an unterminated quote, bad JSON).
    Parse,
    /// The input is not valid text in the expected encoding.
    Encoding,
    /// Compressed input is corrupt or truncated.
    Compression,
    /// No format with that id, or no format recognised the input.
    UnknownFormat,
    /// No codec with that id.
    UnknownCodec,
    /// No driver handles that URI scheme.
    UnknownDriver,
    /// No rule with that name.
    UnknownRule,
    /// No engine with that id.
    UnknownEngine,
    /// No hook with that id.
    UnknownHook,
    /// A hook stopped the run.
    Hook,
    /// An option that no component accepts.
    UnknownOption,
    /// An option whose value is not valid.
    InvalidOption,
    /// The provider does not support the operation (writing a read-only format).
    Unsupported,
    /// A record does not fit the shape the writer fixed (CSV header).
    Schema,
    /// Two providers claim the same id and no override was allowed.
    Conflict,
    /// A database driver failed.
    Driver,
    /// A processing engine failed.
    Engine,
    /// The caller passed something invalid (a bad URI, a missing table name).
    InvalidInput,
    /// A plugin failed; [`Error::plugin_kind`] says how.
    Plugin(PluginErrorKind),
    /// Anything else.
    Other,
}

/// How a plugin failed. Tests and tools match on these exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PluginErrorKind {
    /// The file is not a loadable shared library.
    NotALibrary,
    /// The library does not export the plugin root symbol.
    MissingSymbol,
    /// The library was built against an incompatible layout of the plugin ABI.
    AbiMismatch,
    /// The library was built for another major version of the plugin API.
    VersionMismatch,
    /// The manifest is not valid TOML or lacks required keys.
    BadManifest,
    /// The manifest names a library file that does not exist.
    MissingLibrary,
    /// The plugin panicked; the panic was contained.
    Panic,
    /// The plugin crashed while being examined in a child process.
    Crashed,
    /// The library does not match the sha256 its manifest pins.
    HashMismatch,
    /// The file or its directory has unsafe permissions or ownership.
    Untrusted,
    /// The plugin provides something other than what its manifest declares.
    ManifestMismatch,
    /// The plugin returned an error from a call.
    CallFailed,
    /// Any other load failure.
    LoadFailed,
}

impl PluginErrorKind {
    /// A short stable name, used in listings and the scan cache.
    pub fn as_str(self) -> &'static str {
        match self {
            PluginErrorKind::NotALibrary => "not-a-library",
            PluginErrorKind::MissingSymbol => "missing-symbol",
            PluginErrorKind::AbiMismatch => "abi-mismatch",
            PluginErrorKind::VersionMismatch => "version-mismatch",
            PluginErrorKind::BadManifest => "bad-manifest",
            PluginErrorKind::MissingLibrary => "missing-library",
            PluginErrorKind::Panic => "panic",
            PluginErrorKind::Crashed => "crashed",
            PluginErrorKind::HashMismatch => "hash-mismatch",
            PluginErrorKind::Untrusted => "untrusted",
            PluginErrorKind::ManifestMismatch => "manifest-mismatch",
            PluginErrorKind::CallFailed => "call-failed",
            PluginErrorKind::LoadFailed => "load-failed",
        }
    }

    /// The inverse of [`PluginErrorKind::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        use PluginErrorKind::*;
        [
            NotALibrary,
            MissingSymbol,
            AbiMismatch,
            VersionMismatch,
            BadManifest,
            MissingLibrary,
            Panic,
            Crashed,
            HashMismatch,
            Untrusted,
            ManifestMismatch,
            CallFailed,
            LoadFailed,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
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
    plugin: Option<String>,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

/// An error with a kind, a message, and optional context: the file, the
/// position in it, and the plugin involved.
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
            plugin: None,
            source: None,
        }))
    }

    /// A parse error at a position.
    pub fn parse(message: impl Into<String>, position: Position) -> Self {
        Error::new(ErrorKind::Parse, message).with_position(position)
    }

    /// An I/O error with a short description of what was being done.
    pub fn io(context: impl Into<String>, err: std::io::Error) -> Self {
        Error::from_io(err).context(context)
    }

    /// A plugin error of the given kind.
    pub fn plugin(
        kind: PluginErrorKind,
        plugin: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Error::new(ErrorKind::Plugin(kind), message).with_plugin(plugin)
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

    /// For plugin errors, how the plugin failed.
    pub fn plugin_kind(&self) -> Option<PluginErrorKind> {
        match self.0.kind {
            ErrorKind::Plugin(k) => Some(k),
            _ => None,
        }
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

    /// The plugin involved, if any.
    pub fn plugin_name(&self) -> Option<&str> {
        self.0.plugin.as_deref()
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

    /// Names the plugin, unless one is already named.
    pub fn with_plugin(mut self, plugin: impl Into<String>) -> Self {
        if self.0.plugin.is_none() {
            self.0.plugin = Some(plugin.into());
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

    /// Attaches an underlying error, kept for `source()` but not printed twice.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.0.source = Some(Box::new(source));
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(p) = &self.0.plugin {
            write!(f, "plugin '{p}': ")?;
        }
        if let Some(path) = &self.0.path {
            write!(f, "{}: ", path.display())?;
        }
        if !self.0.position.is_empty() {
            write!(f, "{}: ", self.0.position)?;
        }
        f.write_str(&self.0.message)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.0.kind)
            .field("message", &self.0.message)
            .field("path", &self.0.path)
            .field("position", &self.0.position)
            .field("plugin", &self.0.plugin)
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
            .with_plugin("ltsv");
        assert_eq!(
            e.to_string(),
            "plugin 'ltsv': a.csv: line 3: unterminated quote"
        );
        assert_eq!(e.kind(), ErrorKind::Parse);
    }

    #[test]
    fn errors_survive_a_trip_through_io() {
        let e = Error::new(ErrorKind::Schema, "bad").with_position(Position::record(2));
        let back = Error::from_io(e.into_io());
        assert_eq!(back.kind(), ErrorKind::Schema);
        assert_eq!(back.position().record, Some(2));
    }

    #[test]
    fn plugin_kind_names_round_trip() {
        for k in [
            PluginErrorKind::NotALibrary,
            PluginErrorKind::Crashed,
            PluginErrorKind::LoadFailed,
        ] {
            assert_eq!(PluginErrorKind::parse(k.as_str()), Some(k));
        }
    }
}
