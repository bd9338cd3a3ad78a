//! Reading a CSV file into text cells, with every way a file can be damaged reported by
//! file and line: unreadable, not UTF-8, empty, header only, duplicate header names, rows
//! with too few or too many values. A UTF-8 byte-order mark, CRLF line ends and quoted
//! fields (with commas or line ends inside) are accepted.

use nnc_diagnostics::Span;
use nnc_diagnostics::{Diagnostic, codes};
use std::path::Path;

/// A CSV file as text: one header, then rows of exactly as many cells. Every cell's text
/// lies in one string per part of the table, found by where each cell ends: a million
/// rows of eleven cells take the file's text and 44 MB of offsets, not a million small
/// allocations (and neither, when they are numbers parsed as they are read). A file read
/// as two halves is a table of two parts, joined without copying their text.
pub(crate) struct Table {
    pub header: Vec<String>,
    /// At least one; rows are added to the last.
    parts: Vec<Part>,
    /// The file line each row starts on (1-based), for diagnostics.
    pub lines: Vec<u64>,
}

/// One row's cells, as [`Table::row_cells`] gives them.
#[derive(Clone, Copy)]
pub(crate) struct RowCells<'t> {
    text: &'t str,
    /// Where the row's first cell starts in `text`.
    start: u32,
    /// Where each of its cells ends.
    ends: &'t [u32],
}

impl<'t> RowCells<'t> {
    pub fn cell(&self, column: usize) -> &'t str {
        let start = match column {
            0 => self.start,
            _ => self.ends.get(column - 1).copied().unwrap_or(self.start),
        };
        let end = self.ends.get(column).copied().unwrap_or(start);
        self.text.get(start as usize..end as usize).unwrap_or("")
    }
}

/// Consecutive rows of a table.
struct Part {
    /// The table's row this part starts with.
    first_row: usize,
    /// How many rows it holds.
    rows: usize,
    text: String,
    /// Where each cell's text ends in `text`, row by row; empty while no cell of the part
    /// kept any text (a file of numbers read with [`Table::parsing`]: 44 MB of zeros for
    /// a million rows of eleven, written and faulted in for nothing), and filled in when
    /// the first one does.
    ends: Vec<u32>,
    /// The cells as numbers, when the table parses its cells as they are read (see
    /// [`Table::parsing`]).
    parsed: Option<Parsed>,
}

/// A part's cells parsed as numbers.
#[derive(Clone, Default)]
struct Parsed {
    /// Each column's cells as numbers, NaN where a cell is not one.
    numbers: Vec<Vec<f32>>,
    /// The columns whose cells keep no text when they are numbers (may be empty).
    numbers_only: Vec<bool>,
    /// The columns that have a cell whose text was not kept.
    dropped: Vec<bool>,
    /// Whether every column is one of `numbers_only` (see [`Part::push_numbers`]).
    all_numbers_only: bool,
    /// Whether some are, and as many flags as columns (see [`push_mixed`]).
    some_numbers_only: bool,
    /// Whether the last row [`push_mixed`] added kept text.
    text_last: bool,
    /// A row's numbers, parsed before any is pushed.
    row: Vec<f32>,
    /// Which of them keep no text ([`push_mixed`]).
    row_dropped: Vec<bool>,
}

impl Part {
    fn new(first_row: usize, parsed: Option<&Parsed>) -> Part {
        let parsed = parsed.map(|like| Parsed {
            numbers: vec![Vec::new(); like.numbers.len()],
            numbers_only: like.numbers_only.clone(),
            dropped: vec![false; like.numbers.len()],
            all_numbers_only: like.numbers_only.len() == like.numbers.len()
                && like.numbers_only.iter().all(|&only| only),
            some_numbers_only: like.numbers_only.len() == like.numbers.len() && like.numbers_only.contains(&true),
            text_last: false,
            row: Vec::new(),
            row_dropped: Vec::new(),
        });
        Part { first_row, rows: 0, text: String::new(), ends: Vec::new(), parsed }
    }

    /// The offsets of every row so far: the zeros of rows that kept no text.
    fn fill_ends(&mut self, width: usize) {
        if self.ends.len() < self.rows * width {
            debug_assert!(self.text.is_empty() && self.ends.is_empty(), "only rows of no text go without");
            self.ends.resize(self.rows * width, 0);
        }
    }

    /// Row `row`'s offsets (none for a row of a part that has kept no text: its cells are
    /// empty).
    fn row_ends(&self, row: usize, width: usize) -> &[u32] {
        self.ends.get(row * width..(row + 1) * width).unwrap_or(&[])
    }

    /// Whether some cells of this part keep no text when they are numbers.
    fn drops_numbers_text(&self) -> bool {
        self.parsed.as_ref().is_some_and(|parsed| parsed.numbers_only.contains(&true))
    }

    /// Appends a row's cells; `false` (nothing added) when the text would pass 4 GiB.
    fn push_cells<'a>(&mut self, cells: impl IntoIterator<Item = &'a str>, width: usize) -> bool {
        self.fill_ends(width);
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
        debug_assert_eq!(self.ends.len() - ends_len, width, "a row of the header's width");
        self.rows += 1;
        self.parse_last_row(ends_len);
        true
    }

    /// Appends a row whose cells lie end to end in `text` (at `places`) with one copy;
    /// `false` (nothing added) when the text would pass 4 GiB.
    fn push_joined(&mut self, text: &str, places: &[(usize, usize)]) -> bool {
        let base = self.text.len();
        if u32::try_from(base + text.len()).is_err() {
            return false;
        }
        self.fill_ends(places.len());
        let first = self.ends.len();
        self.text.push_str(text);
        self.ends.extend(places.iter().map(|&(_, end)| (base + end) as u32));
        self.rows += 1;
        self.parse_last_row(first);
        true
    }

    /// Appends a row whose cells lie at `places` in `text`, parsing each as a number and
    /// keeping the text of a cell that is one only outside the `numbers_only` columns;
    /// `false` (nothing added) when the text could pass 4 GiB.
    fn push_parsed(&mut self, text: &str, places: &[(usize, usize)]) -> bool {
        let width = places.len();
        let Part { text: kept, ends, parsed: Some(parsed), rows, .. } = self else { return false };
        if u32::try_from(kept.len() + text.len()).is_err() || width != parsed.numbers.len() {
            return false;
        }
        let first = ends.len();
        for (column, &(start, end)) in places.iter().enumerate() {
            let value = crate::typing::number_at(text, start, end);
            parsed.numbers[column].push(value.unwrap_or(f32::NAN));
            if value.is_some() && parsed.numbers_only.get(column) == Some(&true) {
                parsed.dropped[column] = true;
            } else {
                kept.push_str(text.get(start..end).unwrap_or(""));
            }
            // Below 4 GiB: checked above.
            ends.push(kept.len() as u32);
        }
        if kept.is_empty() && first == 0 {
            // No cell of the part has kept text yet: no offsets either.
            ends.clear();
        } else if first < *rows * width {
            // The first row to keep text: the rows before it get their zeros.
            ends.splice(0..0, std::iter::repeat_n(0, *rows * width));
        }
        *rows += 1;
        true
    }

    /// Appends a row straight from the record's bytes, when its cells need no trimming
    /// (most rows): [`push_short_numbers`] for a row of short decimals in a table whose
    /// columns all keep no text for numbers, else [`push_mixed`]. `false` (nothing added)
    /// for any other row, which then goes the long way.
    fn push_numbers(&mut self, record: &simd_csv::ByteRecord) -> bool {
        let Part { ends, parsed: Some(parsed), rows, text, .. } = self else { return false };
        if record.len() != parsed.numbers.len() {
            return false;
        }
        // A row is most likely like the one before: when that kept text (a column of
        // text no one declared), the shorter path is not tried first.
        if parsed.all_numbers_only && !parsed.text_last && push_short_numbers(record, parsed, (text, ends), rows) {
            return true;
        }
        parsed.some_numbers_only && push_mixed(record, parsed, (text, ends), rows)
    }

    /// Parses the cells of the row whose offsets start at `ends[first]`, while they are
    /// still in cache.
    fn parse_last_row(&mut self, first: usize) {
        let Some(numbers) = self.parsed.as_mut().map(|parsed| &mut parsed.numbers) else { return };
        let mut start = first.checked_sub(1).map_or(0, |i| self.ends[i] as usize);
        for (column, &end) in numbers.iter_mut().zip(&self.ends[first..]) {
            column.push(crate::typing::number_at(&self.text, start, end as usize).unwrap_or(f32::NAN));
            start = end as usize;
        }
    }
}

