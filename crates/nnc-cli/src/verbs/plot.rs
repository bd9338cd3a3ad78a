//! `nnc plot`: train, then write the figures that apply.

use super::{Context, write};
use crate::output::Output;
use nnc_diagnostics::{Diagnostic, codes};
use nnc_inspect::plots::{Figure, job_figures, minimization_figures};
use nnc_plot::Format;
use serde_json::json;
use std::path::Path;

pub fn plot(context: &Context, out: &Path, png: bool) -> Result<Output, Vec<Diagnostic>> {
    let format = if png { Format::Png } else { Format::Svg };
    let checked = context.check()?;
    let run = nnc_driver::run_checked(&checked, &context.base_dir, context.overrides, 0.0)?;
    let mut figures: Vec<Figure> = Vec::new();
    for (plan, report) in checked.minimizations.iter().zip(&run.minimizations) {
        figures.extend(minimization_figures(plan, &report.trajectory));
    }
    for (plan, report) in checked.jobs.iter().zip(&run.jobs) {
        // The path on the loss surface needs the parameters after every epoch: train again,
        // recording them, for the models that have such a plot (one weight and one bias).
        let history = if nnc_inspect::names::is_scalar_model(&plan.job.model) {
            let options = nnc_driver::CodegenOptions::default();
            let compiled = nnc_driver::compile_job(plan, nnc_driver::Functions::Run, options).map_err(|d| vec![d])?;
            nnc_driver::train_recorded(plan, &compiled)?.history
        } else {
            Vec::new()
        };
        figures.extend(job_figures(plan, report, &history));
    }
    let mut text = String::new();
    let mut files = Vec::new();
    for figure in figures {
        let path = out.join(format!("{}.{}", figure.name, format.extension()));
        let bytes = nnc_plot::render(&figure.plot, format).map_err(|e| {
            super::file_error(codes::WRITE_FAILED, format!("cannot draw `{}`: {e}", figure.name), "report this bug")
        })?;
        write(&path, &bytes)?;
        text.push_str(&format!("wrote {}: {}\n", path.display(), figure.plot.title));
        files.push(json!({ "file": path.display().to_string(), "title": figure.plot.title, "plot": figure.plot }));
    }
    Ok(Output::new(text, json!({ "figures": files })))
}
