//! `nnc run`: the checked program compiled, trained and evaluated, as report data.

use crate::compile::{Functions, compile_job, compile_minimization};
use crate::metrics;
use crate::output::write_atomically;
use crate::pace::{Pace, Pacer};
use crate::pipeline::{Checked, JobPlan, MinimizePlan, Overrides, check, elapsed_ms};
use crate::report::{
    JobReport, KernelProfile, MinimizeReport, NamedTensor, RunReport, SplitReport, Timings, keeps_hidden, sampled_rows,
};
use crate::units::UnitTally;
use nnc_check::Job;
use nnc_codegen::Compiled;
use nnc_data::{Dataset, Prepared, Rows, Task};
use nnc_diagnostics::{Diagnostic, codes};
use nnc_runtime::{DataView, NonFinite, Role, TrainLoop, Training};
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;

/// Checks, compiles and runs every `minimize` and `train` block. Data files and outputs
/// are relative to `base_dir`.
pub fn run(source: &str, base_dir: &Path, overrides: Overrides) -> Result<RunReport, Vec<Diagnostic>> {
    let started = Instant::now();
    let checked = check(source, base_dir, overrides)?;
    run_checked(&checked, base_dir, overrides, elapsed_ms(started))
}

/// Runs a program `check` already accepted (in `check_ms`).
pub fn run_checked(
    checked: &Checked,
    base_dir: &Path,
    overrides: Overrides,
    check_ms: f64,
) -> Result<RunReport, Vec<Diagnostic>> {
    run_watched(checked, base_dir, overrides, check_ms, &Watch::default())
}

/// [`run_checked`], telling `watch` how each training goes.
pub fn run_watched(
    checked: &Checked,
    base_dir: &Path,
    overrides: Overrides,
    check_ms: f64,
    watch: &Watch<'_>,
) -> Result<RunReport, Vec<Diagnostic>> {
    let load_ms: f64 = checked.jobs.iter().map(|plan| plan.load_ms).sum();
    // Checking (without reading data) is part of compiling: source to callable code.
    let front_ms = (check_ms - load_ms - checked.parse_ms).max(0.0);
    let _clear = ClearOnDrop(watch.interrupt);
    let stop_requested = || watch.interrupt.is_some_and(|flag| flag.load(Ordering::Relaxed) != 0);
    let mut report = RunReport::default();
    for plan in &checked.minimizations {
        if stop_requested() {
            report.skipped.push(format!("minimize {}", plan.minimization.name));
            continue;
        }
        let mut minimized = run_minimization(plan, watch)?;
        minimized.timings.parse = checked.parse_ms;
        minimized.timings.add_front(front_ms);
        report.minimizations.push(minimized);
    }
    for plan in &checked.jobs {
        if stop_requested() {
            report.skipped.push(format!("train {} on {}", plan.job.model.name, plan.job.data.name.name));
            continue;
        }
        let mut trained = run_job(plan, base_dir, overrides.profile, watch)?;
        trained.timings.parse = checked.parse_ms;
        trained.timings.add_front(front_ms);
        report.jobs.push(trained);
    }
    Ok(report)
}

/// Clears the interrupt flag when a run ends, however it ends: an interrupt stops the
/// block it lands in and skips the rest of that run, never a later run in the same
/// process.
struct ClearOnDrop<'a>(Option<&'a AtomicU32>);

impl Drop for ClearOnDrop<'_> {
    fn drop(&mut self) {
        if let Some(flag) = self.0 {
            flag.store(0, Ordering::Relaxed);
        }
    }
}

