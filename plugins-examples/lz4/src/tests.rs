//! Drives the codec in-process through the author test harness (the same
//! wire objects the host uses after dlopen), and checks interoperability
//! with the reference `lz4` command-line tool when it is installed.

use std::io::{self, Write};
use std::path::Path;
use std::process::Command;

use iterable_plugin_api::prelude::*;
use iterable_plugin_api::sdk::streams::MemorySink;
use iterable_plugin_api::testing::PluginTest;

use super::{FRAME_MAGIC, Lz4Decoder, Lz4Encoder, plugin_exports};

fn t() -> PluginTest {
    PluginTest::new(plugin_exports())
}

/// Compresses `chunks` (written one by one) through the plugin's encoder.
fn encode(chunks: &[&[u8]]) -> Vec<u8> {
    let out = MemorySink::new();
    let mut sink = t()
        .encoder("lz4", out.clone(), None)
        .unwrap_or_else(|e| panic!("encoder: {e}"));
    for chunk in chunks {
        sink.write_chunk(chunk).unwrap();
    }
    sink.finish().unwrap();
    out.contents()
}

/// Decompresses `compressed` through the plugin's decoder, reading 7000 bytes at a time.
fn decode(compressed: &[u8]) -> Result<Vec<u8>, Error> {
    let mut source = t().decoder("lz4", io::Cursor::new(compressed.to_vec()))?;
    let mut out = Vec::new();
    let mut buf = vec![0u8; 7000];
    loop {
        let n = source.read_chunk(&mut buf)?;
        if n == 0 {
            return Ok(out);
        }
        out.extend_from_slice(&buf[..n]);
    }
}

fn decode_err(compressed: &[u8]) -> Error {
    match decode(compressed) {
        Ok(data) => panic!("expected an error, decoded {} bytes", data.len()),
        Err(e) => e,
    }
}

/// `len` bytes of deterministic, moderately compressible text (log-like lines).
fn sample(len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 100);
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut i = 0u64;
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(
            format!(
                "id:{i}\tuser:u{}\tstatus:{}\tbytes:{}\tnote:{:x}\n",
                x % 997,
                [200, 200, 200, 404, 500][(x % 5) as usize],
                x % 100_000,
                x >> 40
            )
            .as_bytes(),
        );
        i += 1;
    }
    out.truncate(len);
    out
}

// ------------------------------------------------------------------ metadata

#[test]
fn describes_itself() {
    let about = t().about().unwrap();
    assert_eq!(about.name, "lz4");
    assert_eq!(about.version, env!("CARGO_PKG_VERSION"));
    assert_eq!(about.abi_version, iterable_plugin_api::API_VERSION);
    let info = t().codec_about("lz4").unwrap();
    assert_eq!(info.id, "lz4");
    assert_eq!(info.extensions, ["lz4"]);
    assert_eq!(info.magic, [FRAME_MAGIC.to_vec()]);
    assert_eq!(info.levels, (0, 0, 0));
}

#[test]
fn levels_other_than_zero_are_refused() {
    let err = match t().encoder("lz4", MemorySink::new(), Some(9)) {
        Ok(_) => panic!("level 9 accepted"),
        Err(e) => e,
    };
    assert_eq!(err.kind(), ErrorKind::InvalidOption);
    assert_eq!(
        err.message.as_str(),
        "compression level 9 is out of range for `lz4` (0..=0)"
    );
    assert!(t().encoder("lz4", MemorySink::new(), Some(0)).is_ok());
}

// ------------------------------------------------------------------ round trips

#[test]
fn round_trip_of_several_megabytes() {
    let data = sample(9 << 20); // three 4 MiB blocks
    let chunks: Vec<&[u8]> = data.chunks(100_003).collect();
    let compressed = encode(&chunks);
    assert_eq!(&compressed[..4], FRAME_MAGIC);
    assert!(
        compressed.len() < data.len() / 2,
        "compressed {} of {}",
        compressed.len(),
        data.len()
    );
    assert_eq!(decode(&compressed).unwrap(), data);
}

#[test]
fn empty_stream_is_a_valid_empty_frame() {
    let compressed = encode(&[]);
    assert_eq!(&compressed[..4], FRAME_MAGIC);
    assert_eq!(decode(&compressed).unwrap(), b"");
    assert_eq!(decode(b"").unwrap(), b"", "no frames at all: empty output");
}

