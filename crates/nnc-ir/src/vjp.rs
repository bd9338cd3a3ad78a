//! Vector-Jacobian products: the gradient rule of every primitive op.
//!
//! Given `y = op(args)` and `g = dL/dy`, [`vjp`] appends instructions computing `dL/d arg`
//! for each operand (or `None` where the op is piecewise constant in that operand).
//! Backward instructions are ordinary primitives, so every pass applies to them.

use crate::graph::{Graph, Origin, ValueId};
use crate::op::Op;
use crate::shape::Shape;

/// Appends the gradient of each operand of `value`, given the gradient `g` of its result.
pub fn vjp(graph: &mut Graph, value: ValueId, g: ValueId, origin: &Origin) -> Vec<Option<ValueId>> {
    let inst = graph.inst(value).clone();
    let o = || origin.clone();
    let shape = inst.shape.clone();
    let a = inst.args.first().copied();
    let b = inst.args.get(1).copied();
    let (a, b) = (a.unwrap_or(value), b.unwrap_or(value));
    match inst.op {
        // Leaves have no operands.
        Op::Input(_) | Op::Param(_) | Op::Const(_) => Vec::new(),
        // y = -a; dy/da = -1
        Op::Neg => vec![Some(graph.push(Op::Neg, vec![g], o()))],
        // y = exp(a); dy/da = y
        Op::Exp => vec![Some(graph.push(Op::Mul, vec![g, value], o()))],
        // y = log(a); dy/da = 1 / a
        Op::Log => vec![Some(graph.push(Op::Div, vec![g, a], o()))],
        // y = log(1 + a); dy/da = 1 / (1 + a)
        Op::Log1p => {
            let one = graph.constant(1.0, &shape, o());
            let denominator = graph.push(Op::Add, vec![one, a], o());
            vec![Some(graph.push(Op::Div, vec![g, denominator], o()))]
        }
        // y = tanh(a); dy/da = 1 - y^2
        Op::Tanh => {
            let y2 = graph.push(Op::Mul, vec![value, value], o());
            let one = graph.constant(1.0, &shape, o());
            let slope = graph.push(Op::Sub, vec![one, y2], o());
            vec![Some(graph.push(Op::Mul, vec![g, slope], o()))]
        }
        // y = sqrt(a); dy/da = 1 / (2 y)
        Op::Sqrt => {
            let two = graph.constant(2.0, &shape, o());
            let denominator = graph.push(Op::Mul, vec![two, value], o());
            vec![Some(graph.push(Op::Div, vec![g, denominator], o()))]
        }
        // y = a + b; dy/da = dy/db = 1
        Op::Add => vec![Some(g), Some(g)],
        // y = a - b; dy/da = 1, dy/db = -1
        Op::Sub => vec![Some(g), Some(graph.push(Op::Neg, vec![g], o()))],
        // y = a * b; dy/da = b, dy/db = a
        Op::Mul => vec![Some(graph.push(Op::Mul, vec![g, b], o())), Some(graph.push(Op::Mul, vec![g, a], o()))],
        // y = a / b; dy/da = 1 / b, dy/db = -a / b^2 = -y / b
        Op::Div => {
            let da = graph.push(Op::Div, vec![g, b], o());
            let gy = graph.push(Op::Mul, vec![da, value], o());
            vec![Some(da), Some(graph.push(Op::Neg, vec![gy], o()))]
        }
        // y = max(a, b); dy/da = [a > b], dy/db = 1 - [a > b] (ties go to b)
        Op::Max => {
            let mask = graph.push(Op::CmpGt, vec![a, b], o());
            let da = graph.push(Op::Mul, vec![g, mask], o());
            vec![Some(da), Some(graph.push(Op::Sub, vec![g, da], o()))]
        }
        // y = [a > b] is piecewise constant: zero gradient almost everywhere.
        Op::CmpGt => vec![None, None],
        // y = sum over axes of a; dy/da = 1 on every summed element
        Op::ReduceSum { axes } => {
            let source = graph.shape(a).clone();
            let kept = graph.reshape(g, &source.reduce_keepdims(&axes), o());
            vec![Some(graph.broadcast(kept, &source, o()))]
        }
        // y = max over axes of a; dy/da = [a == y] / (number of tied maxima): tied maxima
        // share the gradient equally (a subgradient of max; PyTorch gives it all to the
        // first of them)
        Op::ReduceMax { axes } => {
            let source = graph.shape(a).clone();
            let keep = source.reduce_keepdims(&axes);
            let y_kept = graph.reshape(value, &keep, o());
            let y_full = graph.broadcast(y_kept, &source, o());
            let below = graph.push(Op::CmpGt, vec![y_full, a], o());
            let one = graph.constant(1.0, &source, o());
            let mask = graph.push(Op::Sub, vec![one, below], o());
            let ties = graph.push(Op::ReduceSum { axes: axes.clone() }, vec![mask], o());
            let ties = graph.reshape(ties, &keep, o());
            let g_kept = graph.reshape(g, &keep, o());
            let share = graph.push(Op::Div, vec![g_kept, ties], o());
            let share = graph.broadcast(share, &source, o());
            vec![Some(graph.push(Op::Mul, vec![share, mask], o()))]
        }
        // y = broadcast(a); dy/da sums the gradient over the repeated axes
        Op::Broadcast => {
            let source = graph.shape(a).clone();
            let axes = source.broadcast_axes(&shape);
            let summed = if axes.is_empty() { g } else { graph.push(Op::ReduceSum { axes }, vec![g], o()) };
            vec![Some(graph.reshape(summed, &source, o()))]
        }
        // y = reshape(a); the gradient is reshaped back
        Op::Reshape => {
            let source = graph.shape(a).clone();
            vec![Some(graph.reshape(g, &source, o()))]
        }
        // y = a, but a constant to differentiation: no gradient flows through it.
        Op::StopGradient => vec![None],
        // y = a^T; dL/da = g^T
        Op::Transpose => vec![Some(graph.push(Op::Transpose, vec![g], o()))],
        // Y = A B; dL/dA = G B^T, dL/dB = A^T G
        Op::MatMul => {
            let b_t = graph.push(Op::Transpose, vec![b], o());
            let da = graph.push(Op::MatMul, vec![g, b_t], o());
            let a_t = graph.push(Op::Transpose, vec![a], o());
            let db = graph.push(Op::MatMul, vec![a_t, g], o());
            vec![Some(da), Some(db)]
        }
        // y = windows of a (linear); dL/da adds each window element's gradient back to the
        // pixel it was taken from
        Op::Window(window) => {
            let source = graph.shape(a).clone();
            vec![Some(graph.push_typed(Op::WindowSum(window), vec![g], source, o()))]
        }
        // y = window sum of a (linear); its adjoint is the windows of the gradient
        Op::WindowSum(window) => vec![Some(graph.push(Op::Window(window), vec![g], o()))],
        // y = a ++ b along axis; each gets its part of the gradient
        Op::Concat { axis } => {
            let (a_shape, b_shape) = (graph.shape(a).clone(), graph.shape(b).clone());
            let start = a_shape.dims()[axis];
            let da = graph.push_typed(Op::Slice { axis, start: 0 }, vec![g], a_shape, o());
            let db = graph.push_typed(Op::Slice { axis, start }, vec![g], b_shape, o());
            vec![Some(da), Some(db)]
        }
        // y = a[start..start + len] along axis; the gradient sits there in zeros
        Op::Slice { axis, start } => {
            let source = graph.shape(a).clone();
            let zeros = |graph: &mut Graph, len: usize| {
                let mut dims = source.dims().to_vec();
                dims[axis] = len;
                (len > 0).then(|| graph.constant(0.0, &Shape(dims), o()))
            };
            let after = source.dims()[axis] - start - shape.dims()[axis];
            let mut grad = g;
            if let Some(before) = zeros(graph, start) {
                grad = graph.push(Op::Concat { axis }, vec![before, grad], o());
            }
            if let Some(after) = zeros(graph, after) {
                grad = graph.push(Op::Concat { axis }, vec![grad, after], o());
            }
            vec![Some(grad)]
        }
        // y = random numbers from the seed: no gradient
        Op::Random { .. } => vec![None],
    }
}