fn run_minimization(plan: &MinimizePlan, watch: &Watch<'_>) -> Result<MinimizeReport, Vec<Diagnostic>> {
    let minimization = &plan.minimization;
    let started = Instant::now();
    let compiled = compile_minimization(plan, nnc_codegen::Options::default()).map_err(|d| vec![d])?;
    let compile_ms = elapsed_ms(started);
    let started = Instant::now();
    let start: Vec<f32> = minimization.params.iter().map(|(_, x)| *x).collect();
    let listener = watch.descent.map(|descent| move |path: &[nnc_runtime::Point]| descent(plan, path));
    let descent = nnc_runtime::descend(
        &compiled,
        &start,
        minimization.learning_rate,
        minimization.steps,
        watch.interrupt,
        listener.as_ref().map(|l| l as nnc_runtime::DescentWatch<'_>),
    );
    Ok(MinimizeReport {
        name: minimization.name.clone(),
        formula: minimization.formula.clone(),
        param_names: minimization.params.iter().map(|(name, _)| name.clone()).collect(),
        learning_rate: minimization.learning_rate,
        steps: minimization.steps,
        trajectory: descent.trajectory,
        interrupted: descent.interrupted,
        timings: Timings {
            compile: compile_ms,
            compile_codegen: compile_ms,
            train: elapsed_ms(started),
            ..Timings::default()
        },
    })
}

fn view(data: &Dataset) -> DataView<'_> {
    DataView { inputs: &data.inputs, targets: &data.targets, rows: data.rows }
}

/// How a caller watches training: an interrupt flag to stop it, and a listener told of
/// epochs (a progress bar) at the pace it asks for.
#[derive(Clone, Copy)]
pub struct Watch<'a> {
    pub interrupt: Option<&'a AtomicU32>,
    pub progress: Option<&'a dyn Fn(&Progress)>,
    pub pace: Pace,
    /// Whether each `Progress` carries a copy of the forward parameters (for live
    /// figures; a progress bar does not need them).
    pub with_params: bool,
    /// Shown each `minimize` block's path so far as it grows.
    pub descent: Option<DescentListener<'a>>,
}

impl Default for Watch<'_> {
    fn default() -> Self {
        Watch { interrupt: None, progress: None, pace: Pace::Every, with_params: false, descent: None }
    }
}

/// Hears a `minimize` block's trajectory so far, each time it gains a point.
pub type DescentListener<'a> = &'a dyn Fn(&MinimizePlan, &[nnc_runtime::Point]);

