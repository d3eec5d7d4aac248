//! The progress bar of long commands: on stderr, only when stderr is a
//! terminal and `--quiet` is not given; stdout is never touched.
//!
//! A small thread redraws it five times a second from two counters: the
//! input's bytes (counted by the core as it reads) and the records the
//! command has handled. The command's own loop only bumps a local count.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use iterable_core::Reader;

/// Records between two publications of the count.
const EVERY: u64 = 1024;

struct Shown {
    bar: ProgressBar,
    records: Arc<AtomicU64>,
    done: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

/// A progress bar over one input, or nothing.
pub struct Progress {
    shown: Option<Shown>,
    records: u64,
}

impl Progress {
    /// A bar for `reader`: bytes out of the total when the input is a file,
    /// else a spinner; always records and their rate.
    pub fn new(reader: &Reader, quiet: bool) -> Progress {
        if quiet || !std::io::stderr().is_terminal() {
            return Progress {
                shown: None,
                records: 0,
            };
        }
        let input = reader.progress().cloned();
        let total = input.as_ref().and_then(|p| p.total());
        let target = ProgressDrawTarget::stderr();
        let bar = match total {
            Some(total) => ProgressBar::with_draw_target(Some(total), target).with_style(
                ProgressStyle::with_template(
                    "{bar:30} {bytes}/{total_bytes} {msg} ({elapsed}, {eta} left)",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            ),
            None => ProgressBar::with_draw_target(None, target).with_style(
                ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            ),
        };
        let records = Arc::new(AtomicU64::new(0));
        let done = Arc::new(AtomicBool::new(false));
        let thread = {
            let (bar, records, done) = (bar.clone(), Arc::clone(&records), Arc::clone(&done));
            std::thread::spawn(move || {
                while !done.load(Ordering::Relaxed) {
                    if let Some(p) = &input {
                        bar.set_position(p.read());
                    }
                    let n = records.load(Ordering::Relaxed);
                    let secs = bar.elapsed().as_secs_f64().max(1e-3);
                    bar.set_message(format!("{n} records, {:.0}/s", n as f64 / secs));
                    bar.tick();
                    std::thread::park_timeout(Duration::from_millis(200));
                }
            })
        };
        Progress {
            shown: Some(Shown {
                bar,
                records,
                done,
                thread,
            }),
            records: 0,
        }
    }

    /// One more record.
    #[inline]
    pub fn record(&mut self) {
        self.records += 1;
        if self.records % EVERY == 0 {
            if let Some(s) = &self.shown {
                s.records.store(self.records, Ordering::Relaxed);
            }
        }
    }

    /// Removes the bar.
    pub fn finish(self) {
        if let Some(s) = self.shown {
            s.done.store(true, Ordering::Relaxed);
            s.thread.thread().unpark();
            let _ = s.thread.join();
            s.bar.finish_and_clear();
        }
    }
}
