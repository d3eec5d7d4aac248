//! The [LZ4 frame format](https://github.com/lz4/lz4/blob/dev/doc/lz4_Frame_format.md)
//! (`.lz4`, magic `04 22 4D 18`) as an IterableData codec plugin, built on
//! the pure-Rust [`lz4_flex`] crate. It composes with every format:
//! `x.csv.lz4`, `x.ltsv.lz4`, ...
//!
//! # Decoding
//!
//! * Reads what the reference `lz4` tool writes: any block size, linked
//!   (`-BD`) or independent blocks, with or without block checksums (`-BX`),
//!   content checksum (`--no-frame-crc`) and content size (`--content-size`).
//! * Reads **concatenated frames** (`cat a.lz4 b.lz4`) as one stream, and
//!   skips skippable frames (magic `0x184D2A50..=0x184D2A5F`).
//! * Every failure is a `COMPRESSION` error that says what is wrong and
//!   where (frame number and compressed byte offset): a truncated stream
//!   (one that ends before a frame's end mark), a checksum mismatch, a
//!   corrupt block, bytes after a frame that are not another frame. Errors
//!   of the underlying input pass through unchanged. Nothing panics.
//! * Not supported (clear error): the legacy format (`lz4 -l`) and frames
//!   that need a dictionary (`lz4 -D`).
//! * An empty input decodes to empty output.
//!
//! # Encoding
//!
//! One frame with 4 MiB independent blocks and a content checksum, like
//! `lz4 -1` (the tool's default). There are no compression levels
//! (`lz4_flex` has a single fast compressor): the codec declares the level
//! range `0..=0`. Finishing the encoder writes the end mark and the content
//! checksum.

use std::io::{self, BufRead, Read, Write};
use std::sync::{Arc, Mutex, MutexGuard};

use iterable_plugin_api::RError;
use iterable_plugin_api::prelude::*;
use lz4_flex::frame::{
    BlockMode, BlockSize, Error as FrameError, FrameDecoder, FrameEncoder, FrameInfo,
};

/// The first four bytes of an LZ4 frame (`0x184D2204`, little-endian).
pub const FRAME_MAGIC: [u8; 4] = [0x04, 0x22, 0x4D, 0x18];

/// The first four bytes of the legacy LZ4 format (`lz4 -l`), which is refused.
const LEGACY_MAGIC: [u8; 4] = [0x02, 0x21, 0x4C, 0x18];

/// The LZ4 frame codec (see the [crate docs](crate)).
#[derive(Clone, Copy, Debug, Default)]
pub struct Lz4;

impl Codec for Lz4 {
    fn info(&self) -> CodecSpec {
        CodecSpec::new("lz4")
            .description("LZ4 frame format (as written by the lz4 tool); reads concatenated frames")
            .extensions(["lz4"])
            .magic(FRAME_MAGIC)
    }

    fn decoder(&self, input: Input) -> Result<Box<dyn Read + Send>> {
        Ok(Box::new(Lz4Decoder::new(input)))
    }

    fn encoder(&self, output: Output, _level: i32) -> Result<Encoder> {
        Ok(Encoder::with_finish(
            Lz4Encoder::new(output),
            Lz4Encoder::finish,
        ))
    }
}

// ---------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------

/// The compressed input, counting what the frame decoder consumed.
struct Tracked<R> {
    inner: R,
    /// Compressed bytes consumed so far.
    pos: u64,
    /// Whether a read in the current frame found the end of the input.
    eof: bool,
    /// The first bytes of the current frame (its magic number).
    head: [u8; 4],
    head_len: usize,
}

impl<R: Read> Read for Tracked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && !buf.is_empty() {
            self.eof = true;
        }
        let take = (self.head.len() - self.head_len).min(n);
        self.head[self.head_len..self.head_len + take].copy_from_slice(&buf[..take]);
        self.head_len += take;
        self.pos += n as u64;
        Ok(n)
    }
}

/// Decompresses a stream of LZ4 frames from `R` (see the [crate docs](crate)).
///
/// `lz4_flex`'s `FrameDecoder` reports the end of every frame as the end of
/// the stream and treats an input that stops between blocks as a clean end.
/// This wrapper starts a fresh `FrameDecoder` for each frame, continues
/// while input remains, and reports a frame that ends without its end mark
/// as truncated.
pub struct Lz4Decoder<R: BufRead> {
    /// Always `Some` between calls.
    decoder: Option<FrameDecoder<Tracked<R>>>,
    /// Whether a frame has been started and its end mark not yet read.
    in_frame: bool,
    /// 1-based number of the current (or last) frame.
    frame: u64,
    /// The compressed offset where the current frame starts.
    frame_start: u64,
    /// The error that stopped decoding; repeated by every later call.
    failed: Option<Error>,
}