/// One epoch's news, for a progress display.
#[derive(Clone, Debug)]
pub struct Progress {
    pub model: String,
    /// 1-based.
    pub epoch: u64,
    pub epochs: u64,
    pub steps: u64,
    pub loss: f32,
    pub val_loss: Option<f32>,
    /// The main validation metric: `("accuracy", 0.93)` or `("R²", 0.8)`.
    pub val_metric: Option<(&'static str, f64)>,
    /// The forward parameters after the epoch, when the watch asks for them.
    pub params: Option<Vec<Vec<f32>>>,
    /// The validation rows' predictions after the epoch (encoded, as the compiled
    /// evaluation gives them), when the watch asks for the parameters.
    pub val_predictions: Option<Vec<f32>>,
}

/// Trains `plan`'s model with its compiled code from the program's initial parameters:
/// every epoch, with validation and early stopping as the program says.
pub fn train(plan: &JobPlan, compiled: &Compiled, watch: &Watch<'_>) -> Result<Training, Vec<Diagnostic>> {
    train_config(plan, compiled, &plan.job.train, watch, false)
}

/// [`train`], keeping the forward parameters after every epoch in `Training::history`.
pub fn train_recorded(plan: &JobPlan, compiled: &Compiled) -> Result<Training, Vec<Diagnostic>> {
    train_config(plan, compiled, &plan.job.train, &Watch::default(), true)
}

fn train_config(
    plan: &JobPlan,
    compiled: &Compiled,
    config: &nnc_check::TrainConfig,
    watch: &Watch<'_>,
    record: bool,
) -> Result<Training, Vec<Diagnostic>> {
    let data = &plan.data;
    let rate =
        |epoch: u64, step: u64| config.optimizer.step_rate(config.schedule.rate(config.learning_rate, epoch), step);
    let pacer = Pacer::new(watch.pace);
    let report = |epoch: &nnc_runtime::EpochProgress<'_>| -> u64 {
        let next = pacer.at(epoch.epoch, epoch.epochs);
        if let Some(listener) = watch.progress
            && next.tell
        {
            listener(&progress_of(plan, epoch, watch.with_params));
        }
        next.epoch
    };
    let classes = class_ids(plan);
    let settings = TrainLoop {
        epochs: config.epochs,
        batch: plan.batch,
        patience: config.patience.map(|(p, _)| p),
        shuffle: config.shuffle,
        shuffle_seed: config.seed,
        classes: classes.as_ref().map(|(ids, k)| (ids.as_slice(), *k)),
        rate: &rate,
        interrupt: watch.interrupt,
        record,
        progress: watch.progress.is_some().then_some(&report as &dyn Fn(&nnc_runtime::EpochProgress<'_>) -> u64),
        first_report: pacer.first(config.epochs),
    };
    let initial = plan.start_params(config.seed);
    nnc_runtime::train(compiled, view(&data.train), data.validation.as_ref().map(view), initial, &settings)
        .map_err(|d| vec![diverged(plan, &d)])
}

/// Under `sampler classes`, each training row's class (its one-hot target's index) and
/// the rows per class.
fn class_ids(plan: &JobPlan) -> Option<(Vec<u32>, usize)> {
    let nnc_check::Sampler::Classes { per_class } = plan.job.train.sampler else { return None };
    let train = &plan.data.train;
    let width = train.n_targets().max(1);
    let ids = train.targets.chunks(width).map(|row| metrics::class_of(row) as u32).collect();
    Some((ids, per_class))
}

/// The driver's view of an epoch: the validation metric scored from its predictions.
fn progress_of(plan: &JobPlan, epoch: &nnc_runtime::EpochProgress<'_>, with_params: bool) -> Progress {
    let data = &plan.data;
    let embedding = plan.job.train.loss.metric().is_some();
    let val_metric = epoch.validation.filter(|_| !embedding).and_then(|(_, outputs)| {
        let validation = data.validation.as_ref()?;
        let predictions = outputs.iter().find(|(name, _)| name == "prediction").map(|(_, v)| v)?;
        let width = validation.n_targets();
        let scores = metrics::score(
            &data.task,
            &Rows::new(predictions.clone(), width),
            &Rows::new(validation.targets.clone(), width),
        );
        match data.task {
            nnc_data::Task::Regression => scores.r2.map(|r| ("R²", r)),
            _ => scores.accuracy.map(|a| ("accuracy", a)),
        }
    });
    Progress {
        model: plan.job.model.name.clone(),
        epoch: epoch.epoch,
        epochs: epoch.epochs,
        steps: epoch.steps,
        loss: epoch.loss,
        val_loss: epoch.validation.map(|(loss, _)| loss),
        val_metric,
        params: with_params.then(|| epoch.params.iter().map(|p| p.to_vec()).collect()),
        val_predictions: epoch.validation.filter(|_| with_params).and_then(|(_, outputs)| {
            outputs.iter().find(|(name, _)| name == "prediction").map(|(_, values)| values.clone())
        }),
    }
}

/// The first `steps` steps `train` takes for `plan`: rows and learning rate of each.
pub fn schedule(plan: &JobPlan, steps: u64) -> Vec<nnc_runtime::ScheduledStep> {
    let config = &plan.job.train;
    let rate =
        |epoch: u64, step: u64| config.optimizer.step_rate(config.schedule.rate(config.learning_rate, epoch), step);
    let classes = class_ids(plan);
    let settings = TrainLoop {
        epochs: config.epochs,
        batch: plan.batch,
        patience: None,
        shuffle: config.shuffle,
        shuffle_seed: config.seed,
        classes: classes.as_ref().map(|(ids, k)| (ids.as_slice(), *k)),
        rate: &rate,
        interrupt: None,
        record: false,
        progress: None,
        first_report: 1,
    };
    nnc_runtime::schedule(&settings, plan.data.train.rows, plan.batch, steps)
}

/// Every split of `plan`'s data through the compiled evaluation at `params`: predictions
/// in the targets' units, scores, and the inputs of the first [`sampled_rows`] rows with
/// the hidden activations a report keeps of them ([`keeps_hidden`]).
pub fn evaluate_splits(plan: &JobPlan, compiled: &Compiled, params: &[Vec<f32>]) -> Vec<SplitReport> {
    let data = &plan.data;
    let sampled = sampled_rows(plan);
    data.splits()
        .iter()
        .map(|(name, split)| {
            let keeps = |layer: &str| keeps_hidden(plan, (name, split.rows), layer);
            let mut units = UnitTally::new(&plan.job.model.layers);
            let observe = &mut |output: &str, values: &[f32]| units.observe(output, values);
            let kept_rows = &|layer: &str| if keeps(layer) { sampled } else { 0 };
            let outputs =
                nnc_runtime::evaluate_observed(compiled, &Role::Eval(name), view(split), params, kept_rows, observe);
            let embedding = plan.job.train.loss.metric().is_some();
            let mut report = split_report(name, split, data, outputs, embedding, (sampled, &keeps));
            report.units = units.finish();
            report
        })
        .collect()
}

/// Trains from the initial parameters of `seed` at `learning_rate` instead of the
/// program's (for learning-rate sweeps; the data split is the one already loaded).
pub fn train_variant(
    plan: &JobPlan,
    compiled: &Compiled,
    learning_rate: f32,
    seed: u64,
) -> Result<Training, Vec<Diagnostic>> {
    let mut variant = plan.job.train.clone();
    variant.learning_rate = learning_rate;
    variant.seed = seed;
    train_config(plan, compiled, &variant, &Watch::default(), false)
}

fn run_job(plan: &JobPlan, base_dir: &Path, profile: bool, watch: &Watch<'_>) -> Result<JobReport, Vec<Diagnostic>> {
    let (job, data) = (&plan.job, &plan.data);
    let started = Instant::now();
    let options = nnc_codegen::Options { profile, ..nnc_codegen::Options::default() };
    let compiled = compile_job(plan, Functions::Run, options).map_err(|d| vec![d])?;
    let compile_ms = elapsed_ms(started);
    let started = Instant::now();
    let training = train(plan, &compiled, watch)?;
    let config = &job.train;
    let train_ms = elapsed_ms(started);
    let started = Instant::now();
    let splits = evaluate_splits(plan, &compiled, &training.params);
    if let Some(cause) = non_finite_prediction(&splits) {
        let epoch = training.epoch_losses.len().saturating_sub(1) as u64;
        return Err(vec![diverged(plan, &nnc_runtime::Diverged { epoch, cause, epoch_losses: training.epoch_losses })]);
    }
    let saved = match &config.save_layer {
        Some((layer, path)) => Some(save_layer(job, base_dir, layer, path, &splits)?),
        None => None,
    };
    let evaluate_ms = elapsed_ms(started);
    let forward = &plan.graphs.forward.params;
    let parameters: Vec<NamedTensor> = forward
        .iter()
        .zip(&training.params)
        .map(|(decl, values)| (decl.name.clone(), decl.shape.dims().to_vec(), values.clone()))
        .collect();
    Ok(JobReport {
        model: job.model.name.clone(),
        data: job.data.name.name.clone(),
        loss: config.loss.name().to_string(),
        epochs: config.epochs,
        batch: plan.batch,
        seed: config.seed,
        learning_rate: config.learning_rate,
        final_loss: splits[0].loss,
        epoch_losses: training.epoch_losses,
        val_losses: training.val_losses,
        early_stop: training.early_stop,
        interrupted: training.interrupted,
        task: data.task.name().to_string(),
        classes: data.task.class_names(),
        input_names: data.train.input_names.clone(),
        target_names: data.train.target_names.clone(),
        splits,
        split_order: data.split_order.clone(),
        dropped_rows: data.dropped_rows,
        preprocessing: data.preprocessing.describe(),
        inputs_encoded: data.preprocessing.changes_inputs(),
        naive_mae: data.naive_mae.clone(),
        parameters,
        saved,
        timings: Timings {
            parse: 0.0,
            load: plan.load_ms,
            compile: compile_ms,
            compile_codegen: compile_ms,
            compile_front: 0.0,
            train: train_ms,
            evaluate: evaluate_ms,
        },
        memory: crate::memory::need(plan),
        profile: if profile { kernel_profile(plan) } else { Vec::new() },
    })
}

/// The per-kernel times the profiling hooks recorded, described by the kernels' programs.
fn kernel_profile(plan: &JobPlan) -> Vec<KernelProfile> {
    let program_of = |function: &str| -> Option<&nnc_kernels::Program> {
        let role = match function {
            "train" => Role::Step,
            "train.tail" => Role::TailStep,
            other => plan.programs.iter().map(|(r, _)| r.clone()).find(|r| r.name() == other)?,
        };
        plan.program(&role)
    };
    let mut profile: Vec<KernelProfile> = nnc_codegen::take_profile()
        .into_iter()
        .filter_map(|time| {
            let kernel = program_of(&time.function)?.kernels.get(time.kernel)?;
            let seconds = time.total.as_secs_f64();
            Some(KernelProfile {
                summary: kernel.summary(),
                gflops: if seconds > 0.0 { kernel.flops() as f64 * time.calls as f64 / seconds * 1e-9 } else { 0.0 },
                total_us: seconds * 1e6,
                calls: time.calls,
                kernel: time.kernel,
                function: time.function,
            })
        })
        .collect();
    profile.sort_by(|a, b| b.total_us.total_cmp(&a.total_us));
    profile
}

fn split_report(
    name: &str,
    data: &Dataset,
    prepared: &Prepared,
    outputs: Vec<(String, Vec<f32>)>,
    embedding: bool,
    (sampled, keeps): (usize, &dyn Fn(&str) -> bool),
) -> SplitReport {
    let sampled = sampled.min(data.rows);
    let rows_of = |flat: Vec<f32>, rows: usize| Rows::with_rows(flat, rows);
    let scale = prepared.target_scale();
    let unscale = |rows: Rows| rows.map_columns(|v, column| v * scale[column].1 + scale[column].0);
    let (mut predictions, mut loss, mut hidden) = (Rows::default(), f32::NAN, Vec::new());
    for (output, values) in outputs {
        match output.as_str() {
            "prediction" => predictions = rows_of(values, data.rows),
            "loss" => loss = values[0],
            _ if keeps(&output) => hidden.push((output, rows_of(values, sampled))),
            _ => {}
        }
    }
    let targets = Rows::new(data.targets.clone(), data.n_targets());
    let (predictions, targets) = match prepared.task {
        Task::Regression => (unscale(predictions), unscale(targets)),
        Task::Binary(_) | Task::Classes(_) => (predictions, targets),
    };
    let scores = if embedding {
        metrics::embedding(&predictions, &targets)
    } else {
        metrics::score(&prepared.task, &predictions, &targets)
    };
    let class_counts = scores.confusion.as_ref().map(|m| m.iter().map(|row| row.iter().sum()).collect());
    SplitReport {
        name: name.to_string(),
        rows: data.rows,
        class_counts,
        loss,
        scores,
        targets,
        predictions,
        inputs: Rows::new(data.inputs[..sampled * data.n_inputs()].to_vec(), data.n_inputs()),
        hidden,
        units: Vec::new(),
    }
}

/// Writes one layer's activations for every row of every split to a CSV file.
fn save_layer(
    job: &Job,
    base_dir: &Path,
    layer: &str,
    path: &str,
    splits: &[SplitReport],
) -> Result<String, Vec<Diagnostic>> {
    let target = base_dir.join(path);
    let is_last = job.model.layers.last().is_some_and(|l| l.name == layer);
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut header_written = false;
    let mut write = |record: &[String]| writer.write_record(record).map_err(|e| e.to_string());
    let mut result = Ok(());
    for split in splits {
        let values = if is_last {
            Some(&split.predictions)
        } else {
            split.hidden.iter().find(|(n, _)| n == layer).map(|(_, v)| v)
        };
        for (index, row) in values.into_iter().flatten().enumerate() {
            if !header_written {
                let header: Vec<String> = ["split".to_string(), "row".to_string()]
                    .into_iter()
                    .chain((0..row.len()).map(|i| format!("{layer}_{i}")))
                    .collect();
                result = result.and(write(&header));
                header_written = true;
            }
            let mut record = vec![split.name.clone(), index.to_string()];
            record.extend(row.iter().map(|v| v.to_string()));
            result = result.and(write(&record));
        }
    }
    let bytes = result.and_then(|()| writer.into_inner().map_err(|e| e.to_string()));
    let written = bytes.and_then(|bytes| write_atomically(&target, &bytes).map_err(|e| e.to_string()));
    written.map_err(|err| {
        vec![
            Diagnostic::error(codes::WRITE_FAILED, format!("cannot write `{path}`"), job.train.span, "in `save_layer`")
                .with_note(err)
                .with_help("check that the folder can be written"),
        ]
    })?;
    Ok(target.display().to_string())
}

/// What became non-finite, in words: "the loss became NaN", "parameter `dense2.w` became
/// inf (element 3)".
fn non_finite_text(plan: &JobPlan, cause: &NonFinite) -> String {
    match *cause {
        NonFinite::Loss(loss) => format!("the loss became {loss}"),
        NonFinite::ValidationLoss(loss) => format!("the validation loss became {loss}"),
        NonFinite::Param { param, element, value } => {
            let name = plan.graphs.step.params.get(param).map_or("?", |p| p.name.as_str());
            format!("parameter `{name}` became {value} (element {element}), the first to stop being a number")
        }
        NonFinite::Prediction { split, element, value } => {
            format!("a prediction on the `{split}` split became {value} (element {element})")
        }
    }
}

/// The first prediction of any split that is not a number (finite weights can still
/// overflow: a huge logit through `exp`).
fn non_finite_prediction(splits: &[SplitReport]) -> Option<NonFinite> {
    splits.iter().find_map(|split| {
        let split_name = ["train", "val", "test"].into_iter().find(|&n| n == split.name).unwrap_or("train");
        nnc_runtime::first_non_finite(&split.predictions.values).map(|(element, value)| NonFinite::Prediction {
            split: split_name,
            element,
            value,
        })
    })
}

fn diverged(plan: &JobPlan, diverged: &nnc_runtime::Diverged) -> Diagnostic {
    let (job, data) = (&plan.job, &plan.data);
    let mut diagnostic = Diagnostic::error(
        codes::DIVERGED,
        format!("training diverged in epoch {}: {}", diverged.epoch + 1, non_finite_text(plan, &diverged.cause)),
        job.span,
        "while training this",
    )
    .with_note(format!("learning rate {}", job.train.learning_rate))
    .with_note("a diverged run saves no weights: they would predict only NaN");
    if let Some(last) = diverged.epoch_losses.last() {
        diagnostic = diagnostic.with_note(format!("the loss was {last:.4e} after epoch {}", diverged.epoch));
    }
    // Large raw inputs make gradients large: normalising them is the better fix.
    match &data.largest_input {
        Some((column, value)) if *value > 10.0 => diagnostic
            .with_note(format!("inputs are not normalised: `{column}` reaches {value}"))
            .with_help("add `normalize standard` to the data (or lower the learning rate)"),
        _ => diagnostic
            .with_help("lower the learning rate (a step too large overshoots the minimum and grows each epoch)"),
    }
}
