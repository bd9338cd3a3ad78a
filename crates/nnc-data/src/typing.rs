//! Column typing: each used column is numeric or categorical, decided explicitly and
//! reported, never guessed from one odd cell.
//!
//! - A column listed in `categorical` is categorical.
//! - A column whose cells are all numbers (or missing) is numeric.
//! - A column with no numbers is categorical (text).
//! - A column that is mostly numbers with some other text (`abc`, `inf`) is an error
//!   naming the first odd cell: silently turning it into categories would train on
//!   nonsense. A column that is mostly text with a few number-like values (`2B`, `12`)
//!   is categorical.
//!
//! Missing cells are those the data's `missing_values` names (by default
//! [`crate::spec::DEFAULT_MISSING_VALUES`], compared exactly).

use crate::read::Table;
use crate::spec::{CsvSpec, Missing, is_marker};
use nnc_diagnostics::{Diagnostic, codes};

/// The type of one source column.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum ColumnType {
    /// Values by row.
    Numeric(Numbers),
    Categorical,
}

/// A numeric column's values by row, NaN where the cell is missing: a cell that parses is
/// finite (see [`number`]), so NaN marks nothing else, and a value takes 4 bytes, not the
/// 8 of an `Option<f32>` (44 MB less for a million rows of eleven columns).
///
/// The values are in two pieces, as the two halves of a large file were read: joining
/// them wrote every value again into fresh memory, and on a million rows the page faults
/// alone took 18 ms.
#[derive(Clone, Debug, Default)]
pub(crate) struct Numbers {
    first: Vec<f32>,
    rest: Vec<f32>,
    /// The first row whose cell is missing, found once (checking for missing values
    /// would otherwise scan every column again).
    first_missing: Option<usize>,
}

impl Numbers {
    fn new(values: Vec<f32>) -> Numbers {
        Numbers::from_pieces(vec![values])
    }

    /// The values of `pieces`, one after another.
    pub fn from_pieces(pieces: Vec<Vec<f32>>) -> Numbers {
        let mut pieces = pieces.into_iter();
        let first = pieces.next().unwrap_or_default();
        // More than two pieces only past 4 GiB of text: those are joined.
        let rest = pieces.reduce(|mut rest, more| {
            rest.extend(more);
            rest
        });
        let rest = rest.unwrap_or_default();
        let first_missing = first_nan(&first).or_else(|| Some(first.len() + first_nan(&rest)?));
        Numbers { first, rest, first_missing }
    }

    pub fn get(&self, row: usize) -> Option<f32> {
        // Which piece by arithmetic, not by a branch: rows come in shuffled order, and a
        // branch on the piece mispredicts half the time (a tenth of loading a million
        // rows went to it).
        let in_rest = row >= self.first.len();
        let pieces = [&self.first[..], &self.rest[..]];
        let value = pieces[usize::from(in_rest)].get(row - usize::from(in_rest) * self.first.len());
        value.copied().filter(|v| !v.is_nan())
    }

    pub fn len(&self) -> usize {
        self.first.len() + self.rest.len()
    }

    pub fn first_missing(&self) -> Option<usize> {
        self.first_missing
    }

    /// Whether some cell is a number, looked for a block at a time (as in [`first_nan`]).
    fn any_number(&self) -> bool {
        let mut blocks = self.first.chunks(256).chain(self.rest.chunks(256));
        blocks.any(|block| block.iter().fold(false, |any, v| any | !v.is_nan()))
    }

    /// Every value, `None` where missing.
    pub fn to_options(&self) -> Vec<Option<f32>> {
        (0..self.len()).map(|row| self.get(row)).collect()
    }
}

/// The place of the first NaN in `values`, looked for a block at a time: a loop with no
/// early exit is vectorised (a million rows of eleven columns: 9 ms value by value).
fn first_nan(values: &[f32]) -> Option<usize> {
    const BLOCK: usize = 256;
    let block = values.chunks(BLOCK).position(|block| block.iter().fold(false, |nan, v| nan | v.is_nan()))?;
    let start = block * BLOCK;
    values[start..].iter().position(|v| v.is_nan()).map(|at| start + at)
}

