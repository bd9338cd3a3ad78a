//! The graphs a job compiles, by role: the training step (full and last partial batch,
//! the forward pass in its training form) and one evaluation forward pass per data split
//! (in its evaluation form: no dropout, batch norm by its running statistics); and the descent step of a `minimize`
//! block. Each is kept at every stage `nnc ir` can show.

use nnc_autodiff::{Optimizer, append_updates, differentiate, training_step};
use nnc_check::{Job, LayerKind};
use nnc_ir::{Graph, Op, Origin, assert_valid};
use nnc_kernels::Program;
use nnc_lower::{Minimization, Mode, lower_forward};
use nnc_opt::optimize;
use nnc_runtime::Role;

/// Every graph of one job, by stage and role.
pub struct Graphs {
    /// The lowered forward pass at the training batch size (stage `ir`).
    pub forward: Graph,
    /// Forward + backward + update, before passes (stage `grad`).
    pub step: Graph,
    /// The optimised graphs that are compiled, by role (stage `opt`).
    pub optimized: Vec<(Role, Graph)>,
    /// The same graphs before the passes, by role (the reference that tests compare the
    /// compiled code with).
    pub unoptimized: Vec<(Role, Graph)>,
}

impl Graphs {
    pub fn get(&self, role: &Role) -> Option<&Graph> {
        self.optimized.iter().find(|(r, _)| r == role).map(|(_, g)| g)
    }

    /// Every optimised graph lowered to kernels, by role.
    pub fn lower(&self) -> Vec<(Role, Program)> {
        map_graphs(&self.optimized, |role, graph| (role.clone(), lower(role, graph)))
    }
}

/// Graphs of at least this many instructions in all are optimised and lowered on two
/// threads. W5's four graphs (434 instructions) took 2.4 ms to optimise and 0.9 to lower
/// on one, a third of its compile time; a thread costs about 0.1 ms to start here, more
/// than all of W1's or xor's graphs take.
const PARALLEL_INSTS: usize = 300;

/// `f` of each graph, in order; on two threads (the helper taking every other graph)
/// when the graphs are large. Each graph's result is the same either way.
fn map_graphs<T: Send>(graphs: &[(Role, Graph)], f: impl Fn(&Role, &Graph) -> T + Sync) -> Vec<T> {
    let insts: usize = graphs.iter().map(|(_, graph)| graph.insts.len()).sum();
    if graphs.len() < 2 || insts < PARALLEL_INSTS {
        return graphs.iter().map(|(role, graph)| f(role, graph)).collect();
    }
    let f = &f;
    let odd = |graphs: &[(Role, Graph)]| graphs.iter().skip(1).step_by(2).map(|(r, g)| f(r, g)).collect::<Vec<T>>();
    std::thread::scope(|scope| {
        // No thread to be had (a process limit) is no error: this thread does it all.
        let helper = std::thread::Builder::new().spawn_scoped(scope, || odd(graphs)).ok();
        let even: Vec<T> = graphs.iter().step_by(2).map(|(r, g)| f(r, g)).collect();
        // A panic on the helper is a compiler bug; computing its share here reports it
        // the way a single thread would.
        let mut odd = helper.and_then(|h| h.join().ok()).unwrap_or_else(|| odd(graphs)).into_iter();
        let mut out = Vec::with_capacity(graphs.len());
        for item in even {
            out.push(item);
            out.extend(odd.next());
        }
        out
    })
}

/// A graph lowered to kernels; a training step's data inputs are read by row.
///
/// Only the full step runs at every step: the last, smaller step runs once per epoch and
/// an evaluation at most once per epoch, so their narrow products (`NARROW_SIDE`) above
/// a few thousand multiply-adds call the GEMM library too rather than being compiled into
/// register tiles, which keeps compile times down at no measurable cost in training time.
pub fn lower(role: &Role, graph: &Graph) -> Program {
    let rows: &[u32] = if matches!(role, Role::Step | Role::TailStep) { &[0, 1] } else { &[] };
    let hot = matches!(role, Role::Step);
    let mut options = nnc_kernels::Options {
        split_loop_points: nnc_codegen::split_loop_points(hot),
        ..nnc_kernels::Options::default()
    };
    if !hot {
        options.library_macs = options.library_macs.min(RARE_LIBRARY_MACS);
        options.narrow_library_macs = options.narrow_library_macs.min(RARE_LIBRARY_MACS);
    }
    nnc_kernels::lower(graph, rows, &options)
}

/// The library threshold of programs that run at most once per epoch.
const RARE_LIBRARY_MACS: usize = 2048;

