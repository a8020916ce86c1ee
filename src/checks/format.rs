//! What a dataset file holds and how it is stored: its format and its compression,
//! both named by the file's extension (docs: README "Datasets").

use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Tsv,
    Jsonl,
    Parquet,
    Text,
}

impl Format {
    /// Format from a path's extension (`.csv .tsv .jsonl .ndjson .parquet`; else text).
    /// A compression suffix is looked through: `data.csv.gz` is CSV.
    pub fn from_path(path: &str) -> Format {
        let lower = path.to_ascii_lowercase();
        let inner = Compression::from_path(Path::new(&lower)).strip(&lower);
        if inner.ends_with(".csv") {
            Format::Csv
        } else if inner.ends_with(".tsv") {
            Format::Tsv
        } else if inner.ends_with(".jsonl") || inner.ends_with(".ndjson") {
            Format::Jsonl
        } else if inner.ends_with(".parquet") {
            Format::Parquet
        } else {
            Format::Text
        }
    }
}

/// How a file's bytes are stored; a compressed file is read decompressed, in one pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    pub fn from_path(path: &Path) -> Compression {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        if name.ends_with(".gz") {
            Compression::Gzip
        } else if name.ends_with(".zst") {
            Compression::Zstd
        } else {
            Compression::None
        }
    }

    /// `path` without this compression's suffix.
    fn strip(self, path: &str) -> &str {
        let suffix = match self {
            Compression::None => "",
            Compression::Gzip => ".gz",
            Compression::Zstd => ".zst",
        };
        &path[..path.len() - suffix.len()]
    }

    /// For messages: `gzip`, `zstd`.
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "uncompressed",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compressed_files_keep_their_inner_format() {
        assert_eq!(Format::from_path("data.csv.gz"), Format::Csv);
        assert_eq!(Format::from_path("a/B.TSV.ZST"), Format::Tsv);
        assert_eq!(Format::from_path("x.ndjson.gz"), Format::Jsonl);
        assert_eq!(Format::from_path("notes.gz"), Format::Text);
        assert_eq!(Format::from_path("x.csv"), Format::Csv);
        assert_eq!(
            Compression::from_path(Path::new("d/x.csv.gz")),
            Compression::Gzip
        );
        assert_eq!(
            Compression::from_path(Path::new("x.gz/y.csv")),
            Compression::None
        );
    }
}
