//! The pipeline, stage by stage: what `nnc run`, `nnc check` and `nnc ir` do, as functions
//! the golden tests call too.

use crate::metrics::{self, Scores};
use nnc_diagnostics::{Diagnostic, Span};
use nnc_lower::{Checked, Job, Minimization};
use nnc_runtime::{Dataset, Graphs, Prepared, Task, TrainSettings};
use nnc_syntax::ast::Program;
use std::path::Path;
use std::time::Instant;

/// A compiler stage that `nnc ir --stage` can print.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Stage {
    /// The parsed syntax tree.
    Ast,
    /// The lowered forward graph.
    Ir,
    /// Forward, backward and update: the training step before passes.
    Grad,
    /// The training step and evaluation graph after the passes.
    Opt,
    /// The Cranelift IR of each compiled function.
    Clif,
}

impl Stage {
    pub const ALL: [Stage; 5] = [Stage::Ast, Stage::Ir, Stage::Grad, Stage::Opt, Stage::Clif];

    pub fn name(self) -> &'static str {
        match self {
            Stage::Ast => "ast",
            Stage::Ir => "ir",
            Stage::Grad => "grad",
            Stage::Opt => "opt",
            Stage::Clif => "clif",
        }
    }
}

/// Command-line overrides of a program's training settings.
#[derive(Clone, Copy, Debug, Default)]
pub struct Overrides {
    pub epochs: Option<u64>,
    pub seed: Option<u64>,
}

/// Parses and checks a program.
pub fn check(source: &str) -> Result<(Program, Checked), Vec<Diagnostic>> {
    let program = nnc_syntax::parse(source)?;
    let checked = nnc_lower::check(&program)?;
    Ok((program, checked))
}

/// What `nnc check` does: parse and check, then read each job's data and check the
/// model's widths against it (for files, widths are known only once read). Compiles
/// and trains nothing.
pub fn check_with_data(source: &str, base_dir: &Path) -> Result<Checked, Vec<Diagnostic>> {
    let (_, checked) = check(source)?;
    let mut errors = Vec::new();
    for job in &checked.jobs {
        let loaded = nnc_runtime::prepare(&job.data, base_dir, job.model.output_width(), job.train.seed);
        match loaded.and_then(|prepared| check_loaded_widths(job, &prepared)) {
            Ok(()) => {}
            Err(found) => errors.extend(found),
        }
    }
    if errors.is_empty() { Ok(checked) } else { Err(errors) }
}

/// The text of one stage for every `train` block of the program. Data files are read
/// relative to `base_dir` (stages after `ast` depend on the number of rows).
pub fn stage_text(source: &str, base_dir: &Path, stage: Stage) -> Result<String, Vec<Diagnostic>> {
    let (program, checked) = check(source)?;
    if stage == Stage::Ast {
        return Ok(nnc_syntax::print_program(&program));
    }
    let mut out = String::new();
    for minimization in &checked.minimizations {
        let graphs = nnc_runtime::descent_graphs(minimization);
        match stage {
            Stage::Ast => {}
            Stage::Ir => out.push_str(&nnc_ir::print_graph(&graphs.objective)),
            Stage::Grad => out.push_str(&nnc_ir::print_graph(&graphs.step)),
            Stage::Opt => out.push_str(&nnc_ir::print_graph(&graphs.step_opt)),
            Stage::Clif => {
                let compiled =
                    nnc_codegen::compile(&[&graphs.step_opt]).map_err(|e| vec![internal(e, minimization.span)])?;
                out.push_str(&compiled.kernels[0].clif);
                out.push('\n');
            }
        }
    }
    for job in &checked.jobs {
        let (_, graphs) = prepare_job(job, base_dir, job.train.seed)?;
        match stage {
            Stage::Ast => {}
            Stage::Ir => out.push_str(&nnc_ir::print_graph(&graphs.forward)),
            Stage::Grad => out.push_str(&nnc_ir::print_graph(&graphs.step)),
            Stage::Opt => {
                for graph in graphs.compiled() {
                    out.push_str(&nnc_ir::print_graph(graph));
                }
            }
            Stage::Clif => {
                let compiled = nnc_codegen::compile(&graphs.compiled()).map_err(|e| vec![internal(e, job.span)])?;
                for kernel in &compiled.kernels {
                    out.push_str(&kernel.clif);
                    out.push('\n');
                }
            }
        }
    }
    Ok(out)
}

