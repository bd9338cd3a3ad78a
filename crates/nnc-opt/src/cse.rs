//! Common-subexpression elimination: one instruction per distinct (op, operands, type).
//!
//! Operands of commutative ops (`add`, `mul`; not `max`: see `Op::is_commutative`) are
//! ordered first, so `a + b` and `b + a` merge. It does not look through algebra
//! (`a - b` vs `-(b - a)`): that is `simplify`'s domain.

use crate::Rewritten;
use crate::rebuild::{Action, rebuild};
use nnc_ir::{Graph, Op, Shape, ValueId};
use rustc_hash::FxHashMap;

/// The identity of an instruction: op name, attribute bits, operands, result shape.
#[derive(PartialEq, Eq, Hash)]
struct Key {
    op: &'static str,
    attrs: Vec<u64>,
    args: Vec<ValueId>,
    shape: Shape,
}

pub fn eliminate_common_subexpressions(graph: &Graph) -> Rewritten {
    let mut seen: FxHashMap<Key, ValueId> = FxHashMap::default();
    rebuild(graph, |new, _, inst, args| {
        let mut args = args.to_vec();
        if inst.op.is_commutative() {
            args.sort();
        }
        let key = Key { op: inst.op.name(), attrs: attrs(&inst.op), args: args.clone(), shape: inst.shape.clone() };
        match seen.get(&key) {
            Some(&existing) => Action::Replace(existing, Some("computed before")),
            None => {
                let value = new.push_typed(inst.op.clone(), args, inst.shape.clone(), inst.origin.clone());
                seen.insert(key, value);
                Action::Replace(value, None)
            }
        }
    })
}

fn attrs(op: &Op) -> Vec<u64> {
    match op {
        Op::Input(slot) | Op::Param(slot) => vec![u64::from(*slot)],
        Op::Const(value) => vec![u64::from(value.to_bits())],
        Op::ReduceSum { axes } | Op::ReduceMax { axes } => axes.iter().map(|&a| a as u64).collect(),
        Op::Window(w) | Op::WindowSum(w) => {
            [w.kernel, w.stride, w.before, w.after].iter().flatten().map(|&x| x as u64).collect()
        }
        Op::Concat { axis } => vec![*axis as u64],
        Op::Slice { axis, start } => vec![*axis as u64, *start as u64],
        Op::Random { salt } => vec![u64::from(*salt)],
        Op::Neg
        | Op::Exp
        | Op::Log
        | Op::Log1p
        | Op::Tanh
        | Op::Sqrt
        | Op::Add
        | Op::Sub
        | Op::Mul
        | Op::Div
        | Op::Max
        | Op::CmpGt
        | Op::Broadcast
        | Op::Reshape
        | Op::Transpose
        | Op::StopGradient
        | Op::MatMul => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // Tests fail loudly by design.
    use super::*;
    use nnc_ir::{Origin, evaluate};

    /// `op(x, zero)` and `op(zero, x)` over x = [NaN, -1, 2], as the graph's two outputs.
    fn both_orders(op: Op) -> Graph {
        let mut g = Graph::new("t");
        let o = Origin::default();
        let x = g.add_input("x", Shape(vec![3]), o.clone());
        let zero = g.push_typed(Op::Const(0.0), vec![], Shape(vec![]), o.clone());
        let zeros = g.push_typed(Op::Broadcast, vec![zero], Shape(vec![3]), o.clone());
        let first = g.push(op.clone(), vec![x, zeros], o.clone());
        let second = g.push(op, vec![zeros, x], o);
        g.outputs.push(("first".to_string(), first));
        g.outputs.push(("second".to_string(), second));
        g
    }

    fn outputs(g: &Graph) -> Vec<Vec<f64>> {
        let values = evaluate(g, &[&[f64::NAN, -1.0, 2.0]], &[]);
        g.outputs.iter().map(|(_, v)| values[v.index()].clone()).collect()
    }

    fn same(a: &[Vec<f64>], b: &[Vec<f64>]) -> bool {
        a.iter().flatten().zip(b.iter().flatten()).all(|(x, y)| x.to_bits() == y.to_bits() || x.is_nan() && y.is_nan())
    }

    /// `max(x, 0)` (a ReLU: 0 for a NaN) and `max(0, x)` (NaN for a NaN) differ, so CSE
    /// neither merges them nor reorders a ReLU's operands; `x + 0` and `0 + x` merge.
    #[test]
    fn max_keeps_its_operand_order_and_add_merges() {
        let g = both_orders(Op::Max);
        let before = outputs(&g);
        assert_eq!(before[0][0], 0.0, "max(NaN, 0) is 0");
        assert!(before[1][0].is_nan(), "max(0, NaN) is NaN");
        let new = eliminate_common_subexpressions(&g);
        assert!(same(&outputs(&new.graph), &before), "CSE kept both results");
        let first = new.graph.inst(new.graph.outputs[0].1);
        assert_eq!(new.graph.inst(first.args[0]).op.name(), "input", "the ReLU is still max(x, 0)");
        let sums = eliminate_common_subexpressions(&both_orders(Op::Add));
        assert_eq!(sums.graph.outputs[0].1, sums.graph.outputs[1].1, "x + 0 and 0 + x are one value");
    }
}
