//! New rows through the preprocessing fitted at training: what `nnc predict` feeds a
//! saved model. The file needs the source feature columns (by name; others are ignored);
//! a cell that cannot be used is handled as the data's `missing` setting says, and a
//! category never seen in training is encoded as `<unknown>`, with a note.

use crate::dataset::Preprocessing;
use crate::dataset::TargetEncoding;
use crate::encode::CellProblem;
use crate::read::{FileRef, Room, Table, read_rows};
use crate::spec::{ImageSpec, Missing};
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
    /// Each encoded row's identity, when the file has the training target's class column
    /// (or is a folder of class folders): what `nnc similar` and `nnc cluster` compare.
    pub identities: Option<Vec<String>>,
}

/// Reads `path` (relative to the working directory) and encodes every row: a CSV file,
/// or, when the model was trained on an image folder (`images`), a folder of class
/// folders read the same way. Diagnostics point at `span` (the program's data block) and
/// name the file and line. Each row's identity is kept only when `identities` asks (a
/// million rows' identities are 56 MB of small strings that predicting never reads).
pub fn encode_file(
    path: &Path,
    preprocessing: &Preprocessing,
    missing: Missing,
    images: Option<&ImageSpec>,
    span: Span,
    room: &Room,
    identities: bool,
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
    let table = match images {
        Some(spec) if path.is_dir() => read_folder(spec, path, preprocessing, span, room)?,
        _ if path.is_dir() => {
            return Err(Diagnostic::error(
                codes::INPUT_COLUMNS,
                format!("`{display}` is a folder, but the model was trained on a CSV file"),
                span,
                "the data the model was trained on",
            )
            .with_help("give a CSV file with the training data's feature columns"));
        }
        _ => read_rows(&FileRef { path: &display, path_span: span, room }, Path::new(""))?,
    };
    encode_table(&table, &display, preprocessing, missing, span, identities)
}

/// A folder of class folders, read as the training folder was (size, colour), checked to
/// give the trained number of pixels.
fn read_folder(
    spec: &ImageSpec,
    path: &Path,
    preprocessing: &Preprocessing,
    span: Span,
    room: &Room,
) -> Result<Table, Diagnostic> {
    let spec = ImageSpec { path: path.display().to_string(), path_span: span, ..spec.clone() };
    let table = crate::images::read(&spec, Path::new(""), room)?;
    let (found, trained) = (table.header.len() - 1, preprocessing.features.len());
    if found != trained {
        return Err(Diagnostic::error(
            codes::IMAGE_FOLDER,
            format!("the images of `{}` have {found} numbers each, the model was trained on {trained}", spec.path),
            span,
            "the images the model was trained on",
        )
        .with_help("give images of the training images' size and colour, or add `resize H W` to the data block"));
    }
    Ok(table)
}

fn encode_table(
    table: &Table,
    display: &str,
    preprocessing: &Preprocessing,
    missing: Missing,
    span: Span,
    identities: bool,
) -> Result<Encoded, Diagnostic> {
    let display = display.to_string();
    let identity_column = match &preprocessing.target {
        _ if !identities => None,
        TargetEncoding::Classes { column, .. } => Some(column.as_str()),
        TargetEncoding::Columns(columns) if columns.len() == 1 => Some(columns[0].column.as_str()),
        TargetEncoding::Columns(_) | TargetEncoding::Features => None,
    }
    .and_then(|name| table.header.iter().position(|h| h == name));
    let mut identities = Vec::new();
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
    for row in 0..table.rows() {
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
                if let Some(column) = identity_column {
                    identities.push(table.cell(row, column).trim().to_string());
                }
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
    out.identities = identity_column.map(|_| identities);
    Ok(out)
}
