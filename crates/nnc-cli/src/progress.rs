//! Progress while training: a bar on a terminal (indicatif) with the epoch, the step, the
//! loss, the validation metric and the time left; off a terminal, one line per epoch (or
//! per N epochs) on standard error, written as it happens (buffered for at most a tenth of
//! a second: a line per epoch of a 2000-epoch run would otherwise double its time).
//! Standard output keeps only the report, so `--json` stays one JSON object.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use nnc_driver::Progress;
use std::cell::RefCell;
use std::io::{BufWriter, IsTerminal, Stderr, Write};
use std::time::{Duration, Instant};

/// Shows the progress of one run's trainings.
pub struct Display {
    mode: Mode,
    bar: RefCell<Option<(String, ProgressBar)>>,
    lines: RefCell<(BufWriter<Stderr>, Instant)>,
}

/// How long progress lines may wait in the buffer.
const FLUSH_EVERY: Duration = Duration::from_millis(100);

enum Mode {
    Silent,
    Bar,
    Lines { every: u64 },
}

impl Display {
    /// A bar on a terminal, lines elsewhere, nothing when `quiet`.
    pub fn new(quiet: bool, log_every: Option<u64>) -> Display {
        let mode = if quiet {
            Mode::Silent
        } else if std::io::stderr().is_terminal() && log_every.is_none() {
            Mode::Bar
        } else {
            Mode::Lines { every: log_every.unwrap_or(1).max(1) }
        };
        Display {
            mode,
            bar: RefCell::new(None),
            lines: RefCell::new((BufWriter::new(std::io::stderr()), Instant::now())),
        }
    }

    pub fn epoch(&self, progress: &Progress) {
        match self.mode {
            Mode::Silent => {}
            Mode::Lines { every } => {
                if progress.epoch.is_multiple_of(every) || progress.epoch == progress.epochs {
                    let mut lines = self.lines.borrow_mut();
                    let (writer, flushed) = &mut *lines;
                    let _ = writeln!(writer, "{}", line(progress));
                    if flushed.elapsed() >= FLUSH_EVERY || progress.epoch == progress.epochs {
                        let _ = writer.flush();
                        *flushed = Instant::now();
                    }
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

    /// Writes what is buffered and clears a bar left by a training that stopped early.
    pub fn finish(&self) {
        let _ = self.lines.borrow_mut().0.flush();
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
