//! The IR verifier. It runs after lowering and after every pass.
//!
//! Invariants:
//! - every operand is defined by an earlier instruction (SSA, definition before use);
//! - every instruction has its op's arity and the shape its typing rule gives;
//! - `input`/`param` instructions name declared slots with the declared shape;
//! - outputs and updates name existing values; an update has its parameter's shape and
//!   each parameter is updated at most once.
//!
//! A failure is a compiler bug, never a user error.

use crate::graph::Graph;
use crate::op::Op;

/// Checks the invariants above, returning every violation found.
pub fn verify(graph: &Graph) -> Result<(), Vec<String>> {
    let mut errors = Vec::new();
    for (index, inst) in graph.insts.iter().enumerate() {
        let here = || format!("%{index} ({})", inst.op.name());
        if let Some(bad) = inst.args.iter().find(|a| a.index() >= index) {
            errors.push(format!("{}: operand {bad} is not defined before use", here()));
            continue;
        }
        let arg_shapes: Vec<_> = inst.args.iter().map(|&a| graph.shape(a)).collect();
        match inst.op.result_shape(&arg_shapes, &inst.shape) {
            Ok(shape) if shape == inst.shape => {}
            Ok(shape) => errors.push(format!("{}: type says {} but operands give {shape}", here(), inst.shape)),
            Err(err) => errors.push(format!("{}: {err}", here())),
        }
        let declared = match inst.op {
            Op::Input(slot) => Some((graph.inputs.get(slot as usize), "input")),
            Op::Param(slot) => Some((graph.params.get(slot as usize), "param")),
            _ => None,
        };
        match declared {
            Some((None, kind)) => errors.push(format!("{}: undeclared {kind}", here())),
            Some((Some(decl), _)) if decl.shape != inst.shape => {
                errors.push(format!("{}: declared as {}", here(), decl.shape))
            }
            Some(_) | None => {}
        }
    }
    let defined = |v: crate::ValueId| v.index() < graph.insts.len();
    for (name, value) in &graph.outputs {
        if !defined(*value) {
            errors.push(format!("output {name} names undefined {value}"));
        }
    }
    let mut updated = vec![false; graph.params.len()];
    for (param, value) in &graph.updates {
        let Some(decl) = graph.params.get(*param as usize) else {
            errors.push(format!("update of undeclared param {param}"));
            continue;
        };
        if !defined(*value) || graph.shape(*value) != &decl.shape {
            errors.push(format!("update {} = {value} has the wrong shape or is undefined", decl.name));
        }
        if std::mem::replace(&mut updated[*param as usize], true) {
            errors.push(format!("param {} is updated twice", decl.name));
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

/// Verifies and panics with the pass name and the printed graph on failure.
pub fn assert_valid(graph: &Graph, after: &str) {
    if let Err(errors) = verify(graph) {
        panic!(
            "internal compiler error: IR invalid after {after}:\n{}\n{}",
            errors.join("\n"),
            crate::print_graph(graph)
        );
    }
}
