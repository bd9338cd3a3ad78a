//! `nnc predict`: saved weights on new rows, as CSV.

use super::{Context, read_weights, write};
use crate::output::Output;
use nnc_diagnostics::Diagnostic;
use nnc_driver::predict::{images_of, job_for, jobs_of, missing_of, predict as predict_rows};
use serde_json::json;
use std::path::Path;

pub fn predict(
    context: &Context,
    weights_path: &Path,
    input: &Path,
    out: Option<&Path>,
) -> Result<Output, Vec<Diagnostic>> {
    let jobs = jobs_of(context.source, context.overrides.memory_limit)?;
    let weights = read_weights(weights_path)?;
    let (job, params) = job_for(&jobs, &weights, &weights_path.display().to_string()).map_err(|d| vec![d])?;
    let room = nnc_driver::limits::budget(context.overrides.memory_limit).room();
    let preprocessing = &weights.metadata.preprocessing;
    let encoded = nnc_data::encode_file(input, preprocessing, missing_of(&job), images_of(&job), job.data.span, &room)
        .map_err(|d| vec![d])?;
    let predictions = predict_rows(&job, &params, &weights, &encoded).map_err(|d| vec![d])?;
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut rows = std::iter::once(&predictions.columns).chain(&predictions.rows);
    let written: Result<(), csv::Error> = rows.try_for_each(|row| writer.write_record(row));
    let csv_text = written
        .ok()
        .and_then(|()| writer.into_inner().ok())
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default();
    // Rows left out or predicted with a caveat are told on standard error, by line.
    if !context.json {
        for (line, reason) in &encoded.skipped {
            crate::output::stderr(&format!("note: line {line} of `{}` left out: {reason}\n", input.display()));
        }
        for (line, note) in &encoded.notes {
            crate::output::stderr(&format!("note: line {line} of `{}`: {note}\n", input.display()));
        }
    }
    let text = match out {
        Some(path) => {
            write(path, csv_text.as_bytes())?;
            format!("wrote {} predictions to {}\n", predictions.rows.len(), path.display())
        }
        None => csv_text,
    };
    let json = json!({
        "model": job.model.name,
        "columns": predictions.columns,
        "rows": predictions.rows,
        "skipped": encoded.skipped.iter().map(|(line, why)| json!({ "line": line, "reason": why })).collect::<Vec<_>>(),
        "notes": encoded.notes.iter().map(|(line, what)| json!({ "line": line, "note": what })).collect::<Vec<_>>(),
    });
    Ok(Output::new(text, json))
}
