//! Memory stays flat however large the input: reading ten times more data
//! does not raise the peak resident set size.
//!
//! The input is generated lazily by a `Read` impl (never held in memory),
//! optionally gzip-compressed on the fly, and read through
//! `Registry::open_stream`. The peak RSS (`VmHWM` in /proc/self/status) is
//! reset before each run where the kernel allows it (`/proc/self/clear_refs`).
//!
//! This file holds ONE test so that nothing else runs in the process while
//! it measures.

use std::io::{self, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use iterable_core::{OpenOptions, Record, Registry};

/// Sizes of the small and the large input. The ratio is what matters; the
/// sizes are modest so the test stays quick in a debug build (where gzip
/// runs at a few MB/s).
const SMALL: u64 = 2 << 20;
const LARGE: u64 = 10 * SMALL;

/// The peak growth allowed for the large input, in bytes.
const BOUND: u64 = 32 << 20;

/// How much more the large input may grow the peak than the small one
/// (allocator noise), in bytes.
const SLACK: u64 = 4 << 20;

#[derive(Clone, Copy, Debug)]
enum Shape {
    Csv,
    JsonLines,
    JsonArray,
}

/// Generates `target` bytes (rounded up to a whole record) of one shape.
struct Gen {
    shape: Shape,
    target: u64,
    produced: u64,
    rows: u64,
    /// The number of rows generated, shared with the test.
    count: Arc<AtomicU64>,
    buf: Vec<u8>,
    pos: usize,
    state: u8, // 0: start, 1: rows, 2: closing, 3: done
    seed: u64,
}

impl Gen {
    fn new(shape: Shape, target: u64, count: Arc<AtomicU64>) -> Self {
        Gen {
            shape,
            target,
            produced: 0,
            rows: 0,
            count,
            buf: Vec::with_capacity(256),
            pos: 0,
            state: 0,
            seed: 0x9e37_79b9_7f4a_7c15,
        }
    }

    fn next_rand(&mut self) -> u64 {
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        self.seed
    }

    /// Refills `buf` with the next piece; false at the end.
    fn refill(&mut self) -> bool {
        use std::io::Write as _;
        self.buf.clear();
        self.pos = 0;
        match self.state {
            0 => {
                match self.shape {
                    Shape::Csv => self.buf.extend_from_slice(b"id,name,city,amount,note\n"),
                    Shape::JsonArray => self.buf.extend_from_slice(b"[\n"),
                    Shape::JsonLines => {}
                }
                self.state = 1;
                true
            }
            1 if self.produced < self.target => {
                let r = self.next_rand();
                let i = self.rows;
                let city = ["Oslo", "Bergen", "Tromsø", "Zürich", "Kraków"][(r % 5) as usize];
                let amount = (r >> 8) % 100_000;
                match self.shape {
                    Shape::Csv => {
                        writeln!(self.buf, "{i},name {r:x},{city},{amount}.{:02},\"quoted, with comma\"", r % 100)
                    }
                    Shape::JsonLines => writeln!(
                        self.buf,
                        r#"{{"id":{i},"name":"name {r:x}","city":"{city}","amount":{amount},"tags":["a","b"],"geo":{{"x":{},"y":null}}}}"#,
                        r % 1000
                    ),
                    Shape::JsonArray => write!(
                        self.buf,
                        r#"{}{{"id":{i},"name":"name {r:x}","city":"{city}","amount":{amount},"tags":["a","b"],"geo":{{"x":{},"y":null}}}}"#,
                        if i == 0 { "" } else { ",\n" },
                        r % 1000
                    ),
                }
                .expect("writing to a Vec");
                self.rows += 1;
                self.count.store(self.rows, Ordering::Relaxed);
                true
            }
            1 => {
                self.state = 2;
                if let Shape::JsonArray = self.shape {
                    self.buf.extend_from_slice(b"\n]\n");
                }
                true
            }
            _ => {
                self.state = 3;
                false
            }
        }
    }
}

impl Read for Gen {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.buf.len() {
            if !self.refill() {
                return Ok(0);
            }
        }
        let n = (self.buf.len() - self.pos).min(out.len());
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        self.produced += n as u64;
        Ok(n)
    }
}

