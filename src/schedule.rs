//! (stub)

pub fn describe(plan: &crate::plan::Plan) -> String {
    format!("{}\n", plan.name)
}
