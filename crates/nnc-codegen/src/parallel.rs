//! Loop kernels split between two threads. A large loop kernel is compiled as a function
//! of its own, `(env, start, end)`, that runs points `start..end` of its first axis
//! (optimised, even in an evaluation, which is otherwise compiled quickly); the caller writes the addresses of the buffers the kernel touches into `env`
//! (a stack slot) and calls `nnc_parallel_loop`, which runs the second half on the helper
//! thread that computes products' halves, and the first half itself.
//!
//! A kernel is split when its two halves write disjoint elements (every store's stride
//! along the first axis is larger than the span of all its other axes), or when the
//! elements both would write are sums over the first axis: each thread then sums its half
//! into a partial of its own on the caller's stack, and the caller adds the two
//! (`summed_in_halves`). Overlapping windows summed back onto their pixels along the first
//! axis stay inline. Reductions along the other axes start from their identity before the
//! call, as inline ones do. Each element of a disjoint split is computed by the same
//! operations in the same order as inline: results are the same to the bit. Neither kind
//! depends on the number of threads: with one, the halves run in turn.

use crate::emit::{Emitter, Helpers, Place};
use crate::loops::{emit_loop, emit_loop_part};
use cranelift::prelude::*;
use cranelift_codegen::ir::{FuncRef, MemFlagsData};
use nnc_kernels::{
    Binary, Body, Buffer, BufferId, Combine, Node, NodeId, Program, Store, View, first_axis_parts_disjoint,
};

/// Loop kernels of fewer points stay on one thread in code that runs every step. Each
/// split kernel is a function of its own, and Cranelift's cost per function is what sets
/// this limit: on a Xeon, W5 trained in 220, 198 ms and compiled in 9.8, 11.1 ms with
/// limits of 2¹⁵ and 2¹³ points (9.5 ms unsplit; medians of 12 interleaved runs). On a
/// Zen 1, 2¹⁴ took W5 from 393.5 to 373.4 ms and its compile from 10.0 to 10.8 ms (11
/// interleaved runs): its first window copy, its two padded buffers' zeroing and the
/// second pool's three kernels (16,384–18,432 points) then run on both cores, and a core
/// no longer fetches the other's half of a buffer that both read. With the first
/// convolution's gradient in halves too (`threads.rs`), 2¹³ left W5 as it was (paired
/// runs, ratio 1.01, sd 0.03) and trained `shapes.nn` in 0.84 of the time (sd 0.03): its
/// pools and padded copies are 8,192–9,216 points, and the copies into and out of W5's
/// padded buffers (8,192) now run where the halves they read and write were made.
pub(crate) const MIN_POINTS: usize = 1 << 13;

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
    pub fma: bool,
}

/// Emits a loop kernel as a call that splits it between threads; `false` (emitting
/// nothing) when it is not split.
pub(crate) fn emit_split(e: &mut Emitter, program: &Program, dims: &[usize], body: &Body) -> bool {
    let Some(min_points) = e.split.as_ref().map(|functions| functions.min_points()) else { return false };
    let Some(split) = split(dims, body, min_points, &program.buffers) else { return false };
    let kept = e.places.len();
    add_partial_places(e, &split.partials);
    let buffers = touched(&split.body);
    let spec = LoopSpec {
        kernel: e.kernel,
        dims: &split.dims,
        body: &split.body,
        places: e.places.iter().map(|p| (p.len, p.written)).collect(),
        buffers: &buffers,
        gathered: e.rows.is_some(),
        checked: e.checked,
        fma: e.fma,
    };
    let Some((kernel, helper)) = e.split.as_mut().and_then(|functions| functions.build(e.b, &spec)) else {
        e.places.truncate(kept);
        return false;
    };
    e.init_reductions(&split.body);
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
    let count = e.iconst(split.dims[0] as i64);
    e.b.ins().call(helper, &[address, env, count]);
    for partial in &split.partials {
        add_halves(e, partial);
    }
    e.places.truncate(kept);
    true
}

/// Gives each partial sum its two rows in a stack slot of the function being built, as
/// buffers past the program's. Each row starts on a line of its own: with both rows in
/// one cache line, W5's fused ReLU derivative and bias gradient took 30 µs instead of 12,
/// the two cores taking the line from each other at every point.
fn add_partial_places(e: &mut Emitter, partials: &[Partial]) {
    for partial in partials {
        debug_assert_eq!(partial.scratch.index(), e.places.len(), "internal error: partials follow the buffers");
        let bytes = 4 * (2 * partial.row() + PARTIAL_ROW_ALIGN);
        let slot = e.b.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            u32::try_from(bytes).unwrap_or(u32::MAX),
            4,
        ));
        let address = e.b.ins().stack_addr(types::I64, slot, 0);
        let line = 4 * PARTIAL_ROW_ALIGN as i64;
        let end = e.b.ins().iadd_imm_s(address, line - 1);
        let base = e.b.ins().band_imm_s(end, -line);
        e.places.push(Place { base, len: 2 * partial.row(), written: true });
    }
}

