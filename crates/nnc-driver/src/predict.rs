//! Using saved weights without the training data: the program's jobs checked alone, new
//! rows encoded with the saved preprocessing, the compiled forward pass over them, and
//! predictions in the targets' own terms (class names and probabilities, or values in the
//! targets' units).

use crate::stages::internal;
use crate::weights::Weights;
use nnc_check::Job;
use nnc_data::{Encoded, Missing, Source, TargetEncoding};
use nnc_diagnostics::{Diagnostic, Span, codes};

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

/// Rows of a file encoded and predicted at a time: as many as the planner lets an
/// evaluation hold, at most 65,536, and those in at most 8 MiB of the file; so predicting
/// takes the memory of a few parts, whatever the length of the file.
pub fn part_size(job: &Job) -> nnc_data::PartSize {
    nnc_data::PartSize { rows: crate::graphs::part_rows(job, 1 << 16), bytes: 8 << 20 }
}

/// Predictions of a part of a file: one per encoded row, kept as numbers, from which each
/// row's text is made when it is written (a million rows' cells are never all held as
/// text).
pub struct Predictions<'p> {
    /// The part's lines, as it was encoded.
    lines: &'p [u64],
    /// Probabilities or values as numbers (what the text shows), `width` a row.
    pub values: Vec<f32>,
    width: usize,
    kind: &'p Kind,
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

impl<'p> Predictions<'p> {
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

    /// Row `row`'s line in the file.
    pub fn line(&self, row: usize) -> u64 {
        self.lines.get(row).copied().unwrap_or(0)
    }

    /// What row `row` is predicted to be, before its numbers: the likeliest class, or the
    /// 0/1 a binary value rounds to (none for values and embeddings).
    pub fn label(&self, row: usize) -> Option<&'p str> {
        let numbers = self.numbers(row);
        let class = |classes: &'p [String], index: usize| Some(classes.get(index).map_or("", String::as_str));
        match self.kind {
            Kind::Embedding | Kind::Values { binary: false } => None,
            Kind::Binary(classes) => class(classes, usize::from(numbers.first().is_some_and(|&p| p >= 0.5))),
            Kind::Classes(classes) => {
                let best =
                    numbers.iter().enumerate().fold((0, f32::MIN), |b, (i, &p)| if p > b.1 { (i, p) } else { b });
                class(classes, best.0)
            }
            Kind::Values { binary: true } => Some(if numbers.first().is_some_and(|&v| v >= 0.5) { "1" } else { "0" }),
        }
    }

    /// Row `row` as text: its line, then what the predictor's `columns` name.
    pub fn row(&self, row: usize) -> Vec<String> {
        let mut cells = vec![self.line(row).to_string()];
        cells.extend(self.label(row).map(str::to_string));
        cells.extend(self.numbers(row).iter().map(f32::to_string));
        cells
    }
}

/// A saved model's predictions in its targets' terms, a part of a file at a time: the
/// forward pass is compiled once, for as many rows as the first part has (at most what
/// the planner gives an evaluation call), and run over every part.
pub struct Predictor<'m> {
    /// The output's column names: `line`, then the prediction's.
    pub columns: Vec<String>,
    kind: Kind,
    width: usize,
    /// `(offset, scale)` per output, from the model's numbers to the targets' units.
    scale: Option<Vec<(f32, f32)>>,
    forward: Forward<'m>,
}

impl<'m> Predictor<'m> {
    pub fn new(job: &'m Job, params: &'m [Vec<f32>], weights: &Weights) -> Predictor<'m> {
        let width = output_width(job).max(1);
        let metadata = &weights.metadata;
        let mut columns = vec!["line".to_string()];
        let mut scale = None;
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
                scale = Some(metadata.preprocessing.target_scale(width));
                Kind::Values { binary }
            }
        };
        let forward = Forward::new(job, params, "prediction", width);
        Predictor { columns, kind, width, scale, forward }
    }

    /// The predictions of `encoded`'s rows.
    pub fn predict<'a>(&'a mut self, encoded: &'a Encoded) -> Result<Predictions<'a>, Diagnostic> {
        let mut values = Vec::new();
        self.forward.run(&encoded.inputs, &mut values)?;
        if let Some(scale) = &self.scale {
            for row in values.chunks_mut(self.width) {
                for (v, (offset, s)) in row.iter_mut().zip(scale) {
                    *v = *v * s + offset;
                }
            }
        }
        Ok(Predictions { lines: &encoded.lines, values, width: self.width, kind: &self.kind })
    }
}

/// One output of the evaluation forward pass: the graph's other outputs are dropped
/// before the passes, so dead code elimination stops the pass at the layer. It is
/// compiled at its first rows, for as many as the planner gives an evaluation call (at
/// most those rows), and runs over any number of rows after, that many at a time.
pub struct Forward<'p> {
    job: &'p Job,
    params: &'p [Vec<f32>],
    output: String,
    width_out: usize,
    compiled: Option<CompiledForward<'p>>,
}

