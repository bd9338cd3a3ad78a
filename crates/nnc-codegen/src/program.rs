//! A whole kernel program in one function body: each kernel after the other.

use crate::emit::Emitter;
use crate::loops::emit_loop;
use crate::matmul::emit_matmul;
use cranelift::prelude::InstBuilder;
use nnc_kernels::{KernelKind, Program};

pub(crate) fn emit_program(e: &mut Emitter, program: &Program) {
    emit_kernels(e, program, 0, usize::MAX);
}

/// Emits `program`'s kernels from `first` on, until the function holds `budget` CLIF
/// instructions (after one kernel at least) or every kernel is emitted; returns the index
/// of the first kernel not emitted.
pub(crate) fn emit_kernels(e: &mut Emitter, program: &Program, first: usize, budget: usize) -> usize {
    let mut index = first;
    while index < program.kernels.len() && (index == first || e.b.func.dfg.num_insts() < budget) {
        e.kernel = index;
        tick(e, index as i64);
        match &program.kernels[index].kind {
            KernelKind::Loop { dims, body } => {
                if !crate::parallel::emit_split(e, program, dims, body) {
                    emit_loop(e, dims, body, None);
                }
            }
            KernelKind::Matmul(mm) => emit_matmul(e, mm),
        }
        index += 1;
    }
    if index == program.kernels.len() {
        tick(e, -1);
    }
    index
}

/// Tells the profiler that kernel `kernel` starts (or, at -1, that the program ended).
fn tick(e: &mut Emitter, kernel: i64) {
    if let Some((hook, unit)) = e.helpers.profile {
        let unit = e.iconst(unit as i64);
        let kernel = e.iconst(kernel);
        e.b.ins().call(hook, &[unit, kernel]);
    }
}

/// Whether any kernel writes each buffer (loads of the others may move freely).
pub(crate) fn written(program: &Program) -> Vec<bool> {
    let mut written = vec![false; program.buffers.len()];
    for kernel in &program.kernels {
        for buffer in kernel.writes() {
            written[buffer.index()] = true;
        }
    }
    written
}
