//! `nnc sweep`: every block at several learning rates (and seeds).

use super::{Context, file_error, parse_seeds, write};
use crate::output::Output;
use nnc_diagnostics::{Diagnostic, codes};
use nnc_inspect::sweep::{Sweep, plot, render, sweep as sweep_job, sweep_minimization};
use nnc_plot::Format;
use serde_json::json;
use std::path::Path;

pub fn sweep(
    context: &Context,
    rates: &[f32],
    seeds: Option<&str>,
    out: &Path,
    png: bool,
) -> Result<Output, Vec<Diagnostic>> {
    let format = if png { Format::Png } else { Format::Svg };
    if rates.iter().any(|r| !(r.is_finite() && *r > 0.0)) {
        return Err(file_error(
            codes::VALUE_RANGE,
            "`--lr` takes positive learning rates".into(),
            "e.g. `--lr 0.01,0.1,1`",
        ));
    }
    let checked = context.check()?;
    let mut sweeps: Vec<Sweep> = checked.minimizations.iter().map(|plan| sweep_minimization(plan, rates)).collect();
    for plan in &checked.jobs {
        let seeds = seeds.map(parse_seeds).unwrap_or_else(|| vec![plan.job.train.seed]);
        if seeds.is_empty() {
            return Err(file_error(
                codes::VALUE_RANGE,
                "`--seeds` names no seed".into(),
                "e.g. `--seeds 0..9` or `--seeds 1,4,7`",
            ));
        }
        sweeps
            .push(sweep_job(plan, rates, &seeds).map_err(|message| {
                vec![Diagnostic::error(codes::INTERNAL, message, plan.job.span, "this training")]
            })?);
    }
    let mut text = String::new();
    for result in &sweeps {
        let path = out.join(format!("{}-sweep.{}", result.model, format.extension()));
        let bytes = nnc_plot::render(&plot(result), format)
            .map_err(|e| file_error(codes::WRITE_FAILED, format!("cannot draw the sweep: {e}"), "report this bug"))?;
        write(&path, &bytes)?;
        text.push_str(&render(result));
        text.push_str(&format!("wrote {}\n", path.display()));
    }
    Ok(Output::new(text, json!({ "sweeps": sweeps })))
}
