//! Reading and validating a plan file: the entry points, and the order of the work.
//!
//! The phases each have a home: `reader` (positions, tables, typed values), `vars`
//! (`{name}` substitution), `settings` (`[plan]`, `[ui]`, `[defaults]`), one builder per
//! table (`session`, `dataset`, `probe`, `gate`), `check_refs` (check lists) and
//! `graph` (dependencies and cycles). Names are read first, so that any table may
//! refer to one defined later.

use super::dataset::DATASET_KEYS;
use super::gate::GATE_KEYS;
use super::graph::Names;
use super::probe::PROBE_KEYS;
use super::reader::{Reader, Table};
use super::session::SESSION_KEYS;
use super::{Plan, PlanError};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use toml::de::DeTable;

const TOP_KEYS: &[&str] = &[
    "plan", "vars", "ui", "defaults", "session", "dataset", "probe", "gate",
];

/// Load, substitute `{vars}` (command-line `vars` win over `[vars]`), and validate.
pub fn load(file: &Path, vars: &BTreeMap<String, String>) -> Result<Plan, PlanError> {
    let bytes = std::fs::read(file).map_err(|e| PlanError {
        file: file.to_path_buf(),
        line: 0,
        col: 0,
        message: format!("cannot read plan: {e}"),
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        // Position the first bad byte by the valid text before it.
        let valid = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let before = std::str::from_utf8(&bytes[..valid]).unwrap_or_default();
        Reader::new(before, file).err(
            valid,
            format!(
                "the plan is not UTF-8 text: byte 0x{:02x} cannot be read here (save the file as UTF-8)",
                bytes[valid]
            ),
        )
    })?;
    load_str(&text, file, vars)
}

/// As [`load`], from text; `file` names it in errors and anchors relative paths.
pub fn load_str(
    text: &str,
    file: &Path,
    vars: &BTreeMap<String, String>,
) -> Result<Plan, PlanError> {
    let mut reader = Reader::new(text, file);
    let doc = DeTable::parse(text).map_err(|e| {
        let at = e.span().map(|s| s.start).unwrap_or(0);
        reader.err(at, format!("invalid TOML: {}", e.message()))
    })?;
    reader.build(doc.get_ref(), vars)
}