#[test]
fn concatenated_frames_read_as_one_stream() {
    let a = sample(300_000);
    let b = b"second frame\n".to_vec();
    let mut both = encode(&[&a]);
    both.extend(encode(&[]));
    both.extend(encode(&[&b]));
    let mut expected = a.clone();
    expected.extend_from_slice(&b);
    assert_eq!(decode(&both).unwrap(), expected);
}

#[test]
fn skippable_frames_are_skipped() {
    let skippable = |payload: &[u8]| {
        let mut f = vec![0x5A, 0x2A, 0x4D, 0x18];
        f.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        f.extend_from_slice(payload);
        f
    };
    let mut stream = skippable(b"metadata");
    stream.extend(encode(&[b"one "]));
    stream.extend(skippable(b""));
    stream.extend(encode(&[b"two"]));
    stream.extend(skippable(b"trailer"));
    assert_eq!(decode(&stream).unwrap(), b"one two");
    let mut cut = skippable(b"metadata");
    cut.truncate(10);
    assert!(
        decode_err(&cut)
            .message
            .starts_with("truncated LZ4 input: it ends inside frame 1")
    );
}

#[test]
fn the_rust_api_works_without_the_host() {
    let mut compressed = Vec::new();
    let mut enc = Lz4Encoder::new(&mut compressed);
    enc.write_all(b"hello ").unwrap();
    enc.flush().unwrap(); // ends a block mid-frame
    enc.write_all(b"world").unwrap();
    enc.finish().unwrap();
    let mut out = String::new();
    io::Read::read_to_string(&mut Lz4Decoder::new(&compressed[..]), &mut out).unwrap();
    assert_eq!(out, "hello world");
}

// ------------------------------------------------------------------ bad input

#[test]
fn every_truncation_is_a_compression_error() {
    let compressed = encode(&[&sample(20_000)]);
    for cut in 1..compressed.len() {
        let err = decode_err(&compressed[..cut]);
        assert_eq!(err.kind(), ErrorKind::Compression, "cut at {cut}: {err}");
        assert_eq!(
            err.message.as_str(),
            format!(
                "truncated LZ4 input: it ends inside frame 1 (after {cut} compressed bytes), before the frame's end mark"
            ),
            "cut at {cut}"
        );
    }
}

#[test]
fn truncation_at_a_block_boundary_is_detected() {
    // lz4_flex alone reports this as a clean end of stream.
    let compressed = encode(&[&sample(5 << 20)]);
    let header = 7; // magic, FLG, BD, HC (no content size)
    let size = u32::from_le_bytes(compressed[header..header + 4].try_into().unwrap());
    let boundary = header + 4 + (size & 0x7FFF_FFFF) as usize;
    assert!(boundary < compressed.len() - 8, "expected a second block");
    let err = decode_err(&compressed[..boundary]);
    assert_eq!(err.kind(), ErrorKind::Compression);
    assert!(err.message.starts_with("truncated LZ4 input"), "{err}");
    // The same in the second of two frames.
    let mut two = encode(&[b"first"]);
    let first_len = two.len();
    two.extend_from_slice(&compressed[..boundary]);
    let err = decode_err(&two);
    assert_eq!(
        err.message.as_str(),
        format!(
            "truncated LZ4 input: it ends inside frame 2 (after {} compressed bytes), before the frame's end mark",
            first_len + boundary
        )
    );
}

#[test]
fn every_corrupted_byte_is_a_compression_error() {
    // 64 KiB linked blocks (the plugin writes 4 MiB ones, which debug builds
    // are slow to allocate thousands of times).
    let data = sample(100_000);
    let info = lz4_flex::frame::FrameInfo::new()
        .block_size(lz4_flex::frame::BlockSize::Max64KB)
        .block_mode(lz4_flex::frame::BlockMode::Linked)
        .content_checksum(true);
    let mut enc = lz4_flex::frame::FrameEncoder::with_frame_info(info, Vec::new());
    enc.write_all(&data).unwrap();
    let compressed = enc.finish().unwrap();
    let n = compressed.len();
    // Both ends byte by byte, the middle every 47th byte.
    let positions = (0..n).filter(|&i| i < 64 || i + 64 >= n || i % 47 == 0);
    for i in positions {
        for flip in [0x01u8, 0x80] {
            let mut bad = compressed.clone();
            bad[i] ^= flip;
            match decode(&bad) {
                Err(e) => assert_eq!(e.kind(), ErrorKind::Compression, "byte {i}: {e}"),
                // A changed match offset can still point at identical bytes
                // (the checksum then rightly matches); anything else must fail.
                Ok(out) => assert!(out == data, "byte {i} ^ {flip:#x}: corruption not detected"),
            }
        }
    }
}

