//! Loop kernels that reduce over a small window just outside their innermost axis, such as
//! a max pool (`[images, rows, 2, 2, channels]`, each output channel the maximum over the
//! 2 × 2 window) or a pool's gradient summing its ties: the window's points are unrolled
//! inside the run along the innermost axis, and each reduced element is loaded once,
//! combined with every point in registers, and stored once.
//!
//! As a plain loop nest, each window point loaded the element, combined it and stored it
//! back, so the points of one element waited on each other through memory (a store and
//! the load after it). The points are combined in the same order as before (the window's
//! row-major order, starting from the element's value), so results are the same to the
//! bit.

use crate::emit::{Emitter, Ix, inner_invariant};
use crate::loops::hoist;
use cranelift::prelude::*;
use nnc_kernels::{Body, Combine, Node, Store, Unary};

/// The most points a window may have: a 3 × 3 window is unrolled nine times around the
/// body, and larger ones would grow the code more than the stores they save.
const WINDOW_POINTS: usize = 9;

/// How many axes just before the innermost one of a kernel over `dims` form a window its
/// reductions run over in registers (see the module docs), counted from the innermost
/// axis outwards; `None` when none do, or when doing so could change what the kernel
/// computes. The first axis is never part of it: a split kernel's first axis is the
/// threads' range.
pub(crate) fn window_axes(dims: &[usize], body: &Body) -> Option<usize> {
    let inner = dims.len().checked_sub(1)?;
    let reducing = |s: &Store| s.combine != Combine::Write && s.view.strides[inner] == 1;
    let reduced: Vec<&Store> = body.stores.iter().filter(|s| reducing(s)).collect();
    if reduced.is_empty() {
        return None;
    }
    let mut axes = 0;
    let mut points = 1;
    for axis in (1..inner).rev() {
        let zero = reduced.iter().all(|s| s.view.strides[axis] == 0);
        if !zero || points * dims[axis] > WINDOW_POINTS {
            break;
        }
        points *= dims[axis];
        axes += 1;
    }
    let window = inner - axes..inner;
    (axes > 0 && points > 1 && safe(dims, body, window)).then_some(axes)
}

/// Whether running the window's points inside the innermost axis, with the reduced
/// elements stored once after them, computes what the loop nest computes: every other
/// store touches each element once per window and innermost run (so their order does not
/// matter), no two stores share a buffer, nothing the kernel stores is read by it, no
/// window axis goes through the row table, and there is no inline exp, log or tanh (whose
/// copies would grow the code more than they gain).
fn safe(dims: &[usize], body: &Body, window: std::ops::Range<usize>) -> bool {
    let inner = window.end;
    let reduced = |s: &Store| reduced_over(s, window.clone());
    let once = |s: &Store| {
        let axes = window.clone().chain([inner]).map(|a| (s.view.strides[a].unsigned_abs(), dims[a]));
        injective(axes)
    };
    let stores_ok = body.stores.iter().all(|s| {
        let inner_stride = s.view.strides[inner];
        if reduced(s) { inner_stride == 1 } else { inner_stride != 0 && once(s) }
    });
    let mut buffers: Vec<_> = body.stores.iter().map(|s| s.view.buffer).collect();
    buffers.sort_unstable();
    let distinct = buffers.windows(2).all(|pair| pair[0] != pair[1]);
    let reads_ok = body.nodes.iter().all(|node| match node {
        Node::Load(view) => {
            buffers.binary_search(&view.buffer).is_err() && view.gather.is_none_or(|axis| axis < window.start)
        }
        Node::Unary(Unary::Exp | Unary::Log | Unary::Log1p | Unary::Tanh, _) => false,
        _ => true,
    });
    stores_ok && distinct && reads_ok
}

/// Whether `store` combines every point of the window (its axes `window`) into one
/// element.
fn reduced_over(store: &Store, mut window: std::ops::Range<usize>) -> bool {
    store.combine != Combine::Write && window.all(|a| store.view.strides[a] == 0)
}