/// [`Part::push_numbers`] of a row of a table whose columns all keep no text for numbers,
/// when each of its cells is a short decimal ([`crate::typing::short_number`]): such
/// cells are ASCII, so the row needs no UTF-8 check, no places and no text (together a
/// fifth of reading a million rows of numbers).
fn push_short_numbers(
    record: &simd_csv::ByteRecord,
    parsed: &mut Parsed,
    (text, ends): (&mut String, &mut Vec<u32>),
    rows: &mut usize,
) -> bool {
    let bytes = record.as_slice();
    let base = bytes.as_ptr() as usize;
    parsed.row.clear();
    for cell in record.iter() {
        // Every cell is a piece of the record's bytes (simd-csv's `ByteRecord`).
        let Some(start) = (cell.as_ptr() as usize).checked_sub(base) else { return false };
        match crate::typing::short_number(bytes, start, start + cell.len()) {
            Some(value) => parsed.row.push(value),
            None => return false,
        }
    }
    for ((column, &value), dropped) in parsed.numbers.iter_mut().zip(&parsed.row).zip(&mut parsed.dropped) {
        column.push(value);
        *dropped = true;
    }
    if !ends.is_empty() {
        // A part that has kept text has offsets for every row: these cells are empty.
        ends.extend(std::iter::repeat_n(text.len() as u32, parsed.row.len()));
    }
    *rows += 1;
    true
}

/// [`Part::push_numbers`] of a row with text in it (a category, a label, a marker), as
/// [`Part::push_parsed`] adds it, when every cell needs no trimming and is UTF-8 on its
/// own, so that it is the piece of text [`cells`] would place. A cell of a
/// `numbers_only` column that is a short decimal is read from the record's bytes. Rows
/// no longer go the long way because of one text cell: the record's UTF-8 check, the
/// places of its cells and each number parsed from text were most of reading a million
/// rows with two text columns.
fn push_mixed(
    record: &simd_csv::ByteRecord,
    parsed: &mut Parsed,
    (text, ends): (&mut String, &mut Vec<u32>),
    rows: &mut usize,
) -> bool {
    let bytes = record.as_slice();
    let base = bytes.as_ptr() as usize;
    if u32::try_from(text.len() + bytes.len()).is_err() {
        return false;
    }
    let (text_len, first) = (text.len(), ends.len());
    parsed.row.clear();
    parsed.row_dropped.clear();
    for (cell, &only) in record.iter().zip(&parsed.numbers_only) {
        let start = (cell.as_ptr() as usize).checked_sub(base);
        let short =
            start.filter(|_| only).and_then(|start| crate::typing::short_number(bytes, start, start + cell.len()));
        // A short decimal of a numbers-only column needs no look at its text.
        let value = match short {
            Some(value) => Some((value, true)),
            None => kept_cell(cell).map(|kept| match crate::typing::number_at(kept, 0, kept.len()) {
                Some(value) if only => (value, true),
                value => {
                    text.push_str(kept);
                    (value.unwrap_or(f32::NAN), false)
                }
            }),
        };
        let Some((value, dropped)) = value else {
            text.truncate(text_len);
            ends.truncate(first);
            return false;
        };
        parsed.row.push(value);
        parsed.row_dropped.push(dropped);
        // Below 4 GiB: checked above.
        ends.push(text.len() as u32);
    }
    let width = parsed.row.len();
    for (((column, &value), dropped), &row_dropped) in
        parsed.numbers.iter_mut().zip(&parsed.row).zip(&mut parsed.dropped).zip(&parsed.row_dropped)
    {
        column.push(value);
        *dropped |= row_dropped;
    }
    parsed.text_last = text.len() > text_len;
    if text.is_empty() && first == 0 {
        // No cell of the part has kept text yet: no offsets either.
        ends.clear();
    } else if first < *rows * width {
        // The first row to keep text: the rows before it get their zeros.
        ends.splice(0..0, std::iter::repeat_n(0, *rows * width));
    }
    *rows += 1;
    true
}

/// A cell kept as text, as [`cells`] would place it, when it needs no trimming and is
/// UTF-8 on its own; `None` otherwise.
fn kept_cell(cell: &[u8]) -> Option<&str> {
    match (cell.first(), cell.last()) {
        (None, _) => Some(""),
        (Some(first), Some(last)) if plain(first) && plain(last) => std::str::from_utf8(cell).ok(),
        _ => None,
    }
}

impl Table {
    pub fn new(header: Vec<String>) -> Table {
        Table { header, parts: vec![Part::new(0, None)], lines: Vec::new() }
    }

    /// A table that also parses each cell as a number as its row is added, on the thread
    /// that reads it, while the cell is in cache: typing a numeric column then reads its
    /// numbers, not its text (the pass over the text that typed a million rows took 100
    /// ms after reading them; see docs/performance.md).
    ///
    /// In the columns `numbers_only` marks, a cell that is a number keeps no text (its
    /// text reads as empty): the text of a million rows of numbers was 100 MB, and
    /// copying it a sixth of reading them. A column that turns out to need it all
    /// ([`Table::text_dropped`]) must be read again.
    pub fn parsing(header: Vec<String>, numbers_only: Vec<bool>) -> Table {
        let width = header.len();
        let parsed = Parsed { numbers: vec![Vec::new(); width], numbers_only, ..Parsed::default() };
        Table { header, parts: vec![Part::new(0, Some(&parsed))], lines: Vec::new() }
    }

