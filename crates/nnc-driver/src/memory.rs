//! What a command will hold, computed before anything large is allocated, and refused
//! with a diagnostic naming the amount and the part of the program when it does not fit
//! what the process may still allocate ([`crate::limits::budget`]).
//!
//! Each check asks for the budget afresh, so what earlier parts took (the program text,
//! the data already read) is no longer there to spend. The estimates:
//! - a program's text: [`SOURCE_BYTES`] per byte, for reading, parsing and checking it
//!   (inline tables included: 4 bytes a number and 24 a row, then the data);
//! - a CSV file: `nnc_data::MEMORY_PER_BYTE` per byte of the file, checked by the reader
//!   before it reads (and the encoded data when it is allocated);
//! - a training run: [`need`], every buffer the run holds at once.

use crate::limits::{Budget, budget, size};
use crate::pipeline::JobPlan;
use crate::report::{keeps_hidden, sampled_rows};
use nnc_diagnostics::{Diagnostic, Span, codes};
use nnc_runtime::Role;

/// Bytes of memory reading, parsing and checking a program takes, per byte of its text.
pub const SOURCE_BYTES: u64 = 16;

/// Bytes of one run's buffers, by what they are for: parameters and optimizer state, the
/// training loop's scratch, the largest evaluation's scratch and outputs, the best
/// epoch's weights that early stopping keeps, and the report's per-split rows.
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct Need {
    pub params: u64,
    pub scratch: u64,
    pub evaluation: u64,
    pub early_stopping: u64,
    pub report: u64,
}

impl Need {
    pub fn total(&self) -> u64 {
        [self.params, self.scratch, self.evaluation, self.early_stopping, self.report]
            .into_iter()
            .fold(0, u64::saturating_add)
    }
}

fn floats(n: usize) -> u64 {
    (n as u64).saturating_mul(4)
}

fn sum(lens: &[usize]) -> u64 {
    lens.iter().fold(0u64, |acc, &n| acc.saturating_add(floats(n)))
}

pub fn need(plan: &JobPlan) -> Need {
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
        .filter(|(role, _)| matches!(role, Role::Eval(_) | Role::EvalRest(_)))
        .map(|(_, p)| {
            let outputs: Vec<usize> = p.outputs.iter().map(|(_, n)| *n).collect();
            floats(p.arena_len).saturating_add(sum(&outputs))
        })
        .max()
        .unwrap_or(0);
    let forward: Vec<usize> = plan.graphs.forward.params.iter().map(|p| p.shape.numel()).collect();
    let early_stopping = if plan.job.train.patience.is_some() { sum(&forward) } else { 0 };
    Need { params, scratch, evaluation, early_stopping, report: report_bytes(plan) }
}

/// The report keeps, for every split, the targets and predictions of every row, and the
/// inputs and the kept hidden layers' activations ([`keeps_hidden`]) of its first
/// [`sampled_rows`] rows, as `run::evaluate_splits` collects them.
fn report_bytes(plan: &JobPlan) -> u64 {
    let sampled = sampled_rows(plan);
    let hidden = plan.job.model.layers.split_last().map_or(&[][..], |(_, hidden)| hidden);
    plan.data
        .splits()
        .iter()
        .map(|(name, split)| {
            let kept = hidden.iter().filter(|layer| keeps_hidden(plan, (name, split.rows), &layer.name));
            let kept: usize = kept.map(|layer| layer.output.size()).sum();
            let every_row = split.rows.saturating_mul(2 * split.n_targets());
            let sampled_rows = split.rows.min(sampled).saturating_mul(split.n_inputs() + kept);
            floats(every_row.saturating_add(sampled_rows))
        })
        .fold(0, u64::saturating_add)
}

/// The diagnostic for `what` needing `bytes` when only `budget` is left.
pub fn too_large(what: &str, bytes: u64, budget: Budget, span: Span, label: &str) -> Diagnostic {
    Diagnostic::error(
        codes::TOO_LARGE,
        format!("{what} needs {} of memory, more than {}", size(bytes), budget.describe()),
        span,
        label.to_string(),
    )
    .with_help(budget.remedy())
}

/// Refuses a program text whose reading and checking would not fit (before it is parsed).
pub fn check_source(len: usize, requested: Option<u64>) -> Result<(), Diagnostic> {
    let bytes = (len as u64).saturating_mul(SOURCE_BYTES);
    let budget = budget(requested);
    if bytes <= budget.bytes {
        return Ok(());
    }
    Err(too_large(
        &format!("the program ({}) with its inline tables", size(len as u64)),
        bytes,
        budget,
        Span::new(0, len.min(1)),
        "this program",
    )
    .with_note("a program's text is read, parsed and checked whole: put large tables in a CSV file"))
}

/// Whether `bytes`, and some room after them, can be allocated now (see [`zeros`]).
pub(crate) fn can_allocate(bytes: usize) -> bool {
    const ROOM_AFTER: usize = 8 << 20;
    let mut probe = Vec::<u8>::new();
    probe.try_reserve_exact(bytes.saturating_add(ROOM_AFTER)).is_ok()
}

