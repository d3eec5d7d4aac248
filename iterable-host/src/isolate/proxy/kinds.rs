//! The six kinds of provider, each forwarding its calls to a runner.

use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};

use iterable_core::io::{BoxRead, BoxSink, ByteSink};
use iterable_core::{
    BATCH_ROWS, Batch, BoxReader, BoxWriter, Codec, CodecInfo, Connection, Driver, DriverInfo,
    Engine, EngineInfo, Error, Format, FormatInfo, Hook, HookInfo, Options, Result, Rule, RuleInfo,
    RunInfo, RunObserver, RunSummary, Source, Value,
};

use super::bytes::{Output, Pump, forward};
use super::records::{EngineInput, IsoReader, IsoWriter, serve_input};
use super::{CHUNK, Grant, Iso, Lease, Shared, database_dir};
use crate::error::{PluginErrorExt, PluginErrorKind};
use crate::plugin::lock;
use crate::wire::{self, Call};

// ---------------------------------------------------------------------------
// The six kinds.

impl Format for Iso<FormatInfo> {
    fn info(&self) -> &FormatInfo {
        &self.info
    }

    fn reader(&self, input: BoxRead, options: &Options) -> Result<BoxReader> {
        self.sized_reader(input, None, options)
    }

    fn sized_reader(
        &self,
        input: BoxRead,
        size: Option<u64>,
        options: &Options,
    ) -> Result<BoxReader> {
        let mut lease = self.home.lease()?;
        let call = Call::Read {
            format: self.i,
            options: wire::opts(options),
            size,
        };
        lease.r().call(&call, "read")?;
        let pump = Pump::start(lease.r(), input)?;
        let opened = lease.r().answer::<()>("read");
        let mut reader = IsoReader::new(Arc::new(Mutex::new(lease)), "read", true);
        reader.pump = Some(pump);
        match opened {
            Ok(()) => Ok(Box::new(reader)),
            Err(e) => Err(reader.explain(e)),
        }
    }

    fn path_reader(&self, path: &Path, options: &Options) -> Option<Result<BoxReader>> {
        if !self.info.reads_paths {
            return None;
        }
        let run = || -> Result<Option<BoxReader>> {
            let mut lease = self.home.lease_for(path)?;
            let call = Call::ReadPath {
                format: self.i,
                path: std::path::absolute(path).unwrap_or_else(|_| path.into()),
                options: wire::opts(options),
            };
            if !lease.ask::<bool>(&call, "read")? {
                lease.done();
                return Ok(None);
            }
            Ok(Some(Box::new(IsoReader::new(
                Arc::new(Mutex::new(lease)),
                "read",
                true,
            ))))
        };
        run().transpose()
    }

    fn path_schema(&self, path: &Path, options: &Options) -> Option<Result<String>> {
        if !self.info.reads_paths {
            return None;
        }
        let run = || -> Result<Option<String>> {
            let mut lease = self.home.lease_for(path)?;
            let call = Call::Schema {
                format: self.i,
                path: std::path::absolute(path).unwrap_or_else(|_| path.into()),
                options: wire::opts(options),
            };
            let s = lease.ask::<Option<String>>(&call, "read")?;
            lease.done();
            Ok(s)
        };
        run().transpose()
    }

    fn writer(&self, output: BoxSink, options: &Options) -> Result<BoxWriter> {
        let mut lease = self.home.lease()?;
        let call = Call::Write {
            format: self.i,
            options: wire::opts(options),
        };
        lease.ask::<()>(&call, "write")?;
        let output = forward(lease.r(), Some(output), "write")?;
        Ok(Box::new(IsoWriter {
            lease: Arc::new(Mutex::new(lease)),
            name: "write",
            gather: crate::arrow::Gather::new(BATCH_ROWS),
            output,
            own: true,
        }))
    }
}

impl Codec for Iso<CodecInfo> {
    fn info(&self) -> &CodecInfo {
        &self.info
    }

    fn decoder(&self, input: BoxRead) -> Result<BoxRead> {
        self.sized_decoder(input, None)
    }

    fn sized_decoder(&self, input: BoxRead, size: Option<u64>) -> Result<BoxRead> {
        let mut lease = self.home.lease()?;
        lease.r().call(
            &Call::Decode {
                codec: self.i,
                size,
            },
            "decode",
        )?;
        let pump = Pump::start(lease.r(), input)?;
        let opened = lease.r().answer::<()>("decode");
        let d = Decoded {
            lease,
            pump,
            buf: Vec::new(),
            pos: 0,
            done: false,
        };
        match opened {
            Ok(()) => Ok(Box::new(d)),
            Err(e) => Err(d.pump.host_error().unwrap_or(e)),
        }
    }

