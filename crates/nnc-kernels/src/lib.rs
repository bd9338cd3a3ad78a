//! The kernel IR between the graph IR and Cranelift: a graph fused into loop nests and
//! matrix products over index maps, scheduled, with a buffer plan.
//!
//! [`lower`] runs [`fuse`](fuse::fuse) (which ends with the kernel passes: small products
//! over the rows summed by the kernel producing their operand, sums folded into the loop
//! that writes what they sum, merged loop axes, updates inside the GEMM, finishes in
//! registers, softmax rows in the GEMM, the buffer plan), then the verifier; [`print_program`] is stage `kernels`; [`patterns`] names the fusion
//! patterns a program uses, so tests can check that each is exercised.

mod accumulate;
mod finish;
mod fuse;
mod index;
mod ir;
mod merge;
mod plan;
mod print;
mod rows_reduced;
mod softmax;
mod sum_in_writer;
mod threads;
mod verify;

pub use fuse::{Options, fuse};
pub use ir::*;
/// How a seed is passed to a program whose `Node::Random`s read it.
pub use nnc_ir::seed_value;
pub use plan::live_ranges;
pub use print::{print_program, print_program_with};
pub use verify::{DataBound, assert_valid, verify, verify_with};

use nnc_ir::Graph;
use std::collections::BTreeSet;

/// Lowers a graph to verified kernels. `row_inputs` are the inputs whose first axis is the
/// batch's rows.
pub fn lower(graph: &Graph, row_inputs: &[u32], options: &Options) -> Program {
    let program = fuse(graph, row_inputs, options);
    assert_valid(&program);
    program
}

/// A way values are fused, named so tests can check each one is exercised.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Pattern {
    /// A product of register tiles in generated code.
    TiledMatmul,
    /// A product computed by the GEMM library.
    LibraryMatmul,
    /// A product split over several threads.
    ThreadedMatmul,
    /// A product whose threads each sum half of its reduction (the rows of a batch each
    /// core copied).
    ReductionHalves,
    /// A product read through a transposed view.
    TransposedOperand,
    /// Elementwise work (bias, activation, loss terms, derivatives) applied to a product's
    /// accumulator.
    Epilogue,
    /// A reduction (a bias gradient's column sum, a loss sum) accumulated in an epilogue.
    EpilogueReduction,
    /// A parameter update written by a product's epilogue.
    EpilogueUpdate,
    /// Each row's softmax computed by the GEMM kernel on the rows it stores.
    SoftmaxRows,
    /// An elementwise chain and what it feeds computed in one loop, storing several values.
    MultiOutputLoop,
    /// A reduction in the loop that computes what it reduces.
    LoopReduction,
    /// A parameter's whole update (with optimizer state) in one loop.
    UpdateLoop,
    /// Data rows read through the row table.
    RowGather,
    /// Data rows copied for the GEMM library.
    GatheredCopy,
    /// A broadcast read as a zero stride.
    BroadcastView,
}

impl Pattern {
    pub const ALL: [Pattern; 15] = [
        Pattern::TiledMatmul,
        Pattern::LibraryMatmul,
        Pattern::ThreadedMatmul,
        Pattern::ReductionHalves,
        Pattern::TransposedOperand,
        Pattern::Epilogue,
        Pattern::EpilogueReduction,
        Pattern::EpilogueUpdate,
        Pattern::SoftmaxRows,
        Pattern::MultiOutputLoop,
        Pattern::LoopReduction,
        Pattern::UpdateLoop,
        Pattern::RowGather,
        Pattern::GatheredCopy,
        Pattern::BroadcastView,
    ];
}

/// The fusion patterns `program` uses.
pub fn patterns(program: &Program) -> BTreeSet<Pattern> {
    let mut found = BTreeSet::new();
    let is_param = |b: BufferId| matches!(program.buffer(b).storage, Storage::Param(_));
    for kernel in &program.kernels {
        let body = kernel.body();
        let reduces = body.stores.iter().any(|s| s.combine != Combine::Write);
        let updates = body.stores.iter().any(|s| is_param(s.view.buffer));
        for view in kernel.reads() {
            if view.gather.is_some() {
                found.insert(Pattern::RowGather);
            }
            if view.strides.contains(&0) && view.strides.iter().any(|&s| s != 0) {
                found.insert(Pattern::BroadcastView);
            }
        }
        match &kernel.kind {
            KernelKind::Matmul(mm) => {
                found.insert(match mm.strategy {
                    Strategy::Tiled => Pattern::TiledMatmul,
                    Strategy::Library { .. } => Pattern::LibraryMatmul,
                });
                if matches!(mm.strategy, Strategy::Library { threads, .. } if threads > 1) {
                    found.insert(Pattern::ThreadedMatmul);
                }
                if matches!(mm.strategy, Strategy::Library { halves: true, .. }) {
                    found.insert(Pattern::ReductionHalves);
                }
                if mm.a.strides.last() != Some(&1) || mm.b.strides.last() != Some(&1) {
                    found.insert(Pattern::TransposedOperand);
                }
                if body.nodes.iter().any(|n| !matches!(n, Node::Acc)) || mm.finish.is_some() {
                    found.insert(Pattern::Epilogue);
                }
                if reduces || mm.finish.as_ref().is_some_and(|f| f.sums.is_some()) {
                    found.insert(Pattern::EpilogueReduction);
                }
                if updates {
                    found.insert(Pattern::EpilogueUpdate);
                }
                if mm.finish.as_ref().is_some_and(|f| f.softmax.is_some()) {
                    found.insert(Pattern::SoftmaxRows);
                }
            }
            KernelKind::Loop { .. } => {
                if body.stores.len() >= 2 {
                    found.insert(Pattern::MultiOutputLoop);
                }
                if reduces {
                    found.insert(Pattern::LoopReduction);
                }
                if updates {
                    found.insert(Pattern::UpdateLoop);
                }
                if kernel.covers.is_empty()
                    && body.nodes.iter().any(|n| matches!(n, Node::Load(v) if v.gather.is_some()))
                {
                    found.insert(Pattern::GatheredCopy);
                }
            }
        }
    }
    found
}
