//! The text columns that preparing a file reads after typing (categorical columns, the
//! annotation) as codes: each distinct cell once, and for each row the index of its
//! cell. Checking for missing values, counting categories and one-hot encoding then
//! look at each distinct cell once and at each row's code, where reading every cell's
//! text compared it with every missing-value marker and hashed it once per pass (four
//! passes over a million rows' two text columns took 120 ms; see docs/performance.md).

use crate::read::Table;
use rustc_hash::FxHashMap;

/// One column as codes.
pub(crate) struct Coded {
    /// The distinct cells end to end, in the order they first occur.
    text: String,
    /// Where each distinct cell ends in `text`.
    ends: Vec<usize>,
    /// Each row's distinct cell.
    codes: Vec<u32>,
}

impl Coded {
    /// Column `column` of `table`.
    fn of(table: &Table, column: usize) -> Coded {
        // Cells of up to 15 bytes (most categories and labels) are found by a 16-byte key:
        // no string comparison, which made a lookup among a column's few values cost
        // 30 ns (a million rows of two text columns took 45 ms to code).
        let mut short: FxHashMap<u128, u32> = FxHashMap::default();
        let mut long: FxHashMap<&str, u32> = FxHashMap::default();
        let mut coded = Coded { text: String::new(), ends: Vec::new(), codes: Vec::with_capacity(table.rows()) };
        for cells in table.row_cells() {
            let cell = cells.cell(column);
            let code = match short_key(cell) {
                Some(key) => *short.entry(key).or_insert_with(|| coded.add(cell)),
                None => *long.entry(cell).or_insert_with(|| coded.add(cell)),
            };
            coded.codes.push(code);
        }
        coded
    }

    /// Adds a distinct cell, and returns its code.
    fn add(&mut self, cell: &str) -> u32 {
        self.text.push_str(cell);
        self.ends.push(self.text.len());
        // A table of 2³² rows would need 32 GiB for its lines alone, and could not have
        // been read into memory that was checked first.
        debug_assert!(self.ends.len() <= u32::MAX as usize, "fewer distinct cells than 2³²");
        (self.ends.len() - 1) as u32
    }

    /// The distinct cells, in order of their codes.
    pub fn values(&self) -> impl Iterator<Item = &str> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts.zip(&self.ends).map(|(start, &end)| self.text.get(start..end).unwrap_or(""))
    }

    /// `f` of each distinct cell, in order of their codes.
    pub fn per_value<T>(&self, f: impl FnMut(&str) -> T) -> Vec<T> {
        self.values().map(f).collect()
    }

    /// The code of `row`'s cell.
    pub fn code(&self, row: usize) -> usize {
        self.codes[row] as usize
    }

    /// The cell of `row`.
    pub fn cell(&self, row: usize) -> &str {
        let code = self.code(row);
        let start = code.checked_sub(1).map_or(0, |before| self.ends[before]);
        self.text.get(start..self.ends[code]).unwrap_or("")
    }

    /// The first row whose cell passes `test`, which sees each distinct cell once.
    pub fn first_row(&self, test: impl FnMut(&str) -> bool) -> Option<usize> {
        let passes = self.per_value(test);
        self.codes.iter().position(|&code| passes[code as usize])
    }

    /// Each distinct cell with the number of `rows` it is the cell of (zero for some).
    pub fn counts(&self, rows: &[usize]) -> impl Iterator<Item = (&str, usize)> {
        let mut counts = vec![0; self.ends.len()];
        for &row in rows {
            counts[self.code(row)] += 1;
        }
        self.values().zip(counts)
    }
}

/// A cell of at most 15 bytes as its bytes and its length: equal keys, equal cells.
/// Built a byte at a time in a register: copied into a 16-byte buffer instead, each key
/// was read back before the copy's stores had landed, and a lookup took as long as
/// comparing the strings.
fn short_key(cell: &str) -> Option<u128> {
    let bytes = cell.as_bytes();
    (bytes.len() < 16).then(|| {
        let key = bytes.iter().rev().fold(0u128, |key, &byte| (key << 8) | u128::from(byte));
        key | (bytes.len() as u128) << 120
    })
}

/// Some columns of a table, coded.
pub(crate) struct CodedColumns {
    coded: Vec<Coded>,
    /// Source column → its place in `coded`.
    index: Vec<Option<usize>>,
}