    fn encoder(&self, output: BoxSink, level: Option<i32>) -> Result<BoxSink> {
        let mut lease = self.home.lease()?;
        lease.ask::<()>(
            &Call::Encode {
                codec: self.i,
                level,
            },
            "encode",
        )?;
        let output = forward(lease.r(), Some(output), "encode")?;
        Ok(Box::new(Encoded {
            lease,
            output,
            buf: Vec::with_capacity(CHUNK),
        }))
    }
}

/// A codec's decoded bytes, as the runner sends them.
pub(super) struct Decoded {
    pub(super) lease: Lease,
    pub(super) pump: Pump,
    pub(super) buf: Vec<u8>,
    pub(super) pos: usize,
    pub(super) done: bool,
}

impl Read for Decoded {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos >= self.buf.len() {
            if self.done {
                return Ok(0);
            }
            self.pos = 0;
            let tag = self
                .lease
                .r()
                .recv(&mut self.buf, "decode")
                .map_err(|e| self.pump.host_error().unwrap_or(e).into_io())?;
            match tag {
                wire::BYTES => {}
                wire::END => {
                    self.buf.clear();
                    self.done = true;
                    self.pump.finish(self.lease.r());
                    self.lease.done();
                    return Ok(0);
                }
                wire::ERR => {
                    let e = self.lease.r().error(&self.buf, "decode");
                    self.buf.clear();
                    self.done = true;
                    return Err(self.pump.host_error().unwrap_or(e).into_io());
                }
                t => {
                    self.buf.clear();
                    self.done = true;
                    return Err(self
                        .lease
                        .r()
                        .confused("decode", &format!("frame {t}"))
                        .into_io());
                }
            }
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Bytes to encode, sent to the runner in chunks; its output is forwarded
/// into the host's sink.
pub(super) struct Encoded {
    pub(super) lease: Lease,
    pub(super) output: Output,
    pub(super) buf: Vec<u8>,
}

impl Encoded {
    pub(super) fn send_buf(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let r = self.lease.r().send(wire::BYTES, &[&self.buf], "encode");
        self.buf.clear();
        match r {
            Ok(()) => Ok(()),
            Err(e) => Err(self.end().err().unwrap_or(e).into_io()),
        }
    }

    pub(super) fn end(&mut self) -> Result<Option<BoxSink>> {
        self.output.end(&mut self.lease)
    }
}

impl Write for Encoded {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.output.stopped() {
            return Err(self
                .end()
                .err()
                .unwrap_or_else(|| {
                    Error::new(iterable_core::ErrorKind::Other, "the encoder stopped")
                })
                .into_io());
        }
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send_buf()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl ByteSink for Encoded {
    fn finish(mut self: Box<Self>) -> io::Result<()> {
        self.send_buf()?;
        let ended = self.lease.r().send(wire::END, &[], "encode");
        let sink = self.end().map_err(Error::into_io)?;
        ended.map_err(Error::into_io)?;
        if let Some(s) = sink {
            s.finish()?;
        }
        self.lease.done();
        Ok(())
    }
}

impl Drop for Encoded {
    fn drop(&mut self) {
        if !self.lease.clean {
            self.lease.r().proc.kill();
        }
    }
}

impl Driver for Iso<DriverInfo> {
    fn info(&self) -> &DriverInfo {
        &self.info
    }

    fn connect(&self, uri: &str, options: &Options) -> Result<Box<dyn Connection>> {
        let mut lease = match database_dir(uri) {
            Some(dir) => self.home.lease_with(Grant {
                read: vec![dir.clone()],
                write: vec![dir],
            })?,
            None => self.home.lease()?,
        };
        let call = Call::Connect {
            driver: self.i,
            uri: uri.to_owned(),
            options: wire::opts(options),
        };
        lease.ask::<()>(&call, "connect").map_err(|e| {
            let limits = &self.home.limits;
            if limits.sandbox && !limits.network && e.plugin_kind() != Some(PluginErrorKind::Died) {
                let hint = format!(
                    "{} (isolated plugins have no network unless it is granted: {})",
                    e.message(),
                    limits.network_hint(&self.home.name)
                );
                Error::plugin(PluginErrorKind::CallFailed, &self.home.name, hint)
            } else {
                e
            }
        })?;
        // The connection lives in this runner: it is not kept afterwards.
        Ok(Box::new(IsoConnection {
            lease: Arc::new(Mutex::new(lease)),
        }))
    }
}

pub(super) struct IsoConnection {
    pub(super) lease: Shared,
}

impl Connection for IsoConnection {
    fn list_tables(&mut self) -> Result<Vec<String>> {
        lock(&self.lease).ask(&Call::Tables, "query")
    }

    fn read(&mut self, source: &Source, options: &Options) -> Result<BoxReader> {
        let (table, query, name) = match source {
            Source::Table(t) => (Some(t.clone()), None, "read"),
            Source::Query(q) => (None, Some(q.clone()), "query"),
        };
        let call = Call::Query {
            table,
            query,
            options: wire::opts(options),
        };
        lock(&self.lease).ask::<()>(&call, name)?;
        Ok(Box::new(IsoReader::new(
            Arc::clone(&self.lease),
            name,
            false,
        )))
    }

