//! The one mechanism every pass uses: copy a graph instruction by instruction into a new,
//! densely numbered graph, letting the pass replace each instruction.

use nnc_ir::{Graph, Inst, ValueId};

/// What a pass does with one instruction, given its operands already mapped into `new`.
pub(crate) enum Action {
    /// Copy the instruction (with mapped operands).
    Keep,
    /// Drop it; its uses now read this value of the new graph.
    Replace(ValueId),
    /// Drop it; nothing may use it (the pass has proved it dead).
    Remove,
}

/// Rebuilds `graph`, asking `decide` about each instruction in order.
pub(crate) fn rebuild(
    graph: &Graph,
    mut decide: impl FnMut(&mut Graph, ValueId, &Inst, &[ValueId]) -> Action,
) -> Graph {
    let mut new = Graph {
        name: graph.name.clone(),
        inputs: graph.inputs.clone(),
        params: graph.params.clone(),
        insts: Vec::with_capacity(graph.insts.len()),
        outputs: Vec::new(),
        updates: Vec::new(),
    };
    let mut map: Vec<Option<ValueId>> = Vec::with_capacity(graph.insts.len());
    for (index, inst) in graph.insts.iter().enumerate() {
        // An instruction reading a removed value is itself dead (only dead values are
        // removed), so it goes too.
        let Some(args) = inst.args.iter().map(|a| map[a.index()]).collect::<Option<Vec<ValueId>>>() else {
            map.push(None);
            continue;
        };
        let mapped = match decide(&mut new, ValueId(index as u32), inst, &args) {
            Action::Keep => Some(new.push_typed(inst.op.clone(), args, inst.shape.clone(), inst.origin.clone())),
            Action::Replace(value) => Some(value),
            Action::Remove => None,
        };
        map.push(mapped);
    }
    let lookup = |v: ValueId| map[v.index()].expect("pass removed an output");
    new.outputs = graph.outputs.iter().map(|(name, v)| (name.clone(), lookup(*v))).collect();
    new.updates = graph.updates.iter().map(|(slot, v)| (*slot, lookup(*v))).collect();
    new
}