    /// Whether a cell of `column` that is a number kept no text.
    pub fn text_dropped(&self, column: usize) -> bool {
        let dropped = |part: &Part| part.parsed.as_ref().is_some_and(|p| p.dropped.get(column) == Some(&true));
        self.parts.iter().any(dropped)
    }

    /// The numbers of `column` parsed as the table was read (NaN where a cell is not a
    /// number), one piece per part of the table (as `Numbers` keeps them: joining them
    /// would copy them), once: `None` when the table was not read with
    /// [`Table::parsing`], or they were taken before.
    pub fn take_numbers(&mut self, column: usize) -> Option<Vec<Vec<f32>>> {
        let complete = |part: &Part| part.parsed.as_ref().and_then(|p| p.numbers.get(column)).map(Vec::len);
        if !self.parts.iter().all(|part| complete(part) == Some(part.rows)) || self.rows() == 0 {
            return None;
        }
        let take = |part: &mut Part| part.parsed.as_mut().map(|p| std::mem::take(&mut p.numbers[column]));
        Some(self.parts.iter_mut().filter_map(take).collect())
    }

    pub fn rows(&self) -> usize {
        self.lines.len()
    }

    pub fn cell(&self, row: usize, column: usize) -> &str {
        let Some(part) = self.parts.iter().rev().find(|part| part.first_row <= row) else { return "" };
        let index = (row - part.first_row) * self.header.len() + column;
        // A part that has kept no text has no offsets: its cells are empty.
        let start = if index == 0 { 0 } else { part.ends.get(index - 1).map_or(0, |&e| e as usize) };
        let end = part.ends.get(index).map_or(start, |&e| e as usize);
        part.text.get(start..end).unwrap_or("")
    }

    /// Room for `bytes` more of cells' text without copying what is there.
    fn reserve(&mut self, bytes: u64) {
        if let Some(part) = self.parts.last_mut() {
            part.text.reserve(usize::try_from(bytes).unwrap_or(0));
        }
    }

