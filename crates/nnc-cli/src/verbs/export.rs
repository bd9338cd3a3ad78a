//! `nnc export`: ONNX for inference, or a PyTorch project for training elsewhere.

use super::{Context, file_error, read_weights, write};
use crate::output::Output;
use nnc_diagnostics::{Diagnostic, codes};
use serde_json::json;
use std::path::Path;

pub fn export(
    context: &Context,
    weights_path: Option<&Path>,
    onnx: Option<&Path>,
    pytorch: Option<&Path>,
) -> Result<Output, Vec<Diagnostic>> {
    let mut text = String::new();
    let mut written = Vec::new();
    if let Some(path) = onnx {
        let weights_path = weights_path.ok_or_else(|| {
            file_error(
                codes::WEIGHTS_UNREADABLE,
                "`--onnx` exports trained weights: give `--weights`".into(),
                "train with `nnc run --save PATH` first",
            )
        })?;
        let weights = read_weights(weights_path)?;
        let jobs = nnc_driver::predict::jobs_of(context.source, context.overrides.memory_limit)?;
        let name = weights_path.display().to_string();
        let (job, params) = nnc_driver::predict::job_for(&jobs, &weights, &name).map_err(|d| vec![d])?;
        let model = nnc_export::onnx::export(&job, &weights, &params);
        write(path, &model.bytes)?;
        text.push_str(&format!(
            "wrote {} (ONNX opset 13): input `features` [N, {}] = {}; output `output` [N, {}] = {}\n",
            path.display(),
            model.input_columns.len(),
            model.input_columns.join(", "),
            model.output_columns.len(),
            model.output_columns.join(", ")
        ));
        written.push(json!({ "onnx": path.display().to_string(), "inputs": model.input_columns, "outputs": model.output_columns }));
    }
    if let Some(dir) = pytorch {
        let mut checked = context.check()?;
        let Some(plan) = checked.jobs.first_mut() else {
            return Err(file_error(
                codes::NOTHING_TO_RUN,
                "the program has no `train` block to export".into(),
                "export a program that trains a model",
            ));
        };
        if let Some(path) = weights_path {
            let weights = read_weights(path)?;
            plan.start_from(&weights, &path.display().to_string()).map_err(|d| vec![d])?;
        }
        let (data_file, bytes, data) = project_data(context, plan)?;
        let initial = plan.start_params(plan.job.train.seed);
        let files = nnc_export::pytorch::project(&plan.job, &data, &initial, &data_file).map_err(|e| {
            file_error(
                codes::CONFLICTING_SETTINGS,
                format!("cannot export `{}`: {e}", plan.job.model.name),
                "export a model trained on a CSV file",
            )
        })?;
        write(&dir.join(&data_file), &bytes)?;
        for file in &files {
            write(&dir.join(&file.name), file.text.as_bytes())?;
        }
        text.push_str(&format!(
            "wrote a PyTorch project to {}: {}, {data_file}; run `python train.py` there\n",
            dir.display(),
            files.iter().map(|f| f.name.as_str()).collect::<Vec<_>>().join(", ")
        ));
        written.push(
            json!({ "pytorch": dir.display().to_string(), "files": files.iter().map(|f| &f.name).collect::<Vec<_>>() }),
        );
    }
    if written.is_empty() {
        return Err(file_error(
            codes::VALUE_FORM,
            "say what to export: `--onnx PATH` or `--pytorch DIR`".into(),
            "e.g. `nnc export model.nn --weights w.safetensors --onnx model.onnx`",
        ));
    }
    Ok(Output::new(text, json!({ "exported": written })))
}

/// The data file a PyTorch project reads (`data/NAME.csv`), its bytes, and the prepared data
/// whose row lines refer to it: a CSV file as it is, an inline table written out as CSV.
fn project_data(
    context: &Context,
    plan: &nnc_driver::JobPlan,
) -> Result<(String, Vec<u8>, nnc_data::Prepared), Vec<Diagnostic>> {
    match &plan.job.data.source {
        nnc_data::Source::Csv(csv) => {
            let name = Path::new(&csv.path).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let bytes = std::fs::read(context.base_dir.join(&csv.path)).map_err(|e| {
                file_error(
                    codes::UNREADABLE_FILE,
                    format!("cannot read `{}`: {e}", csv.path),
                    "the data file the program names",
                )
            })?;
            Ok((format!("data/{name}"), bytes, plan.data.clone()))
        }
        nnc_data::Source::Table(table) => {
            let mut data = plan.data.clone();
            // Row i of the table is line i + 2 of the file (after the header).
            data.train.lines = (2..table.rows as u64 + 2).collect();
            Ok((format!("data/{}.csv", plan.job.data.name.name), table_csv(table).into_bytes(), data))
        }
        nnc_data::Source::Images(images) => {
            // The folder's pixels and classes as one CSV file; image `i` was row `i + 1` of
            // the folder's table and is line `i + 2` of the file (after the header).
            let bytes = nnc_data::image_folder_csv(images, &context.base_dir).map_err(|d| vec![d])?;
            let mut data = plan.data.clone();
            for part in [Some(&mut data.train), data.validation.as_mut(), data.test.as_mut()].into_iter().flatten() {
                part.lines.iter_mut().for_each(|line| *line += 1);
            }
            Ok((format!("data/{}.csv", plan.job.data.name.name), bytes, data))
        }
    }
}

/// An inline table as CSV: its column names, then its rows (numbers written so they read
/// back exactly).
fn table_csv(table: &nnc_data::TableSpec) -> String {
    let names = table.inputs.iter().chain(&table.targets).map(|n| n.name.as_str());
    let mut text = names.collect::<Vec<_>>().join(",") + "\n";
    for row in table.row_values() {
        let cells: Vec<String> = row.iter().map(f32::to_string).collect();
        text.push_str(&cells.join(","));
        text.push('\n');
    }
    text
}
