//! Opening inputs and outputs: detection, options, and the `Reader` and
//! `Writer` types.
//!
//! Detection, in order: `--format`/`--codec` given by the caller; the
//! compound, case-insensitive file extension (`data.CSV.GZ`); magic bytes
//! (of a codec, then of a format inside the decompressed stream); and last,
//! sniffing the decompressed content (JSON array, JSON lines, or delimited
//! text by its delimiter).

use std::path::Path;
use std::sync::Arc;

use crate::error::{Error, ErrorKind, Result};
use crate::io::{AtomicFile, BoxRead, BoxSink, WriteSink};
use crate::known::KnownKind;
use crate::options::{OptionSpec, OptionType, Options};
use crate::provider::{Codec, Format, Source};
use crate::registry::Registry;

mod reader;
mod writer;

pub use reader::Reader;
pub use writer::Writer;

/// How many bytes of a stream are examined for magic bytes and sniffing.
const SNIFF_BYTES: usize = 64 * 1024;

/// What to open and how. Every field is optional; what is not given is
/// detected.
///
/// ```
/// use iterable_core::OpenOptions;
/// let opts = OpenOptions::new().format("csv").option("delimiter", ";");
/// assert_eq!(opts.options.get("delimiter"), Some(";"));
/// ```
#[derive(Clone, Debug, Default)]
pub struct OpenOptions {
    /// The format id, overriding detection.
    pub format: Option<String>,
    /// The codec id (`none` for no codec), overriding detection.
    pub codec: Option<String>,
    /// Options for the format, codec or driver (`level` goes to the codec).
    pub options: Options,
    /// For database URIs: the table to read or write.
    pub table: Option<String>,
    /// For database URIs: a query to read.
    pub query: Option<String>,
}

impl OpenOptions {
    /// Nothing set: detect everything.
    pub fn new() -> Self {
        OpenOptions::default()
    }

    /// Sets the format id.
    pub fn format(mut self, id: impl Into<String>) -> Self {
        self.format = Some(id.into());
        self
    }

    /// Sets the codec id (`none` for no codec).
    pub fn codec(mut self, id: impl Into<String>) -> Self {
        self.codec = Some(id.into());
        self
    }

    /// Sets one option.
    pub fn option(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.options.set(key, value);
        self
    }

    /// Sets the table, for database URIs.
    pub fn table(mut self, table: impl Into<String>) -> Self {
        self.table = Some(table.into());
        self
    }

    /// Sets a query, for database URIs.
    pub fn query(mut self, query: impl Into<String>) -> Self {
        self.query = Some(query.into());
        self
    }
}

/// The codec chosen for a stream: none, or one.
type CodecChoice = Option<Arc<dyn Codec>>;

/// The `level` option every codec with levels accepts.
fn level_spec(codec: &dyn Codec) -> Option<OptionSpec> {
    codec.info().levels.map(|(min, max, default)| {
        OptionSpec::new(
            "level",
            OptionType::Int {
                min: min as i64,
                max: max as i64,
            },
            "compression level",
        )
        .default_value(&default.to_string())
    })
}

/// Splits a file name into its lower-case extensions: `My.Data.JSONL.zst`
/// gives `["data", "jsonl", "zst"]`.
pub fn extensions(name: &str) -> Vec<String> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let base = base.trim_start_matches('.');
    base.split('.')
        .skip(1)
        .map(str::to_ascii_lowercase)
        .collect()
}

/// If `target` is a URI with a scheme (`sqlite:///tmp/a.db`), the scheme.
pub fn uri_scheme(target: &str) -> Option<&str> {
    let (scheme, rest) = target.split_once("://")?;
    let ok = !scheme.is_empty()
        && scheme.len() > 1 // not a Windows drive letter
        && scheme.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    let _ = rest;
    ok.then_some(scheme)
}

