//! LTSV — [Labeled Tab-separated Values](http://ltsv.org) — as an
//! IterableData format plugin (read and write, extension `.ltsv`).
//!
//! One record per line; fields are `label:value` pairs separated by TAB:
//!
//! ```text
//! host:127.0.0.1<TAB>method:GET<TAB>path:/index.html<TAB>status:200
//! ```
//!
//! # Reading
//!
//! * The label is everything before the first `:` of a field, the value
//!   everything after it (so a value may contain `:`). Values are strings:
//!   there is no type guessing (`status:200` reads as the text `"200"`).
//! * Rows may have different labels; each batch holds the union of the labels
//!   seen so far, and a row without a label reads that field as absent.
//! * Empty and whitespace-only lines are skipped, and so are empty fields
//!   (a doubled or trailing TAB). `\r\n` line ends and a UTF-8 byte order
//!   mark are accepted.
//! * A label given twice in one line: **the last value wins**.
//! * Errors (with the 1-based line number): a field without `:`, an empty
//!   label, and — with `strict_labels=true` — a label with a character
//!   outside `[0-9A-Za-z_.-]`, are `PARSE` errors; a line that is not UTF-8
//!   is an `ENCODING` error.
//!
//! # Writing
//!
//! * Every present field of a row becomes `label:value`, in field order;
//!   absent fields are left out. Strings are written as they are, other
//!   values in their text form (`42`, `1.5`, `true`, JSON for lists and
//!   maps); a null is written as an empty value (`label:`).
//! * A value containing TAB, CR or LF cannot be represented in LTSV: the row
//!   is refused with a `SCHEMA` error naming the field and the record, and
//!   nothing of that row is written. So are labels that are empty or contain
//!   `:`, TAB, CR or LF (and, with `strict_labels=true`, labels outside
//!   `[0-9A-Za-z_.-]`).
//! * A row without any present field is written as an empty line (which
//!   readers skip).
//!
//! # Options
//!
//! * `strict_labels` (`true`/`false`, default `false`): enforce the
//!   ltsv.org label character set `[0-9A-Za-z_.-]` when reading and writing.

use std::fmt::Write as _;

use iterable_plugin_api::prelude::*;

/// The `strict_labels` option name.
pub const STRICT_LABELS: &str = "strict_labels";

/// The LTSV format (see the [crate docs](crate)).
#[derive(Clone, Copy, Debug, Default)]
pub struct Ltsv;

impl Format for Ltsv {
    fn info(&self) -> FormatSpec {
        FormatSpec::new("ltsv")
            .description("Labeled Tab-separated Values (http://ltsv.org): label:value fields separated by TAB, one record per line")
            .extensions(["ltsv"])
            .option_choices(
                STRICT_LABELS,
                "only accept labels made of [0-9A-Za-z_.-] (the ltsv.org character set)",
                &["true", "false"],
                "false",
            )
            .read_write()
    }

    fn reader(&self, input: Input, options: &Options) -> Result<Box<dyn RowReader>> {
        let strict = options.get_bool(STRICT_LABELS, false)?;
        Ok(input.line_reader(move |line, row| parse_line(line, row, strict)))
    }

    fn writer(&self, output: Output, options: &Options) -> Result<Box<dyn RowWriter>> {
        Ok(Box::new(LtsvWriter {
            out: output,
            strict: options.get_bool(STRICT_LABELS, false)?,
            record: 0,
            line: String::new(),
        }))
    }
}

/// Whether `c` is in the ltsv.org label character set `[0-9A-Za-z_.-]`.
pub fn is_label_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

/// The first character of `label` outside `[0-9A-Za-z_.-]`, if any.
fn non_strict_char(label: &str) -> Option<char> {
    label.chars().find(|&c| !is_label_char(c))
}

