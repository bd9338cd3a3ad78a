//! A product that reduces over the batch's rows into a few outputs — the weight gradient
//! `Xᵀ·δ` of a layer with a few weights (a regression's one input, a perceptron's two) —
//! is summed by the kernel that computes `δ`, instead of by a second pass over the rows.
//!
//! Without this, the kernel computing `δ` writes it for every row, and the product reads
//! every row of it and of `X` again (W4: two passes over 1,000 gathered rows, for one
//! weight). Here, for each row `c` of the product, the producer also adds
//! `X[p, c] · δ[p, j]` into `sums[c, j]` at each of its points `(p, j)`; the product
//! becomes a loop over its `m × n` outputs that runs its epilogue (the weight update)
//! with `sums` as the accumulator; and `δ` is not stored when nothing else reads it.
//!
//! The pattern: a tiled product (`m ≤` [`MAX_ROWS`], `m·n ≤` [`MAX_OUTPUTS`]) whose right
//! operand `δ` is written whole by one earlier loop or tiled product over `[k, n]`,
//! through the same view, with no kernel in between writing `δ` or the left operand `X`,
//! whose rows are read at most through the row table on its reduction axis.

use crate::ir::*;

/// Rows of the product at most: each adds a load, a multiply and a column sum to every
/// point of the producer, whose tiles are unrolled. With 8 (XOR's 8 × 1 output-layer
/// gradient matched too), `examples/xor.nn` spent 3.31 instead of 2.92 ms in Cranelift
/// and W1 trained in 1.95 instead of 1.74 ms (15 interleaved runs, medians); with 2, 2.91
/// and 1.67, and W4 (one input) 0.57 instead of 0.68 ms (21 runs).
const MAX_ROWS: usize = 2;
/// Outputs of the product at most.
const MAX_OUTPUTS: usize = 64;

pub(crate) fn reduce_in_producer(program: &mut Program) {
    for consumer in 0..program.kernels.len() {
        if let Some(producer) = matching(program, consumer) {
            rewrite(program, producer, consumer);
        }
    }
}

/// The kernel that computes the product's right operand, when the pair is the pattern.
fn matching(program: &Program, consumer: usize) -> Option<usize> {
    let KernelKind::Matmul(mm) = &program.kernels[consumer].kind else { return None };
    let plain = mm.strategy == Strategy::Tiled && mm.acc.is_none() && mm.accumulate.is_none() && mm.finish.is_none();
    let small = mm.m <= MAX_ROWS && mm.m * mm.n <= MAX_OUTPUTS && mm.k > 0;
    // X's rows may be gathered along the reduction (the batch's rows), not along `i`.
    if !plain || !small || mm.b.gather.is_some() || mm.a.gather == Some(0) || mm.a.strides[0] < 0 {
        return None;
    }
    let delta = mm.b.buffer;
    let producer = (0..consumer).rev().find(|&k| program.kernels[k].writes().contains(&delta))?;
    let between = &program.kernels[producer + 1..consumer];
    if between.iter().any(|k| k.writes().iter().any(|w| *w == delta || *w == mm.a.buffer)) {
        return None;
    }
    let kernel = &program.kernels[producer];
    let shaped = match &kernel.kind {
        KernelKind::Loop { dims, .. } => dims == &[mm.k, mm.n],
        KernelKind::Matmul(p) => p.strategy == Strategy::Tiled && (p.m, p.n) == (mm.k, mm.n),
    };
    let dims = [mm.k, mm.n];
    let same = |v: &View| v.offset == mm.b.offset && effective(&v.strides, &dims) == effective(&mm.b.strides, &dims);
    let stores: Vec<&Store> = kernel.body().stores.iter().filter(|s| s.view.buffer == delta).collect();
    let written_whole =
        matches!(stores.as_slice(), [s] if s.combine == Combine::Write && s.view.gather.is_none() && same(&s.view));
    let writes_x = kernel.writes().contains(&mm.a.buffer);
    (shaped && written_whole && !writes_x).then_some(producer)
}

/// Strides with those of extent-1 axes zeroed (their index is always 0).
fn effective(strides: &[isize], dims: &[usize]) -> Vec<isize> {
    strides.iter().zip(dims).map(|(&s, &d)| if d == 1 { 0 } else { s }).collect()
}

fn rewrite(program: &mut Program, producer: usize, consumer: usize) {
    let KernelKind::Matmul(mm) = program.kernels[consumer].kind.clone() else { unreachable!("matched a product") };
    program.buffers.push(Buffer { name: format!("k{consumer}.sums"), len: mm.m * mm.n, storage: Storage::Arena(0) });
    let sums = BufferId(program.buffers.len() as u32 - 1);
    let delta = mm.b.buffer;
    let body = body_mut(&mut program.kernels[producer]);
    let value = body.stores.iter().find(|s| s.view.buffer == delta).map(|s| s.value).expect("matched a store of δ");
    for c in 0..mm.m {
        // X[p, c] at the producer's point (p, j): the product's `a` at (c, p).
        let strides = vec![mm.a.strides[1], 0];
        let gather = mm.a.gather.map(|_| 0);
        let x = push(
            body,
            Node::Load(View {
                buffer: mm.a.buffer,
                offset: mm.a.offset + c * mm.a.strides[0] as usize,
                strides,
                gather,
            }),
        );
        let term = push(body, Node::Binary(Binary::Mul, x, value));
        let into = View { buffer: sums, offset: c * mm.n, strides: vec![0, 1], gather: None };
        body.stores.push(Store { view: into, value: term, combine: Combine::Sum });
    }
    let accumulator = View { buffer: sums, offset: 0, strides: vec![mm.n as isize, 1], gather: None };
    let nodes =
        mm.epilogue.nodes.iter().map(|n| if *n == Node::Acc { Node::Load(accumulator.clone()) } else { n.clone() });
    let epilogue = Body { nodes: nodes.collect(), stores: mm.epilogue.stores.clone() };
    program.kernels[consumer].kind = KernelKind::Loop { dims: vec![mm.m, mm.n], body: epilogue };
    let still_read = program.kernels.iter().any(|k| k.reads().iter().any(|v| v.buffer == delta));
    let private = matches!(program.buffers[delta.index()].storage, Storage::Arena(_));
    if !still_read && private {
        body_mut(&mut program.kernels[producer]).stores.retain(|s| s.view.buffer != delta);
    }
}

fn body_mut(kernel: &mut Kernel) -> &mut Body {
    match &mut kernel.kind {
        KernelKind::Loop { body, .. } => body,
        KernelKind::Matmul(mm) => &mut mm.epilogue,
    }
}

fn push(body: &mut Body, node: Node) -> NodeId {
    body.nodes.push(node);
    NodeId(body.nodes.len() as u32 - 1)
}
