//! The control room screen. (stub)

pub fn run(
    plan: std::sync::Arc<crate::plan::Plan>,
    opts: crate::engine::RunOptions,
) -> anyhow::Result<i32> {
    let _ = (plan, opts);
    anyhow::bail!("the control room is not built yet; use --no-tui")
}