    /// Appends a row of exactly the header's number of cells; `false` (nothing added) when
    /// the row's text alone passes 4 GiB.
    pub fn push_row<'a>(&mut self, cells: impl IntoIterator<Item = &'a str> + Clone, line: u64) -> bool {
        let pushed = self.push_cells(cells);
        if pushed {
            self.lines.push(line);
        }
        pushed
    }

    /// [`Part::push_numbers`] of a record, with its line.
    fn push_numbers(&mut self, record: &simd_csv::ByteRecord, line: u64) -> bool {
        let pushed = self.parts.last_mut().is_some_and(|part| part.push_numbers(record));
        if pushed {
            self.lines.push(line);
        }
        pushed
    }

    /// [`Table::push_row`] of the cells at `places` in `text` (as [`cells`] finds them):
    /// one copy of `text` when the cells are all of it, end to end, as in most rows (a
    /// copy for each cell was a twentieth of loading a million rows).
    fn push_record(&mut self, text: &str, places: &[(usize, usize)], line: u64) -> bool {
        let joined = places.first().is_some_and(|&(start, _)| start == 0)
            && places.last().is_some_and(|&(_, end)| end == text.len())
            && places.windows(2).all(|pair| pair[0].1 == pair[1].0);
        let width = self.header.len();
        if let Some(part) = self.parts.last_mut()
            && places.len() == width
            && part.drops_numbers_text()
            && part.push_parsed(text, places)
        {
            self.lines.push(line);
            return true;
        }
        if joined
            && places.len() == width
            && let Some(part) = self.parts.last_mut()
            && part.push_joined(text, places)
        {
            self.lines.push(line);
            return true;
        }
        self.push_row(pieces(text, places), line)
    }

    /// [`Table::push_row`] without its line. A part holds at most 4 GiB of text (its
    /// offsets are `u32`): a row that would pass that starts a new part.
    fn push_cells<'a>(&mut self, cells: impl IntoIterator<Item = &'a str> + Clone) -> bool {
        let rows = self.lines.len();
        let width = self.header.len();
        let Some(part) = self.parts.last_mut() else { return false };
        if part.push_cells(cells.clone(), width) {
            return true;
        }
        if part.rows == 0 {
            return false;
        }
        let mut fresh = Part::new(rows, part.parsed.as_ref());
        let pushed = fresh.push_cells(cells, width);
        self.parts.push(fresh);
        pushed
    }

    /// Appends the rows of `rest` (a table as wide), whose lines are counted from
    /// `lines_before`, as parts of this table.
    pub fn append(&mut self, rest: Table, lines_before: u64) {
        debug_assert_eq!(rest.header.len(), self.header.len(), "tables of one width");
        let rows = self.rows();
        let parts = rest.parts.into_iter().filter(|part| part.rows > 0);
        self.parts.extend(parts.map(|part| Part { first_row: rows + part.first_row, ..part }));
        self.lines.extend(rest.lines.iter().map(|&line| line + lines_before));
    }

    /// Each row's cells, row after row: the cheap way to read a whole table (no search
    /// for the row's part, no index arithmetic per cell).
    pub fn row_cells(&self) -> impl Iterator<Item = RowCells<'_>> {
        let width = self.header.len();
        // A row of a part that kept no text has no offsets, and empty cells.
        self.parts.iter().flat_map(move |part| {
            (0..part.rows).map(move |row| {
                let before = row.checked_sub(1).map(|before| part.row_ends(before, width));
                let start = before.and_then(|ends| ends.last().copied()).unwrap_or(0);
                RowCells { text: &part.text, start, ends: part.row_ends(row, width) }
            })
        })
    }

    /// Each row's cells, in order.
    pub fn records(&self) -> impl Iterator<Item = Vec<&str>> + '_ {
        (0..self.rows()).map(|row| (0..self.header.len()).map(|column| self.cell(row, column)).collect())
    }

    /// Keeps only the rows for which `keep` holds.
    pub fn retain_rows(&mut self, mut keep: impl FnMut(usize) -> bool) {
        let width = self.header.len();
        let mut kept = Table::new(self.header.clone());
        for row in 0..self.rows() {
            if keep(row) {
                let cells: Vec<&str> = (0..width).map(|column| self.cell(row, column)).collect();
                // A row that fitted before fits.
                kept.push_row(cells.iter().copied(), self.lines[row]);
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
    /// Named on the command line (relative to the working directory, `-` for standard
    /// input), not in the program (relative to its folder).
    pub from_command_line: bool,
}

impl FileRef<'_> {
    /// `-` on the command line: standard input.
    fn is_standard_input(&self) -> bool {
        self.from_command_line && self.path == "-"
    }
}

/// Bytes of memory reading and preparing a CSV file takes, per byte of the file: its
/// cells' text and offsets while they are typed, and the numbers (measured on a 100 MB
/// file of a million rows of numbers: 1.3 for `nnc run`, which keeps no text for them,
/// and 1.9 for `nnc predict`). Kept above the measurement for files of many short
/// categorical cells, and for a file read twice (see `tabular::numbers_only`).
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

    /// Reserves room in `out` for the `rows × width` numbers of `file`'s data encoded for
    /// the model, or a diagnostic pointing at `span` when they are more than this room (as
    /// it was before the file was read) or cannot be allocated now: under `ulimit -v` a
    /// failed allocation would abort the process. A file's size does not bound its
    /// encoding: a cell of one letter is a number per category of its column.
    pub(crate) fn reserve_encoded(
        &self,
        out: &mut Vec<f32>,
        (rows, width): (usize, usize),
        file: &str,
        span: Span,
    ) -> Result<(), Diagnostic> {
        let len = rows.checked_mul(width).filter(|&len| len <= isize::MAX as usize / 4);
        let bytes = len.map_or(u64::MAX, |len| len as u64 * 4);
        let fits = bytes <= self.bytes;
        if let Some(len) = len
            && fits
            && out.try_reserve_exact(len).is_ok()
        {
            return Ok(());
        }
        let why = if fits {
            format!("which could not be allocated once the file was read (before, there were {})", self.described)
        } else {
            format!("more than {}", self.described)
        };
        Err(Diagnostic::error(
            codes::TOO_LARGE,
            format!(
                "the data of `{file}` encoded for the model ({rows} rows of {width} numbers) needs {} MiB of memory, {why}",
                bytes >> 20,
            ),
            span,
            "this file",
        )
        .with_note("each categorical column takes one number per category in every row")
        .with_help(match self.remedy.as_str() {
            "" => "use a sample of the file or fewer categories".to_string(),
            remedy => format!("use a sample of the file or fewer categories, or {remedy}"),
        }))
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
pub(crate) fn read(spec: &FileRef, base_dir: &Path, kind: Cells) -> Result<Table, Diagnostic> {
    let table = read_rows_from(spec, base_dir, HALVES_FROM_BYTES, kind)?;
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

/// Files from this size on are read as two halves, one on each of two threads (a file
/// of a million rows is read in a little over half the time); smaller ones are read whole.
const HALVES_FROM_BYTES: u64 = 4 << 20;

/// Reads a CSV file: a header, then any number of rows (new rows to predict may be none).
pub(crate) fn read_rows(spec: &FileRef, base_dir: &Path, kind: Cells) -> Result<Table, Diagnostic> {
    read_rows_from(spec, base_dir, HALVES_FROM_BYTES, kind)
}

/// Which columns of a file keep no text for their cells that are numbers, said from its
/// header: every table read from a file also parses its cells as numbers, for the loader
/// that types them or the prediction that encodes them (see [`Table::parsing`]).
#[derive(Clone, Copy)]
pub(crate) struct Cells<'a>(pub &'a (dyn Fn(&[String]) -> Vec<bool> + Sync));

impl Cells<'_> {
    /// Every cell keeps its text.
    pub const ALL_TEXT: Cells<'static> = Cells(&|_| Vec::new());

    /// An empty table for a file whose header is `named` (`None`: `header` itself; the
    /// second half of a file has no header of its own).
    fn table(self, header: Vec<String>, named: Option<&[String]>) -> Table {
        let numbers_only = (self.0)(named.unwrap_or(&header));
        Table::parsing(header, numbers_only)
    }
}

/// [`read_rows`], reading files of at least `halves_from` bytes as two halves.
///
/// The second half starts right after a line end near the middle of the file, and is
/// read while the first is. That line end ends a row only if it is not inside a quoted
/// value, which is certain when the first half holds no quote at all; otherwise, or when
/// anything in either half is amiss (a diagnostic needs the line numbers the first half
/// gives, and must not depend on where the file was split), the file is read again from
/// its start, whole, as smaller files are: the same rows, lines and diagnostics either
/// way, a damaged file read twice.
fn read_rows_from(spec: &FileRef, base_dir: &Path, halves_from: u64, kind: Cells) -> Result<Table, Diagnostic> {
    if spec.is_standard_input() {
        return read_stream(spec, &mut LineEnds::new(std::io::stdin()), 0, kind);
    }
    let path = base_dir.join(spec.path);
    check_size(spec, &path)?;
    // Read as a stream: the file's bytes are never all in memory beside its cells.
    let file = std::fs::File::open(&path).map_err(|e| unreadable(spec, e.to_string()))?;
    let size = file.metadata().map_or(0, |m| m.len());
    if size >= halves_from
        && let Some(split) = split_point(&file, size)
        && let Some(table) = read_halves(spec, &path, size, split, kind)?
    {
        return Ok(table);
    }
    let file = std::fs::File::open(&path).map_err(|e| unreadable(spec, e.to_string()))?;
    read_stream(spec, &mut LineEnds::new(file), size, kind)
}

fn unreadable(spec: &FileRef, note: String) -> Diagnostic {
    let help = if spec.from_command_line {
        "paths on the command line are relative to the working directory (`-` reads standard input)"
    } else {
        "paths are relative to the folder of the .nn file"
    };
    Diagnostic::error(
        codes::UNREADABLE_FILE,
        format!("cannot read data file `{}`", spec.path),
        spec.path_span,
        "while reading this file",
    )
    .with_help(help)
    .with_note(note)
}

/// Where the second half starts: just past the first line end from the middle of the
/// file on, unless the bytes there begin with a byte-order mark (which the CSV reader
/// drops at the start of what it reads) or no line end lies near.
fn split_point(file: &std::fs::File, size: u64) -> Option<u64> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = file.try_clone().ok()?;
    let middle = size / 2;
    file.seek(SeekFrom::Start(middle)).ok()?;
    let mut window = vec![0; 1 << 16];
    let read = file.read(&mut window).ok()?;
    let window = &window[..read];
    let end = memchr::memchr(b'\n', window)?;
    let after = &window[end + 1..];
    let split = middle + end as u64 + 1;
    // Fewer than three bytes seen after the line end may be the start of a mark.
    (split < size && after.len() >= 3 && !after.starts_with(b"\xEF\xBB\xBF")).then_some(split)
}

/// The file read as two halves split at `split`, or `None` when it must be read whole.
fn read_halves(spec: &FileRef, path: &Path, size: u64, split: u64, kind: Cells) -> Result<Option<Table>, Diagnostic> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| unreadable(spec, e.to_string()))?;
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        let second = std::thread::Builder::new()
            .name("nnc-csv".to_string())
            .spawn_scoped(scope, || read_second_half(path, size, split, &stop, kind));
        let Ok(second) = second else { return Ok(None) };
        let mut first_half = LineEnds::new(file.take(split));
        // The halves are parts of one table: the first needs room for its own text only.
        let first = read_stream(spec, &mut first_half, split, kind);
        // A diagnostic comes from reading the file whole, where it cannot depend on the
        // split (a first half of only a header is "empty", for one).
        let (false, Ok(mut table)) = (first_half.quoted, first) else {
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            return Ok(None);
        };
        let Some(rest) = second.join().ok().flatten() else { return Ok(None) };
        if rest.header.len() != table.header.len() {
            return Ok(None);
        }
        table.append(rest, first_half.line_ends());
        Ok(Some(table))
    })
}

