//! Loop kernels: nested loops over the iteration space, the innermost axis four lanes at
//! a time with a scalar remainder. Values that do not change along the innermost axis are
//! computed once per outer iteration; reductions along it accumulate in registers and
//! meet memory once per outer iteration.

use crate::emit::{Emitter, Ix, UNROLL, inner_invariant};
use crate::window::{emit_windowed, window_axes};
use cranelift::prelude::*;
use nnc_kernels::{Body, Combine, Node, Store, Unary, View};

/// Emits a loop kernel. `acc` is the product a library matmul's epilogue reads for
/// `Node::Acc`.
pub(crate) fn emit_loop(e: &mut Emitter, dims: &[usize], body: &Body, acc: Option<&View>) {
    e.init_reductions(body);
    let Some((&inner, outer)) = dims.split_last() else {
        let mut values = vec![None; body.nodes.len()];
        let acc = acc.map(|view| e.load(view, &[], 1));
        e.eval(body, &[], 1, acc, &mut values);
        for store in &body.stores {
            let x = e.operand(&values, store.value, 1);
            e.store(store, &[], x, 1);
        }
        return;
    };
    if let (None, Some(window)) = (acc, window_axes(dims, body)) {
        let (outer, window) = outer.split_at(outer.len() - window);
        let mut emit_outer = windowed_levels(body, window, inner);
        e.nest(outer, OUTER_UNROLL, &mut Vec::new(), &mut emit_outer);
        return;
    }
    let mut emit_outer = outer_levels(body, acc, dims.len() - 1, inner);
    // Outer levels unroll only when short, so that long kernels stay loops.
    e.nest(outer, outer_unroll(inner), &mut Vec::new(), &mut emit_outer);
}

/// Emits points `start..end` (runtime values) of the first axis of a loop kernel of at
/// least two axes, whose reductions the caller has initialised: one thread's part of a
/// kernel split between threads (`crate::parallel`).
pub(crate) fn emit_loop_part(e: &mut Emitter, dims: &[usize], body: &Body, start: Value, end: Value) {
    debug_assert!(dims.len() >= 2, "internal error: a split kernel keeps an inner axis");
    let (&inner, outer) = dims.split_last().expect("at least two axes");
    if let Some(window) = window_axes(dims, body) {
        let (outer, window) = outer.split_at(outer.len() - window);
        let mut emit_outer = windowed_levels(body, window, inner);
        e.range(start, end, &mut |e, first| {
            e.nest(&outer[1..], OUTER_UNROLL, &mut vec![first], &mut emit_outer);
        });
        return;
    }
    let mut emit_outer = outer_levels(body, None, dims.len() - 1, inner);
    e.range(start, end, &mut |e, first| {
        e.nest(&outer[1..], outer_unroll(inner), &mut vec![first], &mut emit_outer);
    });
}

/// The code of one outer index of a kernel that reduces over a window (`window.rs`).
fn windowed_levels<'a>(body: &'a Body, window: &'a [usize], inner: usize) -> impl FnMut(&mut Emitter, &[Ix]) + 'a {
    let gathered = gathered_axes(body);
    move |e, outer_index| {
        let rows: Vec<Ix> = gathered.iter().map(|&a| outer_index[a]).collect();
        let known = e.remember_rows(&rows);
        emit_windowed(e, body, outer_index, window, inner);
        e.forget_rows(known);
    }
}

/// The code of one outer index: the run along the innermost axis (`axis`, of `inner`
/// points), with the values invariant along it hoisted.
fn outer_levels<'a>(
    body: &'a Body,
    acc: Option<&'a View>,
    axis: usize,
    inner: usize,
) -> impl FnMut(&mut Emitter, &[Ix]) + 'a {
    let invariant = inner_invariant(body, axis);
    let gathered_outer = gathered_axes(body).into_iter().filter(|&a| a < axis).collect::<Vec<_>>();
    move |e, outer_index| {
        // The data row of an outer index is the same all along the innermost axis.
        let rows: Vec<Ix> = gathered_outer.iter().map(|&a| outer_index[a]).collect();
        let known = e.remember_rows(&rows);
        let at_start: Vec<Ix> = outer_index.iter().copied().chain([Ix::constant(0)]).collect();
        let hoisted = hoist(e, body, &at_start, &invariant);
        let along = Along { body, acc, hoisted: &hoisted };
        along.emit(e, outer_index, inner);
        e.forget_rows(known);
    }
}

/// The axes some load of the body reads through the row table.
fn gathered_axes(body: &Body) -> Vec<usize> {
    let mut axes: Vec<usize> = body
        .nodes
        .iter()
        .filter_map(|n| match n {
            Node::Load(view) => view.gather,
            _ => None,
        })
        .collect();
    axes.sort_unstable();
    axes.dedup();
    axes
}

/// Outer loop levels of at most this many iterations are unrolled: none but single ones.
/// The short outer levels of image kernels (`[32, 2, 2, 32]`) unrolled by 4 made W5's
/// code 2.2 times larger (112,090 Cranelift instructions against 50,781) and its compile
/// time with it; the innermost axis is still unrolled (`UNROLL`).
const OUTER_UNROLL: usize = 1;

/// Outer levels of a kernel whose innermost axis is shorter than a vector unroll up to
/// this many copies: each copy is at most three scalar elements, and without it the loop
/// counter and address arithmetic outweigh them (W5's first im2col copy, `[32, 8, 8, 3,
/// 3]`, ran its 3 × 3 window as a loop of three: 8.4 µs a step against 4.0 unrolled;
/// `--profile`, medians of 9 interleaved runs).
const SHORT_INNER_UNROLL: usize = 4;