impl Registry {
    /// Opens a file, or a database URI, for reading.
    ///
    /// ```no_run
    /// use iterable_core::{Registry, OpenOptions};
    /// let registry = Registry::with_builtins();
    /// for record in registry.open("data.csv.gz", &OpenOptions::new())? {
    ///     println!("{:?}", record?);
    /// }
    /// # Ok::<(), iterable_core::Error>(())
    /// ```
    pub fn open(&self, target: impl AsRef<Path>, opts: &OpenOptions) -> Result<Reader> {
        let target = target.as_ref();
        let text = target.to_string_lossy();
        if let Some(scheme) = uri_scheme(&text) {
            return self.open_uri(scheme, &text, opts);
        }
        let file = crate::io::open_file(target)?;
        let size = file
            .metadata()
            .ok()
            .filter(|m| m.is_file())
            .map(|m| m.len());
        let progress = crate::io::InputProgress::new(size);
        let name = text.into_owned();
        let plain = size.map(|s| (target, s));
        self.open_input(progress.counting(file), Some(&name), plain, opts)
            .map_err(|e| e.with_path(target))
            .map(|r| {
                r.with_name(target.display().to_string())
                    .with_progress(progress)
            })
    }

    /// Opens a stream (stdin, a socket) for reading. `name` is used for
    /// extension-based detection and in messages, when there is one.
    pub fn open_stream(
        &self,
        input: BoxRead,
        name: Option<&str>,
        opts: &OpenOptions,
    ) -> Result<Reader> {
        self.open_input(input, name, None, opts)
    }

