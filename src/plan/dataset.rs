//! `[[dataset]]`: a file or glob to check, its format and its owner.

use super::check_refs::CheckHome;
use super::graph::Names;
use super::reader::{Reader, Table, suggest};
use super::{DatasetSpec, Format, PlanError};

pub(super) const DATASET_KEYS: &[&str] = &["name", "path", "format", "owner", "checks"];

impl Reader<'_> {
    pub(super) fn dataset(
        &self,
        t: Table,
        name: &str,
        names: &Names,
    ) -> Result<DatasetSpec, PlanError> {
        let what = format!("dataset `{name}`");
        let Some(pv) = t.get("path") else {
            return Err(self.err(t.start, format!("{what} is missing required key `path`")));
        };
        let path = self.string(pv, "path", &what)?;
        self.glob(&path, "path", &what)?;
        let format = match t.get("format") {
            Some(v) => self.one_of(
                v,
                "format",
                &what,
                &[
                    ("csv", Format::Csv),
                    ("tsv", Format::Tsv),
                    ("jsonl", Format::Jsonl),
                    ("parquet", Format::Parquet),
                    ("text", Format::Text),
                ],
            )?,
            None => Format::from_path(&path.text),
        };
        let owner = match t.get("owner") {
            Some(v) => {
                let s = self.string(v, "owner", &what)?;
                match names.sessions.get(&s.text) {
                    Some(&i) => Some(i),
                    None => {
                        let msg = if names.gates.contains_key(&s.text) {
                            format!(
                                "`owner` of {what}: `{}` is a gate; the owner must be a session",
                                s.text
                            )
                        } else {
                            let all: Vec<&str> =
                                names.sessions.keys().map(String::as_str).collect();
                            let hint = suggest(&s.text, &all)
                                .map(|x| format!(" (did you mean `{x}`?)"))
                                .unwrap_or_default();
                            format!("`owner` of {what}: unknown session `{}`{hint}", s.text)
                        };
                        return Err(self.err(v.span().start, msg));
                    }
                }
            }
            None => None,
        };
        let checks = self
            .checks(t, &what, CheckHome::Dataset, names)?
            .into_iter()
            .map(|(c, _)| c)
            .collect();
        Ok(DatasetSpec {
            name: name.to_string(),
            path: path.text,
            format,
            owner,
            checks,
        })
    }
}
