//! `nnc predict`: saved weights on new rows, as CSV. The file is read, encoded, predicted
//! and written a part at a time, so a file of any length takes the memory of a few parts.

use super::parts::PartWriter;
use super::{Context, encode_rows_in_parts, saved_model};
use crate::output::Output;
use nnc_diagnostics::Diagnostic;
use nnc_driver::predict::Predictor;
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::path::Path;

pub fn predict(
    context: &Context,
    weights_path: &Path,
    input: &Path,
    out: Option<&Path>,
) -> Result<Output, Vec<Diagnostic>> {
    let model = saved_model(context, weights_path)?;
    let mut writer = PartWriter::open(context, out, model.job.span, "predictions")?;
    let mut predictor = Predictor::new(&model.job, &model.params, &model.weights);
    // The rows as JSON values only when JSON is asked for: they take several times the text.
    let mut rows: Vec<Value> = Vec::new();
    // A row's line as text, reused (a `String` a row is a million allocations).
    let mut line = String::new();
    let mut take = |encoded: nnc_data::Encoded| {
        if !writer.start_part(&predictor.columns, encoded.rows, predictor.columns.len())? {
            return Ok(false);
        }
        writer.note_left_out(&encoded);
        let predictions = predictor.predict(&encoded)?;
        for row in 0..predictions.len() {
            line.clear();
            let _ = write!(line, "{}", predictions.line(row));
            let texts: &[&str] = match predictions.label(row) {
                Some(label) => &[&line, label],
                None => &[&line],
            };
            if !writer.write_row(texts, predictions.numbers(row))? {
                return Ok(false);
            }
            if context.json {
                rows.push(json!(predictions.row(row)));
            }
        }
        Ok(true)
    };
    let encoded = encode_rows_in_parts(context, &model, (input, false), &mut take);
    encoded.map_err(|diagnostics| writer.said_what_was_written(diagnostics))?;
    let written = writer.finish()?;
    let text = match out {
        Some(path) if !written.interrupted => format!("wrote {} predictions to {}\n", written.rows, path.display()),
        // Written as they were made, or not at all.
        _ => String::new(),
    };
    let json = json!({
        "model": model.job.model.name,
        "columns": predictor.columns,
        "rows": rows,
        "skipped": written.skipped,
        "notes": written.notes,
        "interrupted": written.interrupted,
    });
    Ok(Output { text, json, exit: written.exit() })
}
