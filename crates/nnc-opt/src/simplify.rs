//! Algebraic simplification and constant folding on splat constants.
//!
//! A *splat* is a `const` or a `broadcast` of one. Rules (x any value, c a splat):
//! - `x + 0 = x`, `0 + x = x`, `x - 0 = x`, `x * 1 = x`, `1 * x = x`, `x / 1 = x`
//! - `x * 0 = 0`, `0 * x = 0` (programs here have no infinities worth preserving)
//! - `x - x = 0` (the same value; a training graph's values are finite where it matters)
//! - `0 - x = -x`, `-(-x) = x`, `transpose(transpose(x)) = x`
//! - `reshape(reshape(x)) = reshape(x)`, `broadcast(broadcast(x)) = broadcast(x)`
//! - an elementwise op on splats is the splat of the folded value
//!
//! It does not reassociate or distribute, so results stay bit-identical to the input graph
//! except for the folded constants.

use crate::Rewritten;
use crate::rebuild::{Action, rebuild};
use nnc_ir::{Graph, Inst, Op, OpClass, ValueId};

pub fn simplify(graph: &Graph) -> Rewritten {
    rebuild(graph, |new, _, inst, args| match rewrite(new, inst, args) {
        Some((value, rule)) => Action::Replace(value, Some(rule)),
        None => Action::Keep,
    })
}

/// The simpler value `inst` equals, and the rule that says so.
fn rewrite(new: &mut Graph, inst: &Inst, args: &[ValueId]) -> Option<(ValueId, &'static str)> {
    let value = simpler(new, inst, args)?;
    Some((value, rule_name(inst, args, new)))
}

fn rule_name(inst: &Inst, args: &[ValueId], new: &Graph) -> &'static str {
    let splat = |i: usize| args.get(i).and_then(|&v| splat_value(new, v));
    match (&inst.op, splat(0), splat(1)) {
        (op, Some(_), _) if op.class() == OpClass::Unary => "folded constant",
        (op, Some(_), Some(_)) if op.class() == OpClass::Binary => "folded constant",
        (Op::Add, _, Some(_)) => "x + 0 = x",
        (Op::Add, Some(_), _) => "0 + x = x",
        (Op::Sub, _, _) if args[0] == args[1] => "x - x = 0",
        (Op::Sub, _, Some(_)) => "x - 0 = x",
        (Op::Sub, Some(_), _) => "0 - x = -x",
        (Op::Mul, _, Some(c)) | (Op::Mul, Some(c), _) if c == 0.0 => "x * 0 = 0",
        (Op::Mul, _, Some(_)) => "x * 1 = x",
        (Op::Mul, Some(_), _) => "1 * x = x",
        (Op::Div, _, _) => "x / 1 = x",
        (Op::Neg, _, _) => "-(-x) = x",
        (Op::Transpose, _, _) => "transpose(transpose(x)) = x",
        (Op::StopGradient, _, _) => "stop_gradient(x) = x after autodiff",
        (Op::Reshape, _, _) => "reshape of a reshape",
        (Op::Broadcast, _, _) => "broadcast of a broadcast",
        _ => "simplified",
    }
}

fn simpler(new: &mut Graph, inst: &Inst, args: &[ValueId]) -> Option<ValueId> {
    let splat = |v: ValueId| splat_value(new, v);
    let origin = inst.origin.clone();
    match inst.op.class() {
        OpClass::Unary if splat(args[0]).is_some() => {
            let folded = inst.op.eval_unary(splat(args[0])?);
            return Some(new.constant(folded, &inst.shape, origin));
        }
        OpClass::Binary if splat(args[0]).is_some() && splat(args[1]).is_some() => {
            let folded = inst.op.eval_binary(splat(args[0])?, splat(args[1])?);
            return Some(new.constant(folded, &inst.shape, origin));
        }
        OpClass::Leaf
        | OpClass::Unary
        | OpClass::Binary
        | OpClass::Reduce
        | OpClass::Movement
        | OpClass::Contraction
        | OpClass::Layout
        | OpClass::Generator => {}
    }
    let (a, b) = (args.first().copied(), args.get(1).copied());
    let (sa, sb) = (a.and_then(splat), b.and_then(splat));
    match &inst.op {
        Op::Add if sb == Some(0.0) => a,
        Op::Add if sa == Some(0.0) => b,
        Op::Sub if a == b => Some(new.constant(0.0, &inst.shape, origin)),
        Op::Sub if sb == Some(0.0) => a,
        Op::Sub if sa == Some(0.0) => Some(new.push(Op::Neg, vec![b?], origin)),
        Op::Mul if sb == Some(1.0) => a,
        Op::Mul if sa == Some(1.0) => b,
        Op::Mul if sa == Some(0.0) || sb == Some(0.0) => Some(new.constant(0.0, &inst.shape, origin)),
        Op::Div if sb == Some(1.0) => a,
        Op::Neg => inner_of(new, a?, &Op::Neg),
        Op::Transpose => inner_of(new, a?, &Op::Transpose),
        // Only autodiff reads it; every graph the passes see is already differentiated.
        Op::StopGradient => a,
        Op::Reshape | Op::Broadcast => {
            let inner = inner_of(new, a?, &inst.op)?;
            Some(new.push_typed(inst.op.clone(), vec![inner], inst.shape.clone(), origin))
        }
        _ => None,
    }
}

/// The operand of `value` if `value` is itself an `op` instruction.
fn inner_of(graph: &Graph, value: ValueId, op: &Op) -> Option<ValueId> {
    let inst = graph.inst(value);
    (&inst.op == op).then(|| inst.args[0])
}

/// The scalar every element of `value` equals, if it is a constant or a broadcast of one.
fn splat_value(graph: &Graph, value: ValueId) -> Option<f32> {
    let inst = graph.inst(value);
    match inst.op {
        Op::Const(c) => Some(c),
        Op::Broadcast | Op::Reshape => splat_value(graph, inst.args[0]),
        _ => None,
    }
}