/// Whether axes of `(stride, count)` reach distinct elements at all their points: sorted
/// by stride, each stride exceeds the span of the smaller ones.
fn injective(axes: impl Iterator<Item = (usize, usize)>) -> bool {
    let mut axes: Vec<(usize, usize)> = axes.filter(|&(_, count)| count > 1).collect();
    axes.sort_unstable();
    let mut span = 0;
    for (stride, count) in axes {
        if stride <= span {
            return false;
        }
        span += stride * (count - 1);
    }
    true
}

/// Emits the run along the innermost axis (`inner` points) at the outer indices `outer`,
/// with the window (`window`, the sizes of its axes) unrolled at each point of the run.
pub(crate) fn emit_windowed(e: &mut Emitter, body: &Body, outer: &[Ix], window: &[usize], inner: usize) {
    let points = window_points(window);
    let axis = outer.len() + window.len();
    let invariant = inner_invariant(body, axis);
    let hoisted: Vec<_> = points
        .iter()
        .map(|point| {
            let start: Vec<Ix> = outer.iter().chain(point).copied().chain([Ix::constant(0)]).collect();
            hoist(e, body, &start, &invariant)
        })
        .collect();
    let reduced: Vec<bool> = body.stores.iter().map(|s| reduced_over(s, outer.len()..axis)).collect();
    let run = Run { body, outer, points: &points, hoisted: &hoisted, reduced: &reduced };
    let vectors = inner / 4 * 4;
    // A loop over the vectors, not unrolled as `loops.rs` unrolls short rows: the window
    // already makes as many copies of the body as it has points.
    e.counted(vectors, 4, 1, &mut |e, j| run.at(e, j, 4));
    for j in vectors..inner {
        run.at(e, Ix::constant(j), 1);
    }
}

/// The window's points in row-major order, as constant indices.
fn window_points(window: &[usize]) -> Vec<Vec<Ix>> {
    let mut points: Vec<Vec<Ix>> = vec![Vec::new()];
    for &count in window {
        points = points
            .iter()
            .flat_map(|point| (0..count).map(move |i| point.iter().copied().chain([Ix::constant(i)]).collect()))
            .collect();
    }
    points
}

/// One run along the innermost axis, with the window's points and the values hoisted
/// for each.
struct Run<'a> {
    body: &'a Body,
    outer: &'a [Ix],
    points: &'a [Vec<Ix>],
    hoisted: &'a [Vec<Option<(Value, usize)>>],
    /// Whether each store is reduced over the window (else it is stored at every point).
    reduced: &'a [bool],
}

