//! Loop kernels split between two threads. A large loop kernel is compiled as a function
//! of its own, `(env, start, end)`, that runs points `start..end` of its first axis (at
//! the tier of the function it belongs to: a step's kernels optimised, an evaluation's
//! quickly); the caller writes the addresses of the buffers the kernel touches into `env`
//! (a stack slot) and calls `nnc_parallel_loop`, which runs the second half on the helper
//! thread that computes products' halves, and the first half itself.
//!
//! Only a kernel whose two halves write disjoint elements is split: every store's stride
//! along the first axis is larger than the span of all its other axes. So a reduction
//! across the first axis, or overlapping windows summed back onto their pixels along it,
//! stays inline; reductions along the other axes start from their identity before the
//! call, as inline ones do. Each element is computed by the same operations in the same
//! order either way: results are the same to the bit.

use crate::emit::{Emitter, Helpers, Place};
use crate::loops::emit_loop_part;
use cranelift::prelude::*;
use cranelift_codegen::ir::{FuncRef, MemFlagsData};
use nnc_kernels::{Body, BufferId, Node, Program, first_axis_parts_disjoint};

/// Loop kernels of fewer points stay on one thread in code that runs every step. Each
/// split kernel is a function of its own, and Cranelift's cost per function is what sets
/// this limit: W5 trained in 220, 198 ms and compiled in 9.8, 11.1 ms with limits of 2¹⁵
/// and 2¹³ points (9.5 ms unsplit; medians of 12 interleaved runs), against a target of
/// 10 ms.
pub(crate) const MIN_POINTS: usize = 1 << 15;

/// The limit in code that runs at most once per epoch (evaluations, predictions, the last
/// smaller step): only kernels large enough for the split to outweigh the compile time
/// it costs every run (an evaluation of 2,048 images of 28×28).
pub(crate) const MIN_POINTS_COLD: usize = 1 << 18;

/// Builds the function of a split loop kernel.
pub(crate) trait LoopFunctions {
    /// Compiles the kernel `spec` describes as a function and returns references, from
    /// the function `caller` is building, to it and to `nnc_parallel_loop`; `None` when it
    /// cannot (the kernel is then emitted inline).
    fn build(&mut self, caller: &mut FunctionBuilder, spec: &LoopSpec) -> Option<(FuncRef, FuncRef)>;

    /// The fewest points of a kernel worth splitting in the function being built.
    fn min_points(&self) -> usize;
}

/// A loop kernel to compile as a function of its own.
pub(crate) struct LoopSpec<'a> {
    /// Its index in its program, for bounds-check reports and the function's name.
    pub kernel: usize,
    pub dims: &'a [usize],
    pub body: &'a Body,
    /// Each buffer's length and whether the calling function writes it.
    pub places: Vec<(usize, bool)>,
    /// The buffers the kernel reads or writes: their addresses follow the row table's in
    /// `env`, in this order.
    pub buffers: &'a [BufferId],
    /// Whether it reads data rows through the row table.
    pub gathered: bool,
    pub checked: bool,
}

/// Emits a loop kernel as a call that splits it between threads; `false` (emitting
/// nothing) when it is not split.
pub(crate) fn emit_split(e: &mut Emitter, program: &Program, dims: &[usize], body: &Body) -> bool {
    let Some(min_points) = e.split.as_ref().map(|functions| functions.min_points()) else { return false };
    let Some((dims, body)) = split(dims, body, min_points) else { return false };
    let buffers = touched(&body);
    let spec = LoopSpec {
        kernel: e.kernel,
        dims: &dims,
        body: &body,
        places: e.places.iter().map(|p| (p.len, p.written)).collect(),
        buffers: &buffers,
        gathered: e.rows.is_some(),
        checked: e.checked,
    };
    let Some((kernel, helper)) = e.split.as_mut().and_then(|functions| functions.build(e.b, &spec)) else {
        return false;
    };
    e.init_reductions(program, &body);
    let size = u32::try_from(8 * (buffers.len() + 1)).unwrap_or(u32::MAX);
    let slot = e.b.create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, size, 3));
    let rows = e.rows.unwrap_or_else(|| e.b.ins().iconst(types::I64, 0));
    e.b.ins().stack_store(types::I64, rows, slot, 0);
    for (n, buffer) in buffers.iter().enumerate() {
        let base = e.places[buffer.index()].base;
        e.b.ins().stack_store(types::I64, base, slot, 8 * (n as i32 + 1));
    }
    let env = e.b.ins().stack_addr(types::I64, slot, 0);
    let address = e.b.ins().func_addr(types::I64, kernel);
    let count = e.iconst(dims[0] as i64);
    e.b.ins().call(helper, &[address, env, count]);
    true
}

