//! Using saved weights without the training data: the program's jobs checked alone, new
//! rows encoded with the saved preprocessing, the compiled forward pass over them, and
//! predictions in the targets' own terms (class names and probabilities, or values in the
//! targets' units).

use crate::stages::internal;
use crate::weights::Weights;
use nnc_check::Job;
use nnc_data::{Encoded, Missing, Source, TargetEncoding};
use nnc_diagnostics::{Diagnostic, codes};

/// The program's `train` blocks, checked without reading any data.
pub fn jobs_of(source: &str, memory_limit: Option<u64>) -> Result<Vec<Job>, Vec<Diagnostic>> {
    crate::memory::check_source(source.len(), memory_limit).map_err(|d| vec![d])?;
    let program = nnc_syntax::parse(source)?;
    Ok(nnc_check::check(&program)?.jobs)
}

/// A saved model: the program's job the weights were trained by, its parameters, and the
/// weight file.
pub struct SavedModel {
    pub job: Job,
    pub params: Vec<Vec<f32>>,
    pub weights: Weights,
}

/// The job the weights were saved from (by model name), with its parameters. A model with
/// `input auto` takes the width the weights were trained with (no data is read here).
pub fn job_for(jobs: &[Job], weights: &Weights, file: &str) -> Result<(Job, Vec<Vec<f32>>), Diagnostic> {
    let job = jobs.iter().find(|j| j.model.name == weights.metadata.model).ok_or_else(|| {
        let models: Vec<&str> = jobs.iter().map(|j| j.model.name.as_str()).collect();
        Diagnostic::error(
            codes::WEIGHTS_MISMATCH,
            format!("`{file}` holds model `{}`, which this program does not train", weights.metadata.model),
            jobs.first().map_or_else(Default::default, |j| j.span),
            "this program",
        )
        .with_note(format!("the program trains: {}", models.join(", ")))
    })?;
    let mut job = job.clone();
    let width = weights.metadata.input_names.len();
    crate::agree::settle_model(&mut job.model, &weights.metadata.preprocessing, width).map_err(|mut errors| {
        errors.remove(0).with_note(format!("`{file}` was saved from a model of {width} input columns"))
    })?;
    if let (nnc_check::Loss::Metric(mut metric), TargetEncoding::Classes { classes, .. }) =
        (job.train.loss, &weights.metadata.preprocessing.target)
    {
        metric.classes = classes.len();
        job.train.loss = nnc_check::Loss::Metric(metric);
    }
    let forward = nnc_lower::lower_forward(&job.model, job.train.loss, None, 1, nnc_lower::Mode::Eval).graph;
    let mut params = Vec::new();
    for decl in &forward.params {
        let found = weights.tensors.iter().find(|(name, _, _)| name == &decl.name);
        match found {
            Some((_, shape, values)) if shape.as_slice() == decl.shape.dims() => params.push(values.clone()),
            Some((_, shape, _)) => {
                return Err(Diagnostic::error(
                    codes::WEIGHTS_MISMATCH,
                    format!(
                        "tensor `{}` of `{file}` is {shape:?}, the program's is {:?}",
                        decl.name,
                        decl.shape.dims()
                    ),
                    job.model.input_span,
                    "this model",
                )
                .with_help("predict with the program the weights were trained with"));
            }
            None => {
                return Err(Diagnostic::error(
                    codes::WEIGHTS_MISMATCH,
                    format!("`{file}` has no tensor `{}`", decl.name),
                    job.model.input_span,
                    "this model",
                ));
            }
        }
    }
    Ok((job, params))
}

/// The data setting for missing cells of a job's data (inline tables have none).
pub fn missing_of(job: &Job) -> Missing {
    match &job.data.source {
        Source::Csv(csv) => csv.missing,
        Source::Table(_) | Source::Images(_) => Missing::Error,
    }
}

