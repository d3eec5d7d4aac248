//! What the data commands share: the registry, the hooks that observe a
//! run, and whether to show progress.

use iterable_core::{Error, ErrorKind, Options, Reader, Registry, Run, RunInfo};

use crate::output::{CliResult, Failure};
use crate::progress::Progress;

/// One invocation of a data command.
pub struct Session<'a> {
    /// Where providers are found.
    pub registry: &'a Registry,
    /// The hooks observing the run, with their options.
    hooks: Vec<(String, Options)>,
    quiet: bool,
}

impl<'a> Session<'a> {
    /// `hooks` in the order enabled (configuration first, then `--hook`,
    /// each once); `hook_options` as `ID.KEY=VALUE`.
    pub fn new(
        registry: &'a Registry,
        hooks: Vec<String>,
        hook_options: &[String],
        quiet: bool,
    ) -> Result<Self, Error> {
        let mut enabled: Vec<(String, Options)> = Vec::new();
        for id in hooks {
            if !enabled.iter().any(|(h, _)| *h == id) {
                enabled.push((id, Options::new()));
            }
        }
        for pair in hook_options {
            let (key, value) = Options::parse_pair(pair)?;
            let Some((id, key)) = key.rsplit_once('.') else {
                return Err(Error::new(
                    ErrorKind::InvalidInput,
                    format!("--hook-option {pair:?} is not of the form ID.KEY=VALUE"),
                ));
            };
            let Some((_, options)) = enabled.iter_mut().find(|(h, _)| h == id) else {
                return Err(Error::new(
                    ErrorKind::InvalidInput,
                    format!(
                        "--hook-option {pair:?} is for hook '{id}', which is not enabled; add --hook {id}"
                    ),
                ));
            };
            options.set(key, value);
        }
        Ok(Session {
            registry,
            hooks: enabled,
            quiet,
        })
    }

    /// Starts a run of `command` over `reader` (observed from now on).
    pub fn start(
        &self,
        command: &str,
        reader: Reader,
        target: Option<&str>,
    ) -> Result<(Reader, Run), Error> {
        let info = RunInfo {
            command: command.to_owned(),
            source: reader.name().unwrap_or("-").to_owned(),
            target: target.map(str::to_owned),
            format: reader.format().to_owned(),
        };
        let run = self.registry.start_run(&info, &self.hooks)?;
        Ok((reader.observed_by(&run), run))
    }

    /// Starts a run with no single input (a query's result).
    pub fn start_bare(&self, info: &RunInfo) -> Result<Run, Error> {
        self.registry.start_run(info, &self.hooks)
    }

    /// A progress bar over `reader` (nothing with `--quiet` or without a
    /// terminal).
    pub fn progress(&self, reader: &Reader) -> Progress {
        Progress::new(reader, self.quiet)
    }

    /// Ends `run` with the command's `result`: the hooks hear of its error;
    /// an error of theirs is the command's when it had none.
    pub fn finish(&self, run: Run, result: CliResult) -> CliResult {
        match result {
            Err(Failure::Error(e)) => {
                // The command's error is the one to show; a hook that also
                // failed while hearing of it is only logged.
                if let Err(he) = run.close(Err(&e)) {
                    tracing::info!("{he}");
                }
                Err(Failure::Error(e))
            }
            // A closed stdout (`| head`) or a chosen exit status ends the
            // run normally.
            other => {
                run.close(Ok(()))?;
                other
            }
        }
    }
}