/// The rows from `split` on, numbered from there; `None` at the first thing amiss (a row
/// of another width than the first, text that is not UTF-8, an error), or when `stop`
/// is set.
fn read_second_half(
    path: &Path,
    size: u64,
    split: u64,
    stop: &std::sync::atomic::AtomicBool,
    kind: Cells,
) -> Option<Table> {
    use std::io::{Seek, SeekFrom};
    let mut file = std::fs::File::open(path).ok()?;
    file.seek(SeekFrom::Start(split)).ok()?;
    let mut reader = simd_csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(false)
        .buffer_capacity(1 << 16)
        .from_reader(LineEnds::new(file));
    let mut record = simd_csv::ByteRecord::new();
    if !reader.read_byte_record(&mut record).ok()? {
        return None;
    }
    // Only the width matters: the header is the first half's.
    let header = file_header(path);
    let mut table = kind.table(vec![String::new(); record.len()], Some(&header));
    table.reserve(size - split);
    let mut places = Vec::new();
    loop {
        let end = reader.position();
        let line = row_line(reader.get_mut(), end, &record);
        if record.len() != table.header.len() || stop.load(std::sync::atomic::Ordering::Relaxed) {
            return None;
        }
        if !table.push_numbers(&record, line) {
            let text = cells(&record, &mut places).ok()?;
            if !table.push_record(text, &places, line) {
                return None;
            }
        }
        if !reader.read_byte_record(&mut record).ok()? {
            return Some(table);
        }
    }
}

/// The file's header, as [`read_stream`] reads it: the second half of a file is read
/// without it.
fn file_header(path: &Path) -> Vec<String> {
    let Ok(file) = std::fs::File::open(path) else { return Vec::new() };
    let mut reader = simd_csv::ReaderBuilder::new().flexible(true).buffer_capacity(1 << 16).from_reader(file);
    let mut places = Vec::new();
    match reader.byte_headers().map(|header| cells(header, &mut places).map(|text| (text, &places))) {
        Ok(Ok((text, places))) => pieces(text, places).map(str::to_string).collect(),
        _ => Vec::new(),
    }
}

/// The line the record just read starts on, given where it ends in `ends`' bytes.
fn row_line<R>(ends: &mut LineEnds<R>, end: u64, record: &simd_csv::ByteRecord) -> u64 {
    // Counting them in every record of a file without quotes was 2 % of loading it.
    let inside = if ends.quoted { memchr::memchr_iter(b'\n', record.as_slice()).count() as u64 } else { 0 };
    ends.row_line(end, inside)
}

/// Reads a header and the rows after it from `source`.
fn read_stream<R: std::io::Read>(
    spec: &FileRef,
    source: &mut LineEnds<R>,
    size: u64,
    kind: Cells,
) -> Result<Table, Diagnostic> {
    let mut whole = None;
    read_stream_parts(spec, source, (PartSize::WHOLE, size), kind, &mut |table| {
        whole = Some(table);
        Ok(true)
    })?;
    whole.ok_or_else(|| unreadable(spec, "no table was read".to_string()))
}

/// How much of a file [`read_parts`] reads into each part: at most `rows` rows, and the
/// row that takes a part past `bytes` of the file ends it.
#[derive(Clone, Copy, Debug)]
pub struct PartSize {
    pub rows: usize,
    pub bytes: u64,
}

impl PartSize {
    /// The whole file as one part.
    pub const WHOLE: PartSize = PartSize { rows: usize::MAX, bytes: u64::MAX };
}

/// Reads a CSV file (standard input for `-` on the command line) as consecutive tables
/// of at most `size`, each handed to `each` as it is read (`false` from it stops the
/// reading): what predicting a file of any length needs, where [`read_rows`] holds it
/// whole. Lines are numbered in the whole file, and a file of no rows is one empty
/// table. The file's size is not checked against the room left: what a part holds is
/// bounded by `size`.
pub(crate) fn read_parts(
    spec: &FileRef,
    base_dir: &Path,
    size: PartSize,
    kind: Cells,
    each: &mut dyn FnMut(Table) -> Result<bool, Diagnostic>,
) -> Result<(), Diagnostic> {
    if spec.is_standard_input() {
        let reserve = size.bytes.min(1 << 20);
        return read_stream_parts(spec, &mut LineEnds::new(std::io::stdin()), (size, reserve), kind, each);
    }
    let file = std::fs::File::open(base_dir.join(spec.path)).map_err(|e| unreadable(spec, e.to_string()))?;
    let reserve = file.metadata().map_or(0, |m| m.len()).min(size.bytes);
    read_stream_parts(spec, &mut LineEnds::new(file), (size, reserve), kind, each)
}

/// [`read_parts`] of `source`, reserving `reserve` bytes of text in each part.
fn read_stream_parts<R: std::io::Read>(
    spec: &FileRef,
    source: &mut LineEnds<R>,
    (size, reserve): (PartSize, u64),
    kind: Cells,
    each: &mut dyn FnMut(Table) -> Result<bool, Diagnostic>,
) -> Result<(), Diagnostic> {
    let unreadable = |e: simd_csv::Error| unreadable(spec, e.to_string());
    // simd-csv finds separators 16 bytes at a time (SSE2 on every x86-64, NEON on ARM):
    // the `csv` crate's byte-at-a-time reader was a fifth of loading a large file.
    let mut reader = simd_csv::ReaderBuilder::new().flexible(true).buffer_capacity(1 << 16).from_reader(source);
    let mut record = simd_csv::ByteRecord::new();
    let mut places = Vec::new();
    let header = reader.byte_headers().map_err(unreadable)?;
    let header: Vec<String> = match cells(header, &mut places) {
        Ok(text) => pieces(text, &places).map(str::to_string).collect(),
        Err(column) => return Err(not_utf8(spec, 1, column)),
    };
    if header.iter().any(|name| name.contains('\r')) {
        // simd-csv ends lines at `\n` only: such a file reads as one long header.
        return Err(Diagnostic::error(
            codes::UNREADABLE_FILE,
            format!("the lines of `{}` end in a carriage return alone", spec.path),
            spec.path_span,
            "while reading this file",
        )
        .with_help("save the file with LF or CRLF line ends (the classic Mac OS CR alone is not read)"));
    }
    let mut more = reader.read_byte_record(&mut record).map_err(unreadable)?;
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
    let mut table = kind.table(header, None);
    // The cells' text takes about the file's bytes; reserving it avoids copying it as the
    // table grows.
    table.reserve(reserve);
    let mut part_start = reader.position();
    while more {
        let header = &table.header;
        let end = reader.position();
        let line = row_line(reader.get_mut(), end, &record);
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
        if !table.push_numbers(&record, line) {
            let text = cells(&record, &mut places).map_err(|column| not_utf8(spec, line, column))?;
            if !table.push_record(text, &places, line) {
                return Err(too_large_text(spec));
            }
        }
        more = reader.read_byte_record(&mut record).map_err(unreadable)?;
        if more && (table.rows() >= size.rows || end - part_start >= size.bytes) {
            let next = kind.table(table.header.clone(), None);
            if !each(std::mem::replace(&mut table, next))? {
                return Ok(());
            }
            table.reserve(reserve);
            part_start = end;
        }
    }
    each(table).map(|_| ())
}