impl CodedColumns {
    /// Columns `kept` of `table` (whose text was read whole), on two threads when there
    /// are many cells.
    pub fn of(table: &Table, kept: &[usize]) -> CodedColumns {
        debug_assert!(kept.iter().all(|&c| !table.text_dropped(c)), "the text kept was read whole");
        let mut index = vec![None; table.header.len()];
        for (place, &column) in kept.iter().enumerate() {
            index[column] = Some(place);
        }
        let parallel = table.rows() * kept.len() >= crate::tabular::PARALLEL_CELLS;
        let coded = crate::in_halves(kept, parallel, |columns| columns.iter().map(|&c| Coded::of(table, c)).collect());
        CodedColumns { coded, index }
    }

    /// A coded column.
    pub fn column(&self, column: usize) -> Option<&Coded> {
        self.index.get(column).copied().flatten().and_then(|place| self.coded.get(place))
    }
}

/// A table reduced to its coded columns, its header and its rows' lines, once its numeric
/// columns are numbers: the rest of the file's text is dropped before the encoded copies
/// are made (for a million rows of numbers, 133 MB less at the peak).
pub(crate) struct TextColumns {
    pub header: Vec<String>,
    pub lines: Vec<u64>,
    coded: CodedColumns,
}

impl TextColumns {
    /// `table`'s header and lines with `coded` (its columns); the rest of it is dropped.
    pub fn keep(table: Table, coded: CodedColumns) -> TextColumns {
        TextColumns { header: table.header, lines: table.lines, coded }
    }

    pub fn rows(&self) -> usize {
        self.lines.len()
    }

    /// A kept column.
    pub fn column(&self, column: usize) -> Option<&Coded> {
        self.coded.column(column)
    }

    /// The cell of a kept column ("" in any other).
    pub fn cell(&self, row: usize, column: usize) -> &str {
        debug_assert!(self.column(column).is_some(), "column {column} was kept as text");
        self.column(column).map_or("", |coded| coded.cell(row))
    }
}

#[cfg(test)]
mod tests {
    use super::{CodedColumns, TextColumns};
    use crate::read::Table;

    /// Codes give back every cell, empty ones and repeated ones too, and count and test
    /// each distinct cell as the rows hold it.
    #[test]
    fn coded_columns_are_the_cells() {
        let mut table = Table::new(vec!["a".into(), "b".into(), "c".into()]);
        let rows = [["x", "1", ""], ["y", "2", "none"], ["x", "3", ""], ["", "4", "NA"], ["y", "5", "none"]];
        for (line, row) in rows.iter().enumerate() {
            assert!(table.push_row(row.iter().copied(), line as u64 + 2));
        }
        let coded = CodedColumns::of(&table, &[0, 2]);
        let text = TextColumns::keep(table, coded);
        assert_eq!(text.rows(), 5);
        assert_eq!(text.lines, [2, 3, 4, 5, 6]);
        for (row, cells) in rows.iter().enumerate() {
            assert_eq!(text.cell(row, 0), cells[0]);
            assert_eq!(text.cell(row, 2), cells[2]);
        }
        assert!(text.column(1).is_none());
        let a = text.column(0).expect("kept");
        assert_eq!(a.values().collect::<Vec<_>>(), ["x", "y", ""]);
        assert_eq!(a.counts(&[0, 1, 2, 4]).collect::<Vec<_>>(), [("x", 2), ("y", 2), ("", 0)]);
        let c = text.column(2).expect("kept");
        assert_eq!(c.first_row(|cell| cell == "NA"), Some(3));
        assert_eq!(c.first_row(|cell| cell == "none"), Some(1));
        assert_eq!(c.first_row(|cell| cell == "missing"), None);
    }

    /// Cells that differ only in a trailing NUL, in length around the 15 bytes a short
    /// key holds, or past them, get codes of their own; equal ones share one.
    #[test]
    fn cells_alike_in_their_first_bytes_get_distinct_codes() {
        let cells = [
            "a",
            "a\0",
            "\0",
            "",
            "é",
            "abcdefghijklmno",
            "abcdefghijklmnop",
            "abcdefghijklmnoq",
            "abcdefghijklmn",
            "a",
            "abcdefghijklmnop",
            "",
            "\0",
        ];
        let mut table = Table::new(vec!["c".into()]);
        for (line, cell) in cells.iter().enumerate() {
            assert!(table.push_row([*cell], line as u64 + 2));
        }
        let columns = CodedColumns::of(&table, &[0]);
        let coded = columns.column(0).expect("kept");
        assert_eq!(coded.values().count(), 9);
        for (row, cell) in cells.iter().enumerate() {
            assert_eq!(coded.cell(row), *cell);
        }
    }
}