/// At most 40 characters of `text`, for error messages.
fn preview(text: &str) -> String {
    match text.char_indices().nth(40) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

/// Parses one line (without its line end) into `row`, field by field.
fn parse_line(line: &str, row: &mut BatchBuilder<'_>, strict: bool) -> Result<()> {
    if line.trim().is_empty() {
        return Ok(()); // nothing pushed: the line is skipped
    }
    for (i, field) in line.split('\t').enumerate() {
        if field.is_empty() {
            continue;
        }
        let n = i + 1;
        let Some((label, value)) = field.split_once(':') else {
            return Err(Error::parse(format!(
                "field {n} `{}` has no ':' (expected label:value)",
                preview(field)
            )));
        };
        if label.is_empty() {
            return Err(Error::parse(format!(
                "field {n} `{}` has an empty label",
                preview(field)
            )));
        }
        let outside = if strict { non_strict_char(label) } else { None };
        if let Some(c) = outside {
            return Err(Error::parse(format!(
                "field {n}: label `{}` contains {c:?}, outside [0-9A-Za-z_.-] (strict_labels=true)",
                preview(label)
            )));
        }
        row.key(label).push_str(value);
    }
    Ok(())
}

/// Why `text` cannot appear in an LTSV line, if it cannot.
fn forbidden(text: &str) -> Option<&'static str> {
    text.chars().find_map(|c| match c {
        '\t' => Some("a TAB"),
        '\n' => Some("a line feed (LF)"),
        '\r' => Some("a carriage return (CR)"),
        _ => None,
    })
}

struct LtsvWriter {
    out: Output,
    strict: bool,
    /// 1-based number of the row being written.
    record: u64,
    /// The line being built, reused across rows.
    line: String,
}

/// Checks that `label` can be written (see the crate docs).
fn check_label(label: &str, strict: bool) -> std::result::Result<(), String> {
    let problem = if label.is_empty() {
        "is empty".to_string()
    } else if label.contains(':') {
        "contains ':'".to_string()
    } else if let Some(what) = forbidden(label) {
        format!("contains {what}")
    } else if let Some(c) = non_strict_char(label).filter(|_| strict) {
        format!("contains {c:?}, outside [0-9A-Za-z_.-] (strict_labels=true)")
    } else {
        return Ok(());
    };
    Err(format!(
        "field {label:?}: the label {problem}, which LTSV cannot represent"
    ))
}

/// Builds the LTSV line of `row` (with its `\n`) into `line`; a `SCHEMA`
/// error message if the row cannot be represented.
fn build_line(
    line: &mut String,
    row: RowView<'_>,
    strict: bool,
) -> std::result::Result<(), String> {
    line.clear();
    for (label, cell) in row.present() {
        check_label(label, strict)?;
        if !line.is_empty() {
            line.push('\t');
        }
        line.push_str(label);
        line.push(':');
        let start = line.len();
        match cell {
            CellRef::Str(s) => line.push_str(s),
            other => {
                // Writing into a String cannot fail.
                let _ = write!(line, "{other}");
            }
        }
        if let Some(what) = forbidden(&line[start..]) {
            return Err(format!(
                "field `{label}`: the value contains {what}, which LTSV cannot represent"
            ));
        }
    }
    line.push('\n');
    Ok(())
}

impl RowWriter for LtsvWriter {
    fn write_row(&mut self, row: RowView<'_>) -> Result<()> {
        self.record += 1;
        build_line(&mut self.line, row, self.strict)
            .map_err(|msg| Error::schema(msg).with_record(self.record))?;
        self.out.write_all(self.line.as_bytes())?;
        Ok(())
    }
}

export_plugin! {
    name: "ltsv",
    version: env!("CARGO_PKG_VERSION"),
    description: "LTSV (Labeled Tab-separated Values) format: read and write .ltsv files",
    author: "IterableData for Rust contributors",
    license: "MIT OR Apache-2.0",
    homepage: "https://example.invalid/iterabledata-rs",
    formats: [Ltsv],
}

#[cfg(test)]
mod tests;
