//! # iterable-host
//!
//! The IterableData plugin host. It builds a [`Registry`] of built-in
//! providers and opens files through it; the `iterable-host` binary is its
//! command-line face.
//!
//! ```
//! use iterable_host::Host;
//! use iterable_core::OpenOptions;
//!
//! let host = Host::builder().build()?;
//! let data = "id,city\n1,Oslo\n";
//! let reader = host.registry().open_stream(
//!     Box::new(std::io::Cursor::new(data)), Some("x.csv"), &OpenOptions::new())?;
//! assert_eq!(reader.count(), 0);
//! # Ok::<(), iterable_core::Error>(())
//! ```
//!
//! This crate emits `tracing` events and never installs a subscriber; only
//! the binary does.

#![deny(missing_docs)]

pub use iterable_core;
use iterable_core::{Registry, Result};

/// A configured host: the registry every command opens data through.
#[derive(Debug, Clone)]
pub struct Host {
    registry: Registry,
}

/// Builds a [`Host`].
#[derive(Debug, Clone, Default)]
pub struct HostBuilder {
    _private: (),
}

impl HostBuilder {
    /// Builds the host.
    pub fn build(self) -> Result<Host> {
        Ok(Host {
            registry: Registry::with_builtins(),
        })
    }
}

impl Host {
    /// A builder with the defaults.
    pub fn builder() -> HostBuilder {
        HostBuilder::default()
    }

    /// The registry of providers.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }
}
