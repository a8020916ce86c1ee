//! Dataset readers: CSV/TSV, JSONL, Parquet and text. Each reads one file once and
//! feeds only the columns the [`Need`] asks for into an [`Acc`].
//!
//! Large CSV files are split into chunks at record boundaries and parsed on every
//! core. A chunk's start is a guess (the byte after a newline); the chunk before it,
//! which starts at a true boundary, finds where its last record really ends, and a
//! chunk whose guess was wrong (a newline inside a quoted field) is parsed again from
//! there. The parser only looks at the needed fields and skips the rest of a record
//! with a newline search.

use super::format::{Compression, Format};
use super::metrics::{Acc, Ctx, KeySet, Need, RowErr, RowState};
use super::text;
use std::fs::{File, FileType};
use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::FileExt;
use std::path::Path;

/// What one file gave.
#[derive(Debug, Clone)]
pub struct FileData {
    pub acc: Acc,
    /// Per slot of the need: the file has no such column.
    pub missing: Vec<bool>,
    /// The file's columns (for messages).
    pub columns: Vec<String>,
}

/// A file that could not be read; `row` when the problem is at a data row.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadError {
    pub row: Option<u64>,
    pub msg: String,
}

impl ReadError {
    pub(super) fn new(msg: impl Into<String>) -> Self {
        ReadError {
            row: None,
            msg: msg.into(),
        }
    }
}

impl From<RowErr> for ReadError {
    fn from(e: RowErr) -> Self {
        ReadError {
            row: Some(e.row),
            msg: e.msg,
        }
    }
}

fn io_err(e: std::io::Error) -> ReadError {
    ReadError::new(match e.kind() {
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        std::io::ErrorKind::NotFound => "file disappeared while being read".to_string(),
        _ if e.raw_os_error() == Some(libc::EISDIR) => "is a directory, not a file".to_string(),
        _ => e.to_string(),
    })
}

/// Files above this size are parsed in parallel chunks.
const PARALLEL_MIN: u64 = 4 << 20;
const BLOCK: usize = 1 << 20;

/// The longest record (CSV record, header, JSONL line) a reader holds in memory.
/// Past it the file is an error naming the row, not gigabytes of memory: a file of
/// NULs without a newline is one endless record.
pub const RECORD_MAX: usize = 64 << 20;

/// Why a path is not a regular file, if it is not (`"a FIFO (named pipe)"`).
pub fn irregular(file_type: &FileType) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    if file_type.is_file() {
        None
    } else if file_type.is_dir() {
        Some("a directory")
    } else if file_type.is_fifo() {
        Some("a FIFO (named pipe)")
    } else if file_type.is_socket() {
        Some("a socket")
    } else if file_type.is_block_device() || file_type.is_char_device() {
        Some("a device")
    } else {
        Some("not a regular file")
    }
}

/// The error for a path that is not a regular file.
pub fn irregular_message(kind: &str) -> String {
    if kind == "a directory" {
        "is a directory, not a file".into()
    } else {
        format!("is {kind}, not a regular file")
    }
}

/// Open a regular file for reading, never blocking: opening a FIFO waits for a writer,
/// so the type is checked first and the open is non-blocking (the file could be
/// swapped in between), and anything but a regular file is refused.
fn open_regular(path: &Path) -> Result<File, ReadError> {
    use std::os::unix::fs::OpenOptionsExt;
    let refuse = |t: &FileType| irregular(t).map(|k| ReadError::new(irregular_message(k)));
    if let Some(e) = refuse(&std::fs::metadata(path).map_err(io_err)?.file_type()) {
        return Err(e);
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(io_err)?;
    match refuse(&file.metadata().map_err(io_err)?.file_type()) {
        Some(e) => Err(e),
        None => Ok(file),
    }
}

pub fn read(
    path: &Path,
    format: Format,
    need: &Need,
    fk_sets: &[&KeySet],
) -> Result<FileData, ReadError> {
    let file = open_regular(path)?;
    let ctx = Ctx { need, fk_sets };
    let compression = Compression::from_path(path);
    let mut fd = match (compression, format) {
        (Compression::None, Format::Csv) => read_csv(&file, b',', &ctx),
        (Compression::None, Format::Tsv) => read_csv(&file, b'\t', &ctx),
        (Compression::None, Format::Parquet) => super::parquet::read(file, &ctx),
        (_, Format::Parquet) => Err(ReadError::new(format!(
            "a {} compressed Parquet file cannot be read (Parquet compresses its own pages)",
            compression.name()
        ))),
        (_, Format::Csv) => read_csv_stream(decompress(file, compression)?, b',', &ctx),
        (_, Format::Tsv) => read_csv_stream(decompress(file, compression)?, b'\t', &ctx),
        (_, Format::Text) => read_text(decompress(file, compression)?, &ctx),
        (_, Format::Jsonl) => read_jsonl(decompress(file, compression)?, &ctx),
    }?;
    fd.acc.finish(&ctx);
    Ok(fd)
}

/// A compressed file's bytes, decompressed as they are read; a corrupt or truncated
/// stream is a read error that says which compression failed.
struct Decompressed {
    inner: Box<dyn Read + Send>,
    compression: Compression,
}

fn decompress(file: File, compression: Compression) -> Result<Decompressed, ReadError> {
    let inner: Box<dyn Read + Send> = match compression {
        Compression::None => Box::new(file),
        // Multi-member: `cat a.gz b.gz` and bgzip files are one stream.
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(BufReader::new(file))),
        Compression::Zstd => Box::new(
            zstd::stream::read::Decoder::new(file)
                .map_err(|e| ReadError::new(format!("cannot start zstd decompression: {e}")))?,
        ),
    };
    Ok(Decompressed { inner, compression })
}

