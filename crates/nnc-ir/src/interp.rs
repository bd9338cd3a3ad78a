//! The reference interpreter: plain loops over the graph, the oracle for the JIT. It runs
//! in f32 (what compiled code computes) or in f64 (the reference `nnc gradcheck` takes its
//! finite differences in).

use crate::graph::Graph;
use crate::op::{Op, OpClass, Real, Window};
use crate::shape::{Shape, for_each_offset};

/// Evaluates every value of `graph`; returns them indexed by `ValueId`.
///
/// `inputs` and `params` are row-major buffers in declaration order.
pub fn evaluate<T: Real>(graph: &Graph, inputs: &[&[T]], params: &[&[T]]) -> Vec<Vec<T>> {
    let mut values: Vec<Vec<T>> = Vec::with_capacity(graph.insts.len());
    for inst in &graph.insts {
        let arg = |i: usize| values[inst.args[i].index()].as_slice();
        let result = match &inst.op {
            Op::Input(slot) => inputs[*slot as usize].to_vec(),
            Op::Param(slot) => params[*slot as usize].to_vec(),
            Op::Const(value) => vec![T::of(*value)],
            op if op.class() == OpClass::Unary => arg(0).iter().map(|&x| op.eval_unary(x)).collect(),
            op if op.class() == OpClass::Binary => {
                arg(0).iter().zip(arg(1)).map(|(&a, &b)| op.eval_binary(a, b)).collect()
            }
            Op::ReduceSum { axes } => reduce(graph, inst, axes, T::of(0.0), |acc, x| acc + x, arg(0)),
            Op::ReduceMax { axes } => {
                reduce(graph, inst, axes, T::of(f32::NEG_INFINITY), |acc, x| if x > acc { x } else { acc }, arg(0))
            }
            Op::Broadcast => {
                let source = graph.shape(inst.args[0]);
                let mut out = Vec::with_capacity(inst.shape.numel());
                for_each_offset(&inst.shape, [&source.broadcast_strides(&inst.shape)], |[o]| out.push(arg(0)[o]));
                out
            }
            Op::Reshape | Op::StopGradient => arg(0).to_vec(),
            Op::Transpose => {
                let source = graph.shape(inst.args[0]);
                let mut out = Vec::with_capacity(inst.shape.numel());
                for_each_offset(&inst.shape, [&source.transpose_strides()], |[o]| out.push(arg(0)[o]));
                out
            }
            Op::MatMul => matmul(arg(0), arg(1), graph.shape(inst.args[0]).dims(), inst.shape.dims()),
            Op::Window(window) => windows(window, graph.shape(inst.args[0]), arg(0)),
            Op::WindowSum(window) => window_sum(window, &inst.shape, arg(0)),
            Op::Concat { axis } => {
                let (a, b) = (graph.shape(inst.args[0]).dims(), graph.shape(inst.args[1]).dims());
                // Blocks of the joined axis and everything after it, one after the other.
                let (a_block, b_block) = (a[*axis..].iter().product::<usize>(), b[*axis..].iter().product::<usize>());
                let outer: usize = a[..*axis].iter().product();
                let mut out = Vec::with_capacity(inst.shape.numel());
                for o in 0..outer {
                    out.extend_from_slice(&arg(0)[o * a_block..(o + 1) * a_block]);
                    out.extend_from_slice(&arg(1)[o * b_block..(o + 1) * b_block]);
                }
                out
            }
            Op::Slice { axis, start } => {
                let source = graph.shape(inst.args[0]);
                let offset = start * source.strides()[*axis];
                let mut out = Vec::with_capacity(inst.shape.numel());
                for_each_offset(&inst.shape, [&source.strides()], |[o]| out.push(arg(0)[offset + o]));
                out
            }
            Op::Random { salt } => {
                let seed = crate::op::seed_bits(arg(0)[0].to_f32());
                (0..inst.shape.numel() as u32).map(|i| T::of(crate::op::random_uniform(seed, i, *salt))).collect()
            }
            op => unreachable!("interp: unhandled {}", op.name()),
        };
        debug_assert_eq!(result.len(), inst.shape.numel());
        values.push(result);
    }
    values
}

fn reduce<T: Real>(
    graph: &Graph,
    inst: &crate::Inst,
    axes: &[usize],
    init: T,
    combine: impl Fn(T, T) -> T,
    source: &[T],
) -> Vec<T> {
    let source_shape = graph.shape(inst.args[0]);
    let mut out = vec![init; inst.shape.numel()];
    let mut i = 0;
    for_each_offset(source_shape, [&source_shape.reduce_strides(axes)], |[o]| {
        out[o] = combine(out[o], source[i]);
        i += 1;
    });
    out
}

fn matmul<T: Real>(a: &[T], b: &[T], a_dims: &[usize], out_dims: &[usize]) -> Vec<T> {
    let (m, k, n) = (a_dims[0], a_dims[1], out_dims[1]);
    let mut out = vec![T::of(0.0); m * n];
    for i in 0..m {
        for j in 0..n {
            let mut acc = T::of(0.0);
            for p in 0..k {
                acc = acc + a[i * k + p] * b[p * n + j];
            }
            out[i * n + j] = acc;
        }
    }
    out
}

/// `Op::Window`: `[n, h, w, c]` to `[n, oh, ow, kh, kw, c]`, zeros in the padding.
fn windows<T: Real>(window: &Window, shape: &Shape, x: &[T]) -> Vec<T> {
    let [n, h, w, c] = *shape.dims() else { unreachable!("checked by the typing rule") };
    let [oh, ow] = window.output([h, w]).expect("checked by the typing rule");
    let [kh, kw] = window.kernel;
    let mut out = Vec::with_capacity(n * oh * ow * kh * kw * c);
    for b in 0..n {
        for i in 0..oh {
            for j in 0..ow {
                for u in 0..kh {
                    for v in 0..kw {
                        match (window.source(0, i, u, h), window.source(1, j, v, w)) {
                            (Some(y), Some(x0)) => {
                                let at = ((b * h + y) * w + x0) * c;
                                out.extend_from_slice(&x[at..at + c]);
                            }
                            _ => out.extend(std::iter::repeat_n(T::of(0.0), c)),
                        }
                    }
                }
            }
        }
    }
    out
}

/// `Op::WindowSum`: each window element added to the pixel it came from.
fn window_sum<T: Real>(window: &Window, shape: &Shape, windows: &[T]) -> Vec<T> {
    let [n, h, w, c] = *shape.dims() else { unreachable!("checked by the typing rule") };
    let [oh, ow] = window.output([h, w]).expect("checked by the typing rule");
    let [kh, kw] = window.kernel;
    let mut out = vec![T::of(0.0); shape.numel()];
    let mut from = 0;
    for b in 0..n {
        for i in 0..oh {
            for j in 0..ow {
                for u in 0..kh {
                    for v in 0..kw {
                        if let (Some(y), Some(x0)) = (window.source(0, i, u, h), window.source(1, j, v, w)) {
                            let at = ((b * h + y) * w + x0) * c;
                            for k in 0..c {
                                out[at + k] = out[at + k] + windows[from + k];
                            }
                        }
                        from += c;
                    }
                }
            }
        }
    }
    out
}