fn internal(error: impl std::fmt::Display, span: Span) -> Diagnostic {
    Diagnostic::error("E0900", format!("internal compiler error: {error}"), span, "while compiling this")
        .with_help("this is a bug in nnc; please report it with the program")
}

/// Loads the job's data and builds its graphs, checking the model against the data.
fn prepare_job(job: &Job, base_dir: &Path, seed: u64) -> Result<(Prepared, Graphs), Vec<Diagnostic>> {
    let prepared = nnc_runtime::prepare(&job.data, base_dir, job.model.output_width(), seed)?;
    check_loaded_widths(job, &prepared)?;
    let splits: Vec<(&str, usize)> = prepared.splits().iter().map(|(name, d)| (*name, d.rows)).collect();
    let graphs = nnc_runtime::build(job, prepared.train.rows, &splits);
    Ok((prepared, graphs))
}

/// Widths of file data are known only once it is read (one-hot columns, windows).
fn check_loaded_widths(job: &Job, prepared: &Prepared) -> Result<(), Vec<Diagnostic>> {
    let data = &prepared.train;
    let mut errors = Vec::new();
    let listed = |names: &[String]| {
        let shown: Vec<&str> = names.iter().take(8).map(String::as_str).collect();
        let more = names.len().saturating_sub(8);
        if more > 0 { format!("{} and {more} more", shown.join(", ")) } else { shown.join(", ") }
    };
    if data.n_inputs() != job.model.input_width {
        errors.push(
            Diagnostic::error(
                "E0301",
                format!(
                    "model `{}` takes {} inputs but data `{}` gives {} input columns",
                    job.model.name,
                    job.model.input_width,
                    job.data.name.name,
                    data.n_inputs()
                ),
                job.model.input_span,
                format!("the model takes {} inputs", job.model.input_width),
            )
            .with_secondary(job.data.name.span, format!("{} input columns", data.n_inputs()))
            .with_note(format!("input columns: {}", listed(&data.input_names)))
            .with_help(format!("write `input {}`", data.n_inputs())),
        );
    }
    if data.n_targets() != job.model.output_width() {
        let last = job.model.layers.last().map_or(job.model.input_span, |l| l.span);
        errors.push(
            Diagnostic::error(
                "E0302",
                format!(
                    "model `{}` outputs {} values but data `{}` has {} targets",
                    job.model.name,
                    job.model.output_width(),
                    job.data.name.name,
                    data.n_targets()
                ),
                last,
                format!("the last layer has {} units", job.model.output_width()),
            )
            .with_secondary(job.data.name.span, format!("{} targets", data.n_targets()))
            .with_note(format!("targets: {}", listed(&data.target_names)))
            .with_help(format!("make the last layer `dense {}`", data.n_targets())),
        );
    }
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

/// Wall-clock time of each phase, in milliseconds.
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct Timings {
    pub parse: f64,
    pub compile: f64,
    pub train: f64,
}

/// One split's rows, predictions and scores.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SplitReport {
    pub name: String,
    pub rows: usize,
    /// Rows per class, for classification.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class_counts: Option<Vec<usize>>,
    pub loss: f32,
    pub scores: Scores,
    /// In the targets' original units.
    pub targets: Vec<Vec<f32>>,
    pub predictions: Vec<Vec<f32>>,
    #[serde(skip)]
    pub inputs: Vec<Vec<f32>>,
    /// Each hidden layer's activations per row, by layer name.
    #[serde(skip)]
    pub hidden: Vec<(String, Vec<Vec<f32>>)>,
}

/// A parameter's name, shape and row-major values.
pub type NamedTensor = (String, Vec<usize>, Vec<f32>);

