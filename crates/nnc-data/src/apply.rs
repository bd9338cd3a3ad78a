//! New rows through the preprocessing fitted at training: what `nnc predict` feeds a
//! saved model. The file needs the source feature columns (by name; others are ignored);
//! a cell that cannot be used is handled as the data's `missing` setting says, and a
//! category never seen in training is encoded as `<unknown>`, with a note.

use crate::dataset::Preprocessing;
use crate::encode::CellProblem;
use crate::read::{FileRef, Room, read_rows};
use crate::spec::Missing;
use nnc_diagnostics::{Diagnostic, Span, codes};
use std::path::Path;

/// Encoded rows, and what happened to the others.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Encoded {
    /// `rows × width`, row-major, in the model's column order.
    pub inputs: Vec<f32>,
    pub rows: usize,
    /// The file line of each encoded row.
    pub lines: Vec<u64>,
    /// Rows left out (`missing drop`): line and why.
    pub skipped: Vec<(u64, String)>,
    /// Rows predicted with a caveat (an unseen category): line and what.
    pub notes: Vec<(u64, String)>,
}

/// Reads `path` (relative to the working directory) and encodes every row. Diagnostics
/// point at `span` (the program's data block) and name the file and line.
pub fn encode_file(
    path: &Path,
    preprocessing: &Preprocessing,
    missing: Missing,
    span: Span,
    room: &Room,
) -> Result<Encoded, Diagnostic> {
    let display = path.display().to_string();
    if preprocessing.window.is_some() {
        return Err(Diagnostic::error(
            codes::INPUT_COLUMNS,
            format!("`{display}`: predicting a time series from new rows is not supported yet"),
            span,
            "this data is a windowed series",
        )
        .with_help("evaluate on the program's own split with `nnc eval` instead"));
    }
    let table = read_rows(&FileRef { path: &display, path_span: span, room }, Path::new(""))?;
    let mut columns = Vec::new();
    for encoding in &preprocessing.features {
        let Some(index) = table.header.iter().position(|h| h == &encoding.column) else {
            return Err(Diagnostic::error(
                codes::INPUT_COLUMNS,
                format!("`{display}` has no column `{}`, which the model was trained on", encoding.column),
                span,
                "the data the model was trained on",
            )
            .with_note(format!("its columns: {}", table.header.join(", ")))
            .with_help("give a file with every feature column of the training data, named as there"));
        };
        columns.push(index);
    }
    let mut out = Encoded::default();
    for row in 0..table.rows.len() {
        let line = table.lines[row];
        let mut encoded = Vec::new();
        let mut problem = None;
        for (encoding, &column) in preprocessing.features.iter().zip(&columns) {
            let cell = table.cell(row, column);
            if encoding.is_unseen_category(cell) {
                out.notes.push((
                    line,
                    format!("`{}` = `{cell}` was not seen in training: encoded as <unknown>", encoding.column),
                ));
            }
            match encoding.encode(cell, &mut encoded) {
                Ok(()) => {}
                Err(CellProblem::Missing) => {
                    let categorical = matches!(encoding.encoding, crate::Encoding::OneHot { .. });
                    problem = Some((
                        format!("`{}` is missing ({})", encoding.column, crate::typing::shown(cell)),
                        &encoding.column,
                        cell,
                        categorical,
                    ));
                    break;
                }
                Err(CellProblem::NotANumber) => {
                    return Err(Diagnostic::error(
                        codes::ODD_VALUE,
                        format!("line {line} of `{display}`: `{}` holds `{cell}`, not a number", encoding.column),
                        span,
                        "the data the model was trained on",
                    )
                    .with_help("give the value as a number, or leave the cell empty for a missing value"));
                }
            }
        }
        match problem {
            None => {
                out.inputs.extend(encoded);
                out.lines.push(line);
                out.rows += 1;
            }
            Some((reason, ..)) if missing == Missing::Drop => out.skipped.push((line, reason)),
            Some((reason, column, cell, categorical)) => {
                return Err(Diagnostic::error(
                    codes::MISSING_VALUE,
                    format!("line {line} of `{display}`: {reason}"),
                    span,
                    "the data says `missing error` (the default)",
                )
                .with_notes(crate::typing::missing_values_note(column, cell, categorical))
                .with_help(
                    "fill the cell, or add `missing drop` (leave such rows out) or `missing mean` to the data block",
                ));
            }
        }
    }
    Ok(out)
}
