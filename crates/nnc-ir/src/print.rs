//! The deterministic text form of a graph (what `nnc ir` shows and the goldens pin).
//!
//! ```text
//! graph @name {
//!   %0: f32[4, 2] = input x
//!   %3: f32[4, 8] = matmul %0, %1  ; dense1
//!   ; -- backward --
//!   output loss = %9
//!   update dense1.w = %20
//! }
//! ```

use crate::graph::{Graph, Section};
use crate::op::Op;
use nnc_diagnostics::LineIndex;
use std::fmt::Write;

/// Prints `graph` in its text form. Values are printed by their index, so print a
/// compacted graph (every pass output is) for stable numbering.
pub fn print_graph(graph: &Graph) -> String {
    print_graph_with(graph, None)
}

/// [`print_graph`], with each label followed by the source line it came from.
pub fn print_graph_with(graph: &Graph, lines: Option<&LineIndex>) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "graph @{} {{", graph.name);
    let mut section = Some(Section::Forward);
    for value in graph.values() {
        let inst = graph.inst(value);
        if inst.origin.section.is_some() && inst.origin.section != section {
            section = inst.origin.section;
            let _ = writeln!(out, "  ; -- {} --", section_name(section));
        }
        let _ = write!(out, "  {}", print_instruction(graph, value));
        if let (Some(lines), Some(span)) = (lines, inst.origin.span) {
            let _ = write!(out, ", line {}", lines.line(span));
        }
        out.push('\n');
    }
    for (name, value) in &graph.outputs {
        let _ = writeln!(out, "  output {name} = {value}");
    }
    for (param, value) in &graph.updates {
        let _ = writeln!(out, "  update {} = {value}", graph.params[*param as usize].name);
    }
    out.push_str("}\n");
    out
}

/// One instruction as the graph printer writes it: `%N: TYPE = op operands  ; label`.
pub fn print_instruction(graph: &Graph, value: crate::ValueId) -> String {
    let inst = graph.inst(value);
    let mut out = format!("{value}: {} = {}", inst.shape, inst.op.name());
    let operands = operands_text(graph, &inst.op, &inst.args);
    if !operands.is_empty() {
        let _ = write!(out, " {operands}");
    }
    if !inst.origin.label.is_empty() {
        let _ = write!(out, "  ; {}", inst.origin.label);
    }
    out
}

fn section_name(section: Option<Section>) -> &'static str {
    match section {
        Some(Section::Forward) | None => "forward",
        Some(Section::Backward) => "backward",
        Some(Section::Update) => "update",
    }
}

fn operands_text(graph: &Graph, op: &Op, args: &[crate::ValueId]) -> String {
    let values = args.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(", ");
    match op {
        Op::Input(index) => graph.inputs[*index as usize].name.clone(),
        Op::Param(index) => graph.params[*index as usize].name.clone(),
        Op::Const(value) => format!("{value:?}"),
        Op::ReduceSum { axes } | Op::ReduceMax { axes } => format!("{values}, axes={axes:?}"),
        Op::Window(window) | Op::WindowSum(window) => format!("{values}, {}", window.describe()),
        Op::Concat { axis } => format!("{values}, axis={axis}"),
        Op::Slice { axis, start } => format!("{values}, axis={axis}, start={start}"),
        Op::Random { salt } => format!("{values}, salt={salt}"),
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
        | Op::MatMul => values,
    }
}
