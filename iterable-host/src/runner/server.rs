//! Serving calls: the plugin's providers, and one call at a time.

use super::*;

/// The plugin's providers, behind the core's traits (either flavour).
pub(super) struct Providers {
    pub(super) description: crate::catalog::manifest::Manifest,
    pub(super) formats: Vec<LazyFormat>,
    pub(super) codecs: Vec<LazyCodec>,
    pub(super) drivers: Vec<LazyDriver>,
    pub(super) rules: Vec<LazyRule>,
    pub(super) engines: Vec<LazyEngine>,
    pub(super) hooks: Vec<LazyHook>,
}

impl Providers {
    pub(super) fn load(spec: &Spec) -> Result<Providers> {
        let lib = match &spec.manifest {
            Some(m) => {
                let manifest = crate::catalog::manifest::Manifest::from_file(m)?;
                if manifest.plugin.abi == crate::catalog::manifest::Abi::Adbc {
                    crate::adbc::load(&spec.library, &manifest)?
                } else {
                    crate::loader::load(&spec.library, &spec.name)?
                }
            }
            None => crate::loader::load(&spec.library, &spec.name)?,
        };
        let mut description = if spec.hooks {
            lib.description_with_hooks()?
        } else {
            lib.description.clone()
        };
        description.plugin.abi = lib.abi();
        let plugin = Plugin::preloaded(lib, &spec.name);
        let p = &plugin;
        Ok(Providers {
            formats: description
                .formats
                .iter()
                .map(|i| LazyFormat::new(Arc::clone(p), i.clone()))
                .collect(),
            codecs: description
                .codecs
                .iter()
                .map(|i| LazyCodec::new(Arc::clone(p), i.clone()))
                .collect(),
            drivers: description
                .drivers
                .iter()
                .map(|i| LazyDriver::new(Arc::clone(p), i.clone()))
                .collect(),
            rules: description
                .rules
                .iter()
                .map(|i| LazyRule::new(Arc::clone(p), i.clone()))
                .collect(),
            engines: description
                .engines
                .iter()
                .map(|i| LazyEngine::new(Arc::clone(p), i.clone()))
                .collect(),
            hooks: description
                .hooks
                .iter()
                .map(|i| LazyHook::new(Arc::clone(p), i.clone()))
                .collect(),
            description,
        })
    }
}

pub(super) fn pick<'a, T>(list: &'a [T], i: usize, kind: &str) -> Result<&'a T> {
    list.get(i)
        .ok_or_else(|| Error::new(ErrorKind::InvalidInput, format!("no {kind} number {i}")))
}

pub(super) struct Server {
    pub(super) input: In,
    pub(super) output: Out,
    pub(super) p: Providers,
    pub(super) connection: Option<Box<dyn Connection>>,
    pub(super) observer: Option<Box<dyn RunObserver>>,
    pub(super) buf: Vec<u8>,
}

/// What a call's failure was: the plugin's (reported, the runner goes
/// on), or the pipe's (the runner ends).
pub(super) enum Failure {
    Plugin(Error),
    Pipe(io::Error),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Plugin(e)
    }
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        Failure::Pipe(e)
    }
}

impl Server {
    /// Serves one call; `Err` only when the pipe to the host broke.
    pub(super) fn handle(&mut self, call: Call) -> io::Result<()> {
        // A call that reads bytes or batches after it takes them to the end
        // (END), whatever happens, so that the next call starts in step.
        let takes_input = matches!(
            call,
            Call::Read { .. }
                | Call::Decode { .. }
                | Call::Write { .. }
                | Call::Encode { .. }
                | Call::Insert { .. }
        );
        let ended = Arc::new(std::sync::atomic::AtomicBool::new(!takes_input));
        let r = self.dispatch(call, &ended);
        if let Err(Failure::Plugin(e)) = &r {
            send_err(&self.output, e)?;
        }
        if !ended.load(std::sync::atomic::Ordering::Relaxed) {
            drain(&self.input)?;
        }
        match r {
            Err(Failure::Pipe(e)) => Err(e),
            _ => Ok(()),
        }
    }

