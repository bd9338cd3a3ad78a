//! Reverse-mode differentiation of a graph with respect to its parameters.

use nnc_ir::{Graph, Op, Origin, Section, Shape, ValueId, vjp};

/// Appends the backward pass of `loss` (a scalar) to `graph`.
///
/// Returns the gradient of each parameter, in declaration order (`None` for parameters
/// the loss does not depend on). Only values on a path from a parameter to the loss are
/// differentiated. It does not simplify what it emits: that is the passes' job.
pub fn differentiate(graph: &mut Graph, loss: ValueId) -> Vec<Option<ValueId>> {
    let grads = adjoints(graph, loss);
    let mut param_grads = vec![None; graph.params.len()];
    for value in graph.values() {
        if let Op::Param(slot) = graph.inst(value).op {
            param_grads[slot as usize] = grads.get(value.index()).copied().flatten();
        }
    }
    param_grads
}

/// Appends the backward pass of `loss` and returns the gradient of every value of the
/// graph as it was (`None` where the loss does not depend on it through a parameter):
/// what `nnc explain` names δ.
pub fn adjoints(graph: &mut Graph, loss: ValueId) -> Vec<Option<ValueId>> {
    debug_assert_eq!(graph.shape(loss), &Shape::scalar(), "loss must be a scalar");
    let primal_len = graph.insts.len();
    let on_path = values_on_path(graph, loss);
    let mut grads: Vec<Option<ValueId>> = vec![None; graph.insts.len()];
    let seed_origin = backward_origin(graph, loss);
    grads[loss.index()] = Some(graph.push(Op::Const(1.0), Vec::new(), seed_origin));
    for value in (0..=loss.index()).rev().map(|i| ValueId(i as u32)) {
        let Some(g) = grads[value.index()] else { continue };
        if !on_path[value.index()] {
            continue;
        }
        let origin = backward_origin(graph, value);
        let args = graph.inst(value).args.clone();
        let contributions = vjp(graph, value, g, &origin);
        for (arg, contribution) in args.into_iter().zip(contributions) {
            let Some(contribution) = contribution else { continue };
            if !on_path[arg.index()] {
                continue;
            }
            grads[arg.index()] = Some(match grads[arg.index()] {
                Some(existing) => graph.push(Op::Add, vec![existing, contribution], origin.clone()),
                None => contribution,
            });
        }
    }
    grads.truncate(primal_len);
    grads
}

/// Marks values that depend on some parameter and that the loss depends on.
fn values_on_path(graph: &Graph, loss: ValueId) -> Vec<bool> {
    let mut from_params = vec![false; graph.insts.len()];
    for value in graph.values() {
        let inst = graph.inst(value);
        from_params[value.index()] =
            matches!(inst.op, Op::Param(_)) || inst.args.iter().any(|a| from_params[a.index()]);
    }
    let mut to_loss = vec![false; graph.insts.len()];
    to_loss[loss.index()] = true;
    for value in (0..=loss.index()).rev() {
        if to_loss[value] {
            for arg in &graph.insts[value].args {
                to_loss[arg.index()] = true;
            }
        }
    }
    from_params.iter().zip(&to_loss).map(|(a, b)| *a && *b).collect()
}

fn backward_origin(graph: &Graph, value: ValueId) -> Origin {
    let primal = &graph.inst(value).origin;
    let label = if primal.label.is_empty() { format!("d{value}") } else { format!("d {}", primal.label) };
    Origin { section: Some(Section::Backward), label: label.into(), span: primal.span }
}
