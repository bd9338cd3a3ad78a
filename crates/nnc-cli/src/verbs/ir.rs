//! `nnc ir`: a compiler stage as text.

use super::Context;
use crate::output::Output;
use nnc_diagnostics::Diagnostic;
use nnc_driver::Stage;
use serde_json::json;

pub fn ir(context: &Context, stage: &str) -> Result<Output, Vec<Diagnostic>> {
    let stage = Stage::from_name(stage).unwrap_or(Stage::Ir);
    let text = nnc_driver::stage_text(context.source, &context.base_dir, stage)?;
    let json = json!({ "stage": stage.name(), "text": text });
    Ok(Output::new(text, json))
}
