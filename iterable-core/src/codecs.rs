//! Built-in codecs: `gzip` (multi-member) and `zstd` (multi-frame).
//!
//! Decoder errors are reported as [`ErrorKind::Compression`] with the codec's
//! name and the offset in the compressed input, so a truncated or corrupt
//! file reads as such rather than as a generic I/O failure.

use std::io::{self, Read, Write};

use crate::error::{Error, ErrorKind, Result};
use crate::io::{BoxRead, BoxSink, ByteSink};
use crate::provider::{Codec, CodecInfo};

/// The gzip codec (`.gz`, `.gzip`). Reads concatenated members.
pub struct Gzip {
    info: CodecInfo,
}

impl Gzip {
    /// The gzip codec.
    pub fn new() -> Self {
        Gzip {
            info: CodecInfo {
                id: "gzip".into(),
                description: "gzip (RFC 1952); concatenated members are read in full".into(),
                extensions: vec!["gz".into(), "gzip".into()],
                magic: vec![vec![0x1f, 0x8b]],
                levels: Some((0, 9, 6)),
            },
        }
    }
}

impl Default for Gzip {
    fn default() -> Self {
        Self::new()
    }
}

impl Codec for Gzip {
    fn info(&self) -> &CodecInfo {
        &self.info
    }

    fn decoder(&self, input: BoxRead) -> Result<BoxRead> {
        let counted = CountingRead::new(input);
        let dec =
            flate2::read::MultiGzDecoder::new(io::BufReader::with_capacity(128 * 1024, counted));
        Ok(Box::new(DecodeErrors {
            inner: dec,
            codec: "gzip",
            at: |d: &flate2::read::MultiGzDecoder<io::BufReader<CountingRead>>| {
                d.get_ref().get_ref().count
            },
        }))
    }

    fn encoder(&self, output: BoxSink, level: Option<i32>) -> Result<BoxSink> {
        let level = level.unwrap_or(6).clamp(0, 9) as u32;
        Ok(Box::new(GzipSink(Some(flate2::write::GzEncoder::new(
            output,
            flate2::Compression::new(level),
        )))))
    }
}

struct GzipSink(Option<flate2::write::GzEncoder<BoxSink>>);

impl GzipSink {
    fn enc(&mut self) -> io::Result<&mut flate2::write::GzEncoder<BoxSink>> {
        self.0
            .as_mut()
            .ok_or_else(|| io::Error::other("gzip stream already finished"))
    }
}

impl Write for GzipSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.enc()?.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.enc()?.flush()
    }
}

impl ByteSink for GzipSink {
    fn finish(mut self: Box<Self>) -> io::Result<()> {
        let enc = self
            .0
            .take()
            .ok_or_else(|| io::Error::other("gzip stream already finished"))?;
        enc.finish()?.finish()
    }
}

/// The highest zstd level compressed by a worker thread: above it the
/// window (and so the memory a job needs) grows past a few MiB.
const ZSTD_MT_MAX_LEVEL: i32 = 9;

/// The most zstd worker threads: each holds a job and a compression
/// context, so this bounds the memory (at level 3, two take about 2 MiB
/// more than one; peak RSS of a conversion stays near 16 MiB).
const ZSTD_MT_MAX_WORKERS: usize = 2;

/// The highest level compressed by more than one worker: above it the
/// window, and the memory of every job, grows (level 9 with two workers
/// peaks at 35 MiB, with one at 23 MiB).
const ZSTD_MT_WIDE_MAX_LEVEL: i32 = 6;

/// The size of a zstd job when worker threads compress.
const ZSTD_MT_JOB: u32 = 1 << 20;

/// The zstd codec (`.zst`, `.zstd`). Reads concatenated frames.
pub struct Zstd {
    info: CodecInfo,
}

impl Zstd {
    /// The zstd codec.
    pub fn new() -> Self {
        Zstd {
            info: CodecInfo {
                id: "zstd".into(),
                description: "Zstandard (RFC 8878); concatenated frames are read in full".into(),
                extensions: vec!["zst".into(), "zstd".into()],
                magic: vec![vec![0x28, 0xb5, 0x2f, 0xfd]],
                levels: Some((1, 22, 3)),
            },
        }
    }
}

impl Default for Zstd {
    fn default() -> Self {
        Self::new()
    }
}

impl Codec for Zstd {
    fn info(&self) -> &CodecInfo {
        &self.info
    }

