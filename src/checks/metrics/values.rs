//! Values as a dataset holds them: strict numbers, dates as `YYYYMMDD` keys, and
//! values quoted in messages.

/// Strict number: optional sign, digits, optional fraction and exponent; surrounding
/// spaces allowed; no `inf`/`nan`.
pub fn parse_number(b: &[u8]) -> Option<f64> {
    if let Some(x) = parse_simple(b) {
        return Some(x);
    }
    let b = b.trim_ascii();
    if b.is_empty()
        || !b
            .iter()
            .all(|c| matches!(c, b'0'..=b'9' | b'.' | b'-' | b'+' | b'e' | b'E'))
    {
        return None;
    }
    if !b.iter().any(u8::is_ascii_digit) {
        return None;
    }
    // All ASCII; overflow to infinity is not a number either.
    std::str::from_utf8(b)
        .ok()?
        .parse::<f64>()
        .ok()
        .filter(|x| x.is_finite())
}

/// `[-]digits[.digits]` with at most 15 digits: the digits as an exact integer
/// divided by an exact power of ten, which rounds exactly like `str::parse`.
#[inline]
fn parse_simple(b: &[u8]) -> Option<f64> {
    const POW10: [f64; 16] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    ];
    let (neg, digits) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() || digits.len() > 16 {
        return None;
    }
    let mut m: u64 = 0;
    let mut frac: Option<usize> = None;
    let mut n = 0;
    for (i, &c) in digits.iter().enumerate() {
        match c {
            b'0'..=b'9' => {
                m = m * 10 + (c - b'0') as u64;
                n += 1;
            }
            b'.' if frac.is_none() && i + 1 < digits.len() && i > 0 => {
                frac = Some(digits.len() - i - 1)
            }
            _ => return None,
        }
    }
    if n > 15 {
        return None;
    }
    let x = m as f64 / POW10[frac.unwrap_or(0)];
    Some(if neg { -x } else { x })
}

/// `YYYY-MM-DD` (optionally followed by a time: `T...` or ` ...`) as `yyyymmdd`.
pub fn parse_date(b: &[u8]) -> Option<u32> {
    let b = b.trim_ascii();
    if b.len() < 10 || (b.len() > 10 && !matches!(b[10], b'T' | b' ')) {
        return None;
    }
    let d = |i: usize| -> Option<u32> {
        let c = b[i];
        c.is_ascii_digit().then(|| (c - b'0') as u32)
    };
    if b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y = d(0)? * 1000 + d(1)? * 100 + d(2)? * 10 + d(3)?;
    let m = d(5)? * 10 + d(6)?;
    let day = d(8)? * 10 + d(9)?;
    if !(1..=12).contains(&m) || day == 0 || day > days_in_month(y, m) {
        return None;
    }
    Some(y * 10000 + m * 100 + day)
}

fn days_in_month(y: u32, m: u32) -> u32 {
    match m {
        2 if (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

pub fn date_key(d: chrono::NaiveDate) -> u32 {
    use chrono::Datelike;
    d.year() as u32 * 10000 + d.month() * 100 + d.day()
}

/// A `YYYYMMDD` key as a date (`None` for a key no valid date gives).
pub fn date_value(k: u32) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::from_ymd_opt((k / 10_000) as i32, k / 100 % 100, k % 100)
}

pub fn date_text(k: u32) -> String {
    format!("{:04}-{:02}-{:02}", k / 10000, k / 100 % 100, k % 100)
}

/// A cell shown in a message: lossy UTF-8, shortened.
pub fn show(b: &[u8]) -> String {
    let s = String::from_utf8_lossy(b);
    if s.chars().count() > 40 {
        let t: String = s.chars().take(40).collect();
        format!("'{t}…'")
    } else {
        format!("'{s}'")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_numbers_and_dates() {
        assert_eq!(parse_number(b"12.5"), Some(12.5));
        assert_eq!(parse_number(b" -3 "), Some(-3.0));
        assert_eq!(parse_number(b"1e3"), Some(1000.0));
        assert_eq!(parse_number(b"inf"), None);
        assert_eq!(parse_number(b"NaN"), None);
        assert_eq!(parse_number(b"1e999"), None);
        assert_eq!(parse_number(b"1,000"), None);
        assert_eq!(parse_number(b"-"), None);
        assert_eq!(parse_number(b"2025-01-01"), None);
        for t in [
            "0.1",
            "123.45",
            "-0.07",
            "4999.99",
            "1.",
            ".5",
            "9007199254740993",
            "0.000001",
        ] {
            assert_eq!(parse_number(t.as_bytes()), t.parse::<f64>().ok(), "{t}");
        }
        assert_eq!(parse_date(b"2025-02-28"), Some(20250228));
        assert_eq!(parse_date(b"2025-02-29"), None);
        assert_eq!(parse_date(b"2024-02-29"), Some(20240229));
        assert_eq!(parse_date(b"2025-09-01T10:00:00Z"), Some(20250901));
        assert_eq!(parse_date(b"2025-9-1"), None);
        assert_eq!(date_text(20250901), "2025-09-01");
    }
}
