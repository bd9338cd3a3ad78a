//! `nnc predict`: saved weights on new rows, as CSV.

use super::{Context, csv_text, encode_rows, saved_model, write};
use crate::output::Output;
use nnc_diagnostics::Diagnostic;
use nnc_driver::predict::predict as predict_rows;
use serde_json::json;
use std::path::Path;

pub fn predict(
    context: &Context,
    weights_path: &Path,
    input: &Path,
    out: Option<&Path>,
) -> Result<Output, Vec<Diagnostic>> {
    let model = saved_model(context, weights_path)?;
    let encoded = encode_rows(context, &model, input, false)?;
    let predictions = predict_rows(&model.job, &model.params, &model.weights, &encoded).map_err(|d| vec![d])?;
    // Each row's text is made as it is written: a million predictions are never all held
    // as cells.
    let csv_text = csv_text(std::iter::once(predictions.columns.clone()).chain(predictions.rows()));
    let text = match out {
        Some(path) => {
            write(path, csv_text.as_bytes())?;
            format!("wrote {} predictions to {}\n", predictions.len(), path.display())
        }
        None => csv_text,
    };
    // The rows as JSON values only when JSON is asked for: they take several times the text.
    let rows = if context.json { json!(predictions.rows().collect::<Vec<_>>()) } else { serde_json::Value::Null };
    let json = json!({
        "model": model.job.model.name,
        "columns": predictions.columns,
        "rows": rows,
        "skipped": encoded.skipped.iter().map(|(line, why)| json!({ "line": line, "reason": why })).collect::<Vec<_>>(),
        "notes": encoded.notes.iter().map(|(line, what)| json!({ "line": line, "note": what })).collect::<Vec<_>>(),
    });
    Ok(Output::new(text, json))
}
