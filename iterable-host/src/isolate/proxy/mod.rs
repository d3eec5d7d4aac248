//! An isolated plugin as the host sees it: a library whose providers stand
//! behind the core's traits and forward every call to a runner.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use iterable_core::{Codec, Driver, Engine, Format, Hook, Result, Rule};

use super::IDLE_RUNNERS;
use super::process::{Proc, Runner};
use crate::catalog::manifest::Manifest;
use crate::loader::Library;
use crate::plugin::lock;
use crate::policy::{Limits, SandboxReport};
use crate::wire::{Call, Spec};

mod bytes;
mod kinds;
mod records;

/// Bytes per frame of a byte stream.
const CHUNK: usize = 256 << 10;

/// What the host knows of an isolated plugin before its first runner starts.
pub(crate) struct Plan<'a> {
    pub name: &'a str,
    pub library: &'a Path,
    pub dir: &'a Path,
    /// The manifest file, for an ADBC driver (which loads from it).
    pub manifest_file: Option<PathBuf>,
    pub declared: Option<&'a Manifest>,
    pub program: (&'a Path, &'a [OsString]),
    pub limits: Limits,
}

/// Starts the plugin's first runner and makes a library of proxies from
/// what it says it provides.
pub(crate) fn library(plan: Plan<'_>) -> Result<Library> {
    let library = std::path::absolute(plan.library).unwrap_or_else(|_| plan.library.into());
    let mut read = vec![plan.dir.to_path_buf()];
    read.extend(plan.limits.read.iter().cloned());
    if let Some(parent) = library.parent() {
        read.push(parent.to_path_buf());
    }
    let spec = Spec {
        name: plan.name.to_owned(),
        library: library.clone(),
        manifest: plan.manifest_file.clone(),
        hooks: plan.declared.is_none_or(|m| !m.hooks.is_empty()),
        write: plan.limits.write.clone(),
        memory_limit: plan.limits.memory_limit,
        network: plan.limits.network,
        sandbox: plan.limits.sandbox,
        read,
        scratch: None,
    };
    let home = Arc::new(Runners {
        name: plan.name.to_owned(),
        program: plan.program.0.to_path_buf(),
        args: plan.program.1.to_vec(),
        spec,
        limits: plan.limits,
        idle: Mutex::new(Vec::new()),
        told: std::sync::Once::new(),
        sandbox: std::sync::OnceLock::new(),
    });
    let (first, manifest) = home.spawn(None)?;
    let mut description = manifest;
    description.plugin.name = plan.name.to_owned();
    let native = crate::cabi::Native {
        formats: proxies(&home, &description.formats, |p| {
            Box::new(p) as Box<dyn Format>
        }),
        codecs: proxies(&home, &description.codecs, |p| {
            Box::new(p) as Box<dyn Codec>
        }),
        drivers: proxies(&home, &description.drivers, |p| {
            Box::new(p) as Box<dyn Driver>
        }),
        rules: proxies(&home, &description.rules, |p| Box::new(p) as Box<dyn Rule>),
        engines: proxies(&home, &description.engines, |p| {
            Box::new(p) as Box<dyn Engine>
        }),
        hooks: proxies(&home, &description.hooks, |p| Box::new(p) as Box<dyn Hook>),
    };
    home.give_back(first);
    let mut lib = crate::loader::native(&library, description, native);
    lib.sandbox = home.sandbox.get().cloned();
    Ok(lib)
}

/// A proxy for each of a kind's providers, by its index in the runner's list.
fn proxies<I: Clone, T: ?Sized>(
    home: &Arc<Runners>,
    infos: &[I],
    boxed: impl Fn(Iso<I>) -> Box<T>,
) -> Vec<Box<T>> {
    infos
        .iter()
        .enumerate()
        .map(|(i, info)| {
            boxed(Iso {
                home: Arc::clone(home),
                i,
                info: info.clone(),
            })
        })
        .collect()
}

/// One provider of an isolated plugin: its description, and its index in
/// the runner's list of its kind.
struct Iso<I> {
    home: Arc<Runners>,
    i: usize,
    info: I,
}

/// The runners of one plugin: how to start one, and those waiting.
pub(crate) struct Runners {
    name: String,
    program: PathBuf,
    args: Vec<OsString>,
    spec: Spec,
    limits: Limits,
    idle: Mutex<Vec<Runner>>,
    told: std::sync::Once,
    /// What the sandbox of the first runner could do.
    sandbox: std::sync::OnceLock<SandboxReport>,
}

