//! `[[probe]]`: a command whose exit code and printed value are checked.

use super::check_refs::CheckHome;
use super::graph::Names;
use super::reader::{Reader, Table};
use super::{PlanError, ProbeSpec};
use std::time::Duration;

pub(super) const PROBE_KEYS: &[&str] = &["name", "command", "pattern", "timeout", "checks"];

impl Reader<'_> {
    pub(super) fn probe(
        &self,
        t: Table,
        name: &str,
        names: &Names,
    ) -> Result<ProbeSpec, PlanError> {
        let what = format!("probe `{name}`");
        let Some(cv) = t.get("command") else {
            return Err(self.err(t.start, format!("{what} is missing required key `command`")));
        };
        let command = self.string(cv, "command", &what)?;
        if command.text.trim().is_empty() {
            return Err(self.err(cv.span().start, format!("`command` in {what} is empty")));
        }
        let pattern = match t.get("pattern") {
            Some(v) => {
                let s = self.string(v, "pattern", &what)?;
                Some(self.regex(&s, "pattern", &what)?)
            }
            None => None,
        };
        let timeout = match t.get("timeout") {
            Some(v) => {
                self.positive_duration(v, "timeout", &what, "leave it out for the default, 10m")?
            }
            None => Duration::from_secs(600),
        };
        let checks = self
            .checks(t, &what, CheckHome::Probe, names)?
            .into_iter()
            .map(|(c, _)| c)
            .collect();
        Ok(ProbeSpec {
            name: name.to_string(),
            command: command.text,
            pattern,
            timeout,
            checks,
        })
    }
}
