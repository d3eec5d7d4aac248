//! Reading one sheet of a workbook: the header row gives the keys.

use std::io::{Read, Seek};

use calamine::{Data, Range, Reader, open_workbook_auto_from_rs};
use chrono::{NaiveDate, NaiveDateTime, Timelike};
use iterable_plugin_api::prelude::*;

/// Opens sheet `sheet` (a name, a number from 1, or the first) of the
/// workbook in `input`.
pub fn open<R: Read + Seek + Clone + Send + 'static>(
    input: R,
    sheet: Option<&str>,
) -> Result<Box<dyn RowReader>> {
    let mut book = open_workbook_auto_from_rs(input).map_err(|e| {
        Error::parse(format!(
            "not a readable workbook (.xlsx, .xls or .ods): {e}"
        ))
    })?;
    let names = book.sheet_names();
    if names.is_empty() {
        return Err(Error::parse("the workbook has no sheet"));
    }
    let name = match sheet {
        None => names[0].clone(),
        Some(s) => match names.iter().find(|n| n.as_str() == s) {
            Some(n) => n.clone(),
            None => match s.trim().parse::<usize>() {
                Ok(i) if (1..=names.len()).contains(&i) => names[i - 1].clone(),
                _ => {
                    return Err(Error::invalid_option(
                        "sheet",
                        format!(
                            "no sheet `{s}` (sheets: {}; or a number from 1 to {})",
                            names.join(", "),
                            names.len()
                        ),
                    ));
                }
            },
        },
    };
    let range = book
        .worksheet_range(&name)
        .map_err(|e| Error::parse(format!("sheet `{name}`: {e}")))?;
    Ok(Box::new(SheetReader::new(name, range)))
}

struct SheetReader {
    sheet: String,
    range: Range<Data>,
    keys: Vec<String>,
    /// The next row to read, within the range (row 0 is the header).
    next: usize,
    /// The sheet row number of the range's first row (1-based), for errors.
    first_row: u32,
}

impl SheetReader {
    fn new(sheet: String, range: Range<Data>) -> Self {
        let first_row = range.start().map_or(1, |(r, _)| r + 1);
        let mut keys = Vec::new();
        if let Some(header) = range.rows().next() {
            for (j, cell) in header.iter().enumerate() {
                let mut key = match cell {
                    Data::Empty => format!("column_{}", j + 1),
                    other => text(other),
                };
                if keys.contains(&key) {
                    let base = key.clone();
                    let mut n = 2;
                    while keys.contains(&key) {
                        key = format!("{base}_{n}");
                        n += 1;
                    }
                }
                keys.push(key);
            }
        }
        SheetReader {
            sheet,
            range,
            keys,
            next: 1,
            first_row,
        }
    }
}

/// A cell's text, for header names and for values kept as text.
fn text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        other => other.to_string(),
    }
}

const EPOCH: NaiveDate = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();

fn date_cell(d: NaiveDate) -> Typed {
    Typed::Date((d - EPOCH).num_days() as i32)
}

fn datetime_cell(dt: NaiveDateTime) -> Typed {
    if dt.time().num_seconds_from_midnight() == 0 && dt.time().nanosecond() == 0 {
        return date_cell(dt.date());
    }
    Typed::Timestamp {
        unit: Unit::Microsecond,
        value: dt.and_utc().timestamp_micros(),
        tz: None,
    }
}

impl RowReader for SheetReader {
    fn read_row(&mut self, row: &mut BatchBuilder<'_>) -> Result<bool> {
        let Some(cells) = self.range.rows().nth(self.next) else {
            return Ok(false);
        };
        let sheet_row = self.first_row + self.next as u32;
        self.next += 1;
        for (j, cell) in cells.iter().enumerate() {
            let Some(key) = self.keys.get(j) else {
                // A value right of the header: its column has no key.
                if !matches!(cell, Data::Empty) {
                    return Err(Error::parse(format!(
                        "sheet `{}`, row {sheet_row}: a value in column {} has no header",
                        self.sheet,
                        j + 1
                    )));
                }
                continue;
            };
            match cell {
                Data::Empty => {}
                Data::Int(i) => {
                    row.key(key).push_int(*i);
                }
                Data::Float(f) if f.fract() == 0.0 && f.abs() < 9.007_199_254_740_992e15 => {
                    row.key(key).push_int(*f as i64);
                }
                Data::Float(f) => {
                    row.key(key).push_float(*f);
                }
                Data::String(s) => {
                    row.key(key).push_str(s);
                }
                Data::Bool(b) => {
                    row.key(key).push_bool(*b);
                }
                Data::DateTime(dt) => match dt.as_datetime() {
                    Some(ndt) if dt.is_datetime() => {
                        row.key(key).push_typed(&datetime_cell(ndt));
                    }
                    _ => {
                        row.key(key).push_str(&dt.to_string());
                    }
                },
                Data::DateTimeIso(s) => {
                    let t = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
                        .map(datetime_cell)
                        .or_else(|_| NaiveDate::parse_from_str(s, "%Y-%m-%d").map(date_cell));
                    match t {
                        Ok(t) => row.key(key).push_typed(&t),
                        Err(_) => row.key(key).push_str(s),
                    };
                }
                Data::DurationIso(s) => {
                    row.key(key).push_str(s);
                }
                Data::Error(e) => {
                    row.key(key).push_str(&e.to_string());
                }
            }
        }
        Ok(true)
    }
}
