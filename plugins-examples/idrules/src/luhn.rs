//! The Luhn (mod 10) check digit, used by payment cards, IMEIs and many
//! national identifiers. Spaces and hyphens are allowed and ignored.

use crate::digits;

/// Whether `digits` (0..=9 each, check digit last) pass the Luhn check:
/// from the right, every second digit is doubled (minus 9 above 9), and
/// the sum is a multiple of 10.
pub fn luhn_valid(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            match i % 2 {
                0 => d,
                _ if d > 4 => d * 2 - 9,
                _ => d * 2,
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Checks any Luhn-checked number (`79927398713`): at least 2 digits.
pub fn check_luhn(text: &str) -> Result<(), String> {
    let d = digits(text, "Luhn number")?;
    if d.len() < 2 {
        return Err(format!(
            "Luhn number must have at least 2 digits, found {}",
            d.len()
        ));
    }
    if !luhn_valid(&d) {
        return Err("Luhn checksum mismatch".into());
    }
    Ok(())
}

/// Checks a payment card number (`4539 3195 0343 6467`): 12 to 19 digits
/// (ISO/IEC 7812) with a Luhn check digit.
pub fn check_card(text: &str) -> Result<(), String> {
    let d = digits(text, "card number")?;
    if !(12..=19).contains(&d.len()) {
        return Err(format!(
            "card number must have 12 to 19 digits, found {}",
            d.len()
        ));
    }
    if !luhn_valid(&d) {
        return Err("Luhn checksum mismatch".into());
    }
    Ok(())
}
