//! Optimisation passes over the graph IR. Each pass is one file with one entry function
//! from graph to graph; each output is densely renumbered and verified.

mod cse;
mod dce;
mod mask_from_output;
mod rebuild;
mod simplify;

pub use cse::eliminate_common_subexpressions;
pub use dce::eliminate_dead_code;
pub use mask_from_output::mask_from_output;
pub use simplify::simplify;

use nnc_ir::{Graph, assert_valid};

/// A named pass, for `--dump-after` style tooling and the pipeline below.
pub type Pass = fn(&Graph) -> Graph;

/// The default pipeline, in order.
pub const PIPELINE: &[(&str, Pass)] = &[
    ("simplify", simplify),
    ("cse", eliminate_common_subexpressions),
    ("mask-from-output", mask_from_output),
    ("dce", eliminate_dead_code),
];

/// Runs the pipeline until the graph stops shrinking (at most a few rounds).
pub fn optimize(graph: &Graph) -> Graph {
    let mut current = graph.clone();
    for _round in 0..4 {
        let before = current.insts.len();
        for (name, pass) in PIPELINE {
            current = pass(&current);
            assert_valid(&current, name);
        }
        if current.insts.len() == before {
            break;
        }
    }
    current
}
