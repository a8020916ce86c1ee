//! JSONL files: one JSON object per line; a needed field's value is measured as text.

use super::{BLOCK, FileData, RECORD_MAX, ReadError, io_err};
use crate::checks::metrics::{Acc, Ctx, RowState};
use std::io::{BufRead, BufReader, Read};

pub(super) fn json_cell(v: &serde_json::Value) -> Option<Vec<u8>> {
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

pub(super) fn read_jsonl(file: impl Read, ctx: &Ctx<'_>) -> Result<FileData, ReadError> {
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