impl PartialEq for Numbers {
    /// Equal when the same cells are missing and the rest are equal.
    fn eq(&self, other: &Numbers) -> bool {
        self.len() == other.len() && (0..self.len()).all(|row| self.get(row) == other.get(row))
    }
}

impl FromIterator<Option<f32>> for Numbers {
    fn from_iter<I: IntoIterator<Item = Option<f32>>>(values: I) -> Numbers {
        Numbers::new(values.into_iter().map(|v| v.unwrap_or(f32::NAN)).collect())
    }
}

/// Whether one of `markers` reads as a number (`-999`): then a column's cells must be
/// compared with the markers as text before they are read as numbers.
pub(crate) fn numeric_marker(markers: &[String]) -> bool {
    markers.iter().any(|m| number(m).is_some())
}

/// A finite number that fits an f32.
pub(crate) fn number(cell: &str) -> Option<f32> {
    // A finite number starts with a digit or a point after its sign (`inf` and `nan` are
    // not finite): text cells (categories, labels) are refused before the full parse.
    let unsigned = cell.strip_prefix(['+', '-']).unwrap_or(cell);
    if !unsigned.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
        return None;
    }
    let value = plain_decimal(cell).or_else(|| cell.parse::<f64>().ok());
    let value = value.filter(|v| v.is_finite() && v.abs() <= f64::from(f32::MAX))?;
    Some(value as f32)
}

/// Why a cell [`number`] refuses is not a number: what a diagnostic adds after the cell
/// (a finite decimal beyond f32's range reads as a number to anyone but nnc).
pub(crate) fn not_a_number_reason(cell: &str) -> &'static str {
    match cell.trim().parse::<f64>() {
        Ok(value) if value.is_finite() => "beyond ±3.4e38, the range of the 32-bit numbers nnc computes with",
        Ok(_) => "not finite",
        Err(_) => "not a number",
    }
}

/// The short decimal `text[start..end]` (see [`short_decimal`]), or `None` for any other
/// cell, which [`number_at`] would then parse the long way.
pub(crate) fn short_number(text: &[u8], start: usize, end: usize) -> Option<f32> {
    short_decimal(text, start, end)
}

/// [`number`] of the cell `text[start..end]`, faster for a short decimal: see
/// [`short_decimal`].
#[inline]
pub(crate) fn number_at(text: &str, start: usize, end: usize) -> Option<f32> {
    short_decimal(text.as_bytes(), start, end).or_else(|| number(text.get(start..end)?))
}