/// The image folder settings of a job trained on images: new folders are read alike.
pub fn images_of(job: &Job) -> Option<&nnc_data::ImageSpec> {
    match &job.data.source {
        Source::Images(images) => Some(images),
        Source::Csv(_) | Source::Table(_) => None,
    }
}

/// One prediction per encoded row: the column names, and each row's numbers, from which
/// its text is made when it is written (a million rows' cells are never all held as text).
pub struct Predictions {
    pub columns: Vec<String>,
    lines: Vec<u64>,
    /// Probabilities or values as numbers (what the text shows), `width` a row.
    pub values: Vec<f32>,
    width: usize,
    kind: Kind,
}

/// How a row's numbers read as text.
enum Kind {
    /// A metric loss's embedding: the numbers.
    Embedding,
    /// The probability of the second class: the class, then the probability.
    Binary(Vec<String>),
    /// One probability per class: the likeliest class, then the probabilities.
    Classes(Vec<String>),
    /// Values in the targets' units; with `binary`, first the 0/1 they round to.
    Values { binary: bool },
}

impl Predictions {
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Row `row`'s numbers.
    pub fn numbers(&self, row: usize) -> &[f32] {
        self.values.get(row * self.width..(row + 1) * self.width).unwrap_or_default()
    }

    /// Row `row` as text: its line, then what `columns` names.
    pub fn row(&self, row: usize) -> Vec<String> {
        let numbers = self.numbers(row);
        let number = |v: &f32| format!("{v}");
        let mut cells = vec![self.lines[row].to_string()];
        match &self.kind {
            Kind::Embedding => {}
            Kind::Binary(classes) => {
                cells.push(classes[usize::from(numbers.first().is_some_and(|&p| p >= 0.5))].clone())
            }
            Kind::Classes(classes) => {
                let best =
                    numbers.iter().enumerate().fold((0, f32::MIN), |b, (i, &p)| if p > b.1 { (i, p) } else { b });
                cells.push(classes.get(best.0).cloned().unwrap_or_default());
            }
            Kind::Values { binary: true } => {
                cells.push(u8::from(numbers.first().is_some_and(|&v| v >= 0.5)).to_string())
            }
            Kind::Values { binary: false } => {}
        }
        cells.extend(numbers.iter().map(number));
        cells
    }

    /// Every row as text, in order.
    pub fn rows(&self) -> impl Iterator<Item = Vec<String>> + '_ {
        (0..self.len()).map(|row| self.row(row))
    }
}

/// Runs the compiled forward pass of `job` over `encoded` and describes the results.
pub fn predict(
    job: &Job,
    params: &[Vec<f32>],
    weights: &Weights,
    encoded: &Encoded,
) -> Result<Predictions, Diagnostic> {
    let mut values = forward(job, params, &encoded.inputs, encoded.rows)?;
    let width = output_width(job).max(1);
    let metadata = &weights.metadata;
    let mut columns = vec!["line".to_string()];
    let kind = match &metadata.preprocessing.target {
        // A metric loss's output is an embedding, not scores of its classes.
        _ if job.train.loss.metric().is_some() => {
            columns.extend((1..=width).map(|i| format!("e{i}")));
            Kind::Embedding
        }
        TargetEncoding::Classes { classes, binary: true, .. } => {
            columns.extend(["predicted".to_string(), format!("p({})", classes[1])]);
            Kind::Binary(classes.clone())
        }
        TargetEncoding::Classes { classes, .. } => {
            columns.push("predicted".to_string());
            columns.extend(classes.iter().map(|c| format!("p({c})")));
            Kind::Classes(classes.clone())
        }
        TargetEncoding::Columns(_) | TargetEncoding::Features => {
            // A 0/1 target given as numbers (an inline table) is a binary task all the same.
            let binary = metadata.task == "binary";
            if binary {
                columns.push("predicted".to_string());
            }
            columns.extend(metadata.target_names.iter().cloned());
            let scale = metadata.preprocessing.target_scale(width);
            for row in values.chunks_mut(width) {
                for (v, (offset, s)) in row.iter_mut().zip(&scale) {
                    *v = *v * s + offset;
                }
            }
            Kind::Values { binary }
        }
    };
    Ok(Predictions { columns, lines: encoded.lines.clone(), values, width, kind })
}

