//! Durations and sizes as plans write them: an integer followed by a unit.
//! Durations: `ms`, `s`, `m` or `h`. Sizes: `B`, `KB`, `MB` or `GB`, in powers of
//! 1024 (`1GB` is 1 GiB; `KiB`, `MiB` and `GiB` are accepted too; any case).

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

/// Parse `"1GB"`, `"512MB"`, `"64KB"`, `"100B"` into bytes. Returns a message on error.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("bad size `{text}`: a unit is missing (use B, KB, MB or GB)"))?;
    let (num, unit) = t.split_at(split);
    if num.is_empty() {
        return Err(format!(
            "bad size `{text}`: expected an integer followed by B, KB, MB or GB"
        ));
    }
    let n: u64 = num
        .parse()
        .map_err(|_| format!("bad size `{text}`: number too large"))?;
    let scale: u64 = match unit.trim_start().to_ascii_uppercase().as_str() {
        "B" => 1,
        "KB" | "KIB" => 1 << 10,
        "MB" | "MIB" => 1 << 20,
        "GB" | "GIB" => 1 << 30,
        other => {
            return Err(format!(
                "bad size `{text}`: unknown unit `{other}` (use B, KB, MB or GB)"
            ));
        }
    };
    n.checked_mul(scale)
        .ok_or_else(|| format!("bad size `{text}`: too large"))
}

/// Human form of a byte count: `512 B`, `64.0 KiB`, `1.0 GiB`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
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

    #[test]
    fn parses_sizes() {
        assert_eq!(parse_size("100B").unwrap(), 100);
        assert_eq!(parse_size("64KB").unwrap(), 64 * 1024);
        assert_eq!(parse_size("512MB").unwrap(), 512 << 20);
        assert_eq!(parse_size("1GB").unwrap(), 1 << 30);
        assert_eq!(parse_size("2GiB").unwrap(), 2 << 30);
        assert_eq!(parse_size("0B").unwrap(), 0);
        assert!(parse_size("1").unwrap_err().contains("unit is missing"));
        assert!(parse_size("GB").is_err());
        assert!(parse_size("1.5GB").is_err());
        assert!(parse_size("1TB").unwrap_err().contains("unknown unit `TB`"));
        assert_eq!(parse_size("1gb").unwrap(), 1 << 30);
        assert_eq!(parse_size("3 MB").unwrap(), 3 << 20);
        assert!(
            parse_size("99999999999GB")
                .unwrap_err()
                .contains("too large")
        );
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(1 << 30), "1.0 GiB");
        assert_eq!(human_size(1536), "1.5 KiB");
    }
}