/// A decimal of at most 7 digits before and 7 after the point, whose digits as an integer
/// `m` are below 2²⁴, as `number` gives it, without its division (most of parsing a
/// file of such numbers).
///
/// - The fraction is read as one 8-byte word padded with zeros (SWAR: the digits are
///   checked and combined in three multiplications), so the value is `m' · 10⁻⁸`.
/// - `number` rounds the decimal `x` to f64, then to f32. Here `m'` is exact, and
///   `m' · fl(10⁻⁸)` is within 2⁻⁵² of `x` (relative). With at most 7 digits after the
///   point, `x` is at least 2⁻²⁵ · 10⁻⁷ ≈ 2⁻⁴⁸ (relative) away from any point where f32
///   rounding changes side, unless it lies on one, which needs 25 significant bits: `m`
///   below 2²⁴ rules that out. So both round to the same f32, the f32 nearest to `x`.
///
/// `None` for any other cell; the test checks it to the bit against `number`.
fn short_decimal(text: &[u8], start: usize, end: usize) -> Option<f32> {
    // 2²⁴ · 10⁸⁻ᶠ: `m' < LIMIT[f]` is `m < 2²⁴` for a fraction of f digits.
    const LIMIT: [u64; 8] = {
        let mut limit = [0; 8];
        let mut f = 0;
        while f < 8 {
            limit[f] = (1 << 24) * 10u64.pow(8 - f as u32);
            f += 1;
        }
        limit
    };
    let cell = text.get(start..end)?;
    let first = *cell.first()?;
    let negative = first == b'-';
    let mut at = usize::from(negative | (first == b'+'));
    let whole_start = at;
    let mut whole: u64 = 0;
    while let Some(&byte) = cell.get(at) {
        let digit = byte.wrapping_sub(b'0');
        if digit > 9 {
            break;
        }
        whole = whole * 10 + u64::from(digit);
        at += 1;
    }
    let whole_digits = at - whole_start;
    let fraction = match cell.get(at) {
        None => 0,
        Some(b'.') => {
            at += 1;
            cell.len() - at
        }
        Some(_) => return None,
    };
    if whole_digits > 7 || fraction > 7 || whole_digits + fraction == 0 {
        return None;
    }
    let word = match text.get(start + at..start + at + 8) {
        Some(eight) => u64::from_le_bytes(eight.try_into().ok()?),
        // The text's last cell: its fraction, then anything (masked off below).
        None => {
            let tail = text.get(start + at..end)?;
            let mut eight = [b'0'; 8];
            eight.get_mut(..tail.len())?.copy_from_slice(tail);
            u64::from_le_bytes(eight)
        }
    };
    // The fraction's bytes, then '0's: the first byte is the most significant digit.
    let kept = (1u64 << (8 * fraction)) - 1;
    let word = (word & kept) | (0x3030_3030_3030_3030 & !kept);
    let digits_only = (word.wrapping_add(0x4646_4646_4646_4646) | word.wrapping_sub(0x3030_3030_3030_3030))
        & 0x8080_8080_8080_8080
        == 0;
    if !digits_only {
        return None;
    }
    let scaled = whole * 100_000_000 + eight_digits(word);
    if scaled >= LIMIT[fraction] {
        return None;
    }
    // Below 10¹⁵: as an i64, converted by one instruction (a u64 takes several).
    let magnitude = (scaled as i64 as f64 * 1e-8) as f32;
    Some(f32::from_bits(magnitude.to_bits() | (u32::from(negative) << 31)))
}

/// Eight ASCII digits in a little-endian word (the first byte most significant) as their
/// value: pairs, then quadruples, then the whole, each step one multiplication.
fn eight_digits(word: u64) -> u64 {
    let digits = word.wrapping_sub(0x3030_3030_3030_3030);
    let pairs = digits.wrapping_mul(10).wrapping_add(digits >> 8);
    let low = (pairs & 0x0000_00FF_0000_00FF).wrapping_mul(100 + (1_000_000 << 32));
    let high = ((pairs >> 16) & 0x0000_00FF_0000_00FF).wrapping_mul(1 + (10_000 << 32));
    (low.wrapping_add(high) >> 32) & 0xFFFF_FFFF
}

/// A plain decimal (`-12.5`: a sign, at most 15 digits, at most one point, no exponent)
/// as the f64 nearest to it, which is what `str::parse` gives, in at least a third less
/// time on a file of such numbers (most of them are). Both the digits as an integer (below 10¹⁵
/// < 2⁵³) and the power of ten (at most 10¹⁵) are exact f64s, so the one correctly
/// rounded division is the nearest f64 to the decimal (Clinger's fast path). Anything
/// else is `None`, for `str::parse`. The digits before and after the point are read by
/// two loops with one test per byte (a fifth faster than one loop that also looks for
/// the point). The sign is read and applied without a branch: signs fall at random in
/// real data, and each mispredicted branch cost as much as reading the digits (a million
/// rows of eleven random-signed cells: 163 ms to parse on one core with the branches, 102
/// without; reading the cell as one 16-byte word instead of byte by byte took 220).
fn plain_decimal(cell: &str) -> Option<f64> {
    const POWERS: [f64; 16] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];
    let bytes = cell.as_bytes();
    let first = *bytes.first()?;
    let negative = first == b'-';
    let body = &bytes[usize::from(negative | (first == b'+'))..];
    // 16 bytes hold at most 15 digits and a point, or 16 digits (refused below).
    if body.len() > 16 {
        return None;
    }
    let mut integer: u64 = 0;
    let mut whole = 0;
    for &byte in body {
        let digit = byte.wrapping_sub(b'0');
        if digit > 9 {
            break;
        }
        integer = integer * 10 + u64::from(digit);
        whole += 1;
    }
    let fraction = match body.get(whole) {
        None if whole == 0 || whole == 16 => return None,
        None => &[][..],
        Some(b'.') => &body[whole + 1..],
        Some(_) => return None,
    };
    for &byte in fraction {
        let digit = byte.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        integer = integer * 10 + u64::from(digit);
    }
    if whole + fraction.len() == 0 {
        return None;
    }
    let magnitude = integer as f64 / POWERS[fraction.len().min(15)];
    Some(f64::from_bits(magnitude.to_bits() | (u64::from(negative) << 63)))
}