/// `len` zeros, or `None` when they, and some room after them, cannot be had: a buffer
/// that takes the very last of the address space (`ulimit -v`) leaves the next small
/// allocation, anywhere, to abort the process. The room is probed with one allocation of
/// both, given back at once.
pub(crate) fn zeros(len: usize) -> Option<Vec<f32>> {
    if !can_allocate(len.checked_mul(4)?) {
        return None;
    }
    let mut buffer = Vec::new();
    buffer.try_reserve_exact(len).ok()?;
    buffer.resize(len, 0.0);
    Some(buffer)
}

/// Bytes the JSON report takes per number of its predictions and targets, as values and
/// then as text: measured 75 (a million one-value rows took 105 MB more with `--json`
/// than without).
const JSON_BYTES_PER_NUMBER: u64 = 80;

/// The JSON report's predictions and targets: every row of the primary split (`test` when
/// there is one, else the first).
fn json_report_bytes(plan: &JobPlan) -> u64 {
    let splits = plan.data.splits();
    let primary = splits.iter().find(|(name, _)| *name == "test").or(splits.first());
    primary.map_or(0, |(_, split)| {
        let numbers = split.rows.saturating_mul(2 * split.n_targets()) as u64;
        numbers.saturating_mul(JSON_BYTES_PER_NUMBER)
    })
}

/// Refuses to hold the predictions of `rows` rows of `width` numbers as JSON (`nnc
/// predict --json` lists every row; its CSV is written a part at a time) when they do not
/// fit `budget`, what the process could allocate before predicting.
pub fn check_json_predictions(rows: usize, width: usize, budget: Budget, span: Span) -> Result<(), Diagnostic> {
    let bytes = (rows as u64).saturating_mul(width as u64).saturating_mul(JSON_BYTES_PER_NUMBER);
    let held = JsonHeld {
        what: format!("the JSON of the predictions of {rows} rows"),
        every: "prediction",
        instead: "predict without `--json`: the CSV is written a part at a time",
    };
    held.check(bytes, budget, span)
}

/// Bytes the JSON report of `nnc similar` takes per match it lists (a query's own line,
/// identity and verdict count as one), as values and then as text: measured 610, 740
/// and 790 (50,000 queries against 5,000 rows took 61, 221 and 825 MB more with `--json`
/// than without for `--top 1`, 5 and 20).
const JSON_BYTES_PER_MATCH: u64 = 800;

/// Refuses to hold every query's `top` matches as JSON (`nnc similar --json` lists them
/// all; without it, only the first few are kept) when they do not fit `budget`.
pub fn check_json_matches(queries: usize, top: usize, budget: Budget, span: Span) -> Result<(), Diagnostic> {
    let bytes = (queries as u64).saturating_mul(top as u64 + 1).saturating_mul(JSON_BYTES_PER_MATCH);
    let held = JsonHeld {
        what: format!("the JSON of the matches of {queries} queries"),
        every: "query's matches",
        instead: "leave out `--json` (the text lists the first queries and every figure)",
    };
    held.check(bytes, budget, span)
}

/// What a verb's `--json` holds until the end, and what to do instead.
struct JsonHeld {
    what: String,
    every: &'static str,
    instead: &'static str,
}

impl JsonHeld {
    fn check(self, bytes: u64, budget: Budget, span: Span) -> Result<(), Diagnostic> {
        if bytes <= budget.bytes {
            return Ok(());
        }
        let remedy = budget.remedy();
        Err(too_large(&self.what, bytes, budget, span, "this job")
            .with_note(format!("`--json` holds every {} until the end, to print them as one value", self.every))
            .with_help(format!("{}; or {remedy}", self.instead)))
    }
}

/// Refuses a run that needs more than the process may still allocate (with its report as
/// JSON when `json_report`).
pub(crate) fn check_memory(plan: &JobPlan, requested: Option<u64>, json_report: bool) -> Result<(), Diagnostic> {
    let mut need = need(plan);
    let json = if json_report { json_report_bytes(plan) } else { 0 };
    need.report = need.report.saturating_add(json);
    let budget = budget(requested);
    if need.total() <= budget.bytes {
        return Ok(());
    }
    let model = &plan.job.model;
    let widest = model.layers.iter().max_by_key(|l| l.output.size()).map_or(model.input_span, |l| l.span);
    let parts = [
        ("parameters and optimizer state", need.params),
        ("scratch for one step", need.scratch),
        ("evaluation", need.evaluation),
        ("the best epoch's weights (early stopping)", need.early_stopping),
        (if json_report { "the report's rows and its JSON" } else { "the report's rows" }, need.report),
    ];
    let listed: Vec<String> =
        parts.iter().filter(|(_, bytes)| *bytes > 0).map(|(what, bytes)| format!("{what} {}", size(*bytes))).collect();
    let diagnostic =
        too_large(&format!("training `{}`", model.name), need.total(), budget, widest, "the largest layer")
            .with_note(listed.join(", "));
    if need.total().saturating_sub(json) <= budget.bytes {
        let text = "without `--json` (its report holds every prediction), or";
        return Err(diagnostic.with_help(format!("run {text} {}", budget.remedy())));
    }
    Err(diagnostic.with_help(format!(
        "use smaller layers, a smaller batch, or an optimizer with less state (sgd keeps none); or {}",
        budget.remedy()
    )))
}

/// Whether `bytes` more fit what the process may still allocate.
pub fn fits(bytes: u64, requested: Option<u64>) -> bool {
    bytes <= budget(requested).bytes
}
