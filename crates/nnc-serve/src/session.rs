//! One run of a program in the server's process, by nnc's compiled code: the same
//! `nnc_driver::run_watched` as `nnc run`, its progress heard through the same listener
//! the CLI's progress bar uses (paced: at most 20 epochs a second reach the page), kept
//! as a list of events that any number of pages read from where they are. A run may
//! override the program's learning rate and seed (as `nnc run --lr --seed` does) and be
//! slowed to a number of epochs a second, to watch it learn; it ends with its report and
//! nnc's diagnosis of each trained block.

use nnc_driver::{Overrides, Pace, Progress, Watch};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Epoch events a second a page hears of, at most.
const EVENTS_PER_SECOND: f64 = 20.0;

/// The figures are drawn again at most this often (and at the first and last epoch).
const FIGURE_INTERVAL: Duration = Duration::from_millis(250);

/// How a run goes: the program's settings overridden, and its pace.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct RunSettings {
    pub overrides: Overrides,
    /// Epochs a second to slow training to; as fast as it goes when `None`.
    pub epochs_per_second: Option<f64>,
}

/// The events of the current (or last) run, and whether it is still going.
#[derive(Default)]
pub(crate) struct Log {
    events: Mutex<Events>,
    changed: Condvar,
    pub interrupt: AtomicU32,
    /// While set, the run waits at its next progress report (within 1/20 s of training).
    paused: std::sync::atomic::AtomicBool,
}

#[derive(Default)]
struct Events {
    /// Counts runs, so a page reading an old run's events learns a new one began.
    run: u64,
    list: Vec<Value>,
    running: bool,
}

impl Log {
    /// Starts a run of `source` (its data read relative to `base_dir`) on a thread of its
    /// own: its number, or `None` while one is still going (at most one run at a time).
    pub fn start(self: &Arc<Self>, source: String, base_dir: PathBuf, settings: RunSettings) -> Option<u64> {
        let run = {
            let mut events = self.events.lock().unwrap_or_else(|e| e.into_inner());
            if events.running {
                return None;
            }
            events.run += 1;
            events.list.clear();
            events.running = true;
            events.run
        };
        self.interrupt.store(0, Ordering::SeqCst);
        self.paused.store(false, Ordering::SeqCst);
        let log = Arc::clone(self);
        std::thread::spawn(move || {
            let last = log.train(&source, &base_dir, settings);
            log.push(last, false);
        });
        Some(run)
    }

    /// Asks the run to stop after its current step.
    pub fn stop(&self) {
        self.paused.store(false, Ordering::SeqCst);
        self.interrupt.store(1, Ordering::SeqCst);
    }

    /// Pauses the run at its next progress report, or lets it go on.
    pub fn pause(&self, paused: bool) {
        self.paused.store(paused, Ordering::SeqCst);
    }