/// The type of `column` from its numbers as the table's reader parsed them (NaN where a
/// cell is not a number; in pieces, see [`Numbers`]), when they decide it: a column that is not declared
/// categorical, has no missing-value marker that reads as a number, and whose every cell
/// is a number is numeric, with those values. `None` for any other column, which is typed
/// from its text by [`column_types`] (that finds its markers and odd cells), with these
/// numbers for the cells whose text was not kept.
pub(crate) fn parsed_type(
    spec: &CsvSpec,
    table: &Table,
    column: usize,
    pieces: Vec<Vec<f32>>,
) -> Result<ColumnType, Numbers> {
    let name = &table.header[column];
    let declared = spec.declares_categorical(&table.header, column);
    let numeric_marker = numeric_marker(spec.missing_values.markers_for(name));
    let numbers = Numbers::from_pieces(pieces);
    let decided = !declared
        && !numeric_marker
        && numbers.first_missing.is_none()
        && numbers.len() > 0
        && numbers.len() == table.rows();
    if decided { Ok(ColumnType::Numeric(numbers)) } else { Err(numbers) }
}

/// Types `column`, or explains the first cell that makes a numeric column unusable.
pub(crate) fn column_type(spec: &CsvSpec, table: &Table, column: usize) -> Result<ColumnType, Diagnostic> {
    column_types(spec, table, &[(column, None)]).pop().expect("one column typed")
}

/// Types each of `columns`, reading the table row by row: a row's cells lie together, so
/// a wide file is read in order instead of one far-apart cell per row and column (for
/// 1,000 columns, this made typing 3x faster). A column given with its numbers as the
/// table's reader parsed them takes them from there, and only the other cells' text.
pub(crate) fn column_types(
    spec: &CsvSpec,
    table: &Table,
    columns: &[(usize, Option<&Numbers>)],
) -> Vec<Result<ColumnType, Diagnostic>> {
    let is_categorical = |column: usize, parsed: Option<&Numbers>| {
        spec.declares_categorical(&table.header, column) || text_only(spec, table, column, parsed)
    };
    let mut tallies: Vec<Option<Tally>> = (columns.iter())
        .map(|&(c, parsed)| (!is_categorical(c, parsed)).then(|| Tally::new(spec, table, c, parsed)))
        .collect();
    // (Columns of text need no tally: then the rows need not be read at all.)
    let rows = if tallies.iter().any(Option::is_some) { table.rows() } else { 0 };
    for (row, cells) in table.row_cells().take(rows).enumerate() {
        for (tally, &(column, _)) in tallies.iter_mut().zip(columns) {
            if let Some(tally) = tally {
                tally.add(row, cells.cell(column));
            }
        }
    }
    tallies
        .into_iter()
        .zip(columns)
        .map(|(tally, &(column, _))| match tally {
            None => Ok(ColumnType::Categorical),
            Some(tally) => tally.finish(spec, table, column),
        })
        .collect()
}

/// Whether `column`, whose numbers the reader parsed, has no number at all and a cell that
/// is not a missing-value marker: a column of text, categorical as its tally would find
/// (which is then not needed: for a million rows of ten such columns it was a sixth of
/// loading them).
fn text_only(spec: &CsvSpec, table: &Table, column: usize, parsed: Option<&Numbers>) -> bool {
    let markers = spec.missing_values.markers_for(&table.header[column]);
    let numeric_marker = numeric_marker(markers);
    let no_numbers = parsed.is_some_and(|numbers| numbers.len() == table.rows() && !numbers.any_number());
    no_numbers && !numeric_marker && (0..table.rows()).any(|row| !is_marker(markers, table.cell(row, column)))
}

