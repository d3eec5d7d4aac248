//! The author SDK: what a plugin implements and calls.
//!
//! An author implements one or more of [`Format`](traits::Format),
//! [`Codec`](traits::Codec), [`Driver`](traits::Driver) (+
//! [`Connection`](traits::Connection)), [`Rule`](traits::Rule),
//! [`Engine`](traits::Engine) and [`Hook`](traits::Hook), and lists them in
//! [`crate::export_plugin!`]. Everything optional has a default. Authors
//! never see `RVec`/`RResult`: they read bytes from an [`Input`](io::Input)
//! (`BufRead`), write to an [`Output`](io::Output) (`Write`), push cells into
//! a [`BatchBuilder`](crate::BatchBuilder) and read rows from a
//! [`RowView`](crate::RowView).
//!
//! Every adapter method runs inside a panic guard: a panic becomes an error
//! of kind [`RErrorKind::PANIC`](crate::RErrorKind::PANIC) whose message is
//! `"panicked: <message> at <file>:<line>"`, and a reader, writer or
//! connection that panicked is poisoned (every later call fails with PANIC).
//!
//! The SDK follows semver of its own (the crate's package version); the
//! wire it speaks is [`crate::ABI_VERSION`].

pub mod adapt;
pub mod error;
pub(crate) mod export;
pub(crate) mod guard;
pub mod io;
pub mod options;
mod rows;
pub mod spec;
pub mod streams;
mod text;
pub mod traits;

pub use export::Exports;
