//! Reading a CSV file into text cells, with every way a file can be damaged reported by
//! file and line: unreadable, not UTF-8, empty, header only, duplicate header names, rows
//! with too few or too many values. A UTF-8 byte-order mark, CRLF line ends and quoted
//! fields (with commas inside) are accepted.

use nnc_diagnostics::Span;
use nnc_diagnostics::{Diagnostic, codes};
use std::path::Path;

/// A CSV file as text: one header, then rows of exactly as many cells. Every cell's text
/// lies in one string, found by where each cell ends: a million rows of eleven cells take
/// the file's text and 44 MB of offsets, not a million small allocations.
pub(crate) struct Table {
    pub header: Vec<String>,
    text: String,
    /// Where each cell's text ends in `text`, row by row.
    ends: Vec<u32>,
    /// The file line each row starts on (1-based), for diagnostics.
    pub lines: Vec<u64>,
}

impl Table {
    pub fn new(header: Vec<String>) -> Table {
        Table { header, text: String::new(), ends: Vec::new(), lines: Vec::new() }
    }

    pub fn rows(&self) -> usize {
        self.lines.len()
    }

    pub fn cell(&self, row: usize, column: usize) -> &str {
        let index = row * self.header.len() + column;
        let start = if index == 0 { 0 } else { self.ends.get(index - 1).map_or(0, |&e| e as usize) };
        let end = self.ends.get(index).map_or(start, |&e| e as usize);
        self.text.get(start..end).unwrap_or("")
    }

