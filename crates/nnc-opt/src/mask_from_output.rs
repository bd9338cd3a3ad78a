//! `cmp_gt(a, b)` where the graph also computes `m = max(a, b)` becomes `cmp_gt(m, b)`.
//!
//! It is the same mask: `max(a, b) > b` exactly when `a > b` (NaNs included, with `max`'s
//! `a > b ? a : b`). ReLU's derivative then reads the activation the forward pass keeps
//! for the weight gradient, instead of the pre-activation, which no longer needs storing.
//! It does not look for a `max` computed after the comparison.

use crate::Rewritten;
use crate::rebuild::{Action, rebuild};
use nnc_ir::{Graph, Op, ValueId};
use std::collections::HashMap;

pub fn mask_from_output(graph: &Graph) -> Rewritten {
    let mut maxima: HashMap<(ValueId, ValueId), ValueId> = HashMap::new();
    rebuild(graph, |new, _, inst, args| match inst.op {
        Op::Max => {
            let value = new.push_typed(Op::Max, args.to_vec(), inst.shape.clone(), inst.origin.clone());
            maxima.entry((args[0], args[1])).or_insert(value);
            Action::Replace(value, None)
        }
        Op::CmpGt => match maxima.get(&(args[0], args[1])) {
            Some(&max) => {
                let value = new.push_typed(Op::CmpGt, vec![max, args[1]], inst.shape.clone(), inst.origin.clone());
                Action::Replace(value, Some("the mask reads max(a, b) instead of a"))
            }
            None => Action::Keep,
        },
        _ => Action::Keep,
    })
}
