//! Built-in formats.

pub mod csv;
pub mod json;
pub mod text;

pub use self::csv::{DelimitedFormat, TextRow, TextRows};
pub use self::json::{JsonFormat, JsonLinesFormat};
