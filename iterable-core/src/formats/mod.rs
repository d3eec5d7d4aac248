//! Built-in formats.

pub mod csv;
pub mod json;

pub use self::csv::DelimitedFormat;
pub use self::json::{JsonFormat, JsonLinesFormat};