impl Runners {
    /// Starts a runner (that may also read or write what `grant` says).
    fn spawn(&self, grant: Option<&Grant>) -> Result<(Runner, Manifest)> {
        let mut spec = self.spec.clone();
        let scratch = tempfile::Builder::new()
            .prefix("iterable-runner-")
            .tempdir()
            .ok();
        spec.scratch = scratch.as_ref().map(|d| d.path().to_path_buf());
        if let Some(g) = grant {
            let abs = |p: &PathBuf| std::path::absolute(p).unwrap_or_else(|_| p.clone());
            spec.read.extend(g.read.iter().map(abs));
            spec.write.extend(g.write.iter().map(abs));
        }
        let (runner, ready) =
            Runner::spawn(&self.program, &self.args, &spec, &self.limits, scratch)?;
        runner
            .proc
            .set_sandboxed(ready.sandbox.requested && ready.sandbox.files != "off");
        self.tell(&ready.sandbox);
        let _ = self.sandbox.set(ready.sandbox.clone());
        Ok((runner, *ready.manifest))
    }

    /// Says once (at -v) what the sandbox could not do.
    fn tell(&self, report: &SandboxReport) {
        self.told.call_once(|| {
            if !report.requested {
                tracing::info!(plugin = %self.name, "isolated plugin runs without a sandbox, as configured");
            } else if report.complete() {
                tracing::debug!(plugin = %self.name, files = %report.files, network = %report.network, "isolated plugin sandboxed");
            } else {
                tracing::info!(
                    plugin = %self.name,
                    "isolated plugin runs without a complete sandbox: files {}, network {}",
                    report.files,
                    report.network
                );
            }
        });
    }

    /// A runner for one call: one that waits, or a new one.
    fn lease(self: &Arc<Self>) -> Result<Lease> {
        let waiting = loop {
            match lock(&self.idle).pop() {
                Some(r) if r.proc.alive() => break Some(r),
                Some(_) => continue,
                None => break None,
            }
        };
        let runner = match waiting {
            Some(r) => r,
            None => self.spawn(None)?.0,
        };
        Ok(Lease {
            runner: Some(runner),
            home: Arc::clone(self),
            clean: false,
        })
    }

    /// A runner that may also read or write what `grant` says (a sandboxed
    /// runner reaches only what it was started with); it is not kept
    /// afterwards.
    fn lease_with(self: &Arc<Self>, grant: Grant) -> Result<Lease> {
        if !self.limits.sandbox {
            return self.lease();
        }
        Ok(Lease {
            runner: Some(self.spawn(Some(&grant))?.0),
            home: Arc::clone(self),
            clean: false,
        })
    }

    /// A runner that may read the file at `path`.
    fn lease_for(self: &Arc<Self>, path: &Path) -> Result<Lease> {
        self.lease_with(Grant {
            read: vec![path.to_path_buf()],
            write: Vec::new(),
        })
    }
}

/// What a runner may reach besides what every runner of its plugin may.
#[derive(Default)]
struct Grant {
    read: Vec<PathBuf>,
    write: Vec<PathBuf>,
}

/// The directory of the database file a driver's URI names, if it names
/// one here (`sqlite:///abs/path.db`, `sqlite://relative.db`): the driver
/// writes the file and its journal there.
fn database_dir(uri: &str) -> Option<PathBuf> {
    let rest = uri.split_once("://")?.1;
    let rest = rest.split(['?', '#']).next().unwrap_or(rest);
    if rest.is_empty() || rest.starts_with(':') || rest.contains('@') {
        return None;
    }
    let path = Path::new(rest);
    let dir = match path.parent() {
        Some(d) if d.as_os_str().is_empty() => PathBuf::from("."),
        Some(d) => d.to_path_buf(),
        None => return None,
    };
    // A host name is not a directory here.
    (dir.is_dir() && (path.is_absolute() || path.exists() || dir == Path::new("."))).then_some(dir)
}

impl Runners {
    fn give_back(&self, runner: Runner) {
        let mut idle = lock(&self.idle);
        if idle.len() < IDLE_RUNNERS && runner.input.is_some() && runner.output.is_some() {
            idle.push(runner);
        }
    }
}

/// A runner lent to one call (or one connection, or one observed run). It
/// goes back to wait for the next call only when the call ended cleanly;
/// otherwise it is killed.
struct Lease {
    runner: Option<Runner>,
    home: Arc<Runners>,
    clean: bool,
}

impl Lease {
    fn r(&mut self) -> &mut Runner {
        self.runner
            .as_mut()
            .expect("a lease holds its runner until dropped")
    }

    fn proc(&self) -> Arc<Proc> {
        Arc::clone(&self.runner.as_ref().expect("held").proc)
    }

    /// The call ended cleanly: the runner may serve another.
    fn done(&mut self) {
        self.clean = true;
    }

    /// Calls and reads the answer; a failure stops the runner.
    fn ask<T: for<'de> serde::Deserialize<'de>>(&mut self, call: &Call, name: &str) -> Result<T> {
        let r = self.r();
        r.call(call, name)?;
        r.answer(name)
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(r) = self.runner.take() {
            if self.clean {
                self.home.give_back(r);
            } else {
                r.proc.kill();
            }
        }
    }
}

/// A lease shared by a connection and what it reads and writes.
type Shared = Arc<Mutex<Lease>>;
