//! Hooks at work: a run whose records are shown, batch by batch, to the
//! hooks that observe it.

use std::sync::{Arc, Mutex, MutexGuard};

use crate::error::{Error, ErrorKind, Result};
use crate::io::InputProgress;
use crate::options::{OptionSpec, Options};
use crate::provider::{RunInfo, RunObserver, RunSummary};
use crate::record::{Batch, Record};
use crate::registry::Registry;

/// One run of a command, observed by hooks.
///
/// [`Registry::start_run`] opens every hook; `Reader::observed_by` makes a
/// reader show what it reads to them,
/// in batches of records with the same fields. An error from a hook stops
/// the reader, naming the hook. Whatever ends the run, call [`Run::close`]
/// with its outcome, so that every hook hears of an error and is closed
/// with the counts.
#[derive(Clone)]
pub struct Run {
    state: Arc<Mutex<State>>,
}

struct State {
    observers: Vec<(String, Box<dyn RunObserver>)>,
    batch: Batch,
    records: u64,
    inputs: Vec<InputProgress>,
    /// The first error a hook gave, and which hook: the run is over, and
    /// that hook, whose state is unknown, is not called again.
    stopped: Option<(usize, String)>,
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.lock();
        f.debug_struct("Run")
            .field(
                "hooks",
                &s.observers.iter().map(|(id, _)| id).collect::<Vec<_>>(),
            )
            .field("records", &s.records)
            .finish()
    }
}

fn stopped_by(id: &str, e: Error) -> Error {
    Error::new(ErrorKind::Hook, format!("hook '{id}' stopped the run: {e}"))
}

impl Registry {
    /// Starts a run observed by `hooks` (each id with its options). With
    /// no hooks the run costs nothing.
    pub fn start_run(&self, info: &RunInfo, hooks: &[(String, Options)]) -> Result<Run> {
        let mut observers = Vec::with_capacity(hooks.len());
        for (id, given) in hooks {
            let hook = self.hook(id)?;
            hook.prepare()?;
            let specs: Vec<&OptionSpec> = hook.info().options.iter().collect();
            given.validate(&specs, &format!("hook '{id}'"))?;
            let mut options = given.clone();
            for spec in &specs {
                if let Some(d) = spec
                    .default
                    .as_deref()
                    .filter(|_| !given.contains(&spec.name))
                {
                    options.set(spec.name.clone(), d);
                }
            }
            let observer = hook.open(info, &options).map_err(|e| {
                Error::new(ErrorKind::Hook, format!("hook '{id}' cannot start: {e}"))
            })?;
            observers.push((id.clone(), observer));
        }
        Ok(Run {
            state: Arc::new(Mutex::new(State {
                observers,
                batch: Batch::new(Arc::new(Vec::new())),
                records: 0,
                inputs: Vec::new(),
                stopped: None,
            })),
        })
    }
}

impl Run {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether no hook observes this run.
    pub fn is_empty(&self) -> bool {
        self.lock().observers.is_empty()
    }

    /// Counts the bytes of an input in the run's summary (`Reader::progress`),
    /// without showing its records: an engine's inputs, whose result is what
    /// the hooks observe.
    pub fn count_input(&self, progress: Option<&InputProgress>) {
        if let Some(p) = progress {
            self.lock().inputs.push(p.clone());
        }
    }

    /// Shows one record read (batched).
    pub(crate) fn record(&self, record: &Record) -> Result<()> {
        let mut s = self.lock();
        s.records += 1;
        if s.observers.is_empty() {
            return Ok(());
        }
        if !s.batch.is_empty()
            && !Arc::ptr_eq(record.field_names(), s.batch.names())
            && record.names() != &s.batch.names()[..]
        {
            s.flush()?;
        }
        if s.batch.is_empty() {
            s.batch.clear(Arc::clone(record.field_names()));
        }
        s.batch.push_row(record.values().to_vec());
        if s.batch.len() >= crate::BATCH_ROWS {
            s.flush()?;
        }
        Ok(())
    }

    /// The input has ended (or failed): shows what is still batched.
    pub(crate) fn end_of_input(&self) -> Result<()> {
        self.lock().flush()
    }

    /// Ends the run: every hook hears of `outcome`'s error, if any, and is
    /// closed with the counts. Returns the first error a hook gave.
    pub fn close(self, outcome: Result<(), &Error>) -> Result<()> {
        let mut s = self.lock();
        let mut first: Option<Error> = None;
        if outcome.is_ok() {
            if let Err(e) = s.flush() {
                first = Some(e);
            }
        }
        let summary = RunSummary {
            records: s.records,
            bytes_read: s.inputs.iter().map(InputProgress::read).sum(),
            ok: outcome.is_ok() && first.is_none() && s.stopped.is_none(),
        };
        // The run's own error, or else the first hook's, is what each hook
        // hears of; errors hooks give while closing come after it.
        let mut later: Vec<Error> = Vec::new();
        let failure: Option<&Error> = outcome.err().or(first.as_ref());
        let stopper = s.stopped.as_ref().map(|(i, _)| *i);
        for (i, (id, o)) in s.observers.iter_mut().enumerate() {
            if Some(i) == stopper {
                continue;
            }
            if let Some(e) = failure {
                if let Err(he) = o.error(e) {
                    later.push(stopped_by(id, he));
                }
            }
            if let Err(he) = o.close(&summary) {
                later.push(stopped_by(id, he));
            }
        }
        s.observers.clear();
        match first.or_else(|| later.into_iter().next()) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

impl State {
    fn flush(&mut self) -> Result<()> {
        if let Some((_, msg)) = &self.stopped {
            return Err(Error::new(ErrorKind::Hook, msg.clone()));
        }
        if self.batch.is_empty() {
            return Ok(());
        }
        for (i, (id, o)) in self.observers.iter_mut().enumerate() {
            if let Err(e) = o.batch(&self.batch) {
                let e = stopped_by(id, e);
                self.stopped = Some((i, e.message().to_owned()));
                return Err(e);
            }
        }
        let names = Arc::clone(self.batch.names());
        self.batch.clear(names);
        Ok(())
    }
}
