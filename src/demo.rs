//! (stub)

use std::path::{Path, PathBuf};

pub fn write(dir: &Path) -> anyhow::Result<PathBuf> {
    let _ = dir;
    anyhow::bail!("not yet")
}

pub fn sim_command(args: &[String]) -> anyhow::Result<()> {
    let _ = args;
    anyhow::bail!("not yet")
}