/// The result of one `train` block.
#[derive(Clone, Debug, serde::Serialize)]
pub struct JobReport {
    pub model: String,
    pub data: String,
    pub loss: String,
    pub epochs: u64,
    pub batch: usize,
    pub seed: u64,
    pub learning_rate: f32,
    /// Training-split loss after training.
    pub final_loss: f32,
    pub epoch_losses: Vec<f32>,
    pub val_losses: Vec<f32>,
    /// `(stopped after epoch, best epoch)` when early stopping ended training.
    pub early_stop: Option<(u64, u64)>,
    pub task: String,
    pub classes: Vec<String>,
    pub input_names: Vec<String>,
    pub target_names: Vec<String>,
    pub splits: Vec<SplitReport>,
    pub preprocessing: Vec<String>,
    /// Mean absolute error of "next = last" per split, for time-series windows.
    pub naive_mae: Option<Vec<(String, f32)>>,
    /// Trained parameters by name, as nested arrays, when there are few enough.
    pub parameters: Option<Vec<NamedTensor>>,
    /// Where `save_layer` wrote its file.
    pub saved: Option<String>,
    pub timings: Timings,
}

impl JobReport {
    /// The split results are judged on: test if there is one, else training.
    pub fn primary(&self) -> &SplitReport {
        self.splits.iter().find(|s| s.name == "test").unwrap_or(&self.splits[0])
    }
}

/// Everything one `nnc run` produced, in program order by kind.
#[derive(Clone, Debug, Default)]
pub struct RunReport {
    pub minimizations: Vec<MinimizeReport>,
    pub jobs: Vec<JobReport>,
}

/// The trajectory of one `minimize` block.
#[derive(Clone, Debug)]
pub struct MinimizeReport {
    pub name: String,
    pub formula: String,
    pub param_names: Vec<String>,
    pub learning_rate: f32,
    pub steps: u64,
    pub trajectory: Vec<nnc_runtime::Point>,
    pub timings: Timings,
}

/// Parses, checks, compiles and runs every `minimize` and `train` block. Data files and
/// outputs are relative to `base_dir`.
pub fn run(source: &str, base_dir: &Path, overrides: Overrides) -> Result<RunReport, Vec<Diagnostic>> {
    let started = Instant::now();
    let program = nnc_syntax::parse(source)?;
    let parse_ms = elapsed_ms(started);
    let checked = nnc_lower::check(&program)?;
    if checked.jobs.is_empty() && checked.minimizations.is_empty() {
        let whole = Span::new(0, source.len().min(1));
        return Err(vec![
            Diagnostic::error(
                "E0407",
                "nothing to run: the program has no `train` or `minimize` block",
                whole,
                "in this file",
            )
            .with_help("add `train MODEL on DATA { loss mse; epochs 100 }`"),
        ]);
    }
    let mut report = RunReport::default();
    for minimization in &checked.minimizations {
        let mut minimized = run_minimization(minimization)?;
        minimized.timings.parse = parse_ms;
        report.minimizations.push(minimized);
    }
    for job in &checked.jobs {
        let mut trained = run_job(job, base_dir, overrides)?;
        trained.timings.parse = parse_ms;
        report.jobs.push(trained);
    }
    Ok(report)
}

fn run_minimization(minimization: &Minimization) -> Result<MinimizeReport, Vec<Diagnostic>> {
    let started = Instant::now();
    let graphs = nnc_runtime::descent_graphs(minimization);
    let compiled = nnc_codegen::compile(&[&graphs.step_opt]).map_err(|e| vec![internal(e, minimization.span)])?;
    let compile_ms = elapsed_ms(started);
    let started = Instant::now();
    let trajectory = nnc_runtime::descend(minimization, &graphs, &compiled);
    Ok(MinimizeReport {
        name: minimization.name.clone(),
        formula: minimization.formula.clone(),
        param_names: minimization.params.iter().map(|(name, _)| name.clone()).collect(),
        learning_rate: minimization.learning_rate,
        steps: minimization.steps,
        trajectory,
        timings: Timings { parse: 0.0, compile: compile_ms, train: elapsed_ms(started) },
    })
}