#[test]
fn corruption_messages_say_what_is_wrong() {
    let compressed = encode(&[&sample(20_000)]);
    let mut bad = compressed.clone();
    let last = bad.len() - 1;
    bad[last] ^= 0xFF; // the content checksum
    assert_eq!(
        decode_err(&bad).message.as_str(),
        format!(
            "content checksum mismatch (corrupt data) (frame 1, near compressed byte {})",
            compressed.len()
        )
    );
    let mut bad = compressed.clone();
    bad[6] ^= 0xFF; // the header checksum
    assert_eq!(
        decode_err(&bad).message.as_str(),
        "frame header checksum mismatch (corrupt data) (frame 1, near compressed byte 7)"
    );
    let err = decode_err(b"id,name\n1,Ann\n");
    assert_eq!(err.kind(), ErrorKind::Compression);
    assert_eq!(
        err.message.as_str(),
        "not LZ4 frame data: the input does not start with the LZ4 frame magic number 04 22 4D 18 (frame 1, near compressed byte 7)"
    );
    let mut trailing = compressed.clone();
    trailing.extend_from_slice(b"garbage after the frame");
    assert_eq!(
        decode_err(&trailing).message.as_str(),
        format!(
            "unexpected bytes after LZ4 frame 1: no LZ4 frame magic number at compressed byte {} (frame 2, near compressed byte {})",
            compressed.len(),
            compressed.len() + 7
        )
    );
}