fn status_kib(field: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with(field))?;
    line[field.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// Resets the peak RSS to the current RSS, if the kernel lets us.
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Reads one generated input and returns (records read, rows generated,
/// peak growth in bytes).
fn measure(shape: Shape, gzip: bool, target: u64) -> (u64, u64, u64) {
    let registry = Registry::with_builtins();
    let name = match shape {
        Shape::Csv => "x.csv",
        Shape::JsonLines => "x.jsonl",
        Shape::JsonArray => "x.json",
    };
    let count = Arc::new(AtomicU64::new(0));
    let source = Gen::new(shape, target, Arc::clone(&count));
    let input: Box<dyn Read + Send> = if gzip {
        // Compressed on the fly; the codec is found by its magic bytes.
        Box::new(flate2::read::GzEncoder::new(
            source,
            flate2::Compression::fast(),
        ))
    } else {
        Box::new(source)
    };

    let reset = reset_peak();
    let before = if reset {
        status_kib("VmRSS:").unwrap()
    } else {
        status_kib("VmHWM:").unwrap()
    };

    let mut reader = registry
        .open_stream(input, Some(name), &OpenOptions::new())
        .unwrap();
    if gzip {
        assert_eq!(reader.codec(), Some("gzip"));
    }
    let mut record = Record::new();
    let mut n = 0u64;
    while reader.read_record(&mut record).unwrap() {
        n += 1;
    }
    drop(reader);

    let after = status_kib("VmHWM:").unwrap();
    (
        n,
        count.load(Ordering::Relaxed),
        after.saturating_sub(before) * 1024,
    )
}

#[test]
fn peak_memory_does_not_grow_with_the_input() {
    if status_kib("VmHWM:").is_none() {
        eprintln!("note: /proc/self/status has no VmHWM here; skipping the memory test");
        return;
    }
    if !reset_peak() {
        eprintln!("note: cannot reset the peak RSS; measuring growth of the high-water mark only");
    }
    let mib = |b: u64| b as f64 / (1 << 20) as f64;
    // Every format plain, and CSV gzip-compressed on the fly, which shows the
    // codec streams too (formats never see the codec, so one is enough; gzip
    // is slow in a debug build).
    let cases = [
        (Shape::Csv, false),
        (Shape::JsonLines, false),
        (Shape::JsonArray, false),
        (Shape::Csv, true),
    ];
    for (shape, gzip) in cases {
        let (n_small, rows_small, small) = measure(shape, gzip, SMALL);
        let (n_large, rows_large, large) = measure(shape, gzip, LARGE);
        eprintln!(
            "{shape:?} gzip={gzip}: {n_small} records: +{:.1} MiB; {n_large} records: +{:.1} MiB",
            mib(small),
            mib(large)
        );
        assert_eq!(n_small, rows_small, "{shape:?} gzip={gzip}");
        assert_eq!(n_large, rows_large, "{shape:?} gzip={gzip}");
        assert!(
            n_large >= 9 * n_small,
            "{shape:?}: the large input is not ten times the small one"
        );
        assert!(
            large < BOUND,
            "{shape:?} gzip={gzip}: reading {} MiB grew the peak RSS by {:.1} MiB (bound {} MiB)",
            LARGE >> 20,
            mib(large),
            BOUND >> 20
        );
        assert!(
            large <= small + SLACK,
            "{shape:?} gzip={gzip}: the peak grew by {:.1} MiB for {} MiB of input but by {:.1} MiB for {} MiB",
            mib(large),
            LARGE >> 20,
            mib(small),
            SMALL >> 20
        );
    }
}
