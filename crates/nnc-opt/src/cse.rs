//! Common-subexpression elimination: one instruction per distinct (op, operands, type).
//!
//! Operands of commutative ops are ordered first, so `a + b` and `b + a` merge. It does
//! not look through algebra (`a - b` vs `-(b - a)`): that is `simplify`'s domain.

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