#[test]
fn an_error_is_repeated_by_later_reads() {
    let compressed = encode(&[&sample(20_000)]);
    let mut source = t()
        .decoder(
            "lz4",
            io::Cursor::new(compressed[..compressed.len() / 2].to_vec()),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let mut buf = vec![0u8; 1 << 20];
    let first = loop {
        match source.read_chunk(&mut buf) {
            Ok(0) => panic!("no error"),
            Ok(_) => continue,
            Err(e) => break e,
        }
    };
    let again = source.read_chunk(&mut buf).unwrap_err();
    assert_eq!(first, again);
}

/// A writer whose every write fails.
struct DiskFull;

impl Write for DiskFull {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        Err(io::Error::other("disk full"))
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn output_errors_are_reported_not_panicked() {
    // Less than a block: the first failing write happens inside `finish`
    // when lz4_flex writes the block (past the 64 KiB output buffer), where
    // lz4_flex 0.11 would panic on the host's error without the Sink wrapper.
    for size in [5, 1 << 20] {
        let mut sink = t()
            .encoder("lz4", DiskFull, None)
            .unwrap_or_else(|e| panic!("{e}"));
        sink.write_chunk(&sample(size)).unwrap();
        let err = sink.finish().unwrap_err();
        assert_eq!(
            (err.kind(), err.message.as_str()),
            (ErrorKind::Io, "disk full")
        );
    }

    // Large data: the failing write happens in `write`, once a block is full.
    let mut sink = t()
        .encoder("lz4", DiskFull, None)
        .unwrap_or_else(|e| panic!("{e}"));
    let data = sample(5 << 20);
    let err = data
        .chunks(1 << 20)
        .find_map(|c| sink.write_chunk(c).err())
        .expect("a write fails");
    assert_eq!(
        (err.kind(), err.message.as_str()),
        (ErrorKind::Io, "disk full")
    );
}

// ------------------------------------------------------------------ the lz4 tool

/// Whether the reference `lz4` tool is installed; prints a note when it is not.
fn have_lz4_tool() -> bool {
    let ok = Command::new("lz4")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!(
            "note: the `lz4` command-line tool is not installed; skipping this interoperability test"
        );
    }
    ok
}

/// Runs `lz4 args...`, panicking with its stderr if it fails.
fn lz4(args: &[&str], dir: &Path) {
    let out = Command::new("lz4")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "lz4 {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Compresses `data` with `lz4 -z <options>` (from a file, so `--content-size` works).
fn tool_compress(data: &[u8], options: &[&str]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("in"), data).unwrap();
    let mut args = vec!["-z", "-q", "-f"];
    args.extend_from_slice(options);
    args.extend_from_slice(&["in", "out.lz4"]);
    lz4(&args, dir.path());
    std::fs::read(dir.path().join("out.lz4")).unwrap()
}

/// Decompresses with `lz4 -d`; `Err(stderr)` if the tool rejects the input.
fn tool_decompress(compressed: &[u8]) -> Result<Vec<u8>, String> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("in.lz4"), compressed).unwrap();
    let out = Command::new("lz4")
        .args(["-d", "-q", "-f", "in.lz4", "out"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(std::fs::read(dir.path().join("out")).unwrap())
}

#[test]
fn the_lz4_tool_reads_what_the_plugin_writes() {
    if !have_lz4_tool() {
        return;
    }
    let data = sample(6 << 20);
    let chunks: Vec<&[u8]> = data.chunks(65_536).collect();
    assert_eq!(tool_decompress(&encode(&chunks)).unwrap(), data);
    assert_eq!(tool_decompress(&encode(&[])).unwrap(), b"");
    // Two frames written by the plugin, concatenated.
    let mut two = encode(&[b"a\n"]);
    two.extend(encode(&[b"b\n"]));
    assert_eq!(tool_decompress(&two).unwrap(), b"a\nb\n");
}

#[test]
fn the_plugin_reads_what_the_lz4_tool_writes() {
    if !have_lz4_tool() {
        return;
    }
    let data = sample(3 << 20);
    for options in [
        &[][..],
        &["-BD"],
        &["--content-size"],
        &["--no-frame-crc"],
        &["-BX"],
        &["-B4"],
        &["-B5", "-BD"],
        &["-B6"],
        &["-B4", "-BD", "-BX", "--content-size", "--no-frame-crc"],
        &["-9"],
        &["--best", "-BD"],
        &["--fast=5"],
    ] {
        let compressed = tool_compress(&data, options);
        let decoded = decode(&compressed).unwrap_or_else(|e| panic!("lz4 {options:?}: {e}"));
        assert!(decoded == data, "lz4 {options:?}: output differs");
    }
    assert_eq!(decode(&tool_compress(b"", &[])).unwrap(), b"");
    assert_eq!(
        decode(&tool_compress(b"x", &["--content-size"])).unwrap(),
        b"x"
    );
}

#[test]
fn the_plugin_reads_a_multi_frame_file_made_with_cat() {
    if !have_lz4_tool() {
        return;
    }
    let a = sample(1 << 20);
    let b = sample(70_000);
    // `cat a.lz4 b.lz4 > ab.lz4`, with different frame settings, plus a plugin frame.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a"), &a).unwrap();
    std::fs::write(dir.path().join("b"), &b).unwrap();
    lz4(&["-z", "-q", "-f", "-BD", "-B4", "a", "a.lz4"], dir.path());
    lz4(
        &["-z", "-q", "-f", "--content-size", "-BX", "b", "b.lz4"],
        dir.path(),
    );
    let status = Command::new("sh")
        .args(["-c", "cat a.lz4 b.lz4 > ab.lz4"])
        .current_dir(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    let mut ab = std::fs::read(dir.path().join("ab.lz4")).unwrap();
    let mut expected = a.clone();
    expected.extend_from_slice(&b);
    assert!(decode(&ab).unwrap() == expected, "cat a.lz4 b.lz4");
    ab.extend(encode(&[b"tail"]));
    expected.extend_from_slice(b"tail");
    assert!(decode(&ab).unwrap() == expected, "plus a plugin frame");
    assert!(
        tool_decompress(&ab).unwrap() == expected,
        "and the tool agrees"
    );
}

#[test]
fn truncated_tool_output_is_a_compression_error() {
    if !have_lz4_tool() {
        return;
    }
    let compressed = tool_compress(&sample(1 << 20), &["-B4", "-BD"]);
    for cut in [
        5,
        compressed.len() / 2,
        compressed.len() - 4,
        compressed.len() - 1,
    ] {
        let err = decode_err(&compressed[..cut]);
        assert_eq!(err.kind(), ErrorKind::Compression, "cut at {cut}: {err}");
        assert!(
            err.message.starts_with("truncated LZ4 input"),
            "cut at {cut}: {err}"
        );
        assert!(
            tool_decompress(&compressed[..cut]).is_err(),
            "the tool agrees"
        );
    }
}

#[test]
fn the_legacy_format_is_refused_clearly() {
    if !have_lz4_tool() {
        return;
    }
    let compressed = tool_compress(b"legacy data", &["-l"]);
    let err = decode_err(&compressed);
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    assert_eq!(
        err.message.as_str(),
        "the legacy LZ4 format (written by `lz4 -l`) is not supported; convert it with `lz4 -dc FILE | lz4 -z > NEW.lz4`"
    );
}