impl<'p> Forward<'p> {
    pub fn new(job: &'p Job, params: &'p [Vec<f32>], output: &str, width_out: usize) -> Forward<'p> {
        Forward { job, params, output: output.to_string(), width_out, compiled: None }
    }

    /// Appends the output of every row of `inputs` to `results`, or says that they do
    /// not fit in memory.
    pub fn run(&mut self, inputs: &[f32], results: &mut Vec<f32>) -> Result<(), Diagnostic> {
        if inputs.is_empty() {
            return Ok(());
        }
        let compiled = match &mut self.compiled {
            Some(compiled) => compiled,
            empty => {
                let width_in = self.job.model.input.size().max(1);
                let batch = crate::graphs::eval_chunk(self.job, inputs.len() / width_in);
                empty.insert(CompiledForward::compile(self.job, self.params, &self.output, self.width_out, batch)?)
            }
        };
        compiled.run(inputs, results)
    }
}

/// [`Forward`] compiled for `batch` rows a call.
struct CompiledForward<'p> {
    compiled: nnc_codegen::Compiled,
    params: Vec<&'p [f32]>,
    /// The job's, for diagnostics.
    span: Span,
    batch: usize,
    width_in: usize,
    width_out: usize,
    /// One call's rows, the last call's padded with zero rows whose outputs are dropped.
    inputs: Vec<f32>,
    /// The targets are an input of the graph the loss would read; nothing reads them here.
    targets: Vec<f32>,
    outputs: Vec<Vec<f32>>,
    scratch: Vec<f32>,
}

impl<'p> CompiledForward<'p> {
    fn compile(
        job: &Job,
        params: &'p [Vec<f32>],
        output: &str,
        width_out: usize,
        batch: usize,
    ) -> Result<CompiledForward<'p>, Diagnostic> {
        let batch = batch.max(1);
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
        let compiled =
            nnc_codegen::compile(&[unit], nnc_codegen::Options::default()).map_err(|e| internal(e, job.span))?;
        let kernel = compiled.kernel("predict").ok_or_else(|| internal("no compiled forward pass", job.span))?;
        let buffer = |len: usize| zeros(len, batch, job.span);
        let outputs = kernel.outputs().map(|(_, len)| buffer(len)).collect::<Result<_, _>>()?;
        let scratch = buffer(kernel.arena_len())?;
        let width_in = (input_lens.first().copied().unwrap_or(0) / batch).max(1);
        Ok(CompiledForward {
            params: params.iter().map(Vec::as_slice).collect(),
            span: job.span,
            batch,
            width_in,
            width_out,
            inputs: buffer(batch * width_in)?,
            targets: buffer(input_lens.get(1).copied().unwrap_or(0))?,
            outputs,
            scratch,
            compiled,
        })
    }

    /// Appends the output of every row of `inputs` (`width_in` numbers a row) to
    /// `results`, or says that they do not fit in memory.
    pub fn run(&mut self, inputs: &[f32], results: &mut Vec<f32>) -> Result<(), Diagnostic> {
        let rows = inputs.len() / self.width_in;
        reserve_outputs(results, rows, self.width_out, self.span)?;
        let kernel = self.compiled.kernel("predict").ok_or_else(|| internal("no compiled forward pass", self.span))?;
        for chunk in inputs.chunks(self.batch * self.width_in) {
            self.inputs[..chunk.len()].copy_from_slice(chunk);
            self.inputs[chunk.len()..].fill(0.0);
            let frame_inputs: [&[f32]; 2] = [&self.inputs, &self.targets];
            kernel.call(nnc_codegen::Frame {
                inputs: &frame_inputs,
                params: nnc_codegen::Params::Read(&self.params),
                outputs: &mut self.outputs,
                scratch: &mut self.scratch,
            });
            let produced = self.outputs.first().map_or(&[][..], Vec::as_slice);
            results.extend_from_slice(&produced[..chunk.len() / self.width_in * self.width_out]);
        }
        Ok(())
    }
}

/// `len` zeros, one of the buffers of a forward pass over `batch` rows, allocated
/// fallibly: a batch's inputs and activations are tens of megabytes for a wide one-hot
/// input, and a failed allocation under `ulimit -v` would abort the process.
fn zeros(len: usize, batch: usize, span: Span) -> Result<Vec<f32>, Diagnostic> {
    crate::memory::zeros(len).ok_or_else(|| {
        Diagnostic::error(
            codes::TOO_LARGE,
            format!(
                "a forward pass over {batch} rows needs a buffer of {}, which could not be allocated",
                crate::limits::size((len as u64).saturating_mul(4))
            ),
            span,
            "this job",
        )
        .with_help("use a process with more memory, or `NNC_EVAL_ROWS` for fewer rows a pass")
    })
}

/// Room for `rows × width` more outputs in `results`, reserved fallibly: a failed
/// allocation under `ulimit -v` would abort the process.
fn reserve_outputs(results: &mut Vec<f32>, rows: usize, width: usize, span: Span) -> Result<(), Diagnostic> {
    let len = rows.saturating_mul(width);
    results.try_reserve(len).map_err(|_| {
        Diagnostic::error(
            codes::TOO_LARGE,
            format!(
                "the outputs of {rows} rows of {width} numbers need {} MiB of memory, which could not be allocated",
                len.saturating_mul(4) >> 20
            ),
            span,
            "this job",
        )
        .with_help("use fewer rows, or a process with more memory")
    })
}

/// The outputs per row of a settled model (`job_for` settles it).
fn output_width(job: &Job) -> usize {
    job.model.output_width().expect("internal error: predicting with a model whose shapes are not settled")
}