/// A record as text, with the place of each of its cells in it, trimmed (of Unicode
/// whitespace, as `str::trim`) into `places`; or the first value (1-based) that is not
/// UTF-8. The record is checked as one string, and each cell is a piece of it.
fn cells<'r>(record: &'r simd_csv::ByteRecord, places: &mut Vec<(usize, usize)>) -> Result<&'r str, usize> {
    let bytes = record.as_slice();
    let first_bad = || record.iter().position(|cell| std::str::from_utf8(cell).is_err()).map_or(1, |c| c + 1);
    let text = std::str::from_utf8(bytes).map_err(|_| first_bad())?;
    let base = bytes.as_ptr() as usize;
    places.clear();
    for cell in record.iter() {
        // Every cell is a piece of the record's bytes (simd-csv's `ByteRecord`).
        let start = (cell.as_ptr() as usize).checked_sub(base).ok_or_else(first_bad)?;
        // Most cells start and end with a plain ASCII byte: they are pieces of the text
        // as they are, and need no test of where characters start (a third of this).
        if let (Some(first), Some(last)) = (cell.first(), cell.last())
            && plain(first)
            && plain(last)
            && start + cell.len() <= text.len()
        {
            places.push((start, start + cell.len()));
            continue;
        }
        // A cell can end inside a character only if its bytes are not UTF-8 on their own.
        let piece = trim(text.get(start..start + cell.len()).ok_or_else(first_bad)?);
        let start = piece.as_ptr() as usize - text.as_ptr() as usize;
        places.push((start, start + piece.len()));
    }
    Ok(text)
}

/// The cells [`cells`] placed in `text`.
fn pieces<'t>(text: &'t str, places: &[(usize, usize)]) -> impl Iterator<Item = &'t str> + Clone {
    places.iter().map(|&(start, end)| text.get(start..end).unwrap_or(""))
}

/// An ASCII byte that is not whitespace: a cell that starts and ends with one has no
/// whitespace to trim, and starts and ends on a character's edge.
fn plain(byte: &u8) -> bool {
    byte.is_ascii() && !byte.is_ascii_whitespace() && *byte != 0x0B
}

/// `cell` without leading and trailing whitespace; most cells have none, and telling so
/// from their first and last bytes is a tenth of the cost of `str::trim`.
fn trim(cell: &str) -> &str {
    match (cell.as_bytes().first(), cell.as_bytes().last()) {
        (Some(first), Some(last)) if plain(first) && plain(last) => cell,
        _ => cell.trim(),
    }
}

/// The file's bytes as the CSV reader takes them, with the offsets of the line ends it has
/// not yet passed: a row's line number, for diagnostics, is counted from the line ends
/// before it (the reader tracks bytes, not lines). At most a buffer's worth are held.
struct LineEnds<R> {
    inner: R,
    /// Bytes handed to the reader so far.
    offset: u64,
    /// Line ends handed to the reader and not yet passed, in order.
    ahead: std::collections::VecDeque<u64>,
    /// Line ends passed.
    passed: u64,
    /// Whether a quote was handed to the reader: until one is, no value holds a line end.
    quoted: bool,
}

impl<R> LineEnds<R> {
    fn new(inner: R) -> LineEnds<R> {
        LineEnds { inner, offset: 0, ahead: std::collections::VecDeque::new(), passed: 0, quoted: false }
    }

    /// The line ends handed to the reader so far.
    fn line_ends(&self) -> u64 {
        self.passed + self.ahead.len() as u64
    }

    /// The line a row starts on, given the offset where it ends (its line end included)
    /// and the line ends inside its quoted values: blank lines before it count, as they
    /// do in an editor.
    fn row_line(&mut self, end: u64, inside: u64) -> u64 {
        let mut last = None;
        while let Some(at) = self.ahead.front().copied().filter(|&at| at < end) {
            self.ahead.pop_front();
            self.passed += 1;
            last = Some(at);
        }
        let own_end = u64::from(last.is_some_and(|at| at + 1 == end));
        (self.passed + 1).saturating_sub(inside + own_end).max(1)
    }
}

impl<R: std::io::Read> std::io::Read for LineEnds<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buffer)?;
        let offset = self.offset;
        self.ahead.extend(memchr::memchr_iter(b'\n', &buffer[..read]).map(|at| offset + at as u64));
        self.offset += read as u64;
        self.quoted = self.quoted || memchr::memchr(b'"', &buffer[..read]).is_some();
        Ok(read)
    }
}