impl Reader<'_> {
    fn build(
        &mut self,
        doc: &DeTable,
        cli_vars: &BTreeMap<String, String>,
    ) -> Result<Plan, PlanError> {
        let top = Table { map: doc, start: 0 };
        self.check_keys(top, TOP_KEYS, "the plan file")?;

        let vars = match top.get("vars") {
            Some(v) => Some(self.table(v, "vars", "the plan file")?),
            None => None,
        };
        self.resolve_vars(vars, cli_vars)?;
        let settings = self.plan_table(top)?;
        let ui = self.ui_table(top)?;
        let defaults = self.defaults_table(top)?;

        let session_tables = self.table_array(top, "session")?;
        let dataset_tables = self.table_array(top, "dataset")?;
        let probe_tables = self.table_array(top, "probe")?;
        let gate_tables = self.table_array(top, "gate")?;

        // Names first: `after`, `owner` and checks may refer forward. Sessions and
        // gates share a namespace (both can be waited for); so do datasets and probes
        // (both are check sources: `leads.row_count`, `risk_latency.value`).
        let mut nodes = HashMap::new();
        let nodes_space = "session or gate";
        let session_names = self.names_of(
            &session_tables,
            "session",
            SESSION_KEYS,
            false,
            (&mut nodes, nodes_space),
        )?;
        let gate_names = self.names_of(
            &gate_tables,
            "gate",
            GATE_KEYS,
            false,
            (&mut nodes, nodes_space),
        )?;
        let mut sources = HashMap::new();
        let sources_space = "dataset or probe";
        let dataset_names = self.names_of(
            &dataset_tables,
            "dataset",
            DATASET_KEYS,
            true,
            (&mut sources, sources_space),
        )?;
        let probe_names = self.names_of(
            &probe_tables,
            "probe",
            PROBE_KEYS,
            false,
            (&mut sources, sources_space),
        )?;
        let names = Names::new(&session_names, &gate_names, &dataset_names, &probe_names);

        let mut edges = Vec::new();
        let sessions = self.sessions(
            &session_tables,
            defaults,
            &session_names,
            &names,
            &settings.root,
            &mut edges,
        )?;
        let mut datasets = Vec::new();
        for (t, name) in dataset_tables.iter().zip(&dataset_names) {
            datasets.push(self.dataset(*t, name, &names)?);
        }
        let owners: Vec<Option<usize>> = datasets.iter().map(|d| d.owner).collect();
        let mut probes = Vec::new();
        for (t, name) in probe_tables.iter().zip(&probe_names) {
            probes.push(self.probe(*t, name, &names)?);
        }
        let mut gates = Vec::new();
        for (i, t) in gate_tables.iter().enumerate() {
            gates.push(self.gate(i, *t, &gate_names[i], &names, &owners, &mut edges)?);
        }

        // Node ids in `edges`: sessions first, then gates; cycles start at the node
        // defined first in the file.
        let all_names: Vec<&str> = session_names
            .iter()
            .chain(&gate_names)
            .map(String::as_str)
            .collect();
        let starts: Vec<usize> = session_tables
            .iter()
            .chain(&gate_tables)
            .map(|t| t.start)
            .collect();
        self.check_cycles(&all_names, &edges, &starts)?;

        Ok(Plan {
            file: settings.file,
            name: settings.name,
            root: settings.root,
            records: settings.records,
            max_parallel: settings.max_parallel,
            shell: settings.shell,
            log_limit: settings.log_limit,
            notify: settings.notify,
            vars: self.vars.clone(),
            ui,
            sessions,
            datasets,
            probes,
            gates,
        })
    }

    /// The names of one kind of table, in order, each checked and unique in `seen`,
    /// the namespace `space` (shared by two kinds).
    fn names_of(
        &self,
        tables: &[Table],
        kind: &str,
        keys: &[&str],
        strict: bool,
        (seen, space): (&mut HashMap<String, usize>, &str),
    ) -> Result<Vec<String>, PlanError> {
        let mut out = Vec::new();
        for (i, t) in tables.iter().enumerate() {
            let what = format!("[[{kind}]] #{}", i + 1);
            if t.get("name").is_none() {
                // A misspelt `name` is better reported as such than as missing.
                self.check_keys(*t, keys, &what)?;
            }
            let n = self.name(*t, &what, kind, strict)?;
            self.check_keys(*t, keys, &format!("{kind} `{}`", n.0))?;
            self.unique(&n, seen, space)?;
            out.push(n.0);
        }
        Ok(out)
    }

    /// The required, well-formed `name` of a table: (name, offset of its value).
    fn name(
        &self,
        t: Table,
        what: &str,
        kind: &str,
        strict: bool,
    ) -> Result<(String, usize), PlanError> {
        let Some(v) = t.get("name") else {
            return Err(self.err(t.start, format!("{what} is missing required key `name`")));
        };
        let s = self.string(v, "name", what)?;
        let ok = !s.text.is_empty()
            && s.text.chars().all(|c| {
                c.is_ascii_alphanumeric() || c == '_' || (!strict && (c == '-' || c == '.'))
            });
        if !ok {
            let allowed = if strict {
                "letters, digits and `_`"
            } else {
                "letters, digits, `_`, `-` and `.`"
            };
            return Err(self.err(
                v.span().start,
                format!("bad {kind} name `{}`: use only {allowed}", s.text),
            ));
        }
        Ok((s.text, v.span().start))
    }

    fn unique(
        &self,
        n: &(String, usize),
        seen: &mut HashMap<String, usize>,
        space: &str,
    ) -> Result<(), PlanError> {
        if let Some(&first) = seen.get(&n.0) {
            let (line, _) = self.pos(first);
            return Err(self.err(
                n.1,
                format!(
                    "duplicate name `{}`: already used on line {line} (each {space} needs a unique name)",
                    n.0
                ),
            ));
        }
        seen.insert(n.0.clone(), n.1);
        Ok(())
    }
}