/// How many copies the outer levels of a kernel with `inner` points on its innermost axis
/// may unroll to.
fn outer_unroll(inner: usize) -> usize {
    if inner < 4 { SHORT_INNER_UNROLL } else { OUTER_UNROLL }
}

/// Invariant nodes evaluated once, as scalars, at the start of the innermost axis.
pub(crate) fn hoist(e: &mut Emitter, body: &Body, index: &[Ix], invariant: &[bool]) -> Vec<Option<(Value, usize)>> {
    let mut values: Vec<Option<(Value, usize)>> = vec![None; body.nodes.len()];
    for (n, node) in body.nodes.iter().enumerate() {
        if !invariant[n] {
            continue;
        }
        let value = match node {
            Node::Load(view) => e.load(view, index, 1),
            Node::Const(c) => e.fconst(*c, 1),
            Node::Unary(op, a) => {
                let a = e.operand(&values, *a, 1);
                e.unary(*op, a, 1)
            }
            Node::Binary(op, a, b) => {
                let (a, b) = (e.operand(&values, *a, 1), e.operand(&values, *b, 1));
                e.binary(*op, a, b, 1)
            }
            Node::Random { salt, seed, offset, strides } => {
                let seed = e.scalar_operand(&values, *seed);
                e.random(*salt, seed, *offset, strides, index, 1)
            }
            Node::Acc => continue,
        };
        values[n] = Some((value, 1));
    }
    values
}

/// One run along the innermost axis at fixed outer indices.
struct Along<'a> {
    body: &'a Body,
    acc: Option<&'a View>,
    hoisted: &'a [Option<(Value, usize)>],
}

/// A reduction along the innermost axis, accumulated in registers.
struct Accumulator<'a> {
    store: &'a Store,
    vector: Variable,
    scalar: Variable,
}

impl Along<'_> {
    fn emit(&self, e: &mut Emitter, outer: &[Ix], inner: usize) {
        let axis = outer.len();
        let accumulators: Vec<Accumulator> = self
            .body
            .stores
            .iter()
            .filter(|s| s.combine != Combine::Write && s.view.strides[axis] == 0)
            .map(|store| {
                let identity = store.combine.identity().unwrap_or(0.0);
                let (vector, scalar) = (e.b.declare_var(types::F32X4), e.b.declare_var(types::F32));
                let (v, s) = (e.fconst(identity, 4), e.fconst(identity, 1));
                e.b.def_var(vector, v);
                e.b.def_var(scalar, s);
                Accumulator { store, vector, scalar }
            })
            .collect();
        let vectors = if inner >= 4 { inner / 4 * 4 } else { 0 };
        if self.inlines_math() {
            // One copy of the body for the vectors and one for the remainder: each copy
            // of an inline exp, log or tanh is 40–80 instructions, which unrolled cost
            // compile time and gained nothing (W2's loss took 640 of its step's 1,560).
            e.counted(vectors, 4, 1, &mut |e, j| self.point(e, outer, j, 4, &accumulators));
            e.counted(inner - vectors, 1, 1, &mut |e, j| {
                self.point(e, outer, j.plus(vectors as i64), 1, &accumulators)
            });
        } else {
            // Long rows run four vectors per iteration: fewer branches, and the addresses
            // of the four share one base.
            let unrolled = if vectors / 4 > UNROLL { vectors / 16 * 16 } else { 0 };
            e.counted(unrolled, 16, 1, &mut |e, j| {
                for lane in 0..4 {
                    self.point(e, outer, j.plus(4 * lane), 4, &accumulators);
                }
            });
            for j in (unrolled..vectors).step_by(4) {
                self.point(e, outer, Ix::constant(j), 4, &accumulators);
            }
            for j in vectors..inner {
                self.point(e, outer, Ix::constant(j), 1, &accumulators);
            }
        }
        let at_start: Vec<Ix> = outer.iter().copied().chain([Ix::constant(0)]).collect();
        for accumulator in &accumulators {
            let mut total = e.b.use_var(accumulator.scalar);
            if vectors > 0 {
                let vector = e.b.use_var(accumulator.vector);
                let lanes = e.horizontal(accumulator.store.combine, vector);
                total = e.combine(accumulator.store.combine, lanes, total, 1);
            }
            e.store(accumulator.store, &at_start, total, 1);
        }
    }

    /// Whether the run computes an inline exp, log, log1p or tanh at every point (not
    /// only once per run, hoisted).
    fn inlines_math(&self) -> bool {
        self.body.nodes.iter().zip(self.hoisted).any(|(node, hoisted)| {
            hoisted.is_none() && matches!(node, Node::Unary(Unary::Exp | Unary::Log | Unary::Log1p | Unary::Tanh, _))
        })
    }

    /// The body at one point (`lanes` points along the innermost axis).
    fn point(&self, e: &mut Emitter, outer: &[Ix], j: Ix, lanes: usize, accumulators: &[Accumulator]) {
        let index: Vec<Ix> = outer.iter().copied().chain([j]).collect();
        let mut values = self.hoisted.to_vec();
        let acc = self.acc.map(|view| e.load(view, &index, lanes));
        e.eval(self.body, &index, lanes, acc, &mut values);
        for store in &self.body.stores {
            let x = e.operand(&values, store.value, lanes);
            match accumulators.iter().find(|a| std::ptr::eq(a.store, store)) {
                Some(accumulator) => {
                    let variable = if lanes == 4 { accumulator.vector } else { accumulator.scalar };
                    let old = e.b.use_var(variable);
                    let new = e.combine(store.combine, old, x, lanes);
                    e.b.def_var(variable, new);
                }
                None => e.store(store, &index, x, lanes),
            }
        }
    }
}
