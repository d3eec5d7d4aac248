//! Writes the benchmark's deterministic CSV data set to stdout.
//!
//! `bench_gen [ROWS] [SEED]` (defaults 1,000,000 and 42): nine columns — an
//! integer id, a name, an email, a city (with non-ASCII letters, and some
//! with a comma, so quoted), an amount with two decimals, a signed integer, a
//! bool, an ISO-8601 timestamp, and a note that is empty in about 30% of the
//! rows and otherwise holds commas. The same arguments always give the same
//! bytes.

use std::io::{self, BufWriter, Write};

/// SplitMix64: small, fast, and good enough for test data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const FIRST: &[&str] = &[
    "Ann", "Boris", "Chloé", "David", "Elena", "Farid", "Greta", "Hiro", "Ines", "Jonas", "Kai",
    "Lena", "Mateo", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tariq", "Uma", "Viktor",
    "Wen", "Ximena", "Yusuf", "Zoë", "Ali", "Bea", "Carl", "Dora", "Emil", "Fay",
];
const LAST: &[&str] = &[
    "Smith",
    "Müller",
    "García",
    "Ivanova",
    "Chen",
    "Okafor",
    "Rossi",
    "Novak",
    "Kowalski",
    "Dubois",
    "Silva",
    "Tanaka",
    "Larsen",
    "Haddad",
    "Nguyen",
    "Petrov",
    "Khan",
    "Moreau",
    "Jensen",
    "Costa",
    "Lindqvist",
    "Yilmaz",
    "Santos",
    "Weber",
];
const DOMAINS: &[&str] = &[
    "example.com",
    "mail.example.org",
    "corp.example.net",
    "example.io",
];
const CITIES: &[&str] = &[
    "São Paulo",
    "Zürich",
    "Washington, D.C.",
    "München",
    "Kraków",
    "Paris",
    "Reykjavík",
    "Tokyo",
    "Lagos",
    "Montréal",
    "Saint Petersburg, FL",
    "Córdoba",
    "Oslo",
    "Nairobi",
    "Berlin",
    "New York",
];
const WORDS: &[&str] = &[
    "call back",
    "urgent",
    "re: order",
    "paid",
    "refund requested",
    "see ticket",
    "VIP",
    "follow up",
    "address changed",
    "gift",
    "net 30",
    "on hold",
    "priority",
    "résumé sent",
];

fn main() -> io::Result<()> {
    let mut args = std::env::args().skip(1);
    let rows: u64 = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let seed: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(42);
    let mut rng = Rng(seed);
    let mut out = BufWriter::with_capacity(1 << 20, io::stdout().lock());
    out.write_all(b"id,name,email,city,amount,delta,active,created_at,note\n")?;
    // A pool of customers: each row names one, so names and emails repeat
    // as they do in real data (and compress about as well).
    let customers: Vec<(String, String)> = (0..500)
        .map(|_| {
            let first = rng.pick(FIRST);
            let last = rng.pick(LAST);
            let user: String = format!("{first}{last}")
                .chars()
                .filter(char::is_ascii_alphabetic)
                .collect::<String>()
                .to_ascii_lowercase();
            let email = format!("{user}.{}@{}", rng.below(100), rng.pick(DOMAINS));
            (format!("{first} {last}"), email)
        })
        .collect();
    for id in 1..=rows {
        let (name, email) = &customers[rng.below(customers.len() as u64) as usize];
        let city = rng.pick(CITIES);
        let city = if city.contains(',') {
            format!("\"{city}\"")
        } else {
            city.to_owned()
        };
        let cents = rng.below(100_000);
        let delta = rng.below(201) as i64 - 100;
        let active = if rng.below(2) == 0 { "true" } else { "false" };
        // 2020-01-01T00:00:00Z plus up to a year, to the hour.
        let t = rng.below(365 * 24) * 3600;
        let (day, secs) = (t / 86_400, t % 86_400);
        let (y, m, d) = civil_from_days(18_262 + day as i64);
        write!(
            out,
            "{id},{name},{email},{city},{}.{:02},{delta},{active},{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z,",
            cents / 100,
            cents % 100,
            secs / 3600,
            secs / 60 % 60,
            secs % 60,
        )?;
        if rng.below(10) >= 3 {
            let w1 = rng.pick(WORDS);
            let w2 = rng.pick(WORDS);
            write!(out, "\"{w1}, {w2}, {}\"", rng.pick(WORDS))?;
        }
        out.write_all(b"\n")?;
    }
    out.flush()
}

/// The civil date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}
