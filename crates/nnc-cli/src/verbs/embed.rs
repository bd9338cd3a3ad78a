//! `nnc embed`: a layer's activations for new rows, as CSV. The file is read, encoded,
//! embedded and written a part at a time, so a file of any length takes the memory of a
//! few parts.

use super::parts::PartWriter;
use super::{Context, encode_rows_in_parts, saved_model};
use crate::output::Output;
use nnc_diagnostics::Diagnostic;
use nnc_driver::embed::Embedder;
use serde_json::json;
use std::fmt::Write as _;
use std::path::Path;

pub fn embed(
    context: &Context,
    weights_path: &Path,
    layer: Option<&str>,
    input: &Path,
    out: Option<&Path>,
) -> Result<Output, Vec<Diagnostic>> {
    let model = saved_model(context, weights_path)?;
    let mut embedder = Embedder::new(&model.job, &model.params, layer).map_err(|d| vec![d])?;
    let mut writer = PartWriter::open(context, out, model.job.span, "rows")?;
    let identity = super::identity_column(&model.weights.metadata.preprocessing);
    let width = embedder.width;
    // What JSON lists, only when it is asked for.
    let (mut lines, mut identities, mut embeddings) = (Vec::new(), None::<Vec<String>>, Vec::new());
    // A row's line as text, reused (a `String` a row is a million allocations).
    let mut line = String::new();
    let mut take = |encoded: nnc_data::Encoded| {
        let mut header = vec!["line".to_string()];
        header.extend(encoded.identities.as_ref().map(|_| identity.clone()));
        header.extend((0..width).map(|i| format!("{}_{i}", embedder.layer)));
        if !writer.start_part(&header, encoded.rows, header.len())? {
            return Ok(false);
        }
        writer.note_left_out(&encoded);
        let values = embedder.embed(&encoded.inputs)?;
        for (row, numbers) in values.chunks(width.max(1)).enumerate() {
            line.clear();
            let _ = write!(line, "{}", encoded.lines[row]);
            let texts: &[&str] = match &encoded.identities {
                Some(identities) => &[&line, &identities[row]],
                None => &[&line],
            };
            if !writer.write_row(texts, numbers)? {
                return Ok(false);
            }
        }
        if context.json {
            lines.extend_from_slice(&encoded.lines);
            if let Some(part) = encoded.identities {
                identities.get_or_insert_with(Vec::new).extend(part);
            }
            embeddings.extend(values.chunks(width.max(1)).map(<[f32]>::to_vec));
        }
        Ok(true)
    };
    let encoded = encode_rows_in_parts(context, &model, (input, true), &mut take);
    encoded.map_err(|diagnostics| writer.said_what_was_written(diagnostics))?;
    let written = writer.finish()?;
    let layer = embedder.layer;
    let text = match out {
        Some(path) if !written.interrupted => format!(
            "wrote the {width}-number embeddings of `{layer}` for {} rows to {}\n",
            written.rows,
            path.display()
        ),
        // Written as they were made, or not at all.
        _ => String::new(),
    };
    let json = json!({
        "model": model.job.model.name,
        "layer": layer,
        "width": width,
        "lines": lines,
        "identities": identities,
        "embeddings": embeddings,
        "skipped": written.skipped,
        "interrupted": written.interrupted,
    });
    Ok(Output { text, json, exit: written.exit() })
}
