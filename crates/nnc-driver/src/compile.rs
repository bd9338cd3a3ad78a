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
    for ((name, role), (_, program)) in names.iter().zip(&plan.programs) {
        let standalone_step = matches!(role, Role::Step | Role::TailStep);
        if !standalone_step || functions == Functions::All {
            // Evaluations run at most once per epoch; standalone steps are what tests
            // compare and time.
            units.push(Unit::Program { name, program, hot: standalone_step });
        }
    }
    nnc_codegen::compile(&units, options).map_err(|e| internal(e, plan.job.span))
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