/// Writes the sum of a partial's two rows into its buffer: the first thread's half of the
/// first axis, then the second's.
fn add_halves(e: &mut Emitter, partial: &Partial) {
    let row = |offset: usize| Node::Load(View { buffer: partial.scratch, offset, strides: vec![1], gather: None });
    let nodes = vec![row(0), row(partial.row()), Node::Binary(Binary::Add, NodeId(0), NodeId(1))];
    let view = View { buffer: partial.target, offset: 0, strides: vec![1], gather: None };
    let body = Body { nodes, stores: vec![Store { view, value: NodeId(2), combine: Combine::Write }] };
    emit_loop(e, &[partial.len], &body, None);
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
        fma: spec.fma,
        kernel: spec.kernel,
        known_rows: Vec::new(),
        split: None,
        reuse: Default::default(),
    };
    emit_loop_part(&mut e, spec.dims, spec.body, start, end);
    e.b.ins().return_(&[]);
}

/// A loop kernel as split between threads: the function's dimensions (the first axis
/// is the one split) and body, and the buffers it sums over that axis in halves.
pub(crate) struct Split {
    pub dims: Vec<usize>,
    pub body: Body,
    pub partials: Vec<Partial>,
}

/// A buffer a split kernel sums over its first axis: each thread sums its half of that
/// axis into its own row of `scratch` (two rows of `len` elements, a buffer past the
/// program's, each row aligned and padded to [`PARTIAL_ROW_ALIGN`]),
/// and the two rows are then added into `target`.
pub(crate) struct Partial {
    pub target: BufferId,
    pub scratch: BufferId,
    pub len: usize,
}

/// Elements a partial's row starts at a multiple of, and is padded to: two cache lines of
/// 64 bytes, the pair some cores fetch together.
const PARTIAL_ROW_ALIGN: usize = 32;

impl Partial {
    /// Elements from the first thread's row to the second's.
    fn row(&self) -> usize {
        self.len.next_multiple_of(PARTIAL_ROW_ALIGN)
    }
}

/// The most elements of all partial sums of one kernel (both rows): they live on the
/// stack of the function that calls the kernel.
const MAX_PARTIAL_ELEMENTS: usize = 1 << 13;

/// The kernel as split between threads (a one-axis kernel as two halves of its axis), or
/// `None` when it is small or its halves would write the same elements other than by
/// summing over the first axis.
pub(crate) fn split(dims: &[usize], body: &Body, min_points: usize, buffers: &[Buffer]) -> Option<Split> {
    if dims.iter().product::<usize>() < min_points {
        return None;
    }
    let (dims, body) = match dims {
        [n] => halves(*n, body)?,
        _ => (dims.to_vec(), body.clone()),
    };
    let disjoint = body.stores.iter().all(|store| first_axis_parts_disjoint(&dims, &store.view.strides));
    if disjoint {
        return (dims[0] >= 2).then_some(Split { dims, body, partials: Vec::new() });
    }
    summed_in_halves(&dims, &body, buffers)
}

/// A kernel that sums over its first axis (a bias gradient's column sums) as `[2, n / 2,
/// ...]`: each thread sums the rows of its half into a partial of its own, rather than one
/// thread summing rows that the other core's half of the previous kernel left in its
/// cache (W5's first bias gradient took 10 µs so, against 7 when both halves ran on one
/// core). The sums are then added in a different order: results change in their last
/// bits, as products summed in halves do, but not with the number of threads.
fn summed_in_halves(dims: &[usize], body: &Body, buffers: &[Buffer]) -> Option<Split> {
    let gathered = body.nodes.iter().any(|node| matches!(node, Node::Load(view) if view.gather.is_some()));
    if gathered || dims.len() < 2 || dims[0] < 4 || !dims[0].is_multiple_of(2) {
        return None;
    }
    let summed = |store: &Store| !first_axis_parts_disjoint(dims, &store.view.strides);
    let mut partials: Vec<Partial> = Vec::new();
    for store in body.stores.iter().filter(|s| summed(s)) {
        if store.combine != Combine::Sum || store.view.strides[0] != 0 {
            return None;
        }
        if !partials.iter().any(|p| p.target == store.view.buffer) {
            let scratch = BufferId(u32::try_from(buffers.len() + partials.len()).ok()?);
            let len = buffers.get(store.view.buffer.index())?.len;
            partials.push(Partial { target: store.view.buffer, scratch, len });
        }
    }
    let target = |buffer: BufferId| partials.iter().find(|p| p.target == buffer);
    let reads_target = body.nodes.iter().any(|node| matches!(node, Node::Load(view) if target(view.buffer).is_some()));
    let written_whole = body.stores.iter().any(|s| !summed(s) && target(s.view.buffer).is_some());
    let elements: usize = partials.iter().map(|p| 2 * p.row()).sum();
    if reads_target || written_whole || elements > MAX_PARTIAL_ELEMENTS {
        return None;
    }
    let half = dims[0] / 2;
    let body = first_axis_in_two(body, half, &partials);
    let dims = [&[2, half], &dims[1..]].concat();
    Some(Split { dims, body, partials })
}

