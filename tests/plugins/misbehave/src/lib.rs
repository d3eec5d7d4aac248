//! The fault corpus of plugins that misbehave *during use* (not while
//! loading): each provider does one thing a broken or hostile native
//! plugin does, so that the host's isolation can be tested against it.
//!
//! | provider               | what it does                                   |
//! |------------------------|------------------------------------------------|
//! | format `segv3`         | a segfault in the third batch of a read        |
//! | format `abortw`        | an abort inside a writer, after some output    |
//! | codec `exit3`          | `exit(3)` in the middle of a decode            |
//! | rule `misbehave.spin`  | an endless loop in a check                     |
//! | engine `hog`           | a query that allocates without bound           |
//! | hook `segvclose`       | a segfault when the run closes                 |
//! | format `passwd`        | reads `/etc/passwd`                            |
//! | format `homew`         | writes a file under `$HOME`                    |
//! | format `net`           | connects to 127.0.0.1 (option `port`)          |
//!
//! Run in the host's process, each of the first six takes the process
//! down; that is what isolation is for.

use std::io::{Read, Write};

use iterable_plugin_api::prelude::*;

/// A segfault: a write through a null pointer.
fn segfault() -> ! {
    // SAFETY: none; this is the fault under test.
    unsafe { std::ptr::null_mut::<u64>().write_volatile(7) };
    unreachable!("a write through null returned")
}

/// Rows `n = 1, 2, …`; row 3000 (in the third batch the host asks for:
/// 32 rows, then 2048) segfaults.
pub struct Segv3;

impl Format for Segv3 {
    fn info(&self) -> FormatSpec {
        FormatSpec::new("segv3")
            .description("segfaults in the third batch of a read")
            .extensions(["segv3"])
    }

    fn reader(&self, _input: Input, _options: &Options) -> Result<Box<dyn RowReader>> {
        let mut n = 0i64;
        Ok(Box::new(move |row: &mut BatchBuilder<'_>| {
            n += 1;
            if n == 3000 {
                segfault();
            }
            row.key("n").push_int(n);
            Ok(true)
        }))
    }
}

/// Writes its rows, then aborts at the 100th (after flushing 99).
pub struct AbortW;

impl Format for AbortW {
    fn info(&self) -> FormatSpec {
        FormatSpec::new("abortw")
            .description("aborts inside its writer after some output")
            .extensions(["abortw"])
            .read_write()
    }

    fn reader(&self, input: Input, _options: &Options) -> Result<Box<dyn RowReader>> {
        Ok(input.line_reader(|line, row| {
            row.key("line").push_str(line);
            Ok(())
        }))
    }

    fn writer(&self, output: Output, _options: &Options) -> Result<Box<dyn RowWriter>> {
        let mut n = 0;
        Ok(output.row_writer(move |out, row| {
            n += 1;
            if n == 100 {
                out.flush()?;
                std::process::abort();
            }
            let cells: Vec<String> = row.present().map(|(_, v)| v.to_string()).collect();
            writeln!(out, "{}", cells.join("|"))?;
            Ok(())
        }))
    }
}

/// Decodes (as the identity) the first 1000 bytes, then calls `exit(3)`.
pub struct Exit3;

impl Codec for Exit3 {
    fn info(&self) -> CodecSpec {
        CodecSpec::new("exit3")
            .description("exits with status 3 in the middle of a decode")
            .extensions(["exit3"])
    }

    fn decoder(&self, input: Input) -> Result<Box<dyn Read + Send>> {
        Ok(Box::new(ExitAfter { input, left: 1000 }))
    }
}

struct ExitAfter {
    input: Input,
    left: usize,
}

impl Read for ExitAfter {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            std::process::exit(3);
        }
        let want = buf.len().min(self.left);
        let n = self.input.read(&mut buf[..want])?;
        self.left -= n;
        if n == 0 {
            std::process::exit(3);
        }
        Ok(n)
    }
}

/// `misbehave.spin`: never answers.
pub struct Spin;

impl Rule for Spin {
    fn info(&self) -> RuleSpec {
        RuleSpec::new("misbehave.spin").description("loops forever")
    }

    fn check(&self, _value: CellRef<'_>) -> std::result::Result<(), String> {
        let mut i = 0u64;
        loop {
            i = std::hint::black_box(i.wrapping_add(1));
        }
    }
}