    /// [`Registry::open_stream`]; `plain` is the regular file the input
    /// reads and its size, if it is one, for formats that read a file by
    /// its path and for providers that want the input's length.
    fn open_input(
        &self,
        input: BoxRead,
        name: Option<&str>,
        plain: Option<(&Path, u64)>,
        opts: &OpenOptions,
    ) -> Result<Reader> {
        let size = plain.map(|(_, s)| s);
        let mut exts = name.map(extensions).unwrap_or_default();
        let mut input = input;

        // The codec.
        let codec: Option<Arc<dyn Codec>> = match opts.codec.as_deref() {
            Some(c) if c.eq_ignore_ascii_case("none") => None,
            Some(c) => Some(self.codec(c)?),
            None => match exts.last().and_then(|e| self.codec_for_extension(e)) {
                Some(c) => {
                    exts.pop();
                    Some(c)
                }
                None => {
                    let (head, replay) = crate::io::peek(input, 16)?;
                    input = replay;
                    match self.codec_for_magic(&head) {
                        Some(c) => Some(c),
                        None => {
                            self.refuse_unprovided_codec(exts.last(), "reads")?;
                            None
                        }
                    }
                }
            },
        };
        // With the codec given (`none` included), a codec extension at the end
        // of the name says nothing about the format: skip it.
        if opts.codec.is_some()
            && exts
                .last()
                .is_some_and(|e| self.codec_for_extension(e).is_some())
        {
            exts.pop();
        }
        let mut decoded = match &codec {
            // Decompression runs on a thread of its own, beside the parser.
            Some(c) if crate::io::parallel() => {
                crate::io::read_ahead(c.sized_decoder(input, size)?)?
            }
            Some(c) => c.sized_decoder(input, size)?,
            None => input,
        };

        // The format.
        let mut implied = Options::new();
        let format: Arc<dyn Format> = match opts.format.as_deref() {
            Some(f) => self.format(f)?,
            None => match exts.last().and_then(|e| self.format_for_extension(e)) {
                Some(f) => f,
                None => {
                    let (head, replay) = crate::io::peek(decoded, SNIFF_BYTES)?;
                    decoded = replay;
                    let inside = codec
                        .as_ref()
                        .map(|c| format!(" (inside {})", c.info().id))
                        .unwrap_or_default();
                    let (f, o) = match self.format_for_magic(&head) {
                        Some(f) => (f, Options::new()),
                        None => {
                            self.refuse_to_guess(&inside)?;
                            self.refuse_unprovided_format(exts.last(), "reads")?;
                            self.sniff(&head).ok_or_else(|| {
                                Error::new(
                                    ErrorKind::UnknownFormat,
                                    format!(
                                        "cannot tell the format{inside}: no known extension, magic bytes or content; use --format (known formats: {})",
                                        self.format_ids().join(", ")
                                    ),
                                )
                            })?
                        }
                    };
                    implied = o;
                    f
                }
            },
        };
        if !format.info().can_read {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!("format '{}' cannot be read", format.info().id),
            ));
        }

        // Options: check all of them, then hand each to its component.
        let mut format_opts = opts.options.clone();
        check_options(&format_opts, &format, codec.as_deref())?;
        let _level = format_opts.split_off(&["level"]);
        for (k, v) in implied.iter() {
            if !format_opts.contains(k) {
                format_opts.set(k, v);
            }
        }
        tracing::debug!(
            format = %format.info().id,
            codec = codec.as_ref().map(|c| c.info().id.as_str()).unwrap_or("none"),
            "opening for reading"
        );
        // A plain file, for a format that reads files by their path (one
        // that must seek): it opens the file itself.
        let plain = plain.filter(|_| codec.is_none()).map(|(p, _)| p);
        let by_path = plain.and_then(|p| format.path_reader(p, &format_opts));
        let inner = match by_path {
            Some(reader) => {
                tracing::debug!(format = %format.info().id, "reading the file by its path");
                reader?
            }
            // Without a codec, the decoded stream is the file itself.
            None => format.sized_reader(decoded, size.filter(|_| codec.is_none()), &format_opts)?,
        };
        let reader = Reader::new(
            inner,
            format.info().id.clone(),
            codec.map(|c| c.info().id.clone()),
        );
        Ok(match plain {
            Some(p) => reader.with_schema_source(Arc::clone(&format), p.to_path_buf(), format_opts),
            None => reader,
        })
    }

    /// The format whose [`Format::sniff`] scores `head` highest.
    fn sniff(&self, head: &[u8]) -> Option<(Arc<dyn Format>, Options)> {
        let mut best: Option<(u32, Arc<dyn Format>, Options)> = None;
        for f in self.active_formats() {
            if !f.info().can_read {
                continue;
            }
            if let Some((score, o)) = f.sniff(head) {
                if best.as_ref().is_none_or(|(s, _, _)| score > *s) {
                    best = Some((score, Arc::clone(f), o));
                }
            }
        }
        best.map(|(_, f, o)| (f, o))
    }

    /// An extension that no codec claims but that names a well-known codec
    /// (`br`, `zip`) is refused rather than read as something else, unless
    /// a format claims it.
    fn refuse_unprovided_codec(&self, ext: Option<&String>, verb: &str) -> Result<()> {
        let Some(ext) = ext else { return Ok(()) };
        match crate::known::well_known(ext) {
            Some((KnownKind::Codec, name)) if self.format_for_extension(ext).is_none() => {
                Err(Error::new(
                    ErrorKind::UnknownCodec,
                    format!(
                        "'.{ext}' is {name}, and no installed codec {verb} it: install a plugin that provides it \
                         (known codecs: {}), or name one with --codec (--codec none for the bytes as they are)",
                        self.codec_ids().join(", ")
                    ),
                ))
            }
            _ => Ok(()),
        }
    }

    /// An extension that no format claims but that names a well-known
    /// format (`parquet`, `yaml`), or an archive or codec left where the
    /// format's extension stands (`x.tar.gz`), is refused rather than
    /// guessed at.
    fn refuse_unprovided_format(&self, ext: Option<&String>, verb: &str) -> Result<()> {
        let Some(ext) = ext else { return Ok(()) };
        let Some((kind, name)) = crate::known::well_known(ext) else {
            return Ok(());
        };
        let what = match kind {
            KnownKind::Format => "format",
            KnownKind::Codec => "format or codec",
        };
        Err(Error::new(
            ErrorKind::UnknownFormat,
            format!(
                "'.{ext}' is {name}, and no installed {what} {verb} it: install a plugin that provides it \
                 (known formats: {}), or name one with --format",
                self.format_ids().join(", ")
            ),
        ))
    }

    /// Content sniffing is a guess among the providers this registry knows.
    /// When a source from outside failed before saying what it provides
    /// ([`Registry::add_unknown_claims`]), the input may well be its, so the
    /// guess is refused, naming that source.
    fn refuse_to_guess(&self, inside: &str) -> Result<()> {
        match self.unknown_claims() {
            [] => Ok(()),
            [(origin, why)] => Err(Error::new(
                ErrorKind::UnknownFormat,
                format!(
                    "cannot tell the format{inside} from the name or magic bytes, and this {} failed before it \
                     said what it provides ({why}), so the content is not guessed at: fix or remove it, \
                     or name the format with --format",
                    origin.kind
                ),
            )
            .with_origin(origin.clone())),
            many => Err(Error::new(
                ErrorKind::UnknownFormat,
                format!(
                    "cannot tell the format{inside} from the name or magic bytes, and these failed before \
                     they said what they provide, so the content is not guessed at: {}; fix or remove them, \
                     or name the format with --format",
                    many.iter()
                        .map(|(o, why)| format!("{o} ({why})"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
        }
    }

    fn open_uri(&self, scheme: &str, uri: &str, opts: &OpenOptions) -> Result<Reader> {
        let driver = self.uri_driver(scheme)?;
        let id = driver.info().id.clone();
        let mut conn = driver.connect(uri, &opts.options)?;
        let source = match (&opts.query, &opts.table) {
            (Some(q), _) => Source::Query(q.clone()),
            (None, Some(t)) => Source::Table(t.clone()),
            (None, None) => {
                let tables = conn.list_tables().unwrap_or_default();
                return Err(Error::new(
                    ErrorKind::InvalidInput,
                    format!(
                        "reading {uri} needs --table NAME or --query SQL; tables: {}",
                        list_or_none(&tables)
                    ),
                ));
            }
        };
        let inner = conn.read(&source, &opts.options)?;
        Ok(Reader::new(inner, id, None).with_name(uri.to_owned()))
    }

    /// Creates a file (written atomically: it appears only when the writer
    /// finishes), or opens a database URI for writing.
    pub fn create(&self, target: impl AsRef<Path>, opts: &OpenOptions) -> Result<Writer> {
        let target = target.as_ref();
        let text = target.to_string_lossy();
        if let Some(scheme) = uri_scheme(&text) {
            return self.create_uri(scheme, &text, opts);
        }
        let (format, codec) = self
            .detect_output(Some(&text), opts)
            .map_err(|e| e.with_path(target))?;
        let sink: BoxSink = Box::new(AtomicFile::create(target)?);
        self.writer_for(sink, format, codec, opts)
            .map_err(|e| e.with_path(target))
            .map(|w| w.with_name(target.display().to_string()))
    }

    /// Opens a writer over any sink (stdout, a buffer). `name` is used for
    /// extension-based detection when there is one.
    pub fn create_stream(
        &self,
        output: BoxSink,
        name: Option<&str>,
        opts: &OpenOptions,
    ) -> Result<Writer> {
        let (format, codec) = self.detect_output(name, opts)?;
        self.writer_for(output, format, codec, opts)
    }

    /// Opens a writer over stdout.
    pub fn create_stdout(&self, opts: &OpenOptions) -> Result<Writer> {
        self.create_stream(Box::new(WriteSink(std::io::stdout())), None, opts)
            .map(|w| w.with_name("<stdout>".into()))
    }

    /// The format `create` would write `target` in, with `opts`.
    pub fn output_format(&self, target: &str, opts: &OpenOptions) -> Result<Arc<dyn Format>> {
        self.detect_output(Some(target), opts).map(|(f, _)| f)
    }

    fn detect_output(
        &self,
        name: Option<&str>,
        opts: &OpenOptions,
    ) -> Result<(Arc<dyn Format>, CodecChoice)> {
        let mut exts = name.map(extensions).unwrap_or_default();
        let codec = match opts.codec.as_deref() {
            Some(c) if c.eq_ignore_ascii_case("none") => None,
            Some(c) => Some(self.codec(c)?),
            None => match exts.last().and_then(|e| self.codec_for_extension(e)) {
                Some(c) => {
                    exts.pop();
                    Some(c)
                }
                None => {
                    self.refuse_unprovided_codec(exts.last(), "writes")?;
                    None
                }
            },
        };
        // With the codec given (`none` included), a codec extension at the end
        // of the name says nothing about the format: skip it.
        if opts.codec.is_some()
            && exts
                .last()
                .is_some_and(|e| self.codec_for_extension(e).is_some())
        {
            exts.pop();
        }
        let format = match opts.format.as_deref() {
            Some(f) => self.format(f)?,
            None => match exts.last().and_then(|e| self.format_for_extension(e)) {
                Some(f) => f,
                None => {
                    self.refuse_unprovided_format(exts.last(), "writes")?;
                    let unknown: Vec<String> = self
                        .unknown_claims()
                        .iter()
                        .map(|(o, why)| {
                            format!("; {o} failed before it said what it provides ({why})")
                        })
                        .collect();
                    return Err(Error::new(
                        ErrorKind::UnknownFormat,
                        format!(
                            "cannot tell the output format from the name; use --format (known formats: {}){}",
                            self.format_ids().join(", "),
                            unknown.concat()
                        ),
                    ));
                }
            },
        };
        if !format.info().can_write {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!("format '{}' cannot be written", format.info().id),
            ));
        }
        Ok((format, codec))
    }

    fn writer_for(
        &self,
        sink: BoxSink,
        format: Arc<dyn Format>,
        codec: Option<Arc<dyn Codec>>,
        opts: &OpenOptions,
    ) -> Result<Writer> {
        let mut format_opts = opts.options.clone();
        check_options(&format_opts, &format, codec.as_deref())?;
        let level_opts = format_opts.split_off(&["level"]);
        let level = level_opts.int_or("level", i64::MIN)?;
        let level = (level != i64::MIN).then_some(level as i32);
        let sink = match &codec {
            // Compression runs on a thread of its own, beside the writer.
            Some(c) if crate::io::parallel() => crate::io::write_behind(c.encoder(sink, level)?)?,
            Some(c) => c.encoder(sink, level)?,
            None => sink,
        };
        tracing::debug!(format = %format.info().id, "opening for writing");
        let inner = format.writer(sink, &format_opts)?;
        Ok(Writer::new(inner))
    }

    fn create_uri(&self, scheme: &str, uri: &str, opts: &OpenOptions) -> Result<Writer> {
        let driver = self.uri_driver(scheme)?;
        let table = opts.table.as_deref().ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidInput,
                format!("writing to {uri} needs --table NAME"),
            )
        })?;
        let mut conn = driver.connect(uri, &opts.options)?;
        let inner = conn.write(table, &opts.options)?;
        Ok(Writer::new(inner).with_name(uri.to_owned()))
    }
}

impl Registry {
    /// The driver for a URI scheme, or an error listing the known schemes.
    fn uri_driver(&self, scheme: &str) -> Result<Arc<dyn crate::provider::Driver>> {
        self.driver_for_scheme(scheme).ok_or_else(|| {
            Error::new(
                ErrorKind::UnknownDriver,
                format!(
                    "no driver handles the URI scheme '{scheme}'; known schemes: {}",
                    list_or_none(&self.schemes())
                ),
            )
        })
    }
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items.join(", ")
    }
}

fn check_options(
    opts: &Options,
    format: &Arc<dyn Format>,
    codec: Option<&dyn Codec>,
) -> Result<()> {
    format.prepare()?;
    if let Some(c) = codec {
        c.prepare()?;
    }
    let level = codec.and_then(level_spec);
    let mut specs: Vec<&OptionSpec> = format.info().options.iter().collect();
    specs.extend(level.as_ref());
    let what = match codec {
        Some(c) => format!("format '{}' with codec '{}'", format.info().id, c.info().id),
        None => format!("format '{}'", format.info().id),
    };
    opts.validate(&specs, &what)
}