fn run_job(job: &Job, base_dir: &Path, overrides: Overrides) -> Result<JobReport, Vec<Diagnostic>> {
    let started = Instant::now();
    let seed = overrides.seed.unwrap_or(job.train.seed);
    let (prepared, graphs) = prepare_job(job, base_dir, seed)?;
    let compiled = nnc_codegen::compile(&graphs.compiled()).map_err(|e| vec![internal(e, job.span)])?;
    let compile_ms = elapsed_ms(started);
    let started = Instant::now();
    let epochs = overrides.epochs.unwrap_or(job.train.epochs);
    if job.train.patience.is_some() && prepared.validation.is_none() {
        return Err(vec![
            Diagnostic::error(
                "E0417",
                "early stopping needs a validation split",
                job.train.span,
                "uses `early_stopping`",
            )
            .with_secondary(job.data.name.span, "this data has no validation split")
            .with_help("give the data three fractions, e.g. `split 0.7 0.15 0.15`"),
        ]);
    }
    let settings = TrainSettings {
        epochs,
        optimizer: &job.train.optimizer,
        learning_rate: job.train.learning_rate,
        schedule: job.train.schedule,
        patience: job.train.patience,
        seed,
    };
    let initial = nnc_runtime::initial_params(&job.model, seed);
    let training =
        nnc_runtime::train(&graphs, &compiled, &prepared.train, prepared.validation.as_ref(), initial, &settings)
            .map_err(|d| vec![diverged(job, &d)])?;
    let splits: Vec<SplitReport> = prepared
        .splits()
        .iter()
        .enumerate()
        .map(|(index, (name, data))| {
            let outputs = nnc_runtime::evaluate(&graphs, &compiled, index, data, &training.params);
            split_report(name, data, &prepared, outputs)
        })
        .collect();
    let saved = match &job.train.save_layer {
        Some((layer, path)) => Some(save_layer(job, base_dir, layer, path, &splits)?),
        None => None,
    };
    let train_ms = elapsed_ms(started);
    let parameters = parameters(&graphs, &training.params);
    Ok(JobReport {
        model: job.model.name.clone(),
        data: job.data.name.name.clone(),
        loss: job.train.loss.name().to_string(),
        epochs,
        batch: graphs.batch,
        seed,
        learning_rate: job.train.learning_rate,
        final_loss: splits[0].loss,
        epoch_losses: training.epoch_losses,
        val_losses: training.val_losses,
        early_stop: training.early_stop,
        task: task_name(&prepared.task).to_string(),
        classes: class_names(&prepared),
        input_names: prepared.train.input_names.clone(),
        target_names: prepared.train.target_names.clone(),
        splits,
        preprocessing: prepared.preprocessing.clone(),
        naive_mae: prepared.naive_mae.clone(),
        parameters,
        saved,
        timings: Timings { parse: 0.0, compile: compile_ms, train: train_ms },
    })
}

fn task_name(task: &Task) -> &'static str {
    match task {
        Task::Regression => "regression",
        Task::Binary => "binary classification",
        Task::Classes(_) => "classification",
    }
}

fn class_names(prepared: &Prepared) -> Vec<String> {
    match (&prepared.task, &prepared.binary_classes) {
        (Task::Classes(classes), _) => classes.clone(),
        (Task::Binary, Some(pair)) => pair.to_vec(),
        (Task::Binary, None) => vec!["0".to_string(), "1".to_string()],
        (Task::Regression, _) => Vec::new(),
    }
}

