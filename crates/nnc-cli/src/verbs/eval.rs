//! `nnc eval`: saved weights scored on the program's own data, without training.

use super::{Context, read_weights};
use crate::output::Output;
use crate::report;
use nnc_diagnostics::Diagnostic;
use serde_json::json;
use std::path::Path;

pub fn eval(context: &Context, weights_path: &Path) -> Result<Output, Vec<Diagnostic>> {
    let mut checked = context.check()?;
    let weights = read_weights(weights_path)?;
    let name = weights_path.display().to_string();
    let mut text = String::new();
    let mut blocks = Vec::new();
    for plan in &mut checked.jobs {
        plan.start_from(&weights, &name).map_err(|d| vec![d])?;
        let params = plan.start_params(plan.job.train.seed);
        let compiled = nnc_driver::compile_job(plan, nnc_driver::Functions::Run, nnc_driver::CodegenOptions::default())
            .map_err(|d| vec![d])?;
        let splits = nnc_driver::evaluate_splits(plan, &compiled, &params);
        text.push_str(&format!("eval {} on {} with {name}\n", plan.job.model.name, plan.job.data.name.name));
        let classes = nnc_driver::weights::class_names(&plan.data.task);
        for split in &splits {
            text.push_str(&format!(
                "  {}: {} rows, loss {}, {}\n",
                split.name,
                split.rows,
                split.loss,
                report::scores_line(&split.scores, split.rows)
            ));
        }
        if let Some(scored) = splits.iter().find(|s| s.name == "test").or_else(|| splits.first())
            && !classes.is_empty()
        {
            text.push_str(&format!("{} split:\n", scored.name));
            text.push_str(&report::class_scores_text(&classes, &scored.scores));
        }
        blocks.push(json!({
            "model": plan.job.model.name,
            "weights": name,
            "splits": splits.iter().map(|s| json!({ "name": s.name, "rows": s.rows, "loss": s.loss, "scores": s.scores })).collect::<Vec<_>>(),
        }));
    }
    Ok(Output::new(text, json!({ "evaluations": blocks })))
}
