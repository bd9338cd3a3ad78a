//! `nnc run`: check, compile, train, evaluate; the report with its diagnosis; `--save`
//! writes the trained weights, `--load` starts from saved ones.

use super::{Context, read_weights, write};
use crate::output::Output;
use crate::progress::Display;
use crate::report;
use nnc_diagnostics::Diagnostic;
use nnc_driver::{Checked, RunReport, Watch};
use nnc_inspect::diagnosis::{Finding, diagnose};
use std::path::{Path, PathBuf};
use std::time::Instant;

pub fn run(context: &Context, save: Option<&Path>, load: Option<&Path>) -> Result<Output, Vec<Diagnostic>> {
    let started = Instant::now();
    let mut checked = context.check()?;
    if let Some(path) = save {
        super::check_writable(path)?;
    }
    if let Some(path) = load {
        start_from(&mut checked, path)?;
    }
    let check_ms = started.elapsed().as_secs_f64() * 1000.0;
    let display = Display::new(context.quiet, context.log_every);
    let listener = |progress: &nnc_driver::Progress| display.epoch(progress);
    let watch = Watch {
        interrupt: Some(crate::interrupt::flag()),
        progress: display.listens().then_some(&listener as &dyn Fn(&nnc_driver::Progress)),
        pace: display.pace(),
        with_params: false,
        descent: None,
    };
    let run = nnc_driver::run_watched(&checked, &context.base_dir, context.overrides, check_ms, &watch);
    display.finish();
    let run = run?;
    let findings: Vec<Vec<Finding>> =
        checked.jobs.iter().zip(&run.jobs).map(|(plan, job)| diagnose(plan, job)).collect();
    let saved = match save {
        Some(path) => save_all(context, &checked, &run, path)?,
        None => Vec::new(),
    };
    let mut text = report::human_all(&run, &findings);
    // The JSON holds every prediction of the primary split: for a million rows it is
    // hundreds of megabytes as `Value`s, which text output has no use for.
    let mut json = if context.json { report::json(&run, &findings) } else { serde_json::Value::Null };
    for path in &saved {
        text.push_str(&format!("saved weights to {}\n", path.display()));
    }
    if !saved.is_empty() && context.json {
        json["saved_weights"] = saved.iter().map(|p| p.display().to_string()).collect();
    }
    let mut output = Output::new(text, json);
    if run.interrupted() {
        output.exit = crate::interrupt::EXIT_CODE;
    }
    Ok(output)
}

/// Every training starts from the weights in `path`, checked against its model.
fn start_from(checked: &mut Checked, path: &Path) -> Result<(), Vec<Diagnostic>> {
    let weights = read_weights(path)?;
    let name = path.display().to_string();
    for plan in &mut checked.jobs {
        plan.start_from(&weights, &name).map_err(|d| vec![d])?;
    }
    Ok(())
}

/// Writes each trained model's weights: to `path`, or `path` with the model's name
/// before the extension when the program trains several.
fn save_all(
    context: &Context,
    checked: &Checked,
    run: &RunReport,
    path: &Path,
) -> Result<Vec<PathBuf>, Vec<Diagnostic>> {
    let mut written = Vec::new();
    for (plan, report) in checked.jobs.iter().zip(&run.jobs) {
        let target = if checked.jobs.len() == 1 {
            path.to_path_buf()
        } else {
            let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            path.with_file_name(format!("{stem}-{}.safetensors", plan.job.model.name))
        };
        let bytes = nnc_driver::weights::encode(plan, context.source, &report.parameters)
            .map_err(|e| super::file_error(nnc_diagnostics::codes::WRITE_FAILED, e, "report this bug"))?;
        write(&target, &bytes)?;
        written.push(target);
    }
    Ok(written)
}
