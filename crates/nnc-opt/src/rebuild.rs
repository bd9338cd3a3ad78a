//! The one mechanism every pass uses: copy a graph instruction by instruction into a new,
//! densely numbered graph, letting the pass replace each instruction, and record what
//! became of every value and why.

use crate::Rewritten;
use nnc_ir::{Graph, Inst, ValueId};

/// What a pass does with one instruction, given its operands already mapped into `new`.
pub(crate) enum Action {
    /// Copy the instruction (with mapped operands).
    Keep,
    /// Drop it; its uses now read this value of the new graph. `rule` says why, for the
    /// record of what the pass changed (`None` for a plain re-emission).
    Replace(ValueId, Option<&'static str>),
    /// Drop it; nothing may use it (the pass has proved it dead).
    Remove,
}

/// A change a pass made to one instruction of its input.
#[derive(Clone, Debug, PartialEq)]
pub struct Note {
    /// The instruction, in the pass's input numbering.
    pub value: ValueId,
    /// What it became in the pass's output (`None`: removed).
    pub now: Option<ValueId>,
    pub rule: &'static str,
}

/// Rebuilds `graph`, asking `decide` about each instruction in order.
pub(crate) fn rebuild(
    graph: &Graph,
    mut decide: impl FnMut(&mut Graph, ValueId, &Inst, &[ValueId]) -> Action,
) -> Rewritten {
    let mut new = Graph {
        name: graph.name.clone(),
        inputs: graph.inputs.clone(),
        params: graph.params.clone(),
        insts: Vec::with_capacity(graph.insts.len()),
        outputs: Vec::new(),
        updates: Vec::new(),
    };
    let mut map: Vec<Option<ValueId>> = Vec::with_capacity(graph.insts.len());
    let mut notes = Vec::new();
    for (index, inst) in graph.insts.iter().enumerate() {
        let value = ValueId(index as u32);
        // An instruction reading a removed value is itself dead (only dead values are
        // removed), so it goes too.
        let Some(args) = inst.args.iter().map(|a| map[a.index()]).collect::<Option<Vec<ValueId>>>() else {
            map.push(None);
            notes.push(Note { value, now: None, rule: "unused" });
            continue;
        };
        let mapped = match decide(&mut new, value, inst, &args) {
            Action::Keep => Some(new.push_typed(inst.op.clone(), args, inst.shape.clone(), inst.origin.clone())),
            Action::Replace(now, rule) => {
                if let Some(rule) = rule {
                    notes.push(Note { value, now: Some(now), rule });
                }
                Some(now)
            }
            Action::Remove => {
                notes.push(Note { value, now: None, rule: "unused" });
                None
            }
        };
        map.push(mapped);
    }
    let lookup = |v: ValueId| map[v.index()].expect("pass removed an output");
    new.outputs = graph.outputs.iter().map(|(name, v)| (name.clone(), lookup(*v))).collect();
    new.updates = graph.updates.iter().map(|(slot, v)| (*slot, lookup(*v))).collect();
    Rewritten { graph: new, map, notes }
}
