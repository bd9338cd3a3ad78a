//! `nnc fmt`: the canonical layout of a program (comments kept).

use super::{Context, write};
use crate::output::Output;
use nnc_diagnostics::Diagnostic;
use serde_json::json;

/// Prints the formatted program; with `write`, replaces the file; with `check`, fails
/// (exit 1) when the file is not formatted.
pub fn fmt(context: &Context, check: bool, write_back: bool) -> Result<Output, Vec<Diagnostic>> {
    let formatted = nnc_driver::format(context.source)?;
    let changed = formatted != context.source;
    let json = json!({ "file": context.file.display().to_string(), "formatted": !changed, "text": formatted });
    if check {
        let text = if changed {
            format!("{} is not formatted; run `nnc fmt --write`\n", context.file.display())
        } else {
            String::new()
        };
        return Ok(Output::check(text, json, !changed));
    }
    if write_back {
        if changed {
            write(context.file, formatted.as_bytes())?;
        }
        let text = format!("{} {}\n", if changed { "formatted" } else { "already formatted:" }, context.file.display());
        return Ok(Output::new(text, json));
    }
    Ok(Output::new(formatted, json))
}