/// One column's cells so far: its values, how many were numbers, and the rows that were
/// neither a number nor a missing-value marker.
struct Tally<'a> {
    markers: &'a [String],
    /// A marker reads as a number (`-999`): it must be looked for before the number.
    numeric_marker: bool,
    /// The column's numbers as the reader parsed them (NaN where a cell is not one),
    /// read instead of parsing the cells' text again (which a number may not have kept).
    parsed: Option<&'a Numbers>,
    values: Vec<f32>,
    numbers: usize,
    odd: Vec<usize>,
}

impl<'a> Tally<'a> {
    fn new(spec: &'a CsvSpec, table: &Table, column: usize, parsed: Option<&'a Numbers>) -> Tally<'a> {
        let markers = spec.missing_values.markers_for(&table.header[column]);
        let numeric_marker = numeric_marker(markers);
        // A numeric marker is compared with the cell's text, which is then kept.
        let parsed = parsed.filter(|numbers| !numeric_marker && numbers.len() == table.rows());
        let values = Vec::with_capacity(table.rows());
        Tally { markers, numeric_marker, parsed, values, numbers: 0, odd: Vec::new() }
    }

    /// A cell is parsed first and compared with the markers only when it is not a number
    /// (most cells are numbers, and this is most of loading a large file).
    fn add(&mut self, row: usize, cell: &str) {
        let value = match self.parsed {
            Some(numbers) => numbers.get(row),
            None => number(cell),
        };
        match value {
            Some(value) if !(self.numeric_marker && is_marker(self.markers, cell)) => {
                self.numbers += 1;
                self.values.push(value);
            }
            Some(_) => self.values.push(f32::NAN),
            None if is_marker(self.markers, cell) => self.values.push(f32::NAN),
            None => {
                self.odd.push(row);
                self.values.push(f32::NAN);
            }
        }
    }

    fn finish(self, spec: &CsvSpec, table: &Table, column: usize) -> Result<ColumnType, Diagnostic> {
        let Tally { values, numbers, odd, .. } = self;
        let name = &table.header[column];
        if odd.is_empty() && numbers > 0 {
            return Ok(ColumnType::Numeric(Numbers::new(values)));
        }
        if numbers < odd.len() {
            return Ok(ColumnType::Categorical);
        }
        if numbers == 0 {
            return Err(Diagnostic::error(
                codes::MISSING_VALUE,
                format!("column `{name}` of `{}` has no values: every cell is missing", spec.path),
                spec.path_span,
                format!("column `{name}` of this file"),
            )
            .with_help(format!("leave `{name}` out of the features, or fill it in the file")));
        }
        let first = odd[0];
        let cell = table.cell(first, column);
        let more = match odd.len() - 1 {
            0 => String::new(),
            n => format!(" (and {n} more)"),
        };
        Err(Diagnostic::error(
            codes::ODD_VALUE,
            format!(
                "column `{name}` of `{}` holds numbers, but line {} has `{cell}` ({}){more}",
                spec.path,
                table.lines[first],
                not_a_number_reason(cell)
            ),
            spec.path_span,
            format!("line {}, column {} (`{name}`)", table.lines[first], column + 1),
        )
        .with_note(format!(
            "{numbers} of {} cells in `{name}` are numbers; a number must be finite (no `inf`) and within ±3.4e38",
            table.rows()
        ))
        .with_help(format!(
            "correct those cells in the file (write a missing value as an empty cell or `NA`); if `{name}` holds \
             categories, add `categorical {name}`"
        )))
    }
}

