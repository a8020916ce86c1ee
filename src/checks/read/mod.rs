//! Dataset readers: CSV/TSV, JSONL, Parquet and text. Each reads one file once and
//! feeds only the columns the [`Need`] asks for into an [`Acc`].
//!
//! Large CSV files are split into chunks at record boundaries and parsed on every
//! core. A chunk's start is a guess (the byte after a newline); the chunk before it,
//! which starts at a true boundary, finds where its last record really ends, and a
//! chunk whose guess was wrong (a newline inside a quoted field) is parsed again from
//! there. The parser only looks at the needed fields and skips the rest of a record
//! with a newline search.

mod csv;
mod csv_fields;
mod jsonl;

use super::format::{Compression, Format};
use super::metrics::{Acc, Ctx, KeySet, Need, RowErr};
use std::fs::{File, FileType};
use std::io::{BufReader, Read};
use std::path::Path;

use csv::{read_csv, read_csv_stream};
use jsonl::read_jsonl;

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
