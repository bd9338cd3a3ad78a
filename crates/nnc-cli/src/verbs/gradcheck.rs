//! `nnc gradcheck`: exit 1 when a compiled gradient disagrees with finite differences.

use super::Context;
use crate::output::Output;
use nnc_diagnostics::{Diagnostic, codes};
use nnc_inspect::gradcheck::{GradCheck, gradcheck_job, gradcheck_minimization, render};
use serde_json::json;

pub fn gradcheck(context: &Context) -> Result<Output, Vec<Diagnostic>> {
    let checked = context.check()?;
    let mut checks: Vec<GradCheck> =
        checked.minimizations.iter().map(|plan| gradcheck_minimization(plan, None)).collect();
    for plan in &checked.jobs {
        checks.push(gradcheck_job(plan, None).map_err(|message| {
            vec![Diagnostic::error(
                codes::EMPTY_SPLIT,
                format!("cannot check `{}`: {message}", plan.job.model.name),
                plan.job.span,
                "this training",
            )]
        })?);
    }
    let ok = checks.iter().all(|c| c.passed);
    Ok(Output::check(render(&checks), json!({ "passed": ok, "gradchecks": checks }), ok))
}
