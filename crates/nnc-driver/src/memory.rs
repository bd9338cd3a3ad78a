//! What a run will allocate, computed from the kernel programs before anything is
//! allocated, and refused with a diagnostic when it will not fit.

use crate::pipeline::JobPlan;
use nnc_diagnostics::{Diagnostic, codes};
use nnc_runtime::Role;

/// Bytes of one run's buffers: parameters and optimizer state, the training loop's
/// scratch, and each evaluation's scratch and outputs (the data is already loaded).
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct Need {
    pub params: u64,
    pub scratch: u64,
    pub evaluation: u64,
}

impl Need {
    pub fn total(&self) -> u64 {
        self.params.saturating_add(self.scratch).saturating_add(self.evaluation)
    }
}

pub fn need(plan: &JobPlan) -> Need {
    let floats = |n: usize| (n as u64).saturating_mul(4);
    let sum = |lens: &[usize]| lens.iter().fold(0u64, |acc, &n| acc.saturating_add(floats(n)));
    let step = plan.program(&Role::Step);
    let params = step.map_or(0, |p| sum(&p.param_lens));
    let scratch = plan
        .programs
        .iter()
        .filter(|(role, _)| matches!(role, Role::Step | Role::TailStep))
        .map(|(_, p)| floats(p.arena_len))
        .max()
        .unwrap_or(0);
    let evaluation = plan
        .programs
        .iter()
        .filter(|(role, _)| matches!(role, Role::Eval(_)))
        .map(|(_, p)| {
            let outputs: Vec<usize> = p.outputs.iter().map(|(_, n)| *n).collect();
            floats(p.arena_len).saturating_add(sum(&outputs))
        })
        .max()
        .unwrap_or(0);
    Need { params, scratch, evaluation }
}

/// Refuses a run that needs more than `limit` bytes (the machine's available memory
/// when `None`).
pub(crate) fn check_memory(plan: &JobPlan, limit: Option<u64>) -> Result<(), Diagnostic> {
    let need = need(plan);
    let limit = limit.unwrap_or_else(available_memory);
    if need.total() <= limit {
        return Ok(());
    }
    let model = &plan.job.model;
    let widest = model.layers.iter().max_by_key(|l| l.units).map_or(model.input_span, |l| l.span);
    Err(Diagnostic::error(
        codes::TOO_LARGE,
        format!(
            "training `{}` needs {} of memory, more than the {} nnc may use",
            model.name,
            size(need.total()),
            size(limit)
        ),
        widest,
        "the largest layer",
    )
    .with_note(format!(
        "parameters and optimizer state {}, scratch for one step {}, evaluation {}",
        size(need.params),
        size(need.scratch),
        size(need.evaluation)
    ))
    .with_help("use smaller layers, a smaller batch, or an optimizer with less state (sgd keeps none)"))
}

fn size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{bytes} bytes") } else { format!("{value:.1} {}", UNITS[unit]) }
}

/// The memory the system reports available (`MemAvailable`), or 8 GiB when it cannot say.
fn available_memory() -> u64 {
    let kib = std::fs::read_to_string("/proc/meminfo").ok().and_then(|text| {
        let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
        line.split_whitespace().nth(1)?.parse::<u64>().ok()
    });
    kib.map_or(8 << 30, |k| k.saturating_mul(1024))
}
