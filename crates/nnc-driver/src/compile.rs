//! Kernel programs to native code: what each command compiles.

use crate::pipeline::{JobPlan, MinimizePlan};
use crate::stages::internal;
use nnc_codegen::{Compiled, Options, Unit};
use nnc_diagnostics::Diagnostic;
use nnc_runtime::Role;

/// Which functions of a job to compile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Functions {
    /// The training loop and every evaluation: what `nnc run` needs.
    Run,
    /// Also the standalone step functions the loop inlines (for tests and `nnc ir`).
    All,
}

pub fn compile_job(plan: &JobPlan, functions: Functions, options: Options) -> Result<Compiled, Diagnostic> {
    let names: Vec<(String, &Role)> = plan.programs.iter().map(|(role, _)| (role.name(), role)).collect();
    let train = Role::TrainLoop.name();
    let mut units = Vec::new();
    if let Some(step) = plan.program(&Role::Step) {
        let tail = plan.program(&Role::TailStep);
        let quick_step = run_work(plan, step) < QUICK_STEP_WORK;
        units.push(Unit::TrainLoop { name: &train, step, tail, shape: plan.shape, quick_step });
    }
    let mut aliases = Vec::new();
    for (i, ((name, role), (_, program))) in names.iter().zip(&plan.programs).enumerate() {
        let standalone_step = matches!(role, Role::Step | Role::TailStep);
        if let Some(of) = same_evaluation(plan, i, options).map(|j| &names[j].0) {
            aliases.push((name, of));
        } else if !standalone_step || functions == Functions::All {
            // Evaluations run at most once per epoch; standalone steps are what tests
            // compare and time. A standalone tail is compiled as the loop compiles its
            // own (quickly, loops split at the cold limit): split at a step's limit, a
            // sum over its rows could be added in halves where the loop's is not.
            units.push(Unit::Program { name, program, hot: matches!(role, Role::Step) });
        }
    }
    let mut compiled = nnc_codegen::compile(&units, options).map_err(|e| internal(e, plan.job.span))?;
    for (name, of) in aliases {
        if !compiled.alias(name, of) {
            return Err(internal(format!("no kernel {of} for {name}"), plan.job.span));
        }
    }
    Ok(compiled)
}

/// An earlier evaluation program with the same code as program `i`, when `i` is an
/// evaluation: splits evaluated in calls of the same rows (iris's validation and test
/// splits of 23 rows; a CNN's splits in calls of 64) share one compiled function.
/// Profiled runs compile each split's own, so that its time is its own.
fn same_evaluation(plan: &JobPlan, i: usize, options: Options) -> Option<usize> {
    let is_eval = |role: &Role| matches!(role, Role::Eval(_) | Role::EvalRest(_));
    let (role, program) = &plan.programs[i];
    if options.profile || !is_eval(role) {
        return None;
    }
    plan.programs[..i].iter().position(|(earlier, other)| is_eval(earlier) && other.same_code(program))
}

/// A run whose steps do fewer floating-point operations in generated code than this, in
/// all its epochs, has its step compiled quickly rather than well: optimising the step
/// costs about a millisecond (1.3 of `examples/xor.nn`'s 3.5 ms compile), which such a
/// short run does not earn back. Unoptimised step code took 0.03 ns more per operation
/// on most programs (xor 0.06 ms more over its 2,000 steps of 972 operations, W4 0.32 ms
/// over 1,000 of 13,013, W2 2.4 ms over 1,120 of 82,549), and 0.44 ns on the worst
/// measured (`examples/temperature.nn`, 1.3 ms over 2,160 of 1,363, as much as it saved):
/// a run under 2²² operations loses at most about what it saves.
const QUICK_STEP_WORK: u64 = 1 << 22;

/// The operations in generated code of every full step of the run (its epochs as set;
/// early stopping may end it sooner).
fn run_work(plan: &JobPlan, step: &nnc_kernels::Program) -> u64 {
    let steps = plan.job.train.epochs.saturating_mul(plan.shape.full_steps() as u64);
    step.generated_flops().saturating_mul(steps)
}

pub fn compile_minimization(plan: &MinimizePlan, options: Options) -> Result<Compiled, Diagnostic> {
    let names: Vec<String> = plan.programs.iter().map(|(role, _)| role.name()).collect();
    let units: Vec<Unit> = names
        .iter()
        .zip(&plan.programs)
        .map(|(name, (_, program))| Unit::Program { name, program, hot: true })
        .collect();
    nnc_codegen::compile(&units, options).map_err(|e| internal(e, plan.minimization.span))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::path::Path;

    /// The first job of an example, checked with its data.
    pub(crate) fn example_plan(name: &str) -> JobPlan {
        let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
        let source = std::fs::read_to_string(examples.join(name)).unwrap();
        let checked =
            crate::check(&source, &examples, crate::Overrides::default()).unwrap_or_else(|_| panic!("{name}"));
        checked.jobs.into_iter().next().unwrap()
    }

    /// Whether the splits `a` and `b` are evaluated by the same compiled function.
    fn shared(compiled: &Compiled, a: &'static str, b: &'static str) -> bool {
        let kernel = |split: &'static str| compiled.kernel(&Role::Eval(split).name()).unwrap();
        std::ptr::eq(kernel(a), kernel(b))
    }

    #[test]
    fn splits_evaluated_in_calls_of_the_same_rows_share_their_code_unless_profiled() {
        // Unless a test run caps every chunk for its own sake (then more splits share).
        if crate::graphs::requested_eval_rows().ok().flatten().is_some() {
            return;
        }
        // iris: validation and test are 23 rows each, training 104.
        let iris = example_plan("iris.nn");
        let compiled = compile_job(&iris, Functions::Run, Options { clif: true, ..Options::default() }).unwrap();
        assert!(shared(&compiled, "val", "test"));
        assert!(!shared(&compiled, "train", "test"));
        assert!(compiled.clif().contains("; eval.test: the code of eval.val\n"));
        let profiled = Options { profile: true, ..Options::default() };
        let compiled = compile_job(&iris, Functions::Run, profiled).unwrap();
        assert!(!shared(&compiled, "val", "test"));
        // A CNN's splits are evaluated 64 rows a call; their last rows differ (30 and 39).
        let cnn = example_plan("digits_cnn.nn");
        let compiled = compile_job(&cnn, Functions::Run, Options::default()).unwrap();
        assert!(shared(&compiled, "train", "test"));
        let rest = |split: &'static str| compiled.kernel(&Role::EvalRest(split).name()).unwrap();
        assert!(!std::ptr::eq(rest("train"), rest("test")));
    }
}
