//! Progress while training: a bar on a terminal (indicatif) with the epoch, the step, the
//! loss, the validation metric and the time left, redrawn at most 15 times a second; off
//! a terminal, lines on standard error: the first and last epoch and at most two a second
//! between them, or every N-th epoch with `--log-every N`. The driver paces the epochs
//! (`nnc_driver::Pace`), so the epochs nobody sees cost nothing. Default lines that come
//! in the first half second are held until then (or until training ends), so a run that
//! short writes them after training instead of during it: each written line costs tens
//! of microseconds, a tenth of W1's whole training. Standard output keeps only the report,
//! so `--json` stays one JSON object.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use nnc_driver::{Pace, Progress};
use std::cell::RefCell;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// Shows the progress of one run's trainings.
pub struct Display {
    mode: Mode,
    bar: RefCell<Option<(String, ProgressBar)>>,
    /// Default lines not written yet.
    held: RefCell<Vec<Progress>>,
    created: Instant,
}

/// How long after the display is made default lines are held: a run shorter than this
/// writes its lines when it ends; later lines are written as they come.
const HOLD: Duration = Duration::from_millis(500);

/// Lines a second off a terminal, unless `--log-every` says otherwise.
const LINES_PER_SECOND: f64 = 2.0;
/// Redraws a second of the bar on a terminal.
const REDRAWS_PER_SECOND: f64 = 15.0;

#[derive(Clone, Copy)]
enum Mode {
    Silent,
    Bar,
    Lines { every: Option<u64> },
}

impl Display {
    /// A bar on a terminal, lines elsewhere, nothing when `quiet`.
    pub fn new(quiet: bool, log_every: Option<u64>) -> Display {
        let mode = if quiet {
            Mode::Silent
        } else if std::io::stderr().is_terminal() && log_every.is_none() {
            Mode::Bar
        } else {
            Mode::Lines { every: log_every }
        };
        Display { mode, bar: RefCell::new(None), held: RefCell::new(Vec::new()), created: Instant::now() }
    }

    /// Whether anything is shown: a silent display needs no news of epochs at all.
    pub fn listens(&self) -> bool {
        !matches!(self.mode, Mode::Silent)
    }

    /// The epochs this display wants to hear about.
    pub fn pace(&self) -> Pace {
        match self.mode {
            Mode::Silent | Mode::Bar => Pace::PerSecond(REDRAWS_PER_SECOND),
            Mode::Lines { every: Some(n) } => Pace::EveryNth(n),
            Mode::Lines { every: None } => Pace::PerSecond(LINES_PER_SECOND),
        }
    }

    /// Shows one epoch the driver chose (see [`Display::pace`]).
    pub fn epoch(&self, progress: &Progress) {
        match self.mode {
            Mode::Silent => {}
            Mode::Lines { every: Some(_) } => {
                let _ = writeln!(std::io::stderr().lock(), "{}", line(progress));
            }
            Mode::Lines { every: None } => {
                self.held.borrow_mut().push(progress.clone());
                if self.created.elapsed() >= HOLD {
                    self.write_held();
                }
            }
            Mode::Bar => self.bar(progress),
        }
    }

    fn bar(&self, progress: &Progress) {
        let mut slot = self.bar.borrow_mut();
        let fresh = slot.as_ref().is_none_or(|(model, _)| model != &progress.model);
        if fresh {
            if let Some((_, old)) = slot.take() {
                old.finish_and_clear();
            }
            let bar = ProgressBar::with_draw_target(Some(progress.epochs), ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template("{prefix} [{bar:30}] epoch {pos}/{len} {msg} (eta {eta})")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
            bar.set_style(style);
            bar.set_prefix(progress.model.clone());
            *slot = Some((progress.model.clone(), bar));
        }
        if let Some((_, bar)) = slot.as_ref() {
            bar.set_position(progress.epoch);
            bar.set_message(status(progress));
            if progress.epoch == progress.epochs {
                bar.finish_and_clear();
            }
        }
    }

    /// Writes the lines held so far.
    fn write_held(&self) {
        let mut err = std::io::stderr().lock();
        for progress in self.held.borrow_mut().drain(..) {
            let _ = writeln!(err, "{}", line(&progress));
        }
    }

    /// Writes the lines still held, and clears a bar left by a training that stopped early.
    pub fn finish(&self) {
        self.write_held();
        if let Some((_, bar)) = self.bar.borrow_mut().take() {
            bar.finish_and_clear();
        }
    }
}

fn status(progress: &Progress) -> String {
    let mut text = format!("step {} loss {}", progress.steps, short(progress.loss));
    if let Some(loss) = progress.val_loss {
        text.push_str(&format!(" val loss {}", short(loss)));
    }
    if let Some((name, value)) = progress.val_metric {
        text.push_str(&format!(" val {name} {value:.4}"));
    }
    text
}

/// `mlp: epoch 12/2000 step 12 loss 0.2311 val ...`.
fn line(progress: &Progress) -> String {
    format!("{}: epoch {}/{} {}", progress.model, progress.epoch, progress.epochs, status(progress))
}

fn short(x: f32) -> String {
    if x != 0.0 && (x.abs() < 1e-3 || x.abs() >= 1e5) { format!("{x:.3e}") } else { format!("{x:.4}") }
}