impl<R: BufRead> Lz4Decoder<R> {
    /// A decoder reading compressed bytes from `input`.
    pub fn new(input: R) -> Self {
        let tracked = Tracked {
            inner: input,
            pos: 0,
            eof: false,
            head: [0; 4],
            head_len: 0,
        };
        Self {
            decoder: Some(FrameDecoder::new(tracked)),
            in_frame: false,
            frame: 0,
            frame_start: 0,
            failed: None,
        }
    }

    fn decoder(&mut self) -> io::Result<&mut FrameDecoder<Tracked<R>>> {
        self.decoder
            .as_mut()
            .ok_or_else(|| io::Error::other("lz4 decoder has no input"))
    }

    /// Starts the next frame with a fresh `FrameDecoder`; `false` at the end of the input.
    fn start_frame(&mut self) -> io::Result<bool> {
        if self.decoder()?.get_mut().inner.fill_buf()?.is_empty() {
            return Ok(false);
        }
        let Some(old) = self.decoder.take() else {
            return Err(io::Error::other("lz4 decoder has no input"));
        };
        let mut input = old.into_inner();
        input.eof = false;
        input.head_len = 0;
        self.frame_start = input.pos;
        self.decoder = Some(FrameDecoder::new(input));
        self.frame += 1;
        self.in_frame = true;
        Ok(true)
    }

    fn pos(&self) -> u64 {
        self.decoder.as_ref().map_or(0, |d| d.get_ref().pos)
    }

    fn truncated(&self) -> io::Error {
        Error::compression(format!(
            "truncated LZ4 input: it ends inside frame {} (after {} compressed bytes), before the frame's end mark",
            self.frame,
            self.pos()
        ))
        .into()
    }

    /// A `COMPRESSION` error describing `e` (errors of the input itself pass through).
    fn describe(&self, e: io::Error) -> io::Error {
        if e.get_ref()
            .is_some_and(|inner| inner.is::<Error>() || inner.is::<RError>())
        {
            return e;
        }
        let frame = self.frame;
        let what = match e.get_ref().and_then(|i| i.downcast_ref::<FrameError>()) {
            Some(FrameError::WrongMagicNumber) if frame == 1 => {
                "not LZ4 frame data: the input does not start with the LZ4 frame magic number 04 22 4D 18"
                    .to_string()
            }
            Some(FrameError::WrongMagicNumber) => format!(
                "unexpected bytes after LZ4 frame {}: no LZ4 frame magic number at compressed byte {}",
                frame - 1,
                self.frame_start
            ),
            Some(FrameError::HeaderChecksumError) => {
                "frame header checksum mismatch (corrupt data)".to_string()
            }
            Some(FrameError::BlockChecksumError) => {
                "block checksum mismatch (corrupt data)".to_string()
            }
            Some(FrameError::ContentChecksumError) => {
                "content checksum mismatch (corrupt data)".to_string()
            }
            Some(FrameError::ContentLengthError { expected, actual }) => format!(
                "the frame header declares {expected} bytes of content, the frame holds {actual} (corrupt data)"
            ),
            Some(FrameError::DecompressionError(d)) => format!("corrupt compressed block: {d}"),
            Some(FrameError::BlockTooBig) => {
                "a block is larger than the frame's maximum block size (corrupt data)".to_string()
            }
            Some(FrameError::UnsupportedBlocksize(code)) => {
                format!("invalid block size code {code} in the frame header")
            }
            Some(FrameError::UnsupportedVersion(bits)) => {
                format!("unsupported frame version bits {bits:#04x} in the frame header")
            }
            Some(FrameError::ReservedBitsSet) => {
                "reserved bits are set in the frame header (corrupt data)".to_string()
            }
            Some(FrameError::DictionaryNotSupported) => {
                "the frame needs a dictionary (lz4 -D), which is not supported".to_string()
            }
            Some(other) => format!("{other:?}"),
            None if e.kind() == io::ErrorKind::UnexpectedEof => return self.truncated(),
            None => e.to_string(),
        };
        Error::compression(format!(
            "{what} (frame {frame}, near compressed byte {})",
            self.pos()
        ))
        .into()
    }

    /// Skips the `len` bytes of a skippable frame's payload.
    fn skip(&mut self, len: u32) -> io::Result<()> {
        let input = self.decoder()?.get_mut();
        let skipped = io::copy(&mut input.take(u64::from(len)), &mut io::sink())?;
        if skipped < u64::from(len) {
            return Err(self.truncated());
        }
        self.in_frame = false;
        Ok(())
    }

