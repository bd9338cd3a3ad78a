//! New rows through the preprocessing fitted at training: what `nnc predict` feeds a
//! saved model. The file needs the source feature columns (by name; others are ignored);
//! a cell that cannot be used is handled as the data's `missing` setting says, and a
//! category never seen in training is encoded as `<unknown>`, with a note.

use crate::dataset::Preprocessing;
use crate::dataset::TargetEncoding;
use crate::encode::{CellProblem, Slots};
use crate::read::{Cells, FileRef, PartSize, Room, Table, read_parts, read_rows};
use crate::spec::{ImageSpec, Missing};
use crate::typing::Numbers;
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

/// New rows to encode as a model's training data was: a file (relative to the working
/// directory) and what the model was trained with. Diagnostics point at `span` (the
/// program's data block) and name the file and line.
pub struct NewRows<'a> {
    pub path: &'a Path,
    pub preprocessing: &'a Preprocessing,
    pub missing: Missing,
    /// The image folder settings of a model trained on images: `path` may be a folder of
    /// class folders, read the same way.
    pub images: Option<&'a ImageSpec>,
    pub span: Span,
    /// The memory reading the file whole may take.
    pub room: &'a Room,
}

impl NewRows<'_> {
    /// Every row, encoded. Each row's identity is kept only when `identities` asks (a
    /// million rows' identities are 56 MB of small strings that predicting never reads).
    pub fn encode(&self, identities: bool) -> Result<Encoded, Diagnostic> {
        let display = self.path.display().to_string();
        let table = match source_kind(self)? {
            Some(spec) => read_folder(spec, self)?,
            None => {
                let identity = identities.then(|| identity_name(self.preprocessing)).flatten();
                let numbers_only = |header: &[String]| numbers_only(self.preprocessing, identity, header);
                let file = FileRef { path: &display, path_span: self.span, room: self.room, from_command_line: true };
                read_rows(&file, Path::new(""), Cells(&numbers_only))?
            }
        };
        encode_table(table, &display, self, identities)
    }

    /// [`NewRows::encode`] a part at a time, for a file of any length: each part of at
    /// most `size` is read and encoded on a thread of its own while `each` takes the one
    /// before (`false` from it stops the reading), so memory is bounded by a few parts,
    /// not by the file. A folder of images is one part.
    pub fn encode_in_parts(
        &self,
        size: PartSize,
        identities: bool,
        each: &mut dyn FnMut(Encoded) -> Result<bool, Diagnostic>,
    ) -> Result<(), Diagnostic> {
        self.encode_parts(size, identities, true, each)
    }

    /// [`NewRows::encode_in_parts`], reading on a second thread when `on_a_thread` (and
    /// one can be started), else between `each`'s takes.
    fn encode_parts(
        &self,
        size: PartSize,
        identities: bool,
        on_a_thread: bool,
        each: &mut dyn FnMut(Encoded) -> Result<bool, Diagnostic>,
    ) -> Result<(), Diagnostic> {
        let display = self.path.display().to_string();
        if let Some(spec) = source_kind(self)? {
            return each(encode_table(read_folder(spec, self)?, &display, self, identities)?).map(|_| ());
        }
        let identity = identities.then(|| identity_name(self.preprocessing)).flatten();
        let numbers_only = |header: &[String]| numbers_only(self.preprocessing, identity, header);
        let file = &FileRef { path: &display, path_span: self.span, room: self.room, from_command_line: true };
        let encode = |table| encode_table(table, &display, self, identities);
        let read_here = |each: &mut dyn FnMut(Encoded) -> Result<bool, Diagnostic>| {
            let mut read_and_take = |table| each(encode(table)?);
            read_parts(file, Path::new(""), size, Cells(&numbers_only), &mut read_and_take)
        };
        if !on_a_thread {
            return read_here(each);
        }
        std::thread::scope(|scope| {
            let (parts, received) = std::sync::mpsc::sync_channel::<Result<Encoded, Diagnostic>>(1);
            let reader = move || {
                let mut send = |table| Ok(parts.send(Ok(encode(table)?)).is_ok());
                if let Err(diagnostic) = read_parts(file, Path::new(""), size, Cells(&numbers_only), &mut send) {
                    // Nobody is left to tell when the taker has stopped.
                    let _ = parts.send(Err(diagnostic));
                }
            };
            let spawned = std::thread::Builder::new().name("nnc-read".to_string()).spawn_scoped(scope, reader);
            if spawned.is_err() {
                // No second thread (a process limit): the same parts, read between takes.
                return read_here(each);
            }
            // Dropping `received` on the way out stops the reader at its next part.
            for part in received {
                if !each(part?)? {
                    break;
                }
            }
            Ok(())
        })
    }
}

