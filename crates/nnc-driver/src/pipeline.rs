//! The one path every command takes: source → syntax tree → checked jobs with settings
//! resolved once → data loaded and checked against each model → graphs by role. Whatever
//! can fail before training fails here, so `nnc check` reports exactly what `nnc run`
//! would, short of training itself (divergence) and writing outputs.

use crate::agree::check_model_fits_data;
use crate::graphs::{DescentGraphs, Graphs, build, descent_graphs};
use crate::memory::check_memory;
use nnc_check::Job;
use nnc_codegen::LoopShape;
use nnc_data::{LoadOptions, Prepared};
use nnc_diagnostics::{Diagnostic, Span, codes};
use nnc_kernels::Program;
use nnc_lower::Minimization;
use nnc_runtime::Role;
use std::path::Path;
use std::time::Instant;

/// Command-line overrides of a program's training settings, and limits of the machine.
#[derive(Clone, Copy, Debug, Default)]
pub struct Overrides {
    pub epochs: Option<u64>,
    pub seed: Option<u64>,
    pub learning_rate: Option<f32>,
    /// Rows per training step instead of the program's `batch` (at most the training rows).
    pub batch: Option<usize>,
    /// Bytes a run may allocate; the machine's available memory when `None`.
    pub memory_limit: Option<u64>,
    /// Time every kernel of the training run.
    pub profile: bool,
    /// The report will be printed as JSON, which holds every prediction of the primary
    /// split: its memory is counted before training (`memory::check_memory`).
    pub json_report: bool,
}

/// One `train` block: its settings (overrides applied), its data, its graphs.
pub struct JobPlan {
    pub job: Job,
    pub data: Prepared,
    /// Rows per training step, resolved against the training rows.
    pub batch: usize,
    pub graphs: Graphs,
    /// Every compiled graph as kernels, by role.
    pub programs: Vec<(Role, Program)>,
    /// The training loop's rows, batch and widths.
    pub shape: LoopShape,
    /// Milliseconds spent reading and preparing the data.
    pub load_ms: f64,
    /// Parameters to start from instead of the initialisers (`--load`), set with
    /// [`JobPlan::start_from`].
    pub initial: Option<Vec<Vec<f32>>>,
    /// What the command line caps memory at (`--max-memory`), for later checks.
    pub memory_limit: Option<u64>,
}

/// One `minimize` block, its graphs and kernels.
pub struct MinimizePlan {
    pub minimization: Minimization,
    pub graphs: DescentGraphs,
    pub programs: Vec<(Role, Program)>,
}

impl JobPlan {
    /// The forward parameters training starts from: the loaded ones, or the initialisers'
    /// draws for `seed`.
    pub fn start_params(&self, seed: u64) -> Vec<Vec<f32>> {
        match &self.initial {
            Some(params) => params.clone(),
            None => crate::init::initial_params(&self.job.model, seed),
        }
    }

    /// Starts training (and everything that reads the initial parameters) from the
    /// weights in `file`, after checking that they fit the model.
    pub fn start_from(&mut self, weights: &crate::weights::Weights, file: &str) -> Result<(), Diagnostic> {
        self.initial = Some(crate::weights::params_for(self, weights, file)?);
        Ok(())
    }

    pub fn program(&self, role: &Role) -> Option<&Program> {
        self.programs.iter().find(|(r, _)| r == role).map(|(_, p)| p)
    }
}

/// A program checked as far as it can be without training.
pub struct Checked {
    pub minimizations: Vec<MinimizePlan>,
    pub jobs: Vec<JobPlan>,
    pub parse_ms: f64,
}

/// Parses, checks, loads each job's data, checks each model against its data and builds
/// every graph; reports every independent error found.
pub fn check(source: &str, base_dir: &Path, overrides: Overrides) -> Result<Checked, Vec<Diagnostic>> {
    let started = Instant::now();
    crate::memory::check_source(source.len(), overrides.memory_limit).map_err(|d| vec![d])?;
    let program = nnc_syntax::parse(source)?;
    let parse_ms = elapsed_ms(started);
    let checked = nnc_check::check(&program)?;
    // The syntax tree holds a copy of every inline table: free it before the data is made.
    drop(program);
    if checked.jobs.is_empty() && checked.minimizations.is_empty() {
        return Err(vec![nothing_to_run(source)]);
    }
    let minimizations = checked
        .minimizations
        .into_iter()
        .map(|block| {
            let minimization = nnc_lower::lower_minimization(&block);
            let graphs = descent_graphs(&minimization);
            MinimizePlan { programs: graphs.lower(), graphs, minimization }
        })
        .collect();
    let mut jobs = Vec::new();
    let mut errors = Vec::new();
    for mut job in checked.jobs {
        resolve(&mut job, overrides);
        match plan_job(job, base_dir, overrides) {
            Ok(plan) => jobs.push(plan),
            Err(found) => errors.extend(found),
        }
    }
    if errors.is_empty() { Ok(Checked { minimizations, jobs, parse_ms }) } else { Err(errors) }
}

/// Applies the command line to the program's settings, once: everything after reads the
/// job's own settings.
fn resolve(job: &mut Job, overrides: Overrides) {
    job.train.epochs = overrides.epochs.unwrap_or(job.train.epochs);
    job.train.seed = overrides.seed.unwrap_or(job.train.seed);
    job.train.learning_rate = overrides.learning_rate.unwrap_or(job.train.learning_rate);
    job.train.batch = overrides.batch.or(job.train.batch);
}

fn plan_job(mut job: Job, base_dir: &Path, overrides: Overrides) -> Result<JobPlan, Vec<Diagnostic>> {
    let memory_limit = overrides.memory_limit;
    let started = Instant::now();
    let room = crate::limits::budget(memory_limit).room();
    // A metric loss's outputs are an embedding, not one per class: its classes are one-hot
    // even when there are two.
    let output_width = if job.train.loss.metric().is_some() { 0 } else { job.model.output_width().unwrap_or(0) };
    let options = LoadOptions { output_width, seed: job.train.seed, room };
    let mut data = nnc_data::load(&job.data, base_dir, options)?;
    let load_ms = elapsed_ms(started);
    check_model_fits_data(&mut job, &mut data)?;
    let rows = data.train.rows;
    let batch = job.train.batch.unwrap_or(rows).clamp(1, rows.max(1));
    let splits: Vec<(&'static str, usize)> = data.splits().iter().map(|(name, d)| (*name, d.rows)).collect();
    let graphs = build(&job, batch, rows, &splits);
    let programs = graphs.lower();
    let seeded = programs.iter().any(|(_, p)| p.buffers.iter().any(|b| b.name == "seed"));
    let shape = LoopShape { rows, batch, x_width: data.train.n_inputs(), y_width: data.train.n_targets(), seeded };
    let plan = JobPlan { job, data, batch, graphs, programs, shape, load_ms, initial: None, memory_limit };
    check_memory(&plan, memory_limit, overrides.json_report).map_err(|d| vec![d])?;
    Ok(plan)
}

fn nothing_to_run(source: &str) -> Diagnostic {
    Diagnostic::error(
        codes::NOTHING_TO_RUN,
        "nothing to run: the program has no `train` or `minimize` block",
        Span::new(0, source.len().min(1)),
        "in this file",
    )
    .with_help("add `train MODEL on DATA { loss mse; epochs 100 }`")
}

pub(crate) fn elapsed_ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}
