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
        units.push(Unit::TrainLoop { name: &train, step, tail: plan.program(&Role::TailStep), shape: plan.shape });
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

pub fn compile_minimization(plan: &MinimizePlan, options: Options) -> Result<Compiled, Diagnostic> {
    let names: Vec<String> = plan.programs.iter().map(|(role, _)| role.name()).collect();
    let units: Vec<Unit> = names
        .iter()
        .zip(&plan.programs)
        .map(|(name, (_, program))| Unit::Program { name, program, hot: true })
        .collect();
    nnc_codegen::compile(&units, options).map_err(|e| internal(e, plan.minimization.span))
}
