//! Optimisation passes over the graph IR. Each pass is one file with one entry function
//! from graph to graph (with the record of what it changed); each output is densely
//! renumbered and verified.

mod cse;
mod dce;
mod into_window_sum;
mod mask_from_output;
mod rebuild;
mod simplify;

pub use cse::eliminate_common_subexpressions;
pub use dce::eliminate_dead_code;
pub use into_window_sum::move_into_window_sum;
pub use mask_from_output::mask_from_output;
pub use rebuild::Note;
pub use simplify::simplify;

use nnc_ir::{Graph, ValueId, assert_valid};

/// A pass's output: the new graph, where each input value went, and what changed.
pub struct Rewritten {
    pub graph: Graph,
    /// For each value of the input, the value of `graph` it became (`None`: removed).
    pub map: Vec<Option<ValueId>>,
    pub notes: Vec<Note>,
}

/// A named pass, for `--dump-after` style tooling and the pipeline below.
pub type Pass = fn(&Graph) -> Rewritten;

/// The default pipeline, in order.
pub const PIPELINE: &[(&str, Pass)] = &[
    ("simplify", simplify),
    ("cse", eliminate_common_subexpressions),
    ("mask-from-output", mask_from_output),
    ("into-window-sum", move_into_window_sum),
    ("dce", eliminate_dead_code),
];

/// A change to an instruction of the graph `optimize_traced` was given, by one pass.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    pub pass: &'static str,
    /// The instruction, numbered as in the input graph.
    pub value: ValueId,
    /// The input-graph value it now reads as, when it was replaced by one that existed
    /// there (`None` when it was removed or replaced by a new instruction).
    pub becomes: Option<ValueId>,
    pub rule: &'static str,
}

/// The optimised graph, where each input value ended up, and every change on the way.
pub struct Optimized {
    pub graph: Graph,
    /// For each value of the input graph, its value in `graph` (`None`: removed).
    pub map: Vec<Option<ValueId>>,
    pub changes: Vec<Change>,
}

/// Runs the pipeline until the graph stops shrinking (at most a few rounds).
pub fn optimize(graph: &Graph) -> Graph {
    optimize_traced(graph).graph
}

/// [`optimize`], recording what each pass did to which instruction of `graph`.
pub fn optimize_traced(graph: &Graph) -> Optimized {
    let mut current = graph.clone();
    let mut map: Vec<Option<ValueId>> = graph.values().map(Some).collect();
    let mut changes = Vec::new();
    for _round in 0..4 {
        let before = current.insts.len();
        for (name, pass) in PIPELINE {
            let rewritten = pass(&current);
            // Every pass's output in debug builds (where the tests run), to name the pass
            // that broke an invariant; release builds check the result once, below: after
            // every pass it was 2.7 % of `examples/iris.nn`'s whole run (callgrind).
            if cfg!(debug_assertions) {
                assert_valid(&rewritten.graph, name);
            }
            // Name each changed instruction by the first input value that maps to it.
            let mut original: Vec<Option<ValueId>> = vec![None; current.insts.len()];
            for (input, now) in map.iter().enumerate() {
                if let Some(now) = now {
                    original[now.index()].get_or_insert(ValueId(input as u32));
                }
            }
            let mut first_in_output: Vec<Option<ValueId>> = vec![None; rewritten.graph.insts.len()];
            for (before, now) in original.iter().zip(&rewritten.map) {
                if let (Some(before), Some(now)) = (before, now) {
                    first_in_output[now.index()].get_or_insert(*before);
                }
            }
            for note in &rewritten.notes {
                if let Some(value) = original[note.value.index()] {
                    let becomes = note.now.and_then(|now| first_in_output[now.index()]).filter(|&b| b != value);
                    changes.push(Change { pass: name, value, becomes, rule: note.rule });
                }
            }
            map = map.iter().map(|v| v.and_then(|v| rewritten.map[v.index()])).collect();
            current = rewritten.graph;
        }
        if current.insts.len() == before {
            break;
        }
    }
    assert_valid(&current, "optimisation");
    Optimized { graph: current, map, changes }
}
