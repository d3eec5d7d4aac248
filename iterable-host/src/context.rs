//! What every plugin of a host shares.

use std::sync::Mutex;
use std::time::Duration;

use crate::catalog::cache::ScanCache;
use crate::scan::Scanner;

/// What every plugin of a host shares: the scan cache and how to examine
/// and trust libraries.
#[derive(Debug)]
pub(crate) struct Context {
    pub(crate) cache: Mutex<ScanCache>,
    /// The scanner given to the builder; for a host in the user's
    /// environment, otherwise looked for ([`Scanner::find`], a PATH search)
    /// the first time one is needed.
    pub(crate) scanner: std::sync::OnceLock<Option<Scanner>>,
    pub(crate) find_scanner: bool,
    pub(crate) timeout: Duration,
    /// Where plugins run, and within what limits.
    pub(crate) isolation: crate::policy::Policy,
}

impl Context {
    /// How libraries are examined.
    pub(crate) fn scanner(&self) -> Option<&Scanner> {
        self.scanner
            .get_or_init(|| {
                if self.find_scanner {
                    Scanner::find()
                } else {
                    None
                }
            })
            .as_ref()
    }
}
