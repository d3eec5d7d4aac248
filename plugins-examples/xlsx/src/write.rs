//! Writing one worksheet of an `.xlsx` workbook.

use iterable_plugin_api::prelude::*;
use rust_xlsxwriter::{ExcelDateTime, Format as CellFormat, Workbook, Worksheet};

/// The most rows a worksheet holds.
const MAX_ROWS: u32 = 1_048_576;

pub struct XlsxWriter {
    out: Option<Output>,
    book: Workbook,
    keys: Vec<String>,
    /// The next sheet row to write (row 0 is the header).
    row: u32,
    date: CellFormat,
    datetime: CellFormat,
    time: CellFormat,
}

fn xlsx_error(e: rust_xlsxwriter::XlsxError) -> Error {
    Error::other(format!("xlsx: {e}"))
}

impl XlsxWriter {
    pub fn new(out: Output, sheet: &str) -> Result<Self> {
        let mut book = Workbook::new();
        book.add_worksheet()
            .set_name(sheet)
            .map_err(|e| Error::invalid_option("sheet", e))?;
        Ok(XlsxWriter {
            out: Some(out),
            book,
            keys: Vec::new(),
            row: 1,
            date: CellFormat::new().set_num_format("yyyy-mm-dd"),
            datetime: CellFormat::new().set_num_format("yyyy-mm-dd hh:mm:ss.000"),
            time: CellFormat::new().set_num_format("hh:mm:ss.000"),
        })
    }

    fn sheet(&mut self) -> Result<&mut Worksheet> {
        self.book.worksheet_from_index(0).map_err(xlsx_error)
    }

    /// The column of `key`, adding it to the header the first time.
    fn column(&mut self, key: &str) -> Result<u16> {
        if let Some(j) = self.keys.iter().position(|k| k == key) {
            return Ok(j as u16);
        }
        let j = self.keys.len();
        if j >= 16_384 {
            return Err(Error::schema(
                "a worksheet holds at most 16,384 columns".to_string(),
            ));
        }
        self.keys.push(key.to_owned());
        let key = key.to_owned();
        self.sheet()?
            .write_string(0, j as u16, key)
            .map_err(xlsx_error)?;
        Ok(j as u16)
    }
}

/// `value` units as days (Excel counts time in days).
fn days(unit: Unit, value: i64) -> f64 {
    let per_second = match unit {
        Unit::Second => 1.0,
        Unit::Millisecond => 1e3,
        Unit::Microsecond => 1e6,
        Unit::Nanosecond => 1e9,
    };
    value as f64 / per_second / 86_400.0
}

/// Days since 1970 as an Excel date.
fn excel_date(days: i32) -> Option<ExcelDateTime> {
    // Excel's serial: days since 1899-12-30 (25,569 before 1970-01-01).
    ExcelDateTime::from_serial_datetime(f64::from(days) + 25_569.0).ok()
}

fn write_cell(w: &mut XlsxWriter, col: u16, cell: CellRef<'_>) -> Result<()> {
    let row = w.row;
    let (date, datetime, time) = (w.date.clone(), w.datetime.clone(), w.time.clone());
    let s = w.sheet()?;
    let r = match cell {
        CellRef::Absent | CellRef::Null => return Ok(()),
        CellRef::Bool(b) => s.write_boolean(row, col, b),
        CellRef::Int(i) => s.write_number(row, col, i as f64),
        CellRef::Float(f) => s.write_number(row, col, f),
        CellRef::Str(t) => s.write_string(row, col, t),
        CellRef::Bytes(b) => s.write_string(row, col, String::from_utf8_lossy(b)),
        CellRef::Nested(v) => match Typed::from_rvalue(v) {
            Some(Typed::Date(d)) => match excel_date(d) {
                Some(dt) => s.write_datetime_with_format(row, col, &dt, &date),
                None => s.write_number(row, col, f64::from(d)),
            },
            Some(Typed::Timestamp { unit, value, .. }) => {
                let serial = days(unit, value) + 25_569.0;
                match ExcelDateTime::from_serial_datetime(serial) {
                    Ok(dt) => s.write_datetime_with_format(row, col, &dt, &datetime),
                    Err(_) => s.write_number(row, col, serial),
                }
            }
            Some(Typed::Time { unit, value }) => {
                let serial = days(unit, value);
                match ExcelDateTime::from_serial_datetime(serial) {
                    Ok(dt) => s.write_datetime_with_format(row, col, &dt, &time),
                    Err(_) => s.write_number(row, col, serial),
                }
            }
            // Excel has no exact decimals: the nearest number.
            Some(t @ Typed::Decimal { .. }) => {
                s.write_number(row, col, t.to_string().parse::<f64>().unwrap_or(f64::NAN))
            }
            None => s.write_string(row, col, v.to_string()),
        },
    };
    r.map(|_| ()).map_err(xlsx_error)
}

impl RowWriter for XlsxWriter {
    fn write_row(&mut self, row: RowView<'_>) -> Result<()> {
        if self.row >= MAX_ROWS {
            return Err(Error::schema(format!(
                "a worksheet holds at most {} records (and the header row)",
                MAX_ROWS - 1
            )));
        }
        for (key, cell) in row.present() {
            let col = self.column(key)?;
            write_cell(self, col, cell)?;
        }
        self.row += 1;
        Ok(())
    }

    fn finish(&mut self) -> Result<()> {
        let bytes = self.book.save_to_buffer().map_err(xlsx_error)?;
        let mut out = self
            .out
            .take()
            .ok_or_else(|| Error::other("the workbook is already written"))?;
        out.write_all(&bytes)?;
        out.flush()?;
        Ok(())
    }
}
