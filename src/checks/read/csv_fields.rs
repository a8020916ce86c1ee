//! The CSV record parser: one record at a time from a buffer, quotes and CRLF
//! handled, only the needed fields captured (their byte ranges), the rest skipped.

#[derive(Debug, Clone, Copy)]
enum Cell {
    Null,
    Buf(usize, usize),
    Scratch(usize, usize),
}

pub(super) enum Step {
    /// More bytes are needed to finish the record.
    Incomplete,
    /// An empty line, skipped; next position.
    Blank(usize),
    /// A record; next position and its number of fields.
    Record(usize, usize),
    /// A quoted field of this record is still open where the data ends.
    Unterminated,
}

/// A CSV record parser that captures only the needed fields.
pub(super) struct CsvParser {
    delim: u8,
    /// Column index → slot (`usize::MAX`: not needed).
    slot_of: Vec<usize>,
    /// One past the last needed column index.
    last_needed: usize,
    cells: Vec<Cell>,
    scratch: Vec<u8>,
}

impl CsvParser {
    pub(super) fn new(delim: u8, slot_of: Vec<usize>, nslots: usize) -> Self {
        let last_needed = slot_of
            .iter()
            .rposition(|s| *s != usize::MAX)
            .map_or(0, |i| i + 1);
        CsvParser {
            delim,
            slot_of,
            last_needed,
            cells: vec![Cell::Null; nslots],
            scratch: Vec::new(),
        }
    }

    #[inline]
    pub(super) fn cell<'a>(&'a self, buf: &'a [u8], slot: usize) -> Option<&'a [u8]> {
        match self.cells[slot] {
            Cell::Null => None,
            Cell::Buf(a, b) => Some(&buf[a..b]),
            Cell::Scratch(a, b) => Some(&self.scratch[a..b]),
        }
    }

    fn count_delims(&self, b: &[u8]) -> usize {
        let d = self.delim;
        b.iter().filter(|&&c| c == d).count()
    }

    /// Parse the record at `pos`; `eof`: `buf` ends where the data ends.
    pub(super) fn step(&mut self, buf: &[u8], pos: usize, eof: bool) -> Step {
        let len = buf.len();
        let delim = self.delim;
        match buf[pos] {
            b'\n' => return Step::Blank(pos + 1),
            b'\r' => {
                if pos + 1 < len {
                    if buf[pos + 1] == b'\n' {
                        return Step::Blank(pos + 2);
                    }
                } else if !eof {
                    return Step::Incomplete;
                } else {
                    return Step::Blank(pos + 1);
                }
            }
            _ => {}
        }
        for c in &mut self.cells {
            *c = Cell::Null;
        }
        #[cfg(target_arch = "x86_64")]
        if buf[pos] != b'"'
            && let Some(s) = self.step_fast(buf, pos, eof)
        {
            return s;
        }
        self.scratch.clear();
        let mut p = pos;
        let mut field = 0usize;
        loop {
            if field >= self.last_needed {
                // Nothing more to capture: jump to the end of the line unless a quote
                // comes first (it may hide a newline).
                match memchr::memchr2(b'\n', b'"', &buf[p..]) {
                    Some(k) if buf[p + k] == b'\n' => {
                        let nf = field + 1 + self.count_delims(&buf[p..p + k]);
                        return Step::Record(p + k + 1, nf);
                    }
                    Some(_) => {}
                    None if eof => {
                        let nf = field + 1 + self.count_delims(&buf[p..]);
                        return Step::Record(len, nf);
                    }
                    None => return Step::Incomplete,
                }
            }
            let slot = self.slot_of.get(field).copied().unwrap_or(usize::MAX);
            // (value cell, position of the terminator or len)
            let (value, end): (Cell, usize);
            if p < len && buf[p] == b'"' {
                let mut q = p + 1;
                let mut escaped = false;
                let close = loop {
                    match memchr::memchr(b'"', &buf[q..]) {
                        Some(k) => {
                            let at = q + k;
                            if at + 1 < len && buf[at + 1] == b'"' {
                                escaped = true;
                                q = at + 2;
                                continue;
                            }
                            if at + 1 == len && !eof {
                                return Step::Incomplete;
                            }
                            break at;
                        }
                        None if eof => return Step::Unterminated,
                        None => return Step::Incomplete,
                    }
                };
                let content_end = close;
                let after = close + 1;
                // Bytes after the closing quote up to the terminator are kept (as the
                // csv crate does).
                let term = match memchr::memchr2(delim, b'\n', &buf[after..]) {
                    Some(k) => after + k,
                    None if eof => len,
                    None => return Step::Incomplete,
                };
                let mut junk_end = term;
                if term < len
                    && buf[term] == b'\n'
                    && junk_end > after
                    && buf[junk_end - 1] == b'\r'
                {
                    junk_end -= 1;
                }
                end = term;
                if slot == usize::MAX {
                    value = Cell::Null;
                } else if !escaped && junk_end == after {
                    value = if content_end > p + 1 {
                        Cell::Buf(p + 1, content_end)
                    } else {
                        Cell::Null
                    };
                } else {
                    let s = self.scratch.len();
                    let content = &buf[p + 1..content_end];
                    if escaped {
                        let mut i = 0;
                        while i < content.len() {
                            self.scratch.push(content[i]);
                            i += if content[i] == b'"' { 2 } else { 1 };
                        }
                    } else {
                        self.scratch.extend_from_slice(content);
                    }
                    self.scratch.extend_from_slice(&buf[after..junk_end]);
                    value = if self.scratch.len() > s {
                        Cell::Scratch(s, self.scratch.len())
                    } else {
                        Cell::Null
                    };
                }
            } else {
                let term = match memchr::memchr2(delim, b'\n', &buf[p..]) {
                    Some(k) => p + k,
                    None if eof => len,
                    None => return Step::Incomplete,
                };
                let mut vend = term;
                if term < len && buf[term] == b'\n' && vend > p && buf[vend - 1] == b'\r' {
                    vend -= 1;
                }
                end = term;
                value = if slot != usize::MAX && vend > p {
                    Cell::Buf(p, vend)
                } else {
                    Cell::Null
                };
            }
            if slot != usize::MAX {
                self.cells[slot] = value;
            }
            field += 1;
            if end == len {
                return Step::Record(len, field);
            }
            if buf[end] == b'\n' {
                return Step::Record(end + 1, field);
            }
            p = end + 1;
        }
    }
}

