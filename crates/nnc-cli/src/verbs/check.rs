//! `nnc check`: everything `run` checks before training.

use super::Context;
use crate::output::Output;
use crate::report;
use nnc_diagnostics::Diagnostic;
use serde_json::json;

pub fn check(context: &Context) -> Result<Output, Vec<Diagnostic>> {
    let checked = context.check()?;
    let mut text =
        format!("ok: {} train and {} minimize block(s) checked\n", checked.jobs.len(), checked.minimizations.len());
    for plan in &checked.jobs {
        text.push_str(&report::check_summary(plan));
    }
    let jobs: Vec<_> = checked
        .jobs
        .iter()
        .map(|plan| {
            json!({
                "model": plan.job.model.name,
                "data": plan.job.data.name.name,
                "rows": plan.data.splits().iter().map(|(name, d)| (name.to_string(), d.rows)).collect::<std::collections::BTreeMap<_, _>>(),
                "inputs": plan.data.train.input_names,
                "targets": plan.data.train.target_names,
                "preprocessing": plan.data.preprocessing.features,
            })
        })
        .collect();
    Ok(Output::new(text, json!({ "ok": true, "jobs": jobs, "minimize": checked.minimizations.len() })))
}
