//! Helpers shared by the integration tests: fixture builders and readers.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};

use iterable_core::{Error, OpenOptions, Record, Registry, Value};

/// Compresses `data` into one gzip member.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    gzip_level(data, 6)
}

/// Compresses `data` into one gzip member at a level.
pub fn gzip_level(data: &[u8], level: u32) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

/// Compresses `data` into one zstd frame.
pub fn zstd(data: &[u8]) -> Vec<u8> {
    zstd::encode_all(data, 3).unwrap()
}

/// Decompresses gzip (all members).
pub fn gunzip(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(data), &mut out).unwrap();
    out
}

/// Decompresses zstd (all frames).
pub fn unzstd(data: &[u8]) -> Vec<u8> {
    zstd::decode_all(data).unwrap()
}

/// Writes `bytes` to `dir/name` and returns the path.
pub fn fixture(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// Opens `path` with the built-in registry and reads every record.
pub fn read_all(path: &Path, opts: &OpenOptions) -> Result<Vec<Record>, Error> {
    Registry::with_builtins().open(path, opts)?.collect()
}

/// Reads records until the first error and returns that error, failing the
/// test if there is none.
pub fn first_error(path: &Path, opts: &OpenOptions) -> Error {
    match Registry::with_builtins().open(path, opts) {
        Err(e) => e,
        Ok(reader) => {
            for r in reader {
                if let Err(e) = r {
                    return e;
                }
            }
            panic!("reading {} succeeded; expected an error", path.display())
        }
    }
}

/// A record of string fields.
pub fn srec(pairs: &[(&str, &str)]) -> Record {
    Record::from_pairs(pairs.iter().map(|(k, v)| (*k, Value::from(*v))))
}

/// A record from a JSON object literal, keeping key order.
pub fn jrec(json: &str) -> Record {
    let v: Value = serde_json::from_str(json).unwrap();
    match v {
        Value::Map(m) => Record::from_pairs(m),
        other => panic!("not an object: {other:?}"),
    }
}
