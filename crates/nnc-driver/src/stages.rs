//! The text of each compiler stage, as `nnc ir --stage` prints it and the goldens pin it.

use crate::compile::{Functions, compile_job, compile_minimization};
use crate::pipeline::{Overrides, check};
use nnc_diagnostics::{Diagnostic, Span, codes};
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
}

impl Stage {
    pub const ALL: [Stage; 6] = [Stage::Ast, Stage::Ir, Stage::Grad, Stage::Opt, Stage::Kernels, Stage::Clif];

    pub fn name(self) -> &'static str {
        match self {
            Stage::Ast => "ast",
            Stage::Ir => "ir",
            Stage::Grad => "grad",
            Stage::Opt => "opt",
            Stage::Kernels => "kernels",
            Stage::Clif => "clif",
        }
    }

    pub fn from_name(name: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// The text of one stage for every block of the program. The syntax tree needs only
/// parsing; later stages check the program and read its data (graphs depend on the number
/// of rows).
pub fn stage_text(source: &str, base_dir: &Path, stage: Stage) -> Result<String, Vec<Diagnostic>> {
    if stage == Stage::Ast {
        return Ok(nnc_syntax::print_program(&nnc_syntax::parse(source)?));
    }
    let checked = check(source, base_dir, Overrides::default())?;
    let mut out = String::new();
    for plan in &checked.minimizations {
        let graphs = &plan.graphs;
        match stage {
            Stage::Ast => {}
            Stage::Ir => out.push_str(&nnc_ir::print_graph(&graphs.objective)),
            Stage::Grad => out.push_str(&nnc_ir::print_graph(&graphs.step)),
            Stage::Opt => out.push_str(&nnc_ir::print_graph(&graphs.step_opt)),
            Stage::Kernels => {
                for (_, program) in &plan.programs {
                    out.push_str(&nnc_kernels::print_program(program));
                }
            }
            Stage::Clif => out.push_str(&compile_minimization(plan, clif_options()).map_err(|d| vec![d])?.clif()),
        }
    }
    for plan in &checked.jobs {
        let graphs = &plan.graphs;
        match stage {
            Stage::Ast => {}
            Stage::Ir => out.push_str(&nnc_ir::print_graph(&graphs.forward)),
            Stage::Grad => out.push_str(&nnc_ir::print_graph(&graphs.step)),
            Stage::Opt => {
                for (_, graph) in &graphs.optimized {
                    out.push_str(&nnc_ir::print_graph(graph));
                }
            }
            Stage::Kernels => {
                for (_, program) in &plan.programs {
                    out.push_str(&nnc_kernels::print_program(program));
                }
            }
            Stage::Clif => {
                out.push_str(&compile_job(plan, Functions::All, clif_options()).map_err(|d| vec![d])?.clif())
            }
        }
    }
    Ok(out)
}

fn clif_options() -> nnc_codegen::Options {
    nnc_codegen::Options { clif: true, ..nnc_codegen::Options::default() }
}

pub(crate) fn internal(error: impl std::fmt::Display, span: Span) -> Diagnostic {
    Diagnostic::error(codes::INTERNAL, format!("internal compiler error: {error}"), span, "while compiling this")
        .with_help("this is a bug in nnc; please report it with the program")
}
