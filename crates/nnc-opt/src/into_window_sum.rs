//! `f(window_sum(a), b)` becomes `window_sum(f(a, window(b)))` when the windows tile the
//! image (stride = kernel, no padding, every pixel in exactly one window), `f` is an
//! elementwise binary op, and nothing else reads the `window_sum`.
//!
//! Tiling windows make `window_sum` a permutation of elements, so applying `f` before or
//! after it gives the same numbers; `window` of the same windows is the inverse
//! permutation of `b`. The gradient of a 2×2 max pool followed by the ReLU's derivative
//! (`window_sum(...) · (h > 0)`) is then computed in the pool gradient's own loop,
//! instead of being stored in image order and read back by a loop of its own (two of W5's
//! passes over 32 × 8 × 8 × 16 and 32 × 4 × 4 × 32 floats). When `b` is itself a
//! `window_sum` of the same windows (two gradients meeting at a pool's input), its
//! operand is used as it is.

use crate::Rewritten;
use crate::rebuild::{Action, rebuild};
use nnc_ir::{Graph, Inst, Op, OpClass, ValueId, Window};

pub fn move_into_window_sum(graph: &Graph) -> Rewritten {
    let uses = graph.use_counts();
    rebuild(graph, |new, _, inst, args| {
        if inst.op.class() != OpClass::Binary {
            return Action::Keep;
        }
        for side in 0..2 {
            let tiling = tiling_window_sum(graph, inst.args[side]).filter(|_| uses[inst.args[side].index()] == 1);
            if let Some(window) = tiling
                && new.shape(args[1 - side]) == &inst.shape
            {
                let value = moved_inside(new, inst, args, side, window);
                return Action::Replace(
                    value,
                    Some("f(window_sum(a), b) = window_sum(f(a, window(b))) for tiling windows"),
                );
            }
        }
        Action::Keep
    })
}

/// The windows of `value` when it is a `window_sum` of windows that tile its image.
fn tiling_window_sum(graph: &Graph, value: ValueId) -> Option<Window> {
    let inst = graph.inst(value);
    let Op::WindowSum(window) = inst.op else { return None };
    let [_, h, w, _] = *inst.shape.dims() else { return None };
    let unpadded = window.before.iter().chain(&window.after).all(|&p| p == 0);
    let [oh, ow] = window.output([h, w])?;
    let tiles = unpadded && window.stride == window.kernel && [oh * window.kernel[0], ow * window.kernel[1]] == [h, w];
    tiles.then_some(window)
}

/// Builds `window_sum(f(a, window(b)))` (operands in `inst`'s order) in `new`.
fn moved_inside(new: &mut Graph, inst: &Inst, args: &[ValueId], side: usize, window: Window) -> ValueId {
    let origin = inst.origin.clone();
    let summed = new.inst(args[side]).args[0];
    let windows_shape = new.shape(summed).clone();
    // The windows of a `window_sum` of the same tiling windows are its own operand.
    let other = match tiling_window_sum(new, args[1 - side]) {
        Some(same) if same == window => new.inst(args[1 - side]).args[0],
        _ => new.push_typed(Op::Window(window), vec![args[1 - side]], windows_shape.clone(), origin.clone()),
    };
    let operands = if side == 0 { vec![summed, other] } else { vec![other, summed] };
    let inside = new.push_typed(inst.op.clone(), operands, windows_shape, origin.clone());
    new.push_typed(Op::WindowSum(window), vec![inside], inst.shape.clone(), origin)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // Tests fail loudly by design.
    use super::*;
    use nnc_ir::{Origin, Shape, evaluate};

    fn pool(size: usize, pad: usize) -> Window {
        Window { kernel: [size, size], stride: [size, size], before: [pad, pad], after: [0, 0] }
    }

    /// `mul(window_sum(a), b)` over images [2, 4, 4, 3] (`side` says which operand the
    /// sum is), as the graph's output; a second use of the sum when `shared`.
    fn graph(window: Window, side: usize, shared: bool) -> Graph {
        let mut g = Graph::new("t");
        let o = Origin::default();
        let images = Shape(vec![2, 4, 4, 3]);
        let windows = window.windows_shape(&images).unwrap();
        let a = g.add_input("a", windows, o.clone());
        let b = g.add_input("b", images.clone(), o.clone());
        let summed = g.push_typed(Op::WindowSum(window), vec![a], images, o.clone());
        let args = if side == 0 { vec![summed, b] } else { vec![b, summed] };
        let product = g.push(Op::Sub, args, o);
        g.outputs.push(("y".to_string(), product));
        if shared {
            g.outputs.push(("s".to_string(), summed));
        }
        g
    }

    fn run(g: &Graph) -> Vec<f64> {
        let a: Vec<f64> = (0..g.inputs[0].shape.numel()).map(|i| (i as f64 * 0.37).sin()).collect();
        let b: Vec<f64> = (0..g.inputs[1].shape.numel()).map(|i| (i as f64 * 0.11).cos()).collect();
        let values = evaluate(g, &[&a, &b], &[]);
        values[g.outputs[0].1.index()].clone()
    }

    fn rewritten(g: &Graph) -> bool {
        !move_into_window_sum(g).notes.is_empty()
    }

    #[test]
    fn an_op_on_tiling_windows_moves_inside_and_computes_the_same() {
        for side in 0..2 {
            let g = graph(pool(2, 0), side, false);
            let new = move_into_window_sum(&g);
            assert_eq!(new.notes.len(), 1);
            let output = new.graph.inst(new.graph.outputs[0].1);
            assert!(matches!(output.op, Op::WindowSum(_)), "the result is the window_sum");
            assert_eq!(run(&new.graph), run(&g), "side {side}");
        }
    }

    #[test]
    fn windows_that_do_not_tile_or_a_shared_sum_stay() {
        // 3x3 windows of stride 1 overlap; padded windows reach outside the image.
        let overlapping = Window { kernel: [3, 3], stride: [1, 1], before: [0, 0], after: [0, 0] };
        assert!(!rewritten(&graph(overlapping, 0, false)));
        assert!(!rewritten(&graph(pool(2, 1), 0, false)));
        assert!(!rewritten(&graph(pool(2, 0), 0, true)), "the sum is needed anyway");
    }
}
