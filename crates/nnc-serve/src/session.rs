//! One run of a program in the server's process, by nnc's compiled code: the same
//! `nnc_driver::run_watched` as `nnc run`, its progress heard through the same listener
//! the CLI's progress bar uses (paced: at most 20 epochs a second reach the page), kept
//! as a list of events that any number of pages read from where they are.

use nnc_driver::{Overrides, Pace, Progress, Watch};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// Epochs a second a page hears of.
const EVENTS_PER_SECOND: f64 = 20.0;

/// Every this many epoch events (and at the last epoch) the figures are drawn again:
/// about four times a second.
const FIGURE_EVERY: usize = 5;

/// The events of the current (or last) run, and whether it is still going.
#[derive(Default)]
pub(crate) struct Log {
    events: Mutex<Events>,
    changed: Condvar,
    pub interrupt: AtomicU32,
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
    pub fn start(self: &Arc<Self>, source: String, base_dir: PathBuf) -> Option<u64> {
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
        let log = Arc::clone(self);
        std::thread::spawn(move || {
            let last = log.train(&source, &base_dir);
            log.push(last, false);
        });
        Some(run)
    }

    /// Asks the run to stop after its current step.
    pub fn stop(&self) {
        self.interrupt.store(1, Ordering::SeqCst);
    }

    fn train(&self, source: &str, base_dir: &std::path::Path) -> Value {
        let checked = match nnc_driver::check(source, base_dir, Overrides::default()) {
            Ok(checked) => checked,
            Err(diagnostics) => {
                return json!({ "event": "error", "diagnostics": crate::api::diagnostics_json(source, &diagnostics) });
            }
        };
        let told = std::sync::atomic::AtomicUsize::new(0);
        let plans = &checked.jobs;
        let listener = |progress: &Progress| {
            self.push(epoch_event(progress), true);
            let count = told.fetch_add(1, Ordering::Relaxed);
            if count.is_multiple_of(FIGURE_EVERY) || progress.epoch == progress.epochs {
                let plan = plans.iter().find(|p| p.job.model.name == progress.model);
                for event in plan.into_iter().flat_map(|plan| figure_events(plan, progress)) {
                    self.push(event, true);
                }
            }
        };
        let watch = Watch {
            interrupt: Some(&self.interrupt),
            progress: Some(&listener),
            pace: Pace::PerSecond(EVENTS_PER_SECOND),
            with_params: true,
        };
        match nnc_driver::run_watched(&checked, base_dir, Overrides::default(), 0.0, &watch) {
            Ok(report) => done_event(&report),
            Err(diagnostics) => {
                json!({ "event": "error", "diagnostics": crate::api::diagnostics_json(source, &diagnostics) })
            }
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

/// The figures `nnc plot` draws that change while training, for this epoch's parameters:
/// the same code draws them, rendered to SVG.
fn figure_events(plan: &nnc_driver::JobPlan, progress: &Progress) -> Vec<Value> {
    let Some(params) = &progress.params else { return Vec::new() };
    let figures = [("decision", nnc_inspect::plots::live_decision_boundary(plan, params))];
    figures
        .into_iter()
        .filter_map(|(name, plot)| {
            let svg = nnc_plot::render(&plot?, nnc_plot::Format::Svg).ok()?;
            let svg = String::from_utf8(svg).ok()?;
            Some(json!({ "event": "figure", "name": name, "model": progress.model, "epoch": progress.epoch, "svg": svg }))
        })
        .collect()
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

/// A number JSON can carry (a diverging loss is `null`).
fn finite(x: f32) -> Value {
    if x.is_finite() { json!(x) } else { Value::Null }
}

fn split_event(split: &nnc_driver::SplitReport) -> Value {
    json!({ "name": split.name, "rows": split.rows, "loss": finite(split.loss), "scores": split.scores })
}

fn done_event(report: &nnc_driver::RunReport) -> Value {
    let jobs: Vec<Value> = report
        .jobs
        .iter()
        .map(|job| {
            json!({
                "model": job.model,
                "final_loss": finite(job.final_loss),
                "epochs": job.epoch_losses.len(),
                "interrupted": job.interrupted,
                "splits": job.splits.iter().map(split_event).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({ "event": "done", "jobs": jobs, "skipped": report.skipped })
}