fn too_large_text(spec: &FileRef) -> Diagnostic {
    Diagnostic::error(
        codes::TOO_LARGE,
        format!("a row of data file `{}` holds more than 4 GiB of values", spec.path),
        spec.path_span,
        "this file",
    )
    .with_help("use a sample of the file")
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
    use super::{
        Cells, FileRef, PartSize, Room, Table, read_halves, read_parts, read_rows, read_rows_from, split_point,
    };
    use nnc_diagnostics::Span;

    /// The rows of a file with these bytes, and the line each starts on.
    fn rows_of(bytes: &[u8]) -> (Vec<Vec<String>>, Vec<u64>) {
        let folder = tempfile::tempdir().expect("a temporary folder");
        std::fs::write(folder.path().join("d.csv"), bytes).expect("a temporary file");
        let room = Room::unlimited();
        let file =
            FileRef { path: "d.csv", path_span: Span { start: 0, end: 0 }, room: &room, from_command_line: false };
        let table = read_rows(&file, folder.path(), Cells::ALL_TEXT).unwrap_or_else(|d| panic!("{d:?}"));
        let cells = table.records().map(|row| row.iter().map(|c| c.to_string()).collect()).collect();
        (cells, table.lines)
    }

    /// Lines as an editor numbers them: blank lines and line ends inside quoted values
    /// count, with or without a byte-order mark, CRLF, or a line end after the last row.
    #[test]
    fn rows_are_numbered_by_the_line_they_start_on() {
        let text = "a,b\n1,2\n\n3 , 4\r\n\"x\ny\",\"5,\"\"\"\n\n\n6,é\n7,8";
        let want = vec![vec!["1", "2"], vec!["3", "4"], vec!["x\ny", "5,\""], vec!["6", "é"], vec!["7", "8"]];
        for bytes in
            [text.as_bytes().to_vec(), [b"\xEF\xBB\xBF", text.as_bytes()].concat(), format!("{text}\n").into_bytes()]
        {
            let (cells, lines) = rows_of(&bytes);
            assert_eq!(cells, want);
            assert_eq!(lines, [2, 4, 5, 9, 10]);
        }
    }

    /// Any bytes (quotes, separators, line ends, broken UTF-8) give rows or a diagnostic,
    /// never a panic, and rows come in the order of their lines.
    #[test]
    fn any_bytes_read_or_are_refused() {
        let alphabet: [&[u8]; 10] = [b"a", b"1.5", b",", b"\"", b"\n", b"\r", b" ", "é".as_bytes(), b"\xC3", b"\xFF"];
        let mut state: u64 = 0x2545_F491_4F6C_DD1D;
        for _ in 0..400 {
            let mut bytes = Vec::new();
            for _ in 0..(state % 60) {
                let next = crate::xorshift(&mut state);
                bytes.extend_from_slice(alphabet[(next % alphabet.len() as u64) as usize]);
            }
            let folder = tempfile::tempdir().expect("a temporary folder");
            std::fs::write(folder.path().join("d.csv"), &bytes).expect("a temporary file");
            let room = Room::unlimited();
            let file =
                FileRef { path: "d.csv", path_span: Span { start: 0, end: 0 }, room: &room, from_command_line: false };
            if let Ok(table) = read_rows(&file, folder.path(), Cells::ALL_TEXT) {
                assert!(table.lines.windows(2).all(|pair| pair[0] < pair[1]), "{bytes:?}: {:?}", table.lines);
            }
        }
    }

    /// Lines are counted right past the reader's buffer (64 KiB).
    #[test]
    fn line_numbers_hold_across_buffers() {
        let mut text = String::from("x,y\n");
        for row in 0..20_000 {
            text.push_str(&format!("{row},\"{}\"\n", if row % 7 == 0 { "a\nb" } else { "c" }));
        }
        let (cells, lines) = rows_of(text.as_bytes());
        assert_eq!(cells.len(), 20_000);
        let mut line = 2;
        for (row, &got) in lines.iter().enumerate() {
            assert_eq!(got, line, "row {row}");
            line += if row % 7 == 0 { 2 } else { 1 };
        }
    }

    /// Rows with their lines, or a diagnostic's message.
    type Read = Result<(Vec<Vec<String>>, Vec<u64>), String>;

    /// What reading `bytes` gives when read whole and when read as two halves.
    fn both_ways(bytes: &[u8]) -> [Read; 2] {
        let folder = tempfile::tempdir().expect("a temporary folder");
        std::fs::write(folder.path().join("d.csv"), bytes).expect("a temporary file");
        let room = Room::unlimited();
        let file =
            FileRef { path: "d.csv", path_span: Span { start: 0, end: 0 }, room: &room, from_command_line: false };
        [u64::MAX, 0].map(|halves_from| {
            let read = |kind| {
                read_rows_from(&file, folder.path(), halves_from, kind).map(|table| {
                    let cells: Vec<Vec<String>> =
                        table.records().map(|row| row.iter().map(|c| c.to_string()).collect()).collect();
                    (cells, table)
                })
            };
            let numbers_of = |(cells, mut table): (Vec<Vec<String>>, Table)| {
                let dropped: Vec<bool> = (0..table.header.len()).map(|column| table.text_dropped(column)).collect();
                let numbers: Vec<Option<Vec<f32>>> =
                    (0..table.header.len()).map(|column| table.take_numbers(column).map(|p| p.concat())).collect();
                (cells, numbers, dropped, table.lines)
            };
            let parsed = read(Cells::ALL_TEXT).map(numbers_of);
            // The first column keeps the text of its numbers, the others not: rows whose
            // other cells are short decimals take `push_mixed`, the others the long way.
            let first_kept = |header: &[String]| (0..header.len()).map(|column| column > 0).collect();
            let numbers_only = read(Cells(&first_kept)).map(numbers_of);
            // No column keeps the text of its numbers: rows of short decimals take
            // `Part::push_numbers`, the others the long way, in the same parts.
            let none_kept = |header: &[String]| vec![true; header.len()];
            let all_numbers_only = read(Cells(&none_kept)).map(numbers_of);
            let text = parsed.as_ref().map(|(cells, _, _, lines)| (cells.clone(), lines.clone()));
            let text = text.map_err(|d| d.message.clone());
            let Ok(read) = &text else { return text };
            // Each cell's `number`, and its text unless it keeps none.
            for (kept, first_keeps, table) in
                [(false, true, parsed), (true, true, numbers_only), (true, false, all_numbers_only)]
            {
                let Ok((cells, numbers, dropped, lines)) = table else { panic!("read as text, not parsed") };
                assert_eq!(lines, read.1);
                for (column, numbers) in numbers.iter().enumerate() {
                    let expected = read.0.iter().map(|row| crate::typing::number(&row[column]).map(f32::to_bits));
                    let Some(numbers) = numbers else {
                        assert!(cells.is_empty(), "numbers of column {column}");
                        continue;
                    };
                    let found = numbers.iter().map(|v| (!v.is_nan()).then(|| v.to_bits()));
                    assert!(found.eq(expected), "numbers of column {column}");
                    // A cell keeps its text unless it is a number of a column that keeps none.
                    let keeps = |row: &Vec<String>| {
                        !kept || (first_keeps && column == 0) || crate::typing::number(&row[column]).is_none()
                    };
                    for (row, found) in read.0.iter().zip(&cells) {
                        let expected = if keeps(row) { row[column].as_str() } else { "" };
                        assert_eq!(found[column], expected, "column {column}");
                    }
                    assert_eq!(dropped[column], read.0.iter().any(|row| !keeps(row)), "column {column}");
                }
            }
            text
        })
    }

    /// A header `a,b` and up to 39 rows of two numbers, one in `damaged` of them replaced
    /// by one of `pieces` (quotes, line ends, broken UTF-8, …).
    fn damaged_file(state: &mut u64, pieces: &[&[u8]], damaged: u64) -> Vec<u8> {
        let mut next = || crate::xorshift(state);
        let mut bytes = b"a,b\n".to_vec();
        for _ in 0..(next() % 40) {
            if next() % damaged == 0 {
                bytes.extend_from_slice(pieces[(next() % pieces.len() as u64) as usize]);
            } else {
                bytes.extend_from_slice(format!("{},{}\n", next() % 100, next() % 7).as_bytes());
            }
        }
        bytes
    }

    /// Rows, lines and diagnostics are the same however the file is split: quotes (with
    /// line ends inside) before or after the middle, blank lines, CRLF, a byte-order mark,
    /// rows of the wrong width and broken UTF-8 on either side.
    #[test]
    fn halves_read_as_the_whole_file_does() {
        let pieces: [&[u8]; 13] = [
            b"1",
            b"2.5",
            b"1e3",
            b",",
            b"\n",
            b"\r\n",
            b"\n\n",
            b"\"a\nb\"",
            b"\"",
            b"x",
            b" ",
            b"\xFF",
            b"\xEF\xBB\xBF",
        ];
        // Headers longer than the rest of the file: the first half is the header alone.
        let unnamed = format!("{}\n1,2\n", ",".repeat(40));
        let long = format!("{},b\n1,2\n3,4\n", "a".repeat(40));
        for text in [unnamed, long] {
            let [whole, halves] = both_ways(text.as_bytes());
            assert_eq!(whole, halves, "{text:?}");
        }
        let mut state: u64 = 0x2545_F491_4F6C_DD1D;
        for _ in 0..600 {
            let bytes = damaged_file(&mut state, &pieces, 4);
            let [whole, halves] = both_ways(&bytes);
            assert_eq!(whole, halves, "{:?}", String::from_utf8_lossy(&bytes));
        }
    }

    /// Read a part at a time, any file gives the rows, lines and diagnostics of its whole
    /// read, in parts of at most the rows asked for (a part ends early after passing the
    /// bytes asked for), none of them empty unless it is the only one.
    #[test]
    fn parts_read_as_the_whole_file_does() {
        let pieces: [&[u8]; 9] = [b"1", b",", b"\n", b"\r\n", b"\n\n", b"\"a\nb\"", b"\"", b"\xFF", b"\xEF\xBB\xBF"];
        let folder = tempfile::tempdir().expect("a temporary folder");
        let room = Room::unlimited();
        let file =
            FileRef { path: "d.csv", path_span: Span { start: 0, end: 0 }, room: &room, from_command_line: false };
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut read_in_parts = 0;
        for _ in 0..600 {
            let bytes = damaged_file(&mut state, &pieces, 5);
            let mut next = || crate::xorshift(&mut state);
            std::fs::write(folder.path().join("d.csv"), &bytes).expect("a temporary file");
            let records = |table: &Table| -> Vec<Vec<String>> {
                table.records().map(|row| row.iter().map(|c| c.to_string()).collect()).collect()
            };
            let whole = read_rows(&file, folder.path(), Cells::ALL_TEXT).map(|t| (records(&t), t.lines));
            let size = PartSize { rows: 1 + (next() % 4) as usize, bytes: next() % 30 };
            let (mut cells, mut lines, mut sizes) = (Vec::new(), Vec::new(), Vec::new());
            let mut each = |table: Table| {
                sizes.push(table.rows());
                cells.extend(records(&table));
                lines.extend(table.lines);
                Ok(true)
            };
            let parts = read_parts(&file, folder.path(), size, Cells::ALL_TEXT, &mut each);
            let shown = String::from_utf8_lossy(&bytes);
            match (whole, parts) {
                (Ok(whole), Ok(())) => {
                    read_in_parts += usize::from(sizes.len() > 2);
                    assert_eq!(whole, (cells, lines), "{shown:?}");
                    assert!(sizes.iter().all(|&rows| rows <= size.rows), "{sizes:?}: {shown:?}");
                    assert!(sizes.len() == 1 || sizes.iter().all(|&rows| rows > 0), "{sizes:?}: {shown:?}");
                }
                (Err(whole), Err(parts)) => assert_eq!(whole.message, parts.message, "{shown:?}"),
                (whole, parts) => panic!("{shown:?}: whole {:?}, parts {:?}", whole.is_ok(), parts.is_ok()),
            }
        }
        assert!(read_in_parts > 100, "only {read_in_parts} files were read in more than two parts");
    }

    /// A file with no quote before its middle is read as two halves (the property above
    /// holds because the halves agree, not because every file is read whole); one with
    /// a quote before the middle is read whole.
    #[test]
    fn only_a_file_without_quotes_before_the_middle_is_split() {
        let halves = |bytes: &[u8]| {
            let folder = tempfile::tempdir().expect("a temporary folder");
            let path = folder.path().join("d.csv");
            std::fs::write(&path, bytes).expect("a temporary file");
            let room = Room::unlimited();
            let file =
                FileRef { path: "d.csv", path_span: Span { start: 0, end: 0 }, room: &room, from_command_line: false };
            let opened = std::fs::File::open(&path).expect("the file");
            let split = split_point(&opened, bytes.len() as u64).expect("a line end past the middle");
            read_halves(&file, &path, bytes.len() as u64, split, Cells::ALL_TEXT)
                .expect("no diagnostic")
                .map(|t| (t.rows(), t.lines))
        };
        let plain = "a,b\n1,2\n3,4\n\n5,6\n7,8\n9,10\n";
        assert_eq!(halves(plain.as_bytes()), Some((5, vec![2, 3, 5, 6, 7])));
        assert_eq!(halves("a,b\n\"1\",2\n3,4\n5,6\n7,8\n9,10\n".as_bytes()), None);
        // A row of another width after the middle: read whole, for the diagnostic's line.
        assert_eq!(halves("a,b\n1,2\n3,4\n5,6\n7,8\n9\n".as_bytes()), None);
    }

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

    /// `row_cells` gives what `cell` gives, across parts.
    #[test]
    fn rows_of_cells_are_the_cells() {
        let mut t = table();
        t.append(table(), 10);
        assert_eq!(t.rows(), 6);
        assert_eq!(t.lines, [2, 3, 5, 12, 13, 15]);
        let by_rows: Vec<Vec<&str>> = t.row_cells().map(|row| (0..2).map(|c| row.cell(c)).collect()).collect();
        assert_eq!(by_rows, t.records().collect::<Vec<_>>());
        assert_eq!(by_rows[4], ["", "y"]);
    }

    /// A table of numbers parsed as it is read keeps no offsets until a cell keeps text
    /// (here `none`, in a column of numbers, then a row pushed cell by cell): every cell
    /// still reads as before, by `cell` and by `row_cells`, and the numbers are all there.
    #[test]
    fn rows_that_kept_no_text_read_as_empty_cells_before_and_after_one_that_did() {
        let mut t = Table::parsing(vec!["a".into(), "b".into()], vec![true, true]);
        let rows = ["1,2", "3,4", "none,5", "6,7"];
        for (line, text) in rows.iter().enumerate() {
            let comma = text.find(',').unwrap_or(0);
            assert!(t.push_record(text, &[(0, comma), (comma + 1, text.len())], line as u64 + 2));
        }
        assert!(t.push_row(["8", "x"], 6));
        let want = [["", ""], ["", ""], ["none", ""], ["", ""], ["8", "x"]];
        assert_eq!(t.records().collect::<Vec<_>>(), want);
        let by_rows: Vec<Vec<&str>> = t.row_cells().map(|row| (0..2).map(|c| row.cell(c)).collect()).collect();
        assert_eq!(by_rows, want);
        let a = t.take_numbers(0).expect("parsed as read");
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&a.concat()), bits(&[1.0, 3.0, f32::NAN, 6.0, 8.0]));
        assert!(t.text_dropped(0) && t.text_dropped(1));
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