/// Rows per call of the compiled forward pass: new files can be any length, and one graph
/// sized to a whole file would need scratch in proportion to it.
const BATCH_ROWS: usize = 4096;

/// The model's `prediction` output over `rows` rows, by compiled code.
fn forward(job: &Job, params: &[Vec<f32>], inputs: &[f32], rows: usize) -> Result<Vec<f32>, Diagnostic> {
    forward_to(job, params, inputs, rows, "prediction", output_width(job))
}

/// Output `output` (`prediction` or a hidden layer's name, `width` numbers a row) of the
/// evaluation forward pass over `rows` rows: one compiled function that computes only what
/// that output needs (the graph's other outputs are dropped before the passes, so dead
/// code elimination stops the pass at the layer), run in batches of at most `BATCH_ROWS`.
pub fn forward_to(
    job: &Job,
    params: &[Vec<f32>],
    inputs: &[f32],
    rows: usize,
    output: &str,
    width_out: usize,
) -> Result<Vec<f32>, Diagnostic> {
    if rows == 0 {
        return Ok(Vec::new());
    }
    let batch = rows.min(BATCH_ROWS);
    let lowered = nnc_lower::lower_forward(&job.model, job.train.loss, None, batch, nnc_lower::Mode::Eval);
    let mut graph = lowered.graph;
    graph.outputs.retain(|(name, _)| name == output);
    if graph.outputs.is_empty() {
        return Err(internal(format!("the forward pass has no output `{output}`"), job.span));
    }
    let input_lens: Vec<usize> = graph.inputs.iter().map(|decl| decl.shape.numel()).collect();
    let graph = nnc_opt::optimize(&graph);
    let program = crate::graphs::lower(&nnc_runtime::Role::Eval("predict"), &graph);
    let unit = nnc_codegen::Unit::Program { name: "predict", program: &program, hot: false };
    let compiled = nnc_codegen::compile(&[unit], nnc_codegen::Options::default()).map_err(|e| internal(e, job.span))?;
    let kernel = compiled.kernel("predict").ok_or_else(|| internal("no compiled forward pass", job.span))?;
    let mut outputs: Vec<Vec<f32>> = kernel.outputs().map(|(_, len)| vec![0.0; len]).collect();
    let mut scratch = vec![0.0; kernel.arena_len()];
    let width_in = (inputs.len() / rows).max(1);
    // The targets are an input of the graph the loss would read; nothing reads them here.
    let targets = vec![0.0f32; input_lens.get(1).copied().unwrap_or(0)];
    let mut chunk_inputs = vec![0.0f32; batch * width_in];
    let params: Vec<&[f32]> = params.iter().map(Vec::as_slice).collect();
    let mut results = Vec::with_capacity(rows * width_out);
    for chunk in inputs.chunks(batch * width_in) {
        // The last chunk is padded with zero rows whose outputs are dropped.
        chunk_inputs[..chunk.len()].copy_from_slice(chunk);
        chunk_inputs[chunk.len()..].fill(0.0);
        let frame_inputs: [&[f32]; 2] = [&chunk_inputs, &targets];
        kernel.call(nnc_codegen::Frame {
            inputs: &frame_inputs,
            params: nnc_codegen::Params::Read(&params),
            outputs: &mut outputs,
            scratch: &mut scratch,
        });
        let produced = outputs.first().map_or(&[][..], Vec::as_slice);
        results.extend_from_slice(&produced[..chunk.len() / width_in * width_out]);
    }
    Ok(results)
}

/// The outputs per row of a settled model (`job_for` settles it).
fn output_width(job: &Job) -> usize {
    job.model.output_width().expect("internal error: predicting with a model whose shapes are not settled")
}