    /// Appends a row of exactly the header's number of cells; `false` (nothing added) when
    /// the table's text would pass 4 GiB.
    pub fn push_row<'a>(&mut self, cells: impl IntoIterator<Item = &'a str>, line: u64) -> bool {
        let pushed = self.push_cells(cells);
        if pushed {
            self.lines.push(line);
        }
        pushed
    }

    /// [`Table::push_row`] without its line.
    fn push_cells<'a>(&mut self, cells: impl IntoIterator<Item = &'a str>) -> bool {
        let (text_len, ends_len) = (self.text.len(), self.ends.len());
        for cell in cells {
            self.text.push_str(cell);
            let Ok(end) = u32::try_from(self.text.len()) else {
                self.text.truncate(text_len);
                self.ends.truncate(ends_len);
                return false;
            };
            self.ends.push(end);
        }
        debug_assert_eq!(self.ends.len() - ends_len, self.header.len(), "a row of the header's width");
        true
    }

    /// Each row's cells, in order.
    pub fn records(&self) -> impl Iterator<Item = Vec<&str>> + '_ {
        (0..self.rows()).map(|row| (0..self.header.len()).map(|column| self.cell(row, column)).collect())
    }

    /// A table of only `columns` (in that order), with the same rows and lines: what is
    /// left once the numeric columns are numbers.
    pub fn project(self, columns: &[usize]) -> Table {
        let header = columns.iter().map(|&c| self.header[c].clone()).collect();
        let mut kept = Table::new(header);
        for row in 0..self.rows() {
            // Fewer cells than the table had: they fit wherever these did.
            kept.push_cells(columns.iter().map(|&c| self.cell(row, c)));
        }
        kept.lines = self.lines;
        kept
    }

    /// Keeps only the rows for which `keep` holds.
    pub fn retain_rows(&mut self, mut keep: impl FnMut(usize) -> bool) {
        let width = self.header.len();
        let mut kept = Table::new(self.header.clone());
        for row in 0..self.rows() {
            if keep(row) {
                let cells: Vec<&str> = (0..width).map(|column| self.cell(row, column)).collect();
                // The kept rows are fewer than the rows: they fit wherever these did.
                kept.push_row(cells, self.lines[row]);
            }
        }
        *self = kept;
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
/// cells' text and offsets while they are typed, and the numbers (measured on a 100 MB
/// file of a million rows of numbers: 2.1 for `nnc run`, 1.9 for `nnc predict`). Kept
/// above the measurement for files of many short categorical cells.
pub const MEMORY_PER_BYTE: u64 = 5;

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
    if table.rows() == 0 {
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
    let path = base_dir.join(spec.path);
    check_size(spec, &path)?;
    let unreadable = |e: std::io::Error| {
        fail(codes::UNREADABLE_FILE, format!("cannot read data file `{}`", spec.path), "while reading this file")
            .with_note(e.to_string())
    };
    // Read as a stream: the file's bytes are never all in memory beside its cells.
    let file = std::fs::File::open(&path).map_err(unreadable)?;
    let size = file.metadata().map_or(0, |m| m.len());
    let mut input = std::io::BufReader::with_capacity(1 << 16, file);
    skip_byte_order_mark(&mut input).map_err(unreadable)?;
    // Cells are trimmed (of Unicode whitespace, as the csv crate's `Trim::All` would) as
    // they are stored: trimming each record in the reader rebuilt it, 13% of loading.
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
    let header = reader.byte_headers().map_err(|e| bad_csv(spec, 1, &e.to_string()))?.clone();
    let header = utf8_record(spec, &header, 1)?;
    let header: Vec<String> = header.iter().map(|name| name.trim().to_string()).collect();
    // One record, reused: the csv reader checks its UTF-8 once per row.
    let mut record = csv::StringRecord::new();
    let mut more = reader.read_record(&mut record).map_err(|e| read_error(spec, &e))?;
    if !more && header.iter().all(String::is_empty) {
        return Err(Diagnostic::error(
            codes::EMPTY_FILE,
            format!("data file `{}` is empty", spec.path),
            spec.path_span,
            "empty file",
        )
        .with_help("a data file starts with a header row naming its columns, then one row per example"));
    }
    check_unique_header(spec, &header)?;
    let mut table = Table::new(header);
    // The cells' text takes about the file's bytes; reserving it avoids copying it as the
    // table grows.
    table.text.reserve(usize::try_from(size).unwrap_or(0));
    while more {
        let header = &table.header;
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
        if !table.push_row(record.iter().map(str::trim), line) {
            return Err(too_large_text(spec));
        }
        more = reader.read_record(&mut record).map_err(|e| read_error(spec, &e))?;
    }
    Ok(table)
}

/// Steps over a UTF-8 byte-order mark at the start of `input`, if there is one.
fn skip_byte_order_mark(input: &mut impl std::io::BufRead) -> std::io::Result<()> {
    if input.fill_buf()?.starts_with(b"\xEF\xBB\xBF") {
        input.consume(3);
    }
    Ok(())
}

fn too_large_text(spec: &FileRef) -> Diagnostic {
    Diagnostic::error(
        codes::TOO_LARGE,
        format!("data file `{}` holds more than 4 GiB of values", spec.path),
        spec.path_span,
        "this file",
    )
    .with_help("use a sample of the file")
}

/// A row the reader refused: not UTF-8 (by line and value), or not CSV.
fn read_error(spec: &FileRef, error: &csv::Error) -> Diagnostic {
    let line = error.position().map_or(0, csv::Position::line);
    match error.kind() {
        csv::ErrorKind::Utf8 { err, .. } => not_utf8(spec, line, err.field() + 1),
        _ => bad_csv(spec, line, &error.to_string()),
    }
}

fn not_utf8(spec: &FileRef, line: u64, column: usize) -> Diagnostic {
    Diagnostic::error(
        codes::UNREADABLE_FILE,
        format!("line {line} of `{}` is not UTF-8 text (value {column})", spec.path),
        spec.path_span,
        format!("line {line} of this file"),
    )
    .with_help("save the file as UTF-8 (most spreadsheet programs offer \"CSV UTF-8\")")
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
    csv::StringRecord::from_byte_record(record.clone()).map_err(|e| not_utf8(spec, line, e.utf8_error().field() + 1))
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

#[cfg(test)]
mod tests {
    use super::Table;

    fn table() -> Table {
        let mut table = Table::new(vec!["a".into(), "b".into()]);
        for (row, line) in [(["1", "x"], 2), (["", "y"], 3), (["3", ""], 5)] {
            assert!(table.push_row(row, line));
        }
        table
    }

    #[test]
    fn cells_come_back_as_pushed_empty_ones_too() {
        let t = table();
        assert_eq!(t.rows(), 3);
        let cells: Vec<Vec<&str>> = t.records().collect();
        assert_eq!(cells, [["1", "x"], ["", "y"], ["3", ""]]);
        assert_eq!(t.cell(7, 0), "", "outside the table");
    }

    #[test]
    fn a_projection_keeps_its_columns_rows_and_lines() {
        let projected = table().project(&[1, 0]);
        assert_eq!(projected.header, ["b", "a"]);
        assert_eq!(projected.records().collect::<Vec<_>>(), [vec!["x", "1"], vec!["y", ""], vec!["", "3"]]);
        assert_eq!(projected.lines, table().lines);
        let none = table().project(&[]);
        assert_eq!((none.rows(), none.records().next()), (3, Some(vec![])));
    }

    #[test]
    fn retained_rows_keep_their_cells_and_lines() {
        let mut t = table();
        t.retain_rows(|row| row != 1);
        let cells: Vec<Vec<&str>> = t.records().collect();
        assert_eq!(cells, [["1", "x"], ["3", ""]]);
        assert_eq!(t.lines, [2, 5]);
        assert_eq!(t.header, ["a", "b"]);
    }
}