fn split_report(name: &str, data: &Dataset, prepared: &Prepared, outputs: Vec<(String, Vec<f32>)>) -> SplitReport {
    let rows_of = |flat: &[f32]| -> Vec<Vec<f32>> {
        let width = (flat.len() / data.rows.max(1)).max(1);
        flat.chunks(width).map(<[f32]>::to_vec).collect()
    };
    let unscale = |rows: Vec<Vec<f32>>| -> Vec<Vec<f32>> {
        rows.into_iter()
            .map(|row| row.iter().zip(&prepared.target_scale).map(|(v, (offset, scale))| v * scale + offset).collect())
            .collect()
    };
    let (mut predictions, mut loss, mut hidden) = (Vec::new(), f32::NAN, Vec::new());
    for (output, values) in outputs {
        match output.as_str() {
            "prediction" => predictions = rows_of(&values),
            "loss" => loss = values[0],
            _ => hidden.push((output, rows_of(&values))),
        }
    }
    let (predictions, targets) = match prepared.task {
        Task::Regression => (unscale(predictions), unscale(rows_of(&data.targets))),
        Task::Binary | Task::Classes(_) => (predictions, rows_of(&data.targets)),
    };
    let scores = metrics::score(&prepared.task, &predictions, &targets);
    let class_counts = scores.confusion.as_ref().map(|m| m.iter().map(|row| row.iter().sum()).collect());
    SplitReport {
        name: name.to_string(),
        rows: data.rows,
        class_counts,
        loss,
        scores,
        targets,
        predictions,
        inputs: rows_of(&data.inputs),
        hidden,
    }
}

/// Every forward parameter with its shape, when all of them hold at most 10,000 numbers.
fn parameters(graphs: &Graphs, params: &[Vec<f32>]) -> Option<Vec<NamedTensor>> {
    let decls = &graphs.forward.params;
    let total: usize = decls.iter().map(|d| d.shape.numel()).sum();
    (total <= 10_000)
        .then(|| decls.iter().zip(params).map(|(d, v)| (d.name.clone(), d.shape.dims().to_vec(), v.clone())).collect())
}

/// Writes one layer's activations for every row of every split to a CSV file, through a
/// temporary file so an interrupted run never leaves half a file.
fn save_layer(
    job: &Job,
    base_dir: &Path,
    layer: &str,
    path: &str,
    splits: &[SplitReport],
) -> Result<String, Vec<Diagnostic>> {
    let target = base_dir.join(path);
    let fail = |err: String| {
        vec![
            Diagnostic::error("E0418", format!("cannot write `{path}`"), job.train.span, "in `save_layer`")
                .with_note(err),
        ]
    };
    let is_last = job.model.layers.last().is_some_and(|l| l.name == layer);
    let mut rows: Vec<Vec<String>> = Vec::new();
    for split in splits {
        let values = if is_last {
            Some(&split.predictions)
        } else {
            split.hidden.iter().find(|(n, _)| n == layer).map(|(_, v)| v)
        };
        for (index, row) in values.into_iter().flatten().enumerate() {
            let mut record = vec![split.name.clone(), index.to_string()];
            record.extend(row.iter().map(|v| v.to_string()));
            rows.push(record);
        }
    }
    let width = rows.first().map_or(0, |r| r.len() - 2);
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent).map_err(|e| fail(e.to_string()))?;
    }
    let temporary = target.with_extension("csv.partial");
    let mut writer = csv::Writer::from_path(&temporary).map_err(|e| fail(e.to_string()))?;
    let header: Vec<String> = ["split".to_string(), "row".to_string()]
        .into_iter()
        .chain((0..width).map(|i| format!("{layer}_{i}")))
        .collect();
    writer.write_record(&header).map_err(|e| fail(e.to_string()))?;
    for record in &rows {
        writer.write_record(record).map_err(|e| fail(e.to_string()))?;
    }
    writer.flush().map_err(|e| fail(e.to_string()))?;
    drop(writer);
    std::fs::rename(&temporary, &target).map_err(|e| fail(e.to_string()))?;
    Ok(target.display().to_string())
}

fn diverged(job: &Job, diverged: &nnc_runtime::Diverged) -> Diagnostic {
    Diagnostic::error(
        "E0408",
        format!("training diverged in epoch {}: the loss became {}", diverged.epoch + 1, diverged.loss),
        job.span,
        "while training this",
    )
    .with_note(format!("learning rate {}", job.train.learning_rate))
    .with_help("lower the learning rate (a step too large overshoots the minimum and grows each epoch)")
}

fn elapsed_ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}
