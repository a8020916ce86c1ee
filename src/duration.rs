//! Durations as plans write them: an integer followed by `ms`, `s`, `m` or `h`.

use std::time::Duration;

/// Parse `"90m"`, `"2s"`, `"500ms"`, `"1h"`. Returns a message on error.
pub fn parse(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("bad duration `{text}`: a unit is missing (use ms, s, m or h)"))?;
    let (num, unit) = t.split_at(split);
    if num.is_empty() {
        return Err(format!(
            "bad duration `{text}`: expected an integer followed by ms, s, m or h"
        ));
    }
    let n: u64 = num
        .parse()
        .map_err(|_| format!("bad duration `{text}`: number too large"))?;
    let ms = match unit {
        "ms" => Some(n),
        "s" => n.checked_mul(1000),
        "m" => n.checked_mul(60_000),
        "h" => n.checked_mul(3_600_000),
        _ => {
            return Err(format!(
                "bad duration `{text}`: unknown unit `{unit}` (use ms, s, m or h)"
            ));
        }
    };
    ms.map(Duration::from_millis)
        .ok_or_else(|| format!("bad duration `{text}`: too large"))
}

/// Human form used in reports and the UI: `1h02m`, `3m05s`, `4.2s`.
pub fn human(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units() {
        assert_eq!(parse("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse("2s").unwrap(), Duration::from_secs(2));
        assert_eq!(parse("90m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse("1h").unwrap(), Duration::from_secs(3600));
        assert!(parse("5").is_err());
        assert!(parse("s").is_err());
        assert!(parse("1.5s").is_err());
        assert!(parse("3d").is_err());
    }
}