    /// Waits while the run is paused and not stopped.
    fn wait_while_paused(&self) {
        while self.paused.load(Ordering::SeqCst) && self.interrupt.load(Ordering::SeqCst) == 0 {
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn train(&self, source: &str, base_dir: &std::path::Path, settings: RunSettings) -> Value {
        let error = |diagnostics: &[nnc_diagnostics::Diagnostic]| json!({ "event": "error", "diagnostics": crate::api::diagnostics_json(source, diagnostics) });
        let checked = match nnc_driver::check(source, base_dir, settings.overrides) {
            Ok(checked) => checked,
            Err(diagnostics) => return error(&diagnostics),
        };
        let plans = &checked.jobs;
        let pacing = Mutex::new(Pacing::new(settings.epochs_per_second));
        let watched = Mutex::new(Watched::default());
        let listener = |progress: &Progress| {
            let mut pacing = pacing.lock().unwrap_or_else(|e| e.into_inner());
            let last = progress.epoch == progress.epochs;
            let (event, figures) = pacing.epoch_ended(last);
            if event {
                self.push(epoch_event(progress), true);
            }
            let Some(plan) = plans.iter().find(|p| p.job.model.name == progress.model) else { return };
            let mut watched = watched.lock().unwrap_or_else(|e| e.into_inner());
            watched.heard(plan, progress);
            if figures {
                let started = Instant::now();
                for event in watched.events(plan, progress) {
                    self.push(event, true);
                }
                pacing.figure_cost = started.elapsed();
            }
            drop(watched);
            pacing.wait(&self.interrupt);
            drop(pacing);
            self.wait_while_paused();
        };
        // A `minimize` block's path grows on the page as its steps are taken (a slowed
        // run takes `epochs_per_second` steps a second).
        let descent_pacing = Mutex::new(Pacing::new(settings.epochs_per_second));
        let descent = |plan: &nnc_driver::MinimizePlan, path: &[nnc_driver::Point]| {
            let mut pacing = descent_pacing.lock().unwrap_or_else(|e| e.into_inner());
            let last = path.last().is_some_and(|p| p.step == plan.minimization.steps);
            if pacing.epoch_ended(last).1 {
                let steps = path.last().map_or(0, |p| p.step);
                for figure in nnc_inspect::plots::minimization_figures(plan, path) {
                    self.push(figure_event(&figure.name, &plan.minimization.name, steps, &figure.plot), true);
                }
            }
            pacing.wait(&self.interrupt);
            drop(pacing);
            self.wait_while_paused();
        };
        let watch = Watch {
            interrupt: Some(&self.interrupt),
            progress: Some(&listener),
            // A slowed run hears every epoch (to wait after each); a fast one, as many as
            // reach the page.
            pace: if settings.epochs_per_second.is_some() { Pace::Every } else { Pace::PerSecond(EVENTS_PER_SECOND) },
            with_params: true,
            descent: Some(&descent),
        };
        match nnc_driver::run_watched(&checked, base_dir, settings.overrides, 0.0, &watch) {
            Ok(report) => {
                let watched = watched.into_inner().unwrap_or_else(|e| e.into_inner());
                for event in
                    minimize_figures(&checked, &report).into_iter().chain(end_figures(&checked, &report, &watched.live))
                {
                    self.push(event, true);
                }
                done_event(&checked, &report)
            }
            Err(diagnostics) => error(&diagnostics),
        }
    }

    fn push(&self, event: Value, running: bool) {
        let mut events = self.events.lock().unwrap_or_else(|e| e.into_inner());
        events.list.push(event);
        events.running = running;
        self.changed.notify_all();
    }

    /// The events of the current run from `from` on, waiting up to `wait` for some;
    /// `(run, events, still running)`.
    pub fn read(&self, from: usize, wait: Duration) -> (u64, Vec<Value>, bool) {
        let events = self.events.lock().unwrap_or_else(|e| e.into_inner());
        let (events, _) = self
            .changed
            .wait_timeout_while(events, wait, |e| e.list.len() <= from && e.running)
            .unwrap_or_else(|e| e.into_inner());
        (events.run, events.list.get(from..).unwrap_or_default().to_vec(), events.running)
    }
}

/// When epoch events and figures go to the page, and how long a slowed run waits.
struct Pacing {
    started: Instant,
    epochs: u64,
    per_second: Option<f64>,
    last_event: Option<Instant>,
    last_figure: Option<Instant>,
    /// How long drawing the figures took last time: they are drawn at most a fifth of
    /// the time, so a large model's figures do not slow its training much.
    figure_cost: Duration,
}

impl Pacing {
    fn new(per_second: Option<f64>) -> Pacing {
        Pacing {
            started: Instant::now(),
            epochs: 0,
            per_second,
            last_event: None,
            last_figure: None,
            figure_cost: Duration::ZERO,
        }
    }

    /// Counts an epoch: whether its event and the figures go to the page now.
    fn epoch_ended(&mut self, last: bool) -> (bool, bool) {
        self.epochs += 1;
        let now = Instant::now();
        let due = |at: Option<Instant>, interval: Duration| last || at.is_none_or(|t| now - t >= interval);
        let event = due(self.last_event, Duration::from_secs_f64(1.0 / EVENTS_PER_SECOND));
        let figures = due(self.last_figure, FIGURE_INTERVAL.max(self.figure_cost * 4));
        if event {
            self.last_event = Some(now);
        }
        if figures {
            self.last_figure = Some(now);
        }
        (event, figures)
    }

    /// For a slowed run, waits until this many epochs are due, watching for Stop.
    fn wait(&self, interrupt: &AtomicU32) {
        let Some(per_second) = self.per_second else { return };
        let due = self.started + Duration::from_secs_f64(self.epochs as f64 / per_second);
        while interrupt.load(Ordering::SeqCst) == 0 {
            let now = Instant::now();
            if now >= due {
                break;
            }
            std::thread::sleep((due - now).min(Duration::from_millis(50)));
        }
    }
}

/// What the page has been shown of the runs's training blocks so far.
#[derive(Default)]
struct Watched {
    /// The block heard last.
    model: String,
    /// Its losses heard so far, `(epoch, loss)`, for the live diagnosis.
    curve: Vec<(u64, f32)>,
    /// The parameters of a model with one weight and one bias at the epochs heard so far
    /// (from its initial ones): the path on its loss surface. Larger models keep none.
    path: Vec<Vec<Vec<f32>>>,
    /// The figures drawn while training, by model and name: the end sends only those
    /// drawn from other rows than `nnc plot`'s ([`REDRAWN_AT_END`]).
    live: Vec<(String, String)>,
    /// The live diagnosis last sent, to send it again only when it changes.
    findings: Value,
}

/// Figures drawn live from other rows than the file's (the validation rows' predictions,
/// where the file shows the test rows'; the hidden states of the first 512 training rows
/// or fewer, where the file shows all it kept): sent again at the end, under the same
/// name.
const REDRAWN_AT_END: [&str; 2] = ["predictions", "hidden"];

impl Watched {
    fn heard(&mut self, plan: &nnc_driver::JobPlan, progress: &Progress) {
        if self.model != progress.model {
            self.model.clone_from(&progress.model);
            self.curve.clear();
            self.path.clear();
            self.findings = Value::Null;
        }
        self.curve.push((progress.epoch, progress.loss));
        let Some(params) = &progress.params else { return };
        if params.iter().map(Vec::len).sum::<usize>() != 2 {
            return;
        }
        if self.path.is_empty() {
            self.path.push(plan.start_params(plan.job.train.seed));
        }
        self.path.push(params.clone());
    }

    /// The figures `nnc plot` draws that change while training, for this epoch's
    /// parameters (and, for the loss surface, the path so far), drawn by the same code as
    /// SVG; then the diagnosis so far, when it changed.
    fn events(&mut self, plan: &nnc_driver::JobPlan, progress: &Progress) -> Vec<Value> {
        use nnc_inspect::{filters, plots};
        let Some(params) = &progress.params else { return Vec::new() };
        let hidden = plots::live_hidden(plan, params);
        let figures = [
            ("decision", plots::live_decision_boundary(plan, params)),
            ("surface", if self.path.is_empty() { None } else { plots::loss_surface(plan, &self.path) }),
            ("network", nnc_inspect::network::network(plan, params)),
            ("hidden", hidden.as_ref().and_then(|(layers, rows)| plots::live_hidden_space(plan, layers, *rows))),
            ("predictions", progress.val_predictions.as_ref().and_then(|p| plots::live_predictions(plan, p))),
            ("filters", filters::filter_mosaic(plan, params)),
            ("feature-maps", filters::feature_maps(plan, params)),
        ];
        let mut events = Vec::new();
        for (name, plot) in figures {
            let Some(plot) = plot else { continue };
            let drawn = (progress.model.clone(), name.to_string());
            if !self.live.contains(&drawn) {
                self.live.push(drawn);
            }
            events.push(figure_event(name, &progress.model, progress.epoch, &plot));
        }
        let train_rows = plan.data.train.rows;
        let hidden = hidden.as_ref().map(|(layers, _)| (layers.as_slice(), train_rows));
        let findings: Vec<Value> =
            nnc_inspect::diagnosis::diagnose_live(plan, &self.curve, hidden).iter().map(finding_event).collect();
        let findings = Value::from(findings);
        if findings != self.findings && !(self.findings.is_null() && findings.as_array().is_some_and(Vec::is_empty)) {
            events.push(
                json!({ "event": "diagnosis", "model": progress.model, "epoch": progress.epoch, "findings": findings }),
            );
            self.findings = findings;
        }
        events
    }
}

/// The figures of each `minimize` block (the function and the path of gradient descent),
/// as `nnc plot` draws them.
fn minimize_figures(checked: &nnc_driver::Checked, report: &nnc_driver::RunReport) -> Vec<Value> {
    let blocks = checked.minimizations.iter().zip(&report.minimizations);
    blocks
        .flat_map(|(plan, report)| {
            nnc_inspect::plots::minimization_figures(plan, &report.trajectory)
                .into_iter()
                .map(|figure| figure_event(&figure.name, &plan.minimization.name, report.steps, &figure.plot))
        })
        .collect()
}

/// The figures `nnc plot` draws from a finished block that the page has not drawn live
/// (`live`: model and figure names sent while it trained): the hidden states of a model
/// too large to draw them live, and the figures of a block stopped before its figures
/// were due. A figure drawn live from other rows than the file's ([`REDRAWN_AT_END`]) is
/// sent again, under its live name, so that the page ends as the files do. The loss is
/// the page's own chart.
fn end_figures(checked: &nnc_driver::Checked, report: &nnc_driver::RunReport, live: &[(String, String)]) -> Vec<Value> {
    let blocks = checked.jobs.iter().zip(&report.jobs);
    blocks
        .flat_map(|(plan, job)| {
            let epochs = job.epoch_losses.len() as u64;
            let live_name = |figure: &str| -> Option<String> {
                let drawn =
                    live.iter().find(|(model, name)| *model == job.model && figure == format!("{model}-{name}"));
                drawn.map(|(_, name)| name.clone())
            };
            nnc_inspect::plots::job_figures(plan, job, &[]).into_iter().filter_map(move |figure| {
                let name = match live_name(&figure.name) {
                    Some(name) if REDRAWN_AT_END.contains(&name.as_str()) => name,
                    Some(_) => return None,
                    None if figure.name.ends_with("-loss") => return None,
                    None => figure.name.clone(),
                };
                Some(figure_event(&name, &job.model, epochs, &figure.plot))
            })
        })
        .collect()
}

fn figure_event(name: &str, model: &str, epoch: u64, plot: &nnc_plot::Plot) -> Value {
    let svg = nnc_plot::render(plot, nnc_plot::Format::Svg).ok().and_then(|svg| String::from_utf8(svg).ok());
    json!({ "event": "figure", "name": name, "model": model, "epoch": epoch, "svg": svg })
}

fn epoch_event(progress: &Progress) -> Value {
    json!({
        "event": "epoch",
        "model": progress.model,
        "epoch": progress.epoch,
        "epochs": progress.epochs,
        "steps": progress.steps,
        "loss": finite(progress.loss),
        "val_loss": progress.val_loss.map(finite),
        "val_metric": progress.val_metric.map(|(name, value)| json!({ "name": name, "value": value })),
    })
}

/// A number JSON can carry (a diverging loss is `null`), written as the shortest decimal
/// that is this f32 (0.1, not 0.10000000149011612).
fn finite(x: f32) -> Value {
    match x.to_string().parse::<f64>() {
        Ok(shortest) if x.is_finite() => json!(shortest),
        _ => Value::Null,
    }
}

fn split_event(split: &nnc_driver::SplitReport) -> Value {
    json!({ "name": split.name, "rows": split.rows, "loss": finite(split.loss), "scores": split.scores })
}

fn done_event(checked: &nnc_driver::Checked, report: &nnc_driver::RunReport) -> Value {
    let jobs: Vec<Value> = checked
        .jobs
        .iter()
        .zip(&report.jobs)
        .map(|(plan, job)| {
            json!({
                "model": job.model,
                "final_loss": finite(job.final_loss),
                "epochs": job.epoch_losses.len(),
                "learning_rate": finite(job.learning_rate),
                "seed": job.seed,
                "interrupted": job.interrupted,
                "splits": job.splits.iter().map(split_event).collect::<Vec<_>>(),
                "diagnosis": nnc_inspect::diagnosis::diagnose(plan, job).iter().map(finding_event).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({ "event": "done", "jobs": jobs, "skipped": report.skipped })
}

/// One finding of nnc's diagnosis, as `nnc run` prints it.
fn finding_event(finding: &nnc_inspect::diagnosis::Finding) -> Value {
    json!({ "kind": finding.kind, "message": finding.message, "evidence": finding.evidence, "hint": finding.hint })
}