/// The body of a split kernel's function: `(env, start, end)`, points `start..end` of its
/// first axis.
pub(crate) fn emit_kernel_function(b: &mut FunctionBuilder, helpers: Helpers, spec: &LoopSpec) {
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    b.seal_block(entry);
    let [env, start, end] = [0, 1, 2].map(|n| b.block_params(entry)[n]);
    let nowhere = b.ins().iconst(types::I64, 0);
    let mut places: Vec<Place> =
        spec.places.iter().map(|&(len, written)| Place { base: nowhere, len, written }).collect();
    for (n, buffer) in spec.buffers.iter().enumerate() {
        places[buffer.index()].base = b.ins().load(types::I64, MemFlagsData::trusted(), env, 8 * (n as i32 + 1));
    }
    let rows = spec.gathered.then(|| b.ins().load(types::I64, MemFlagsData::trusted(), env, 0));
    let mut e = Emitter {
        b,
        helpers,
        places,
        rows,
        checked: spec.checked,
        kernel: spec.kernel,
        known_rows: Vec::new(),
        split: None,
    };
    emit_loop_part(&mut e, spec.dims, spec.body, start, end);
    e.b.ins().return_(&[]);
}

/// The kernel's dimensions and body as split between threads (a one-axis kernel as two
/// halves of its axis), or `None` when it is small or its halves would write the same
/// elements.
pub(crate) fn split(dims: &[usize], body: &Body, min_points: usize) -> Option<(Vec<usize>, Body)> {
    if dims.iter().product::<usize>() < min_points {
        return None;
    }
    let (dims, body) = match dims {
        [n] => halves(*n, body)?,
        _ => (dims.to_vec(), body.clone()),
    };
    let disjoint = body.stores.iter().all(|store| first_axis_parts_disjoint(&dims, &store.view.strides));
    (dims[0] >= 2 && disjoint).then_some((dims, body))
}

/// A one-axis kernel of `n` points as `[2, n / 2]`, when each half keeps whole vectors and
/// no load goes through the row table (which indexes its own axis).
fn halves(n: usize, body: &Body) -> Option<(Vec<usize>, Body)> {
    let gathered = body.nodes.iter().any(|node| matches!(node, Node::Load(view) if view.gather.is_some()));
    if !n.is_multiple_of(8) || gathered {
        return None;
    }
    let half = n / 2;
    let two = |strides: &mut Vec<isize>| *strides = vec![strides[0] * half as isize, strides[0]];
    let mut body = body.clone();
    for node in &mut body.nodes {
        match node {
            Node::Load(view) => two(&mut view.strides),
            Node::Random { strides, .. } => two(strides),
            _ => {}
        }
    }
    for store in &mut body.stores {
        two(&mut store.view.strides);
    }
    Some((vec![2, half], body))
}

/// The buffers a body reads or writes, each once.
fn touched(body: &Body) -> Vec<BufferId> {
    let loads = body.nodes.iter().filter_map(|node| match node {
        Node::Load(view) => Some(view.buffer),
        _ => None,
    });
    let mut buffers: Vec<BufferId> = loads.chain(body.stores.iter().map(|s| s.view.buffer)).collect();
    buffers.sort_unstable();
    buffers.dedup();
    buffers
}

#[cfg(test)]
mod tests {
    use super::*;
    use nnc_kernels::{Combine, NodeId, Store, View};

    fn split_step(dims: &[usize], body: &Body) -> Option<(Vec<usize>, Body)> {
        split(dims, body, MIN_POINTS)
    }

    fn view(buffer: u32, strides: Vec<isize>) -> View {
        View { buffer: BufferId(buffer), offset: 0, strides, gather: None }
    }

    fn copy(dims_strides: Vec<isize>, combine: Combine) -> Body {
        let load = Node::Load(view(0, dims_strides.clone()));
        Body { nodes: vec![load], stores: vec![Store { view: view(1, dims_strides), value: NodeId(0), combine }] }
    }

    #[test]
    fn a_large_elementwise_kernel_splits_and_a_small_one_does_not() {
        assert!(split_step(&[256, 256], &copy(vec![256, 1], Combine::Write)).is_some());
        assert!(split_step(&[32, 64], &copy(vec![64, 1], Combine::Write)).is_none(), "2,048 points");
    }

    #[test]
    fn a_one_axis_kernel_splits_in_two_halves_of_whole_vectors() {
        let (dims, body) = split_step(&[65536], &copy(vec![1], Combine::Write)).expect("split");
        assert_eq!(dims, [2, 32768]);
        assert_eq!(body.stores[0].view.strides, [32768, 1]);
        assert!(split_step(&[65538], &copy(vec![1], Combine::Write)).is_none(), "halves of whole vectors");
    }

    #[test]
    fn halves_that_would_store_to_the_same_elements_stay_inline() {
        // A sum over the first axis.
        assert!(split_step(&[256, 256], &copy(vec![0, 1], Combine::Sum)).is_none());
        // Overlapping windows along the first axis (rows 2 apart, windows 3 rows tall).
        let body = copy(vec![2 * 64, 64, 1], Combine::Add);
        assert!(split_step(&[64, 3, 64], &body).is_none());
        // Windows that do not overlap (images apart).
        let body = copy(vec![3 * 64, 64, 1], Combine::Add);
        assert!(split_step(&[256, 3, 64], &body).is_some());
    }
}