    fn read_frames(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if !self.in_frame && !self.start_frame()? {
                return Ok(0);
            }
            let decoder = self.decoder()?;
            let result = decoder.read(buf);
            let input = decoder.get_ref();
            if input.head_len == LEGACY_MAGIC.len() && input.head == LEGACY_MAGIC {
                return Err(Error::unsupported(
                    "the legacy LZ4 format (written by `lz4 -l`) is not supported; \
                     convert it with `lz4 -dc FILE | lz4 -z > NEW.lz4`",
                )
                .into());
            }
            let eof = input.eof;
            match result {
                Ok(0) if eof => return Err(self.truncated()),
                Ok(0) => self.in_frame = false, // end mark read: next frame
                Ok(n) => return Ok(n),
                Err(e) => {
                    let skippable = match e.get_ref().and_then(|i| i.downcast_ref()) {
                        Some(FrameError::SkippableFrame(len)) => Some(*len),
                        _ => None,
                    };
                    match skippable {
                        Some(len) => self.skip(len)?,
                        None => return Err(self.describe(e)),
                    }
                }
            }
        }
    }
}

impl<R: BufRead> Read for Lz4Decoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(e) = &self.failed {
            return Err(e.clone().into());
        }
        if buf.is_empty() {
            return Ok(0);
        }
        self.read_frames(buf).map_err(|e| {
            if e.kind() == io::ErrorKind::Interrupted {
                return e;
            }
            let err = Error::from(e);
            self.failed = Some(err.clone());
            err.into()
        })
    }
}

// ---------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------

type ErrorSlot = Arc<Mutex<Option<Error>>>;

fn lock(slot: &ErrorSlot) -> MutexGuard<'_, Option<Error>> {
    slot.lock().unwrap_or_else(|p| p.into_inner())
}

/// The output as `lz4_flex` sees it: a write error is kept in `slot` and
/// replaced by a plain `io::Error` of the same kind. (`lz4_flex` 0.11
/// panics when its `finish` converts an `io::Error` that carries a payload
/// of another type, which the host's errors do.)
struct Sink<W> {
    inner: W,
    slot: ErrorSlot,
}

impl<W> Sink<W> {
    fn keep(&self, e: io::Error) -> io::Error {
        let kind = e.kind();
        lock(&self.slot).get_or_insert_with(|| Error::from(e));
        io::Error::from(kind)
    }
}

impl<W: Write> Write for Sink<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf).map_err(|e| self.keep(e))
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush().map_err(|e| self.keep(e))
    }
}

/// Compresses into one LZ4 frame written to `W` (see the [crate docs](crate)).
///
/// Call [`finish`](Self::finish) to end the frame; dropping the encoder
/// without it leaves an unterminated (truncated) frame.
pub struct Lz4Encoder<W: Write> {
    frame: FrameEncoder<Sink<W>>,
    slot: ErrorSlot,
}

impl<W: Write> Lz4Encoder<W> {
    /// An encoder writing the compressed frame to `output`.
    pub fn new(output: W) -> Self {
        let info = FrameInfo::new()
            .block_size(BlockSize::Max4MB)
            .block_mode(BlockMode::Independent)
            .content_checksum(true);
        let slot = ErrorSlot::default();
        let sink = Sink {
            inner: output,
            slot: slot.clone(),
        };
        Self {
            frame: FrameEncoder::with_frame_info(info, sink),
            slot,
        }
    }

    /// The output's own error if it failed, `e` otherwise.
    fn restore(&self, e: io::Error) -> io::Error {
        match lock(&self.slot).take() {
            Some(original) => original.into(),
            None => e,
        }
    }

    /// Writes the last block, the end mark and the content checksum, and
    /// flushes the output.
    pub fn finish(self) -> io::Result<()> {
        let slot = self.slot;
        let original = || lock(&slot).take().map(io::Error::from);
        match self.frame.finish() {
            Ok(mut sink) => sink.flush().map_err(|e| original().unwrap_or(e)),
            Err(e) => Err(original().unwrap_or_else(|| {
                Error::compression(format!("cannot finish the LZ4 frame: {e}")).into()
            })),
        }
    }
}

impl<W: Write> Write for Lz4Encoder<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.frame.write(buf).map_err(|e| self.restore(e))
    }
    /// Compresses what is buffered into a block and flushes the output.
    fn flush(&mut self) -> io::Result<()> {
        self.frame.flush().map_err(|e| self.restore(e))?;
        self.frame.get_mut().flush().map_err(|e| self.restore(e))
    }
}

export_plugin! {
    name: "lz4",
    version: env!("CARGO_PKG_VERSION"),
    description: "LZ4 frame compression codec (.lz4), compatible with the lz4 command-line tool",
    author: "IterableData for Rust contributors",
    license: "MIT OR Apache-2.0",
    homepage: "https://example.invalid/iterabledata-rs",
    codecs: [Lz4],
}

#[cfg(test)]
mod tests;