/// The first row at which a used column is missing, under `missing error`.
pub(crate) fn first_missing(
    spec: &CsvSpec,
    table: &Table,
    columns: &[usize],
    types: &[ColumnType],
) -> Result<(), Diagnostic> {
    if spec.missing != Missing::Error {
        return Ok(());
    }
    // Each column's first missing row, then the first of those (the leftmost column on
    // that row): a numeric column found its own when it was typed, where looking at every
    // row's cells in turn went through each row's cells (on a million rows this check and
    // the class check took 30 ms that way, 10 with a scan of each column, and now none).
    let first_of_column = |(&column, column_type): (&usize, &ColumnType)| match column_type {
        ColumnType::Numeric(values) => values.first_missing(),
        ColumnType::Categorical => (0..table.rows())
            .find(|&row| spec.missing_values.is_missing(&table.header[column], table.cell(row, column))),
    };
    let firsts: Vec<Option<usize>> = columns.iter().zip(types).map(first_of_column).collect();
    missing_value(spec, (&table.header, &table.lines), (columns, types), &firsts, |row, column| table.cell(row, column))
}

/// The diagnostic for the first missing value of `columns` (of `types`), given the first
/// row at which each is missing (`firsts`) and how to read a cell; `Ok` when none is.
pub(crate) fn missing_value<'t>(
    spec: &CsvSpec,
    (header, lines): (&[String], &[u64]),
    (columns, types): (&[usize], &[ColumnType]),
    firsts: &[Option<usize>],
    cell: impl Fn(usize, usize) -> &'t str,
) -> Result<(), Diagnostic> {
    let firsts = firsts.iter().zip(columns.iter().zip(types));
    // The first of equal rows is the leftmost column's.
    let first = firsts.filter_map(|(row, pair)| Some(((*row)?, pair))).min_by_key(|&(row, _)| row);
    let Some((row, (&column, column_type))) = first else { return Ok(()) };
    let name = &header[column];
    let cell = cell(row, column);
    Err(Diagnostic::error(
        codes::MISSING_VALUE,
        format!("line {} of `{}` has no value for `{name}` ({})", lines[row], spec.path, shown(cell)),
        spec.path_span,
        format!("line {}, column {} (`{name}`)", lines[row], column + 1),
    )
    .with_notes(missing_values_note(name, cell, *column_type == ColumnType::Categorical))
    .with_help(
        "add `missing drop` to leave out rows with a missing value, or `missing mean` to fill numeric features \
         with the training mean",
    )
    .with_fix(spec.insert_at, "\n  missing drop"))
}

/// How to make `cell` an ordinary value (a category) of `column` instead of a missing one,
/// when it is not empty (an empty cell is always missing).
pub(crate) fn missing_values_note(column: &str, cell: &str, categorical: bool) -> Option<String> {
    let declare = if categorical {
        format!("add `missing_values {column}(\"\")` to the data")
    } else {
        format!("add `categorical {column}` and `missing_values {column}(\"\")` to the data")
    };
    (!cell.is_empty()).then(|| {
        format!(
            "if `{cell}` is a category of `{column}`, not a missing value, {declare}: then only an empty cell is \
             missing in `{column}`"
        )
    })
}

/// A cell as a message shows it: `NA`, or "empty".
pub(crate) fn shown(cell: &str) -> String {
    if cell.is_empty() { "empty".to_string() } else { format!("`{cell}`") }
}

#[cfg(test)]
mod tests {
    use super::{not_a_number_reason, number, number_at, plain_decimal};

    #[test]
    fn a_refused_cell_says_whether_it_is_too_large_infinite_or_no_number() {
        assert_eq!(number("1e39"), None);
        assert!(not_a_number_reason("1e39").starts_with("beyond ±3.4e38"));
        assert!(not_a_number_reason("-4e38").starts_with("beyond ±3.4e38"));
        assert_eq!(not_a_number_reason("inf"), "not finite");
        assert_eq!(not_a_number_reason("NaN"), "not finite");
        assert_eq!(not_a_number_reason("none"), "not a number");
        assert_eq!(not_a_number_reason("1,5"), "not a number");
    }

