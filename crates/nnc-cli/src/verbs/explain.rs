//! `nnc explain`: the equations the compiler derived.

use super::Context;
use crate::output::Output;
use nnc_diagnostics::Diagnostic;
use nnc_inspect::explain::{Explanation, explain_program, render};
use serde_json::json;

pub fn explain(context: &Context, latex: bool) -> Result<Output, Vec<Diagnostic>> {
    let explanations = explain_program(&context.check()?);
    let style = if latex { nnc_inspect::Style::Latex } else { nnc_inspect::Style::Text };
    let text = render(&explanations, style);
    let json = json!({ "blocks": explanations.iter().map(block_json).collect::<Vec<_>>() });
    Ok(Output::new(text, json))
}

fn block_json(explanation: &Explanation) -> serde_json::Value {
    let print = |e: &nnc_inspect::expr::Expr, style| nnc_inspect::expr::print(e, style);
    json!({
        "title": explanation.title,
        "rows": explanation.rows,
        "equations": explanation.equations.iter().map(|e| json!({
            "part": e.part,
            "name": e.name,
            "aliases": e.aliases,
            "text": print(&e.expr, nnc_inspect::Style::Text),
            "latex": print(&e.expr, nnc_inspect::Style::Latex),
            "shape": e.shape,
        })).collect::<Vec<_>>(),
        "simplifications": explanation.simplifications,
    })
}