/// The image folder settings when the rows are a folder of class folders, `None` when
/// they are a CSV file, or why they cannot be read for this model at all.
fn source_kind<'a>(rows: &NewRows<'a>) -> Result<Option<&'a ImageSpec>, Diagnostic> {
    let display = rows.path.display().to_string();
    if rows.preprocessing.window.is_some() {
        return Err(Diagnostic::error(
            codes::INPUT_COLUMNS,
            format!("`{display}`: predicting a time series from new rows is not supported yet"),
            rows.span,
            "this data is a windowed series",
        )
        .with_help("evaluate on the program's own split with `nnc eval` instead"));
    }
    match rows.images {
        Some(spec) if rows.path.is_dir() => Ok(Some(spec)),
        _ if rows.path.is_dir() => Err(Diagnostic::error(
            codes::INPUT_COLUMNS,
            format!("`{display}` is a folder, but the model was trained on a CSV file"),
            rows.span,
            "the data the model was trained on",
        )
        .with_help("give a CSV file with the training data's feature columns")),
        _ => Ok(None),
    }
}

/// A folder of class folders, read as the training folder was (size, colour), checked to
/// give the trained number of pixels.
fn read_folder(spec: &ImageSpec, rows: &NewRows) -> Result<Table, Diagnostic> {
    let span = rows.span;
    let spec = ImageSpec { path: rows.path.display().to_string(), path_span: span, ..spec.clone() };
    let table = crate::images::read(&spec, Path::new(""), rows.room)?;
    let (found, trained) = (table.header.len() - 1, rows.preprocessing.features.len());
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

/// The column whose cells are the rows' identities, when the training target is one.
fn identity_name(preprocessing: &Preprocessing) -> Option<&str> {
    match &preprocessing.target {
        TargetEncoding::Classes { column, .. } => Some(column.as_str()),
        TargetEncoding::Columns(columns) if columns.len() == 1 => Some(columns[0].column.as_str()),
        TargetEncoding::Columns(_) | TargetEncoding::Features => None,
    }
}

/// The columns of `header` that prediction reads only as numbers (see
/// [`Table::parsing`]): numeric features with no marker that reads as a number (which is
/// compared with the cell's text), unless they are the rows' identities.
fn numbers_only(preprocessing: &Preprocessing, identity: Option<&str>, header: &[String]) -> Vec<bool> {
    let numeric = |name: &String| {
        preprocessing.features.iter().any(|feature| {
            &feature.column == name
                && matches!(feature.encoding, crate::Encoding::Numeric { .. })
                && !crate::typing::numeric_marker(&feature.missing)
        })
    };
    header.iter().map(|name| numeric(name) && identity != Some(name.as_str())).collect()
}

fn encode_table(mut table: Table, display: &str, rows: &NewRows, identities: bool) -> Result<Encoded, Diagnostic> {
    let NewRows { preprocessing, missing, span, room, .. } = *rows;
    let display = display.to_string();
    let identity_column = identities
        .then(|| identity_name(preprocessing))
        .flatten()
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
    // The numbers of the columns read only as numbers, as the file was read; their cells
    // that are not numbers keep their text, for the markers and the diagnostics.
    let only = numbers_only(preprocessing, identity_column.map(|c| table.header[c].as_str()), &table.header);
    let parsed: Vec<Option<Numbers>> = (columns.iter())
        .map(|&column| only.get(column).copied().unwrap_or(false).then(|| table.take_numbers(column)).flatten())
        .map(|pieces| pieces.map(Numbers::from_pieces))
        .collect();
    let table = &table;
    let mut out = Encoded::default();
    let width = preprocessing.features.iter().map(|f| f.encoding.width()).sum();
    room.reserve_encoded(&mut out.inputs, (table.rows(), width), &display, span)?;
    let mut encoded = Vec::new();
    let slots: Vec<Slots> = preprocessing.features.iter().map(Slots::of).collect();
    for row in 0..table.rows() {
        let line = table.lines[row];
        encoded.clear();
        let mut problem = None;
        let features = preprocessing.features.iter().zip(&slots);
        for (((encoding, slots), &column), parsed) in features.zip(&columns).zip(&parsed) {
            if let (crate::Encoding::Numeric { .. }, Some(value)) =
                (&encoding.encoding, parsed.as_ref().and_then(|n| n.get(row)))
            {
                // A number (no marker of this column reads as one): as `encode` takes it.
                if encoding.encoding.encode_number(Some(value), &mut encoded).is_ok() {
                    continue;
                }
            }
            let cell = table.cell(row, column);
            if encoding.is_unseen_category(slots, cell) {
                out.notes.push((
                    line,
                    format!("`{}` = `{cell}` was not seen in training: encoded as <unknown>", encoding.column),
                ));
            }
            match encoding.encode(slots, cell, &mut encoded) {
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
                        format!(
                            "line {line} of `{display}`: `{}` holds `{cell}`, {}",
                            encoding.column,
                            crate::typing::not_a_number_reason(cell)
                        ),
                        span,
                        "the data the model was trained on",
                    )
                    .with_help("give the value as a number, or leave the cell empty for a missing value"));
                }
            }
        }
        match problem {
            None => {
                out.inputs.extend_from_slice(&encoded);
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

#[cfg(test)]
mod tests {
    use super::NewRows;
    use crate::dataset::{Preprocessing, TargetEncoding};
    use crate::encode::{ColumnEncoding, Encoding};
    use crate::read::Room;
    use crate::spec::Missing;
    use nnc_diagnostics::Span;

    /// A file encoded a part at a time, on a second thread or not, is the file encoded
    /// whole, part after part: inputs, lines, rows left out and noted, identities; parts
    /// of as few as one row, with quoted line ends, CRLF, a marker, an unseen category
    /// and a row left out among them.
    #[test]
    fn parts_are_the_whole_file_encoded() {
        let preprocessing = Preprocessing {
            features: vec![
                ColumnEncoding {
                    column: "x".to_string(),
                    encoding: Encoding::Numeric { offset: 1.0, scale: 2.0, fill: None },
                    missing: vec!["NA".to_string()],
                },
                ColumnEncoding {
                    column: "c".to_string(),
                    encoding: Encoding::OneHot { categories: vec!["a".to_string(), "b".to_string()], fill: None },
                    missing: vec![String::new()],
                },
            ],
            target: TargetEncoding::Classes { column: "id".to_string(), classes: Vec::new(), binary: false },
            window: None,
        };
        let folder = tempfile::tempdir().expect("a temporary folder");
        let path = folder.path().join("new.csv");
        let mut text = "id,c,x\r\n".to_string();
        for row in 0..40 {
            let c = ["a", "b", "\"b\"", "zz"][row % 4];
            let x = if row % 9 == 4 { "NA".to_string() } else { format!("{}.5", row) };
            let id = if row % 5 == 0 { "\"two\nlines\"".to_string() } else { format!("p{row}") };
            text.push_str(&format!("{id},{c},{x}\r\n"));
        }
        std::fs::write(&path, text).expect("a temporary file");
        let room = Room::unlimited();
        let rows = NewRows {
            path: &path,
            preprocessing: &preprocessing,
            missing: Missing::Drop,
            images: None,
            span: Span::default(),
            room: &room,
        };
        let whole = rows.encode(true).expect("encoded whole");
        assert_eq!((whole.rows, whole.skipped.len(), whole.notes.len()), (36, 4, 9));
        for (part_rows, on_a_thread) in [(1, true), (3, false), (7, true), (100, false)] {
            let size = crate::PartSize { rows: part_rows, bytes: u64::MAX };
            let mut joined = super::Encoded { identities: Some(Vec::new()), ..super::Encoded::default() };
            let mut parts = 0;
            rows.encode_parts(size, true, on_a_thread, &mut |part| {
                parts += 1;
                joined.inputs.extend(part.inputs);
                joined.rows += part.rows;
                joined.lines.extend(part.lines);
                joined.skipped.extend(part.skipped);
                joined.notes.extend(part.notes);
                joined.identities.as_mut().expect("kept").extend(part.identities.expect("asked for"));
                Ok(true)
            })
            .expect("encoded in parts");
            assert_eq!(joined, whole, "parts of {part_rows} rows");
            assert_eq!(parts, 40_usize.div_ceil(part_rows));
        }
        // `false` stops after the first part.
        let mut taken = 0;
        let size = crate::PartSize { rows: 4, bytes: u64::MAX };
        rows.encode_in_parts(size, false, &mut |_| {
            taken += 1;
            Ok(false)
        })
        .expect("stopped");
        assert_eq!(taken, 1);
    }

    /// Prediction reads numeric features as numbers, keeping no text for them, and still
    /// sees a marker that reads as a number (`-999`) as missing, and other markers too,
    /// in a small file and in one read as two halves.
    #[test]
    fn numbers_and_markers_are_read_as_training_read_them() {
        let numeric = |column: &str, fill: Option<f32>, missing: &[&str]| ColumnEncoding {
            column: column.to_string(),
            encoding: Encoding::Numeric { offset: 1.0, scale: 2.0, fill },
            missing: missing.iter().map(|m| m.to_string()).collect(),
        };
        let preprocessing = Preprocessing {
            features: vec![numeric("x", Some(5.0), &["-999"]), numeric("y", None, &["", "NA"])],
            target: TargetEncoding::Features,
            window: None,
        };
        let folder = tempfile::tempdir().expect("a temporary folder");
        for repeat in [1, 200_000] {
            let rows = "-999,1.5\n2,NA\n3,2.5\n-999.0,7\n".repeat(repeat);
            let path = folder.path().join("new.csv");
            std::fs::write(
                &path,
                format!(
                    "y,other,x\n{}",
                    rows.lines()
                        .map(|r| {
                            let (x, y) = r.split_once(',').expect("two cells");
                            format!("{y},text,{x}\n")
                        })
                        .collect::<String>()
                ),
            )
            .expect("a temporary file");
            let encoded = NewRows {
                path: &path,
                preprocessing: &preprocessing,
                missing: Missing::Drop,
                images: None,
                span: Span::default(),
                room: &Room::unlimited(),
            }
            .encode(false)
            .expect("encoded");
            // x: the marker takes the fill 5, `-999.0` is a number; y: `NA` drops the row.
            let expected = [(5.0 - 1.0) / 2.0, 0.25, 1.0, 0.75, (-999.0 - 1.0) / 2.0, 3.0];
            assert_eq!(encoded.rows, 3 * repeat);
            assert_eq!(encoded.skipped.len(), repeat);
            assert!(encoded.inputs.chunks(6).all(|rows| rows == expected), "{:?}", &encoded.inputs[..6]);
        }
    }
}
