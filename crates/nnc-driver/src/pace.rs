//! Which epochs a progress listener hears about. A run of 10,000 one-step epochs trains in
//! about a millisecond; describing every epoch (a `Progress`, a line of text), or even
//! asking a clock after each one, would cost a sizeable part of that. So after each epoch
//! it hears of, the listener's pace names the next epoch it wants, and the runtime only
//! compares epoch numbers in between. It hears of the last epoch always, and either every
//! N-th (`--log-every N`) or the first and then at most a given number a second, the
//! epochs between estimated from the speed so far.

use std::cell::Cell;
use std::time::{Duration, Instant};

/// How often a listener wants news of training.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Pace {
    /// Every epoch (tests, and listeners that keep every loss).
    Every,
    /// Every N-th epoch and the last.
    EveryNth(u64),
    /// The first epoch, at most this many a second after it, and the last.
    PerSecond(f64),
}

/// The state of one training's pacing.
pub(crate) struct Pacer {
    pace: Pace,
    interval: Duration,
    start: Instant,
    last_told: Cell<Option<Instant>>,
}

/// The decision at an epoch the runtime reported: tell the listener or not, and the next
/// epoch to report.
#[derive(Debug, PartialEq)]
pub(crate) struct Next {
    pub tell: bool,
    pub epoch: u64,
}

impl Pacer {
    pub(crate) fn new(pace: Pace) -> Pacer {
        let interval = match pace {
            Pace::PerSecond(rate) if rate > 0.0 => Duration::from_secs_f64(1.0 / rate),
            _ => Duration::ZERO,
        };
        Pacer { pace, interval, start: Instant::now(), last_told: Cell::new(None) }
    }

    /// The first epoch to report (1-based).
    pub(crate) fn first(&self, epochs: u64) -> u64 {
        match self.pace {
            Pace::Every | Pace::PerSecond(_) => 1,
            Pace::EveryNth(n) => n.max(1).min(epochs.max(1)),
        }
    }

    /// At epoch `epoch` (1-based) of `epochs`, reported because it was asked for.
    pub(crate) fn at(&self, epoch: u64, epochs: u64) -> Next {
        let last = epochs.max(1);
        let clamp = |next: u64| next.max(epoch + 1).min(last);
        match self.pace {
            Pace::Every => Next { tell: true, epoch: clamp(epoch + 1) },
            Pace::EveryNth(n) => {
                let n = n.max(1);
                Next { tell: epoch.is_multiple_of(n) || epoch >= last, epoch: clamp((epoch / n + 1) * n) }
            }
            Pace::PerSecond(_) => {
                let now = Instant::now();
                let due = self.last_told.get().is_none_or(|told| now - told >= self.interval);
                let tell = epoch <= 1 || epoch >= last || due;
                if tell {
                    self.last_told.set(Some(now));
                }
                // Epochs per interval at the speed so far; an estimate too early (training
                // slowed down) is not told and asks again a little later.
                let per_epoch = (now - self.start).as_secs_f64() / epoch as f64;
                let wait = self.last_told.get().map_or(self.interval, |told| self.interval.saturating_sub(now - told));
                let ahead = if per_epoch > 0.0 { (wait.as_secs_f64() / per_epoch) as u64 } else { 1 };
                Next { tell, epoch: clamp(epoch.saturating_add(ahead.max(1))) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The epochs a listener is told of over a run of `epochs`, each taking `each`.
    fn told(pace: Pace, epochs: u64, each: Duration) -> Vec<u64> {
        let pacer = Pacer::new(pace);
        let (mut next, mut told) = (pacer.first(epochs), Vec::new());
        for epoch in 1..=epochs {
            std::thread::sleep(each);
            if epoch >= next {
                let decision = pacer.at(epoch, epochs);
                if decision.tell {
                    told.push(epoch);
                }
                next = decision.epoch;
            }
        }
        told
    }

    #[test]
    fn every_nth_is_exact_and_ends_with_the_last() {
        assert_eq!(told(Pace::EveryNth(10), 35, Duration::ZERO), [10, 20, 30, 35]);
        assert_eq!(told(Pace::EveryNth(1000), 50, Duration::ZERO), [50]);
        assert_eq!(told(Pace::Every, 7, Duration::ZERO), [1, 2, 3, 4, 5, 6, 7]);
    }

    #[test]
    fn a_fast_run_hears_of_the_first_and_last_epochs() {
        assert_eq!(told(Pace::PerSecond(2.0), 100_000, Duration::ZERO), [1, 100_000]);
    }

    #[test]
    fn a_slow_run_is_told_a_few_times_a_second() {
        // 300 epochs of 1 ms at 20 a second: about 6 lines, never one per epoch.
        let told = told(Pace::PerSecond(20.0), 300, Duration::from_millis(1));
        assert!((4..=12).contains(&told.len()), "{told:?}");
        assert_eq!((told[0], *told.last().unwrap()), (1, 300));
    }
}