/// `body` over `[2, half, …]` instead of `[2·half, …]`: each first stride `s` of a load,
/// random node or store becomes `[half·s, s]`, except that a store into a partial's
/// target goes to its scratch, a row for each half.
fn first_axis_in_two(body: &Body, half: usize, partials: &[Partial]) -> Body {
    let two = |strides: &mut Vec<isize>| strides.insert(0, strides[0] * half as isize);
    let mut body = body.clone();
    for node in &mut body.nodes {
        match node {
            Node::Load(view) => two(&mut view.strides),
            Node::Random { strides, .. } => two(strides),
            _ => {}
        }
    }
    for store in &mut body.stores {
        match partials.iter().find(|p| p.target == store.view.buffer) {
            Some(partial) => {
                store.view.buffer = partial.scratch;
                store.view.strides.insert(0, partial.row() as isize);
            }
            None => two(&mut store.view.strides),
        }
    }
    body
}

/// A one-axis kernel of `n` points as `[2, n / 2]`, when each half keeps whole vectors and
/// no load goes through the row table (which indexes its own axis).
fn halves(n: usize, body: &Body) -> Option<(Vec<usize>, Body)> {
    let gathered = body.nodes.iter().any(|node| matches!(node, Node::Load(view) if view.gather.is_some()));
    if !n.is_multiple_of(8) || gathered {
        return None;
    }
    Some((vec![2, n / 2], first_axis_in_two(body, n / 2, &[])))
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
    use nnc_kernels::Storage;

    /// Two buffers of 65,536 elements: what the kernels below read and write.
    fn buffers() -> Vec<Buffer> {
        (0..2).map(|n| Buffer { name: format!("b{n}"), len: 1 << 16, storage: Storage::Arena(n << 16) }).collect()
    }

    fn split_step(dims: &[usize], body: &Body) -> Option<(Vec<usize>, Body)> {
        split(dims, body, MIN_POINTS, &buffers()).map(|split| (split.dims, split.body))
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
        // Overlapping windows along the first axis (rows 2 apart, windows 3 rows tall).
        let body = copy(vec![2 * 64, 64, 1], Combine::Add);
        assert!(split_step(&[64, 3, 64], &body).is_none());
        // Windows that do not overlap (images apart).
        let body = copy(vec![3 * 64, 64, 1], Combine::Add);
        assert!(split_step(&[256, 3, 64], &body).is_some());
    }

    /// Column sums of a 256-wide matrix (the first axis summed).
    fn sum_rows(combine: Combine) -> Body {
        let load = Node::Load(view(0, vec![256, 1]));
        Body { nodes: vec![load], stores: vec![Store { view: view(1, vec![0, 1]), value: NodeId(0), combine }] }
    }

    #[test]
    fn a_sum_over_the_first_axis_splits_into_a_partial_per_thread() {
        let mut buffers = buffers();
        buffers[1].len = 256;
        let split = split(&[256, 256], &sum_rows(Combine::Sum), MIN_POINTS, &buffers).expect("split");
        assert_eq!(split.dims, [2, 128, 256]);
        let [partial] = split.partials.as_slice() else { panic!("one partial") };
        assert_eq!((partial.target, partial.scratch, partial.len), (BufferId(1), BufferId(2), 256));
        let Node::Load(load) = &split.body.nodes[0] else { panic!("a load") };
        assert_eq!(load.strides, [128 * 256, 256, 1]);
        let store = &split.body.stores[0].view;
        assert_eq!((store.buffer, store.strides.as_slice()), (BufferId(2), &[256, 0, 1][..]));
    }

    #[test]
    fn sums_that_cannot_be_halved_stay_inline() {
        let mut buffers = buffers();
        buffers[1].len = 256;
        let inline = |dims: &[usize], body: &Body, buffers: &[Buffer]| split(dims, body, MIN_POINTS, buffers).is_none();
        // Into what the buffer already holds, or a maximum: not a sum from zero.
        assert!(inline(&[256, 256], &sum_rows(Combine::Add), &buffers));
        assert!(inline(&[256, 256], &sum_rows(Combine::Max), &buffers));
        // An odd first axis, and a kernel that reads what it sums into.
        assert!(inline(&[255, 257], &sum_rows(Combine::Sum), &buffers));
        let mut reads_itself = sum_rows(Combine::Sum);
        reads_itself.nodes[0] = Node::Load(view(1, vec![0, 1]));
        assert!(inline(&[256, 256], &reads_itself, &buffers));
        // Partials too large for the caller's stack.
        assert!(inline(&[256, 256], &sum_rows(Combine::Sum), &self::buffers()));
    }
}