    fn decoder(&self, input: BoxRead) -> Result<BoxRead> {
        let counted = CountingRead::new(input);
        let dec = zstd::stream::read::Decoder::with_buffer(io::BufReader::with_capacity(
            128 * 1024,
            counted,
        ))
        .map_err(|e| {
            Error::new(
                ErrorKind::Compression,
                format!("zstd: cannot start decoding: {e}"),
            )
        })?;
        Ok(Box::new(DecodeErrors {
            inner: dec,
            codec: "zstd",
            at: |d: &zstd::stream::read::Decoder<'static, io::BufReader<CountingRead>>| {
                d.get_ref().get_ref().count
            },
        }))
    }

    fn encoder(&self, output: BoxSink, level: Option<i32>) -> Result<BoxSink> {
        let level = level.unwrap_or(3).clamp(1, 22);
        let failed = |e: io::Error| {
            Error::new(
                ErrorKind::Compression,
                format!("zstd: cannot start encoding: {e}"),
            )
        };
        let mut enc = zstd::stream::write::Encoder::new(output, level).map_err(failed)?;
        if level <= ZSTD_MT_MAX_LEVEL && crate::io::parallel() {
            // Worker threads (one per core, up to two; one above level 6)
            // compress 1 MiB jobs while the caller goes on: the compressor
            // runs beside the format's writer, within a few MiB, and without
            // the ring buffer of single-threaded streaming (about 15% less
            // CPU). With two, a core the parser leaves idle takes a job too
            // (csv.gz → jsonl.zst on 2 cores: 0.49 s → 0.47 s). The output
            // is one frame. A zstd built without threads refuses, and
            // compresses in line.
            let most = if level <= ZSTD_MT_WIDE_MAX_LEVEL {
                ZSTD_MT_MAX_WORKERS
            } else {
                1
            };
            let workers = crate::io::cores().min(most) as u32;
            if enc.multithread(workers).is_ok() {
                enc.set_parameter(zstd::stream::raw::CParameter::JobSize(ZSTD_MT_JOB))
                    .map_err(failed)?;
            }
        }
        Ok(Box::new(ZstdSink(Some(enc))))
    }
}

struct ZstdSink(Option<zstd::stream::write::Encoder<'static, BoxSink>>);

impl ZstdSink {
    fn enc(&mut self) -> io::Result<&mut zstd::stream::write::Encoder<'static, BoxSink>> {
        self.0
            .as_mut()
            .ok_or_else(|| io::Error::other("zstd stream already finished"))
    }
}

impl Write for ZstdSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.enc()?.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.enc()?.flush()
    }
}

impl ByteSink for ZstdSink {
    fn finish(mut self: Box<Self>) -> io::Result<()> {
        let enc = self
            .0
            .take()
            .ok_or_else(|| io::Error::other("zstd stream already finished"))?;
        enc.finish()?.finish()
    }
}

/// Counts the compressed bytes read, for error positions.
struct CountingRead {
    inner: BoxRead,
    count: u64,
}

impl CountingRead {
    fn new(inner: BoxRead) -> Self {
        CountingRead { inner, count: 0 }
    }
}

impl Read for CountingRead {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
}

/// Turns a decoder's I/O errors into compression errors that name the codec
/// and where in the compressed input it failed.
struct DecodeErrors<R, F> {
    inner: R,
    codec: &'static str,
    at: F,
}

impl<R: Read + Send, F: Fn(&R) -> u64 + Send> Read for DecodeErrors<R, F> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).map_err(|e| {
            // An error from below (the file itself) passes through as it is.
            if e.get_ref().is_some_and(|inner| inner.is::<Error>()) {
                return e;
            }
            let what = if e.kind() == io::ErrorKind::UnexpectedEof {
                "truncated input (the stream ends before its end marker)".to_owned()
            } else {
                format!("corrupt input: {e}")
            };
            let at = (self.at)(&self.inner);
            Error::new(
                ErrorKind::Compression,
                format!("{}: {what}, after {at} compressed bytes", self.codec),
            )
            .into_io()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::{MemorySink, WriteSink};

    #[test]
    fn zstd_output_is_one_frame_at_every_level() {
        // Several jobs' worth of data, so a worker thread (levels up to 9)
        // compresses more than one job.
        let data: Vec<u8> = (0..3_500_000u32)
            .map(|i| (i % 251) as u8 ^ (i / 7919) as u8)
            .collect();
        for level in [1, 3, ZSTD_MT_MAX_LEVEL, ZSTD_MT_MAX_LEVEL + 1] {
            let out = MemorySink::default();
            let mut enc = Zstd::new()
                .encoder(Box::new(WriteSink(out.clone())), Some(level))
                .unwrap();
            for piece in data.chunks(100_000) {
                enc.write_all(piece).unwrap();
            }
            enc.finish().unwrap();
            let bytes = out.contents();
            let frame = zstd::zstd_safe::find_frame_compressed_size(&bytes).unwrap();
            assert_eq!(frame, bytes.len(), "level {level}: more than one frame");
            assert!(
                zstd::decode_all(&bytes[..]).unwrap() == data,
                "level {level}"
            );
        }
    }
}