#[cfg(target_arch = "x86_64")]
impl CsvParser {
    /// Delimiter, newline and quote bitmasks of the 64 bytes at `p` (zeros past the end).
    #[inline]
    fn masks(&self, buf: &[u8], p: usize) -> (u64, u64, u64) {
        use std::arch::x86_64::*;
        let mut tmp = [0u8; 64];
        let src: &[u8] = if p + 64 <= buf.len() {
            &buf[p..p + 64]
        } else {
            let n = buf.len() - p;
            tmp[..n].copy_from_slice(&buf[p..]);
            &tmp
        };
        // SAFETY: SSE2 is part of x86_64; every load reads 16 bytes inside `src` (64 bytes).
        unsafe {
            let d = _mm_set1_epi8(self.delim as i8);
            let nl = _mm_set1_epi8(b'\n' as i8);
            let q = _mm_set1_epi8(b'"' as i8);
            let (mut md, mut mn, mut mq) = (0u64, 0u64, 0u64);
            for i in 0..4 {
                let v = _mm_loadu_si128(src.as_ptr().add(i * 16) as *const __m128i);
                let sh = i * 16;
                md |= (_mm_movemask_epi8(_mm_cmpeq_epi8(v, d)) as u32 as u64) << sh;
                mn |= (_mm_movemask_epi8(_mm_cmpeq_epi8(v, nl)) as u32 as u64) << sh;
                mq |= (_mm_movemask_epi8(_mm_cmpeq_epi8(v, q)) as u32 as u64) << sh;
            }
            (md, mn, mq)
        }
    }

    #[inline]
    fn store(&mut self, field: usize, a: usize, b: usize) {
        if let Some(&slot) = self.slot_of.get(field)
            && slot != usize::MAX
        {
            self.cells[slot] = if b > a { Cell::Buf(a, b) } else { Cell::Null };
        }
    }

