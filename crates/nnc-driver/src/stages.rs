//! The text of each compiler stage, as `nnc ir --stage` prints it and the goldens pin it.

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
    /// The Cranelift IR of each compiled function.
    Clif,
}

impl Stage {
    pub const ALL: [Stage; 5] = [Stage::Ast, Stage::Ir, Stage::Grad, Stage::Opt, Stage::Clif];

    pub fn name(self) -> &'static str {
        match self {
            Stage::Ast => "ast",
            Stage::Ir => "ir",
            Stage::Grad => "grad",
            Stage::Opt => "opt",
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
            Stage::Clif => out.push_str(&clif(&graphs.to_compile(), plan.minimization.span)?),
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
            Stage::Clif => out.push_str(&clif(&graphs.to_compile(), plan.job.span)?),
        }
    }
    Ok(out)
}

fn clif(graphs: &[(String, &nnc_ir::Graph)], span: Span) -> Result<String, Vec<Diagnostic>> {
    let named: Vec<(&str, &nnc_ir::Graph)> = graphs.iter().map(|(name, graph)| (name.as_str(), *graph)).collect();
    let compiled = nnc_codegen::compile(&named).map_err(|e| vec![internal(e, span)])?;
    let mut out = String::new();
    for (_, kernel) in compiled.kernels() {
        out.push_str(kernel.clif());
        out.push('\n');
    }
    Ok(out)
}

pub(crate) fn internal(error: impl std::fmt::Display, span: Span) -> Diagnostic {
    Diagnostic::error(codes::INTERNAL, format!("internal compiler error: {error}"), span, "while compiling this")
        .with_help("this is a bug in nnc; please report it with the program")
}
