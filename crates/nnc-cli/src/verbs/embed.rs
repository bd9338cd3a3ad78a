//! `nnc embed`: a layer's activations for new rows, as CSV.

use super::{Context, csv_text, encode_rows, saved_model, write};
use crate::output::Output;
use nnc_diagnostics::Diagnostic;
use serde_json::json;
use std::path::Path;

pub fn embed(
    context: &Context,
    weights_path: &Path,
    layer: Option<&str>,
    input: &Path,
    out: Option<&Path>,
) -> Result<Output, Vec<Diagnostic>> {
    let model = saved_model(context, weights_path)?;
    let encoded = encode_rows(context, &model, input, true)?;
    let (layer, embeddings) = nnc_driver::embed::embed(&model.job, &model.params, &encoded.inputs, encoded.rows, layer)
        .map_err(|d| vec![d])?;
    let identity = super::identity_column(&model.weights.metadata.preprocessing);
    let mut header = vec!["line".to_string()];
    header.extend(encoded.identities.as_ref().map(|_| identity.clone()));
    header.extend((0..embeddings.width).map(|i| format!("{layer}_{i}")));
    let rows = embeddings.values.chunks(embeddings.width.max(1)).enumerate().map(|(i, row)| {
        let mut cells = vec![encoded.lines[i].to_string()];
        cells.extend(encoded.identities.as_ref().map(|ids| ids[i].clone()));
        cells.extend(row.iter().map(f32::to_string));
        cells
    });
    let csv_text = csv_text(std::iter::once(header).chain(rows));
    let text = match out {
        Some(path) => {
            write(path, csv_text.as_bytes())?;
            format!(
                "wrote the {}-number embeddings of `{layer}` for {} rows to {}\n",
                embeddings.width,
                encoded.rows,
                path.display()
            )
        }
        None => csv_text,
    };
    let json = json!({
        "model": model.job.model.name,
        "layer": layer,
        "width": embeddings.width,
        "lines": encoded.lines,
        "identities": encoded.identities,
        "embeddings": embeddings.values.chunks(embeddings.width.max(1)).collect::<Vec<_>>(),
        "skipped": encoded.skipped.iter().map(|(line, why)| json!({ "line": line, "reason": why })).collect::<Vec<_>>(),
    });
    Ok(Output::new(text, json))
}
