//! The catalog: what plugins exist and what they claim, known without
//! loading anything. Discovery of plugin directories and candidates, the
//! configuration, manifests, the scan cache, and trust. It imports nothing
//! that loads a library.

pub mod cache;
pub mod config;
pub mod discovery;
pub mod manifest;
pub mod trust;
