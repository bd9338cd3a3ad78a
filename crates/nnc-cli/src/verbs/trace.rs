//! `nnc trace`: one step with real numbers.

use super::{Context, parse_rows};
use crate::output::Output;
use nnc_diagnostics::{Diagnostic, codes};
use nnc_inspect::trace::{Trace, TraceOptions, render, trace_job, trace_minimization};
use serde_json::json;

pub fn trace(context: &Context, step: u64, rows: Option<&str>) -> Result<Output, Vec<Diagnostic>> {
    let checked = context.check()?;
    let options = TraceOptions { step: Some(step), rows: rows.map(parse_rows) };
    let mut traces: Vec<Trace> = Vec::new();
    for plan in &checked.minimizations {
        let block = &plan.minimization;
        traces
            .push(trace_minimization(plan, &options).map_err(|m| cannot(&block.name, block.span, "this descent", m))?);
    }
    for plan in &checked.jobs {
        let job = &plan.job;
        traces.push(trace_job(plan, &options).map_err(|m| cannot(&job.model.name, job.span, "this training", m))?);
    }
    let text = traces.iter().map(render).collect();
    Ok(Output::new(text, json!({ "traces": traces })))
}

/// Why a block cannot be traced, pointing at it.
fn cannot(name: &str, span: nnc_diagnostics::Span, label: &str, message: String) -> Vec<Diagnostic> {
    vec![Diagnostic::error(codes::EMPTY_SPLIT, format!("cannot trace `{name}`: {message}"), span, label)]
}
