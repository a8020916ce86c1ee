//! CSV/TSV files: the header, then records in chunks parsed on every core (a plain
//! file) or in one pass (a compressed stream).

use super::csv_fields::{CsvParser, Step};
use super::{BLOCK, FileData, PARALLEL_MIN, RECORD_MAX, ReadError, io_err, read_some, slots_for};
use crate::checks::metrics::{Acc, Ctx, RowErr, RowState};
use crate::checks::text;
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::FileExt;

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
pub(super) fn too_long(record: &[u8]) -> String {
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
pub(super) fn parse_range(
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
pub(super) fn csv_header(
    fetch: &mut Fetch<'_>,
    delim: u8,
) -> Result<(Vec<String>, u64, Vec<u8>), ReadError> {
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

/// The first position at or after `at` that follows a newline (or the end). A search
/// gives up after [`RECORD_MAX`] bytes: the record there is too long anyway, and the
/// chunk before reports it.
pub(super) fn next_line_start(file: &File, at: u64, size: u64) -> Result<u64, ReadError> {
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
pub(super) fn read_csv_stream(
    mut stream: impl Read,
    delim: u8,
    ctx: &Ctx<'_>,
) -> Result<FileData, ReadError> {
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

pub(super) fn read_csv(file: &File, delim: u8, ctx: &Ctx<'_>) -> Result<FileData, ReadError> {
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
