//! `nnc trace`: one step with real numbers.

use super::{Context, parse_rows};
use crate::output::Output;
use nnc_diagnostics::{Diagnostic, codes};
use nnc_inspect::trace::{Trace, TraceOptions, render, trace_job, trace_minimization};
use serde_json::json;

pub fn trace(context: &Context, step: u64, rows: Option<&str>) -> Result<Output, Vec<Diagnostic>> {
    let checked = context.check()?;
    let options = TraceOptions { step: Some(step), rows: rows.map(parse_rows) };
    let mut traces: Vec<Trace> = checked.minimizations.iter().map(|plan| trace_minimization(plan, &options)).collect();
    for plan in &checked.jobs {
        traces.push(trace_job(plan, &options).map_err(|message| {
            vec![Diagnostic::error(
                codes::EMPTY_SPLIT,
                format!("cannot trace `{}`: {message}", plan.job.model.name),
                plan.job.span,
                "this training",
            )]
        })?);
    }
    let text = traces.iter().map(render).collect();
    Ok(Output::new(text, json!({ "traces": traces })))
}