    pub(super) fn dispatch(
        &mut self,
        call: Call,
        ended: &Arc<std::sync::atomic::AtomicBool>,
    ) -> std::result::Result<(), Failure> {
        let input = || FrameInput {
            input: Arc::clone(&self.input),
            ended: Arc::clone(ended),
            buf: Vec::new(),
            pos: 0,
        };
        match call {
            Call::Read {
                format,
                options,
                size,
            } => {
                let f = pick(&self.p.formats, format, "format")?;
                match f.open(Box::new(input()), size, &wire::options(&options))? {
                    crate::adapters::Opened::Batches(mut r) => {
                        send_json(&self.output, wire::OK, &())?;
                        self.stream_flat(&mut r)
                    }
                    crate::adapters::Opened::Records(mut r) => {
                        send_json(&self.output, wire::OK, &())?;
                        self.stream(&mut *r)
                    }
                }
            }
            Call::ReadPath {
                format,
                path,
                options,
            } => {
                let f = pick(&self.p.formats, format, "format")?;
                match f.path_reader(&path, &wire::options(&options)) {
                    None => Ok(send_json(&self.output, wire::OK, &false)?),
                    Some(r) => {
                        let mut r = r?;
                        send_json(&self.output, wire::OK, &true)?;
                        self.stream(&mut *r)
                    }
                }
            }
            Call::Schema {
                format,
                path,
                options,
            } => {
                let f = pick(&self.p.formats, format, "format")?;
                let s = f.path_schema(&path, &wire::options(&options)).transpose()?;
                Ok(send_json(&self.output, wire::OK, &s)?)
            }
            Call::Write { format, options } => {
                let f = pick(&self.p.formats, format, "format")?;
                let sink = FrameSink {
                    output: Arc::clone(&self.output),
                };
                let w = f.writer(Box::new(sink), &wire::options(&options))?;
                send_json(&self.output, wire::OK, &())?;
                self.take_batches(w, ended)
            }
            Call::Decode { codec, size } => {
                let c = pick(&self.p.codecs, codec, "codec")?;
                let mut d = c.sized_decoder(Box::new(input()), size)?;
                send_json(&self.output, wire::OK, &())?;
                let mut chunk = vec![0u8; 256 << 10];
                loop {
                    let n = match d.read(&mut chunk) {
                        Ok(n) => n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => return Err(Error::from_io(e).into()),
                    };
                    if n == 0 {
                        return Ok(send(&self.output, wire::END, &[])?);
                    }
                    send(&self.output, wire::BYTES, &[&chunk[..n]])?;
                }
            }
            Call::Encode { codec, level } => {
                let c = pick(&self.p.codecs, codec, "codec")?;
                let sink = FrameSink {
                    output: Arc::clone(&self.output),
                };
                let mut e = c.encoder(Box::new(sink), level)?;
                send_json(&self.output, wire::OK, &())?;
                let mut buf = Vec::new();
                loop {
                    match wire::read_frame(&mut *lock(&self.input), &mut buf)? {
                        wire::BYTES => e.write_all(&buf).map_err(Error::from_io)?,
                        wire::END => {
                            ended.store(true, std::sync::atomic::Ordering::Relaxed);
                            e.finish().map_err(Error::from_io)?;
                            return Ok(send_json(&self.output, wire::OK, &())?);
                        }
                        t => return Err(protocol(t).into()),
                    }
                }
            }
            Call::Connect {
                driver,
                uri,
                options,
            } => {
                let d = pick(&self.p.drivers, driver, "driver")?;
                self.connection = Some(d.connect(&uri, &wire::options(&options))?);
                Ok(send_json(&self.output, wire::OK, &())?)
            }
            Call::Tables => {
                let t = self.conn()?.list_tables()?;
                Ok(send_json(&self.output, wire::OK, &t)?)
            }
            Call::Query {
                table,
                query,
                options,
            } => {
                let source = match (table, query) {
                    (_, Some(q)) => Source::Query(q),
                    (Some(t), None) => Source::Table(t),
                    (None, None) => {
                        return Err(
                            Error::new(ErrorKind::InvalidInput, "neither table nor query").into(),
                        );
                    }
                };
                let mut r = self.conn()?.read(&source, &wire::options(&options))?;
                send_json(&self.output, wire::OK, &())?;
                self.stream(&mut *r)
            }
            Call::Insert { table, options } => {
                let w = self.conn()?.write(&table, &wire::options(&options))?;
                send_json(&self.output, wire::OK, &())?;
                self.take_batches(w, ended)
            }
            Call::Check { rule } => {
                let r = pick(&self.p.rules, rule, "rule")?;
                let mut buf = Vec::new();
                let batch = match wire::read_frame(&mut *lock(&self.input), &mut buf)? {
                    wire::BATCH => batch_of(&buf)?,
                    t => return Err(protocol(t).into()),
                };
                let values: Vec<&Value> = batch.rows().iter().filter_map(|r| r.first()).collect();
                let mut out = Vec::with_capacity(values.len());
                r.check_batch(&values, &mut out)?;
                Ok(send_json(&self.output, wire::OK, &out)?)
            }
            Call::Execute {
                engine,
                query,
                inputs,
                options,
            } => {
                let e = pick(&self.p.engines, engine, "engine")?;
                let readers = inputs
                    .into_iter()
                    .enumerate()
                    .map(|(k, name)| {
                        let r: iterable_core::BoxReader = Box::new(NeedReader {
                            input: Arc::clone(&self.input),
                            output: Arc::clone(&self.output),
                            k: k as u32,
                            rows: Vec::new().into_iter(),
                            names: FieldNames::default(),
                            done: false,
                        });
                        (name, r)
                    })
                    .collect();
                let mut r = e.execute(&query, readers, &wire::options(&options))?;
                send_json(&self.output, wire::OK, &())?;
                self.stream(&mut *r)
            }
            Call::Observe {
                hook,
                command,
                source,
                target,
                format,
                options,
            } => {
                let h = pick(&self.p.hooks, hook, "hook")?;
                let run = RunInfo {
                    command,
                    source,
                    target,
                    format,
                };
                self.observer = Some(h.open(&run, &wire::options(&options))?);
                Ok(send_json(&self.output, wire::OK, &())?)
            }
            Call::Seen => {
                let mut buf = Vec::new();
                let batch = match wire::read_frame(&mut *lock(&self.input), &mut buf)? {
                    wire::BATCH => batch_of(&buf)?,
                    t => return Err(protocol(t).into()),
                };
                self.observing()?.batch(&batch)?;
                Ok(send_json(&self.output, wire::OK, &())?)
            }
            Call::Failed { message } => {
                self.observing()?
                    .error(&Error::new(ErrorKind::Other, message))?;
                Ok(send_json(&self.output, wire::OK, &())?)
            }
            Call::Close {
                records,
                bytes_read,
                ok,
            } => {
                let mut o = self.observer.take().ok_or_else(no_observer)?;
                o.close(&RunSummary {
                    records,
                    bytes_read,
                    ok,
                })?;
                Ok(send_json(&self.output, wire::OK, &())?)
            }
        }
    }