impl Run<'_> {
    /// `lanes` points of the innermost axis from `j`, at every point of the window.
    fn at(&self, e: &mut Emitter, j: Ix, lanes: usize) {
        let index = |point: &[Ix]| -> Vec<Ix> { self.outer.iter().chain(point).copied().chain([j]).collect() };
        let first = index(&self.points[0]);
        let stores = self.body.stores.iter().zip(self.reduced);
        let mut totals: Vec<Option<Value>> =
            stores.map(|(s, &reduced)| reduced.then(|| e.load(&s.view, &first, lanes))).collect();
        for (point, hoisted) in self.points.iter().zip(self.hoisted) {
            let at = index(point);
            let mut values = hoisted.clone();
            e.eval(self.body, &at, lanes, None, &mut values);
            for (store, total) in self.body.stores.iter().zip(&mut totals) {
                let x = e.operand(&values, store.value, lanes);
                match total {
                    Some(total) => *total = e.combine(store.combine, *total, x, lanes),
                    None => e.store(store, &at, x, lanes),
                }
            }
        }
        for (store, total) in self.body.stores.iter().zip(totals) {
            if let Some(total) = total {
                let write = Store { combine: Combine::Write, ..store.clone() };
                e.store(&write, &first, total, lanes);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{injective, window_axes};
    use nnc_kernels::{Body, BufferId, Combine, Node, NodeId, Store, Unary, View};

    fn view(buffer: u32, strides: &[isize]) -> View {
        View { buffer: BufferId(buffer), offset: 0, strides: strides.to_vec(), gather: None }
    }

    /// `into[...] combine= f(load from[...])` over five axes `[n, rows, 2, 2, channels]`.
    fn body(from: &[isize], into: &[isize], into_buffer: u32, combine: Combine, unary: Option<Unary>) -> Body {
        let mut nodes = vec![Node::Load(view(0, from))];
        if let Some(op) = unary {
            nodes.push(Node::Unary(op, NodeId(0)));
        }
        let value = NodeId(nodes.len() as u32 - 1);
        Body { nodes, stores: vec![Store { view: view(into_buffer, into), value, combine }] }
    }

    const DIMS: [usize; 5] = [8, 4, 2, 2, 16];
    const INPUT: [isize; 5] = [256, 32, 128, 16, 1];
    const POOLED: [isize; 5] = [64, 16, 0, 0, 1];

    #[test]
    fn a_pool_reduces_over_its_two_window_axes() {
        assert_eq!(window_axes(&DIMS, &body(&INPUT, &POOLED, 1, Combine::Max, None)), Some(2));
        assert_eq!(window_axes(&DIMS, &body(&INPUT, &POOLED, 1, Combine::Sum, None)), Some(2));
    }

    #[test]
    fn a_window_stops_at_nine_points_and_at_a_split_kernels_first_axis() {
        // [8, 4, 4, 16] summed over both middle axes: 16 points, so only the last is a window.
        let dims = [8, 4, 4, 16];
        let b = body(&[256, 64, 16, 1], &[16, 0, 0, 1], 1, Combine::Sum, None);
        assert_eq!(window_axes(&dims, &b), Some(1));
        // The first axis (a split kernel's range) is never part of the window.
        let b = body(&[32, 16, 1], &[0, 0, 1], 1, Combine::Sum, None);
        assert_eq!(window_axes(&[2, 2, 16], &b), Some(1));
        assert_eq!(window_axes(&[2, 16], &body(&[16, 1], &[0, 1], 1, Combine::Sum, None)), None);
    }

    #[test]
    fn kernels_the_window_could_change_are_left_as_loops() {
        let pool = |into: u32, unary| window_axes(&DIMS, &body(&INPUT, &POOLED, into, Combine::Max, unary));
        // Reading the buffer it reduces into, and an inline exp.
        assert_eq!(pool(0, None), None);
        assert_eq!(pool(1, Some(Unary::Exp)), None);
        // Written, not reduced: nothing to keep in registers.
        assert_eq!(window_axes(&DIMS, &body(&INPUT, &POOLED, 1, Combine::Write, None)), None);
        // Windows summed back onto overlapping pixels (a col2im): no store is reduced.
        let scatter = body(&INPUT, &[64, 16, 16, 16, 1], 1, Combine::Sum, None);
        assert_eq!(window_axes(&DIMS, &scatter), None);
    }

    #[test]
    fn a_second_store_must_reach_each_element_once_per_window() {
        let mut b = body(&INPUT, &POOLED, 1, Combine::Max, None);
        b.stores.push(Store { view: view(2, &INPUT), value: NodeId(0), combine: Combine::Write });
        assert_eq!(window_axes(&DIMS, &b), Some(2));
        b.stores[1].view = view(2, &[256, 32, 16, 16, 1]);
        assert_eq!(window_axes(&DIMS, &b), None, "two window points write the same element");
        b.stores[1].view = view(1, &INPUT);
        assert_eq!(window_axes(&DIMS, &b), None, "two stores into one buffer");
    }

    #[test]
    fn injective_axes_reach_distinct_elements() {
        assert!(injective([(1, 16), (16, 2), (128, 2)].into_iter()));
        assert!(injective([(0, 1), (4, 3)].into_iter()));
        assert!(!injective([(1, 16), (8, 2)].into_iter()));
        assert!(!injective([(0, 2)].into_iter()));
    }
}
