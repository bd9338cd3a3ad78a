//! A whole kernel program in one function body: each kernel after the other.

use crate::emit::Emitter;
use crate::loops::emit_loop;
use crate::matmul::emit_matmul;
use cranelift::prelude::InstBuilder;
use nnc_kernels::{KernelKind, Program};

pub(crate) fn emit_program(e: &mut Emitter, program: &Program) {
    for (index, kernel) in program.kernels.iter().enumerate() {
        e.kernel = index;
        tick(e, index as i64);
        match &kernel.kind {
            KernelKind::Loop { dims, body } => {
                if !crate::parallel::emit_split(e, program, dims, body) {
                    emit_loop(e, dims, body, None);
                }
            }
            KernelKind::Matmul(mm) => emit_matmul(e, mm),
        }
    }
    tick(e, -1);
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