    pub(super) fn conn(&mut self) -> Result<&mut Box<dyn Connection>> {
        self.connection
            .as_mut()
            .ok_or_else(|| Error::new(ErrorKind::InvalidInput, "no connection"))
    }

    pub(super) fn observing(&mut self) -> Result<&mut Box<dyn RunObserver>> {
        self.observer.as_mut().ok_or_else(no_observer)
    }

    /// Sends what a reader reads, as batches, then END.
    pub(super) fn stream(&self, reader: &mut dyn RecordReader) -> std::result::Result<(), Failure> {
        let mut record = Record::new();
        let mut rows = crate::arrow::RecordsToArrow::new();
        while reader.read_record(&mut record)? {
            self.gather(&mut rows, &record)?;
        }
        self.send_rows(&mut rows)?;
        Ok(send(&self.output, wire::END, &[])?)
    }

    /// Sends a Rust plugin's batches as it fills them (FLAT frames), then
    /// END: no conversion here, the host checks and converts them as it
    /// does in its own process. A batch with nested values (lists, maps)
    /// goes as Arrow instead.
    pub(super) fn stream_flat(
        &self,
        reader: &mut crate::adapters::PluginReader,
    ) -> std::result::Result<(), Failure> {
        let plugin = reader.plugin().to_owned();
        let mut record = Record::new();
        let mut rows = crate::arrow::RecordsToArrow::new();
        while let Some(batch) = reader.next_batch()? {
            if batch.batch().nested.is_empty() {
                let mut o = lock(&self.output);
                wire::write_flat(&mut *o, batch.batch())?;
                o.flush()?;
                continue;
            }
            batch.start(&plugin)?;
            while batch.next_into(&mut record) {
                self.gather(&mut rows, &record)?;
            }
            self.send_rows(&mut rows)?;
        }
        Ok(send(&self.output, wire::END, &[])?)
    }

    /// Adds a record to the rows gathered; sends them first when its names
    /// differ, and after when they make a full batch.
    pub(super) fn gather(
        &self,
        rows: &mut crate::arrow::RecordsToArrow,
        record: &Record,
    ) -> std::result::Result<(), Failure> {
        if !rows.fits(record.field_names()) {
            self.send_rows(rows)?;
        }
        rows.push(record.field_names(), record.values());
        if rows.len() >= BATCH_ROWS {
            self.send_rows(rows)?;
        }
        Ok(())
    }

    /// Sends the rows gathered as one batch.
    pub(super) fn send_rows(
        &self,
        rows: &mut crate::arrow::RecordsToArrow,
    ) -> std::result::Result<(), Failure> {
        let batch = rows
            .take()
            .map_err(|e| Error::new(ErrorKind::Other, format!("cannot encode a batch: {e}")))?;
        if let Some(b) = batch {
            let bytes = wire::encode_batch(&b)?;
            send(&self.output, wire::BATCH, &[&bytes])?;
        }
        Ok(())
    }

    /// Feeds the batches that follow to a writer; END finishes it.
    pub(super) fn take_batches(
        &self,
        mut w: iterable_core::BoxWriter,
        ended: &Arc<std::sync::atomic::AtomicBool>,
    ) -> std::result::Result<(), Failure> {
        let mut buf = Vec::new();
        loop {
            let tag = wire::read_frame(&mut *lock(&self.input), &mut buf)?;
            match tag {
                wire::BATCH => w.write_batch(&batch_of(&buf)?)?,
                wire::END => {
                    ended.store(true, std::sync::atomic::Ordering::Relaxed);
                    w.finish()?;
                    return Ok(send_json(&self.output, wire::OK, &())?);
                }
                t => return Err(protocol(t).into()),
            }
        }
    }
}
