//! Reading and validating a plan file. (stub)

use super::{Plan, PlanError};
use std::collections::BTreeMap;
use std::path::Path;

/// Load, substitute `{vars}` (command-line `vars` win over `[vars]`), and validate.
pub fn load(file: &Path, vars: &BTreeMap<String, String>) -> Result<Plan, PlanError> {
    let text = std::fs::read_to_string(file).map_err(|e| PlanError {
        file: file.to_path_buf(),
        line: 0,
        col: 0,
        message: format!("cannot read plan: {e}"),
    })?;
    load_str(&text, file, vars)
}

/// As [`load`], from text; `file` names it in errors and anchors relative paths.
pub fn load_str(
    text: &str,
    file: &Path,
    vars: &BTreeMap<String, String>,
) -> Result<Plan, PlanError> {
    let _ = (text, vars);
    Err(PlanError {
        file: file.to_path_buf(),
        line: 0,
        col: 0,
        message: "not implemented".into(),
    })
}
