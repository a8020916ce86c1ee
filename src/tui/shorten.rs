//! Text that must fit a width: cut at a word boundary, paths cut from the left so
//! the file name stays. Widths are terminal columns (wide characters count two).

use unicode_width::UnicodeWidthStr;

pub fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// The longest prefix of `s` no wider than `max` columns.
fn prefix(s: &str, max: usize) -> &str {
    let mut used = 0;
    for (i, c) in s.char_indices() {
        let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w > max {
            return &s[..i];
        }
        used += w;
    }
    s
}

/// `s` in at most `max` columns: whole when it fits, else cut at the last word
/// boundary that fits (mid-word only when a single word is too long) and ended
/// with `…`.
pub fn words(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let head = prefix(s, max - 1);
    // Cut after the last space within the head if that keeps at least half of it.
    let cut = match head.rfind(' ') {
        Some(i) if i >= head.len() / 2 => head[..i].trim_end(),
        _ => head,
    };
    format!("{cut}…")
}

/// A path in at most `max` columns: its beginning goes first (`…/raw/orders.csv`);
/// the file name is kept whole when it fits at all.
pub fn path(p: &str, max: usize) -> String {
    if width(p) <= max {
        return p.to_string();
    }
    if max == 0 {
        return String::new();
    }
    // Drop whole leading components while they do not fit.
    let mut rest = p;
    while let Some(i) = rest.find('/') {
        rest = &rest[i + 1..];
        if width(rest) + 2 <= max {
            return format!("…/{rest}");
        }
    }
    // The file name alone is too long: keep its end.
    let chars: Vec<char> = rest.chars().collect();
    let mut tail = String::new();
    for &c in chars.iter().rev() {
        let candidate = format!("{c}{tail}");
        if width(&candidate) + 1 > max {
            break;
        }
        tail = candidate;
    }
    format!("…{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_not_cut_in_the_middle() {
        assert_eq!(
            words("row_count between 2500 and 3500", 40),
            "row_count between 2500 and 3500"
        );
        assert_eq!(
            words("orders: row_count between 2500 and 3500", 30),
            "orders: row_count between…"
        );
        assert!(width(&words("orders: row_count between 2500 and 3500", 30)) <= 30);
        assert_eq!(words("averyveryverylongword", 8), "averyve…");
        assert_eq!(words("abc", 0), "");
    }

    #[test]
    fn paths_keep_the_file_name() {
        assert_eq!(path("data/raw/orders.csv", 30), "data/raw/orders.csv");
        assert_eq!(path("data/raw/orders.csv", 16), "…/raw/orders.csv");
        assert_eq!(path("data/raw/orders.csv", 15), "…/orders.csv");
        assert_eq!(path("project/data/raw/orders.csv", 18), "…/raw/orders.csv");
        assert_eq!(path("data/a_really_long_file_name.csv", 10), "…_name.csv");
        for max in 1..30 {
            assert!(
                width(&path("project/data/raw/orders.csv", max)) <= max,
                "{max}"
            );
        }
    }
}