    /// A record without quotes, 64 bytes at a time: delimiters found by bitmask.
    /// `None` when the record has a quote (the byte-wise parser handles it).
    fn step_fast(&mut self, buf: &[u8], pos: usize, eof: bool) -> Option<Step> {
        let len = buf.len();
        let mut p = pos;
        let mut field = 0usize;
        let mut fstart = pos;
        let mut counting = self.last_needed == 0;
        loop {
            if p >= len {
                if !eof {
                    return Some(Step::Incomplete);
                }
                self.store(field, fstart, len);
                return Some(Step::Record(len, field + 1));
            }
            let (md, mn, mq) = self.masks(buf, p);
            let valid = if p + 64 <= len {
                u64::MAX
            } else {
                (1u64 << (len - p)) - 1
            };
            let nl = mn & valid;
            let before = if nl != 0 {
                (nl & nl.wrapping_neg()) - 1
            } else {
                valid
            };
            if mq & before != 0 {
                return None;
            }
            let mut d = md & before;
            if counting {
                field += d.count_ones() as usize;
            } else {
                while d != 0 {
                    let end = p + d.trailing_zeros() as usize;
                    self.store(field, fstart, end);
                    field += 1;
                    fstart = end + 1;
                    d &= d - 1;
                    if field >= self.last_needed {
                        counting = true;
                        field += d.count_ones() as usize;
                        break;
                    }
                }
            }
            if nl != 0 {
                let at = p + nl.trailing_zeros() as usize;
                if !counting {
                    let mut vend = at;
                    if vend > fstart && buf[vend - 1] == b'\r' {
                        vend -= 1;
                    }
                    self.store(field, fstart, vend);
                }
                return Some(Step::Record(at + 1, field + 1));
            }
            p += 64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(
        data: &[u8],
        slot_of: Vec<usize>,
        nslots: usize,
    ) -> Vec<(Vec<Option<String>>, usize)> {
        let mut p = CsvParser::new(b',', slot_of, nslots);
        let mut out = vec![];
        let mut pos = 0;
        while pos < data.len() {
            match p.step(data, pos, true) {
                Step::Incomplete => panic!("incomplete at eof"),
                Step::Unterminated => panic!("unterminated quote"),
                Step::Blank(n) => pos = n,
                Step::Record(n, nf) => {
                    let cells = (0..nslots)
                        .map(|s| {
                            p.cell(data, s)
                                .map(|b| String::from_utf8_lossy(b).into_owned())
                        })
                        .collect();
                    out.push((cells, nf));
                    pos = n;
                }
            }
        }
        out
    }

    #[test]
    fn csv_fields_quotes_and_crlf() {
        let data = b"a,\"b,1\",c\r\n\"x\"\"y\",,\"multi\nline\"\r\n\nlast,\"\",z";
        let r = parse_all(data, vec![0, 1, 2], 3);
        let s = |v: &str| Some(v.to_string());
        assert_eq!(r[0], (vec![s("a"), s("b,1"), s("c")], 3));
        assert_eq!(r[1], (vec![s("x\"y"), None, s("multi\nline")], 3));
        assert_eq!(r[2], (vec![s("last"), None, s("z")], 3));
        assert_eq!(r.len(), 3);
        // Only the first column needed: the rest is skipped but fields still counted.
        let r = parse_all(data, vec![0], 1);
        assert_eq!(r.iter().map(|x| x.1).collect::<Vec<_>>(), vec![3, 3, 3]);
        assert_eq!(r[1].0, vec![s("x\"y")]);
        // Nothing needed.
        let r = parse_all(b"1,2\n3,4,5\n", vec![], 0);
        assert_eq!(r.iter().map(|x| x.1).collect::<Vec<_>>(), vec![2, 3]);
    }

    #[test]
    fn csv_incomplete_until_eof() {
        let mut p = CsvParser::new(b',', vec![0, 1], 2);
        assert!(matches!(p.step(b"ab,\"c\nd", 0, false), Step::Incomplete));
        assert!(matches!(p.step(b"ab,cd", 0, false), Step::Incomplete));
        assert!(matches!(p.step(b"ab,cd", 0, true), Step::Record(5, 2)));
        assert!(matches!(p.step(b"ab,\"cd\"", 0, false), Step::Incomplete));
        // A quote still open where the data ends is reported, not taken as a field.
        assert!(matches!(
            p.step(b"ab,\"unterminated", 0, true),
            Step::Unterminated
        ));
    }
}
