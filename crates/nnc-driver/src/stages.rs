//! The text of each compiler stage, as `nnc ir --stage` prints it and the goldens pin it.

use crate::compile::{Functions, compile_job, compile_minimization};
use crate::pipeline::{Overrides, check};
use nnc_diagnostics::{Diagnostic, LineIndex, Span, codes};
use std::path::Path;

/// A compiler stage that `nnc ir --stage` can print.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// The parsed syntax tree.
    Ast,
    /// The lowered forward graph.
    Ir,
    /// Forward, backward and update: the training step before passes.
    Grad,
    /// Every compiled graph after the passes.
    Opt,
    /// Every compiled graph as fused kernels with their buffer plan.
    Kernels,
    /// The Cranelift IR of each compiled function.
    Clif,
    /// The machine code of each compiled function, as Cranelift lists it.
    Asm,
}

impl Stage {
    pub const ALL: [Stage; 7] =
        [Stage::Ast, Stage::Ir, Stage::Grad, Stage::Opt, Stage::Kernels, Stage::Clif, Stage::Asm];

    pub fn name(self) -> &'static str {
        match self {
            Stage::Ast => "ast",
            Stage::Ir => "ir",
            Stage::Grad => "grad",
            Stage::Opt => "opt",
            Stage::Kernels => "kernels",
            Stage::Clif => "clif",
            Stage::Asm => "asm",
        }
    }

    pub fn from_name(name: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// The text of one stage for every block of the program. The syntax tree needs only
/// parsing; later stages check the program and read its data (graphs depend on the number
/// of rows). Machine code is for the class of CPU `NNC_CPU` or the host gives.
pub fn stage_text(source: &str, base_dir: &Path, stage: Stage) -> Result<String, Vec<Diagnostic>> {
    stage_text_for(source, base_dir, stage, None)
}

/// [`stage_text`] with machine code for `class` (at most the host's).
pub fn stage_text_for(
    source: &str,
    base_dir: &Path,
    stage: Stage,
    class: Option<nnc_codegen::cpu::CpuClass>,
) -> Result<String, Vec<Diagnostic>> {
    let asm = nnc_codegen::Options { asm: true, class, ..nnc_codegen::Options::default() };
    if stage == Stage::Ast {
        return Ok(nnc_syntax::print_program(&nnc_syntax::parse(source)?));
    }
    let checked = check(source, base_dir, Overrides::default())?;
    let lines = LineIndex::new(source);
    let graph = |graph: &nnc_ir::Graph| nnc_ir::print_graph_with(graph, Some(&lines));
    let program = |program: &nnc_kernels::Program| nnc_kernels::print_program_with(program, Some(&lines));
    let mut out = String::new();
    for plan in &checked.minimizations {
        let graphs = &plan.graphs;
        match stage {
            Stage::Ast => {}
            Stage::Ir => out.push_str(&graph(&graphs.objective)),
            Stage::Grad => out.push_str(&graph(&graphs.step)),
            Stage::Opt => out.push_str(&optimized_text(&graphs.step, &lines)),
            Stage::Kernels => {
                for (_, kernels) in &plan.programs {
                    out.push_str(&program(kernels));
                }
            }
            Stage::Clif => out.push_str(&compile_minimization(plan, clif_options()).map_err(|d| vec![d])?.clif()),
            Stage::Asm => out.push_str(compile_minimization(plan, asm).map_err(|d| vec![d])?.asm()),
        }
    }
    for plan in &checked.jobs {
        let graphs = &plan.graphs;
        match stage {
            Stage::Ast => {}
            Stage::Ir => out.push_str(&graph(&graphs.forward)),
            Stage::Grad => out.push_str(&graph(&graphs.step)),
            Stage::Opt => {
                for (_, unoptimized) in &graphs.unoptimized {
                    out.push_str(&optimized_text(unoptimized, &lines));
                }
            }
            Stage::Kernels => {
                for (_, kernels) in &plan.programs {
                    out.push_str(&program(kernels));
                }
            }
            Stage::Clif => {
                out.push_str(&compile_job(plan, Functions::All, clif_options()).map_err(|d| vec![d])?.clif())
            }
            Stage::Asm => out.push_str(compile_job(plan, Functions::All, asm).map_err(|d| vec![d])?.asm()),
        }
    }
    Ok(out)
}

/// A graph after the passes, then what each pass changed, in the numbering of the graph
/// before them (stage `grad` for a training step).
fn optimized_text(graph: &nnc_ir::Graph, lines: &LineIndex) -> String {
    let optimized = nnc_opt::optimize_traced(graph);
    let mut out = nnc_ir::print_graph_with(&optimized.graph, Some(lines));
    if optimized.changes.is_empty() {
        return out;
    }
    out.push_str(&format!("; passes over @{} (numbered as before them):\n", graph.name));
    let mut removed: Vec<(&str, String)> = Vec::new();
    for change in &optimized.changes {
        let what = instruction_text(graph, change.value);
        match change.becomes {
            _ if change.rule == "unused" => removed.push((change.pass, change.value.to_string())),
            Some(other) => out.push_str(&format!(";   {}: {what} -> {other} ({})\n", change.pass, change.rule)),
            None => out.push_str(&format!(";   {}: {what} ({})\n", change.pass, change.rule)),
        }
    }
    let mut passes: Vec<&str> = removed.iter().map(|(pass, _)| *pass).collect();
    passes.dedup();
    for pass in passes {
        let values: Vec<&str> = removed.iter().filter(|(p, _)| *p == pass).map(|(_, v)| v.as_str()).collect();
        out.push_str(&format!(";   {pass}: removed {} (nothing reads them)\n", values.join(" ")));
    }
    out
}

/// `%N = op operands`, as the IR printer writes an instruction.
fn instruction_text(graph: &nnc_ir::Graph, value: nnc_ir::ValueId) -> String {
    let line = nnc_ir::print_instruction(graph, value);
    line.split("  ;").next().unwrap_or_default().trim().to_string()
}

fn clif_options() -> nnc_codegen::Options {
    nnc_codegen::Options { clif: true, ..nnc_codegen::Options::default() }
}

pub(crate) fn internal(error: impl std::fmt::Display, span: Span) -> Diagnostic {
    Diagnostic::error(codes::INTERNAL, format!("internal compiler error: {error}"), span, "while compiling this")
        .with_help("this is a bug in nnc; please report it with the program")
}
