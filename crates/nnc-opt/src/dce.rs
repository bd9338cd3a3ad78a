//! Dead-code elimination: drops instructions that no output or update depends on.
//!
//! It does not remove parameter or input declarations (the runtime still owns their
//! buffers), only the instructions that read them.

use crate::Rewritten;
use crate::rebuild::{Action, rebuild};
use nnc_ir::Graph;

pub fn eliminate_dead_code(graph: &Graph) -> Rewritten {
    let mut live = vec![false; graph.insts.len()];
    for (_, value) in &graph.outputs {
        live[value.index()] = true;
    }
    for (_, value) in &graph.updates {
        live[value.index()] = true;
    }
    for index in (0..graph.insts.len()).rev() {
        if live[index] {
            for arg in &graph.insts[index].args {
                live[arg.index()] = true;
            }
        }
    }
    rebuild(graph, |_, value, _, _| if live[value.index()] { Action::Keep } else { Action::Remove })
}
