//! IBAN (ISO 13616): country code, two check digits, then the national
//! account number (BBAN); valid when the number, rearranged and turned into
//! digits, is 1 modulo 97.

/// IBAN lengths by country, from the SWIFT IBAN registry: every EU/EEA
/// country, the UK, Switzerland and the other countries that use IBANs
/// widely. Sorted by country code.
const LENGTHS: &[(&str, usize)] = &[
    ("AD", 24),
    ("AE", 23),
    ("AL", 28),
    ("AT", 20),
    ("AZ", 28),
    ("BA", 20),
    ("BE", 16),
    ("BG", 22),
    ("BH", 22),
    ("BR", 29),
    ("BY", 28),
    ("CH", 21),
    ("CR", 22),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DK", 18),
    ("DO", 28),
    ("EE", 20),
    ("EG", 29),
    ("ES", 24),
    ("FI", 18),
    ("FO", 18),
    ("FR", 27),
    ("GB", 22),
    ("GE", 22),
    ("GI", 23),
    ("GL", 18),
    ("GR", 27),
    ("GT", 28),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IL", 23),
    ("IQ", 23),
    ("IS", 26),
    ("IT", 27),
    ("JO", 30),
    ("KW", 30),
    ("KZ", 20),
    ("LB", 28),
    ("LC", 32),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("MC", 27),
    ("MD", 24),
    ("ME", 22),
    ("MK", 19),
    ("MR", 27),
    ("MT", 31),
    ("MU", 30),
    ("NL", 18),
    ("NO", 15),
    ("PK", 24),
    ("PL", 28),
    ("PS", 29),
    ("PT", 25),
    ("QA", 29),
    ("RO", 24),
    ("RS", 22),
    ("SA", 24),
    ("SC", 31),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("ST", 25),
    ("SV", 28),
    ("TL", 23),
    ("TN", 24),
    ("TR", 26),
    ("UA", 29),
    ("VA", 22),
    ("VG", 24),
    ("XK", 20),
];

/// The IBAN length of `country` (upper-case ISO 3166 code), if it is in
/// the table. Countries not in the table are checked for 15 to 34
/// characters only.
pub fn iban_length(country: &str) -> Option<usize> {
    LENGTHS
        .binary_search_by(|(cc, _)| (*cc).cmp(country))
        .ok()
        .map(|i| LENGTHS[i].1)
}

/// Checks an IBAN, in electronic (`GB82WEST12345698765432`) or print form
/// (`GB82 WEST 1234 5698 7654 32`), upper or lower case.
pub fn check_iban(text: &str) -> Result<(), String> {
    let mut iban = String::with_capacity(34);
    for c in text.chars().filter(|&c| c != ' ') {
        if !c.is_ascii_alphanumeric() {
            return Err(format!("IBAN contains invalid character {c:?}"));
        }
        iban.push(c.to_ascii_uppercase());
    }
    // From here on `iban` is ASCII, so byte slicing is safe.
    let len = iban.len();
    let country = &iban[..len.min(2)];
    if country.len() < 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(format!(
            "IBAN must start with a two-letter country code, found '{country}'"
        ));
    }
    match iban_length(country) {
        Some(n) if len != n => {
            return Err(format!(
                "IBAN for {country} must have {n} characters, found {len}"
            ));
        }
        None if !(15..=34).contains(&len) => {
            return Err(format!("IBAN must have 15 to 34 characters, found {len}"));
        }
        _ => {}
    }
    let check_digits = &iban[2..4];
    if !check_digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "IBAN check digits must be digits, found '{check_digits}'"
        ));
    }
    if matches!(check_digits, "00" | "01" | "99") {
        return Err(format!(
            "IBAN check digits must be between 02 and 98, found '{check_digits}'"
        ));
    }
    // Move the first four characters to the end; A=10 .. Z=35; mod 97,
    // folded digit by digit so no big integer is needed.
    let remainder = iban[4..]
        .bytes()
        .chain(iban[..4].bytes())
        .fold(0u32, |r, b| match b {
            b'0'..=b'9' => (r * 10 + u32::from(b - b'0')) % 97,
            _ => (r * 100 + u32::from(b - b'A') + 10) % 97,
        });
    if remainder != 1 {
        return Err("IBAN checksum mismatch".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_length_table_is_sorted_and_plausible() {
        assert!(LENGTHS.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(LENGTHS.iter().all(|(_, n)| (15..=34).contains(n)));
        assert_eq!(iban_length("DE"), Some(22));
        assert_eq!(iban_length("NO"), Some(15));
        assert_eq!(iban_length("US"), None);
    }
}