/// Builds the graphs for training on `train_rows` rows in batches of `batch`, and for
/// evaluating each split `(name, rows)`.
pub fn build(job: &Job, batch: usize, train_rows: usize, splits: &[(&'static str, usize)]) -> Graphs {
    let tail = train_rows % batch;
    let step_at = |size: usize| {
        let forward = lower_forward(&job.model, job.train.loss, Some(job.train.loss_span), size, Mode::Train);
        training_step(&forward.graph, forward.loss, &job.train.optimizer)
    };
    let forward = lower_forward(&job.model, job.train.loss, Some(job.train.loss_span), batch, Mode::Train).graph;
    let step = step_at(batch);
    let mut unoptimized = vec![(Role::Step, step.clone())];
    if tail > 0 {
        unoptimized.push((Role::TailStep, step_at(tail)));
    }
    for &(split, rows) in splits {
        let chunk = eval_chunk(job, rows);
        let eval_at = |size: usize, suffix: &str| {
            let mut eval = lower_forward(&job.model, job.train.loss, Some(job.train.loss_span), size, Mode::Eval).graph;
            eval.name = format!("{}.eval.{split}{suffix}", job.model.name);
            eval
        };
        unoptimized.push((Role::Eval(split), eval_at(chunk, "")));
        if rows > chunk && !rows.is_multiple_of(chunk) {
            unoptimized.push((Role::EvalRest(split), eval_at(rows % chunk, ".rest")));
        }
    }
    let optimized = map_graphs(&unoptimized, |role, graph| (role.clone(), optimize(graph)));
    Graphs { forward, step, optimized, unoptimized }
}

/// Bytes of activations one evaluation call may plan: a split whose rows need more is
/// evaluated in chunks of as many rows as fit (W3's 2,560 rows of 2,048-wide layers take
/// about 16 MB and stay whole; a million rows of a small model take a few chunks).
pub const EVAL_BYTES: usize = 32 << 20;

/// Rows per evaluation call of a model with convolutions or pooling. Their window copies,
/// pools and activations are loops bound by memory over tens of kilobytes a row (W5's
/// second convolution copies 9 KB of windows a row, 113 KB at 28×28), which stay in the
/// cores' caches for this many rows and not for hundreds: evaluating W5 at 28×28's 2,048
/// training rows took 299 ms in calls of 117 rows (the memory bound) and 231 in calls of
/// 64, W5's 1,797 rows 28 ms in one call and 19 in calls of 64, `examples/digits_cnn.nn`'s
/// 34 and 23 (`docs/performance.md`, *Memory*). Dense networks keep the memory bound:
/// W3's products need their rows (35 ms whole, 43 in calls of 64).
pub const WINDOW_EVAL_ROWS: usize = 64;

/// Bytes of activations an evaluation call aims at once it has [`CACHED_EVAL_MIN_ROWS`]
/// rows: a call whose activations stay in the last-level cache is faster than one that
/// streams them through memory. A million rows of a 10-32-1 network were evaluated in
/// 100 ms in calls of 77,000 rows (the [`EVAL_BYTES`] bound, 33 MB) and in 86 in calls
/// of 8,192 to 16,384 (3.5 to 7 MB; 7 interleaved runs on a Zen 1 with 8 MiB of L3).
pub const CACHED_EVAL_BYTES: usize = 8 << 20;

/// Rows an evaluation call keeps however wide its rows: products want rows (W3's 2,158
/// rows a call were evaluated in 61.8 ms, in calls of 1,080 in 63.4 and of 540 in 64.5).
pub const CACHED_EVAL_MIN_ROWS: usize = 2048;

/// Rows per call of the evaluation of a split of `rows` rows: all of them when their
/// activations fit [`EVAL_BYTES`], else as many as fit (at least one); at most as many as
/// fit [`CACHED_EVAL_BYTES`] or [`CACHED_EVAL_MIN_ROWS`], whichever is more, and at most
/// [`WINDOW_EVAL_ROWS`] for a model with windows (neither cap under a metric loss).
/// `NNC_EVAL_ROWS` caps it, so that tests can evaluate small splits in chunks.
pub fn eval_chunk(job: &Job, rows: usize) -> usize {
    // A metric loss mines its pairs over the whole call, so its calls stay as large as
    // memory allows.
    if job.train.loss.metric().is_some() {
        return part_rows(job, rows);
    }
    let windows =
        job.model.layers.iter().any(|layer| matches!(layer.kind, LayerKind::Conv { .. } | LayerKind::Pool { .. }));
    let window_rows = if windows { WINDOW_EVAL_ROWS } else { usize::MAX };
    let cached_rows = (CACHED_EVAL_BYTES / row_bytes(job)).max(CACHED_EVAL_MIN_ROWS);
    part_rows(job, rows).min(window_rows).min(cached_rows)
}

/// Rows of a split that one part of an evaluation or prediction may hold: all of them when
/// their activations fit [`EVAL_BYTES`], else as many as fit (at least one), at most
/// `NNC_EVAL_ROWS`.
pub fn part_rows(job: &Job, rows: usize) -> usize {
    let cap = requested_eval_rows().ok().flatten().unwrap_or(usize::MAX);
    rows.min(EVAL_BYTES / row_bytes(job)).min(cap).max(1)
}

/// Bytes of activations an evaluation plans for each row: its inputs, targets (at most
/// the output's width) and each layer's output before and after its activation, in f32.
fn row_bytes(job: &Job) -> usize {
    let layers: usize = job.model.layers.iter().map(|layer| layer.output.size()).sum();
    4 * (job.model.input.size() + 3 * layers).max(1)
}

/// The rows per evaluation call `NNC_EVAL_ROWS` asks for: none when it is unset or blank,
/// an error when it is not a whole number of at least one.
pub fn requested_eval_rows() -> Result<Option<usize>, String> {
    nnc_codegen::cpu::count_variable("NNC_EVAL_ROWS")
}

/// The graphs of one minimisation: the objective and the descent step.
pub struct DescentGraphs {
    pub objective: Graph,
    /// Outputs `value` and one gradient per parameter; updates every parameter by
    /// `x - lr * df/dx`.
    pub step: Graph,
    pub step_opt: Graph,
}

impl DescentGraphs {
    pub fn lower(&self) -> Vec<(Role, Program)> {
        vec![(Role::Descend, lower(&Role::Descend, &self.step_opt))]
    }
}

pub fn descent_graphs(minimization: &Minimization) -> DescentGraphs {
    let mut step = minimization.graph.clone();
    step.name = format!("{}.step", minimization.name);
    let grads = differentiate(&mut step, minimization.objective);
    for ((name, _), grad) in minimization.params.iter().zip(&grads) {
        // A parameter the objective ignores has gradient zero; output it as a constant.
        let grad = grad.unwrap_or_else(|| step.push(Op::Const(0.0), Vec::new(), Origin::default()));
        step.outputs.push((format!("d{name}"), grad));
    }
    append_updates(&mut step, &grads, &Optimizer::sgd());
    assert_valid(&step, "autodiff");
    let step_opt = optimize(&step);
    DescentGraphs { objective: minimization.graph.clone(), step, step_opt }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example_job(name: &str) -> Job {
        crate::compile::tests::example_plan(name).job
    }

    #[test]
    fn models_with_windows_evaluate_a_few_rows_a_call_unless_their_loss_mines_pairs() {
        // Unless a test run caps every chunk for its own sake.
        if requested_eval_rows().ok().flatten().is_some() {
            return;
        }
        assert_eq!(eval_chunk(&example_job("digits_cnn.nn"), 1_797), WINDOW_EVAL_ROWS);
        assert_eq!(eval_chunk(&example_job("digits_cnn.nn"), 10), 10);
        // A triplet loss over convolutions (within the memory bound), and a dense network:
        // the whole split.
        assert_eq!(eval_chunk(&example_job("digits_identify.nn"), 1_000), 1_000);
        assert_eq!(eval_chunk(&example_job("digits.nn"), 1_797), 1_797);
        // Parts of a file to predict are not capped by the call's rows.
        assert!(part_rows(&example_job("digits_cnn.nn"), 1 << 16) > WINDOW_EVAL_ROWS);
    }

    #[test]
    fn a_dense_network_evaluates_as_many_rows_a_call_as_stay_in_cache_and_at_least_2048() {
        if requested_eval_rows().ok().flatten().is_some() {
            return;
        }
        // digits.nn: 64 inputs, 64 and 10 units: 4 · (64 + 3 · 74) = 1,144 bytes a row.
        let digits = example_job("digits.nn");
        assert_eq!(eval_chunk(&digits, 1_000_000), CACHED_EVAL_BYTES / 1_144);
        assert_eq!(part_rows(&digits, 1_000_000), EVAL_BYTES / 1_144);
        // Rows of 66 KB: 126 of them would fit the cache's share, products get 2,048,
        // and the memory bound (505 rows) comes first.
        let mut wide = digits.clone();
        wide.model.input = nnc_check::Features::Flat(16_384);
        assert_eq!(eval_chunk(&wide, 1_000_000), EVAL_BYTES / row_bytes(&wide));
    }
}
