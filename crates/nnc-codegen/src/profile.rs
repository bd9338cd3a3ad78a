//! Per-kernel timing. When compiled with [`Options::profile`](crate::Options), generated
//! code calls [`nnc_profile_tick`] before each kernel and after the last; the time between
//! two ticks is the kernel's. [`take_profile`] hands the totals over (and clears them).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Time spent in one kernel of one compiled function.
#[derive(Clone, Debug, PartialEq)]
pub struct KernelTime {
    /// The function's name, as compiled.
    pub function: String,
    /// The kernel's index in its program.
    pub kernel: usize,
    pub calls: u64,
    pub total: Duration,
}

#[derive(Default)]
struct Ticks {
    /// The function names, by unit index.
    names: Vec<String>,
    last: Option<(usize, usize, Instant)>,
    totals: BTreeMap<(usize, usize), (u64, Duration)>,
}

thread_local! {
    static TICKS: RefCell<Ticks> = RefCell::new(Ticks::default());
}

/// Records the function names of a compiled unit, before its code runs.
pub(crate) fn register(names: Vec<String>) {
    TICKS.with(|t| t.borrow_mut().names = names);
}

/// Called by generated code: kernel `kernel` of unit `unit` starts (`kernel` < 0: the
/// program ends).
pub(crate) extern "C" fn nnc_profile_tick(unit: i64, kernel: i64) {
    let now = Instant::now();
    TICKS.with(|t| {
        let mut ticks = t.borrow_mut();
        if let Some((u, k, since)) = ticks.last.take() {
            let entry = ticks.totals.entry((u, k)).or_insert((0, Duration::ZERO));
            entry.0 += 1;
            entry.1 += now - since;
        }
        if kernel >= 0 {
            ticks.last = Some((unit as usize, kernel as usize, now));
        }
    });
}

/// The times recorded on this thread since the last call, by function and kernel.
pub fn take_profile() -> Vec<KernelTime> {
    TICKS.with(|t| {
        let mut ticks = t.borrow_mut();
        let totals = std::mem::take(&mut ticks.totals);
        totals
            .into_iter()
            .map(|((unit, kernel), (calls, total))| KernelTime {
                function: ticks.names.get(unit).cloned().unwrap_or_default(),
                kernel,
                calls,
                total,
            })
            .collect()
    })
}