    fn write(&mut self, table: &str, options: &Options) -> Result<BoxWriter> {
        let call = Call::Insert {
            table: table.to_owned(),
            options: wire::opts(options),
        };
        let output = {
            let mut lease = lock(&self.lease);
            lease.ask::<()>(&call, "write")?;
            forward(lease.r(), None, "write")?
        };
        Ok(Box::new(IsoWriter {
            lease: Arc::clone(&self.lease),
            name: "write",
            gather: crate::arrow::Gather::new(BATCH_ROWS),
            output,
            own: false,
        }))
    }
}

impl Rule for Iso<RuleInfo> {
    fn info(&self) -> &RuleInfo {
        &self.info
    }

    fn check(&self, value: &Value) -> std::result::Result<(), String> {
        iterable_core::check_as_batch(self, value)
    }

    fn check_batch(&self, values: &[&Value], out: &mut Vec<Option<String>>) -> Result<()> {
        let mut lease = self.home.lease()?;
        let rows: Vec<Vec<Value>> = values.iter().map(|v| vec![(*v).clone()]).collect();
        let bytes = wire::encode_rows(&["value".to_owned()], &rows)?;
        let r = lease.r();
        r.call(&Call::Check { rule: self.i }, "check")?;
        r.send(wire::BATCH, &[&bytes], "check")?;
        let verdicts: Vec<Option<String>> = r.answer("check")?;
        if verdicts.len() != values.len() {
            return Err(r.confused(
                "check",
                &format!("{} verdicts for {} values", verdicts.len(), values.len()),
            ));
        }
        *out = verdicts;
        lease.done();
        Ok(())
    }
}

impl Engine for Iso<EngineInfo> {
    fn info(&self) -> &EngineInfo {
        &self.info
    }

    fn execute(
        &self,
        query: &str,
        inputs: Vec<(String, BoxReader)>,
        options: &Options,
    ) -> Result<BoxReader> {
        let mut lease = self.home.lease()?;
        let (names, readers): (Vec<String>, Vec<BoxReader>) = inputs.into_iter().unzip();
        let call = Call::Execute {
            engine: self.i,
            query: query.to_owned(),
            inputs: names,
            options: wire::opts(options),
        };
        lease.r().call(&call, "query")?;
        let mut inputs: Vec<EngineInput> = readers
            .into_iter()
            .map(|reader| EngineInput {
                reader,
                ended: false,
                carry: None,
            })
            .collect();
        // The engine may read its inputs before it answers.
        let mut buf = Vec::new();
        loop {
            let r = lease.r();
            match r.recv(&mut buf, "query")? {
                wire::OK => break,
                wire::ERR => return Err(r.error(&buf, "query")),
                wire::NEED => {
                    let k = buf
                        .get(..4)
                        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize);
                    let Some(input) = k.and_then(|k| inputs.get_mut(k)) else {
                        return Err(r.confused("query", &"a NEED for no input"));
                    };
                    serve_input(r, input, "query")?;
                }
                t => return Err(r.confused("query", &format!("frame {t}"))),
            }
        }
        let mut reader = IsoReader::new(Arc::new(Mutex::new(lease)), "query", true);
        reader.inputs = inputs;
        Ok(Box::new(reader))
    }
}

impl Hook for Iso<HookInfo> {
    fn info(&self) -> &HookInfo {
        &self.info
    }

    fn open(&self, run: &RunInfo, options: &Options) -> Result<Box<dyn RunObserver>> {
        let mut lease = self.home.lease()?;
        let call = Call::Observe {
            hook: self.i,
            command: run.command.clone(),
            source: run.source.clone(),
            target: run.target.clone(),
            format: run.format.clone(),
            options: wire::opts(options),
        };
        lease.ask::<()>(&call, "hook")?;
        Ok(Box::new(IsoObserver { lease }))
    }
}

pub(super) struct IsoObserver {
    pub(super) lease: Lease,
}

impl RunObserver for IsoObserver {
    fn batch(&mut self, batch: &Batch) -> Result<()> {
        let bytes = wire::encode_rows(batch.names(), batch.rows())?;
        let r = self.lease.r();
        r.call(&Call::Seen, "hook")?;
        r.send(wire::BATCH, &[&bytes], "hook")?;
        r.answer("hook")
    }

    fn error(&mut self, error: &Error) -> Result<()> {
        let call = Call::Failed {
            message: error.to_string(),
        };
        self.lease.ask(&call, "hook")
    }

    fn close(&mut self, summary: &RunSummary) -> Result<()> {
        let call = Call::Close {
            records: summary.records,
            bytes_read: summary.bytes_read,
            ok: summary.ok,
        };
        self.lease.ask::<()>(&call, "hook")?;
        self.lease.done();
        Ok(())
    }
}