impl Read for Decompressed {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.inner.read(buf).map_err(|e| {
            if e.kind() == std::io::ErrorKind::Interrupted {
                return e;
            }
            let what = if e.kind() == std::io::ErrorKind::UnexpectedEof {
                "truncated".to_string()
            } else {
                e.to_string()
            };
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("corrupt {} data: {what}", self.compression.name()),
            )
        })
    }
}

/// Read into `buf`, retrying when interrupted; 0 only at the end.
fn read_some(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    loop {
        match r.read(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

// ---------------------------------------------------------------- text

fn read_text(mut file: impl Read, ctx: &Ctx<'_>) -> Result<FileData, ReadError> {
    let mut buf = vec![0u8; BLOCK];
    let mut lines = 0u64;
    let mut last = b'\n';
    loop {
        let n = read_some(&mut file, &mut buf).map_err(io_err)?;
        if n == 0 {
            break;
        }
        lines += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
        last = buf[n - 1];
    }
    if last != b'\n' {
        lines += 1;
    }
    let mut acc = Acc::new(ctx.need);
    acc.add_rows(lines);
    Ok(FileData {
        acc,
        missing: vec![true; ctx.need.columns.len()],
        columns: vec![],
    })
}

// ---------------------------------------------------------------- CSV

#[derive(Debug, Clone, Copy)]
enum Cell {
    Null,
    Buf(usize, usize),
    Scratch(usize, usize),
}

enum Step {
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
struct CsvParser {
    delim: u8,
    /// Column index → slot (`usize::MAX`: not needed).
    slot_of: Vec<usize>,
    /// One past the last needed column index.
    last_needed: usize,
    cells: Vec<Cell>,
    scratch: Vec<u8>,
}

impl CsvParser {
    fn new(delim: u8, slot_of: Vec<usize>, nslots: usize) -> Self {
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
    fn cell<'a>(&'a self, buf: &'a [u8], slot: usize) -> Option<&'a [u8]> {
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
    fn step(&mut self, buf: &[u8], pos: usize, eof: bool) -> Step {
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

/// Where a CSV reader's bytes come from: `fetch(buf, offset)` fills `buf` with the bytes
/// at `offset` (a plain file, read anywhere) or with the next bytes of a stream (a
/// decompressed file, read in order; the offset is then only a count); 0 at the end.
type Fetch<'a> = dyn FnMut(&mut [u8], u64) -> std::io::Result<usize> + 'a;

/// A chunk that started at a guessed boundary gives up rather than hold a record past
/// [`RECORD_MAX`] or a quote still open at the end: the guess was probably inside a
/// quoted field (quotes then pair up the wrong way). It is parsed again from the true
/// boundary.
const GAVE_UP: &str = "internal: speculative chunk gave up";

/// The error for a record that outgrew [`RECORD_MAX`]; `record` is what was buffered.
fn too_long(record: &[u8]) -> String {
    let hint = if memchr::memchr(b'"', record).is_some() {
        " (is a quote never closed?)"
    } else {
        ""
    };
    format!("the record is longer than {} MB{hint}", RECORD_MAX >> 20)
}

/// Parse records from `start` until one starts at or after `stop` (or the data ends).
/// Returns the accumulators and the boundary where it stopped. `size`: the data's
/// length when known (to size key sets up front).
#[allow(clippy::too_many_arguments)]
fn parse_range(
    fetch: &mut Fetch<'_>,
    size: Option<u64>,
    start: u64,
    stop: u64,
    ncols: usize,
    parser: &mut CsvParser,
    ctx: &Ctx<'_>,
    speculative: bool,
) -> Result<(Acc, u64), ReadError> {
    let st = RowState::new(ctx.need);
    let mut acc = Acc::new(ctx.need);
    let mut buf = vec![0u8; BLOCK];
    let mut len = 0usize; // valid bytes in buf
    let mut base = start; // offset of buf[0]
    let mut pos = 0usize;
    let mut eof = false;
    let rows_only = ctx.need.rows_only();
    let give_up = |row: u64, msg: String| -> ReadError {
        if speculative {
            ReadError::new(GAVE_UP)
        } else {
            RowErr { row, msg }.into()
        }
    };
    loop {
        // Refill: keep the unfinished record, read more after it.
        if !eof {
            buf.copy_within(pos..len, 0);
            base += pos as u64;
            len -= pos;
            pos = 0;
            if len == buf.len() {
                if buf.len() >= RECORD_MAX {
                    return Err(give_up(acc.rows + 1, too_long(&buf[..len])));
                }
                buf.resize(buf.len() * 2, 0);
            }
            let n = fetch(&mut buf[len..], base + len as u64).map_err(io_err)?;
            if n == 0 {
                eof = true;
            }
            len += n;
        }
        loop {
            if base + pos as u64 >= stop || (pos == len && eof) {
                acc.finish(ctx);
                return Ok((acc, base + pos as u64));
            }
            if pos == len {
                break;
            }
            match parser.step(&buf[..len], pos, eof) {
                Step::Incomplete => {
                    if eof {
                        // Cannot happen: at EOF every record completes.
                        return Err(ReadError::new("internal: incomplete record at end of file"));
                    }
                    break;
                }
                Step::Unterminated => {
                    let msg = "a quoted field opened in this row is never closed".to_string();
                    return Err(give_up(acc.rows + 1, msg));
                }
                Step::Blank(n) => pos = n,
                Step::Record(n, nf) => {
                    if nf != ncols {
                        return Err(RowErr {
                            row: acc.rows + 1,
                            msg: format!("has {nf} fields, the header has {ncols}"),
                        }
                        .into());
                    }
                    if rows_only {
                        acc.add_rows(1);
                    } else {
                        if acc.rows == 4096
                            && !ctx.need.keysets.is_empty()
                            && let Some(size) = size
                        {
                            let done = base + pos as u64 - start;
                            let span = stop.min(size).saturating_sub(start);
                            acc.expect_rows(span * 4096 / done.max(1) + 1024);
                        }
                        let b = &buf[..len];
                        let p = &*parser;
                        acc.row(ctx, &st, |slot| p.cell(b, slot));
                    }
                    pos = n;
                }
            }
        }
    }
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The header record: its column names, where the data starts, and every byte fetched
/// so far (a stream cannot be read twice). Leading blank lines and a UTF-8 BOM are
/// skipped; a header past [`RECORD_MAX`], an open quote, an empty file, names that are
/// not UTF-8 or that repeat are errors.
fn csv_header(fetch: &mut Fetch<'_>, delim: u8) -> Result<(Vec<String>, u64, Vec<u8>), ReadError> {
    let mut head: Vec<u8> = Vec::new();
    let mut eof = false;
    let mut more = |head: &mut Vec<u8>, eof: &mut bool| -> Result<(), ReadError> {
        if head.len() >= RECORD_MAX {
            return Err(ReadError::new(format!(
                "the header is longer than {} MB",
                RECORD_MAX >> 20
            )));
        }
        let len = head.len();
        // Doubling: each growth parses the header again from its start.
        head.resize(len + len.max(BLOCK).min(RECORD_MAX - len), 0);
        let n = fetch(&mut head[len..], len as u64).map_err(io_err)?;
        head.truncate(len + n);
        *eof = n == 0;
        Ok(())
    };
    while head.len() < BOM.len() && !eof {
        more(&mut head, &mut eof)?;
    }
    let mut pos = if head.starts_with(BOM) { BOM.len() } else { 0 };
    let mut parser = CsvParser::new(delim, vec![], 0);
    let end = loop {
        if pos == head.len() {
            if eof {
                return Err(ReadError::new("the file is empty (no header row)"));
            }
            more(&mut head, &mut eof)?;
            continue;
        }
        match parser.step(&head, pos, eof) {
            Step::Blank(n) => pos = n,
            Step::Record(n, _) => break n,
            Step::Unterminated => {
                return Err(ReadError::new(
                    "a quoted field opened in the header is never closed",
                ));
            }
            Step::Incomplete => more(&mut head, &mut eof)?,
        }
    };
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .delimiter(delim)
        .flexible(true)
        .from_reader(&head[pos..end]);
    let mut rec = csv::ByteRecord::new();
    if let Err(e) = rdr.read_byte_record(&mut rec) {
        return Err(ReadError::new(format!("cannot read the header: {e}")));
    }
    let mut columns = Vec::with_capacity(rec.len());
    let mut seen = std::collections::HashMap::with_capacity(rec.len());
    for f in rec.iter() {
        let Ok(name) = std::str::from_utf8(f) else {
            return Err(ReadError::new(format!(
                "the header is not valid UTF-8 (column {})",
                columns.len() + 1
            )));
        };
        let name = name.trim().to_string();
        if let Some(first) = seen.insert(name.clone(), columns.len() + 1) {
            return Err(ReadError::new(format!(
                "column {} appears twice in the header (columns {first} and {})",
                text::clip_name(&name),
                columns.len() + 1
            )));
        }
        columns.push(name);
    }
    Ok((columns, end as u64, head))
}

pub(super) fn slots_for(columns: &[String], need: &Need) -> (Vec<usize>, Vec<bool>) {
    let mut slot_of = vec![usize::MAX; columns.len()];
    let mut missing = vec![true; need.columns.len()];
    for (slot, name) in need.columns.iter().enumerate() {
        if let Some(i) = columns.iter().position(|c| c == name) {
            slot_of[i] = slot;
            missing[slot] = false;
        }
    }
    (slot_of, missing)
}

/// The first position at or after `at` that follows a newline (or the end). A search
/// gives up after [`RECORD_MAX`] bytes: the record there is too long anyway, and the
/// chunk before reports it.
fn next_line_start(file: &File, at: u64, size: u64) -> Result<u64, ReadError> {
    if at == 0 {
        return Ok(0);
    }
    let mut buf = vec![0u8; 64 << 10];
    let mut off = at - 1;
    while off < size && off - (at - 1) <= RECORD_MAX as u64 {
        let n = file.read_at(&mut buf, off).map_err(io_err)?;
        if n == 0 {
            break;
        }
        if let Some(k) = memchr::memchr(b'\n', &buf[..n]) {
            return Ok(off + k as u64 + 1);
        }
        off += n as u64;
    }
    Ok(size)
}

/// A compressed CSV file: one pass over the decompressed stream, on one core.
fn read_csv_stream(mut stream: impl Read, delim: u8, ctx: &Ctx<'_>) -> Result<FileData, ReadError> {
    let (columns, data_start, head) = csv_header(&mut |buf, _| read_some(&mut stream, buf), delim)?;
    let (slot_of, missing) = slots_for(&columns, ctx.need);
    let mut parser = CsvParser::new(delim, slot_of, ctx.need.columns.len());
    // The bytes fetched past the header first, then the rest of the stream.
    let mut replay = &head[data_start as usize..];
    let mut fetch = |buf: &mut [u8], _| {
        if replay.is_empty() {
            read_some(&mut stream, buf)
        } else {
            read_some(&mut replay, buf)
        }
    };
    let (acc, _) = parse_range(
        &mut fetch,
        None,
        data_start,
        u64::MAX,
        columns.len(),
        &mut parser,
        ctx,
        false,
    )?;
    Ok(FileData {
        acc,
        missing,
        columns,
    })
}

fn read_csv(file: &File, delim: u8, ctx: &Ctx<'_>) -> Result<FileData, ReadError> {
    let at = |buf: &mut [u8], offset: u64| file.read_at(buf, offset);
    let (columns, data_start, _) = csv_header(&mut { at }, delim)?;
    // The size after the header was read: a file still growing is read up to its end.
    let size = file.metadata().map_err(io_err)?.len();
    let ncols = columns.len();
    let (slot_of, missing) = slots_for(&columns, ctx.need);
    let nslots = ctx.need.columns.len();
    let new_parser = || CsvParser::new(delim, slot_of.clone(), nslots);
    let data = size.saturating_sub(data_start);
    let threads = if data >= PARALLEL_MIN {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(8) as u64
    } else {
        1
    };
    let parse = |start: u64, stop: u64, speculative: bool| {
        parse_range(
            &mut { at },
            Some(size),
            start,
            stop,
            ncols,
            &mut new_parser(),
            ctx,
            speculative,
        )
    };
    if threads <= 1 {
        let (acc, _) = parse(data_start, u64::MAX, false)?;
        return Ok(FileData {
            acc,
            missing,
            columns,
        });
    }
    // Guessed chunk starts (after a newline); chunk i ends where chunk i+1 starts.
    let mut starts = vec![data_start];
    for i in 1..threads {
        let nominal = data_start + data * i / threads;
        starts.push(next_line_start(file, nominal, size)?.max(*starts.last().unwrap()));
    }
    let n = starts.len();
    let stop_of = |i: usize| if i + 1 < n { starts[i + 1] } else { u64::MAX };
    let results: Vec<Result<(Acc, u64), ReadError>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .map(|i| {
                let (start, stop) = (starts[i], stop_of(i));
                let parse = &parse;
                s.spawn(move || parse(start, stop, i > 0))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(ReadError::new("internal: reader thread panicked")))
            })
            .collect()
    });
    // Chain the chunks: each is valid only if it started where the previous one ended.
    let mut total: Option<Acc> = None;
    let mut boundary = data_start;
    for (i, r) in results.into_iter().enumerate() {
        let stop = stop_of(i);
        let gave_up = matches!(&r, Err(e) if e.msg == GAVE_UP);
        let r = if starts[i] == boundary && !gave_up {
            r
        } else if boundary >= stop {
            // The previous chunk already covered this one.
            continue;
        } else {
            parse(boundary, stop, false)
        };
        let done = total.as_ref().map_or(0, |t| t.rows);
        let (mut acc, end) = r.map_err(|mut e| {
            if let Some(row) = &mut e.row {
                *row += done;
            }
            e
        })?;
        boundary = end;
        match &mut total {
            None => total = Some(acc),
            Some(t) => {
                acc.shift(t.rows);
                t.merge(acc);
            }
        }
    }
    Ok(FileData {
        acc: total.unwrap_or_else(|| Acc::new(ctx.need)),
        missing,
        columns,
    })
}

// ---------------------------------------------------------------- JSONL

fn json_cell(v: &serde_json::Value) -> Option<Vec<u8>> {
    use serde_json::Value;
    match v {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(s.as_bytes().to_vec()),
        Value::Number(n) => Some(n.to_string().into_bytes()),
        Value::Bool(b) => Some(if *b {
            b"true".to_vec()
        } else {
            b"false".to_vec()
        }),
        other => Some(other.to_string().into_bytes()),
    }
}

fn read_jsonl(file: impl Read, ctx: &Ctx<'_>) -> Result<FileData, ReadError> {
    let need = ctx.need;
    let st = RowState::new(need);
    let mut acc = Acc::new(need);
    let mut rdr = BufReader::with_capacity(BLOCK, file);
    let mut line = Vec::new();
    let mut lineno = 0u64;
    let mut seen = vec![false; need.columns.len()];
    let mut columns: Vec<String> = Vec::new();
    let mut cells: Vec<Option<Vec<u8>>> = vec![None; need.columns.len()];
    loop {
        line.clear();
        let n = (&mut rdr)
            .take(RECORD_MAX as u64 + 1)
            .read_until(b'\n', &mut line)
            .map_err(io_err)?;
        if n == 0 {
            break;
        }
        lineno += 1;
        if line.len() > RECORD_MAX {
            return Err(ReadError::new(format!(
                "line {lineno}: longer than {} MB",
                RECORD_MAX >> 20
            )));
        }
        if line.trim_ascii().is_empty() {
            continue;
        }
        let obj: serde_json::Map<String, serde_json::Value> = match serde_json::from_slice(&line) {
            Ok(serde_json::Value::Object(m)) => m,
            Ok(_) => {
                return Err(ReadError::new(format!("line {lineno}: not a JSON object")));
            }
            Err(e) => {
                return Err(ReadError::new(format!("line {lineno}: invalid JSON: {e}")));
            }
        };
        if columns.len() < 200 {
            for k in obj.keys() {
                if !columns.contains(k) && columns.len() < 200 {
                    columns.push(k.clone());
                }
            }
        }
        if need.rows_only() {
            acc.add_rows(1);
            continue;
        }
        for (slot, name) in need.columns.iter().enumerate() {
            cells[slot] = match obj.get(name) {
                Some(v) => {
                    seen[slot] = true;
                    json_cell(v)
                }
                None => None,
            };
        }
        acc.row(ctx, &st, |slot| cells[slot].as_deref());
    }
    Ok(FileData {
        acc,
        // A column no object has is missing; with no rows nothing is missing.
        missing: seen
            .iter()
            .map(|s| !s && lineno > 0 && !need.rows_only())
            .collect(),
        columns,
    })
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