    /// `number` is the standard library's parse, kept to finite f32 values, for cells that
    /// start any way (it refuses most text from the first character).
    #[test]
    fn number_is_the_standard_parse_of_finite_values() {
        let reference = |cell: &str| {
            let value = cell.parse::<f64>().ok().filter(|v| v.is_finite() && v.abs() <= f64::from(f32::MAX))?;
            Some(value as f32)
        };
        let cells = [
            "", "+", "-", ".", "+.", "-.5", ".5", "5.", "+1", "-0", "1e5", "1E-3", "e5", "E5", "inf", "-inf", "+Inf",
            "infinity", "NaN", "nan", "-nan", "none", "blue", "x1", " 1", "1 ", "\u{661}", "\u{ff11}", "0x10", "1_000",
            "3.4e38", "3.5e38", "++1", "-+1", "1e", "..5",
        ];
        for cell in cells {
            assert_eq!(number(cell).map(f32::to_bits), reference(cell).map(f32::to_bits), "{cell:?}");
        }
    }

    /// A cell's number read in place from a longer text gives what `number` gives for the
    /// cell alone, to the bit, whatever follows it: every length of whole part and
    /// fraction, signs, odd bytes, and the largest digits the short path takes and the
    /// first it refuses.
    #[test]
    fn numbers_read_in_place_are_those_of_the_cell_alone() {
        let mut state: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = || crate::xorshift(&mut state);
        let tails = ["", "1", "12345678", "-0.5,", "x", "\u{e9}9999999", ".........", "00000000"];
        let mut checked = 0;
        for _ in 0..300_000 {
            let whole = (next() % 10) as usize;
            let fraction = (next() % 11) as usize;
            let mut cell: String = (0..whole).map(|_| char::from(b'0' + (next() % 10) as u8)).collect();
            match next() % 8 {
                0 => {}
                1 => cell.push('.'),
                _ => {
                    cell.push('.');
                    cell.extend((0..fraction).map(|_| char::from(b'0' + (next() % 10) as u8)));
                }
            }
            if next() % 16 == 0 && !cell.is_empty() {
                let at = (next() % cell.len() as u64) as usize;
                if cell.is_char_boundary(at) {
                    cell.insert(at, ['e', '/', ':', ' ', '-', 'é'][(next() % 6) as usize]);
                }
            }
            match next() % 3 {
                0 => cell.insert(0, '-'),
                1 => cell.insert(0, '+'),
                _ => {}
            }
            let tail = tails[(next() % tails.len() as u64) as usize];
            let head = ["", "7", "-1.25"][(next() % 3) as usize];
            let text = format!("{head}{cell}{tail}");
            let (start, end) = (head.len(), head.len() + cell.len());
            let alone = number(&cell).map(f32::to_bits);
            assert_eq!(number_at(&text, start, end).map(f32::to_bits), alone, "`{cell}` in `{text}`");
            checked += usize::from(alone.is_some());
        }
        assert!(checked > 150_000, "{checked} numbers");
        // Decimals exactly halfway between two f32s (ties go to the even one), in every
        // binade whose halfway points have 1 to 7 binary digits after the point: their
        // digits as an integer pass 2²⁴, which the short path must refuse.
        for fraction_bits in 1..=7 {
            let low = 2f32.powi(24 - fraction_bits);
            for step in 0..2_000u32 {
                let below = f32::from_bits(low.to_bits() + step * 997 % (1 << 23));
                let above = f32::from_bits(below.to_bits() + 1);
                let halfway = (f64::from(below) + f64::from(above)) / 2.0;
                for cell in [format!("{halfway}"), format!("-{halfway}")] {
                    let text = format!("{cell}00000000");
                    let alone = number(&cell).map(f32::to_bits);
                    assert_eq!(number_at(&text, 0, cell.len()).map(f32::to_bits), alone, "`{cell}`");
                    // And as the text's last cell, with fewer than 8 bytes after its point.
                    assert_eq!(number_at(&cell, 0, cell.len()).map(f32::to_bits), alone, "`{cell}` last");
                }
            }
        }
        // Around the short path's limits: 2²⁴ = 16777216 as digits, with the point anywhere.
        for digits in ["16777215", "16777216", "16777217", "9999999", "99999999", "1677721", "0000001"] {
            for point in 0..=digits.len() {
                let cell = format!("{}.{}", &digits[..point], &digits[point..]);
                for sign in ["", "-"] {
                    let cell = format!("{sign}{cell}");
                    let text = format!("{cell}00000000");
                    let alone = number(&cell).map(f32::to_bits);
                    assert_eq!(number_at(&text, 0, cell.len()).map(f32::to_bits), alone, "`{cell}`");
                    // And as the text's last cell, with fewer than 8 bytes after its point.
                    assert_eq!(number_at(&cell, 0, cell.len()).map(f32::to_bits), alone, "`{cell}` last");
                }
            }
        }
    }

