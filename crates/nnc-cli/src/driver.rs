//! The pipeline, stage by stage: what `nnc run`, `nnc check` and `nnc ir` do, as functions
//! the golden tests call too.

use nnc_diagnostics::{Diagnostic, Span};
use nnc_lower::Job;
use nnc_runtime::{Dataset, Graphs};
use nnc_syntax::ast::Program;
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
pub fn check(source: &str) -> Result<(Program, Vec<Job>), Vec<Diagnostic>> {
    let program = nnc_syntax::parse(source)?;
    let jobs = nnc_lower::check(&program)?;
    Ok((program, jobs))
}

/// The text of one stage for every `train` block of the program.
pub fn stage_text(source: &str, stage: Stage) -> Result<String, Vec<Diagnostic>> {
    let (program, jobs) = check(source)?;
    if stage == Stage::Ast {
        return Ok(nnc_syntax::print_program(&program));
    }
    let mut out = String::new();
    for job in &jobs {
        let data = nnc_runtime::load(&job.data);
        let graphs = nnc_runtime::build(job, data.rows);
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

/// Wall-clock time of each phase, in milliseconds.
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct Timings {
    pub parse: f64,
    pub compile: f64,
    pub train: f64,
}

/// The result of one `train` block.
#[derive(Clone, Debug, serde::Serialize)]
pub struct JobReport {
    pub model: String,
    pub data: String,
    pub epochs: u64,
    pub batch: usize,
    pub seed: u64,
    pub learning_rate: f32,
    /// Loss over all rows after training.
    pub final_loss: f32,
    /// Mean training loss per epoch.
    pub epoch_losses: Vec<f32>,
    pub metrics: Metrics,
    pub input_names: Vec<String>,
    pub target_names: Vec<String>,
    pub inputs: Vec<Vec<f32>>,
    pub targets: Vec<Vec<f32>>,
    pub predictions: Vec<Vec<f32>>,
    /// Each hidden layer's activations per row, by layer name.
    pub hidden: Vec<(String, Vec<Vec<f32>>)>,
    pub timings: Timings,
}

#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Metrics {
    /// Share of rows whose rounded prediction equals the target (0/1 targets only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accuracy: Option<f64>,
}

/// Parses, checks, compiles, trains and evaluates every `train` block.
pub fn run(source: &str, overrides: Overrides) -> Result<Vec<JobReport>, Vec<Diagnostic>> {
    let started = Instant::now();
    let program = nnc_syntax::parse(source)?;
    let parse_ms = elapsed_ms(started);
    let jobs = nnc_lower::check(&program)?;
    if jobs.is_empty() {
        let whole = Span::new(0, source.len().min(1));
        return Err(vec![
            Diagnostic::error("E0407", "nothing to run: the program has no `train` block", whole, "in this file")
                .with_help("add `train MODEL on DATA { loss mse; epochs 100 }`"),
        ]);
    }
    let mut reports = Vec::new();
    for job in &jobs {
        let mut report = run_job(job, overrides)?;
        report.timings.parse = parse_ms;
        reports.push(report);
    }
    Ok(reports)
}

fn run_job(job: &Job, overrides: Overrides) -> Result<JobReport, Vec<Diagnostic>> {
    let started = Instant::now();
    let data = nnc_runtime::load(&job.data);
    let graphs = nnc_runtime::build(job, data.rows);
    let compiled = nnc_codegen::compile(&graphs.compiled()).map_err(|e| vec![internal(e, job.span)])?;
    let compile_ms = elapsed_ms(started);
    let started = Instant::now();
    let epochs = overrides.epochs.unwrap_or(job.train.epochs);
    let seed = overrides.seed.unwrap_or(job.train.seed);
    let initial = nnc_runtime::initial_params(&job.model, seed);
    let training = nnc_runtime::train(
        &graphs,
        &compiled,
        &data,
        initial,
        epochs,
        (&job.train.optimizer, job.train.learning_rate),
        seed,
    )
    .map_err(|d| vec![diverged(job, &d)])?;
    let outputs = nnc_runtime::evaluate(&graphs, &compiled, &data, &training.params);
    let train_ms = elapsed_ms(started);
    Ok(report(
        job,
        &graphs,
        &data,
        outputs,
        training.epoch_losses,
        epochs,
        seed,
        Timings { parse: 0.0, compile: compile_ms, train: train_ms },
    ))
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

#[allow(clippy::too_many_arguments)]
fn report(
    job: &Job,
    graphs: &Graphs,
    data: &Dataset,
    outputs: Vec<(String, Vec<f32>)>,
    epoch_losses: Vec<f32>,
    epochs: u64,
    seed: u64,
    timings: Timings,
) -> JobReport {
    let rows_of = |flat: &[f32]| -> Vec<Vec<f32>> {
        let width = flat.len() / data.rows.max(1);
        flat.chunks(width.max(1)).map(<[f32]>::to_vec).collect()
    };
    let mut predictions = Vec::new();
    let mut final_loss = f32::NAN;
    let mut hidden = Vec::new();
    for (name, values) in outputs {
        match name.as_str() {
            "prediction" => predictions = rows_of(&values),
            "loss" => final_loss = values[0],
            _ => hidden.push((name, rows_of(&values))),
        }
    }
    let targets = rows_of(&data.targets);
    JobReport {
        model: job.model.name.clone(),
        data: job.data.name.name.clone(),
        epochs,
        batch: graphs.batch,
        seed,
        learning_rate: job.train.learning_rate,
        final_loss,
        epoch_losses,
        metrics: Metrics { accuracy: accuracy(&predictions, &targets) },
        input_names: data.input_names.clone(),
        target_names: data.target_names.clone(),
        inputs: rows_of(&data.inputs),
        targets,
        predictions,
        hidden,
        timings,
    }
}

/// Accuracy with a 0.5 threshold, when every target is 0 or 1.
fn accuracy(predictions: &[Vec<f32>], targets: &[Vec<f32>]) -> Option<f64> {
    let binary = targets.iter().flatten().all(|&t| t == 0.0 || t == 1.0);
    if !binary || targets.is_empty() {
        return None;
    }
    let correct = predictions
        .iter()
        .zip(targets)
        .filter(|(p, t)| p.iter().zip(t.iter()).all(|(&p, &t)| (p >= 0.5) == (t == 1.0)))
        .count();
    Some(correct as f64 / targets.len() as f64)
}

fn elapsed_ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}
