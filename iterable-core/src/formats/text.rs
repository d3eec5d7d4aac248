//! What the text formats share: the record size cap, and turning input in
//! any encoding into UTF-8.

use std::io::Read;

use crate::error::{Error, ErrorKind, Result};
use crate::io::BoxRead;

/// The largest single record accepted (64 MiB): a JSON line, an array
/// element, or a CSV row; past it the reader stops with an error instead of
/// growing without bound.
pub const MAX_ELEMENT_BYTES: usize = 64 << 20;

/// Turns the input into UTF-8 without a BOM.
pub(crate) fn decode_input(input: BoxRead, encoding: Option<&str>) -> Result<BoxRead> {
    let label = encoding.unwrap_or("utf-8").trim().to_ascii_lowercase();
    if matches!(label.as_str(), "utf-8" | "utf8" | "utf-8-sig" | "utf-8-bom") {
        let (head, rest) = crate::io::peek(input, 3)?;
        let mut rest = rest;
        if head == b"\xEF\xBB\xBF" {
            let mut bom = [0u8; 3];
            rest.read_exact(&mut bom)?;
        }
        return Ok(rest);
    }
    let enc = encoding_rs::Encoding::for_label(label.as_bytes()).ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidOption,
            format!("invalid value {label:?} for option 'encoding': expected utf-8 or an encoding label such as latin1, windows-1251, utf-16le"),
        )
    })?;
    let decoder = encoding_rs_io::DecodeReaderBytesBuilder::new()
        .encoding(Some(enc))
        .build(input);
    Ok(Box::new(decoder))
}
