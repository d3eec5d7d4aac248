//! ISBN-10, ISBN-13 and EAN-13 (GTIN-13). Hyphens and spaces are allowed
//! anywhere (the print form), and ignored.

use crate::digits;

/// Whether 13 digits pass the GTIN check: weights 1,3,1,3,... from the
/// left, the sum (check digit included) a multiple of 10.
fn gtin13_valid(d: &[u8]) -> bool {
    let sum: u32 = d
        .iter()
        .enumerate()
        .map(|(i, &x)| u32::from(x) * if i % 2 == 0 { 1 } else { 3 })
        .sum();
    sum.is_multiple_of(10)
}

/// Checks an ISBN-10 (`0-306-40615-2`, `0-8044-2957-X`): weights 10 down
/// to 1, the sum a multiple of 11; `X` (10) only as the check digit.
pub fn check_isbn10(text: &str) -> Result<(), String> {
    let mut d = Vec::with_capacity(10);
    for c in text.chars().filter(|c| !matches!(c, ' ' | '-')) {
        match c {
            '0'..='9' => d.push(c as u32 - '0' as u32),
            'X' | 'x' => d.push(10),
            _ => return Err(format!("ISBN-10 contains invalid character {c:?}")),
        }
    }
    if d.len() != 10 {
        return Err(format!("ISBN-10 must have 10 digits, found {}", d.len()));
    }
    if d[..9].contains(&10) {
        return Err("ISBN-10 allows 'X' only as the last character".into());
    }
    let sum: u32 = d.iter().zip((1..=10).rev()).map(|(x, w)| x * w).sum();
    if !sum.is_multiple_of(11) {
        return Err("ISBN-10 checksum mismatch".into());
    }
    Ok(())
}

/// Checks an ISBN-13 (`978-0-306-40615-7`): 13 digits starting with 978
/// or 979, with the EAN-13 check digit.
pub fn check_isbn13(text: &str) -> Result<(), String> {
    let d = digits(text, "ISBN-13")?;
    if d.len() != 13 {
        return Err(format!("ISBN-13 must have 13 digits, found {}", d.len()));
    }
    if d[..3] != [9, 7, 8] && d[..3] != [9, 7, 9] {
        let prefix: String = d[..3].iter().map(|x| char::from(b'0' + x)).collect();
        return Err(format!(
            "ISBN-13 must start with 978 or 979, found {prefix}"
        ));
    }
    if !gtin13_valid(&d) {
        return Err("ISBN-13 checksum mismatch".into());
    }
    Ok(())
}

/// Checks an ISBN of either form, chosen by its length once hyphens and
/// spaces are removed (10 characters: ISBN-10, 13: ISBN-13).
pub fn check_isbn(text: &str) -> Result<(), String> {
    let compact = text.chars().filter(|c| !matches!(c, ' ' | '-'));
    match compact.clone().count() {
        10 => check_isbn10(text),
        13 => check_isbn13(text),
        n => match compact
            .clone()
            .find(|c| !c.is_ascii_digit() && !matches!(c, 'X' | 'x'))
        {
            Some(c) => Err(format!("ISBN contains invalid character {c:?}")),
            None => Err(format!("ISBN must have 10 or 13 digits, found {n}")),
        },
    }
}

/// Checks an EAN-13 (`4006381333931`): 13 digits, weights 1,3 mod 10.
pub fn check_ean13(text: &str) -> Result<(), String> {
    let d = digits(text, "EAN-13")?;
    if d.len() != 13 {
        return Err(format!("EAN-13 must have 13 digits, found {}", d.len()));
    }
    if !gtin13_valid(&d) {
        return Err("EAN-13 checksum mismatch".into());
    }
    Ok(())
}
