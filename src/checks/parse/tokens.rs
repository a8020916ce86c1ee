//! The check language's tokenizer: names, quoted names, numbers, dates, strings and
//! punctuation, each with its byte range in the check text.

use super::{ParseError, err};
use crate::checks::Op;
use chrono::NaiveDate;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    Ident(String),
    /// `"name"` or `` `name` ``: a column (or source) name with any characters.
    Quoted(String),
    Num(f64),
    Date(NaiveDate),
    Str(String),
    LParen,
    RParen,
    Comma,
    Dot,
    Colon,
    Plus,
    Minus,
    PlusMinus,
    Percent,
    Tilde,
    Op(Op),
    End,
}

#[derive(Debug, Clone)]
pub(super) struct Token {
    pub(super) tok: Tok,
    pub(super) start: usize,
    pub(super) end: usize,
}

pub(super) fn tokenize(text: &str) -> Result<Vec<Token>, ParseError> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start = i;
        if let Some((tok, len)) = punct(b, i) {
            i += len;
            out.push(Token { tok, start, end: i });
            continue;
        }
        let tok = match c {
            b' ' | b'\t' | b'\r' | b'\n' => {
                i += 1;
                continue;
            }
            b'!' => return Err(err(i, "expected `!=`, found `!`")),
            b'\'' => {
                // 'string' with '' for a literal quote.
                let mut s = String::new();
                let mut j = i + 1;
                loop {
                    match text[j..].find('\'') {
                        None => return Err(err(i, "unterminated string (missing closing `'`)")),
                        Some(k) => {
                            s.push_str(&text[j..j + k]);
                            j += k + 1;
                            if b.get(j) == Some(&b'\'') {
                                s.push('\'');
                                j += 1;
                            } else {
                                break;
                            }
                        }
                    }
                }
                i = j;
                Tok::Str(s)
            }
            b'"' | b'`' => {
                let close = c as char;
                match text[i + 1..].find(close) {
                    None => {
                        return Err(err(
                            i,
                            format_args!("unterminated quoted name (missing closing `{close}`)"),
                        ));
                    }
                    Some(k) => {
                        let name = text[i + 1..i + 1 + k].to_string();
                        if name.is_empty() {
                            return Err(err(i, "empty quoted name"));
                        }
                        i += k + 2;
                        Tok::Quoted(name)
                    }
                }
            }
            b'0'..=b'9' => {
                let (tok, j) = number_or_date(text, i)?;
                i = j;
                tok
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let mut j = i;
                while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                    j += 1;
                }
                i = j;
                Tok::Ident(text[start..j].to_string())
            }
            _ => {
                if text[i..].starts_with('±') {
                    i += '±'.len_utf8();
                    Tok::PlusMinus
                } else {
                    let ch = text[i..].chars().next().unwrap_or('?');
                    return Err(err(i, format_args!("unexpected character `{ch}`")));
                }
            }
        };
        out.push(Token { tok, start, end: i });
    }
    out.push(Token {
        tok: Tok::End,
        start: text.len(),
        end: text.len(),
    });
    Ok(out)
}

/// Punctuation and operators at `i`: the token and how many bytes it takes.
fn punct(b: &[u8], i: usize) -> Option<(Tok, usize)> {
    Some(match (b[i], b.get(i + 1).copied()) {
        (b'(', _) => (Tok::LParen, 1),
        (b')', _) => (Tok::RParen, 1),
        (b',', _) => (Tok::Comma, 1),
        (b'.', _) => (Tok::Dot, 1),
        (b':', _) => (Tok::Colon, 1),
        (b'%', _) => (Tok::Percent, 1),
        (b'~', _) => (Tok::Tilde, 1),
        (b'+', Some(b'-')) => (Tok::PlusMinus, 2),
        (b'+', _) => (Tok::Plus, 1),
        (b'-', _) => (Tok::Minus, 1),
        (b'=', Some(b'=')) => (Tok::Op(Op::Eq), 2),
        (b'=', _) => (Tok::Op(Op::Eq), 1),
        (b'!', Some(b'=')) => (Tok::Op(Op::Ne), 2),
        (b'<', Some(b'=')) => (Tok::Op(Op::Le), 2),
        (b'<', Some(b'>')) => (Tok::Op(Op::Ne), 2),
        (b'<', _) => (Tok::Op(Op::Lt), 1),
        (b'>', Some(b'=')) => (Tok::Op(Op::Ge), 2),
        (b'>', _) => (Tok::Op(Op::Gt), 1),
        _ => return None,
    })
}

/// A number (`2000000`, `2_000_000`, `1.5`) or a date (`2025-01-01`) starting at `i`.
fn number_or_date(text: &str, i: usize) -> Result<(Tok, usize), ParseError> {
    let b = text.as_bytes();
    let digits = |from: usize| {
        let mut j = from;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        j
    };
    // YYYY-MM-DD
    if i + 10 <= b.len()
        && digits(i) == i + 4
        && b[i + 4] == b'-'
        && digits(i + 5) == i + 7
        && b[i + 7] == b'-'
        && digits(i + 8) == i + 10
        && !b
            .get(i + 10)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
    {
        let s = &text[i..i + 10];
        return match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            Ok(d) => Ok((Tok::Date(d), i + 10)),
            Err(_) => Err(err(i, format_args!("invalid date `{s}`"))),
        };
    }
    let mut j = i;
    let mut clean = String::new();
    while j < b.len() && (b[j].is_ascii_digit() || b[j] == b'_') {
        if b[j] == b'_' {
            if !b.get(j + 1).is_some_and(u8::is_ascii_digit) {
                return Err(err(j, "a `_` in a number must be followed by a digit"));
            }
        } else {
            clean.push(b[j] as char);
        }
        j += 1;
    }
    if j < b.len() && b[j] == b'.' && b.get(j + 1).is_some_and(u8::is_ascii_digit) {
        clean.push('.');
        j += 1;
        while j < b.len() && b[j].is_ascii_digit() {
            clean.push(b[j] as char);
            j += 1;
        }
    }
    if j < b.len() && (b[j].is_ascii_alphabetic() || b[j] == b'_') {
        let mut k = j;
        while k < b.len() && (b[k].is_ascii_alphanumeric() || b[k] == b'_') {
            k += 1;
        }
        return Err(err(i, format_args!("invalid number `{}`", &text[i..k])));
    }
    let n: f64 = clean
        .parse()
        .map_err(|_| err(i, format_args!("invalid number `{}`", &text[i..j])))?;
    Ok((Tok::Num(n), j))
}
