//! Reading a CSV file into text cells, with every way a file can be damaged reported by
//! file and line: unreadable, not UTF-8, empty, header only, duplicate header names, rows
//! with too few or too many values. A UTF-8 byte-order mark, CRLF line ends and quoted
//! fields (with commas inside) are accepted.

use nnc_diagnostics::Span;
use nnc_diagnostics::{Diagnostic, codes};
use std::path::Path;

/// A CSV file as text: one header, then rows of exactly as many cells.
pub(crate) struct Table {
    pub header: Vec<String>,
    pub rows: Vec<csv::StringRecord>,
    /// The file line each row starts on (1-based), for diagnostics.
    pub lines: Vec<u64>,
}

impl Table {
    pub fn cell(&self, row: usize, column: usize) -> &str {
        self.rows[row].get(column).unwrap_or("")
    }

    /// Keeps only the rows for which `keep` holds.
    pub fn retain_rows(&mut self, mut keep: impl FnMut(usize) -> bool) {
        let kept: Vec<usize> = (0..self.rows.len()).filter(|&r| keep(r)).collect();
        self.rows = kept.iter().map(|&r| std::mem::take(&mut self.rows[r])).collect();
        self.lines = kept.iter().map(|&r| self.lines[r]).collect();
    }
}

/// A file as the program (or the command line) names it, where to point diagnostics, and
/// the memory reading it may take.
pub(crate) struct FileRef<'a> {
    pub path: &'a str,
    pub path_span: Span,
    pub room: &'a Room,
}

/// Bytes of memory reading and preparing a CSV file takes, per byte of the file: its
/// cells are held as text while they are typed and encoded (measured: 6.3 on a 77 MB file
/// of numbers).
pub const MEMORY_PER_BYTE: u64 = 8;

/// The memory a loader may still take, and how a diagnostic names that limit.
#[derive(Clone, Debug)]
pub struct Room {
    pub bytes: u64,
    /// "the 2.8 GiB left under the address-space limit (`ulimit -v`)".
    pub described: String,
    /// "raise `ulimit -v`".
    pub remedy: String,
}

impl Room {
    /// As much as there is: for callers with no limit to keep.
    pub fn unlimited() -> Room {
        Room { bytes: u64::MAX, described: "all memory".to_string(), remedy: String::new() }
    }
}

/// Refuses a file whose reading would not fit the room, before reading it.
fn check_size(spec: &FileRef, path: &Path) -> Result<(), Diagnostic> {
    let Ok(metadata) = std::fs::metadata(path) else { return Ok(()) };
    let need = metadata.len().saturating_mul(MEMORY_PER_BYTE);
    if need <= spec.room.bytes {
        return Ok(());
    }
    Err(Diagnostic::error(
        codes::TOO_LARGE,
        format!(
            "reading data file `{}` ({} MiB) needs about {} MiB of memory, more than {}",
            spec.path,
            metadata.len() >> 20,
            need >> 20,
            spec.room.described
        ),
        spec.path_span,
        "this file",
    )
    .with_note(format!("reading a CSV file takes about {MEMORY_PER_BYTE} bytes of memory per byte of the file"))
    .with_help(format!("use a sample of the file, or {}", spec.room.remedy)))
}

/// Reads a data file for training: a header and at least one row.
pub(crate) fn read(spec: &FileRef, base_dir: &Path) -> Result<Table, Diagnostic> {
    let table = read_rows(spec, base_dir)?;
    if table.rows.is_empty() {
        return Err(Diagnostic::error(
            codes::EMPTY_FILE,
            format!("data file `{}` has a header but no rows", spec.path),
            spec.path_span,
            "header only",
        )
        .with_help("add one row per example below the header"));
    }
    Ok(table)
}

/// Reads a CSV file: a header, then any number of rows (new rows to predict may be none).
pub(crate) fn read_rows(spec: &FileRef, base_dir: &Path) -> Result<Table, Diagnostic> {
    let fail = |code, message: String, label: &str| {
        Diagnostic::error(code, message, spec.path_span, label.to_string())
            .with_help("paths are relative to the folder of the .nn file")
    };
    check_size(spec, &base_dir.join(spec.path))?;
    let bytes = std::fs::read(base_dir.join(spec.path)).map_err(|e| {
        fail(codes::UNREADABLE_FILE, format!("cannot read data file `{}`", spec.path), "while reading this file")
            .with_note(e.to_string())
    })?;
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    if text.iter().all(u8::is_ascii_whitespace) {
        return Err(Diagnostic::error(
            codes::EMPTY_FILE,
            format!("data file `{}` is empty", spec.path),
            spec.path_span,
            "empty file",
        )
        .with_help("a data file starts with a header row naming its columns, then one row per example"));
    }
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).flexible(true).from_reader(text);
    let header = reader.byte_headers().map_err(|e| bad_csv(spec, 1, &e.to_string()))?.clone();
    let header = utf8_record(spec, &header, 1)?;
    let header: Vec<String> = header.iter().map(str::to_string).collect();
    check_unique_header(spec, &header)?;
    let (mut rows, mut lines) = (Vec::new(), Vec::new());
    for record in reader.byte_records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, csv::Position::line);
            bad_csv(spec, line, &e.to_string())
        })?;
        let line = record.position().map_or(0, csv::Position::line);
        if record.len() != header.len() {
            return Err(Diagnostic::error(
                codes::UNREADABLE_FILE,
                format!(
                    "line {line} of `{}` has {} values, but the header names {} columns",
                    spec.path,
                    record.len(),
                    header.len()
                ),
                spec.path_span,
                format!("line {line} of this file"),
            )
            .with_help("every row needs one value per column; quote values that contain a comma"));
        }
        rows.push(utf8_record(spec, &record, line)?);
        lines.push(line);
    }
    Ok(Table { header, rows, lines })
}

fn bad_csv(spec: &FileRef, line: u64, error: &str) -> Diagnostic {
    Diagnostic::error(
        codes::UNREADABLE_FILE,
        format!("line {line} of `{}` is not valid CSV", spec.path),
        spec.path_span,
        format!("line {line} of this file"),
    )
    .with_note(error.to_string())
    .with_help("values are separated by commas; quote a value that contains a comma or a quote")
}

fn utf8_record(spec: &FileRef, record: &csv::ByteRecord, line: u64) -> Result<csv::StringRecord, Diagnostic> {
    csv::StringRecord::from_byte_record(record.clone()).map_err(|e| {
        let column = e.utf8_error().field() + 1;
        Diagnostic::error(
            codes::UNREADABLE_FILE,
            format!("line {line} of `{}` is not UTF-8 text (value {column})", spec.path),
            spec.path_span,
            format!("line {line} of this file"),
        )
        .with_help("save the file as UTF-8 (most spreadsheet programs offer \"CSV UTF-8\")")
    })
}

fn check_unique_header(spec: &FileRef, header: &[String]) -> Result<(), Diagnostic> {
    for (later, name) in header.iter().enumerate() {
        if let Some(first) = header[..later].iter().position(|h| h == name) {
            return Err(Diagnostic::error(
                codes::DUPLICATE_HEADER,
                format!(
                    "the header of `{}` names column `{name}` twice (columns {} and {})",
                    spec.path,
                    first + 1,
                    later + 1
                ),
                spec.path_span,
                "header with a repeated name",
            )
            .with_help("rename one of the two columns in the file's first line, so each name means one column"));
        }
    }
    Ok(())
}
