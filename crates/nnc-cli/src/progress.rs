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
    /// Where a bar is drawn: standard error (a recorder in tests).
    target: fn() -> ProgressDrawTarget,
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
        Display {
            mode,
            bar: RefCell::new(None),
            target: ProgressDrawTarget::stderr,
            held: RefCell::new(Vec::new()),
            created: Instant::now(),
        }
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
            let style = ProgressStyle::with_template("{prefix} [{bar:30}] {msg} (eta {eta})")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
            // Built whole before its first frame (the `with_` calls do not draw), so that no
            // frame lacks the epoch.
            let bar = ProgressBar::with_draw_target(Some(progress.epochs), (self.target)())
                .with_style(style)
                .with_prefix(progress.model.clone());
            *slot = Some((progress.model.clone(), bar));
        }
        if let Some((_, bar)) = slot.as_ref() {
            // Each of these may draw the bar. The text (epoch, step, loss) is one message,
            // set first, so that every frame's numbers belong to the same epoch; with the
            // epoch drawn from the position, the frame between the two calls paired the
            // new epoch with the last shown epoch's step and loss.
            bar.set_message(epoch_status(progress));
            bar.set_position(progress.epoch);
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

/// `epoch 12/2000 step 12 loss 0.2311 val ...`.
fn epoch_status(progress: &Progress) -> String {
    format!("epoch {}/{} {}", progress.epoch, progress.epochs, status(progress))
}

/// `mlp: epoch 12/2000 step 12 loss 0.2311 val ...`.
fn line(progress: &Progress) -> String {
    format!("{}: {}", progress.model, epoch_status(progress))
}

fn short(x: f32) -> String {
    if x != 0.0 && (x.abs() < 1e-3 || x.abs() >= 1e5) { format!("{x:.3e}") } else { format!("{x:.4}") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use indicatif::TermLike;
    use std::sync::Mutex;

    /// What the recorder below was asked to write.
    static WRITTEN: Mutex<Vec<String>> = Mutex::new(Vec::new());

    /// A terminal that keeps what is written to it.
    #[derive(Debug)]
    struct Recorder;

    impl TermLike for Recorder {
        fn width(&self) -> u16 {
            100
        }
        fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn write_line(&self, s: &str) -> std::io::Result<()> {
            self.write_str(s)
        }
        fn write_str(&self, s: &str) -> std::io::Result<()> {
            WRITTEN.lock().unwrap_or_else(|p| p.into_inner()).push(s.to_string());
            Ok(())
        }
        fn clear_line(&self) -> std::io::Result<()> {
            Ok(())
        }
        fn flush(&self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn recorder() -> ProgressDrawTarget {
        // A rate far above the display's own, so that the frames drawn are the bar's.
        ProgressDrawTarget::term_like_with_hz(Box::new(Recorder), 200)
    }

    fn progress(epoch: u64) -> Progress {
        Progress {
            model: "cnn".into(),
            epoch,
            epochs: 30,
            steps: 45 * epoch,
            loss: 1.0 / epoch as f32,
            val_loss: None,
            val_metric: None,
            params: None,
            val_predictions: None,
        }
    }

    #[test]
    fn every_frame_of_the_bar_shows_one_epoch_with_its_own_step() {
        let display = Display { mode: Mode::Bar, target: recorder, ..Display::new(false, None) };
        for epoch in 1..=30 {
            display.epoch(&progress(epoch));
            std::thread::sleep(Duration::from_millis(6));
        }
        display.finish();
        let frames: Vec<String> = WRITTEN.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let bars: Vec<&String> = frames.iter().filter(|frame| frame.starts_with("cnn [")).collect();
        assert!(bars.iter().all(|frame| frame.contains(" epoch ")), "a frame without its epoch: {frames:#?}");
        let shown: Vec<(u64, u64)> = frames
            .iter()
            .filter_map(|frame| {
                let words: Vec<&str> = frame.split_whitespace().collect();
                let at = words.iter().position(|w| *w == "epoch")?;
                let epoch = words.get(at + 1)?.split('/').next()?.parse().ok()?;
                let step = words.get(at + 3)?.parse().ok()?;
                Some((epoch, step))
            })
            .collect();
        assert!(shown.len() >= 5, "{frames:#?}");
        for (epoch, step) in shown {
            assert_eq!(step, 45 * epoch, "a frame shows epoch {epoch} with another epoch's step: {frames:#?}");
        }
    }
}