/// `hog`: allocates (and touches) memory until there is none.
pub struct Hog;

impl Engine for Hog {
    fn info(&self) -> EngineSpec {
        EngineSpec::new("hog").description("allocates without bound")
    }

    fn execute(
        &self,
        _query: &str,
        _inputs: Vec<(String, RowSource)>,
        _options: &Options,
    ) -> Result<Box<dyn RowReader>> {
        let mut kept: Vec<Vec<u8>> = Vec::new();
        loop {
            kept.push(vec![1u8; 16 << 20]);
            std::hint::black_box(&kept);
        }
    }
}

/// `segvclose`: watches quietly, then segfaults when the run closes.
pub struct SegvClose;

impl Hook for SegvClose {
    fn info(&self) -> HookSpec {
        HookSpec::new("segvclose").description("segfaults when the run closes")
    }

    fn open(&self, _run: &RunInfo, _options: &Options) -> Result<Box<dyn RunWatcher>> {
        Ok(Box::new(Closer))
    }
}

struct Closer;

impl RunWatcher for Closer {
    fn close(&mut self, _summary: &RunSummary) -> Result<()> {
        segfault()
    }
}

/// `passwd`: the lines of /etc/passwd, whatever its input.
pub struct Passwd;

impl Format for Passwd {
    fn info(&self) -> FormatSpec {
        FormatSpec::new("passwd")
            .description("reads /etc/passwd")
            .extensions(["passwd"])
    }

    fn reader(&self, _input: Input, _options: &Options) -> Result<Box<dyn RowReader>> {
        let text = std::fs::read_to_string("/etc/passwd")
            .map_err(|e| Error::other(format!("cannot read /etc/passwd: {e}")))?;
        let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
        lines.reverse();
        Ok(Box::new(move |row: &mut BatchBuilder<'_>| {
            match lines.pop() {
                Some(l) => {
                    row.key("line").push_str(&l);
                    Ok(true)
                }
                None => Ok(false),
            }
        }))
    }
}

/// `homew`: writes `$HOME/misbehave-was-here`, then reads one row.
pub struct HomeW;

impl Format for HomeW {
    fn info(&self) -> FormatSpec {
        FormatSpec::new("homew")
            .description("writes a file under $HOME")
            .extensions(["homew"])
    }

    fn reader(&self, _input: Input, _options: &Options) -> Result<Box<dyn RowReader>> {
        let home = std::env::var_os("HOME").ok_or_else(|| Error::other("no HOME"))?;
        let path = std::path::Path::new(&home).join("misbehave-was-here");
        std::fs::write(&path, "hello\n")
            .map_err(|e| Error::other(format!("cannot write {}: {e}", path.display())))?;
        let mut done = false;
        Ok(Box::new(move |row: &mut BatchBuilder<'_>| {
            if done {
                return Ok(false);
            }
            done = true;
            row.key("wrote").push_str(&path.display().to_string());
            Ok(true)
        }))
    }
}

/// `net`: connects to 127.0.0.1 on option `port`, then reads one row.
pub struct Net;

impl Format for Net {
    fn info(&self) -> FormatSpec {
        FormatSpec::new("net")
            .description("connects to 127.0.0.1")
            .extensions(["net"])
            .option("port", "the port to connect to")
    }

    fn reader(&self, _input: Input, options: &Options) -> Result<Box<dyn RowReader>> {
        let port: u16 = options
            .get_parse("port")?
            .ok_or_else(|| Error::invalid_input("give the port with --option port=N"))?;
        std::net::TcpStream::connect(("127.0.0.1", port))
            .map_err(|e| Error::other(format!("cannot connect to 127.0.0.1:{port}: {e}")))?;
        let mut done = false;
        Ok(Box::new(move |row: &mut BatchBuilder<'_>| {
            if done {
                return Ok(false);
            }
            done = true;
            row.key("connected").push_int(i64::from(port));
            Ok(true)
        }))
    }
}

export_plugin! {
    name: "misbehave",
    version: "0.1.0",
    description: "Test plugin: crashes, hangs and reaches outside its sandbox during use",
    license: "MIT OR Apache-2.0",
    formats: [Segv3, AbortW, Passwd, HomeW, Net],
    codecs: [Exit3],
    rules: [Spin],
    engines: [Hog],
    hooks: [SegvClose],
}