    /// The fast path's first form, a byte at a time: the reference it must agree with.
    fn byte_by_byte(cell: &str) -> Option<f64> {
        let bytes = cell.as_bytes();
        let (negative, body) = match bytes.first()? {
            b'-' => (true, &bytes[1..]),
            b'+' => (false, &bytes[1..]),
            _ => (false, bytes),
        };
        let whole = body.iter().take_while(|b| b.is_ascii_digit()).count();
        let fraction = match body.get(whole) {
            None => &[][..],
            Some(b'.') => &body[whole + 1..],
            Some(_) => return None,
        };
        let digits = whole + fraction.len();
        if body.len() > 16 || digits == 0 || digits > 15 || !fraction.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let integer = body.iter().filter(|b| b.is_ascii_digit()).fold(0u64, |n, b| n * 10 + u64::from(b - b'0'));
        let magnitude = integer as f64 / 10f64.powi(fraction.len() as i32);
        Some(if negative { -magnitude } else { magnitude })
    }

    /// The fast path gives what `str::parse` gives, to the bit, wherever it answers, and
    /// leaves every other form to it.
    #[test]
    fn plain_decimals_parse_as_the_standard_library_does() {
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || crate::xorshift(&mut state);
        let mut answered = 0;
        for _ in 0..200_000 {
            let digits = (next() % 17) as usize;
            let mut cell: String = (0..digits).map(|_| char::from(b'0' + (next() % 10) as u8)).collect();
            if digits > 0 && next() % 4 != 0 {
                let at = (next() % (digits as u64 + 1)) as usize;
                cell.insert(at, '.');
            }
            match next() % 3 {
                0 => cell.insert(0, '-'),
                1 => cell.insert(0, '+'),
                _ => {}
            }
            let fast = plain_decimal(&cell);
            if let Some(value) = fast {
                answered += 1;
                let standard: f64 = cell.parse().unwrap_or_else(|_| panic!("`{cell}` is a number"));
                assert_eq!(value.to_bits(), standard.to_bits(), "`{cell}`");
            }
        }
        assert!(answered > 100_000, "the fast path answered {answered} times");
        for cell in ["", "-", "+", ".", "-.", "1e5", "1.2.3", "0x10", "inf", "NaN", "1_000", "١٢", "1234567890123456"]
        {
            assert_eq!(plain_decimal(cell), None, "`{cell}`");
        }
        assert_eq!(plain_decimal("-0.0").map(f64::to_bits), Some((-0.0f64).to_bits()));
        // Every length up to 17 characters with the point (or an odd byte) at every place.
        for length in 0..=17 {
            for place in 0..=length {
                for odd in [b'.', b'e', b'/', b':', b' ', 0xC2] {
                    for sign in ["", "-", "+"] {
                        let mut bytes: Vec<u8> = (0..length).map(|i| b"9081726354"[i % 10]).collect();
                        if place < length {
                            bytes[place] = odd;
                        }
                        let Ok(body) = String::from_utf8(bytes) else { continue };
                        let cell = format!("{sign}{body}");
                        let (fast, slow) = (plain_decimal(&cell), byte_by_byte(&cell));
                        assert_eq!(fast.map(f64::to_bits), slow.map(f64::to_bits), "`{cell}`");
                    }
                }
            }
        }
        assert_eq!(
            (number(".5"), number("5."), number("1e39"), number("-1.5e3")),
            (Some(0.5), Some(5.0), None, Some(-1500.0))
        );
    }
}
